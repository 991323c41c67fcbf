"""ml_visualization_ex and gxkeras.report.metrics: metrics (scikit-learn's), readers, plots, errors, no TensorFlow."""

import numpy as np
import pytest

import ml_visualization_ex as viz
from gxkeras.report.learning import parse_steps
from gxkeras.galaxy.errors import ToolInputError
from fresh_python import run_tool
from gxkeras.report.metrics import as_labels, format_metrics, per_class_metrics
from repo_paths import TEST_DATA

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_tutorial_numbers_from_labels():
    """The same numbers when counted from 25,000 label pairs, per class and overall."""
    pairs = [(0, 0)] * 10397 + [(0, 1)] * 2103 + [(1, 0)] * 1281 + [(1, 1)] * 11219
    y_true, y_pred = np.array(pairs).T
    classes, matrix, (negative, positive, overall) = per_class_metrics(y_true, y_pred)
    assert classes.tolist() == [0, 1]
    assert matrix.tolist() == [[10397, 2103], [1281, 11219]]
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
    _classes, _matrix, rows = per_class_metrics([0, 1, 2, 2], [0, 2, 2, 2])
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


def cm_params(true_path, predicted_path, header_true=False, header_predicted=False, sel_true=None, **extra):
    """The old tool's layout: a column selector (``col1``) for the true labels only."""
    return {"plotting_selection": {
        "plot_type": "classification_confusion_matrix",
        "infile_true": true_path, "header_true": header_true, "column_selector_options_true": sel_true or selection(),
        "infile_predicted": predicted_path, "header_predicted": header_predicted,
        "title": None, "plot_format": "png", "plot_color": "Blues", **extra}}


def test_confusion_matrix_with_headers_and_column_selection(tmp_path):
    """The committed hand-made pair: true labels in column 2 ('sentiment') under a header."""
    plot, metrics = tmp_path / "plot.png", tmp_path / "metrics.tsv"
    for sel in (selection("by_header_name", col1="sentiment"), selection("by_index_number", col1=["2"]),
                selection("all_but_by_header_name", col1="review_id")):
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
    ("1\n0\n", "0.6\t0.4\n0.2\t0.8\n", {}, "Select dataset containing the predicted labels: line 1 is 0.4, not a class label"),
    ("1\n0\n", "1\nx\n", {}, "Select dataset containing the predicted labels: line 2, column 1 is 'x'"),
    ("1\n0\n", "1\n0\n", {"plot_color": "jet; rm"}, "Color map: unknown"),
])
def test_bad_inputs(tmp_path, write_text, true_text, predicted_text, kwargs, message):
    params = cm_params(write_text(true_text, "t.tsv"), write_text(predicted_text, "p.tsv"), **kwargs)
    with pytest.raises(ToolInputError, match=message):
        viz.run(params, str(tmp_path / "p.png"), str(tmp_path / "m.tsv"))
    assert not (tmp_path / "m.tsv").exists()


def test_old_colormaps_and_formats(tmp_path):
    """Every colormap of the old form draws (Summer and Autumn as matplotlib's summer and autumn), as
    PNG, SVG or plotly HTML; the one-hot or multi-column true labels of old states are read too."""
    true, predicted = str(TEST_DATA / "imdb_y_test.tsv"), str(TEST_DATA / "imdb_y_test.tsv")
    for cmap in ("Greys", "Purples", "Blues", "Greens", "Oranges", "Reds", "Summer", "Autumn", "RdYlGn", "Spectral",
                 "winter"):
        viz.run(cm_params(true, predicted, plot_color=cmap), str(tmp_path / "p.png"), str(tmp_path / "m.tsv"))
        assert (tmp_path / "p.png").read_bytes().startswith(PNG_MAGIC)
    viz.run(cm_params(true, predicted, plot_format="svg"), str(tmp_path / "p.svg"), str(tmp_path / "m.tsv"))
    assert b"<svg" in (tmp_path / "p.svg").read_bytes()[:400]
    viz.run(cm_params(true, predicted, plot_format="html", title="<b>x</b>"), str(tmp_path / "p.html"),
            str(tmp_path / "m.tsv"))
    page = (tmp_path / "p.html").read_text()
    assert page.startswith("<!doctype html>") and '"z":[[110,0],[0,90]]' in page and "&lt;b&gt;x&lt;\\u002fb&gt;" in page


