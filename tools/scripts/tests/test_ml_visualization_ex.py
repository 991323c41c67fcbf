"""ml_visualization_ex and gxkeras.metrics: hand-computed metrics, readers, plots, errors, no TensorFlow."""
import subprocess
import sys

import numpy as np
import pytest

import ml_visualization_ex as viz
from gxkeras.errors import ToolInputError
from gxkeras.metrics import as_labels, binary_scores, confusion_matrix, format_metrics, per_class_metrics
from repo_paths import SCRIPTS, TEST_DATA

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_tutorial_numbers():
    """The RNN tutorial's confusion matrix: TN 10,397, FP 2,103, FN 1,281, TP 11,219."""
    scores = binary_scores(tp=11219, fp=2103, tn=10397, fn=1281)
    assert round(scores["precision"], 3) == 0.842 == round(11219 / 13322, 3)
    assert round(scores["recall"], 3) == 0.898 == round(11219 / 12500, 3)
    assert round(scores["f1"], 3) == 0.869
    assert round(scores["accuracy"], 4) == 0.8646


def test_tutorial_numbers_from_labels():
    """The same numbers when counted from 25,000 label pairs, per class and overall."""
    pairs = [(0, 0)] * 10397 + [(0, 1)] * 2103 + [(1, 0)] * 1281 + [(1, 1)] * 11219
    y_true, y_pred = np.array(pairs).T
    classes, matrix = confusion_matrix(y_true, y_pred)
    assert classes.tolist() == [0, 1]
    assert matrix.tolist() == [[10397, 2103], [1281, 11219]]
    negative, positive, overall = per_class_metrics(classes, matrix)
    assert (positive["TP"], positive["FP"], positive["TN"], positive["FN"]) == (11219, 2103, 10397, 1281)
    assert (negative["TP"], negative["FP"], negative["TN"], negative["FN"]) == (10397, 1281, 11219, 2103)
    assert round(positive["precision"], 3) == 0.842 and round(positive["recall"], 3) == 0.898
    assert round(positive["f1"], 3) == 0.869 and round(positive["accuracy"], 3) == 0.865
    assert round(negative["precision"], 3) == round(10397 / 11678, 3)
    assert round(overall["accuracy"], 4) == 0.8646 and overall["support"] == 25000
    assert overall["precision"] == pytest.approx((positive["precision"] + negative["precision"]) / 2)
    table = format_metrics([negative, positive, overall]).splitlines()
    assert table[2] == "1\t11219\t2103\t10397\t1281\t0.8646\t0.8421\t0.8975\t0.8689\t12500"
    assert table[3].startswith("overall\tNA\tNA\tNA\tNA\t0.8646\t")


def test_multiclass_and_zero_division():
    classes, matrix = confusion_matrix([0, 1, 2, 2], [0, 2, 2, 2])
    rows = per_class_metrics(classes, matrix)
    assert [row["TP"] for row in rows[:3]] == [1, 0, 2]
    assert rows[1]["precision"] == 0.0 and rows[1]["f1"] == 0.0  # class 1 never predicted: 0, not NaN
    assert rows[2]["FP"] == 1 and rows[2]["precision"] == pytest.approx(2 / 3)
    assert rows[3]["accuracy"] == 0.75


def test_as_labels():
    assert as_labels(np.array([[1.0], [0.0]]), "x").tolist() == [1, 0]
    assert as_labels(np.array([[1.0], [0.0]]), "x").dtype.kind == "i"
    with pytest.raises(ToolInputError, match="x: expected one column of labels, got 2"):
        as_labels(np.zeros((2, 2)), "x")


def selection(option="all_columns", **extra):
    return {"selected_column_selector_option": option, **extra}


def cm_params(true_path, predicted_path, header_true=False, header_predicted=False, sel_true=None, sel_predicted=None, **extra):
    return {"plotting_selection": {
        "plot_type": "classification_confusion_matrix",
        "infile_true": true_path, "header_true": header_true, "column_selector_options_true": sel_true or selection(),
        "infile_predicted": predicted_path, "header_predicted": header_predicted,
        "column_selector_options_predicted": sel_predicted or selection(),
        "title": None, "plot_color": "Blues", **extra}}


def test_confusion_matrix_with_headers_and_column_selection(tmp_path):
    """The committed hand-made pair: true labels in column 2 ('sentiment') under a header."""
    plot, metrics = tmp_path / "plot.png", tmp_path / "metrics.tsv"
    for sel in (selection("by_header_name", col_true="sentiment"), selection("by_index_number", col_true=["2"]),
                selection("all_but_by_header_name", col_true="review_id")):
        viz.run(cm_params(str(TEST_DATA / "cm_true.tsv"), str(TEST_DATA / "cm_predicted.tsv"), True, True, sel),
                str(plot), str(metrics))
        assert metrics.read_text().splitlines() == [
            "class\tTP\tFP\tTN\tFN\taccuracy\tprecision\trecall\tf1\tsupport",
            "0\t6\t2\t3\t1\t0.7500\t0.7500\t0.8571\t0.8000\t7",
            "1\t3\t1\t6\t2\t0.7500\t0.7500\t0.6000\t0.6667\t5",
            "overall\tNA\tNA\tNA\tNA\t0.7500\t0.7500\t0.7286\t0.7333\t12",
        ]
        assert plot.read_bytes().startswith(PNG_MAGIC)


def test_header_flag_matters(tmp_path, write_text):
    """Without the header flag, the header line is reported as a bad value, naming the dataset."""
    true = write_text("label\n1\n0\n", "true.tsv")
    with pytest.raises(ToolInputError, match="Select dataset containing the true labels: line 1, column 1 is 'label'.*header"):
        viz.run(cm_params(true, true), str(tmp_path / "p.png"), str(tmp_path / "m.tsv"))


