"""Run tool scripts in a fresh Python and report which modules they imported (one helper for the tests).

Why a fresh Python: the security tests check that a hostile model file is refused before anything it
names (or scikit-learn, galaxy-ml, TensorFlow) is imported, which the test process itself, having
imported all of those, cannot show. A fresh interpreter costs about a second of CPU before the tool
even starts, so :func:`run_tools` runs several tool invocations, one after the other, in ONE fresh
Python: each run sees the modules the runs before it imported, which is fine for what is tested
("nothing of interest was imported"): a run that imports one is the first to report it.
The environment is minimal (no user site, no KERAS_BACKEND of the test process), as in a Galaxy job.
"""
import json
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gxkeras.modelfile.lockdown import MODE_VARIABLE
from repo_paths import SCRIPTS

# For runs whose test checks what the tool imported before refusing a file: the model's work then runs in the
# tool's own process, where this helper sees its modules, not in gxkeras.modelfile.containment's child, where it cannot.
WORK_IN_TOOL_PROCESS = {MODE_VARIABLE: "off"}

# The program run in the fresh Python: for each run, set sys.argv, run the script as __main__ with its
# stdout and stderr caught, and report its exit code, what it wrote and the modules of interest loaded
# (an uncaught exception ends that run as it would end Python: traceback on stderr, exit code 1).
_PROGRAM = """
import contextlib, io, json, runpy, sys, traceback
runs, modules = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for script, argv in runs:
    sys.argv = [script, *argv]
    out, err, code = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            runpy.run_path(script, run_name="__main__")
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        except BaseException:  # as Python would end: traceback on stderr, exit code 1
            traceback.print_exc()
            code = 1
    print(json.dumps({"returncode": code, "stdout": out.getvalue(), "stderr": err.getvalue(),
                      "imported": [name for name in modules if sys.modules.get(name) is not None]}), flush=True)
"""


@dataclass
class Run:
    """What one tool invocation did: exit code, its output, and which of the modules asked for were
    loaded in the process once it ended (including those loaded by the runs before it)."""
    returncode: int
    stdout: str
    stderr: str
    imported: list[str]


def run_tools(runs: Sequence[tuple[str, Sequence[object]]], modules: Iterable[str], cwd: Path,
              extra_path: Iterable[Path] = (), env: dict[str, str] | None = None, timeout: int = 300) -> list[Run]:
    """Run each ``(script name in tools/scripts, argv)`` in turn in one fresh Python; one :class:`Run` each.

    ``extra_path``: folders after tools/scripts on PYTHONPATH (e.g. one holding a canary module);
    ``env``: variables added to the minimal environment (e.g. an admin's KERAS_BACKEND).
    """
    env = {"PYTHONPATH": ":".join(str(path) for path in [SCRIPTS, *extra_path]), "PATH": "/usr/bin:/bin",
           "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONNOUSERSITE": "1", **(env or {})}
    scripts = [[str(SCRIPTS / script), [str(arg) for arg in argv]] for script, argv in runs]
    done = subprocess.run([sys.executable, "-c", _PROGRAM, json.dumps(scripts), json.dumps(list(modules))],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)
    results = [Run(**json.loads(line)) for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and len(results) == len(runs), done.stderr
    return results


def run_tool(script: str, argv: Sequence[object], modules: Iterable[str], cwd: Path,
             extra_path: Iterable[Path] = (), env: dict[str, str] | None = None, timeout: int = 300) -> Run:
    """One tool invocation in a fresh Python (see :func:`run_tools`)."""
    return run_tools([(script, argv)], modules, cwd, extra_path, env, timeout)[0]
