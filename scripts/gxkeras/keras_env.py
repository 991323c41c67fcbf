"""Importing Keras the way every tool needs it: quiet, on the right backend, using the cores Galaxy gave.

TensorFlow reads its environment once, at import time, so the settings are made here, before the
first ``import keras``. Tools import Keras only through :func:`import_keras`.

Tools that train or predict run on TensorFlow (galaxy-ml's backend). ``keras_model_config`` only builds
layers and writes the model's JSON, which is the same on every Keras backend (a test checks it), so it
asks for ``tensorflow=False`` and gets the JAX backend when jax is installed: Keras then imports in about
1 s instead of the 4 s TensorFlow takes. Without jax it falls back to TensorFlow, only slower. An admin's
``KERAS_BACKEND`` in the job environment always wins.
"""
import importlib.util
import os


def galaxy_slots():
    """Number of cores Galaxy allocated to this job (``GALAXY_SLOTS``), 1 when unset or bad."""
    try:
        return max(1, int(os.environ.get("GALAXY_SLOTS", "1")))
    except ValueError:
        return 1


def import_keras(tensorflow=True):
    """Return the ``keras`` module, imported with TensorFlow's log noise off and threads set.

    ``tensorflow=False``: the caller never trains or predicts, so a lighter backend will do.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # no C++ INFO/WARNING lines in the job's stderr
    if not tensorflow and "KERAS_BACKEND" not in os.environ and importlib.util.find_spec("jax"):
        os.environ["KERAS_BACKEND"] = "jax"
        os.environ.setdefault("JAX_PLATFORMS", "cpu")  # building layers needs no accelerator: don't probe
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    if keras.backend.backend() == "tensorflow":
        _set_tensorflow_threads(galaxy_slots())
    elif not tensorflow:
        # Keras' JSON serializer asks "is TensorFlow importable?" (to recognise tf.TensorShape values)
        # by importing it, 4 s; layers built on another backend hold no TensorFlow objects: say no.
        from keras.src.utils import module_utils

        module_utils.tensorflow._available = False
    return keras


def _set_tensorflow_threads(slots):
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(slots)
        tf.config.threading.set_inter_op_parallelism_threads(min(2, slots))
    except RuntimeError:
        pass  # already initialised in this process (e.g. a second call in tests): keep its settings
