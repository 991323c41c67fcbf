"""The form of "Create deep learning model" read into galaxy-ml estimator parameters.

Shared by ``keras_model_builder`` (``KerasGClassifier`` / ``KerasGRegressor``) and
``keras_batch_models`` (``KerasGBatchClassifier``): both tools expand the same compile and fit
sections (macros.xml ``keras_compile_params_section`` / ``keras_fit_params_section``) and read the
model JSON the same way, so both read them with the functions here. Building and writing the model
file is :mod:`gxkeras.modelfile.building`'s.
"""
import os
from typing import Any

from gxkeras.galaxy.errors import ToolInputError
from gxkeras.keras.callbacks import check_callbacks
from gxkeras.keras.estimators import MAX_MODEL_JSON_BYTES, output_layer, parse_model_json
from gxkeras.keras.options import (
    CALLBACK_ARGS, CLASSIFIER_LOSSES, FORM_OPTIMIZERS, LOSSES, METRICS, OPTIMIZER_ARGS,
    REGRESSOR_LOSSES, check_argument, check_fit, keras_loss,
)
from gxkeras.galaxy.inputs import without_galaxy_keys
from gxkeras.galaxy.memory import format_bytes
from gxkeras.galaxy.values import as_bool, check_layer_names, check_seed

MODEL_LABEL = "Select the dataset containing model configuration"
WEIGHTS_LABEL = "Select the dataset containing the model's weights"
TRAIN, PREFITTED = "train_model", "prefitted"  # the building modes (Choose a building mode)
# Keras 2's cosine_proximity metric (also "cosine") reported minus the cosine similarity; Keras 3 has no
# metric by that name or with that sign (its cosine_similarity metric reports the similarity itself).
KERAS2_ONLY_METRICS = {"cosine_proximity", "cosine"}
NO_METRIC = "none"  # the Galaxy-ML tools' choice for "no metric besides the loss"
CLASSIFICATION_ONLY_METRICS = {
    "acc", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "AUC", "Precision", "Recall",
}


def optimizer_params(selection: Any) -> dict[str, Any]:
    """``{"optimizer": galaxy-ml's name, <its options>}`` from the "Select an optimizer" conditional.

    The options are in the section ``optimizer_options`` (the Galaxy-ML tools' layout); an empty
    option is left to the optimizer's default, as galaxy-ml does.
    """
    selection = without_galaxy_keys(selection)
    form_name = selection.get("optimizer_type")
    if form_name not in FORM_OPTIMIZERS:
        raise ToolInputError(f"Select an optimizer: unknown optimizer {form_name!r}; expected one of "
                             f"{', '.join(FORM_OPTIMIZERS)}")
    name = form_name.lower()
    options = without_galaxy_keys(selection.get("optimizer_options"))
    params = {"optimizer": name}
    for arg in OPTIMIZER_ARGS[name]:
        value = as_bool(options.get(arg))
        if value is None or value == "":
            continue
        params[arg] = check_argument(arg, value, f"optimizer {form_name}")
    return params


def metrics_list(value: Any) -> list[str]:
    """The "Select metrics" choices as a list (Galaxy gives a list, or a comma string)."""
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    metrics = [str(item).strip() for item in items if str(item).strip()]
    unknown = [metric for metric in metrics if metric not in METRICS]
    if unknown:
        raise ToolInputError(f"Select metrics: unknown metric {', '.join(unknown)}; expected some of "
                             f"{', '.join(sorted(METRICS))}")
    keras2 = [metric for metric in metrics if metric in KERAS2_ONLY_METRICS]
    if keras2:
        raise ToolInputError(f"Select metrics: {keras2[0]} (Keras 2: minus the cosine similarity) does not exist "
                             "in Keras 3; choose cosine_similarity, which reports the cosine similarity itself "
                             "(the opposite sign), or leave it out")
    return list(dict.fromkeys(metric for metric in metrics if metric != NO_METRIC))


def callbacks_list(repeat: Any) -> list[dict[str, Any]] | None:
    """galaxy-ml's callback dicts from the callbacks repeat, each option checked as a model file's are."""
    callbacks = []
    for index, item in enumerate(repeat or [], start=1):
        selection = without_galaxy_keys((item or {}).get("callback_selection"))
        callback_type = selection.get("callback_type")
        if callback_type in (None, "", "None"):
            continue
        if callback_type not in CALLBACK_ARGS:
            raise ToolInputError(f"Callback {index}: unknown callback {callback_type!r}; expected one of "
                                 f"{', '.join(CALLBACK_ARGS)}")
        options = {key: as_bool(selection[key]) for key in CALLBACK_ARGS[callback_type]
                   if selection.get(key) not in (None, "")}
        callbacks.append({"callback_selection": {"callback_type": callback_type, **options}})
    return check_callbacks(callbacks, "Callbacks")


