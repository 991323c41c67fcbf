"""The confusion matrix and per-class metrics table of ml_visualization_ex, computed by scikit-learn.

One implementation of the metrics (scikit-learn's, as gxkeras.train.scoring uses too); this module only
lays them out. Every class is scored one-vs-rest: for class ``c``, TP counts samples of class ``c``
predicted as ``c``, FP samples of another class predicted as ``c``, FN samples of ``c`` predicted as
another class, TN the rest. For a 0/1 problem the row of class 1 holds the numbers usually quoted for
"the positive class", e.g. the Galaxy Training Network RNN tutorial's TN 10,397, FP 2,103, FN 1,281,
TP 11,219 give precision 0.842, recall 0.898, F1 0.869 and accuracy 0.865.
"""
from collections.abc import Iterable
from typing import Any

import numpy as np

from gxkeras.galaxy.errors import ToolInputError
from gxkeras.galaxy.memory import check_allocation
from gxkeras.galaxy.outputs import number_text
from gxkeras.data.tabular import as_whole_numbers

RATIO_DECIMALS = 4  # of the metrics tables: the Galaxy tests read 0.7500
METRIC_COLUMNS = ["class", "TP", "FP", "TN", "FN", "accuracy", "precision", "recall", "f1", "support"]


def as_labels(values: Any, label: str) -> np.ndarray:
    """One column of labels from a table: integers when all values are whole numbers (that float64 holds exactly)."""
    values = np.asarray(values)
    if values.ndim == 2:
        if values.shape[1] != 1:
            raise ToolInputError(
                f"{label}: expected one column of labels, got {values.shape[1]} columns; select one column"
            )
        values = values[:, 0]
    values = as_whole_numbers(values)
    if values.dtype.kind == "f" and values.size and np.all(np.mod(values, 1) == 0):
        raise ToolInputError(f"{label}: the label {np.abs(values).max():g} is a whole number beyond 2^53, which float64 "
                             "cannot tell from its neighbours: expected class labels")
    return values


def one_hot(indices: np.ndarray, n_classes: int, dtype: str, what: str | None = None, advice: str = "") -> np.ndarray:
    """Row i has a 1 in column ``indices[i]`` and 0 elsewhere, written directly: indexing an identity matrix, as
    before, first held n_classes x n_classes values (80 GB for 10^5 classes). With ``what`` (the input that
    sized it) the table is checked against the job's memory first; without, it is smaller than a table the
    caller holds already (a model's probabilities)."""
    if what is not None:
        check_allocation(len(indices) * n_classes * np.dtype(dtype).itemsize, what,
                         f"the one-hot table of {len(indices):,} samples x {n_classes:,} classes", advice)
    table = np.zeros((len(indices), n_classes), dtype=dtype)
    table[np.arange(len(indices)), indices] = 1
    return table


