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
import sys
from collections.abc import Sequence
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from gxkeras.data import has_header, read_numeric_table, read_tabular, read_tabular_input, check_row_lengths
from gxkeras.galaxy import (
    ToolInputError, as_bool, atomic_output, check_allocation, choice, dataset_path, forms, load_inputs, output_paths, parse_float,
    run_tool,
)
from gxkeras.modelfile import run_contained
from gxkeras.modelfile import feature_importances
from gxkeras.report import (
    CurveInputs, Heatmap, Panel, Trace, check_predicted_labels, check_whole_labels, clean_title, curve_metrics,
    curve_panel, curves_of, draw, draw_diagram, format_metrics, keep_curves, learning_curve_panels,
    one_label_column, output_format, parse_steps, per_class_metrics, plot_costs, rfecv_panel,
)

TOOL = "ml_visualization_ex"
TRUE_LABEL = forms.label(TOOL, "infile_true")
PREDICTED_LABEL = forms.label(TOOL, "infile_predicted")
CURVES = CurveInputs(truth=forms.label(TOOL, "infile1", "roc_curve"), scores=forms.label(TOOL, "infile2"),
                     pos_label=forms.label(TOOL, "pos_label"),
                     minimum_positives=forms.label(TOOL, "report_minimum_n_positives"))
LEARNING_LABEL = forms.label(TOOL, "infile1", "learning_curve")
RFECV_LABEL = forms.label(TOOL, "infile1", "rfecv_gridscores")
STEPS_LABEL = forms.label(TOOL, "steps")
MODEL_LABEL = forms.label(TOOL, "infile_estimator")
FEATURES_LABEL = forms.label(TOOL, "infile1", "feature_importances")
THRESHOLD_LABEL = forms.label(TOOL, "threshold")
COLOR_LABEL = forms.label(TOOL, "plot_color")
FORMAT_LABEL = forms.label(TOOL, "plot_format")
PLOT_TYPE_LABEL = forms.label(TOOL, "plot_type")
Params = dict[str, Any]


def check_same_length(first: Any, second: Any, first_label: str, second_label: str) -> None:
    if len(first) != len(second):
        raise ToolInputError(
            f"{second_label}: has {len(second)} rows but '{first_label}' has {len(first)}; "
            "both must list the same samples in the same order (check the header options)"
        )


def colormap(value: object) -> str:
    """The matplotlib name of a color map of the form (its one source): the old form's Summer and
    Autumn are matplotlib's summer and autumn (matplotlib itself refuses capitals)."""
    import matplotlib

    cmap = choice(value or "Greens", forms.options(TOOL, "plot_color"), COLOR_LABEL)
    names = {name.lower(): name for name in matplotlib.colormaps}
    return cmap if cmap in matplotlib.colormaps else names[cmap.lower()]


def confusion_matrix_plot(params: Params, path: str, metrics_path: str) -> None:
    values, _names = read_tabular_input(params, "infile_true", "header_true", "column_selector_options_true", "col1",
                                        TRUE_LABEL)
    y_true = one_label_column(values, TRUE_LABEL)
    check_whole_labels(y_true, TRUE_LABEL, int(as_bool(params.get("header_true")) is True),
                       "class labels are whole numbers")
    header_predicted = as_bool(params.get("header_predicted")) is True
    predicted, _names = read_tabular(dataset_path(params, "infile_predicted"), PREDICTED_LABEL, header=header_predicted)
    y_pred = one_label_column(predicted, PREDICTED_LABEL)
    check_same_length(y_true, y_pred, TRUE_LABEL, PREDICTED_LABEL)
    check_predicted_labels(y_true, y_pred, PREDICTED_LABEL, int(header_predicted))
    cmap = colormap(params.get("plot_color"))
    n_classes = len(np.unique(np.concatenate([y_true, y_pred])))
    check_allocation(plot_costs.heatmap_bytes(n_classes), TRUE_LABEL, f"the {n_classes:,} x {n_classes:,} confusion "
                     f"matrix of its {n_classes:,} classes (and its picture)", "are these class labels?")
    classes, matrix, rows = per_class_metrics(y_true, y_pred)
    title = clean_title(params.get("title"), "Confusion matrix")
    draw(Heatmap(matrix, [str(name) for name in classes], cmap), title, params.get("plot_format") or "png", path)
    with atomic_output(metrics_path) as handle:
        handle.write(format_metrics(rows))
    print(f"{len(y_true)} samples, {len(classes)} classes, accuracy {rows[-1]['accuracy']:.4f}")


