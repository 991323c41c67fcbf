"""Regenerate the Keras weights files of the model_prediction tool tests from test-data/imdb_trained.h5mlm.

    .venv-tools/bin/python harness/make_prediction_test_data.py

imdb_trained.weights.h5
    the trained model's own weights, as keras_train_and_eval's weights output writes them
    (Keras 3 ``.weights.h5`` layout).
imdb_all_positive.weights.h5
    the same weights with the output unit's bias raised by 100, so that every review is predicted
    1: a test that gets all 1s proves the weights file, not the model's own weights, was used.
"""
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools" / "scripts"))

from gxkeras.keras_env import import_keras  # noqa: E402
from gxkeras.model_io import load_estimator  # noqa: E402

TEST_DATA = ROOT / "test-data"


def save_weights(model, path):
    """Keras 3 writes this format only to a ``*.weights.h5`` name."""
    folder = tempfile.mkdtemp()
    try:
        temporary = os.path.join(folder, "model.weights.h5")
        model.save_weights(temporary)
        shutil.move(temporary, path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main():
    keras = import_keras()
    estimator = load_estimator(str(TEST_DATA / "imdb_trained.h5mlm"), "imdb_trained.h5mlm")
    model = estimator.model_
    save_weights(model, TEST_DATA / "imdb_trained.weights.h5")
    shifted = keras.models.model_from_json(model.to_json())
    weights = model.get_weights()
    weights[-1] = weights[-1] + 100.0  # bias of the last Dense unit
    shifted.set_weights(weights)
    save_weights(shifted, TEST_DATA / "imdb_all_positive.weights.h5")
    print("wrote imdb_trained.weights.h5 and imdb_all_positive.weights.h5 in", TEST_DATA)


if __name__ == "__main__":
    main()