@pytest.mark.parametrize("true_text, predicted_text, kwargs, message", [
    ("1\n0\n1\n", "1\n0\n", {}, "Select dataset containing the predicted labels: has 2 rows but "
                               "'Select dataset containing the true labels' has 3"),
    ("1\t0\n0\t1\n", "1\n0\n", {}, "Select dataset containing the true labels: expected one column of labels, got 2"),
    ("1\n0\n", "1\nx\n", {}, "Select dataset containing the predicted labels: line 2, column 1 is 'x'"),
    ("1\n0\n", "1\n0\n", {"plot_color": "jet; rm"}, "Color map: unknown"),
])
def test_bad_inputs(tmp_path, write_text, true_text, predicted_text, kwargs, message):
    params = cm_params(write_text(true_text, "t.tsv"), write_text(predicted_text, "p.tsv"), **kwargs)
    with pytest.raises(ToolInputError, match=message):
        viz.run(params, str(tmp_path / "p.png"), str(tmp_path / "m.tsv"))
    assert not (tmp_path / "m.tsv").exists()


def test_learning_curves(tmp_path, write_text):
    plot = tmp_path / "plot.png"
    viz.run({"plotting_selection": {"plot_type": "learning_curves", "infile_history": str(TEST_DATA / "history.tsv")}},
            str(plot))
    assert plot.read_bytes().startswith(PNG_MAGIC)
    # No epoch column and only validation values of one metric are fine too.
    viz.run({"plotting_selection": {"plot_type": "learning_curves",
                                    "infile_history": write_text("loss\tval_auc\n0.7\t0.6\n0.5\t0.7\n")}}, str(plot))
    with pytest.raises(ToolInputError, match="training history: line 3, column loss is 'x'"):
        viz.run({"plotting_selection": {"plot_type": "learning_curves",
                                        "infile_history": write_text("epoch\tloss\n0\t0.7\n1\tx\n")}}, str(plot))


@pytest.mark.parametrize("plot_type, expected", [("roc_curve", "roc_auc\t0.8571"), ("pr_curve", "average_precision\t0.8583")])
def test_curves(tmp_path, plot_type, expected):
    params = {"plotting_selection": {
        "plot_type": plot_type, "pos_label": 1,
        "infile_true": str(TEST_DATA / "cm_true.tsv"), "header_true": True,
        "column_selector_options_true": selection("by_header_name", col_true="sentiment"),
        "infile_probability": str(TEST_DATA / "cm_proba.tsv"), "header_probability": True,
        "column_selector_options_probability": selection()}}
    plot, metrics = tmp_path / "plot.png", tmp_path / "metrics.tsv"
    viz.run(params, str(plot), str(metrics))
    assert metrics.read_text().splitlines() == ["metric\tvalue", expected]
    from sklearn.metrics import average_precision_score, roc_auc_score

    truth = np.loadtxt(TEST_DATA / "cm_true.tsv", skiprows=1, usecols=1)
    scores = np.loadtxt(TEST_DATA / "cm_proba.tsv", skiprows=1)[:, 1]
    score = roc_auc_score(truth, scores) if plot_type == "roc_curve" else average_precision_score(truth, scores)
    assert expected.endswith(f"{score:.4f}")
    params["plotting_selection"]["pos_label"] = 7
    with pytest.raises(ToolInputError, match="Label of the positive class: 7 is not among the true labels"):
        viz.run(params, str(plot), str(metrics))


def run_script(inputs, tmp_path, code_after=""):
    """Run the tool's main() in a fresh Python, then ``code_after`` (to inspect sys.modules)."""
    code = (
        "import sys; sys.path.insert(0, %r)\n"
        "import ml_visualization_ex as viz\n"
        "from gxkeras.errors import output_paths, run_tool\n"
        "argv = ['--inputs', %r, '--output_plot', %r, '--output_metrics', %r]\n"
        "try:\n    run_tool(viz.main, argv, outputs=output_paths(argv, *viz.OUTPUT_FLAGS))\n"
        "finally:\n    %s\n"
    ) % (str(SCRIPTS), inputs, str(tmp_path / "plot.png"), str(tmp_path / "metrics.tsv"), code_after or "pass")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_does_not_import_tensorflow(tmp_path, write_inputs):
    inputs = write_inputs(cm_params(str(TEST_DATA / "imdb_y_test.tsv"), str(TEST_DATA / "imdb_y_test.tsv")))
    result = run_script(inputs, tmp_path, "print(sorted(m for m in sys.modules if m.split('.')[0] in "
                                          "('tensorflow', 'keras', 'galaxy_ml', 'torch', 'jax')))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"
    assert "200 samples, 2 classes, accuracy 1.0000" in result.stdout


def test_failure_leaves_no_output(tmp_path, write_inputs, write_text):
    (tmp_path / "plot.png").write_bytes(b"")
    (tmp_path / "metrics.tsv").write_text("")  # Galaxy creates the outputs before the job runs
    inputs = write_inputs(cm_params(write_text("1\n0\n1\n", "t.tsv"), write_text("1\n0\n", "p.tsv")))
    result = run_script(inputs, tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: Select dataset containing the predicted labels: has 2 rows but "
        "'Select dataset containing the true labels' has 3; both must list the same samples in the same order "
        "(check the header options)"]
    assert not (tmp_path / "plot.png").exists() and not (tmp_path / "metrics.tsv").exists()
