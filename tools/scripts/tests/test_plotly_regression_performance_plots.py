"""plotly_regression_performance_plots: last columns read, header detection, scores, offline HTML, errors."""
import json
import re
import subprocess
import sys

import numpy as np
import pytest
from sklearn.metrics import mean_squared_error, r2_score

import plotly_regression_performance_plots as tool
from gxkeras.galaxy.errors import ToolInputError
from repo_paths import SCRIPTS, TEST_DATA

TRUE = [0.10, 0.25, 0.40, 0.55, 0.60, 0.72, 0.85, 0.90]
PREDICTED = [0.12, 0.20, 0.43, 0.50, 0.66, 0.70, 0.80, 0.95]


def plotly_json(html):
    """The figure data of a page written by plotly (the arguments of Plotly.newPlot)."""
    found = re.search(r"Plotly\.newPlot\(\s*\"[^\"]+\",\s*(\[.*?\]),\s*(\{.*?\}),\s*\{", html, re.S)
    return json.loads(found.group(1)), json.loads(found.group(2))


def test_scores_match_scikit_learn():
    true, predicted = np.array(TRUE), np.array(PREDICTED)
    rmse, r2 = tool.scores(true, predicted)
    assert rmse == pytest.approx(np.sqrt(mean_squared_error(true, predicted)))
    assert r2 == pytest.approx(r2_score(true, predicted))
    assert np.isnan(tool.scores(np.ones(3), np.array([1.0, 2.0, 3.0]))[1])  # constant targets: no R2


@pytest.mark.parametrize("text, expected", [
    ("x\ttarget\n1\t0.5\n2\t1.5\n", [0.5, 1.5]),       # header: its last cell is a name
    ("1\t0.5\n2\t1.5\n", [0.5, 1.5]),                   # no header: the first sample is kept
    ("predicted\n3\n", [3.0]),
])
def test_last_column_and_header(write_text, text, expected):
    assert tool.read_last_column(write_text(text), "t").tolist() == expected


def test_pages_work_offline_and_hold_the_values(write_inputs, tmp_path):
    paths = [tmp_path / name for name in ("curves.html", "scatter.html", "residuals.html")]
    inputs = write_inputs({"infile_input": str(TEST_DATA / "regression_true.tsv"),
                           "infile_output": str(TEST_DATA / "regression_predicted.tsv")})
    argv = ["--inputs", inputs]
    for flag, path in zip(tool.OUTPUT_FLAGS, paths, strict=True):
        argv += [flag, str(path)]
    tool.main(argv)
    pages = [path.read_text() for path in paths]
    for page in pages:
        assert not re.search(r"<script[^>]*\bsrc=", page)  # plotly.js is inline, nothing to download
    curves, layout = plotly_json(pages[0])
    assert [trace["name"] for trace in curves] == ["True values", "Predicted values"]
    assert curves[0]["y"] == TRUE and curves[1]["y"] == PREDICTED and curves[0]["x"] == list(range(1, 9))
    scatter, layout = plotly_json(pages[1])
    assert layout["title"]["text"] == "True vs predicted values (RMSE: 0.04, R2: 0.97)"
    assert scatter[0]["x"] == TRUE and scatter[1]["x"] == [0.1, 0.95]  # X = Y over both ranges
    residuals, _layout = plotly_json(pages[2])
    assert residuals[0]["y"] == pytest.approx(np.subtract(PREDICTED, TRUE).tolist())


def test_length_mismatch_one_error_line(write_inputs, tmp_path):
    paths = [tmp_path / f"{n}.html" for n in range(3)]
    paths[0].write_text("stale")
    inputs = write_inputs({"infile_input": str(TEST_DATA / "regression_y.tsv"),
                           "infile_output": str(TEST_DATA / "regression_predicted.tsv")})
    argv = [str(SCRIPTS / "plotly_regression_performance_plots.py"), "--inputs", inputs]
    for flag, path in zip(tool.OUTPUT_FLAGS, paths, strict=True):
        argv += [flag, str(path)]
    result = subprocess.run([sys.executable, *argv], capture_output=True, text=True,
                            env={"PYTHONPATH": str(SCRIPTS)})
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "Error: Select predicted data file: has 8 values but 'Select input data file' has 60; both must list "
        "the same samples in the same order"]
    assert not any(path.exists() for path in paths)


def test_text_cell_names_its_place(write_text):
    with pytest.raises(ToolInputError, match=r"^t: line 3, column 2 is 'n/a', expected a finite number"):
        tool.read_last_column(write_text("x\ty\n1\t2\n2\tn/a\n"), "t")


def test_empty_dataset(write_text):
    with pytest.raises(ToolInputError, match="the dataset is empty"):
        tool.read_last_column(write_text(""), "t")


def test_more_samples_than_the_pages_fit_in_the_jobs_memory_are_refused(write_text, write_inputs, tmp_path, monkeypatch):
    """Each page holds every sample as plain lists (about 512 bytes a point in plotly): the budget is set below
    what 1,000 samples take."""
    from gxkeras.galaxy import memory

    monkeypatch.setenv(memory.LIMIT_VARIABLE, str(2 * 1024 ** 2))
    values = write_text("".join(f"{i}\n" for i in range(1000)))
    outputs = [str(tmp_path / name) for name in ("a.html", "b.html", "c.html")]
    with pytest.raises(ToolInputError, match=r"^Select predicted data file: plotting 1,000 samples needs 1\.3 MB, more "
                                             r"than half of the 2\.0 MB"):
        tool.main(["--inputs", write_inputs({"infile_input": values, "infile_output": values}),
                   *[item for flag, path in zip(tool.OUTPUT_FLAGS, outputs, strict=True) for item in (flag, path)]])
