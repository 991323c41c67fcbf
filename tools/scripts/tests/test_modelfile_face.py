"""gxkeras.modelfile's public face: every name the scripts import from it, each from its one module, and imported
only when first used, so that the contained child can import the package and still lock itself down first."""
import importlib
import json
import subprocess
import sys

import gxkeras.modelfile as modelfile
from repo_paths import SCRIPTS


def test_every_public_name_is_its_modules_own():
    assert sorted(modelfile.HOMES) == sorted(modelfile.__all__)
    for name, home in modelfile.HOMES.items():
        assert getattr(modelfile, name) is getattr(importlib.import_module(f"gxkeras.modelfile.{home}"), name)


def test_an_unknown_name_is_an_attribute_error():
    assert not hasattr(modelfile, "load_model")


def test_the_package_and_the_childs_module_import_no_numpy():
    """What the contained child imports before lock_down: numpy would start OpenBLAS's threads, which Landlock
    would not confine (lock_down refuses to run then)."""
    program = ("import json, sys; import gxkeras.modelfile, gxkeras.modelfile.lockdown; "
               "print(json.dumps(sorted(name for name in ('numpy', 'h5py', 'keras') if name in sys.modules)))")
    found = subprocess.run([sys.executable, "-P", "-c", program], capture_output=True, text=True, check=True,
                           env={"PYTHONPATH": str(SCRIPTS)}).stdout
    assert json.loads(found) == []
