"""ml_visualization_ex: plots for evaluating models ("Machine Learning Visualization Extension").

The successor of the Galaxy-ML tool of the same id: its form (parameter names, plot types, the one
output ``output``) is that tool's, so saved workflows load unchanged (docs/migration.md). Plot types:
confusion matrix (with the TP/FP/TN/FN, accuracy, precision, recall and F1 table), ROC and
precision-recall curves (two classes, one-vs-rest for more, one curve per column of a one-hot or
multi-label table), learning curves (a Keras training history or scikit-learn's learning_curve
table), RFECV scores, and a diagram of a Keras model configuration. Each is written as plotly HTML,
PNG or SVG (``plot_format``). Only numpy, pandas, scikit-learn, matplotlib (Agg) and plotly are used:
this tool never imports TensorFlow or Keras, so it starts in a second.
"""
import argparse
import ast
import sys
from functools import partial

import numpy as np
import pandas as pd

from gxkeras.report import figures
from gxkeras.galaxy import forms
from gxkeras.report import plot_costs
from gxkeras.galaxy.errors import ToolInputError, output_paths, run_tool
from gxkeras.report.figures import Heatmap, Panel, Trace, clean_title, draw, output_format
from gxkeras.galaxy.inputs import load_inputs
from gxkeras.modelfile import feature_importances, run_contained
from gxkeras.data.lines import bounded_lines
from gxkeras.galaxy.memory import check_allocation
from gxkeras.report.metrics import as_labels, format_metrics, per_class_metrics
from gxkeras.report.model_diagram import draw_diagram
from gxkeras.data.tabular import check_header_names, check_row_lengths, read_tabular, read_tabular_input
from gxkeras.galaxy.values import parse_float, parse_int

TRUE_LABEL = "Select dataset containing the true labels"
PREDICTED_LABEL = "Select dataset containing the predicted labels"
CURVE_TRUE_LABEL = "Select the dataset containing true labels"
CURVE_SCORE_LABEL = "Select the dataset containing predicted probabilities"
LEARNING_LABEL = "Select the dataset containing values for plotting learning curve"
RFECV_LABEL = "Select the dataset containing grid_scores from a fitted RFECV object"
MODEL_LABEL = "Select the dataset containing fitted estimator/pipeline"
FEATURES_LABEL = "Select the dataset containing feature names"
SCORES_HINT = ("the confusion matrix needs predicted class labels (model_prediction's 'predict'); for scores "
               "or probabilities choose the 'ROC curve' or 'Precision-recall curve' plot type")


def is_true(value):
    """A boolean of the inputs JSON: Galaxy writes true/false; the old forms' truevalue was 'booltrue'."""
    return value is True or str(value).strip().lower() in ("true", "booltrue")


def check_same_length(first, second, first_label, second_label):
    if len(first) != len(second):
        raise ToolInputError(
            f"{second_label}: has {len(second)} rows but '{first_label}' has {len(first)}; "
            "both must list the same samples in the same order (check the header options)"
        )


def one_label_column(values, label):
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


# ---- confusion matrix ------------------------------------------------------------------------------

def check_whole_labels(labels, label, header_lines, hint):
    """Class labels read as numbers must be whole numbers (scikit-learn calls fractions "continuous")."""
    fractional = np.flatnonzero(np.mod(labels, 1) != 0) if labels.dtype.kind == "f" else ()
    if len(fractional):
        row = int(fractional[0])
        raise ToolInputError(f"{label}: line {row + 1 + header_lines} is {labels[row]:g}, not a class label: {hint}")


def check_predicted_labels(y_true, y_pred, header_lines):
    """Refuse predictions that are scores, not labels: each distinct score would become a "class"
    (100 probabilities against 0/1 truths made a 102 x 102 matrix of ones and zeros).

    Labels are whole numbers, and a model predicts few classes the truth lacks: a class missing
    from this test set is plausible, more new classes than the truth has are not.
    """
    check_whole_labels(y_pred, PREDICTED_LABEL, header_lines, SCORES_HINT)
    true_classes = np.unique(y_true)
    unknown = np.setdiff1d(np.unique(y_pred), true_classes)
    if len(unknown) > len(true_classes):
        raise ToolInputError(f"{PREDICTED_LABEL}: {len(unknown)} predicted values ({', '.join(map(str, unknown[:5]))}"
                             f"{', ...' if len(unknown) > 5 else ''}) are not among the {len(true_classes)} true "
                             f"classes: these are not labels of the same classes; {SCORES_HINT}")


