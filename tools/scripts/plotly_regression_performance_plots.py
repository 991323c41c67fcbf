"""plotly_regression_performance_plots: true vs predicted values of a regression, as interactive plots.

The last step of the Galaxy Training Network FNN tutorial: from the true targets and a model's
predictions it draws three self-contained HTML pages (plotly): both series per sample, predicted
against true (with RMSE and R2 in the title) and the residuals. Same tool id, inputs
(``infile_input``, ``infile_output``) and outputs (``output_actual_vs_pred``, ``output_scatter_plot``,
``output_residual_plot``, all ``html``) as the Galaxy-ML tool, so saved workflows load unchanged.

Each page carries plotly.js inline (from the installed plotly package, about 4.7 MB), so it displays
in a browser without internet access: no CDN, no MathJax.
"""
import argparse
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from gxkeras.data import bounded_lines, read_tabular
from gxkeras.galaxy import (
    ToolInputError, check_allocation, check_dataset_path, dataset_path, forms, load_inputs, output_paths, run_tool,
)
from gxkeras.report import plot_costs, write_page

TOOL = "plotly_regression_performance_plots"
TRUE_LABEL = forms.label(TOOL, "infile_input")
PREDICTED_LABEL = forms.label(TOOL, "infile_output")
OUTPUT_FLAGS = ("--output_actual_vs_pred", "--output_scatter_plot", "--output_residual_plot")


def _is_number(text: str) -> bool:
    try:
        return bool(np.isfinite(float(text)))
    except ValueError:
        return False


def first_line_cells(path: str, label: str) -> list[str]:
    check_dataset_path(path, label)
    with open(path, "rb") as handle:
        first = next(bounded_lines(handle, label), b"")
    line = first.decode("utf-8", errors="replace").lstrip("\ufeff").rstrip("\r\n")
    if not line.strip():
        raise ToolInputError(f"{label} ({path}): the dataset is empty, expected tab-separated numbers")
    return line.split("\t")


def read_last_column(path: str, label: str) -> np.ndarray:
    """The last column of a table as floats; line 1 is a header when its last cell is not a number.

    The Galaxy-ML tool always took line 1 as a header (as the tutorial's datasets and Model
    Prediction's output have one); a table without one lost its first sample there, and keeps it here.
    """
    cells = first_line_cells(path, label)
    header = not _is_number(cells[-1])
    values, names = read_tabular(path, label, header=header, column_option="by_index_number",
                                 columns=[len(cells)])
    print(f"{label}: {len(values)} values from column {len(cells)}" + (f" ({names[0]})" if header else ""))
    return values[:, 0].astype("float64")


def read_pair(params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(true, predicted) values of the same samples in the same order."""
    paths = {name: dataset_path(params, name) for name in ("infile_input", "infile_output")}
    for name, label in (("infile_input", TRUE_LABEL), ("infile_output", PREDICTED_LABEL)):
        if not paths[name]:
            raise ToolInputError(f"{label}: no dataset given")
    true = read_last_column(paths["infile_input"], TRUE_LABEL)
    predicted = read_last_column(paths["infile_output"], PREDICTED_LABEL)
    if len(true) != len(predicted):
        raise ToolInputError(
            f"{PREDICTED_LABEL}: has {len(predicted)} values but '{TRUE_LABEL}' has {len(true)}; both must "
            "list the same samples in the same order"
        )
    return true, predicted


def scores(true: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    """RMSE and R2 (coefficient of determination, as scikit-learn's r2_score; NaN for constant targets)."""
    rmse = float(np.sqrt(np.mean((true - predicted) ** 2)))
    total = float(np.sum((true - true.mean()) ** 2))
    r2 = 1.0 - float(np.sum((true - predicted) ** 2)) / total if total else float("nan")
    return rmse, r2


def actual_vs_predicted(true: np.ndarray, predicted: np.ndarray) -> Any:
    samples = list(range(1, len(true) + 1))
    figure = go.Figure([
        go.Scatter(x=samples, y=true.tolist(), mode="lines+markers", name="True values"),
        go.Scatter(x=samples, y=predicted.tolist(), mode="lines+markers", name="Predicted values"),
    ])
    figure.update_layout(title="True vs predicted values", xaxis_title="Number of data points",
                         yaxis_title="Values")
    return figure


def scatter(true: np.ndarray, predicted: np.ndarray) -> Any:
    """Predicted against true, with the line of perfect prediction over the range of both."""
    rmse, r2 = scores(true, predicted)
    low, high = float(min(true.min(), predicted.min())), float(max(true.max(), predicted.max()))
    figure = go.Figure([
        go.Scatter(x=true.tolist(), y=predicted.tolist(), mode="markers", name="True and predicted values"),
        go.Scatter(x=[low, high], y=[low, high], mode="lines", name="X = Y curve"),
    ])
    figure.update_layout(title=f"True vs predicted values (RMSE: {rmse:.2f}, R2: {r2:.2f})",
                         xaxis_title="True values", yaxis_title="Predicted values")
    print(f"RMSE {rmse:.4f}, R2 {r2:.4f} over {len(true)} samples")
    return figure


def residuals(true: np.ndarray, predicted: np.ndarray) -> Any:
    figure = go.Figure([go.Scatter(x=predicted.tolist(), y=(predicted - true).tolist(), mode="markers",
                                   name="Residuals")])
    figure.update_layout(title="Residual vs predicted values", xaxis_title="Predicted values",
                         yaxis_title="Residual (Predicted - True)")
    return figure


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--inputs", required=True, help="Galaxy's inputs JSON (the form's values, dataset paths)")
    for flag in OUTPUT_FLAGS:
        parser.add_argument(flag, required=True, help="where to write this plot (HTML)")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    true, predicted = read_pair(load_inputs(args.inputs))
    # each page in turn: two curves of one point per sample at most
    check_allocation(plot_costs.curves_bytes(2, 2 * len(true)), PREDICTED_LABEL, f"plotting {len(true):,} samples",
                     "plot a sample of the rows")
    write_page(actual_vs_predicted(true, predicted), args.output_actual_vs_pred)
    write_page(scatter(true, predicted), args.output_scatter_plot)
    write_page(residuals(true, predicted), args.output_residual_plot)


if __name__ == "__main__":
    run_tool(main, outputs=output_paths(sys.argv[1:], *OUTPUT_FLAGS))
