"""What "Create deep learning model" offers for a Keras estimator's compile and fit parameters, and the
check of each value: the same for the builder's form and for a model file (:mod:`gxkeras.keras.stored_params`).

The lists are read from the form (the one source of truth); what Python must know about them (the losses
of each task, the Keras 3 names, the valid values of each field) sits beside them, and a contract test
checks both sides agree.
"""
import math
import re
from typing import Any, TypeGuard

from gxkeras.galaxy import forms
from gxkeras.galaxy.errors import ToolInputError

# The options of "Create deep learning model", read from its form (the one source of truth). The form
# offers the optimizers under the Galaxy-ML tools' names (``Adam``); galaxy-ml and a model file name
# them in lower case (``adam``), as the Galaxy-ML tools passed them.
FORM_OPTIMIZERS = forms.options("keras_model_builder", "optimizer_type")
OPTIMIZER_ARGS = {name.lower(): args for name, args in forms.when_params("keras_model_builder", "optimizer_type").items()}
CALLBACK_ARGS = {name: args for name, args in forms.when_params("keras_model_builder", "callback_type").items()
                 if name != "None"}
LOSSES = frozenset(forms.options("keras_model_builder", "loss"))
METRICS = frozenset(forms.options("keras_model_builder", "metrics"))
MONITOR_MODES = forms.options("keras_model_builder", "mode")

SCHEDULES = forms.options("keras_model_builder", "schedule")

# Losses as the form names them (the Galaxy-ML tools' Keras 2 names). Keras 3 knows most of them by the
# same name; these it knows by another one, with the same function (Keras 2's cosine_proximity loss and
# Keras 3's cosine_similarity loss are both minus the cosine similarity).
KERAS3_LOSS_NAMES = {"logcosh": "log_cosh", "kullback_leibler_divergence": "kl_divergence",
                     "cosine_proximity": "cosine_similarity"}
CLASSIFIER_LOSSES = {
    "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
    "binary_focal_crossentropy", "hinge", "squared_hinge", "categorical_hinge", "kullback_leibler_divergence",
    "poisson",
}
REGRESSOR_LOSSES = {"mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
                    "mean_squared_logarithmic_error", "huber", "logcosh", "cosine_proximity", "poisson"}


def keras_loss(loss: str) -> str:
    """The Keras 3 name galaxy-ml compiles (and a model file stores) for the form's ``loss``."""
    return KERAS3_LOSS_NAMES.get(loss, loss)


def is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def is_count(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# Valid values of each optimizer and callback option, as the form's fields allow them (galaxy-ml
# replaces a 0 by the default for some optimizer options, so 0 is refused where it would silently
# become something else).
ARG_CHECKS = {
    "learning_rate": ("a number > 0", lambda v: is_number(v) and v > 0),
    "beta_1": ("a number in (0, 1)", lambda v: is_number(v) and 0 < v < 1),
    "beta_2": ("a number in (0, 1)", lambda v: is_number(v) and 0 < v < 1),
    "rho": ("a number in (0, 1)", lambda v: is_number(v) and 0 < v < 1),
    "epsilon": ("a number > 0", lambda v: is_number(v) and v > 0),
    "momentum": ("a number >= 0", lambda v: is_number(v) and v >= 0),
    "initial_accumulator_value": ("a number > 0", lambda v: is_number(v) and v > 0),
    "learning_rate_power": ("a number < 0", lambda v: is_number(v) and v < 0),
    "beta": ("a number >= 0", lambda v: is_number(v) and v >= 0),
    "l1_regularization_strength": ("a number >= 0", lambda v: is_number(v) and v >= 0),
    "l2_regularization_strength": ("a number >= 0", lambda v: is_number(v) and v >= 0),
    "l2_shrinkage_regularization_strength": ("a number >= 0", lambda v: is_number(v) and v >= 0),
    "nesterov": ("true or false", lambda v: isinstance(v, bool)),
    "amsgrad": ("true or false", lambda v: isinstance(v, bool)),
    "centered": ("true or false", lambda v: isinstance(v, bool)),
    "monitor": ("a metric name such as val_loss", lambda v: isinstance(v, str) and re.fullmatch(r"[A-Za-z0-9_]{1,64}", v)),
    "mode": (f"one of {', '.join(MONITOR_MODES)}", lambda v: v in MONITOR_MODES),
    "min_delta": ("a number >= 0", lambda v: is_number(v) and v >= 0),
    "patience": ("an integer >= 0", is_count),
    "baseline": ("a number", is_number),
    "restore_best_weights": ("true or false", lambda v: isinstance(v, bool)),
    "factor": ("a number in [0, 1)", lambda v: is_number(v) and 0 <= v < 1),
    "cooldown": ("an integer >= 0", is_count),
    "min_lr": ("a number >= 0", lambda v: is_number(v) and v >= 0),
    "save_best_only": ("true or false", lambda v: isinstance(v, bool)),
    "save_weights_only": ("true or false", lambda v: isinstance(v, bool)),
    "schedule": (f"one of {', '.join(SCHEDULES)}", lambda v: v in SCHEDULES),
    "drop": ("a number in (0, 1]", lambda v: is_number(v) and 0 < v <= 1),
    "epochs_drop": ("an integer >= 1", lambda v: is_count(v) and v >= 1),
    "decay_rate": ("a number >= 0", lambda v: is_number(v) and v >= 0),
}


def check_argument(name: str, value: Any, where: str) -> Any:
    """One optimizer or callback option, checked as its form field allows it."""
    text, ok = ARG_CHECKS[name]
    if not ok(value):
        raise ToolInputError(f"{where}: {name} must be {text}, got {str(value)[:60]!r}")
    return value


# The form's bounds (tools/macros.xml): a model file or a swapped value beyond them is refused before training.
# At most 10^5 epochs; a batch size TensorFlow can index (int32).
MAX_EPOCHS = forms.integer_maximum("keras_model_builder", "epochs")
MAX_BATCH_SIZE = forms.integer_maximum("keras_model_builder", "batch_size")


def check_fit(params: dict[str, Any], where: str) -> None:
    """epochs, batch_size, validation_split and verbose as the form allows them."""
    epochs, batch_size = params.get("epochs"), params.get("batch_size")
    split, verbose = params.get("validation_split"), params.get("verbose")
    if not isinstance(epochs, int) or isinstance(epochs, bool) or not 1 <= epochs <= MAX_EPOCHS:
        raise ToolInputError(f"{where}: epochs must be an integer from 1 to {MAX_EPOCHS:,}, got {str(epochs)[:60]!r}")
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ToolInputError(f"{where}: batch_size must be an integer from 1 to {MAX_BATCH_SIZE:,}, got "
                             f"{str(batch_size)[:60]!r}")
    if not is_number(split) or not 0 <= split < 1:
        raise ToolInputError(f"{where}: validation_split must be a fraction in [0, 1), got {split!r}")
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ToolInputError(f"{where}: verbose must be 0, 1 or 2, got {verbose!r}")