def colormap(value):
    """The matplotlib name of a color map of the form (its one source): the old form's Summer and
    Autumn are matplotlib's summer and autumn (matplotlib itself refuses capitals)."""
    import matplotlib

    offered = forms.options("ml_visualization_ex", "plot_color")
    cmap = value or "Greens"
    if cmap not in offered:
        raise ToolInputError(f"Color map: unknown '{cmap}', expected one of {', '.join(offered)}")
    names = {name.lower(): name for name in matplotlib.colormaps}
    return cmap if cmap in matplotlib.colormaps else names[cmap.lower()]


def confusion_matrix_plot(params, path, metrics_path):
    values, _names = read_tabular_input(params, "infile_true", "header_true", "column_selector_options_true", "col1",
                                        TRUE_LABEL)
    y_true = one_label_column(values, TRUE_LABEL)
    check_whole_labels(y_true, TRUE_LABEL, int(is_true(params.get("header_true"))), "class labels are whole numbers")
    header_predicted = is_true(params.get("header_predicted"))
    predicted, _names = read_tabular(params.get("infile_predicted"), PREDICTED_LABEL, header=header_predicted)
    y_pred = one_label_column(predicted, PREDICTED_LABEL)
    check_same_length(y_true, y_pred, TRUE_LABEL, PREDICTED_LABEL)
    check_predicted_labels(y_true, y_pred, int(header_predicted))
    cmap = colormap(params.get("plot_color"))
    n_classes = len(np.unique(np.concatenate([y_true, y_pred])))
    check_allocation(plot_costs.heatmap_bytes(n_classes), TRUE_LABEL, f"the {n_classes:,} x {n_classes:,} confusion "
                     f"matrix of its {n_classes:,} classes (and its picture)", "are these class labels?")
    classes, matrix, rows = per_class_metrics(y_true, y_pred)
    title = clean_title(params.get("title"), "Confusion matrix")
    draw(Heatmap(matrix, [str(name) for name in classes], cmap), title, params.get("plot_format") or "png", path)
    with open(metrics_path, "w") as handle:
        handle.write(format_metrics(rows))
    print(f"{len(y_true)} samples, {len(classes)} classes, accuracy {rows[-1]['accuracy']:.4f}")


# ---- ROC and precision-recall curves ---------------------------------------------------------------

def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _data_lines(path, label):
    with open(path, "rb") as handle:
        return sum(1 for line in bounded_lines(handle, label) if line.strip())


def has_header(path, label, data_rows=None):
    """Whether line 1 is a header. The Galaxy-ML tool always took it as one ("headered" tables); a
    line of numbers is data instead when it cannot be column names (fractions, repeated values), or,
    with ``data_rows`` given (the other table's rows), when the file has exactly that many lines."""
    with open(path, "rb") as handle:
        first = next(bounded_lines(handle, label), b"")
    cells = first.decode("utf-8", errors="replace").rstrip("\r\n").split("\t")
    if not all(_is_number(cell) for cell in cells):
        return True
    if data_rows is not None:
        return _data_lines(path, label) != data_rows
    try:
        check_header_names(cells, label)
    except ToolInputError:
        return False
    return True


