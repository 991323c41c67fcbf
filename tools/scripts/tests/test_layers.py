"""gxkeras is layered: a module imports only its own layer and those below it (README, "Architecture").

galaxy (Galaxy's contract: errors, the form and its inputs, values, the job's memory) <- data (datasets
read) <- report (what is drawn) <- keras (configs, estimators, the compile form) <- modelfile (the trust
boundary: model files opened, audited, built, contained) <- train (fitting). The tool scripts sit on top and
may import any layer. Imports are read from the source (every ``import`` and ``from`` statement, also inside
functions), so a lazy import cannot hide an upward one.
"""
import ast
from pathlib import Path

import pytest

from repo_paths import SCRIPTS

PACKAGE = SCRIPTS / "gxkeras"
LAYERS = ("galaxy", "data", "report", "keras", "modelfile", "train")


def imported_modules(path: Path) -> list[str]:
    """Every module ``path`` imports, as dotted names (``from gxkeras.data import tabular`` gives both
    ``gxkeras.data`` and ``gxkeras.data.tabular``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append(node.module)
            found.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def layer_of(dotted: str) -> str | None:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "gxkeras" and parts[1] in LAYERS else None


def upward_imports(path: Path) -> list[str]:
    """The imports of ``path`` (a module of one layer) that reach a higher layer, or a tool script."""
    own = LAYERS.index(path.relative_to(PACKAGE).parts[0])
    scripts = {script.stem for script in SCRIPTS.glob("*.py")}
    return [name for name in imported_modules(path)
            if (layer_of(name) and LAYERS.index(layer_of(name)) > own) or name.split(".")[0] in scripts]


def test_every_module_is_in_a_layer():
    loose = [path.name for path in PACKAGE.glob("*.py") if path.name != "__init__.py"]
    folders = sorted(path.name for path in PACKAGE.iterdir() if path.is_dir() and path.name != "__pycache__")
    assert loose == [] and folders == sorted(LAYERS)


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*/**/*.py")), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_no_module_imports_a_higher_layer(path):
    assert upward_imports(path) == []


def test_an_upward_import_is_found(tmp_path, monkeypatch):
    """The check itself: a galaxy module importing the trainer's layer, inside a function, is caught."""
    module = PACKAGE / "galaxy" / "errors.py"
    fake = tmp_path / "gxkeras" / "galaxy" / "errors.py"
    fake.parent.mkdir(parents=True)
    fake.write_text(module.read_text() + "\n\ndef late():\n    from gxkeras.train import scoring\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", tmp_path / "gxkeras")
    assert upward_imports(fake) == ["gxkeras.train", "gxkeras.train.scoring"]
