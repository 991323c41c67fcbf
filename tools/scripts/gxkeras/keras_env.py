"""Importing Keras the way every tool needs it: quiet, on the right backend, using the cores Galaxy gave.

TensorFlow reads its environment once, at import time, so the settings are made here, before the
first ``import keras``. Tools import Keras only through :func:`import_keras` (and before galaxy-ml,
which imports TensorFlow too). TensorFlow's start-up lines, which no setting silences any more, are
caught during the import and dropped (:data:`START_UP_NOISE`), so that a failed job's stderr is the
one ``Error:`` line.

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
import re
import sys
import tempfile

# Keras imports these at start-up for features that building layers never uses (its scikit-learn
# wrappers, image plotting, DataFrame inputs), each inside ``try: ... except ImportError``: about 1.2 s.
NOT_FOR_LAYERS = ("sklearn", "matplotlib", "pandas")

# What TensorFlow's C++ code writes to stderr while it starts, whatever TF_CPP_MIN_LOG_LEVEL says
# (since TF 2.17 these come from absl before its logging is configured: no variable turns them off):
# INFO and WARNING lines, and CUDA's probe failing on a node without a GPU. A user whose job failed
# must see the one ``Error:`` line, not these around it.
START_UP_NOISE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IW]\d{4} \S+ +\d+ \S+:\d+\]"
    r"|E\d{4} \S+ +\d+ \S+:\d+\] .*(cuInit|Unable to register cu\w+ factory)"
    r"|To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags"
)
# For an admin looking into a GPU node: set to 1 in the job's environment to keep those lines.
KEEP_LOG_VARIABLE = "GXKERAS_KEEP_TF_STARTUP_LOG"


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
    with _hidden(() if tensorflow else NOT_FOR_LAYERS), _start_up_noise_dropped():
        import keras

        if keras.backend.backend() == "tensorflow":
            _set_tensorflow_threads(galaxy_slots())
    if keras.backend.backend() != "tensorflow" and not tensorflow:
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


@contextlib.contextmanager
def _start_up_noise_dropped():
    """Send file descriptor 2 to a temporary file inside the block, then write to stderr what it
    caught except :data:`START_UP_NOISE` (real errors and Python warnings still reach the user).

    The C++ code writes to the descriptor, not to ``sys.stderr``: only a ``dup2`` catches it. The
    descriptor is restored before anything raised in the block propagates.
    """
    if os.environ.get(KEEP_LOG_VARIABLE) == "1":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            for line in capture.read().decode("utf-8", errors="replace").splitlines(keepends=True):
                if not START_UP_NOISE.match(line):
                    sys.stderr.write(line)
            sys.stderr.flush()


def _set_tensorflow_threads(slots):
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(slots)
        tf.config.threading.set_inter_op_parallelism_threads(min(2, slots))
    except RuntimeError:
        pass  # already initialised in this process (e.g. a second call in tests): keep its settings
    # Looking for GPUs starts CUDA (and its cuInit message on a CPU node) now, inside the quiet block,
    # instead of at the first layer built; TensorFlow would do it then anyway.
    tf.config.list_physical_devices("GPU")
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.ERROR)  # absl's Python WARNINGs about TF internals
