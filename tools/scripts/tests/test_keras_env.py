"""gxkeras.keras.environment: the light start of keras_model_config rests on how this Keras release behaves.

These tests fail when a Keras upgrade breaks an assumption of the light start (see the module's
docstring), instead of the tool silently getting slower or failing in a user's job.
"""
import json
import os
import subprocess
import sys

import pytest
from repo_paths import SCRIPTS

from gxkeras.keras import environment as keras_env


def test_installed_keras_is_a_release_the_light_start_was_checked_on():
    import keras

    assert keras_env.light_start_checked(), (
        f"Keras {keras.__version__} is not in keras_env.LIGHT_START_KERAS {keras_env.LIGHT_START_KERAS}: run "
        "this file's tests on it and add its major.minor there once they pass")


@pytest.mark.parametrize(("version", "checked"), [("3.15.1", True), ("3.15.0rc1", True), ("3.16.0", False),
                                                  ("4.0.0", False), ("3.1.5", False)])
def test_only_checked_keras_releases_get_the_light_start(monkeypatch, version, checked):
    monkeypatch.setattr(keras_env.importlib.metadata, "version", lambda _name: version)
    assert keras_env.light_start_checked() is checked


LIGHT_IMPORT = """
import json, sys
from gxkeras.keras.environment import NOT_FOR_LAYERS, import_keras
keras = import_keras(tensorflow=False)
model = keras.Sequential([keras.Input((20,)), keras.layers.Embedding(100, 4), keras.layers.LSTM(3),
                          keras.layers.Dense(1, activation="sigmoid")])
model_json = json.loads(model.to_json())
print(json.dumps({"backend": keras.backend.backend(), "layers": [layer["class_name"] for layer in
                  model_json["config"]["layers"]], "loaded": [name for name in NOT_FOR_LAYERS
                  if sys.modules.get(name) is not None]}))
"""


def run_light_import():
    env = {key: value for key, value in os.environ.items() if key != "KERAS_BACKEND"}
    done = subprocess.run([sys.executable, "-c", LIGHT_IMPORT], capture_output=True, text=True, env=env,
                          cwd=SCRIPTS, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_light_start_builds_and_writes_a_model_without_the_heavy_modules():
    """Keras must still import with them marked unimportable, and must not need them to write JSON."""
    result = run_light_import()
    assert result == {"backend": "jax", "layers": ["InputLayer", "Embedding", "LSTM", "Dense"], "loaded": []}


def test_training_tools_keep_tensorflow_importable():
    """``tensorflow=True`` (and an admin's KERAS_BACKEND=tensorflow) never hides anything."""
    keras = keras_env.import_keras(tensorflow=False)  # conftest pins KERAS_BACKEND=tensorflow
    assert keras.backend.backend() == "tensorflow"
    assert all(sys.modules.get(name) is not None for name in ("tensorflow", "keras"))
    import sklearn  # noqa: F401 still importable in this process

    assert sys.modules.get("sklearn") is not None