def read_curve_tables(params):
    """(truth values, truth column names or None, scores, score column names or None)."""
    for key, label in (("infile1", CURVE_TRUE_LABEL), ("infile2", CURVE_SCORE_LABEL)):
        if not params.get(key):
            raise ToolInputError(f"{label}: no dataset given")
        check_row_lengths(params[key], label)
    score_header = has_header(params["infile2"], CURVE_SCORE_LABEL)
    scores, score_names = read_tabular(params["infile2"], CURVE_SCORE_LABEL, header=score_header)
    truth_header = has_header(params["infile1"], CURVE_TRUE_LABEL, data_rows=len(scores))
    truth, truth_names = read_tabular(params["infile1"], CURVE_TRUE_LABEL, header=truth_header)
    check_same_length(truth, scores, CURVE_TRUE_LABEL, CURVE_SCORE_LABEL)
    return truth, truth_names if truth_header else None, scores.astype("float64"), score_names if score_header else None


def _same_label(value, text):
    """A label (a number or a header name) equals the text of pos_label: 1 matches "1" and "1.0"."""
    if str(value) == text:
        return True
    return _is_number(str(value)) and _is_number(text) and float(value) == float(text)


def score_column(names, label_text, position):
    """The scores column of one class: the column headed by its label if there is one (Model
    Prediction's predict_proba output is headed by the class labels), else column ``position``."""
    for index, name in enumerate(names or []):
        if _same_label(name, label_text):
            return index
    return position


def curves_of(truth, truth_names, scores, score_names, pos_label):
    """``[(name, 0/1 truth, scores), ...]``: one curve per positive class or label."""
    if truth.shape[1] > 1:  # one-hot or multi-label: column i of the truth against column i of the scores
        if scores.shape[1] != truth.shape[1]:
            raise ToolInputError(f"{CURVE_SCORE_LABEL}: {scores.shape[1]} columns, but the true labels have "
                                 f"{truth.shape[1]} (one per class or label): expected one score column for each")
        positive = pos_label or "1"
        names = truth_names or [str(index) for index in range(truth.shape[1])]
        return [(names[i], np.array([_same_label(v, positive) for v in truth[:, i]], dtype=int), scores[:, i])
                for i in range(truth.shape[1])]
    labels = as_labels(truth, CURVE_TRUE_LABEL)
    classes = np.unique(labels)
    if len(classes) < 2:
        raise ToolInputError(f"{CURVE_TRUE_LABEL}: only one class ({classes[0]}); the curves need two")
    if not pos_label and len(classes) > 2:  # one-vs-rest
        if scores.shape[1] != len(classes):
            raise ToolInputError(f"{CURVE_SCORE_LABEL}: {scores.shape[1]} columns for {len(classes)} classes: "
                                 "expected one score column per class (predict_proba), or give pos_label")
        return [(str(c), (labels == c).astype(int), scores[:, score_column(score_names, str(c), i)])
                for i, c in enumerate(classes)]
    if not pos_label:
        if not set(classes.tolist()) <= {0, 1} and not set(classes.tolist()) <= {-1, 1}:
            raise ToolInputError(f"pos_label: the true labels are {classes[0]} and {classes[1]}, not 0/1 or -1/1: "
                                 "give the label of the positive class")
        pos_label = "1"
    matches = [c for c in classes if _same_label(c, pos_label)]
    if not matches:
        raise ToolInputError(f"pos_label: {pos_label} is not among the true labels ({', '.join(map(str, classes))})")
    column = score_column(score_names, pos_label, 0)  # else the first column, as the Galaxy-ML tool read it
    print(f"Positive class {pos_label}: scores from column {column + 1} of {scores.shape[1]}")
    return [(pos_label, (labels == matches[0]).astype(int), scores[:, column])]


MINIMUM_POSITIVES_LABEL = "Report minimum number of positives"


def keep_curves(curves, minimum):
    """Curves with at least ``minimum`` positives (report_minimum_n_positives), and with both classes."""
    minimum = None if minimum in (None, "") else parse_int(minimum, MINIMUM_POSITIVES_LABEL, 0, 2 ** 63 - 1)
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
        raise ToolInputError(f"{CURVE_TRUE_LABEL}: no class or label with both positive and negative samples "
                             f"(and at least {minimum or 1} positives) is left to plot")
    return kept