# Fit parameters of the Galaxy-ML tools that Keras 3 cannot honour on the tables these tools train on.
STEP_PARAMS = {
    "steps_per_epoch": "an epoch is one pass over the training data in batches of batch_size",
    "validation_steps": "the whole validation set is evaluated after each epoch",
}


def _or_default(value: Any, default: Any) -> Any:
    return default if value is None or value == "" else value


def fit_params(section: Any) -> dict[str, Any]:
    """epochs, batch_size, validation_split, verbose and callbacks of the "Fit Parameters" section.

    ``steps_per_epoch`` and ``validation_steps`` (the Galaxy-ML tools' fields, empty in their
    workflows) must stay empty: Keras 3 takes the steps of all epochs from one pass over a table and,
    once its batches run out, interrupts training with a warning only, so a number would silently
    train on less than it says.
    """
    section = section or {}
    for name, instead in STEP_PARAMS.items():
        if section.get(name) not in (None, ""):
            raise ToolInputError(f"Fit Parameters: {name} {section[name]!r} is not supported on tables in Keras 3; "
                                 f"leave it empty ({instead})")
    verbose = _or_default(section.get("verbose"), 2)
    params = {"epochs": section.get("epochs", 1), "batch_size": _or_default(section.get("batch_size"), 32),
              "validation_split": _or_default(section.get("validation_split"), 0.0),
              "verbose": int(verbose) if str(verbose) in ("0", "1", "2") else verbose}  # older states: text
    check_fit(params, "Fit Parameters")
    params["validation_split"] = float(params["validation_split"])
    return {**params, "callbacks": callbacks_list(section.get("callbacks")) or None}


def read_model_json(mode: dict[str, Any], modes: tuple[str, ...] = (TRAIN,)) -> tuple[dict[str, Any], str]:
    """``(config, model_type)`` of the form's "Select the dataset containing model configuration", checked
    (and the building mode, one of ``modes``: the tool's own)."""
    if mode.get("mode_type", TRAIN) not in modes:
        raise ToolInputError(f"Choose a building mode: unknown mode {mode.get('mode_type')!r}; expected "
                             f"{' or '.join(modes)}")
    path = mode.get("infile_json")
    if not path:
        raise ToolInputError(f"{MODEL_LABEL}: no dataset given")
    try:
        if os.path.getsize(path) > MAX_MODEL_JSON_BYTES:
            raise ToolInputError(f"{MODEL_LABEL} ({path}): larger than {format_bytes(MAX_MODEL_JSON_BYTES)}, "
                                 "far more than a model architecture needs")
        with open(path) as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise ToolInputError(f"{MODEL_LABEL} ({path}): cannot read it as text: {error}") from None
    config, model_type = parse_model_json(text, MODEL_LABEL)
    check_layer_names(config, MODEL_LABEL)
    return config, model_type


def compile_fit_params(mode: dict[str, Any], config: dict[str, Any], regression: bool) -> dict[str, Any]:
    """The estimator's loss, metrics, optimizer, fit parameters and seed from the form's sections."""
    compile_params = mode.get("compile_params") or {}
    loss = compile_params.get("loss")
    if loss not in LOSSES:
        raise ToolInputError(f"Select a loss function: unknown loss {loss!r}")
    metrics = metrics_list(compile_params.get("metrics"))
    if regression:
        if loss in CLASSIFIER_LOSSES - REGRESSOR_LOSSES:
            raise ToolInputError(f"Select a loss function: {loss} is a classification loss; a regression "
                                 "model needs e.g. mse or mae")
        wrong = [metric for metric in metrics if metric in CLASSIFICATION_ONLY_METRICS]
        if wrong:
            raise ToolInputError(f"Select metrics: {', '.join(wrong)} measure classification; a regression "
                                 "model needs e.g. mse or mae")
    units, activation = output_layer(config)
    if loss == "binary_crossentropy" and activation == "softmax" and units == 1:
        raise ToolInputError("Select a loss function: binary_crossentropy with a 1-unit softmax output "
                             "always predicts 1; use a sigmoid activation on the last Dense layer")
    seed = check_seed(mode.get("random_seed"), "Random seed")
    return {"loss": keras_loss(loss), "metrics": metrics, **optimizer_params(compile_params.get("optimizer_selection")),
            **fit_params(mode.get("fit_params")), "seed": seed}
