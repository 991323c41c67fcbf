"""ml_visualization_ex: plots for evaluating models ("Machine Learning Visualization Extension").

Confusion matrix (with the TP/FP/TN/FN, accuracy, precision, recall and F1 table), learning curves
from a training history, ROC and precision-recall curves. Only numpy, pandas, scikit-learn and
matplotlib (Agg) are used: this tool never imports TensorFlow or Keras, so it starts in a second.
"""
import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from gxkeras.errors import ToolInputError, output_paths, run_tool  # noqa: E402
from gxkeras.galaxy_inputs import load_inputs  # noqa: E402
from gxkeras.metrics import as_labels, confusion_matrix, format_metrics, per_class_metrics  # noqa: E402
from gxkeras.tabular import check_row_lengths, read_tabular_input  # noqa: E402

TRUE_LABEL = "Select dataset containing the true labels"
PREDICTED_LABEL = "Select dataset containing the predicted labels"
PROBABILITY_LABEL = "Select dataset containing the predicted probabilities"
HISTORY_LABEL = "Select dataset containing the training history"
COLORMAPS = ("Blues", "Greens", "Oranges", "Reds", "Purples", "Greys", "YlGnBu", "viridis", "cividis",
             "plasma", "inferno", "magma", "coolwarm")
FIGSIZE = (6.4, 4.8)  # inches; at DPI this makes a 640 x 480 image
DPI = 100


def read_labels(params, suffix, label):
    """The one label column of a ``tabular_input`` block named with ``suffix`` (e.g. ``true``)."""
    values, _names = read_tabular_input(
        params, f"infile_{suffix}", f"header_{suffix}", f"column_selector_options_{suffix}", f"col_{suffix}", label
    )
    return as_labels(values, label)


def check_same_length(first, second, first_label, second_label):
    if len(first) != len(second):
        raise ToolInputError(
            f"{second_label}: has {len(second)} rows but '{first_label}' has {len(first)}; "
            "both must list the same samples in the same order (check the header options)"
        )


def set_literal_title(axes, title, default):
    """The user's title exactly as typed: no mathtext (``$...$``), no TeX, one line per line typed.

    Titles are free text from the form; matplotlib would otherwise parse ``$...$`` as math (and fail
    on unbalanced or odd input). Control characters other than newlines are dropped.
    """
    text = "".join(char for char in str(title or "") if char == "\n" or char.isprintable()).strip()
    text = text or default
    axes.set_title(text, parse_math=False, usetex=False)
    print(f"Title: {text!r}")


def new_figure():
    return plt.figure(figsize=FIGSIZE, dpi=DPI)


def save_figure(figure, path):
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=DPI)
    plt.close(figure)


def plot_confusion_matrix(classes, matrix, title, cmap, path):
    """The matrix as a heat map, each cell annotated with its count."""
    figure = new_figure()
    axes = figure.add_subplot()
    image = axes.imshow(matrix, interpolation="nearest", cmap=cmap)
    figure.colorbar(image, ax=axes)
    names = [str(name) for name in classes]
    axes.set_xticks(range(len(names)), labels=names)
    axes.set_yticks(range(len(names)), labels=names)
    axes.set_xlabel("Predicted label")
    axes.set_ylabel("True label")
    set_literal_title(axes, title, "Confusion matrix")
    threshold = matrix.max() / 2.0 if matrix.size else 0
    for (row, column), count in np.ndenumerate(matrix):
        axes.text(column, row, f"{count:,}", ha="center", va="center",
                  color="white" if count > threshold else "black")
    save_figure(figure, path)


SCORES_HINT = ("the confusion matrix needs predicted class labels (model_prediction's 'predict'); for scores "
               "or probabilities choose the 'ROC curve' or 'Precision-recall curve' plot type")