def curve_plot(kind, params, path, metrics_path):
    from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

    truth, truth_names, scores, score_names = read_curve_tables(params)
    pos_label = str(params.get("pos_label") or "").strip()
    curves = keep_curves(curves_of(truth, truth_names, scores, score_names, pos_label),
                         params.get("report_minimum_n_positives"))
    check_allocation(plot_costs.curves_bytes(len(curves), len(curves) * (len(truth) + 2)), CURVE_SCORE_LABEL,
                     f"{len(curves):,} curves of up to {len(truth) + 2:,} points (one per class or label)")
    traces, rows = [], []
    metric = "roc_auc" if kind == "roc_curve" else "average_precision"
    for name, positive, score in curves:
        if kind == "roc_curve":
            fpr, tpr, _ = roc_curve(positive, score, drop_intermediate=is_true(params.get("drop_intermediate", True)))
            area = auc(fpr, tpr)
            traces.append(Trace(fpr, tpr, f"{name} (AUC = {area:.3f})"))
        else:
            precision, recall, _ = precision_recall_curve(positive, score)
            area = average_precision_score(positive, score)
            traces.append(Trace(recall, precision, f"{name} (AP = {area:.3f})", style="step"))
        rows.append((name, int(positive.sum()), area))
    if kind == "roc_curve":
        traces.append(Trace([0, 1], [0, 1], "chance", style="dashed"))
        panel = Panel(traces, "False positive rate", "True positive rate", limits=(-0.01, 1.01))
        default = "ROC curve"
    else:
        if len(curves) == 1:
            prevalence = float(curves[0][1].mean())
            traces.append(Trace([0, 1], [prevalence, prevalence], "chance", style="dashed"))
        panel = Panel(traces, "Recall", "Precision", limits=(-0.01, 1.01))
        default = "Precision-recall curve"
    draw([panel], clean_title(params.get("title"), default), params.get("plot_format") or "plotly_html", path)
    lines = [f"class\tpositives\t{metric}"] + [f"{name}\t{count}\t{area:.4f}" for name, count, area in rows]
    if len(rows) > 1:
        lines.append(f"macro_average\t{sum(row[1] for row in rows)}\t{np.mean([row[2] for row in rows]):.4f}")
    with open(metrics_path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    print(f"{metric}: " + ", ".join(f"{name} {area:.4f}" for name, _, area in rows) + f" over {len(truth)} samples")


# ---- learning curves -------------------------------------------------------------------------------

SKLEARN_COLUMNS = ("train_sizes_abs", "mean_train_scores", "mean_test_scores")


def read_numeric_table(path, label):
    """A table with a header line whose every column holds numbers (a history, a learning_curve output)."""
    check_row_lengths(path, label)  # a readable UTF-8 table before pandas sees it
    try:
        frame = pd.read_csv(path, sep="\t")
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as error:
        raise ToolInputError(f"{label}: not a tab-separated table with a header ({error})") from None
    if frame.empty:
        raise ToolInputError(f"{label}: no rows: expected a header line, then one row per epoch or training size")
    frame.columns = [str(name).strip() for name in frame.columns]
    for name in frame.columns:
        numbers = pd.to_numeric(frame[name], errors="coerce")
        if numbers.isna().any():
            row = int(numbers.isna().to_numpy().argmax())
            raise ToolInputError(f"{label}: line {row + 2}, column {name} is '{frame[name].iloc[row]}', expected a number")
        frame[name] = numbers
    return frame


def sklearn_learning_curve(frame, plot_std_err):
    """scikit-learn's learning_curve table: mean train and test scores per training-set size."""
    errors = {kind: frame.get(f"std_{kind}_scores") if plot_std_err else None for kind in ("train", "test")}
    traces = [Trace(frame["train_sizes_abs"], frame[f"mean_{kind}_scores"], f"{kind.capitalize()} scores",
                    style="points", error=errors[kind]) for kind in ("train", "test")]
    return [Panel(traces, "No. of samples", "Performance score")]


def history_learning_curves(frame):
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
        raise ToolInputError(f"{LEARNING_LABEL}: no metric columns: expected a header such as epoch, loss, val_loss")
    if len(metrics) > figures.MAX_PANELS:
        raise ToolInputError(f"{LEARNING_LABEL}: {len(metrics):,} metrics, one panel each: at most "
                             f"{figures.MAX_PANELS} panels fit in one plot; is it a training history (epoch, loss, "
                             "val_loss, ...)?")
    panels = []
    for name in metrics:
        traces = [Trace(epochs, frame[column], "validation" if column.startswith("val_") else "training",
                        style="dashed_points" if column.startswith("val_") else "points")
                  for column in (name, f"val_{name}") if column in frame.columns]
        panels.append(Panel(traces, "Epoch", name, integer_x=True))
    print(f"Plotted {', '.join(metrics)} over {len(frame)} epochs")
    return panels


def learning_curve_plot(params, path, _metrics_path=None):
    frame = read_numeric_table(params.get("infile1"), LEARNING_LABEL)
    if all(column in frame.columns for column in SKLEARN_COLUMNS):
        panels = sklearn_learning_curve(frame, is_true(params.get("plot_std_err")))
    else:
        panels = history_learning_curves(frame)
    draw(panels, clean_title(params.get("title"), "Learning curves"), params.get("plot_format") or "html", path)


# ---- RFECV scores ----------------------------------------------------------------------------------

# One step ID per score of an RFECV table; the text is what a person types (the old form's example is 26
# characters), and parsing deeper or longer text costs Python's parser memory and recursion.
MAX_STEPS = 100_000
MAX_STEPS_CHARS = 10_000


def parse_steps(text):
    """The Step IDs: a list of numbers written as literals, ``range(...)``, ``list(range(...))`` and
    ``+`` of these (the old form's example: ``list(range(10)) + [15, 20]``), at most :data:`MAX_STEPS`.
    Parsed, never evaluated."""
    text = str(text or "").strip()
    if not text:
        return None
    if len(text) > MAX_STEPS_CHARS:
        raise ToolInputError(f"Step IDs: longer than {MAX_STEPS_CHARS:,} characters; write e.g. [1, 2, 5] or "
                             "list(range(10)) + [15, 20]")
    try:
        values = _steps_node(ast.parse(text, mode="eval").body)
    except (SyntaxError, ValueError, MemoryError, RecursionError):  # "-" * 5000 + "1": the parser's stack
        values = None
    if values is None:
        raise ToolInputError(f"Step IDs: '{text[:80]}' is not a list of at most {MAX_STEPS:,} numbers; write e.g. "
                             "[1, 2, 5] or list(range(10)) + [15, 20]")
    return values


def _steps_node(node):
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _steps_node(node.left), _steps_node(node.right)
        return None if left is None or right is None or len(left) + len(right) > MAX_STEPS else left + right
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        if node.func.id == "list" and len(node.args) == 1:
            return _steps_node(node.args[0])
        if node.func.id == "range" and 1 <= len(node.args) <= 3:
            bounds = [_number(arg) for arg in node.args]
            if all(isinstance(bound, int) for bound in bounds) and (len(bounds) < 3 or bounds[2] != 0):
                steps = range(*bounds)
                return list(steps) if len(steps) <= MAX_STEPS else None  # the length first, then the list
        return None
    if isinstance(node, (ast.List, ast.Tuple)):
        values = [_number(item) for item in node.elts]
        return None if any(value is None for value in values) else values
    return None


def _number(node):
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def rfecv_plot(params, path, _metrics_path=None):
    frame = read_numeric_table(params.get("infile1"), RFECV_LABEL)
    scores = frame.iloc[:, 0].to_numpy()
    steps = parse_steps(params.get("steps"))
    if steps is not None and len(steps) != len(scores):
        raise ToolInputError(f"Step IDs: {len(steps)} given for {len(scores)} scores: expected one per score")
    x = steps if steps is not None else list(range(1, len(scores) + 1))
    panel = Panel([Trace(x, scores, "", style="points", hover=steps)], "Number of features selected",
                  "Cross validation score", integer_x=True)
    draw([panel], clean_title(params.get("title"), ""), params.get("plot_format") or "html", path)
    print(f"{len(scores)} scores, best {scores.max():.4f} at {x[int(scores.argmax())]}")


# ---- dispatch ------------------------------------------------------------------------------------

def model_diagram_plot(params, path, _metrics_path=None):
    image_format = output_format(params.get("plot_format") or "png")
    if image_format == "html":
        raise ToolInputError("The output format and library: the model diagram is drawn as png or svg, not html")
    draw_diagram(params.get("infile_model_config"), params.get("title"), image_format, path)


# ---- feature importances of a scikit-learn model ---------------------------------------------------

def feature_importances_plot(params, path, _metrics_path=None):
    """The model is built and its importances read in a contained process (:mod:`gxkeras.modelfile.importances`)."""
    model_path = params.get("infile_estimator")
    if not model_path:
        raise ToolInputError(f"{MODEL_LABEL}: no dataset given")
    selection = params.get("column_selector_options") or {}
    _values, names = read_tabular(params.get("infile1"), FEATURES_LABEL, header=True,
                                  column_option=selection.get("selected_column_selector_option", "all_columns"),
                                  columns=selection.get("col1"))
    job = {"model": model_path, "model_label": MODEL_LABEL, "names": [str(name) for name in names],
           "names_label": FEATURES_LABEL}
    found = run_contained(feature_importances, job, f"{MODEL_LABEL} ({model_path})", readable=[model_path])
    values, names, what = np.asarray(found["values"], dtype=float), np.asarray(found["names"], dtype=object), found["what"]
    if values.ndim != 1 or len(values) != len(names):
        raise ToolInputError(f"{FEATURES_LABEL}: {len(names)} feature names selected, but the "
                             f"{found['estimator']} has {values.size} {what.lower()} values")
    threshold = params.get("threshold")
    if threshold not in (None, ""):
        threshold = parse_float(threshold, "Threshold value", 0, sys.float_info.max)
        keep = np.abs(values) > threshold
        values, names = values[keep], names[keep]
        if not len(values):
            raise ToolInputError(f"Threshold value: no feature's {what.lower()} is above {threshold}")
    check_allocation(plot_costs.bars_bytes(len(values)), FEATURES_LABEL, f"drawing {len(values):,} bars, one per feature",
                     "give a threshold value to draw only the larger ones")
    order = np.argsort(values, kind="stable")[::-1]
    title = clean_title(params.get("title"), "Feature importances")
    panel = Panel([Trace([str(name) for name in names[order]], values[order].tolist(), "", style="bar")],
                  "Feature", what)
    draw([panel], title, params.get("plot_format") or "html", path)
    print(f"{len(values)} features of a {found['estimator']}; largest {names[order[0]]} ({values[order[0]]:.4g})")


PLOTS = {
    "classification_confusion_matrix": confusion_matrix_plot,
    "roc_curve": partial(curve_plot, "roc_curve"),
    "pr_curve": partial(curve_plot, "pr_curve"),
    "learning_curve": learning_curve_plot,
    "rfecv_gridscores": rfecv_plot,
    "keras_plot_model": model_diagram_plot,
    "feature_importances": feature_importances_plot,
}


def run(params, plot_path, metrics_path=None):
    selection = params.get("plotting_selection") or {}
    plot_type = selection.get("plot_type")
    if plot_type not in PLOTS:
        raise ToolInputError(f"Select a plotting type: unknown plot type {plot_type!r}, expected one of "
                             f"{', '.join(PLOTS)}")
    PLOTS[plot_type](selection, plot_path, metrics_path)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", required=True, help="Galaxy's inputs JSON (the form's values, dataset paths)")
    parser.add_argument("--output", required=True, help="where to write the plot (html, png or svg: plot_format)")
    parser.add_argument("--output_metrics", help="where to write the metrics table")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    run(load_inputs(args.inputs), args.output, args.output_metrics)


OUTPUT_FLAGS = ("--output", "--output_metrics")

if __name__ == "__main__":
    run_tool(main, outputs=output_paths(sys.argv[1:], *OUTPUT_FLAGS))
