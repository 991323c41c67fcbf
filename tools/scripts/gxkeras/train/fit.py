"""The fit itself: y encoded as the Keras model sees it, the callbacks built from the checked list, Keras'
workarounds around ``fit``, and a ModelCheckpoint's weights restored into the trained model."""
from typing import Any

import numpy as np

from gxkeras.galaxy.errors import ToolInputError, first_line
from gxkeras.galaxy.memory import check_allocation
from gxkeras.keras.allowlist import safe_mode
from gxkeras.keras.callbacks import build_callbacks, restore_checkpoint
from gxkeras.keras.environment import import_keras
from gxkeras.keras.estimators import is_classifier
from gxkeras.report.metrics import one_hot
from gxkeras.train.class_weights import WeightChoice, class_weight_indices
from gxkeras.train.epoch_shuffle import reshuffle_every_epoch
from gxkeras.train.form import MODEL_LABEL, Y_LABEL
from gxkeras.train.sparse_updates import correct_sparse_updates
from gxkeras.train.tables import format_value

ONE_HOT_ADVICE = "a model with this many classes needs sparse_categorical_crossentropy (class indices)"


def encode_y(estimator: Any, y: Any, n_onehot: int | None = None) -> Any:
    """y as the Keras model sees it: class indices, or one-hot rows (float32) where the loss needs them, their
    size checked against the job's memory first."""
    if not is_classifier(estimator):
        return y
    classes = estimator.classes_
    index = np.searchsorted(classes, y)
    onehot = estimator.loss == "categorical_crossentropy" or (
        n_onehot is not None and estimator.loss != "sparse_categorical_crossentropy")
    if not onehot:
        return index
    return one_hot(index, len(classes), "float32", Y_LABEL, ONE_HOT_ADVICE)


def classifier_targets(estimator: Any, y_train: Any, y_val: Any, n_onehot: int | None) -> tuple[Any, Any]:
    """The classifier's classes set from the training labels, and ``(training targets, validation targets)``."""
    target = y_train
    if n_onehot is not None:
        estimator.classes_ = np.arange(n_onehot)
        target = encode_y(estimator, y_train, n_onehot)
        missing = np.setdiff1d(estimator.classes_, y_train)
        if target.ndim == 1 and missing.size:  # galaxy-ml takes the classes of 1-D labels from the data
            raise ToolInputError(f"{Y_LABEL}: class {missing[0]} is not in the training set, which a "
                                 "sparse_categorical_crossentropy model needs; use stratified splitting")
    else:
        unseen = np.setdiff1d(np.unique(y_val), np.unique(y_train))
        if unseen.size:
            raise ToolInputError(f"{Y_LABEL}: class {unseen[0]:g} is only in the validation set; use "
                                 "stratified splitting or more samples")
        # galaxy-ml encodes y itself but not validation_data: encode it the same way
        estimator.classes_ = np.unique(y_train)
    validation = encode_y(estimator, y_val, n_onehot)
    if target.ndim == 1 and estimator.loss == "categorical_crossentropy":
        # galaxy-ml one-hot encodes 1-D labels itself (Keras' to_categorical: float64), then Keras a float32 copy
        check_allocation(len(target) * len(estimator.classes_) * 12, Y_LABEL,
                         f"the one-hot targets of {len(target):,} training samples x {len(estimator.classes_):,} "
                         "classes", ONE_HOT_ADVICE)
    return target, validation


def train(estimator: Any, X_train: Any, y_train: Any, X_val: Any, y_val: Any, n_onehot: int | None = None,
          class_weight: WeightChoice = None) -> Any:
    """Fit with the validation set as validation_data, with correct sparse updates; return Keras' History.

    ``y_train`` None: the batch generator gives the targets (genomic intervals). ``n_onehot``: the number
    of classes of a one-hot y (then ``y_*`` are the class indices 0..n-1). ``class_weight``:
    :func:`gxkeras.train.class_weights.class_weight_choice`'s result. A ModelCheckpoint's weights are
    restored into the model after training.
    """
    keras = import_keras()
    if estimator.seed is not None:
        keras.utils.set_random_seed(estimator.seed)
    target, weights = y_train, None
    validation: tuple[Any, ...] = (X_val, y_val)
    if y_train is None:
        validation = (X_val,)
    elif is_classifier(estimator):
        target, y_val_encoded = classifier_targets(estimator, y_train, y_val, n_onehot)
        validation = (X_val, y_val_encoded)
        weights = class_weight_indices(class_weight, estimator.classes_, y_train)
        if weights:
            print("Class weights (class: weight): " + ", ".join(
                f"{format_value(estimator.classes_[index])}: {weight:.6g}" for index, weight in sorted(weights.items())))
    print(f"Training a {type(estimator).__name__} on {len(X_train)} samples, validating on {len(X_val)}: "
          f"{estimator.epochs} epochs, batch_size {estimator.batch_size}, seed {estimator.seed}", flush=True)
    # The callbacks are built here from the checked list, not by galaxy-ml (which would build any
    # keras.callbacks class named in the file); the saved parameter itself is kept unchanged.
    callbacks, stored = build_callbacks(estimator.callbacks, MODEL_LABEL), estimator.callbacks
    estimator.callbacks = None
    try:
        # safe_mode: galaxy-ml rebuilds the Keras model from its config inside fit;
        # correct_sparse_updates: Keras 3 mis-updates Embeddings otherwise (see gxkeras.train.sparse_updates);
        # reshuffle_every_epoch: seeded Keras 3 on TensorFlow repeats epoch 1's order (gxkeras.train.epoch_shuffle)
        with safe_mode(), correct_sparse_updates(), reshuffle_every_epoch(estimator.seed):
            fit_args = {"class_weight": weights} if weights else {}  # galaxy-ml's regressor takes no class_weight
            history = estimator.fit(X_train, target, validation_data=validation, callbacks=callbacks, **fit_args)
    except (ValueError, TypeError) as error:
        raise ToolInputError(f"Keras could not train the model on this data: {first_line(error)}") from None
    finally:
        estimator.callbacks = stored
    restored = restore_checkpoint(estimator.model_, callbacks, history, MODEL_LABEL)
    if restored:
        print(restored)
    return history