def test_every_colormap_of_the_form_is_a_matplotlib_colormap():
    """The form is the one list of color maps; each names a matplotlib one (Summer -> summer)."""
    from gxkeras.galaxy import forms

    offered = forms.options("ml_visualization_ex", "plot_color")
    assert {"Greys", "Purples", "Blues", "Greens", "Oranges", "Reds", "Summer", "Autumn", "RdYlGn", "Spectral",
            "winter"} <= set(offered)  # the Galaxy-ML form's eleven
    assert viz.colormap("Summer") == "summer" and viz.colormap("Autumn") == "autumn" and viz.colormap("") == "Greens"
    import matplotlib

    assert all(viz.colormap(name) in matplotlib.colormaps for name in offered)


def test_one_hot_true_labels(tmp_path, write_text):
    """A one-hot table (to_categorical's output) is read as class indices, against predicted indices."""
    onehot = str(TEST_DATA / "multiclass_onehot.tsv")
    predicted = write_text("0\n0\n1\n1\n1\n1\n2\n2\n0\n", "pred.tsv")
    metrics = tmp_path / "m.tsv"
    viz.run(cm_params(onehot, predicted, header_true=True), str(tmp_path / "p.png"), str(metrics))
    lines = metrics.read_text().splitlines()
    assert lines[1].startswith("0\t2\t1\t5\t1\t") and lines[3].startswith("2\t2\t0\t6\t1\t")


def test_learning_curve_from_history_and_from_sklearn(tmp_path, write_text):
    """The old plot type learning_curve: a Keras history (epochs) or scikit-learn's learning_curve table."""
    plot = tmp_path / "plot.png"
    viz.run({"plotting_selection": {"plot_type": "learning_curve", "infile1": str(TEST_DATA / "history.tsv"),
                                    "plot_format": "png"}}, str(plot))
    assert plot.read_bytes().startswith(PNG_MAGIC)
    # No epoch column and only validation values of one metric are fine too.
    viz.run({"plotting_selection": {"plot_type": "learning_curve", "plot_format": "png",
                                    "infile1": write_text("loss\tval_auc\n0.7\t0.6\n0.5\t0.7\n")}}, str(plot))
    with pytest.raises(ToolInputError, match="learning curve: line 3, column loss is 'x'"):
        viz.run({"plotting_selection": {"plot_type": "learning_curve",
                                        "infile1": write_text("epoch\tloss\n0\t0.7\n1\tx\n")}}, str(plot))
    sklearn_table = write_text("train_sizes_abs\tmean_train_scores\tstd_train_scores\tmean_test_scores\t"
                               "std_test_scores\n10\t0.9\t0.01\t0.6\t0.05\n20\t0.85\t0.02\t0.7\t0.04\n")
    page = tmp_path / "plot.html"
    viz.run({"plotting_selection": {"plot_type": "learning_curve", "infile1": sklearn_table, "plot_std_err": True,
                                    "plot_format": "html"}}, str(page))
    text = page.read_text()
    assert '"name":"Train scores"' in text and '"x":[10,20]' in text and '"array":[0.05,0.04]' in text


def curve_params(plot_type, true_name, score_name, **extra):
    return {"plotting_selection": {
        "plot_type": plot_type, "infile1": str(TEST_DATA / true_name), "infile2": str(TEST_DATA / score_name),
        "pos_label": "", "title": "", "report_minimum_n_positives": None, "plot_format": "png",
        **({"drop_intermediate": True} if plot_type == "roc_curve" else {}), **extra}}


@pytest.mark.parametrize("plot_type, metric, value", [("roc_curve", "roc_auc", "0.8571"),
                                                      ("pr_curve", "average_precision", "0.8583")])
def test_curves(tmp_path, plot_type, metric, value):
    """Two classes: the positive class' scores are the column headed by its label (predict_proba's '1')."""
    plot, metrics = tmp_path / "plot.png", tmp_path / "metrics.tsv"
    params = curve_params(plot_type, "curve_true.tsv", "cm_proba.tsv")
    viz.run(params, str(plot), str(metrics))
    assert metrics.read_text().splitlines() == [f"class\tpositives\t{metric}", f"1\t5\t{value}"]
    assert plot.read_bytes().startswith(PNG_MAGIC)
    from sklearn.metrics import average_precision_score, roc_auc_score

    truth = np.loadtxt(TEST_DATA / "curve_true.tsv", skiprows=1)
    scores = np.loadtxt(TEST_DATA / "cm_proba.tsv", skiprows=1)[:, 1]
    score = roc_auc_score(truth, scores) if plot_type == "roc_curve" else average_precision_score(truth, scores)
    assert value == f"{score:.4f}"
    params["plotting_selection"]["pos_label"] = "0"  # class 0: the column headed 0
    viz.run(params, str(plot), str(metrics))
    assert metrics.read_text().splitlines()[1].startswith("0\t7\t")
    params["plotting_selection"]["pos_label"] = "7"
    with pytest.raises(ToolInputError, match="pos_label: 7 is not among the true labels"):
        viz.run(params, str(plot), str(metrics))


