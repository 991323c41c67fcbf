"""harness/tutorial_report.py: the lines `make run` ends with, from outputs laid out as the tools write them."""
import pytest

import tutorial_report
import tutorials

HEADER = "class\tTP\tFP\tTN\tFN\taccuracy\tprecision\trecall\tf1\tsupport"
# gxkeras.metrics' table for a 0/1 problem: the seed-42 run of docs/results.md
RNN_METRICS = "\n".join([
    HEADER,
    "0\t10925\t1571\t10929\t1575\t0.8742\t0.8743\t0.8740\t0.8742\t12500",
    "1\t10929\t1575\t10925\t1571\t0.8742\t0.8740\t0.8743\t0.8742\t12500",
    "overall\tNA\tNA\tNA\tNA\t0.8742\t0.8742\t0.8742\t0.8742\t25000",
]) + "\n"


def report(name, tmp_path, files):
    for file_name, text in files.items():
        (tmp_path / file_name).write_text(text)
    return tutorial_report.REPORTS[name](tmp_path, tutorials.TUTORIALS[name].reported)


def test_rnn_confusion_matrix_beside_the_tutorials(tmp_path):
    lines = report("rnn", tmp_path, {tutorial_report.RNN_METRICS: RNN_METRICS})
    assert "  true 0    10,925     1,575   |    10,397     2,103" in lines
    assert "  true 1     1,571    10,929   |     1,281    11,219" in lines
    assert any(line.split() == ["accuracy", "0.8742", "0.865"] for line in lines)
    assert any(line.split() == ["recall", "0.8743", "0.89"] for line in lines)


def test_fnn_scores_from_the_plot_tools_log_line(tmp_path):
    log = "Read 241 true values\nRMSE 0.1235, R2 0.8442 over 241 samples\n"
    lines = report("fnn", tmp_path, {tutorial_report.FNN_LOG: log})
    assert lines[0] == "Test rows: 241"
    assert [line.split() for line in lines[1:]] == [["ours", "tutorial"], ["R2", "0.8442", "0.87"],
                                                   ["RMSE", "0.1235", "0.11"]]


def test_cnn_digits_beside_the_ones_the_tutorial_states(tmp_path):
    rows = [HEADER] + [f"{digit}\t971\t26\t9023\t9\t0.9965\t0.9739\t0.9908\t0.9823\t980" for digit in range(3)]
    rows.append("overall\tNA\tNA\tNA\tNA\t0.9817\t0.9815\t0.9814\t0.9814\t10000")
    lines = report("cnn", tmp_path, {tutorial_report.CNN_METRICS: "\n".join(rows) + "\n"})
    table = {line.split()[0]: line.split() for line in lines[2:5]}
    assert table["0"] == ["0", "971", "26", "9", "0.974", "0.991", "0.982", "|", "967", "23", "13", "0.97", "0.98", "0.97"]
    assert table["1"][8:] == ["1,132", "30", "3", "-", "-", "-"]
    assert table["2"][8:] == ["-"] * 6  # the tutorial states nothing for digit 2
    assert lines[-1].startswith("accuracy  0.9817")


@pytest.mark.parametrize("name, files, message", [
    ("rnn", {}, "confusion_metrics.tsv is missing"),
    ("rnn", {tutorial_report.RNN_METRICS: "TP\tFP\n1\t2\n"}, "expected the metrics table's header"),
    ("fnn", {tutorial_report.FNN_LOG: "Traceback ...\n"}, "no line 'RMSE <number>, R2 <number> over <n> samples'"),
])
def test_an_output_not_as_expected_is_one_clear_error(tmp_path, name, files, message):
    with pytest.raises(tutorial_report.ReportError, match=message):
        report(name, tmp_path, files)
