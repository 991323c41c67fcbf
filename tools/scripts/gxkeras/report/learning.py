"""Learning curves and RFECV scores of ml_visualization_ex, as panels (:mod:`gxkeras.report.figures`).

A learning curve is a Keras training history (one panel per metric, training and validation) or scikit-learn's
learning_curve table (mean train and test scores per training-set size); RFECV scores are drawn against the
number of features, or against the Step IDs the form gives (parsed, never evaluated).
"""
import ast
from typing import Any

import numpy as np
import pandas as pd

from gxkeras.galaxy.errors import ToolInputError
from gxkeras.galaxy.values import is_number
from gxkeras.report.figures import MAX_PANELS, Panel, Trace

SKLEARN_COLUMNS = ("train_sizes_abs", "mean_train_scores", "mean_test_scores")
# One step ID per score of an RFECV table; the text is what a person types (the old form's example is 26
# characters), and parsing deeper or longer text costs Python's parser memory and recursion.
MAX_STEPS = 100_000
MAX_STEPS_CHARS = 10_000


def learning_curve_panels(frame: pd.DataFrame, plot_std_err: bool, label: str) -> list[Panel]:
    """scikit-learn's learning_curve table when it has its columns, else a Keras training history (``label``:
    the input, named when it has no metric)."""
    if all(column in frame.columns for column in SKLEARN_COLUMNS):
        return sklearn_learning_curve(frame, plot_std_err)
    return history_learning_curves(frame, label)


def sklearn_learning_curve(frame: pd.DataFrame, plot_std_err: bool) -> list[Panel]:
    """scikit-learn's learning_curve table: mean train and test scores per training-set size."""
    errors = {kind: frame.get(f"std_{kind}_scores") if plot_std_err else None for kind in ("train", "test")}
    traces = [Trace(frame["train_sizes_abs"], frame[f"mean_{kind}_scores"], f"{kind.capitalize()} scores",
                    style="points", error=errors[kind]) for kind in ("train", "test")]
    return [Panel(traces, "No. of samples", "Performance score")]


def history_learning_curves(frame: pd.DataFrame, label: str) -> list[Panel]:
    """A Keras training history: one panel per metric (loss first), training and validation."""
    if "epoch" in frame.columns:
        epochs = frame["epoch"].to_numpy()
        epochs = epochs + 1 if epochs.min() == 0 else epochs  # Keras counts epochs from 0
    else:
        epochs = np.arange(1, len(frame) + 1)
    metrics = [name for name in frame.columns if name != "epoch" and not name.startswith("val_")]
    metrics += [name[4:] for name in frame.columns if name.startswith("val_") and name[4:] not in frame.columns]
    metrics.sort(key=lambda name: name != "loss")  # loss first, then the metrics in the file's order
    if not metrics:
        raise ToolInputError(f"{label}: no metric columns: expected a header such as epoch, loss, val_loss")
    if len(metrics) > MAX_PANELS:
        raise ToolInputError(f"{label}: {len(metrics):,} metrics, one panel each: at most "
                             f"{MAX_PANELS} panels fit in one plot; is it a training history (epoch, loss, "
                             "val_loss, ...)?")
    panels = []
    for name in metrics:
        traces = [Trace(epochs, frame[column], "validation" if column.startswith("val_") else "training",
                        style="dashed_points" if column.startswith("val_") else "points")
                  for column in (name, f"val_{name}") if column in frame.columns]
        panels.append(Panel(traces, "Epoch", name, integer_x=True))
    print(f"Plotted {', '.join(metrics)} over {len(frame)} epochs")
    return panels


def parse_steps(text: object, label: str) -> list[Any] | None:
    """The Step IDs (``label``: the form's name of them): a list of numbers written as literals, ``range(...)``,
    ``list(range(...))`` and ``+`` of these (the old form's example: ``list(range(10)) + [15, 20]``), at most
    :data:`MAX_STEPS`. Parsed, never evaluated."""
    text = str(text or "").strip()
    if not text:
        return None
    if len(text) > MAX_STEPS_CHARS:
        raise ToolInputError(f"{label}: longer than {MAX_STEPS_CHARS:,} characters; write e.g. [1, 2, 5] or "
                             "list(range(10)) + [15, 20]")
    try:
        values = _steps_node(ast.parse(text, mode="eval").body)
    except (SyntaxError, ValueError, MemoryError, RecursionError):  # "-" * 5000 + "1": the parser's stack
        values = None
    if values is None:
        raise ToolInputError(f"{label}: '{text[:80]}' is not a list of at most {MAX_STEPS:,} numbers; write e.g. "
                             "[1, 2, 5] or list(range(10)) + [15, 20]")
    return values


def _steps_node(node: ast.expr) -> list[Any] | None:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _steps_node(node.left), _steps_node(node.right)
        return None if left is None or right is None or len(left) + len(right) > MAX_STEPS else left + right
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        if node.func.id == "list" and len(node.args) == 1:
            return _steps_node(node.args[0])
        if node.func.id == "range" and 1 <= len(node.args) <= 3:
            bounds = [_literal_number(arg) for arg in node.args]
            whole = [bound for bound in bounds if isinstance(bound, int)]
            if len(whole) == len(bounds) and (len(whole) < 3 or whole[2] != 0):
                steps = range(*whole)
                return list(steps) if len(steps) <= MAX_STEPS else None  # the length first, then the list
        return None
    if isinstance(node, (ast.List, ast.Tuple)):
        values = [_literal_number(item) for item in node.elts]
        return None if any(value is None for value in values) else values
    return None


def _literal_number(node: ast.expr) -> int | float | None:
    """The number a literal writes (``-3``, ``2.5``), else None (a name, a string, True, a NaN or infinity)."""
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if is_number(value) else None


def rfecv_panel(scores: np.ndarray, steps: list[Any] | None) -> tuple[Panel, list[Any]]:
    """The RFECV scores against the number of features (``steps``, else 1, 2, ...), and those x values."""
    x = steps if steps is not None else list(range(1, len(scores) + 1))
    return Panel([Trace(x, scores, "", style="points", hover=steps)], "Number of features selected",
                 "Cross validation score", integer_x=True), x
