"""galaxy-ml Keras estimators (``KerasGClassifier`` / ``KerasGRegressor``) for the Keras tools.

Shared by ``keras_model_builder`` (which makes an untrained estimator from a model JSON and the
compile/fit choices of its form) and ``keras_train_and_eval`` (which loads, checks and trains it).

A model JSON is data from a user's history, so it is checked before Keras sees it: it must be a
Keras 3 ``Sequential`` or functional model whose every object comes from Keras itself, with no
``Lambda`` layer (Keras would run the code stored in it) and no custom registered objects.
"""
import json

from gxkeras.errors import ToolInputError
from gxkeras.resources import check_parameters, config_parameters

LEARNING_TYPES = ("KerasGClassifier", "KerasGRegressor")
MODEL_TYPES = {"Sequential": "sequential", "Functional": "functional", "Model": "functional"}
# Layers that carry Python code (or a reference to arbitrary TensorFlow ops) inside the JSON.
CODE_LAYERS = {"Lambda", "TFOpLambda", "SlicingOpLambda"}

OPTIMIZERS = ("adam", "sgd", "rmsprop", "adagrad", "adadelta", "adamax", "nadam", "ftrl")
# Per optimizer: the BaseKerasModel arguments its options may set (see galaxy-ml ``_optimizer``).
OPTIMIZER_ARGS = {
    "sgd": ("learning_rate", "momentum", "nesterov"),
    "rmsprop": ("learning_rate", "rho", "momentum", "epsilon", "centered"),
    "adam": ("learning_rate", "beta_1", "beta_2", "epsilon", "amsgrad"),
    "adadelta": ("learning_rate", "rho", "epsilon"),
    "adagrad": ("learning_rate", "initial_accumulator_value", "epsilon"),
    "adamax": ("learning_rate", "beta_1", "beta_2", "epsilon"),
    "nadam": ("learning_rate", "beta_1", "beta_2", "epsilon"),
    "ftrl": ("learning_rate", "learning_rate_power", "initial_accumulator_value", "beta",
             "l1_regularization_strength", "l2_regularization_strength",
             "l2_shrinkage_regularization_strength"),
}
CALLBACK_ARGS = {
    "EarlyStopping": ("monitor", "min_delta", "patience", "mode", "baseline", "restore_best_weights",
                      "start_from_epoch"),
    "ReduceLROnPlateau": ("monitor", "factor", "patience", "mode", "min_delta", "cooldown", "min_lr"),
    "TerminateOnNaN": (),
}
CLASSIFIER_LOSSES = {
    "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
    "binary_focal_crossentropy", "hinge", "squared_hinge", "categorical_hinge", "kl_divergence", "poisson",
}
REGRESSOR_LOSSES = {
    "mean_squared_error", "mse", "mean_absolute_error", "mae", "mean_absolute_percentage_error", "mape",
    "mean_squared_logarithmic_error", "msle", "huber", "log_cosh", "cosine_similarity", "poisson",
}


def _walk(value, where="model"):
    """Yield every dict in the JSON tree (with a readable place) to check its class and module."""
    if isinstance(value, dict):
        yield value, where
        name = value.get("config", {}).get("name") if isinstance(value.get("config"), dict) else None
        inner = f"{value.get('class_name')} '{name}'" if name and "class_name" in value else where
        for item in value.values():
            yield from _walk(item, inner)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, where)


def check_keras_objects(tree, label):
    """Refuse, without building anything, Keras JSON that would run code or import non-Keras modules.

    ``tree`` is a model JSON (or any structure holding one, such as an estimator's parameters):
    every dict in it is checked. Refused: Lambda layers (Keras would run the function stored in
    the file), objects from modules other than Keras, and custom registered objects.
    """
    for item, where in _walk(tree):
        item_class = item.get("class_name")
        if item_class in CODE_LAYERS:
            raise ToolInputError(f"{label}: {where} contains a {item_class} layer, which runs code stored in "
                                 "the file and is not accepted")
        module = item.get("module")
        if module is not None and not (isinstance(module, str) and (module == "keras" or module.startswith("keras."))):
            raise ToolInputError(f"{label}: {where}: {item_class} comes from module {module!r}; "
                                 "only Keras' own layers and objects are accepted")
        registered = item.get("registered_name")
        if isinstance(registered, str) and ">" in registered:
            raise ToolInputError(f"{label}: {where}: custom object {registered!r} is not accepted")
        if item_class is not None and not (isinstance(item_class, str) and item_class.isidentifier()):
            raise ToolInputError(f"{label}: {where}: {item_class!r} is not a Keras class name")


