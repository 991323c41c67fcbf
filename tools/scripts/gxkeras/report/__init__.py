"""What the tools write for people to read: figures (matplotlib or plotly), metrics, model diagrams, predictions.

What the tool scripts use is re-exported here (``from gxkeras.report import draw, Panel``); ``plot_costs`` is
used as a module. matplotlib is imported only when a picture is drawn (:func:`gxkeras.report.figures.pyplot`).
Imports only :mod:`gxkeras.galaxy` and :mod:`gxkeras.data`.
"""
from gxkeras.report import plot_costs
from gxkeras.report.curves import CurveInputs, curve_metrics, curve_panel, curves_of, keep_curves
from gxkeras.report.figures import Heatmap, Panel, Trace, clean_title, draw, output_format, write_page
from gxkeras.report.learning import learning_curve_panels, parse_steps, rfecv_panel
from gxkeras.report.metrics import (
    check_predicted_labels, check_whole_labels, format_metrics, one_hot, one_label_column, per_class_metrics,
)
from gxkeras.report.model_diagram import draw_diagram
from gxkeras.report.predictions import (
    check_columns, prediction_cells, prediction_header, write_rows, write_variant_rows,
)

__all__ = [
    "CurveInputs", "Heatmap", "Panel", "Trace", "check_columns", "check_predicted_labels", "check_whole_labels",
    "clean_title", "curve_metrics", "curve_panel", "curves_of", "draw", "draw_diagram", "format_metrics",
    "keep_curves", "learning_curve_panels", "one_hot", "one_label_column", "output_format", "parse_steps",
    "per_class_metrics", "plot_costs", "prediction_cells", "prediction_header", "rfecv_panel", "write_page",
    "write_rows", "write_variant_rows",
]