def test_curve_without_headers_takes_the_first_column(tmp_path, write_text):
    """Tables without a header line: fractions cannot be column names, and a truth file with as many
    lines as there are scores has none; without names, the first column holds the positive scores."""
    truth = write_text("1\n0\n1\n0\n", "t.tsv")
    scores = write_text("0.9\t0.1\n0.2\t0.8\n0.7\t0.3\n0.4\t0.6\n", "s.tsv")
    params = {"plotting_selection": {"plot_type": "roc_curve", "infile1": truth, "infile2": scores,
                                     "pos_label": "", "plot_format": "svg"}}
    viz.run(params, str(tmp_path / "p.svg"), str(tmp_path / "m.tsv"))
    assert (tmp_path / "m.tsv").read_text().splitlines()[1] == "1\t2\t1.0000"


@pytest.mark.parametrize("true_name, names", [("multiclass_true.tsv", ["0", "1", "2"]),
                                              ("multiclass_onehot.tsv", ["cat", "dog", "bird"])])
def test_multiclass_curves(tmp_path, true_name, names):
    """One-vs-rest for a label column of three classes; one curve per column of a one-hot table."""
    metrics = tmp_path / "m.tsv"
    viz.run(curve_params("roc_curve", true_name, "multiclass_proba.tsv", plot_format="plotly_html"),
            str(tmp_path / "p.html"), str(metrics))
    assert metrics.read_text().splitlines() == [
        "class\tpositives\troc_auc", f"{names[0]}\t3\t1.0000", f"{names[1]}\t3\t0.9167", f"{names[2]}\t3\t0.9444",
        "macro_average\t9\t0.9537"]
    page = (tmp_path / "p.html").read_text()
    assert f'"name":"{names[1]} (AUC = 0.917)"' in page
    viz.run(curve_params("pr_curve", true_name, "multiclass_proba.tsv", plot_format="matplotlib_svg",
                         report_minimum_n_positives=3), str(tmp_path / "p.svg"), str(metrics))
    assert metrics.read_text().splitlines()[-1] == "macro_average\t9\t0.9111"
    with pytest.raises(ToolInputError, match="at least 4 positives"):
        viz.run(curve_params("pr_curve", true_name, "multiclass_proba.tsv", report_minimum_n_positives=4),
                str(tmp_path / "p.png"), str(metrics))


def steps(text):
    return parse_steps(text, viz.STEPS_LABEL)


def test_rfecv_steps_are_parsed_never_evaluated(tmp_path, write_text):
    assert steps("list(range(3)) + [15, 20]") == [0, 1, 2, 15, 20]
    assert steps("range(1, 7, 2)") == [1, 3, 5] and steps("") is None
    for text in ("__import__('os').system('id')", "[1] * 10**9", "range(10**12)", "[x for x in ()]",
                 "range(1000000000000)", "range(100000) + [1]", "-" * 5000 + "1", "+".join(["[1]"] * 2000)):
        with pytest.raises(ToolInputError, match="Step IDs: .* is not a list of at most 100,000 numbers"):
            steps(text)  # the last two: the parser's MemoryError and a RecursionError (tracebacks)
    with pytest.raises(ToolInputError, match="Step IDs: longer than 10,000 characters"):
        steps("[" + "1, " * 5000 + "]")
    scores = write_text("score\n0.5\n0.7\n0.6\n", "scores.tsv")
    page = tmp_path / "p.html"
    viz.run({"plotting_selection": {"plot_type": "rfecv_gridscores", "infile1": scores, "steps": "[1, 5, 10]",
                                    "title": "", "plot_format": "html"}}, str(page))
    assert '"x":[1,5,10]' in page.read_text() and '"y":[0.5,0.7,0.6]' in page.read_text()


