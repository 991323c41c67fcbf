"""An estimator's parameters as a model file stores them, checked as the builder checks its form.

A model file is an upload: its parameters reach galaxy-ml (and some of them Keras' ``fit``) only once
each is one the form could have produced (:func:`check_stored_params`).
"""
from typing import Any

from gxkeras.galaxy.errors import ToolInputError
from gxkeras.galaxy.values import check_seed
from gxkeras.keras.allowlist import check_model_config
from gxkeras.keras.callbacks import check_callbacks
from gxkeras.keras.config_size import check_config_size
from gxkeras.keras.estimators import BATCH_CLASSIFIER, MODEL_TYPES, STORED_LEARNING_TYPES
from gxkeras.keras.generators import BATCH_PARAMS, check_batch_params, generator_spec
from gxkeras.keras.options import (CLASSIFIER_LOSSES, METRICS, OPTIMIZER_ARGS, REGRESSOR_LOSSES, check_argument,
                                   check_fit, keras_loss)

# A model file stores the Keras 3 names; those written by this suite before the form took the old
# names used Keras' short aliases (mse ...), which name the same functions.
SHORT_LOSS_NAMES = {"mse": "mean_squared_error", "mae": "mean_absolute_error",
                    "mape": "mean_absolute_percentage_error", "msle": "mean_squared_logarithmic_error"}
STORED_LOSSES = {
    "KerasGClassifier": {keras_loss(loss) for loss in CLASSIFIER_LOSSES},
    BATCH_CLASSIFIER: {keras_loss(loss) for loss in CLASSIFIER_LOSSES},
    "KerasGRegressor": {keras_loss(loss) for loss in REGRESSOR_LOSSES} | set(SHORT_LOSS_NAMES),
}


# Estimator parameters galaxy-ml has but the form never sets: a model file must leave them unset.
UNSET_PARAMS = ("loss_weights", "run_eagerly", "steps_per_execution", "steps_per_epoch", "validation_steps")
FORM_PARAMS = ("config", "model_type", "optimizer", "loss", "metrics", "epochs", "batch_size", "validation_split",
               "verbose", "callbacks", "seed")


def stored_params(estimator: Any) -> dict[str, Any]:
    """An estimator's parameters as a model file stores them (a batch generator as its description)."""
    params = estimator.get_params(deep=False)
    if params.get("data_batch_generator") is not None:
        params["data_batch_generator"] = generator_spec(params["data_batch_generator"])
    return params


def check_stored_params(learning_type: str, params: Any, label: str) -> str:
    """The parameters of an estimator in a model file, checked as the builder checks its form.

    Anything the form cannot produce is refused: unknown keys (galaxy-ml would pass them to
    ``fit``), parameters the form never sets, options of another optimizer, callbacks or options
    the form does not offer, and values outside the fields' ranges. Returns the model type.
    """
    if learning_type not in STORED_LEARNING_TYPES:
        raise ToolInputError(f"{label}: the model's Keras entry is a {str(learning_type)[:80]!r}, expected "
                             f"one of {', '.join(STORED_LEARNING_TYPES)}")
    if not isinstance(params, dict) or not isinstance(params.get("config"), dict):
        raise ToolInputError(f"{label}: the model's Keras parameters hold no model configuration")
    optimizer_args = {arg for args in OPTIMIZER_ARGS.values() for arg in args}
    batch = learning_type == BATCH_CLASSIFIER
    for key in params:
        if key not in FORM_PARAMS and key not in UNSET_PARAMS and key not in optimizer_args \
                and not (batch and key in BATCH_PARAMS):
            raise ToolInputError(f"{label}: the model has a parameter {str(key)[:60]!r} that "
                                 "'Create deep learning model' never sets")
    for key in UNSET_PARAMS:
        if params.get(key) is not None:
            raise ToolInputError(f"{label}: the model sets {key}, which 'Create deep learning model' never sets")
    kind = params.get("model_type", "sequential")
    if kind not in MODEL_TYPES:
        raise ToolInputError(f"{label}: unknown Keras model type {str(kind)[:60]!r}")
    if (kind == "functional") != ("input_layers" in params["config"]):
        raise ToolInputError(f"{label}: the model type {kind} does not match its configuration")
    optimizer = params.get("optimizer", "rmsprop")
    if optimizer not in OPTIMIZER_ARGS:
        raise ToolInputError(f"{label}: unknown optimizer {str(optimizer)[:60]!r}; expected one of "
                             f"{', '.join(OPTIMIZER_ARGS)}")
    for arg in sorted(optimizer_args):
        if params.get(arg) is None:
            continue
        if arg not in OPTIMIZER_ARGS[optimizer]:
            raise ToolInputError(f"{label}: {arg} is not an option of the optimizer {optimizer}")
        check_argument(arg, params[arg], f"{label}: optimizer {optimizer}")
    loss = params.get("loss")
    if loss not in STORED_LOSSES[learning_type]:
        raise ToolInputError(f"{label}: loss {str(loss)[:60]!r} is not one the form offers for a {learning_type}")
    metrics = params.get("metrics") or []
    if not isinstance(metrics, list) or any(metric not in METRICS for metric in metrics):
        raise ToolInputError(f"{label}: metrics {str(metrics)[:80]} are not among the form's metrics")
    check_fit({"epochs": params.get("epochs", 1), "batch_size": params.get("batch_size", 32),
               "validation_split": params.get("validation_split", 0.1), "verbose": params.get("verbose", 1)}, label)
    check_callbacks(params.get("callbacks"), label)
    check_seed(params.get("seed"), f"{label}: the model's random seed")
    if batch:
        check_batch_params(params, label)
    check_model_config(params["config"], label)
    check_config_size(params["config"], label)
    return kind