def parse_model_json(text, label):
    """Check a model JSON and return ``(config, model_type)`` as galaxy-ml's estimators take them.

    ``label`` names the dataset in the form. Refused with one line: not JSON, not a Keras 3
    Sequential/functional model, Lambda layers, objects from modules other than Keras.
    """
    try:
        model = json.loads(text)
    except ValueError as error:
        raise ToolInputError(f"{label}: not valid JSON ({error.msg} at line {error.lineno}); "
                             "expected the output of 'Create a deep learning model architecture'") from None
    if not isinstance(model, dict) or not isinstance(model.get("config"), dict) or "class_name" not in model:
        raise ToolInputError(f"{label}: not a Keras model configuration (no class_name and config)")
    class_name = model["class_name"]
    if class_name not in MODEL_TYPES:
        raise ToolInputError(f"{label}: a {class_name!r} is not a Keras model: expected Sequential or Functional")
    if "module" not in model or not isinstance(model["config"].get("layers"), list):
        raise ToolInputError(f"{label}: not a Keras 3 model configuration (Keras 2 JSON is not supported; "
                             "rebuild the architecture with 'Create a deep learning model architecture')")
    check_keras_objects(model, label)
    if not model["config"]["layers"]:
        raise ToolInputError(f"{label}: the model has no layers")
    check_parameters(config_parameters(model["config"]), label)  # before Keras allocates anything
    _build_check(model, label)
    return model["config"], MODEL_TYPES[class_name]


def _build_check(model, label):
    """Let Keras build the model: the layers' arguments and shapes must really fit together."""
    from gxkeras.keras_env import import_keras

    keras = import_keras()
    try:
        keras.models.model_from_json(json.dumps(model))
    except Exception as error:  # Keras raises ValueError, TypeError, KeyError ... for broken configs
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ToolInputError(f"{label}: Keras cannot build this model: {message}") from None


def output_layer(config):
    """``(units, activation)`` of the model's last layer, from the config (None where unknown)."""
    layers = config.get("layers") or []
    if not layers:
        return None, None
    last = layers[-1].get("config", {})
    return last.get("units"), last.get("activation")


def check_estimator(estimator, label):
    """Refuse anything but a galaxy-ml Keras estimator (a model file of another kind of tool)."""
    from galaxy_ml.keras_galaxy_models import KerasGClassifier, KerasGRegressor

    if not isinstance(estimator, (KerasGClassifier, KerasGRegressor)):
        raise ToolInputError(f"{label}: holds a {type(estimator).__name__}, expected a Keras model made by "
                             "'Create deep learning model' (KerasGClassifier or KerasGRegressor)")
    config = estimator.config
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ToolInputError(f"{label}: the estimator holds no Keras model configuration")
    check_keras_objects(config, label)
    if getattr(estimator, "model_", None) is None:  # the trainer will build it: refuse a size too large
        check_parameters(config_parameters(config), label)
    return estimator


def is_classifier(estimator):
    from galaxy_ml.keras_galaxy_models import KerasGClassifier

    return isinstance(estimator, KerasGClassifier)


def make_estimator(learning_type, config, model_type, **params):
    """A new, untrained ``KerasGClassifier`` or ``KerasGRegressor``."""
    from gxkeras.keras_env import import_keras

    import_keras()  # TensorFlow's settings first
    from galaxy_ml.keras_galaxy_models import KerasGClassifier, KerasGRegressor

    if learning_type not in LEARNING_TYPES:
        raise ToolInputError(f"unknown learning type {learning_type!r}: expected one of {', '.join(LEARNING_TYPES)}")
    klass = KerasGClassifier if learning_type == "KerasGClassifier" else KerasGRegressor
    try:
        return klass(config=config, model_type=model_type, **params)
    except ValueError as error:
        raise ToolInputError(str(error)) from None
