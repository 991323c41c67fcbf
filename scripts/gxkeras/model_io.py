"""Saving and loading estimators in galaxy-ml's ``h5mlm`` format (HDF5; never pickle).

``h5mlm`` is what Galaxy's core ``h5mlm`` datatype recognises (it sniffs the file's ``-URL-``
attribute), so models made here can be handed to any galaxy-ml tool. Loading goes through
galaxy-ml's sanitizing loader, which refuses object graphs naming classes outside its allow-list.
"""
import warnings

import h5py

from gxkeras.errors import ToolInputError

GALAXY_ML_URL = "https://github.com/goeckslab/Galaxy-ML"


def save_estimator(estimator, path):
    """Write ``estimator`` (e.g. a ``KerasGClassifier``) to ``path`` as h5mlm."""
    from galaxy_ml.model_persist import dump_model_to_h5

    # galaxy-ml warns with an exception object when an unfitted KerasGClassifier has no
    # ``classes_`` yet; with any message-regex warning filter installed (TensorFlow adds some)
    # that warning itself raises TypeError. The warning is expected for untrained models.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dump_model_to_h5(estimator, path)


def check_h5mlm(path, label):
    """Refuse, before anything in it is loaded, a file that is not an h5mlm model."""
    try:
        with h5py.File(path, "r") as handle:
            url = handle.attrs.get("-URL-")
            has_config = "-model_config-" in handle
    except OSError:
        raise ToolInputError(f"{label} ({path}): not an HDF5 file, expected an h5mlm model") from None
    if isinstance(url, bytes):
        url = url.decode("utf-8", "replace")
    if url != GALAXY_ML_URL or not has_config:
        raise ToolInputError(f"{label} ({path}): an HDF5 file but not a galaxy-ml h5mlm model")


def load_estimator(path, label):
    """Load an h5mlm estimator with galaxy-ml's allow-list checks on."""
    check_h5mlm(path, label)
    from galaxy_ml.model_persist import load_model_from_h5

    try:
        return load_model_from_h5(path, sanitize=True)
    except Exception as error:  # galaxy-ml raises bare Exceptions for refused or broken objects
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ToolInputError(f"{label} ({path}): cannot load the model: {message}") from None
