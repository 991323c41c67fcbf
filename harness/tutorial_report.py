"""What `make run` prints at the end: our workflow's result next to what the tutorial reports.

Each report reads the outputs `make run` downloaded into the results folder (named by workflow output
label, harness/run_tutorial.py) and the tutorial's numbers (harness/tutorials.py) and returns the lines
to print. RNN: the confusion matrix and scores of *Machine Learning Visualization Extension*'s metrics
table; FNN: the RMSE and R2 that *Plot actual vs predicted curves and residual plots* computes (its log
line; its scatter plot's title shows the same, to 2 decimals); CNN: the per-digit counts and scores of the
metrics table, and its accuracy.
"""
import re
from pathlib import Path

# The workflow outputs (label -> file in the results folder) each report reads.
RNN_METRICS = "confusion_metrics.tsv"  # workflows/imdb_rnn.ga's labelled output
CNN_METRICS = "ml_visualization_ex_output_metrics.tsv"  # the GTN workflow's step output, labelled by run_tutorial
FNN_LOG = "plotly_regression_performance_plots.log"
FNN_SCORES = re.compile(r"^RMSE (?P<rmse>\S+), R2 (?P<r2>\S+) over (?P<samples>\d+) samples$", re.MULTILINE)


class ReportError(Exception):
    """An output that is missing or not in the layout the report reads."""


def read_metrics(path):
    """The metrics table of ml_visualization_ex (gxkeras.metrics): {class: {column: text}}."""
    path = Path(path)
    if not path.exists():
        raise ReportError(f"{path} is missing")
    rows = [line.split("\t") for line in path.read_text().splitlines() if line]
    header = rows[0]
    if header[:1] != ["class"]:
        raise ReportError(f"{path}: first line {rows[0]}, expected the metrics table's header (class, TP, ...)")
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}


def side_by_side(rows, header=("", "ours", "tutorial")):
    """Rows of (name, ours, tutorial's) as aligned text; ``None`` for a number the tutorial does not state."""
    shown = [tuple("-" if cell is None else cell for cell in row) for row in rows]
    widths = [max(len(str(row[column])) for row in [header, *shown]) for column in range(len(header))]
    return [f"{row[0]:<{widths[0]}}" + "".join(f"  {str(cell):>{width}}" for cell, width in zip(row[1:], widths[1:],
                                                                                              strict=True))
            for row in [header, *shown]]


def ratio(value, digits=4):
    return None if value is None else f"{float(value):.{digits}f}"


def count(value):
    return None if value is None else f"{int(value):,}"


def report_rnn(results, reported):
    """Confusion matrix of the 25,000 test reviews (class 1 positive), ours and the tutorial's."""
    positive = read_metrics(Path(results) / RNN_METRICS)["1"]
    ours = {key: int(positive[key]) for key in ("TN", "FP", "FN", "TP")}
    lines = ["Confusion matrix (rows: true label, columns: predicted label), ours | the tutorial's",
             f"{'':>8}{'pred. 0':>10}{'pred. 1':>10}   |{'pred. 0':>10}{'pred. 1':>10}"]
    for label, (negative, positive_key) in (("true 0", ("TN", "FP")), ("true 1", ("FN", "TP"))):
        lines.append(f"{label:>8}{ours[negative]:>10,}{ours[positive_key]:>10,}   |"
                     f"{reported[negative]:>10,}{reported[positive_key]:>10,}")
    lines.append("")
    lines += side_by_side([(name, ratio(positive[score]), ratio(reported[score], 3 if score == "accuracy" else 2))
                           for score, name in (("accuracy", "accuracy"), ("precision", "precision"),
                                               ("recall", "recall"), ("f1", "F1"))])
    lines.append("(precision, recall and F1 of the positive reviews, class 1)")
    return lines


def report_fnn(results, reported):
    """R2 and RMSE of the predicted car purchase prices of the test rows, ours and the tutorial's."""
    log_path = Path(results) / FNN_LOG
    if not log_path.exists():
        raise ReportError(f"{log_path} is missing")
    match = FNN_SCORES.search(log_path.read_text())
    if not match:
        raise ReportError(f"{log_path}: no line 'RMSE <number>, R2 <number> over <n> samples'")
    return [f"Test rows: {int(match['samples']):,}"] + side_by_side(
        [("R2", ratio(match["r2"]), ratio(reported["r2"], 2)), ("RMSE", ratio(match["rmse"]), ratio(reported["rmse"], 2))])


def report_cnn(results, reported):
    """Per digit: right (TP), others predicted as it (FP), missed (FN) and the scores; ours | the tutorial's."""
    table = read_metrics(Path(results) / CNN_METRICS)
    stated = reported["classes"]
    rows = []
    for digit, ours in table.items():
        if digit == "overall":
            continue
        theirs = stated.get(digit, {})
        rows.append((digit, *(count(ours[key]) for key in ("TP", "FP", "FN")),
                     *(ratio(ours[key], 3) for key in ("precision", "recall", "f1")), "|",
                     *(count(theirs.get(key)) for key in ("TP", "FP", "FN")),
                     *(ratio(theirs.get(key), 2) for key in ("precision", "recall", "f1"))))
    header = ("digit", "TP", "FP", "FN", "prec.", "recall", "F1", "|", "TP", "FP", "FN", "prec.", "recall", "F1")
    return (["Per digit on the test images, ours | the tutorial's (its text works through digits 0 and 1)"]
            + side_by_side(rows, header)
            + ["", f"accuracy  {float(table['overall']['accuracy']):.4f}   (the tutorial states none)"])


REPORTS = {"rnn": report_rnn, "fnn": report_fnn, "cnn": report_cnn}
