"""Importing Keras the way every tool needs it: quiet, and using the cores Galaxy gave the job.

TensorFlow reads its environment once, at import time, so the settings are made here, before the
first ``import keras``. Tools import Keras only through :func:`import_keras`.
"""
import os


def galaxy_slots():
    """Number of cores Galaxy allocated to this job (``GALAXY_SLOTS``), 1 when unset or bad."""
    try:
        return max(1, int(os.environ.get("GALAXY_SLOTS", "1")))
    except ValueError:
        return 1


def import_keras():
    """Return the ``keras`` module, imported with TensorFlow's log noise off and threads set."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # no C++ INFO/WARNING lines in the job's stderr
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    import tensorflow as tf

    slots = galaxy_slots()
    try:
        tf.config.threading.set_intra_op_parallelism_threads(slots)
        tf.config.threading.set_inter_op_parallelism_threads(min(2, slots))
    except RuntimeError:
        pass  # already initialised in this process (e.g. a second call in tests): keep its settings
    return keras
