"""galaxy-ml Keras estimators (``KerasGClassifier`` / ``KerasGRegressor``) for the Keras tools.

Shared by ``keras_model_builder`` (which makes an untrained estimator from a model JSON and the
compile/fit choices of its form) and ``keras_train_and_eval`` (which loads, checks and trains it).

A model JSON, and an estimator's parameters in a model file, are data from a user's history, so
they are checked before Keras or galaxy-ml sees them, against what the forms offer
(:mod:`gxkeras.keras.allowlist` for the model JSON, the checks here for the compile and fit parameters:
the same for the builder's form and for a model file).
"""
import contextlib
import copy
import math
import os
import re
from collections.abc import Iterator
from typing import Any, TypeGuard

from gxkeras.galaxy import forms
from gxkeras.keras.allowlist import check_model_config, model_type as model_json_type, safe_mode
from gxkeras.galaxy.errors import ToolInputError, first_line
from gxkeras.keras.config_size import check_config_size
from gxkeras.galaxy.safe_json import loads
from gxkeras.galaxy.values import SEED_MAX, check_seed

LEARNING_TYPES = ("KerasGClassifier", "KerasGRegressor")
# "Build Deep learning Batch Training Models": a classifier trained on FASTA sequences through one of
# galaxy-ml's batch generators (checked here like the other estimators; the FASTA is the job's input).
BATCH_CLASSIFIER = "KerasGBatchClassifier"
STORED_LEARNING_TYPES = (*LEARNING_TYPES, BATCH_CLASSIFIER)
MODEL_TYPES = ("sequential", "functional")

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

# What Python must know about those options (a contract test checks both sides agree).
# Callbacks reviewed to reach no network or module and to write no file a user names (not TensorBoard,
# BackupAndRestore, RemoteMonitor, LambdaCallback ...). No callback takes a file name from the form or a
# model file: CSVLogger always writes log.csv, ModelCheckpoint one of the CHECKPOINT files, both in the
# job's working directory; LearningRateScheduler runs one of our typed schedules, never code.
REVIEWED_CALLBACKS = {"EarlyStopping", "ReduceLROnPlateau", "TerminateOnNaN", "CSVLogger", "ModelCheckpoint",
                      "LearningRateScheduler"}
CSV_LOG = "log.csv"  # galaxy-ml's name for the CSVLogger file of the Galaxy-ML tools (tab-separated, appended)
# ModelCheckpoint's file, by save_weights_only (Keras 3 wants these endings); the trainer reads it back
# into the trained model (restore_checkpoint), so the model output carries the checkpoint's weights.
CHECKPOINT = {True: "checkpoint.weights.h5", False: "checkpoint.keras"}
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


# A model file stores the Keras 3 names; those written by this suite before the form took the old
# names used Keras' short aliases (mse ...), which name the same functions.
SHORT_LOSS_NAMES = {"mse": "mean_squared_error", "mae": "mean_absolute_error",
                    "mape": "mean_absolute_percentage_error", "msle": "mean_squared_logarithmic_error"}
STORED_LOSSES = {
    "KerasGClassifier": {keras_loss(loss) for loss in CLASSIFIER_LOSSES},
    BATCH_CLASSIFIER: {keras_loss(loss) for loss in CLASSIFIER_LOSSES},
    "KerasGRegressor": {keras_loss(loss) for loss in REGRESSOR_LOSSES} | set(SHORT_LOSS_NAMES),
}


