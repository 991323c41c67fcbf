"""Helpers shared by the unit tests of the tool scripts."""
import json
import os

import pytest

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