def test_model_diagram(tmp_path, write_text, capsys):
    """Sequential (layer order) and functional (inbound_nodes, Keras 3 and Keras 2) wiring, never built."""
    plot = tmp_path / "model.png"
    viz.run({"plotting_selection": {"plot_type": "keras_plot_model", "title": "",
                                    "infile_model_config": str(TEST_DATA / "imdb_model_config.json"),
                                    "plot_format": "png"}}, str(plot))
    assert plot.read_bytes().startswith(PNG_MAGIC)
    assert "4 layers, 3 connections" in capsys.readouterr().out
    history = {"class_name": "__keras_tensor__", "config": {"keras_history": ["a", 0, 0]}}
    functional = {"class_name": "Functional", "config": {"name": "f", "layers": [
        {"class_name": "InputLayer", "config": {"name": "a"}, "inbound_nodes": []},
        {"class_name": "Dense", "config": {"name": "b", "units": 2}, "inbound_nodes": [{"args": [history]}]},
        {"class_name": "Dense", "config": {"name": "c", "units": 3}, "inbound_nodes": [[["a", 0, 0, {}]]]},
        {"class_name": "Concatenate", "config": {"name": "d"}, "inbound_nodes": [[["b", 0, 0, {}], ["c", 0, 0, {}]]]},
    ]}}
    import json

    viz.run({"plotting_selection": {"plot_type": "keras_plot_model", "plot_format": "svg",
                                    "infile_model_config": write_text(json.dumps(functional), "f.json")}},
            str(tmp_path / "model.svg"))
    assert "4 layers, 4 connections" in capsys.readouterr().out
    with pytest.raises(ToolInputError, match="no 'config' with 'layers'"):
        viz.run({"plotting_selection": {"plot_type": "keras_plot_model",
                                        "infile_model_config": write_text("[1, 2]", "bad.json")}}, str(plot))


def test_feature_importances_without_a_model_fail_with_one_clear_line(tmp_path):
    """The plots themselves are tested in test_sklearn_models.py."""
    with pytest.raises(ToolInputError, match="Select the dataset containing fitted estimator/pipeline: no dataset"):
        viz.run({"plotting_selection": {"plot_type": "feature_importances"}}, str(tmp_path / "p.html"))


def outputs(tmp_path):
    return ["--output", tmp_path / "plot.png", "--output_metrics", tmp_path / "metrics.tsv"]


def test_does_not_import_tensorflow(tmp_path, write_inputs):
    inputs = write_inputs(cm_params(str(TEST_DATA / "imdb_y_test.tsv"), str(TEST_DATA / "imdb_y_test.tsv")))
    run = run_tool("ml_visualization_ex.py", ["--inputs", inputs, *outputs(tmp_path)],
                   ["tensorflow", "keras", "galaxy_ml", "torch", "jax"], cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.imported == []
    assert "200 samples, 2 classes, accuracy 1.0000" in run.stdout


def test_failure_leaves_no_output(tmp_path, write_inputs, write_text, run_script):
    (tmp_path / "plot.png").write_bytes(b"")
    (tmp_path / "metrics.tsv").write_text("")  # Galaxy creates the outputs before the job runs
    inputs = write_inputs(cm_params(write_text("1\n0\n1\n", "t.tsv"), write_text("1\n0\n", "p.tsv")))
    result = run_script("ml_visualization_ex.py", "--inputs", inputs, *outputs(tmp_path))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: Select dataset containing the predicted labels: has 2 rows but "
        "'Select dataset containing the true labels' has 3; both must list the same samples in the same order "
        "(check the header options)"]
    assert not (tmp_path / "plot.png").exists() and not (tmp_path / "metrics.tsv").exists()


# ---- what a file sizes is compared with the job's memory first; labels never wrapped by an int64 cast ----

def test_a_confusion_matrix_of_100000_classes_is_refused_before_it_is_made(tmp_path, write_text, monkeypatch):
    """10^5 distinct labels (a 590 kB file) asked scikit-learn for a 10^5 x 10^5 int64 matrix (80 GB) and
    matplotlib for 10^10 text artists; the budget is set to 8 GB so that the test does not depend on the host."""
    from gxkeras.galaxy import memory

    monkeypatch.setenv(memory.LIMIT_VARIABLE, str(8 * 1024 ** 3))
    labels = write_text("".join(f"{i}\n" for i in range(100_000)), "labels.tsv")
    with pytest.raises(ToolInputError, match=r"^Select dataset containing the true labels: the 100,000 x 100,000 "
                                             r"confusion matrix of its 100,000 classes \(and its picture\) needs 1\.2 TB"):
        viz.run(cm_params(labels, labels), str(tmp_path / "cm.png"), str(tmp_path / "m.tsv"))
    assert not (tmp_path / "m.tsv").exists()