def check_predicted_labels(y_true, y_pred, header_lines):
    """Refuse predictions that are scores, not labels: each distinct score would become a "class"
    (100 probabilities against 0/1 truths made a 102 x 102 matrix of ones and zeros).

    Labels are whole numbers, and a model predicts few classes the truth lacks: a class missing
    from this test set is plausible, more new classes than the truth has are not.
    """
    if y_pred.dtype.kind == "f":
        row = int(np.flatnonzero(np.mod(y_pred, 1) != 0)[0])
        raise ToolInputError(f"{PREDICTED_LABEL}: line {row + 1 + header_lines} is {y_pred[row]:g}, not a class "
                             f"label: {SCORES_HINT}")
    true_classes = np.unique(y_true)
    unknown = np.setdiff1d(np.unique(y_pred), true_classes)
    if len(unknown) > len(true_classes):
        raise ToolInputError(f"{PREDICTED_LABEL}: {len(unknown)} predicted values ({', '.join(map(str, unknown[:5]))}"
                             f"{', ...' if len(unknown) > 5 else ''}) are not among the {len(true_classes)} true "
                             f"classes: these are not labels of the same classes; {SCORES_HINT}")


def confusion_matrix_plot(params, plot_path, metrics_path):
    y_true = read_labels(params, "true", TRUE_LABEL)
    y_pred = read_labels(params, "predicted", PREDICTED_LABEL)
    check_same_length(y_true, y_pred, TRUE_LABEL, PREDICTED_LABEL)
    check_predicted_labels(y_true, y_pred, int(bool(params.get("header_predicted"))))
    cmap = params.get("plot_color") or "Blues"
    if cmap not in COLORMAPS:
        raise ToolInputError(f"Color map: unknown '{cmap}', expected one of {', '.join(COLORMAPS)}")
    classes, matrix = confusion_matrix(y_true, y_pred)
    rows = per_class_metrics(classes, matrix)
    plot_confusion_matrix(classes, matrix, params.get("title"), cmap, plot_path)
    with open(metrics_path, "w") as handle:
        handle.write(format_metrics(rows))
    overall = rows[-1]
    print(f"{len(y_true)} samples, {len(classes)} classes, accuracy {overall['accuracy']:.4f}")


def read_history(path):
    """A training history table: one row per epoch, a header of metric names."""
    check_row_lengths(path, HISTORY_LABEL)  # a readable UTF-8 table before pandas sees it
    try:
        frame = pd.read_csv(path, sep="\t")
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as error:
        raise ToolInputError(f"{HISTORY_LABEL}: not a tab-separated table with a header ({error})") from None
    if frame.empty:
        raise ToolInputError(f"{HISTORY_LABEL}: no rows: expected one row per epoch under a header such as epoch, loss, val_loss")
    frame.columns = [str(name).strip() for name in frame.columns]
    for name in frame.columns:
        numbers = pd.to_numeric(frame[name], errors="coerce")
        if numbers.isna().any():
            row = int(numbers.isna().to_numpy().argmax())
            raise ToolInputError(
                f"{HISTORY_LABEL}: line {row + 2}, column {name} is '{frame[name].iloc[row]}', expected a number"
            )
        frame[name] = numbers
    return frame


def learning_curves_plot(params, plot_path):
    frame = read_history(params.get("infile_history"))
    if "epoch" in frame.columns:
        epochs = frame["epoch"].to_numpy()
        epochs = epochs + 1 if epochs.min() == 0 else epochs  # Keras counts epochs from 0
    else:
        epochs = np.arange(1, len(frame) + 1)
    metrics = [name for name in frame.columns if name != "epoch" and not name.startswith("val_")]
    metrics += [name[4:] for name in frame.columns if name.startswith("val_") and name[4:] not in frame.columns]
    metrics.sort(key=lambda name: name != "loss")  # loss first, then the metrics in the file's order
    if not metrics:
        raise ToolInputError(f"{HISTORY_LABEL}: no metric columns: expected a header such as epoch, loss, val_loss")
    figure = plt.figure(figsize=(FIGSIZE[0], 2.4 * len(metrics) + 0.6), dpi=DPI)
    for index, name in enumerate(metrics, start=1):
        axes = figure.add_subplot(len(metrics), 1, index)
        for column, style in ((name, "o-"), (f"val_{name}", "s--")):
            if column in frame.columns:
                label = "validation" if column.startswith("val_") else "training"
                axes.plot(epochs, frame[column], style, label=label)
        axes.set_ylabel(name)
        axes.legend()
        axes.grid(alpha=0.3)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        if index == 1:
            set_literal_title(axes, params.get("title"), "Learning curves")
    axes.set_xlabel("Epoch")
    save_figure(figure, plot_path)
    print(f"Plotted {', '.join(metrics)} over {len(frame)} epochs")