def read_curve_tables(params: Params) -> tuple[np.ndarray, list[Any] | None, np.ndarray, list[Any] | None]:
    """(truth values, truth column names or None, scores, score column names or None)."""
    for key, label in (("infile1", CURVES.truth), ("infile2", CURVES.scores)):
        if not params.get(key):
            raise ToolInputError(f"{label}: no dataset given")
        check_row_lengths(params[key], label)
    score_header = has_header(params["infile2"], CURVES.scores)
    scores, score_names = read_tabular(params["infile2"], CURVES.scores, header=score_header)
    truth_header = has_header(params["infile1"], CURVES.truth, data_rows=len(scores))
    truth, truth_names = read_tabular(params["infile1"], CURVES.truth, header=truth_header)
    check_same_length(truth, scores, CURVES.truth, CURVES.scores)
    return truth, truth_names if truth_header else None, scores.astype("float64"), score_names if score_header else None


def curve_plot(kind: str, params: Params, path: str, metrics_path: str) -> None:
    truth, truth_names, scores, score_names = read_curve_tables(params)
    pos_label = str(params.get("pos_label") or "").strip()
    curves = keep_curves(curves_of(truth, truth_names, scores, score_names, pos_label, CURVES),
                         params.get("report_minimum_n_positives"), CURVES)
    check_allocation(plot_costs.curves_bytes(len(curves), len(curves) * (len(truth) + 2)), CURVES.scores,
                     f"{len(curves):,} curves of up to {len(truth) + 2:,} points (one per class or label)")
    panel, rows = curve_panel(kind, curves, as_bool(params.get("drop_intermediate", True)) is True)
    default = "ROC curve" if kind == "roc_curve" else "Precision-recall curve"
    draw([panel], clean_title(params.get("title"), default), params.get("plot_format") or "plotly_html", path)
    metric = "roc_auc" if kind == "roc_curve" else "average_precision"
    with atomic_output(metrics_path) as handle:
        handle.write(curve_metrics(metric, rows))
    print(f"{metric}: " + ", ".join(f"{name} {area:.4f}" for name, _, area in rows) + f" over {len(truth)} samples")


def learning_curve_plot(params: Params, path: str, _metrics_path: str | None = None) -> None:
    frame = read_numeric_table(dataset_path(params, "infile1"), LEARNING_LABEL)
    panels = learning_curve_panels(frame, as_bool(params.get("plot_std_err")) is True, LEARNING_LABEL)
    draw(panels, clean_title(params.get("title"), "Learning curves"), params.get("plot_format") or "html", path)


def rfecv_plot(params: Params, path: str, _metrics_path: str | None = None) -> None:
    frame = read_numeric_table(dataset_path(params, "infile1"), RFECV_LABEL)
    scores = frame.iloc[:, 0].to_numpy()
    steps = parse_steps(params.get("steps"), STEPS_LABEL)
    if steps is not None and len(steps) != len(scores):
        raise ToolInputError(f"{STEPS_LABEL}: {len(steps)} given for {len(scores)} scores: expected one per score")
    panel, x = rfecv_panel(scores, steps)
    draw([panel], clean_title(params.get("title"), ""), params.get("plot_format") or "html", path)
    print(f"{len(scores)} scores, best {scores.max():.4f} at {x[int(scores.argmax())]}")


