"""The model to train: loaded from its model file, checked, and its hyperparameters swapped (the
"Hyperparameter Swapping" rows), then checked again as a model file is checked (a swapped value may not
reach what the form cannot produce)."""
import ast
from typing import Any

from gxkeras.galaxy.errors import ToolInputError, first_line
from gxkeras.galaxy.values import check_layer_names, check_seed, shown
from gxkeras.keras.estimators import check_estimator
from gxkeras.keras.stored_params import check_stored_params, stored_params
from gxkeras.modelfile import load_estimator
from gxkeras.train.form import MODEL_LABEL

LABEL = "Hyperparameter Swapping"
# Parameters the Galaxy-ML tool never swapped (it skipped them with a warning): refused here with one line.
NOT_SWAPPABLE = ("n_jobs", "pre_dispatch", "memory", "_path", "_dir", "nthread", "callbacks")


def swapped_parameters(swapping: dict[str, Any]) -> dict[str, Any]:
    """``{name: value}`` of the "Hyperparameter Swapping" rows that set a value; values parsed as literals."""
    swaps = {}
    for number, row in enumerate(swapping.get("param_set") or [], start=1):
        where = f"{LABEL}, setting {number}"
        text = str(row.get("sp_value") or "").strip()
        name = row.get("sp_name")
        if not text:
            continue  # an empty value keeps the parameter as it is (the Galaxy-ML tool's meaning)
        if not name:
            raise ToolInputError(f"{where}: a new value ({text[:60]}) but no parameter name chosen")
        if text.startswith(":"):
            raise ToolInputError(f"{where}: '{text[:60]}' builds a scikit-learn object, which only the Galaxy-ML "
                                 "tool's non-Keras estimators took; give a number, True/False, or a quoted string")
        try:
            swaps[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise ToolInputError(f"{where}: {name} = {text[:60]} is not a literal: give a number, True/False/None, "
                                 "a quoted string such as 'adamax', or a list of those") from None
    return swaps


def swap_hyperparameters(estimator: Any, swapping: dict[str, Any]) -> Any:
    """Set the swapped parameters on the estimator, then check it again as a model file is checked."""
    swaps = swapped_parameters(swapping)
    if not swaps:
        return estimator
    known = estimator.get_params()
    for name in swaps:
        if name.lower().endswith(NOT_SWAPPABLE):
            raise ToolInputError(f"{LABEL}: {name} cannot be swapped; set it in 'Create deep learning model'")
        if name not in known:
            raise ToolInputError(f"{LABEL}: the model has no parameter {shown(name)}")
    print("Hyperparameters swapped: " + ", ".join(f"{name} = {value!r}" for name, value in swaps.items()))
    try:
        estimator.set_params(**swaps)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise ToolInputError(f"{LABEL}: {first_line(error)}") from None
    if any(name == "config" or name.startswith("layers_") for name in swaps):
        # Keras 3 records each layer's input shape (build_config), which a new number of units or filters
        # upstream makes wrong: the model is rebuilt from its input instead.
        for layer in estimator.config.get("layers") or []:
            layer.pop("build_config", None)
    check_stored_params(type(estimator).__name__, stored_params(estimator), f"{LABEL}: the model with the new values")
    return estimator


def load_model(path: str, swapping: dict[str, Any]) -> Any:
    """The Keras estimator of the model file at ``path``, checked, with the swapped hyperparameters set."""
    estimator = swap_hyperparameters(check_estimator(load_estimator(path, MODEL_LABEL), MODEL_LABEL), swapping)
    check_layer_names(estimator.config, MODEL_LABEL)  # they become HDF5 groups when the model is saved
    check_seed(estimator.seed, f"{MODEL_LABEL}: the model's random seed")
    return estimator
