"""Importing Keras the way every tool needs it: quiet, on the right backend, using the cores Galaxy gave.

TensorFlow reads its environment once, at import time, so the settings are made here, before the
first ``import keras``. Tools import Keras only through :func:`import_keras` (and before galaxy-ml,
which imports TensorFlow too). TensorFlow's start-up lines, which no setting silences any more, are
caught during the import and dropped (:data:`START_UP_NOISE`), so that a failed job's stderr is the
one ``Error:`` line.

Tools that train or predict run on TensorFlow (galaxy-ml's backend). ``keras_model_config`` only builds
layers and writes the model's JSON, which is the same on every Keras backend (a test checks it), so it
asks for ``tensorflow=False`` and gets the JAX backend when jax is installed, with Keras' optional imports of
scikit-learn, matplotlib and pandas skipped and TensorFlow marked unimportable (see :data:`NOT_FOR_LAYERS`):
the tool then starts in about 2 s instead of 5 s. Without jax it falls back to TensorFlow, only slower. An
admin's ``KERAS_BACKEND`` in the job environment always wins.

That light start leans on how Keras behaves, not on an API it promises: its optional imports sit in
``try: ... except ImportError`` and it asks "is TensorFlow there?" by importing it. Modules are hidden
with Python's own documented marker (``sys.modules[name] = None``: "cannot be imported"), never by
changing Keras' objects, and only on the Keras releases in :data:`LIGHT_START_KERAS`; on any other
release the tool imports everything (slower, same JSON). ``tests/test_keras_env.py`` fails on a Keras
that is not in that list, or on which the light start no longer holds, so an upgrade cannot break it
silently.
"""
import contextlib
import importlib.metadata
import importlib.util
import os
import re
import sys
from collections.abc import Iterable, Iterator
from types import ModuleType

from gxkeras.galaxy.errors import ToolInputError
from gxkeras.galaxy.values import parse_int

# Keras imports these at start-up for features that building layers never uses (its scikit-learn
# wrappers, image plotting, DataFrame inputs), each inside ``try: ... except ImportError``: about 1.2 s.
# TensorFlow too: on another backend Keras' JSON serializer imports it (4 s) only to ask whether a value is
# a tf.TensorShape, which layers built on that backend never hold.
NOT_FOR_LAYERS = ("sklearn", "matplotlib", "pandas", "tensorflow")
# Keras releases (major.minor) on which that light start was checked (tests/test_keras_env.py). After an
# upgrade: run that test, and add the release here once it passes.
LIGHT_START_KERAS = ("3.15",)

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


# More threads than any node has cores: a larger GALAXY_SLOTS is a misconfiguration, and 1 is used instead.
MAX_SLOTS = 4096


def galaxy_slots() -> int:
    """Number of cores Galaxy allocated to this job (``GALAXY_SLOTS``), 1 when unset or not a whole number
    from 1 to :data:`MAX_SLOTS` in ASCII digits (int() took '\u0663' as 3 and '10**6' threads)."""
    try:
        return parse_int(os.environ.get("GALAXY_SLOTS", "1").strip(), "GALAXY_SLOTS", 1, MAX_SLOTS)
    except ToolInputError:
        return 1


def import_keras(tensorflow: bool = True) -> ModuleType:
    """Return the ``keras`` module, imported with TensorFlow's log noise off and threads set.

    ``tensorflow=False``: the caller never trains or predicts, so a lighter backend will do; on a
    checked Keras release the modules in :data:`NOT_FOR_LAYERS` then stay unimportable in this process.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # no C++ INFO/WARNING lines in the job's stderr
    if not tensorflow and "KERAS_BACKEND" not in os.environ and importlib.util.find_spec("jax"):
        os.environ["KERAS_BACKEND"] = "jax"
        os.environ.setdefault("JAX_PLATFORMS", "cpu")  # building layers needs no accelerator: don't probe
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if not tensorflow and os.environ["KERAS_BACKEND"] != "tensorflow" and light_start_checked():
        # For the whole process, not only the import: Keras asks for TensorFlow again when writing JSON.
        _hide(NOT_FOR_LAYERS)
    with _start_up_noise_dropped():
        import keras

        if keras.backend.backend() == "tensorflow":
            _set_tensorflow_threads(galaxy_slots())
    return keras


def keras_release() -> str | None:
    """The installed Keras release as major.minor (``"3.15"``), None when Keras is not installed."""
    try:
        version = importlib.metadata.version("keras")
    except importlib.metadata.PackageNotFoundError:
        return None
    return ".".join(version.split(".")[:2])


def keras_release_checked(releases: Iterable[str]) -> bool:
    """Whether the installed Keras is one of ``releases`` (major.minor): the releases on which code
    that leans on Keras' behaviour or internals was checked. Such code calls this and, on any other
    release, takes its documented fallback; a test fails on a release not in the list."""
    return keras_release() in tuple(releases)


def light_start_checked() -> bool:
    """Whether the installed Keras is a release on which the light start was checked."""
    return keras_release_checked(LIGHT_START_KERAS)


def _hide(modules: Iterable[str]) -> None:
    """Make ``import`` of each of ``modules`` not yet imported raise ImportError in this process."""
    for name in modules:
        if name not in sys.modules:
            sys.modules[name] = None  # type: ignore[assignment]  # the import system's "cannot be imported"


@contextlib.contextmanager
def _start_up_noise_dropped() -> Iterator[None]:
    """Send file descriptor 2 to an anonymous memory file inside the block, then write to stderr what it
    caught except :data:`START_UP_NOISE` (real errors and Python warnings still reach the user). A memory
    file (``memfd_create``), not a temporary file: the contained child (:mod:`gxkeras.modelfile.containment`) may
    create no file.

    The C++ code writes to the descriptor, not to ``sys.stderr``: only a ``dup2`` catches it. The
    descriptor is restored before anything raised in the block propagates.
    """
    if os.environ.get(KEEP_LOG_VARIABLE) == "1":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with os.fdopen(os.memfd_create("tensorflow-start-up"), "w+b") as capture:
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


def _set_tensorflow_threads(slots: int) -> None:
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