def _number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _count(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# Valid values of each optimizer and callback option, as the form's fields allow them (galaxy-ml
# replaces a 0 by the default for some optimizer options, so 0 is refused where it would silently
# become something else).
ARG_CHECKS = {
    "learning_rate": ("a number > 0", lambda v: _number(v) and v > 0),
    "beta_1": ("a number in (0, 1)", lambda v: _number(v) and 0 < v < 1),
    "beta_2": ("a number in (0, 1)", lambda v: _number(v) and 0 < v < 1),
    "rho": ("a number in (0, 1)", lambda v: _number(v) and 0 < v < 1),
    "epsilon": ("a number > 0", lambda v: _number(v) and v > 0),
    "momentum": ("a number >= 0", lambda v: _number(v) and v >= 0),
    "initial_accumulator_value": ("a number > 0", lambda v: _number(v) and v > 0),
    "learning_rate_power": ("a number < 0", lambda v: _number(v) and v < 0),
    "beta": ("a number >= 0", lambda v: _number(v) and v >= 0),
    "l1_regularization_strength": ("a number >= 0", lambda v: _number(v) and v >= 0),
    "l2_regularization_strength": ("a number >= 0", lambda v: _number(v) and v >= 0),
    "l2_shrinkage_regularization_strength": ("a number >= 0", lambda v: _number(v) and v >= 0),
    "nesterov": ("true or false", lambda v: isinstance(v, bool)),
    "amsgrad": ("true or false", lambda v: isinstance(v, bool)),
    "centered": ("true or false", lambda v: isinstance(v, bool)),
    "monitor": ("a metric name such as val_loss", lambda v: isinstance(v, str) and re.fullmatch(r"[A-Za-z0-9_]{1,64}", v)),
    "mode": (f"one of {', '.join(MONITOR_MODES)}", lambda v: v in MONITOR_MODES),
    "min_delta": ("a number >= 0", lambda v: _number(v) and v >= 0),
    "patience": ("an integer >= 0", _count),
    "baseline": ("a number", _number),
    "restore_best_weights": ("true or false", lambda v: isinstance(v, bool)),
    "factor": ("a number in [0, 1)", lambda v: _number(v) and 0 <= v < 1),
    "cooldown": ("an integer >= 0", _count),
    "min_lr": ("a number >= 0", lambda v: _number(v) and v >= 0),
    "save_best_only": ("true or false", lambda v: isinstance(v, bool)),
    "save_weights_only": ("true or false", lambda v: isinstance(v, bool)),
    "schedule": (f"one of {', '.join(SCHEDULES)}", lambda v: v in SCHEDULES),
    "drop": ("a number in (0, 1]", lambda v: _number(v) and 0 < v <= 1),
    "epochs_drop": ("an integer >= 1", lambda v: _count(v) and v >= 1),
    "decay_rate": ("a number >= 0", lambda v: _number(v) and v >= 0),
}
# Estimator parameters galaxy-ml has but the form never sets: a model file must leave them unset.
UNSET_PARAMS = ("loss_weights", "run_eagerly", "steps_per_execution", "steps_per_epoch", "validation_steps")
FORM_PARAMS = ("config", "model_type", "optimizer", "loss", "metrics", "epochs", "batch_size", "validation_split",
               "verbose", "callbacks", "seed")


# The batch generators, as "Build Deep learning Batch Training Models" offers them (the one source of
# truth), and those that run: the FASTA ones and the genomic-interval one. A model file stores the generator
# as ``{"generator_type": ..., <its fields>}`` and never a file path: the FASTA, or the reference genome,
# intervals and targets, come from the job's inputs (gxkeras.data.fasta, gxkeras.data.genomic).
GENERATOR_TYPES = forms.options("keras_batch_models", "generator_type")
GENERATOR_ARGS = {name: args for name, args in forms.when_params("keras_batch_models", "generator_type").items()
                  if name != "none"}
FASTA_GENERATORS = ("FastaDNABatchGenerator", "FastaRNABatchGenerator", "FastaProteinBatchGenerator")
GENOMIC_GENERATOR = "GenomicIntervalBatchGenerator"
RUNNING_GENERATORS = (*FASTA_GENERATORS, GENOMIC_GENERATOR)
NOT_SUPPORTED_GENERATORS = {"none": "no generator"}
# The ENCODE blacklists galaxy-ml ships (selene's Genome opens its own copy by name); any other value,
# e.g. a file path, is refused.
BLACKLISTS = forms.options("keras_batch_models", "blacklist_regions")
MAX_SEQ_LENGTH = 100_000  # the form's maximum: one sequence of 100,000 x 20 float32 is 8 MB


def _seed_or_none(value: object) -> bool:
    return value is None or (_count(value) and value <= SEED_MAX)


GENERATOR_CHECKS = {
    "seq_length": (f"an integer from 1 to {MAX_SEQ_LENGTH}", lambda v: _count(v) and 1 <= v <= MAX_SEQ_LENGTH),
    "shuffle": ("true or false", lambda v: isinstance(v, bool)),
    "seed": ("empty or an integer >= 0", _seed_or_none),
    "blacklist_regions": (f"one of {', '.join(BLACKLISTS)}", lambda v: v in BLACKLISTS),
    "center_bin_to_predict": (f"an integer from 1 to {MAX_SEQ_LENGTH}",
                              lambda v: _count(v) and 1 <= v <= MAX_SEQ_LENGTH),
    "feature_thresholds": ("empty or a number from 0 to 1", lambda v: v is None or (_number(v) and 0 <= v <= 1)),
    "random_state": ("empty or an integer >= 0", _seed_or_none),
}
# Batch classifier parameters besides the builder's: galaxy-ml stores n_jobs (always 1 here).
BATCH_PARAMS = ("data_batch_generator", "prediction_steps", "class_positive_factor", "n_jobs")


def check_generator(spec: object, where: str) -> dict[str, Any] | None:
    """A stored batch generator (``{"generator_type": ..., fields}``), checked; None when the model has none.

    Only the generators that run, with their own fields in range; a path (``fasta_path``,
    ``ref_genome_path``, ``target_path`` ..., or any other field) is refused: a model file may not choose
    which file a job reads.
    """
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise ToolInputError(f"{where}: the data_batch_generator is not a generator description")
    kind = spec.get("generator_type")
    if kind not in RUNNING_GENERATORS:
        raise ToolInputError(f"{where}: the data_batch_generator is a {str(kind)[:60]!r}; only "
                             f"{', '.join(RUNNING_GENERATORS)} are accepted")
    for key, value in spec.items():
        if key == "generator_type":
            continue
        if "path" in str(key) or key not in GENERATOR_ARGS[kind]:
            raise ToolInputError(f"{where}: the data_batch_generator ({kind}) has a field {str(key)[:60]!r}, which "
                                 "the form never sets; a stored file path is refused (the sequences come from the "
                                 "job's inputs)")
        text, ok = GENERATOR_CHECKS[key]
        if not ok(value):
            raise ToolInputError(f"{where}: the data_batch_generator's {key} must be {text}, got {str(value)[:60]!r}")
    if kind == GENOMIC_GENERATOR:
        length, center = spec.get("seq_length", 1000), spec.get("center_bin_to_predict", 200)
        if center > length or (length - center) % 2:
            raise ToolInputError(f"{where}: center_bin_to_predict ({center}) must be at most seq_length ({length}), "
                                 "and seq_length - center_bin_to_predict even (the bases around the center bin "
                                 "are split equally on both sides)")
    return dict(spec)


def check_batch_params(params: dict[str, Any], label: str) -> None:
    """The parameters only a KerasGBatchClassifier has, as its form allows them."""
    check_generator(params.get("data_batch_generator"), label)
    if params.get("n_jobs", 1) != 1:
        raise ToolInputError(f"{label}: n_jobs must be 1, got {str(params.get('n_jobs'))[:60]!r}")
    steps = params.get("prediction_steps")
    if steps is not None and not (_count(steps) and steps >= 1):
        raise ToolInputError(f"{label}: prediction_steps must be empty or a positive integer, got {str(steps)[:60]!r}")
    factor = params.get("class_positive_factor", 1)
    if not (_number(factor) and factor > 0):
        raise ToolInputError(f"{label}: class_positive_factor must be a number > 0, got {str(factor)[:60]!r}")


def generator_spec(generator: Any) -> dict[str, Any]:
    """What a model file stores of a batch generator: its type and fields, never its file path."""
    spec = {"generator_type": type(generator).__name__}
    spec.update({key: getattr(generator, key) for key in GENERATOR_ARGS[spec["generator_type"]]})
    return spec


def stored_params(estimator: Any) -> dict[str, Any]:
    """An estimator's parameters as a model file stores them (a batch generator as its description)."""
    params = estimator.get_params(deep=False)
    if params.get("data_batch_generator") is not None:
        params["data_batch_generator"] = generator_spec(params["data_batch_generator"])
    return params


def make_generator(spec: dict[str, Any], fasta_path: str | None = None) -> Any:
    """galaxy-ml's generator of a checked ``spec``, reading ``fasta_path`` (a job's input; None until then).

    A genomic-interval generator gets its paths (genome, intervals, targets) and features from the
    training job (:func:`gxkeras.data.genomic.stage_interval_inputs`), never from here.
    """
    from galaxy_ml import preprocessors

    kind = spec["generator_type"]
    if kind not in RUNNING_GENERATORS:  # checked before; never build what the form does not offer
        raise ToolInputError(f"unknown batch generator {kind!r}")
    fields = {key: value for key, value in spec.items() if key != "generator_type"}
    if kind == GENOMIC_GENERATOR:
        if fields.get("feature_thresholds") is not None:  # selene applies a threshold only if it is a float
            fields["feature_thresholds"] = float(fields["feature_thresholds"])
        return preprocessors.GenomicIntervalBatchGenerator(**fields)
    return getattr(preprocessors, kind)(fasta_path, **fields)


def check_argument(name: str, value: Any, where: str) -> Any:
    """One optimizer or callback option, checked as its form field allows it."""
    text, ok = ARG_CHECKS[name]
    if not ok(value):
        raise ToolInputError(f"{where}: {name} must be {text}, got {str(value)[:60]!r}")
    return value


def check_callbacks(callbacks: object, where: str) -> list[dict[str, Any]] | None:
    """galaxy-ml callback dicts (``[{"callback_selection": {"callback_type": ..., options}}]``), checked."""
    if callbacks is None:
        return None
    if not isinstance(callbacks, list):
        raise ToolInputError(f"{where}: callbacks must be a list, got {type(callbacks).__name__}")
    checked = []
    for index, item in enumerate(callbacks, start=1):
        selection = item.get("callback_selection") if isinstance(item, dict) and len(item) == 1 else None
        if not isinstance(selection, dict):
            raise ToolInputError(f"{where}: callback {index} is malformed")
        callback_type = selection.get("callback_type")
        if callback_type not in CALLBACK_ARGS or callback_type not in REVIEWED_CALLBACKS:
            raise ToolInputError(f"{where}: callback {index} is a {str(callback_type)[:60]!r}; only the callbacks the "
                                 f"form offers are accepted: {', '.join(CALLBACK_ARGS)}")
        options = {key: value for key, value in selection.items() if key != "callback_type"}
        for key, value in options.items():
            if key not in CALLBACK_ARGS[callback_type]:
                raise ToolInputError(f"{where}: callback {index} ({callback_type}) has no option {str(key)[:60]!r}")
            if value is not None:
                check_argument(key, value, f"{where}: callback {index} ({callback_type})")
        checked.append({"callback_selection": {"callback_type": callback_type, **options}})
    return checked


MAX_MODEL_JSON_BYTES = 16 * 1024 ** 2  # a model config's JSON text: a few kB per layer
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
    if not _number(split) or not 0 <= split < 1:
        raise ToolInputError(f"{where}: validation_split must be a fraction in [0, 1), got {split!r}")
    if verbose not in (0, 1, 2) or isinstance(verbose, bool):
        raise ToolInputError(f"{where}: verbose must be 0, 1 or 2, got {verbose!r}")




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


class Decay:
    """A LearningRateScheduler schedule from the form's typed fields (no code from the user).

    ``lr0`` is the optimizer's learning rate when training starts (epoch 0), so the optimizer's
    ``learning_rate`` stays the one place the initial rate is set.
    """

    def __init__(self, schedule: str, drop: float = 0.5, epochs_drop: int = 10, decay_rate: float = 0.1) -> None:
        self.schedule, self.drop, self.epochs_drop, self.decay_rate = schedule, drop, epochs_drop, decay_rate
        self.lr0: float | None = None

    def __call__(self, epoch: int, lr: float) -> float:
        if self.lr0 is None:
            self.lr0 = float(lr)
        return SCHEDULE_RATES[self.schedule](self, epoch)


# The rate of each schedule the form offers (a contract test checks the two lists are the same).
SCHEDULE_RATES = {
    "step_decay": lambda decay, epoch: decay.lr0 * decay.drop ** (epoch // decay.epochs_drop),
    "exponential_decay": lambda decay, epoch: decay.lr0 * math.exp(-decay.decay_rate * epoch),
}


def build_callbacks(callbacks: object, where: str) -> list[Any] | None:
    """Keras callback objects for the checked callback dicts: only the form's, only their options.

    Built here rather than by galaxy-ml (which builds any ``keras.callbacks`` class a file names,
    with any arguments, e.g. a CSVLogger writing wherever its ``filename`` points). The files a
    callback writes are fixed names in the working directory (CSV_LOG, CHECKPOINT).
    """
    from gxkeras.keras.environment import import_keras

    keras = import_keras()
    built = []
    for item in check_callbacks(callbacks, where) or []:
        options = {key: value for key, value in item["callback_selection"].items() if value is not None}
        callback_type = options.pop("callback_type")
        if callback_type == "CSVLogger":  # as galaxy-ml does for the Galaxy-ML tools' CSVLogger
            options = {"filename": CSV_LOG, "separator": "\t", "append": True}
        elif callback_type == "ModelCheckpoint":
            options.setdefault("save_weights_only", True)  # the form's default (Keras' is False)
            options["filepath"] = CHECKPOINT[options["save_weights_only"]]
            if os.path.exists(options["filepath"]):  # never read back a file this job did not write
                os.remove(options["filepath"])
        elif callback_type == "LearningRateScheduler":
            options = {"schedule": Decay(options.pop("schedule", SCHEDULES[0]), **options)}
        klass = getattr(keras.callbacks, callback_type)
        built.append(klass(**options))
    return built or None


@contextlib.contextmanager
def galaxy_ml_callbacks_off() -> Iterator[None]:
    """While saving a trained estimator, galaxy-ml's ``_callbacks`` property returns None.

    That property builds any ``keras.callbacks`` class a model names, with its stored options (ours
    need the trainer: a LearningRateScheduler's schedule is a name, not a function), and
    scikit-learn's HTML view, which galaxy-ml writes into every h5mlm, reads every property of a
    fitted estimator. The callbacks the trainer built have done their work by then.
    """
    from galaxy_ml.keras_galaxy_models import BaseKerasModel

    original = BaseKerasModel.__dict__["_callbacks"]
    BaseKerasModel._callbacks = property(lambda self: None)
    try:
        yield
    finally:
        BaseKerasModel._callbacks = original


def restore_checkpoint(model: Any, callbacks: list[Any] | None, history: Any, where: str) -> str | None:
    """Give ``model`` the weights a ModelCheckpoint callback saved; a line saying which epoch's, or None.

    With save_best_only the checkpoint holds the best epoch's weights (Keras skips saving while the
    monitored quantity is missing: that is refused, naming the quantities there are).
    """
    from gxkeras.keras.environment import import_keras

    keras = import_keras()
    for callback in callbacks or []:
        if not isinstance(callback, keras.callbacks.ModelCheckpoint):
            continue
        logs = history.history
        if callback.save_best_only and callback.monitor not in logs:
            raise ToolInputError(f"{where}: ModelCheckpoint monitors {callback.monitor}, which training does not "
                                 f"report; choose one of {', '.join(logs)}")
        if not os.path.exists(callback.filepath):
            return None
        model.load_weights(callback.filepath)
        epochs = len(logs.get("loss", []))
        if not callback.save_best_only:
            return f"ModelCheckpoint: the model has the weights of the last epoch ({epochs})"
        values = logs[callback.monitor]
        best = min(range(len(values)), key=lambda index: abs(values[index] - callback.best)) + 1
        return (f"ModelCheckpoint: the model has the weights of epoch {best} of {epochs} "
                f"({callback.monitor} {float(callback.best):.6g})")
    return None


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