def model_diagram_plot(params: Params, path: str, _metrics_path: str | None = None) -> None:
    image_format = output_format(params.get("plot_format") or "png")
    if image_format == "html":
        raise ToolInputError(f"{FORMAT_LABEL}: the model diagram is drawn as png or svg, not html")
    draw_diagram(dataset_path(params, "infile_model_config"), params.get("title"), image_format, path)


def feature_importances_plot(params: Params, path: str, _metrics_path: str | None = None) -> None:
    """The model is built and its importances read in a contained process (:mod:`gxkeras.modelfile.importances`)."""
    model_path = params.get("infile_estimator")
    if not model_path:
        raise ToolInputError(f"{MODEL_LABEL}: no dataset given")
    selection = params.get("column_selector_options") or {}
    _values, names = read_tabular(dataset_path(params, "infile1"), FEATURES_LABEL, header=True,
                                  column_option=selection.get("selected_column_selector_option", "all_columns"),
                                  columns=selection.get("col1"))
    job = {"model": model_path, "model_label": MODEL_LABEL, "names": [str(name) for name in names],
           "names_label": FEATURES_LABEL}
    found = run_contained(feature_importances, job, f"{MODEL_LABEL} ({model_path})", readable=[model_path])
    values, names, what = np.asarray(found["values"], dtype=float), np.asarray(found["names"], dtype=object), found["what"]
    if values.ndim != 1 or len(values) != len(names):
        raise ToolInputError(f"{FEATURES_LABEL}: {len(names)} feature names selected, but the "
                             f"{found['estimator']} has {values.size} {what.lower()} values")
    if params.get("threshold") not in (None, ""):
        threshold = parse_float(params["threshold"], THRESHOLD_LABEL, 0, sys.float_info.max)
        keep = np.abs(values) > threshold
        values, names = values[keep], names[keep]
        if not len(values):
            raise ToolInputError(f"{THRESHOLD_LABEL}: no feature's {what.lower()} is above {threshold}")
    check_allocation(plot_costs.bars_bytes(len(values)), FEATURES_LABEL, f"drawing {len(values):,} bars, one per feature",
                     "give a threshold value to draw only the larger ones")
    order = np.argsort(values, kind="stable")[::-1]
    title = clean_title(params.get("title"), "Feature importances")
    panel = Panel([Trace([str(name) for name in names[order]], values[order].tolist(), "", style="bar")],
                  "Feature", what)
    draw([panel], title, params.get("plot_format") or "html", path)
    print(f"{len(values)} features of a {found['estimator']}; largest {names[order[0]]} ({values[order[0]]:.4g})")


PLOTS: dict[str, Callable[[Params, str, Any], None]] = {
    "classification_confusion_matrix": confusion_matrix_plot,
    "roc_curve": partial(curve_plot, "roc_curve"),
    "pr_curve": partial(curve_plot, "pr_curve"),
    "learning_curve": learning_curve_plot,
    "rfecv_gridscores": rfecv_plot,
    "keras_plot_model": model_diagram_plot,
    "feature_importances": feature_importances_plot,
}


def run(params: Params, plot_path: str, metrics_path: str | None = None) -> None:
    selection = params.get("plotting_selection") or {}
    PLOTS[choice(selection.get("plot_type"), tuple(PLOTS), PLOT_TYPE_LABEL)](selection, plot_path, metrics_path)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--inputs", required=True, help="Galaxy's inputs JSON (the form's values, dataset paths)")
    parser.add_argument("--output", required=True, help="where to write the plot (html, png or svg: plot_format)")
    parser.add_argument("--output_metrics", help="where to write the metrics table")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    run(load_inputs(args.inputs), args.output, args.output_metrics)


OUTPUT_FLAGS = ("--output", "--output_metrics")

if __name__ == "__main__":
    run_tool(main, outputs=output_paths(sys.argv[1:], *OUTPUT_FLAGS))
