"""Saving and loading estimators in galaxy-ml's ``h5mlm`` format (HDF5; never pickle).

``h5mlm`` is what Galaxy's core ``h5mlm`` datatype recognises (it sniffs the file's ``-URL-``
attribute), so models made here can be handed to any galaxy-ml tool. Loading goes through
galaxy-ml's sanitizing loader, which refuses object graphs naming classes outside its allow-list.

Before galaxy-ml sees a file, :func:`check_h5mlm` reads its object graph as plain JSON (nothing is
imported or called) and refuses it as a whole when any part would be refused or is not ours:
galaxy-ml's loader checks each ``-global-`` only when it reaches it, after building what came
before, and it builds ``-keras_models-`` entries from a class name and a Keras config that it does
not check at all (``getattr`` on its module, then Keras deserialization).
"""
import importlib.util
import json
import os
import re
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


# Keras estimator classes our tools accept in a ``-keras_models-`` entry.
KERAS_ESTIMATORS = ("KerasGClassifier", "KerasGRegressor")
# galaxy-ml's own modules its loader maps short names to (see galaxy_ml.utils.try_get_attr).
GALAXY_ML_MODULES = ("keras_galaxy_models", "feature_selectors", "preprocessors", "iraps_classifier",
                     "model_validations", "binarize_target", "metrics", "model_persist")
# Names galaxy-ml's loader refuses whatever their module (its _SafePickler.bad_names), and more.
FORBIDDEN_NAMES = {
    "system", "eval", "exec", "execfile", "compile", "open", "__import__", "getattr", "setattr", "input",
    "globals", "locals", "vars", "breakpoint", "lambda", "Popen", "call", "check_call", "check_output",
    "run", "spawn", "popen", "fork", "remove", "unlink", "rmtree", "load", "loads",
}


def _whitelist():
    """galaxy-ml's allow-list of globals (``pk_whitelist.json``), read without importing galaxy-ml."""
    spec = importlib.util.find_spec("galaxy_ml")
    folder = list(spec.submodule_search_locations or [])[0] if spec else None
    try:
        with open(os.path.join(folder, "model_persist", "pk_whitelist.json")) as handle:
            lists = json.load(handle)
    except (OSError, TypeError, ValueError):
        return set()
    return {name for names in lists.values() if isinstance(names, list) for name in names}


def _walk_json(value):
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _walk_json(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk_json(item)


def _check_global(entry, label, path, whitelist):
    if not (isinstance(entry, list) and len(entry) == 2 and all(isinstance(part, str) for part in entry)):
        raise ToolInputError(f"{label} ({path}): a malformed -global- entry {str(entry)[:80]!r} in the model")
    module, name = entry
    fullname = f"{module}.{name}"
    if name in FORBIDDEN_NAMES or name.startswith("_") or not name.isidentifier():
        allowed = False
    elif module.startswith("galaxy_ml.") or module in GALAXY_ML_MODULES:
        allowed = module.split(".")[-1] in GALAXY_ML_MODULES and re.fullmatch(r"[A-Z]\w*", name) is not None
    else:
        allowed = fullname in whitelist
    if not allowed:
        raise ToolInputError(f"{label} ({path}): the model names the Python object {fullname!r}, which is not "
                             "on galaxy-ml's allow-list of safe classes; the file is refused unread")


def _check_keras_entry(handle, index, label, path):
    """A ``-keras_models-`` entry: one of our estimator classes, with a Keras config of Keras objects only."""
    from gxkeras.estimators import check_keras_objects
    from gxkeras.resources import check_parameters, config_parameters

    group = handle.get("-keras_models-")
    entry = group.get(str(index)) if isinstance(group, h5py.Group) else None
    if not isinstance(entry, h5py.Group) or not isinstance(entry.get("class_name"), h5py.Dataset) \
            or not isinstance(entry.get("params"), h5py.Dataset):
        raise ToolInputError(f"{label} ({path}): the model's Keras entry {index!r} is missing or incomplete")
    class_name = entry["class_name"][()]
    class_name = class_name.decode("utf-8", "replace") if isinstance(class_name, bytes) else str(class_name)
    if class_name not in KERAS_ESTIMATORS:
        raise ToolInputError(f"{label} ({path}): the model's Keras entry is a {class_name[:80]!r}, expected "
                             f"one of {', '.join(KERAS_ESTIMATORS)}")
    try:
        params = json.loads(entry["params"][()])
    except (ValueError, TypeError):
        raise ToolInputError(f"{label} ({path}): the model's Keras parameters are not valid JSON") from None
    if not isinstance(params, dict) or not isinstance(params.get("config"), dict):
        raise ToolInputError(f"{label} ({path}): the model's Keras parameters hold no model configuration")
    if params.get("model_type", "sequential") not in ("sequential", "functional"):
        raise ToolInputError(f"{label} ({path}): unknown Keras model type {params.get('model_type')!r}")
    check_keras_objects(params, f"{label} ({path})")
    check_parameters(config_parameters(params["config"]), f"{label} ({path})")


def check_h5mlm(path, label):
    """Refuse, before anything in it is loaded, a file that is not an h5mlm model we can load safely.

    Not HDF5; HDF5 without galaxy-ml's ``-URL-`` and ``-model_config-``; an object graph that is not
    JSON, names a global outside galaxy-ml's allow-list (``os.system``, ``builtins.eval``,
    ``subprocess.Popen`` ...), holds an XGBoost model, or a Keras entry that is not a
    KerasGClassifier/KerasGRegressor or whose config has Lambda layers, non-Keras modules, custom
    objects or more weights than the job's memory.
    """
    try:
        handle = h5py.File(path, "r")
    except OSError:
        raise ToolInputError(f"{label} ({path}): not an HDF5 file, expected an h5mlm model") from None
    with handle:
        url = handle.attrs.get("-URL-")
        if isinstance(url, bytes):
            url = url.decode("utf-8", "replace")
        config = handle.get("-model_config-")
        if url != GALAXY_ML_URL or not isinstance(config, h5py.Dataset):
            raise ToolInputError(f"{label} ({path}): an HDF5 file but not a galaxy-ml h5mlm model")
        try:
            graph = json.loads(config[()])
        except (ValueError, TypeError):
            raise ToolInputError(f"{label} ({path}): the model's object graph (-model_config-) is not valid "
                                 "JSON: not a galaxy-ml h5mlm model") from None
        if not isinstance(graph, dict) or "-object-" not in graph:
            raise ToolInputError(f"{label} ({path}): the model's object graph has no -object-: not a galaxy-ml "
                                 "h5mlm model")
        whitelist = None
        for item in _walk_json(graph):
            if "-global-" in item:
                whitelist = _whitelist() if whitelist is None else whitelist
                _check_global(item["-global-"], label, path, whitelist)
            if "-xgboost_model-" in item:
                raise ToolInputError(f"{label} ({path}): holds an XGBoost model, expected a Keras model")
            if "-keras_model-" in item:
                _check_keras_entry(handle, item["-keras_model-"], label, path)
        from gxkeras.estimators import check_keras_objects

        check_keras_objects(graph, f"{label} ({path})")


def load_estimator(path, label):
    """Load an h5mlm estimator with galaxy-ml's allow-list checks on."""
    check_h5mlm(path, label)
    from galaxy_ml.model_persist import load_model_from_h5

    try:
        return load_model_from_h5(path, sanitize=True)
    except Exception as error:  # galaxy-ml raises bare Exceptions for refused or broken objects
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ToolInputError(f"{label} ({path}): cannot load the model: {message}") from None
