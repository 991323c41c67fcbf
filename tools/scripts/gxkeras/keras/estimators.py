"""galaxy-ml Keras estimators (``KerasGClassifier``, ``KerasGRegressor``, ``KerasGBatchClassifier``): a model
JSON checked and built, an estimator made, and a loaded one refused unless it is one of these.

Shared by the builders (which make an untrained estimator from a model JSON and the compile/fit choices of
their form) and ``keras_train_and_eval`` (which loads, checks and trains it). A model JSON is data from a
user's history, so it is checked before Keras sees it (:mod:`gxkeras.keras.allowlist`, the size in
:mod:`gxkeras.keras.config_size`); an estimator's stored parameters are checked by
:mod:`gxkeras.keras.stored_params`, against the options of :mod:`gxkeras.keras.options`.
"""
import copy
from typing import Any

from gxkeras.galaxy.errors import ToolInputError, first_line
from gxkeras.galaxy.safe_json import loads
from gxkeras.keras.allowlist import check_model_config, model_type as model_json_type, safe_mode
from gxkeras.keras.config_size import check_config_size
from gxkeras.keras.generators import make_generator

LEARNING_TYPES = ("KerasGClassifier", "KerasGRegressor")
# "Build Deep learning Batch Training Models": a classifier trained on FASTA sequences through one of
# galaxy-ml's batch generators (checked here like the other estimators; the FASTA is the job's input).
BATCH_CLASSIFIER = "KerasGBatchClassifier"
STORED_LEARNING_TYPES = (*LEARNING_TYPES, BATCH_CLASSIFIER)
MODEL_TYPES = ("sequential", "functional")

MAX_MODEL_JSON_BYTES = 16 * 1024 ** 2  # a model config's JSON text: a few kB per layer


def parse_model_json(text: str | bytes, label: str) -> tuple[dict[str, Any], str]:
    """Check a model JSON and return ``(config, model_type)`` as galaxy-ml's estimators take them.

    ``label`` names the dataset in the form. Refused with one line: not JSON, too deeply nested,
    not a Keras 3 Sequential/functional model, anything the forms do not offer (Lambda and lookup
    layers, objects from other modules, custom objects, paths as arguments), too large a model.
    """
    model = loads(text, label, "the output of 'Create a deep learning model architecture'")
    if not isinstance(model, dict) or not isinstance(model.get("config"), dict) or "class_name" not in model:
        raise ToolInputError(f"{label}: not a Keras model configuration (no class_name and config)")
    kind = model_json_type(model, label)
    check_model_config(model, label)
    if not model["config"]["layers"]:
        raise ToolInputError(f"{label}: the model has no layers")
    check_config_size(model["config"], label)  # before Keras allocates anything
    _build_check(model, label)
    return model["config"], kind


# What Keras raises for a config it cannot build (bad arguments, shapes that do not fit, missing keys,
# and arithmetic on them: a pooling's strides=0 divides by zero, a ConvLSTM2D's overflows).
KERAS_BUILD_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError)


def build_model(config: dict[str, Any], kind: str, label: str) -> Any:
    """The Keras model of an estimator config, built in safe mode; one error line if Keras refuses it."""
    from gxkeras.keras.environment import import_keras

    keras = import_keras()
    model_class = keras.Sequential if kind == "sequential" else keras.Model
    try:
        with safe_mode():  # a copy: Keras' functional from_config pops the keys of the dict it reads
            return model_class.from_config(copy.deepcopy(config))
    except KERAS_BUILD_ERRORS as error:
        raise ToolInputError(f"{label}: Keras cannot build this model: {first_line(error)}") from None


def _build_check(model: dict[str, Any], label: str) -> None:
    """Let Keras build the model: the layers' arguments and shapes must really fit together."""
    build_model(model["config"], model_json_type(model, label), label)


def output_layer(config: dict[str, Any]) -> tuple[Any, Any]:
    """``(units, activation)`` of the model's last layer, from the config (None where unknown)."""
    layers = config.get("layers") or []
    if not layers:
        return None, None
    last = layers[-1].get("config", {})
    return last.get("units"), last.get("activation")


def check_estimator(estimator: Any, label: str) -> Any:
    """Refuse anything but a galaxy-ml Keras estimator (a model file of another kind of tool)."""
    from galaxy_ml.keras_galaxy_models import KerasGBatchClassifier, KerasGClassifier, KerasGRegressor

    if type(estimator) not in (KerasGClassifier, KerasGRegressor, KerasGBatchClassifier):  # exactly these classes
        raise ToolInputError(f"{label}: holds a {type(estimator).__name__}, expected a Keras model made by "
                             "'Create deep learning model' (KerasGClassifier or KerasGRegressor) or 'Build Deep "
                             "learning Batch Training Models' (KerasGBatchClassifier)")
    config = estimator.config
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ToolInputError(f"{label}: the estimator holds no Keras model configuration")
    check_model_config(config, label)
    if getattr(estimator, "model_", None) is None:  # the trainer will build it: refuse a size too large
        check_config_size(config, label)
    return estimator


def model_input_shape(config: dict[str, Any]) -> tuple[Any, ...] | None:
    """Shape of one sample (no batch axis) the model expects, from its first InputLayer."""
    for layer in config.get("layers") or []:
        if layer.get("class_name") == "InputLayer":
            shape = layer.get("config", {}).get("batch_shape")
            return tuple(shape[1:]) if shape else None
    build = config.get("build_input_shape")
    return tuple(build[1:]) if build else None


def is_classifier(estimator: Any) -> bool:
    from galaxy_ml.keras_galaxy_models import KerasGClassifier

    return isinstance(estimator, KerasGClassifier)


def make_estimator(learning_type: str, config: dict[str, Any], model_type: str, **params: Any) -> Any:
    """A new, untrained ``KerasGClassifier``, ``KerasGRegressor`` or ``KerasGBatchClassifier``."""
    from gxkeras.keras.environment import import_keras

    import_keras()  # TensorFlow's settings first
    from galaxy_ml.keras_galaxy_models import KerasGBatchClassifier, KerasGClassifier, KerasGRegressor

    if learning_type not in STORED_LEARNING_TYPES:
        raise ToolInputError(f"unknown learning type {learning_type!r}: expected one of "
                             f"{', '.join(STORED_LEARNING_TYPES)}")
    klass = {"KerasGClassifier": KerasGClassifier, "KerasGRegressor": KerasGRegressor,
             BATCH_CLASSIFIER: KerasGBatchClassifier}[learning_type]
    if isinstance(params.get("data_batch_generator"), dict):  # a checked description: the generator itself
        params["data_batch_generator"] = make_generator(params["data_batch_generator"])
    try:
        return klass(config=config, model_type=model_type, **params)
    except ValueError as error:
        raise ToolInputError(str(error)) from None