def confusion_matrix(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(classes, matrix)``: ``matrix[i, j]`` counts samples of class ``classes[i]`` predicted ``classes[j]``."""
    from sklearn.metrics import confusion_matrix as sklearn_confusion_matrix

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{len(y_true)} true labels but {len(y_pred)} predicted labels")
    classes = np.unique(np.concatenate([y_true, y_pred]))
    return classes, sklearn_confusion_matrix(y_true, y_pred, labels=classes)


def per_class_metrics(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """``(classes, matrix, rows)``: one row (dict) per class, one-vs-rest, then an ``overall`` row.

    Precision, recall and F1 are scikit-learn's with ``zero_division=0`` (0, not NaN, for a class
    never predicted). The overall row has the accuracy of all predictions, macro-averaged precision,
    recall and F1 and the total sample count; it has no TP/FP/TN/FN of its own (``None``).
    """
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    classes, matrix = confusion_matrix(y_true, y_pred)
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=classes,
                                                                     zero_division=0)
    total = int(matrix.sum())
    rows = []
    for index, name in enumerate(classes):
        tp = int(matrix[index, index])
        fp = int(matrix[:, index].sum()) - tp
        fn = int(matrix[index, :].sum()) - tp
        tn = total - tp - fp - fn
        rows.append({"class": name, "TP": tp, "FP": fp, "TN": tn, "FN": fn,
                     "accuracy": accuracy_score(np.asarray(y_true) == name, np.asarray(y_pred) == name),
                     "precision": float(precision[index]), "recall": float(recall[index]), "f1": float(f1[index]),
                     "support": int(support[index])})
    macro = precision_recall_fscore_support(y_true, y_pred, labels=classes, average="macro", zero_division=0)
    rows.append({"class": "overall", "TP": None, "FP": None, "TN": None, "FN": None,
                 "accuracy": float(accuracy_score(y_true, y_pred)), "precision": float(macro[0]),
                 "recall": float(macro[1]), "f1": float(macro[2]), "support": total})
    return classes, matrix, rows


def format_metrics(rows: Iterable[dict[str, Any]]) -> str:
    """The rows as a tab-separated table with a header; ratios with 4 decimals, NA for no value."""
    lines = ["\t".join(METRIC_COLUMNS)]
    for row in rows:
        cells = []
        for column in METRIC_COLUMNS:
            value = row[column]
            cells.append("NA" if value is None else number_text(value, RATIO_DECIMALS))
        lines.append("\t".join(cells))
    return "\n".join(lines) + "\n"


def one_label_column(values: Any, label: str) -> np.ndarray:
    """Labels from the chosen columns: one column as it is; a one-hot table (what to_categorical
    makes: 0/1, exactly one 1 per row) as the index of its 1; otherwise the last column, as the
    Galaxy-ML tool took it."""
    values = np.asarray(values)
    if values.ndim == 2 and values.shape[1] > 1:
        if np.isin(values, (0, 1)).all() and (values.sum(axis=1) == 1).all():
            print(f"{label}: one-hot table of {values.shape[1]} columns read as class indices 0-{values.shape[1] - 1}")
            return values.argmax(axis=1)
        print(f"{label}: {values.shape[1]} columns, the labels are taken from the last one")
        values = values[:, -1:]
    return as_labels(values, label)


SCORES_HINT = ("the confusion matrix needs predicted class labels (model_prediction's 'predict'); for scores "
               "or probabilities choose the 'ROC curve' or 'Precision-recall curve' plot type")


def check_whole_labels(labels: np.ndarray, label: str, header_lines: int, hint: str) -> None:
    """Class labels read as numbers must be whole numbers (scikit-learn calls fractions "continuous")."""
    fractional = np.flatnonzero(np.mod(labels, 1) != 0) if labels.dtype.kind == "f" else np.array([], dtype=int)
    if len(fractional):
        row = int(fractional[0])
        raise ToolInputError(f"{label}: line {row + 1 + header_lines} is {labels[row]:g}, not a class label: {hint}")


def check_predicted_labels(y_true: np.ndarray, y_pred: np.ndarray, label: str, header_lines: int) -> None:
    """Refuse predictions (the input ``label``) that are scores, not labels: each distinct score would become a
    "class" (100 probabilities against 0/1 truths made a 102 x 102 matrix of ones and zeros).

    Labels are whole numbers, and a model predicts few classes the truth lacks: a class missing
    from this test set is plausible, more new classes than the truth has are not.
    """
    check_whole_labels(y_pred, label, header_lines, SCORES_HINT)
    true_classes = np.unique(y_true)
    unknown = np.setdiff1d(np.unique(y_pred), true_classes)
    if len(unknown) > len(true_classes):
        raise ToolInputError(f"{label}: {len(unknown)} predicted values ({', '.join(map(str, unknown[:5]))}"
                             f"{', ...' if len(unknown) > 5 else ''}) are not among the {len(true_classes)} true "
                             f"classes: these are not labels of the same classes; {SCORES_HINT}")