def test_counts_are_written_in_the_cells_of_small_confusion_matrices_only():
    """Each count is a text artist of 10-18 kB (200 x 200 took 59 s): beyond 30 classes the picture is drawn
    without them, and with at most 50 tick labels."""
    from gxkeras.report import figures

    small = figures._matplotlib_heatmap(figures.Heatmap(np.ones((30, 30), dtype=int), [str(i) for i in range(30)],
                                                        "Greens"), "t")
    large = figures._matplotlib_heatmap(figures.Heatmap(np.ones((200, 200), dtype=int), [str(i) for i in range(200)],
                                                        "Greens"), "t")
    assert len(small.axes[0].texts) == 900 and len(small.axes[0].get_xticks()) == 30
    assert len(large.axes[0].texts) == 0 and len(large.axes[0].get_xticks()) == figures.MAX_TICK_LABELS
    assert figures._tick_positions(200)[0] == 0 and figures._tick_positions(200)[-1] == 199


@pytest.mark.parametrize("text, message", [
    ("1e300\n2e300\n1e300\n", "the label 2e\\+300 is a whole number beyond 2\\^53"),
    ("0.5\n1\n", "line 1 is 0.5, not a class label: class labels are whole numbers"),  # scikit-learn: a traceback
])
def test_labels_that_are_not_class_labels_are_refused(tmp_path, write_text, text, message):
    """1e300 and 2e300 are whole floats; cast to int64 both became -2**63: one class instead of two."""
    truth = write_text(text, "t.tsv")
    with pytest.raises(ToolInputError, match=f"^Select dataset containing the true labels: {message}"):
        viz.run(cm_params(truth, truth), str(tmp_path / "cm.png"), str(tmp_path / "m.tsv"))


def test_ten_thousand_curves_are_refused_before_they_are_computed(tmp_path, write_text, monkeypatch):
    """A multi-label truth of 2 rows x 10^4 columns is 40 kB; its 10^4 curves take 1.6 GB to draw."""
    from gxkeras.galaxy import memory

    monkeypatch.setenv(memory.LIMIT_VARIABLE, str(2 * 1024 ** 3))
    truth = write_text("\t".join(["1"] * 10_000) + "\n" + "\t".join(["0"] * 10_000) + "\n", "t.tsv")
    scores = write_text("\t".join(["0.9"] * 10_000) + "\n" + "\t".join(["0.1"] * 10_000) + "\n", "s.tsv")
    params = {"plotting_selection": {"plot_type": "roc_curve", "infile1": truth, "infile2": scores, "pos_label": "",
                                     "plot_format": "png"}}
    with pytest.raises(ToolInputError, match=r"^Select the dataset containing predicted probabilities: 10,000 curves of "
                                             r"up to 4 points \(one per class or label\) needs 1\.5 GB, more than half"):
        viz.run(params, str(tmp_path / "p.png"), str(tmp_path / "m.tsv"))


def test_a_history_of_more_metrics_than_panels_is_refused(tmp_path, write_text):
    """One panel per metric, 2.4 inches each: 10^4 columns made a 2,400,000-pixel-high image (a traceback)."""
    history = write_text("\t".join(f"m{i}" for i in range(101)) + "\n" + "\t".join(["0.5"] * 101) + "\n")
    with pytest.raises(ToolInputError, match=r"^Select the dataset containing values for plotting learning curve: 101 "
                                             r"metrics, one panel each: at most 100 panels"):
        viz.run({"plotting_selection": {"plot_type": "learning_curve", "infile1": history, "plot_format": "png"}},
                str(tmp_path / "p.png"))


@pytest.mark.parametrize("value", ["\u00b2", "3.5", "-1"])
def test_minimum_positives_is_a_whole_number(tmp_path, value):
    with pytest.raises(ToolInputError, match=r"^Report minimum number of positives: .* is not a whole number from 0"):
        viz.run(curve_params("roc_curve", "multiclass_true.tsv", "multiclass_proba.tsv",
                             report_minimum_n_positives=value), str(tmp_path / "p.png"), str(tmp_path / "m.tsv"))
