"""Classification metrics from true and predicted labels: the confusion matrix and what it gives.

Pure numpy (no TensorFlow), so the visualization tool starts fast. Every class is scored
one-vs-rest: for class ``c``, TP counts samples of class ``c`` predicted as ``c``, FP samples of
another class predicted as ``c``, FN samples of ``c`` predicted as another class, TN the rest. For a
0/1 problem the row of class 1 holds the numbers usually quoted for "the positive class", e.g. the
Galaxy Training Network RNN tutorial's TN 10,397, FP 2,103, FN 1,281, TP 11,219 give precision
0.842, recall 0.898, F1 0.869 and accuracy 0.865.
"""
from collections.abc import Iterable
from typing import Any

import numpy as np

from gxkeras.errors import ToolInputError

METRIC_COLUMNS = ["class", "TP", "FP", "TN", "FN", "accuracy", "precision", "recall", "f1", "support"]


def as_labels(values: Any, label: str) -> np.ndarray:
    """One column of labels from a table: integers when all values are whole numbers."""
    values = np.asarray(values)
    if values.ndim == 2:
        if values.shape[1] != 1:
            raise ToolInputError(
                f"{label}: expected one column of labels, got {values.shape[1]} columns; select one column"
            )
        values = values[:, 0]
    if values.dtype.kind == "f" and np.all(np.mod(values, 1) == 0):
        values = values.astype("int64")
    return values


def confusion_matrix(y_true: Any, y_pred: Any, classes: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """``(classes, matrix)``: ``matrix[i, j]`` counts samples of class ``classes[i]`` predicted ``classes[j]``."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{len(y_true)} true labels but {len(y_pred)} predicted labels")
    if classes is None:
        classes = np.unique(np.concatenate([y_true, y_pred]))
    classes = np.asarray(classes)
    true_index = np.searchsorted(classes, y_true)
    pred_index = np.searchsorted(classes, y_pred)
    matrix = np.zeros((len(classes), len(classes)), dtype="int64")
    np.add.at(matrix, (true_index, pred_index), 1)
    return classes, matrix


def _ratio(numerator: float, denominator: float) -> float:
    """A ratio that is 0 (not NaN) when nothing was counted, as scikit-learn's zero_division=0."""
    return float(numerator) / float(denominator) if denominator else 0.0


def binary_scores(tp: int, fp: int, tn: int, fn: int) -> dict[str, float]:
    """accuracy, precision, recall and F1 from the four counts of one class."""
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    return {
        "accuracy": _ratio(tp + tn, tp + fp + tn + fn),
        "precision": precision,
        "recall": recall,
        "f1": _ratio(2 * precision * recall, precision + recall),
    }


def per_class_metrics(classes: Iterable[Any], matrix: Any) -> list[dict[str, Any]]:
    """One row (dict) per class, one-vs-rest, then an ``overall`` row.

    The overall row has the accuracy of all predictions, macro-averaged precision, recall and F1
    and the total sample count; it has no TP/FP/TN/FN of its own (``None``).
    """
    matrix = np.asarray(matrix)
    total = int(matrix.sum())
    rows = []
    for index, name in enumerate(classes):
        tp = int(matrix[index, index])
        fp = int(matrix[:, index].sum()) - tp
        fn = int(matrix[index, :].sum()) - tp
        tn = total - tp - fp - fn
        rows.append({"class": name, "TP": tp, "FP": fp, "TN": tn, "FN": fn,
                     **binary_scores(tp, fp, tn, fn), "support": tp + fn})
    overall = {"class": "overall", "TP": None, "FP": None, "TN": None, "FN": None,
               "accuracy": _ratio(np.trace(matrix), total), "support": total}
    for name in ("precision", "recall", "f1"):
        overall[name] = float(np.mean([row[name] for row in rows])) if rows else 0.0
    rows.append(overall)
    return rows


def format_metrics(rows: Iterable[dict[str, Any]]) -> str:
    """The rows as a tab-separated table with a header; ratios with 4 decimals, NA for no value."""
    lines = ["\t".join(METRIC_COLUMNS)]
    for row in rows:
        cells = []
        for column in METRIC_COLUMNS:
            value = row[column]
            if value is None:
                cells.append("NA")
            elif isinstance(value, float):
                cells.append(f"{value:.4f}")
            else:
                cells.append(str(value))
        lines.append("\t".join(cells))
    return "\n".join(lines) + "\n"
