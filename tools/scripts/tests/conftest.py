"""Helpers shared by the unit tests of the tool scripts."""
import json
import os
import runpy
import sys
from dataclasses import dataclass

import pytest
from repo_paths import SCRIPTS

# One process runs every in-process test, and Keras fixes its backend at the first import: pin it to
# TensorFlow, the backend the training tools need. (keras_model_config alone would pick JAX; its own
# backend choice is tested in a subprocess.)
os.environ["KERAS_BACKEND"] = "tensorflow"


@pytest.fixture
def write_inputs(tmp_path):
    """Write a Galaxy-style inputs JSON file and return its path."""
    def write(params):
        path = tmp_path / "inputs.json"
        path.write_text(json.dumps(params))
        return str(path)
    return write


@pytest.fixture
def write_text(tmp_path):
    """Write a text file (e.g. a tabular dataset) and return its path."""
    def write(text, name="data.tsv"):
        path = tmp_path / name
        path.write_text(text)
        return str(path)
    return write


@dataclass
class ScriptRun:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run_script(monkeypatch, capsys):
    """Run a tool script as ``python tools/scripts/SCRIPT ARGV...`` would (its ``__main__`` block: the
    command line, run_tool's one Error line, exit code and removal of outputs), but in this process.

    For tests of the command-line behaviour, where a fresh Python is not what is tested: it would import
    Keras and TensorFlow again (about 8 s of CPU each time). What needs a fresh Python (which modules a
    tool imports, TensorFlow's start-up lines on the real stderr) runs through tests/fresh_python.py.
    An uncaught exception propagates, as a traceback would end the script.
    """
    def run(script, *argv):
        path = str(SCRIPTS / script)
        monkeypatch.setattr(sys, "argv", [path, *(str(arg) for arg in argv)])
        capsys.readouterr()  # only this run's output
        returncode = 0
        try:
            runpy.run_path(path, run_name="__main__")
        except SystemExit as stop:
            returncode = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        captured = capsys.readouterr()
        return ScriptRun(returncode, captured.out, captured.err)
    return run
