#!/usr/bin/env bash
# Browser test of the tool forms: runs harness/ui_test.py in headless Debian chromium through Playwright
# against the Galaxy at GALAXY_URL (the one `make test` shares between its stages), or, when GALAXY_URL
# is unset, against a Galaxy of its own (harness/planemo.sh with-galaxy), stopped at the end.
# Installs chromium with apt when missing; if it cannot be installed, says why and skips (exit 0).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=${TEST_OUT:-$ROOT/test-output}/ui
mkdir -p "$OUT"

if ! command -v chromium >/dev/null; then
  echo "ui test: installing Debian's chromium ..."
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } > "$OUT/apt.log" 2>&1
  if ! command -v chromium >/dev/null; then
    echo "ui test: SKIPPED: chromium cannot be installed here (see $OUT/apt.log: $(tail -1 "$OUT/apt.log"))"
    exit 0
  fi
fi

if [ -z "${GALAXY_URL:-}" ]; then
  exec bash harness/planemo.sh with-galaxy bash "$0"
fi
echo "ui test: against $GALAXY_URL"
bash harness/planemo.sh wait-galaxy || exit 1
timeout 900 .venv-galaxy/bin/python harness/ui_test.py "$GALAXY_URL" "$OUT"
