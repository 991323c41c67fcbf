"""Where the tests find the tool scripts and the repository's test-data (one place, so a move of
the scripts folder changes one line)."""
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1]  # tools/scripts
ROOT = SCRIPTS.parents[1]                      # the repository
TEST_DATA = ROOT / "test-data"