def read_scores(params, y_true):
    """Probabilities of the positive class: the one selected column, or the last of predict_proba's."""
    values, _names = read_tabular_input(
        params, "infile_probability", "header_probability", "column_selector_options_probability",
        "col_probability", PROBABILITY_LABEL,
    )
    if values.shape[1] > 2:
        raise ToolInputError(
            f"{PROBABILITY_LABEL}: {values.shape[1]} columns selected; select the one column of the positive class"
        )
    scores = values[:, -1].astype("float64")
    check_same_length(y_true, scores, TRUE_LABEL, PROBABILITY_LABEL)
    return scores


def binary_truth(y_true, pos_label):
    classes = np.unique(y_true)
    if len(classes) > 2:
        raise ToolInputError(f"{TRUE_LABEL}: {len(classes)} classes; ROC and precision-recall curves need two")
    if pos_label not in classes:
        raise ToolInputError(
            f"Label of the positive class: {pos_label} is not among the true labels ({', '.join(map(str, classes))})"
        )
    if len(classes) < 2:
        raise ToolInputError(f"{TRUE_LABEL}: only one class ({classes[0]}); the curves need both classes")
    return (y_true == pos_label).astype(int)


def curve_plot(params, plot_path, metrics_path, kind):
    from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

    y_true = read_labels(params, "true", TRUE_LABEL)
    pos_label = params.get("pos_label")
    pos_label = 1 if pos_label is None else pos_label
    truth = binary_truth(y_true, pos_label)
    scores = read_scores(params, y_true)
    figure = new_figure()
    axes = figure.add_subplot()
    if kind == "roc_curve":
        fpr, tpr, _ = roc_curve(truth, scores)
        area = auc(fpr, tpr)
        axes.plot(fpr, tpr, label=f"ROC curve (AUC = {area:.3f})")
        axes.plot([0, 1], [0, 1], "k--", label="chance")
        axes.set_xlabel("False positive rate")
        axes.set_ylabel("True positive rate")
        name, default_title = "roc_auc", "ROC curve"
    else:
        precision, recall, _ = precision_recall_curve(truth, scores)
        area = average_precision_score(truth, scores)
        axes.step(recall, precision, where="post", label=f"precision-recall (AP = {area:.3f})")
        axes.axhline(truth.mean(), color="k", linestyle="--", label="chance")
        axes.set_xlabel("Recall")
        axes.set_ylabel("Precision")
        name, default_title = "average_precision", "Precision-recall curve"
    axes.set_xlim(-0.01, 1.01)
    axes.set_ylim(-0.01, 1.01)
    axes.legend(loc="lower right" if kind == "roc_curve" else "lower left")
    set_literal_title(axes, params.get("title"), default_title)
    save_figure(figure, plot_path)
    with open(metrics_path, "w") as handle:
        handle.write(f"metric\tvalue\n{name}\t{area:.4f}\n")
    print(f"{name} = {area:.4f} over {len(truth)} samples")


def run(params, plot_path, metrics_path=None):
    selection = params.get("plotting_selection") or {}
    plot_type = selection.get("plot_type")
    if plot_type == "classification_confusion_matrix":
        confusion_matrix_plot(selection, plot_path, metrics_path)
    elif plot_type == "learning_curves":
        learning_curves_plot(selection, plot_path)
    elif plot_type in ("roc_curve", "pr_curve"):
        curve_plot(selection, plot_path, metrics_path, plot_type)
    else:
        raise ToolInputError(f"Select a plotting type: unknown plot type {plot_type!r}")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", required=True, help="Galaxy's inputs JSON (the form's values, dataset paths)")
    parser.add_argument("--output_plot", required=True, help="where to write the PNG image")
    parser.add_argument("--output_metrics", help="where to write the metrics table")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    run(load_inputs(args.inputs), args.output_plot, args.output_metrics)


OUTPUT_FLAGS = ("--output_plot", "--output_metrics")

if __name__ == "__main__":
    import sys

    run_tool(main, outputs=output_paths(sys.argv[1:], *OUTPUT_FLAGS))
