"""Importing Keras the way every tool needs it: quiet, on the right backend, using the cores Galaxy gave.

TensorFlow reads its environment once, at import time, so the settings are made here, before the
first ``import keras``. Tools import Keras only through :func:`import_keras`.

Tools that train or predict run on TensorFlow (galaxy-ml's backend). ``keras_model_config`` only builds
layers and writes the model's JSON, which is the same on every Keras backend (a test checks it), so it
asks for ``tensorflow=False`` and gets the JAX backend when jax is installed, with Keras' optional imports of
scikit-learn, matplotlib and pandas skipped (see :data:`NOT_FOR_LAYERS`): the tool then starts in about
2 s instead of 5 s. Without jax it falls back to TensorFlow, only slower. An admin's ``KERAS_BACKEND`` in
the job environment always wins.
"""
import contextlib
import importlib.util
import os
import sys

# Keras imports these at start-up for features that building layers never uses (its scikit-learn
# wrappers, image plotting, DataFrame inputs), each inside ``try: ... except ImportError``: about 1.2 s.
NOT_FOR_LAYERS = ("sklearn", "matplotlib", "pandas")


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
    with _hidden(() if tensorflow else NOT_FOR_LAYERS):
        import keras

    if keras.backend.backend() == "tensorflow":
        _set_tensorflow_threads(galaxy_slots())
    elif not tensorflow:
        # Keras' JSON serializer asks "is TensorFlow importable?" (to recognise tf.TensorShape values)
        # by importing it, 4 s; layers built on another backend hold no TensorFlow objects: say no.
        from keras.src.utils import module_utils

        module_utils.tensorflow._available = False
    return keras


@contextlib.contextmanager
def _hidden(modules):
    """Make ``import`` of ``modules`` (not yet imported) raise ImportError inside the block."""
    hidden = [name for name in modules if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # the import system's marker for "this module cannot be imported"
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, ...) is None:
                del sys.modules[name]  # later imports in this process work normally


def _set_tensorflow_threads(slots):
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(slots)
        tf.config.threading.set_inter_op_parallelism_threads(min(2, slots))
    except RuntimeError:
        pass  # already initialised in this process (e.g. a second call in tests): keep its settings
