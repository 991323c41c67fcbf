"""Keras callbacks of a galaxy-ml estimator: the stored callback dicts checked, built by us, and what they
leave behind (a ModelCheckpoint's weights) read back after training.

galaxy-ml would build any ``keras.callbacks`` class a model file names, with any arguments; here only the
callbacks the form offers are built, each with the options its form fields allow.
"""
import contextlib
import math
import os
from collections.abc import Iterator
from typing import Any

from gxkeras.galaxy.errors import ToolInputError
from gxkeras.keras.options import CALLBACK_ARGS, SCHEDULES, check_argument

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
