"""ROC and precision-recall curves of ml_visualization_ex: which classes get a curve, and the curves drawn.

The truth is one column of labels (one curve for the positive class, or one per class, one-vs-rest, for more
than two) or a one-hot or multi-label table (one curve per column); the scores are a table of one column per
class (Model Prediction's predict_proba output, headed by the class labels) or one column for two classes.
The labels of the form's inputs are passed in by the tool (:class:`CurveInputs`), so that every message
names the input as the form shows it.
"""
from dataclasses import dataclass
from typing import Any

import numpy as np

from gxkeras.data.numeric_tables import is_number_text
from gxkeras.galaxy.errors import ToolInputError
from gxkeras.galaxy.outputs import number_text
from gxkeras.galaxy.values import parse_int
from gxkeras.report.figures import Panel, Trace
from gxkeras.report.metrics import RATIO_DECIMALS, as_labels

Curve = tuple[str, np.ndarray, np.ndarray]  # (name, 0/1 truth, scores)


@dataclass(frozen=True)
class CurveInputs:
    """The form's labels of the curves' inputs."""
    truth: str
    scores: str
    pos_label: str
    minimum_positives: str


def same_label(value: object, text: str) -> bool:
    """A label (a number or a header name) equals the text of pos_label: 1 matches "1" and "1.0"."""
    if str(value) == text:
        return True
    return is_number_text(str(value)) and is_number_text(text) and float(str(value)) == float(text)


def score_column(names: list[Any] | None, label_text: str, position: int) -> int:
    """The scores column of one class: the column headed by its label if there is one (Model
    Prediction's predict_proba output is headed by the class labels), else column ``position``."""
    for index, name in enumerate(names or []):
        if same_label(name, label_text):
            return index
    return position


def curves_of(truth: np.ndarray, truth_names: list[Any] | None, scores: np.ndarray, score_names: list[Any] | None,
              pos_label: str, inputs: CurveInputs) -> list[Curve]:
    """``[(name, 0/1 truth, scores), ...]``: one curve per positive class or label."""
    if truth.shape[1] > 1:  # one-hot or multi-label: column i of the truth against column i of the scores
        if scores.shape[1] != truth.shape[1]:
            raise ToolInputError(f"{inputs.scores}: {scores.shape[1]} columns, but the true labels have "
                                 f"{truth.shape[1]} (one per class or label): expected one score column for each")
        positive = pos_label or "1"
        names = truth_names or [str(index) for index in range(truth.shape[1])]
        return [(names[i], np.array([same_label(v, positive) for v in truth[:, i]], dtype=int), scores[:, i])
                for i in range(truth.shape[1])]
    labels = as_labels(truth, inputs.truth)
    classes = np.unique(labels)
    if len(classes) < 2:
        raise ToolInputError(f"{inputs.truth}: only one class ({classes[0]}); the curves need two")
    if not pos_label and len(classes) > 2:  # one-vs-rest
        if scores.shape[1] != len(classes):
            raise ToolInputError(f"{inputs.scores}: {scores.shape[1]} columns for {len(classes)} classes: "
                                 f"expected one score column per class (predict_proba), or give {inputs.pos_label}")
        return [(str(c), (labels == c).astype(int), scores[:, score_column(score_names, str(c), i)])
                for i, c in enumerate(classes)]
    if not pos_label:
        if not set(classes.tolist()) <= {0, 1} and not set(classes.tolist()) <= {-1, 1}:
            raise ToolInputError(f"{inputs.pos_label}: the true labels are {classes[0]} and {classes[1]}, not 0/1 or "
                                 "-1/1: give the label of the positive class")
        pos_label = "1"
    matches = [c for c in classes if same_label(c, pos_label)]
    if not matches:
        raise ToolInputError(f"{inputs.pos_label}: {pos_label} is not among the true labels "
                             f"({', '.join(map(str, classes))})")
    column = score_column(score_names, pos_label, 0)  # else the first column, as the Galaxy-ML tool read it
    print(f"Positive class {pos_label}: scores from column {column + 1} of {scores.shape[1]}")
    return [(pos_label, (labels == matches[0]).astype(int), scores[:, column])]


def keep_curves(curves: list[Curve], minimum_text: object, inputs: CurveInputs) -> list[Curve]:
    """Curves with at least ``minimum_text`` positives (report_minimum_n_positives), and with both classes."""
    minimum = None if minimum_text in (None, "") else parse_int(minimum_text, inputs.minimum_positives, 0, 2 ** 63 - 1)
    kept = []
    for name, truth, score in curves:
        positives = int(truth.sum())
        if minimum is not None and positives < minimum:
            print(f"{name}: {positives} positives, fewer than {minimum}: left out")
        elif positives in (0, len(truth)):
            print(f"{name}: {'no' if positives == 0 else 'only'} positive samples: no curve")
        else:
            kept.append((name, truth, score))
    if not kept:
        raise ToolInputError(f"{inputs.truth}: no class or label with both positive and negative samples "
                             f"(and at least {minimum or 1} positives) is left to plot")
    return kept


def curve_panel(kind: str, curves: list[Curve], drop_intermediate: bool) -> tuple[Panel, list[tuple[str, int, float]]]:
    """The panel of the ROC (``kind`` roc_curve) or precision-recall curves, and ``(name, positives, area)`` of each
    (the area under the ROC curve, or the average precision)."""
    from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

    traces, rows = [], []
    for name, positive, score in curves:
        if kind == "roc_curve":
            fpr, tpr, _ = roc_curve(positive, score, drop_intermediate=drop_intermediate)
            area = float(auc(fpr, tpr))
            traces.append(Trace(fpr, tpr, f"{name} (AUC = {area:.3f})"))
        else:
            precision, recall, _ = precision_recall_curve(positive, score)
            area = float(average_precision_score(positive, score))
            traces.append(Trace(recall, precision, f"{name} (AP = {area:.3f})", style="step"))
        rows.append((name, int(positive.sum()), area))
    if kind == "roc_curve":
        traces.append(Trace([0, 1], [0, 1], "chance", style="dashed"))
        return Panel(traces, "False positive rate", "True positive rate", limits=(-0.01, 1.01)), rows
    if len(curves) == 1:
        prevalence = float(curves[0][1].mean())
        traces.append(Trace([0, 1], [prevalence, prevalence], "chance", style="dashed"))
    return Panel(traces, "Recall", "Precision", limits=(-0.01, 1.01)), rows


def curve_metrics(metric: str, rows: list[tuple[str, int, float]]) -> str:
    """The metrics table of the curves: one line per class or label, then their macro average when several."""
    lines = [f"class\tpositives\t{metric}"] + [f"{name}\t{count}\t{number_text(area, RATIO_DECIMALS)}"
                                              for name, count, area in rows]
    if len(rows) > 1:
        average = float(np.mean([row[2] for row in rows]))
        lines.append(f"macro_average\t{sum(row[1] for row in rows)}\t{number_text(average, RATIO_DECIMALS)}")
    return "\n".join(lines) + "\n"
