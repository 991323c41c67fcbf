"""The benchmark's pure helpers: epoch-line parsing, FLOP accounting, scores, data slicing, tool inputs."""
import gzip
import json

import pytest

import bench

KERAS_OUTPUT = """Epoch 1/2
157/157 - 95s - 583ms/step - acc: 0.6611 - loss: 0.6033 - val_acc: 0.7954 - val_loss: 0.4493
Epoch 2/2
157/157 - 88s - 540ms/step - acc: 0.8541 - loss: 0.3487 - val_acc: 0.8478 - val_loss: 0.3596
BENCH_RESULT {"fit_s": 183.5}
"""


def test_parse_epochs_reads_keras_verbose_2_lines():
    epochs = bench.parse_epochs(KERAS_OUTPUT)
    assert epochs == [{"epoch_s": 95.0, "step_s": pytest.approx(0.583), "steps": 157},
                      {"epoch_s": 88.0, "step_s": pytest.approx(0.540), "steps": 157}]
    other_units = bench.parse_epochs("4/4 - 5s - 1s/step - acc: 0.5\n4/4 - 3s - 652us/step")
    assert [epoch["step_s"] for epoch in other_units] == [1.0, pytest.approx(652e-6)]
    assert bench.child_result(KERAS_OUTPUT) == {"fit_s": 183.5}


def test_lstm_flops_match_the_issue():
    """2 x 4 gates x (32 + 100) x 100 per sample-step, 500 steps; backward twice the forward."""
    assert bench.LSTM_FORWARD_FLOPS == 2 * 4 * 132 * 100 * 500 == 52_800_000
    rates = bench.training_rates(bench.parse_epochs(KERAS_OUTPUT), n_train=20000, n_val=5000)
    assert rates["epoch_s"] == [95.0, 88.0]
    assert rates["samples_per_s"] == pytest.approx(20000 / 88)
    assert rates["lstm_gflops"] == pytest.approx((3 * 20000 + 5000) * 52.8e6 / 88 / 1e9)
    assert rates["lstm_gflops_steady"] == pytest.approx(3 * 128 * 52.8e6 / 0.540 / 1e9)


def test_scores():
    result = bench.scores([0, 1, 1, 1], [0, 1, 0, 1])
    assert result["accuracy"] == 0.75
    assert result["f1"] == pytest.approx(0.8)  # precision 1, recall 2/3


def test_prepare_data_slices_gzipped_tables(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    for name in ("X_train", "y_train", "X_test", "y_test"):
        with gzip.open(source / f"{name}.tsv.gz", "wt") as handle:
            handle.write("".join(f"{row}\t{row + 1}\n" for row in range(10)))
    work = tmp_path / "work"
    work.mkdir()
    paths = bench.prepare_data(source, work, train_rows=4, test_rows=None)
    assert paths["X_train"].read_text().splitlines() == ["0\t1", "1\t2", "2\t3", "3\t4"]
    assert len(paths["y_test"].read_text().splitlines()) == 10


def test_tool_inputs_are_json_with_the_tutorial_settings():
    inputs = bench.tool_inputs()
    config = inputs["config"]()["model_selection"]
    assert config["input_shape"] == "(500,)"
    assert [layer["layer_selection"]["layer_type"] for layer in config["layers"]] == ["Embedding", "LSTM", "Dense"]
    fit = inputs["builder"]("model.json")["mode_selection"]["fit_params"]
    assert (fit["epochs"], fit["batch_size"]) == (2, 128)
    train = inputs["train"]("m.h5mlm", "X.tsv", "y.tsv")
    assert train["experiment_schemes"]["test_split"]["split_algos"]["test_size"] == 0.2
    assert train["input_options"]["infile1"] == "X.tsv" and train["input_options"]["infile2"] == "y.tsv"
    visualize = inputs["visualize"]("y.tsv", "pred.tsv")["plotting_selection"]
    assert visualize["infile_true"] == "y.tsv" and visualize["header_predicted"] is True
    json.dumps([inputs["predict"]("m", "X"), visualize])  # everything is plain JSON
