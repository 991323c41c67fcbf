"""Evaluating the trained model on the held-out sets, and writing the trainer's outputs: the metrics table,
the trained model and its weights, the per-epoch history, the true and predicted values."""
import os
import tempfile
from dataclasses import dataclass
from typing import Any

import numpy as np

from gxkeras.galaxy.outputs import move_into_place
from gxkeras.keras.callbacks import galaxy_ml_callbacks_off
from gxkeras.keras.estimators import is_classifier
from gxkeras.modelfile import save_estimator
from gxkeras.train.fit import encode_y
from gxkeras.train.form import section
from gxkeras.train.scoring import Prediction, check_names, compute
from gxkeras.train.tables import format_value, write_table


def metric_names(metrics: dict[str, Any], classifier: bool) -> list[str]:
    """The primary metric ("default": accuracy or r2) then the secondary ones, checked for the task."""
    scoring = section(metrics, "scoring")
    primary = scoring.get("primary_scoring") or "default"
    if primary == "default":
        primary = "accuracy" if classifier else "r2"
    secondary = scoring.get("secondary_scoring") or []
    if isinstance(secondary, str):  # saved as a comma-separated string by older Galaxy releases
        secondary = [item.strip() for item in secondary.split(",") if item.strip()]
    names = list(dict.fromkeys([primary, *secondary]))
    return check_names(names, classifier, "Metrics for evaluation")


def predict(estimator: Any, X: Any, y: Any) -> Prediction:
    """One prediction of an evaluated set, from which every metric is computed."""
    if not is_classifier(estimator):
        return Prediction(y=y, values=np.ravel(estimator.predict(X, verbose=0)))
    proba = estimator.predict_proba(X, verbose=0)
    # the class of the highest probability: galaxy-ml's predict for softmax and one sigmoid unit,
    # and the one label per sample of a one-hot y for other multi-unit outputs
    return Prediction(y=y, labels=estimator.classes_[proba.argmax(axis=1)], proba=proba, classes=estimator.classes_)


def predict_features(estimator: Any, X: Any, targets: Any) -> Prediction:
    """One prediction of a genomic-interval set: one sigmoid output per feature (0/1 targets).

    One feature is a binary classification (the class 1 probability is the output); several are
    multi-label (:mod:`gxkeras.train.scoring` scores indicator rows).
    """
    proba = np.asarray(estimator.model_.predict(X, verbose=0), dtype="float64").reshape(len(X), -1)
    labels = (proba > 0.5).astype("int64")
    if targets.shape[1] == 1:
        return Prediction(y=targets[:, 0].astype("int64"), labels=labels[:, 0],
                          proba=np.column_stack([1 - proba[:, 0], proba[:, 0]]), classes=np.arange(2))
    return Prediction(y=targets.astype("int64"), labels=labels, proba=proba, classes=np.arange(targets.shape[1]))


def evaluated_loss(estimator: Any, X: Any, targets: Any) -> float:
    """The model's loss on one evaluated set, its targets as the Keras model sees them."""
    return float(estimator.model_.evaluate(X, targets, verbose=0, return_dict=True)["loss"])


def label_loss(estimator: Any, X: Any, y: Any, n_onehot: int | None) -> float:
    """The loss on a set of labels or values (encoded as in training)."""
    return evaluated_loss(estimator, X, encode_y(estimator, y, n_onehot))


@dataclass
class Evaluation:
    """The metrics table (one column per evaluated set) and the prediction of each set."""

    header: list[str]
    table: list[list[Any]]
    predictions: dict[str, Prediction]

    def evaluated(self) -> Prediction:
        """The set whose true and predicted values are written: the test set, else the validation set."""
        return self.predictions["test" if "test" in self.predictions else "validation"]

    def report(self, sizes: dict[str, int]) -> None:
        """The table on the job's standard output."""
        print("Evaluation (" + ", ".join(f"{name}: {size} samples" for name, size in sizes.items()) + "):")
        for row in [self.header, *self.table]:
            print("  " + "\t".join(format_value(value) for value in row))


def evaluation_table(names: list[str], predictions: dict[str, Prediction], losses: list[float]) -> Evaluation:
    """Each metric of ``names`` on each evaluated set, then the loss."""
    table = [[name, *(compute(name, prediction) for prediction in predictions.values())] for name in names]
    table.append(["loss", *losses])
    return Evaluation(["metric", *predictions], table, predictions)


def save_weights(estimator: Any, path: str) -> None:
    """Keras 3 save_weights insists on a ``.weights.h5`` name: write one, then move it onto ``path``."""
    with tempfile.TemporaryDirectory(prefix="weights_", dir=os.path.dirname(os.path.abspath(path))) as folder:
        temporary = os.path.join(folder, "model.weights.h5")
        estimator.model_.save_weights(temporary)
        move_into_place(temporary, path)


def write_history(path: str, history: Any) -> None:
    """Keras' per-epoch loss and metrics, one row per epoch."""
    logs = history.history
    keys = list(logs)
    n_epochs = len(logs[keys[0]]) if keys else 0
    write_table(path, ["epoch", *keys], [[epoch + 1, *(logs[key][epoch] for key in keys)] for epoch in range(n_epochs)])


def write_predictions(prediction: Prediction, true_path: str, preds_path: str, features: list[str] | None) -> None:
    """The evaluation set's true values, and the predictions (with each class' probability).

    Several target features (genomic intervals): one column per feature, then each feature's probability.
    """
    if np.ndim(prediction.y) == 2 and features is not None:
        write_table(true_path, features, prediction.y)
        write_table(preds_path, [*features, *(f"probability_{name}" for name in features)],
                    [[*labels, *proba] for labels, proba in zip(prediction.labels, prediction.proba, strict=True)])
        return
    write_table(true_path, ["y_true"], [[value] for value in prediction.y])
    if prediction.proba is not None:
        header = ["y_preds", *(f"probability_{format_value(label)}" for label in prediction.classes)]
        write_table(preds_path, header, [[label, *row] for label, row in
                                         zip(prediction.labels, prediction.proba, strict=True)])
    else:
        write_table(preds_path, ["y_preds"], [[value] for value in prediction.values])


def write_outputs(outputs: dict[str, Any], estimator: Any, history: Any, evaluation: Evaluation,
                  features: list[str] | None) -> None:
    """The outputs the form asked for (``outputs``: paths, None where not asked), the metrics table always."""
    write_table(outputs["outfile_result"], evaluation.header, evaluation.table)
    if outputs.get("outfile_object"):
        with galaxy_ml_callbacks_off():
            save_estimator(estimator, outputs["outfile_object"])
    if outputs.get("outfile_weights"):
        save_weights(estimator, outputs["outfile_weights"])
    if outputs.get("outfile_history"):
        write_history(outputs["outfile_history"], history)
    true_path, preds_path = outputs.get("outfile_y_true"), outputs.get("outfile_y_preds")
    if true_path and preds_path:  # main's argument parser takes both or neither
        write_predictions(evaluation.evaluated(), true_path, preds_path, features)
