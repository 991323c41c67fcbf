"""keras_train_and_eval: training a tiny model, its outputs, reproducibility, and clear errors."""
from pathlib import Path

import numpy as np
import pytest

import keras_train_and_eval as kte
from gxkeras.galaxy.errors import ToolInputError
from gxkeras.keras.estimators import make_estimator
from gxkeras.train.swapping import swapped_parameters
from gxkeras.modelfile.h5mlm import load_estimator, save_estimator
from repo_paths import ROOT, SCRIPTS, TEST_DATA

SCRIPT = SCRIPTS / "keras_train_and_eval.py"


def tsv(rows):
    return "".join("\t".join(str(value) for value in row) + "\n" for row in np.atleast_2d(rows))


@pytest.fixture
def classification_data(write_text):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5)).round(3)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return write_text(tsv(X), "X.tsv"), write_text(tsv(y.reshape(-1, 1)), "y.tsv")


def write_model(folder, learning_type="KerasGClassifier", loss="binary_crossentropy", metrics=("acc",), units=1,
                activation="sigmoid", n_features=5, epochs=2, seed=42):
    """Write an untrained h5mlm (a small Dense network) in ``folder`` and return its path."""
    from gxkeras.keras.environment import import_keras

    keras = import_keras()
    model = keras.Sequential([keras.Input((n_features,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(units, activation=activation)])
    estimator = make_estimator(learning_type, model.get_config(), "sequential", loss=loss, optimizer="adam",
                               learning_rate=0.01, metrics=list(metrics), epochs=epochs, batch_size=16,
                               validation_split=0.1, verbose=2, seed=seed)
    path = str(folder / f"{learning_type}_{units}.h5mlm")
    save_estimator(estimator, path)
    return path


@pytest.fixture
def make_model(tmp_path):
    """``make(...)`` writes an untrained h5mlm in tmp_path (the arguments of :func:`write_model` after its folder)."""
    return lambda *args, **options: write_model(tmp_path, *args, **options)


def split_algos(shuffle="simple", test_size=0.25, random_state=None, **more):
    return {"split_algos": {"shuffle": shuffle, "test_size": test_size, "random_state": random_state, **more}}


def params(model, X, y, scheme="train_val", primary="default", secondary=None, header=False,
           shuffle="simple", x_selector=None, swaps=None, save=("save_estimator", "save_prediction", "save_csvlogger")):
    """The inputs JSON as Galaxy writes it for the form (the Galaxy-ML tool's layout)."""
    experiment = {"__current_case__": 0, "selected_exp_scheme": scheme, "infile_estimator": model,
                  "hyperparams_swapping": {"param_set": [{"__index__": index, "sp_name": name, "sp_value": value}
                                                         for index, (name, value) in enumerate(swaps or [(None, "")])]},
                  "test_split": split_algos(shuffle),
                  "metrics": {"scoring": {"primary_scoring": primary, "secondary_scoring": secondary}}}
    if scheme == "train_val_test":
        experiment["val_split"] = split_algos(shuffle)
    return {"experiment_schemes": experiment,
            "input_options": {"selected_input": "tabular",
                              "infile1": X, "header1": header,
                              "column_selector_options_1": x_selector or {"selected_column_selector_option": "all_columns"},
                              "infile2": y, "header2": header,
                              "column_selector_options_2": {"selected_column_selector_option2": "all_columns"}},
            "save": list(save)}


def outputs(tmp_path, history=True, predictions=True):
    names = ["outfile_result", "outfile_object", "outfile_weights"]
    names += ["outfile_history"] if history else []
    names += ["outfile_y_true", "outfile_y_preds"] if predictions else []
    return {name: str(tmp_path / f"{name}.out") for name in names}


def read(path):
    return [line.split("\t") for line in Path(path).read_text().splitlines()]


def test_trains_and_writes_every_output(tmp_path, make_model, classification_data):
    out = outputs(tmp_path)
    kte.train_and_evaluate(params(make_model(), *classification_data, scheme="train_val_test",
                   secondary=["f1", "roc_auc", "precision", "recall"]), out)
    result = read(out["outfile_result"])
    assert result[0] == ["metric", "validation", "test"]
    assert [row[0] for row in result[1:]] == ["accuracy", "f1", "roc_auc", "precision", "recall", "loss"]
    for row in result[1:-1]:
        assert all(0 <= float(value) <= 1 for value in row[1:]), row
    history = read(out["outfile_history"])
    assert history[0] == ["epoch", "acc", "loss", "val_acc", "val_loss"]
    assert [row[0] for row in history[1:]] == ["1", "2"]
    # 60 samples: 15 test; of the other 45, 12 validation
    assert len(read(out["outfile_y_true"])) == 16
    preds = read(out["outfile_y_preds"])
    assert preds[0] == ["y_preds", "probability_0", "probability_1"] and len(preds) == 16
    assert {row[0] for row in preds[1:]} <= {"0", "1"}
    trained = load_estimator(out["outfile_object"], "trained")
    assert trained.predict(np.zeros((3, 5)), verbose=0).shape[0] == 3
    import h5py
    with h5py.File(out["outfile_weights"]) as handle:
        assert "layers" in handle


def test_seed_makes_training_reproducible(tmp_path, make_model, classification_data):
    model = make_model()
    results = []
    for run in range(2):
        out = {name: path + str(run) for name, path in outputs(tmp_path).items()}
        kte.train_and_evaluate(params(model, *classification_data, secondary=["roc_auc"]), out)
        results.append((Path(out["outfile_result"]).read_text(), Path(out["outfile_history"]).read_text()))
    assert results[0] == results[1]


def test_regression_with_header_and_column_selection(tmp_path, make_model, write_text):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 4)).round(3)
    y = X @ np.array([1.0, -1.0, 0.5, 2.0]) + 3
    rows = np.hstack([np.arange(40).reshape(-1, 1), X])
    x_path = write_text("id\ta\tb\tc\td\n" + tsv(rows), "X.tsv")
    y_path = write_text("target\n" + tsv(y.reshape(-1, 1).round(3)), "y.tsv")
    out = outputs(tmp_path, history=False)
    kte.train_and_evaluate(params(make_model("KerasGRegressor", "mse", ["mae"], activation="linear", n_features=4), x_path, y_path,
                   header=True, secondary=["neg_mean_absolute_error", "neg_root_mean_squared_error"],
                   x_selector={"selected_column_selector_option": "all_but_by_header_name", "col1": "id"}), out)
    result = read(out["outfile_result"])
    assert [row[0] for row in result] == ["metric", "r2", "neg_mean_absolute_error", "neg_root_mean_squared_error", "loss"]
    assert read(out["outfile_y_preds"])[0] == ["y_preds"]


def test_imdb_slice_with_the_committed_untrained_model(tmp_path):
    out = outputs(tmp_path, predictions=False)
    kte.train_and_evaluate(params(str(TEST_DATA / "imdb_untrained.h5mlm"), str(TEST_DATA / "imdb_X_test.tsv"),
                   str(TEST_DATA / "imdb_y_test.tsv"), shuffle="stratified"), out)
    assert len(read(out["outfile_history"])) == 3  # header + 2 epochs


@pytest.mark.parametrize("case, message", [
    ("rows", "Training samples dataset has 60 rows but Dataset containing class labels or target values has 59"),
    ("labels", "Dataset containing class labels or target values: line 4 is 2, but the model ends in one sigmoid unit"),
    ("text", "Training samples dataset: line 2, column 3 is 'abc', expected a finite number"),
    ("width", "Training samples dataset: 5 columns, but the model's input shape is \\(3,\\)"),
    ("one_class", "every sample has the label 1"),
    ("metric", "Metrics for evaluation: r2 does not apply to a classification model"),
    ("not_h5", "Choose the dataset containing pipeline/estimator object .*: not an HDF5 file"),
    ("stratified_regression", "Validation holdout: stratified splitting needs class labels"),
])
def test_bad_input_gives_one_clear_error(tmp_path, write_text, make_model, classification_data, case, message):
    X, y = classification_data
    model = make_model()
    X_rows, y_rows = Path(X).read_text().splitlines(True), Path(y).read_text().splitlines(True)
    arguments = {}
    if case == "rows":
        y = write_text("".join(y_rows[:-1]), "y_short.tsv")
    elif case == "labels":
        y_rows[3] = "2\n"
        y = write_text("".join(y_rows), "y_bad.tsv")
    elif case == "text":
        cells = X_rows[1].split("\t")
        cells[2] = "abc"
        X_rows[1] = "\t".join(cells)
        X = write_text("".join(X_rows), "X_bad.tsv")
    elif case == "width":
        model = make_model(n_features=3)
    elif case == "one_class":
        y = write_text("1\n" * 60, "y_one.tsv")
    elif case == "metric":
        arguments["primary"] = "r2"
    elif case == "not_h5":
        model = X
    elif case == "stratified_regression":
        model = make_model("KerasGRegressor", "mean_squared_error", ["mae"], activation="linear")
        arguments["shuffle"] = "stratified"
    with pytest.raises(ToolInputError, match=message):
        kte.train_and_evaluate(params(model, X, y, **arguments), outputs(tmp_path))


def test_embedding_needs_word_indices(tmp_path, write_text):
    X = np.loadtxt(TEST_DATA / "imdb_X_test.tsv", dtype=int)[:20]
    X[5, 7] = 10000
    with pytest.raises(ToolInputError, match="Training samples dataset: line 6, selected column 8 is 10000; the "
                                             "model starts with an Embedding of input_dim 10000"):
        kte.train_and_evaluate(params(str(TEST_DATA / "imdb_untrained.h5mlm"), write_text(tsv(X), "X.tsv"),
                       write_text(tsv(np.array([[0], [1]] * 10)), "y.tsv")), outputs(tmp_path))


def test_script_failure_leaves_no_outputs(tmp_path, write_inputs, write_text, make_model, classification_data,
                                         run_script):
    X, _ = classification_data
    out = outputs(tmp_path)
    for path in out.values():
        Path(path).write_text("stale")
    bad_y = write_text("0\n1\n", "y.tsv")
    argv = ["--inputs", write_inputs(params(make_model(), X, bad_y))]
    for name, path in out.items():
        argv += [f"--{name}", path]
    result = run_script(SCRIPT.name, *argv)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("Error: Training samples dataset has 60 rows")
    assert "Traceback" not in result.stderr
    assert not any(Path(path).exists() for path in out.values())


# ---- the Galaxy-ML tool's saved states and meanings ------------------------------------------------

def test_one_hot_y_trains_scores_and_predicts(tmp_path, make_model, write_text, write_inputs):
    """A 3-column one-hot y (what sklearn_to_categorical makes) with a softmax model, end to end."""
    import model_prediction as mp

    rng = np.random.default_rng(3)
    X = rng.normal(size=(90, 5)).round(3)
    labels = np.argmax(X[:, :3], axis=1)
    onehot = np.eye(3, dtype=int)[labels]
    x_path, y_path = write_text(tsv(X), "X.tsv"), write_text(tsv(onehot), "y.tsv")
    model = make_model(loss="categorical_crossentropy", units=3, activation="softmax", epochs=30)
    out = outputs(tmp_path)
    kte.train_and_evaluate(params(model, x_path, y_path, primary="f1_macro", secondary=["accuracy", "neg_log_loss",
                                                                           "precision_wighted", "roc_auc"]), out)
    result = {row[0]: float(row[1]) for row in read(out["outfile_result"])[1:]}
    assert list(result) == ["f1_macro", "accuracy", "neg_log_loss", "precision_wighted", "roc_auc", "loss"]
    assert result["accuracy"] > 0.6 and result["roc_auc"] > 0.8 and result["neg_log_loss"] < 0
    # the true values are the class indices of the one-hot rows, the predictions one probability per class
    preds = read(out["outfile_y_preds"])
    assert preds[0] == ["y_preds", "probability_0", "probability_1", "probability_2"]
    true = [int(row[0]) for row in read(out["outfile_y_true"])[1:]]
    assert set(true) <= {0, 1, 2} and len(true) == 23
    # the validation accuracy in the table is the one of the written predictions
    assert result["accuracy"] == pytest.approx(np.mean([int(p[0]) == t for p, t in zip(preds[1:], true, strict=True)]), abs=1e-6)
    # Model Prediction on the trained model gives the class indices, argmax of the probabilities
    predicted, proba = tmp_path / "pred.tsv", tmp_path / "proba.tsv"
    for method, path in (("predict", predicted), ("predict_proba", proba)):
        mp.run({"infile_estimator": out["outfile_object"], "method": method,
                "input_options": {"selected_input": "tabular", "infile1": x_path, "header1": False,
                                  "column_selector_options_1": {"selected_column_selector_option": "all_columns"}}},
               str(path))
    predicted_rows, proba_rows = read(predicted), read(proba)
    assert predicted_rows[0] == ["Predicted"] and proba_rows[0] == ["0", "1", "2"]
    assert [int(row[0]) for row in predicted_rows[1:]] == [int(np.argmax([float(v) for v in row]))
                                                            for row in proba_rows[1:]]
    assert np.mean([int(row[0]) for row in predicted_rows[1:]] == labels) > 0.6


@pytest.mark.parametrize("rows, message", [
    ([[1, 0, 0], [1, 1, 0]], "line 2 is not one-hot"),
    ([[1, 0, 0], [0, 0, 2]], "line 2 is not one-hot"),
])
def test_one_hot_y_must_be_one_hot(tmp_path, make_model, write_text, rows, message):
    X = write_text(tsv(np.zeros((2, 5))), "X.tsv")
    y = write_text(tsv(np.array(rows)), "y.tsv")
    model = make_model(loss="categorical_crossentropy", units=3, activation="softmax")
    with pytest.raises(ToolInputError, match=message):
        kte.train_and_evaluate(params(model, X, y), outputs(tmp_path))


def test_one_hot_y_width_must_match_the_model(tmp_path, make_model, write_text):
    X = write_text(tsv(np.zeros((4, 5))), "X.tsv")
    y = write_text(tsv(np.eye(4, dtype=int)), "y.tsv")
    with pytest.raises(ToolInputError, match="4 one-hot columns, but the model's last layer has 3 units"):
        kte.train_and_evaluate(params(make_model(loss="categorical_crossentropy", units=3, activation="softmax"), X, y),
                outputs(tmp_path))
    with pytest.raises(ToolInputError, match="several columns are read as one-hot classes, which needs a "
                                             "classification model"):
        kte.train_and_evaluate(params(make_model("KerasGRegressor", "mse", ["mae"], activation="linear"), X, y), outputs(tmp_path))


def test_hyperparameter_swapping_sets_the_named_parameters(tmp_path, make_model, classification_data):
    out = outputs(tmp_path)
    kte.train_and_evaluate(params(make_model(), *classification_data, swaps=[("epochs", "3"), ("layers_1_Dense__config__units", "6"),
                                                              ("learning_rate", "0.05"), ("batch_size", "")]), out)
    assert [row[0] for row in read(out["outfile_history"])[1:]] == ["1", "2", "3"]
    trained = load_estimator(out["outfile_object"], "trained")
    assert trained.epochs == 3 and trained.learning_rate == 0.05 and trained.batch_size == 16
    assert trained.config["layers"][1]["config"]["units"] == 6
    assert trained.model_.layers[0].units == 6


def test_swapped_values_keep_their_brackets():
    """The form's sanitizer lets through what swapped_parameters parses: lists, tuples, dicts, quoted strings
    (Galaxy's default character set has no brackets or braces: [1, 2] would arrive as X1, 2X)."""
    from gxkeras.galaxy import forms

    inputs, _ = forms.tool("keras_train_and_eval")
    param = next(param for param in inputs.iter("param") if param.get("name") == "sp_value")
    added = {add.get("value") for add in param.iterfind("sanitizer/valid/add")}
    assert set("[]{}'\"") <= added
    assert swapped_parameters({"param_set": [{"sp_name": "a", "sp_value": "[1, (2, 'x')]"},
                                                 {"sp_name": "b", "sp_value": "{'k': 1}"}]}) == {
        "a": [1, (2, "x")], "b": {"k": 1}}


@pytest.mark.parametrize("swap, message", [
    (("no_such_parameter", "1"), "Hyperparameter Swapping: the model has no parameter 'no_such_parameter'"),
    (("optimizer", "adamax"), "Hyperparameter Swapping, setting 1: optimizer = adamax is not a literal"),
    (("epochs", "__import__('os')"), "is not a literal"),
    (("epochs", ": sklearn_tree.ExtraTreeRegressor()"), "builds a scikit-learn object"),
    (("callbacks", "[]"), "callbacks cannot be swapped"),
    (("learning_rate", "-1"), "Hyperparameter Swapping: the model with the new values: optimizer adam: "
                              "learning_rate must be a number > 0"),
    (("layers_1_Dense__config__activation", "'no_such_activation'"), "Hyperparameter Swapping: the model with"),
    ((None, "3"), "setting 1: a new value \\(3\\) but no parameter name chosen"),
    # a training that would never end, or a batch TensorFlow cannot index: refused before training
    (("epochs", "10 ** 12"), "is not a literal"),
    (("epochs", "1000000000000"), "Hyperparameter Swapping: the model with the new values: epochs must be an "
                                  "integer from 1 to 100,000, got '1000000000000'"),
    (("batch_size", "2147483648"), "batch_size must be an integer from 1 to 2,147,483,647"),
])
def test_hyperparameter_swapping_refuses_with_one_line(tmp_path, make_model, classification_data, swap, message):
    with pytest.raises(ToolInputError, match=message):
        kte.train_and_evaluate(params(make_model(), *classification_data, swaps=[swap]), outputs(tmp_path))


def test_group_split_by_names_and_by_shuffling_groups(tmp_path, make_model, classification_data, write_text):
    X, y = classification_data
    groups = write_text("group\n" + "".join(f"chr{index % 6}\n" for index in range(60)), "groups.tsv")
    selector = {"infile_g": groups, "header_g": True,
                "column_selector_options_g": {"selected_column_selector_option_g": "by_index_number", "col_g": "1"}}
    base = params(make_model(), X, y, scheme="train_val_test")
    scheme = base["experiment_schemes"]
    scheme["test_split"] = split_algos("group", None, group_names="chr1, chr2", groups_selector=selector)
    scheme["val_split"] = split_algos("group", 1, random_state=3)
    out = outputs(tmp_path)
    kte.train_and_evaluate(base, out)
    assert len(read(out["outfile_y_true"])) == 21  # chr1 and chr2: 20 test samples, and the header
    assert read(out["outfile_result"])[0] == ["metric", "validation", "test"]
    scheme["test_split"] = split_algos("group", 0.5, random_state=1, groups_selector=selector)
    kte.train_and_evaluate(base, out)
    assert len(read(out["outfile_y_true"])) == 31  # 3 of the 6 groups


def test_holdout_size_may_be_a_number_of_samples(tmp_path, make_model, classification_data):
    base = params(make_model(), *classification_data, shuffle="None")
    base["experiment_schemes"]["test_split"] = split_algos("None", 7)
    out = outputs(tmp_path)
    kte.train_and_evaluate(base, out)
    assert len(read(out["outfile_y_true"])) == 8
    base["experiment_schemes"]["test_split"] = split_algos("simple", 2.5)
    with pytest.raises(ToolInputError, match="Holdout size 2.5 is more than 1 but not a whole number"):
        kte.train_and_evaluate(base, out)


@pytest.mark.parametrize("selected, message", [
    ("refseq_and_interval", "^Select input type: refseq_and_interval, but the model is a KerasGClassifier"),
    ("variant_effect", "^Select input type: unknown 'variant_effect'; expected one of tabular, sparse, "
                       "seq_fasta, refseq_and_interval")])
def test_other_input_types_fail_with_one_line(tmp_path, make_model, classification_data, selected, message):
    """refseq_and_interval trains a GenomicIntervalBatchGenerator model only (tests/test_genomic.py)."""
    base = params(make_model(), *classification_data)
    base["input_options"] = {"selected_input": selected}
    with pytest.raises(ToolInputError, match=message):
        kte.train_and_evaluate(base, outputs(tmp_path))


def test_sparse_matrix_trains_as_the_table(tmp_path, make_model, classification_data):
    """X as a MatrixMarket file (the old tools' sparse matrix), y as a table: the same scores as from X's table."""
    from scipy.io import mmwrite
    from scipy.sparse import coo_matrix

    X_path, y_path = classification_data
    X = np.loadtxt(X_path)
    X[np.abs(X) < 0.5] = 0.0  # sparse: about a third of the entries are zeros, left out of the file
    np.savetxt(tmp_path / "X_dense.tsv", X, delimiter="\t", fmt="%g")
    mmwrite(tmp_path / "X.mtx", coo_matrix(X))
    model = make_model()
    tabular = params(model, str(tmp_path / "X_dense.tsv"), y_path)
    sparse = params(model, None, y_path)
    sparse["input_options"] = {"selected_input": "sparse", "infile1": str(tmp_path / "X.mtx"),
                               "infile2": y_path, "header2": False,
                               "column_selector_options_2": {"selected_column_selector_option2": "all_columns"}}
    (tmp_path / "tabular").mkdir(), (tmp_path / "sparse").mkdir()
    kte.train_and_evaluate(tabular, outputs(tmp_path / "tabular"))
    kte.train_and_evaluate(sparse, outputs(tmp_path / "sparse"))
    for name in ("outfile_result", "outfile_y_true", "outfile_y_preds"):
        assert read(tmp_path / "sparse" / f"{name}.out") == read(tmp_path / "tabular" / f"{name}.out"), name
    sparse["input_options"]["infile2"] = str(tmp_path / "X_dense.tsv")
    with pytest.raises(ToolInputError, match="Dataset containing class labels or target values: .*"):
        kte.train_and_evaluate(sparse, outputs(tmp_path / "sparse"))
    sparse["input_options"]["infile1"] = y_path
    with pytest.raises(ToolInputError, match=r"^Select a sparse matrix \(.*\): not a MatrixMarket file"):
        kte.train_and_evaluate(sparse, outputs(tmp_path / "sparse"))


def test_binarize_scorers_are_refused_before_training(tmp_path, make_model, classification_data):
    with pytest.raises(ToolInputError, match="binarize_auc_scorer scores Galaxy-ML's binarized-target estimators"):
        kte.train_and_evaluate(params(make_model(), *classification_data, primary="binarize_auc_scorer"), outputs(tmp_path))


def test_save_selects_the_outputs(tmp_path, write_inputs, make_model, classification_data, run_script):
    """Only the evaluation table when nothing is saved (the command line then names no other output)."""
    out = tmp_path / "result.tsv"
    result = run_script(SCRIPT.name, "--inputs", write_inputs(params(make_model(), *classification_data, save=())),
                        "--outfile_result", out)
    assert result.returncode == 0, result.stderr
    assert read(out)[0] == ["metric", "validation"]
    assert sorted(path.name for path in tmp_path.iterdir() if path.suffix in (".out", ".tsv")) == [
        "X.tsv", "result.tsv", "y.tsv"]


def test_the_gtn_rnn_state_runs_with_its_meaning(tmp_path):
    """The RNN tutorial's saved tool state (workflows/gtn), its datasets given: f1 is the primary score."""
    import json

    workflow = json.loads((ROOT / "workflows" / "gtn" / "Intro_To_RNN_v1_0_10_0.ga").read_text())
    step = next(step for step in workflow["steps"].values() if step.get("tool_id") == "keras_train_and_eval")
    state = json.loads(step["tool_state"])
    state["experiment_schemes"]["infile_estimator"] = str(TEST_DATA / "imdb_untrained.h5mlm")
    state["experiment_schemes"]["test_split"]["split_algos"]["test_size"] = 0.2  # Galaxy's inputs JSON has numbers
    state["input_options"].update(infile1=str(TEST_DATA / "imdb_X_test.tsv"), infile2=str(TEST_DATA / "imdb_y_test.tsv"))
    out = {"outfile_result": str(tmp_path / "result.tsv"), "outfile_object": str(tmp_path / "model.h5mlm"),
           "outfile_weights": str(tmp_path / "weights.h5")}
    kte.train_and_evaluate(state, out)
    result = read(out["outfile_result"])
    assert result[0] == ["metric", "validation"] and [row[0] for row in result[1:]] == ["f1", "loss"]
    assert 0 <= float(result[1][1]) <= 1


# ---- callbacks the trainer builds, class weights, multi-class ------------------------------------

def regression_estimator(callbacks, epochs=6, learning_rate=0.05):
    """An untrained KerasGRegressor (Dense 5 -> 4 -> 1) with the given checked callback dicts."""
    from gxkeras.keras.environment import import_keras

    keras = import_keras()
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)])
    return make_estimator("KerasGRegressor", model.get_config(), "sequential", loss="mean_squared_error",
                          optimizer="adam", learning_rate=learning_rate, metrics=["mae"], epochs=epochs,
                          batch_size=16, validation_split=0.1, verbose=0, seed=1, callbacks=callbacks)


def regression_arrays():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(80, 5))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0, 1.5]) + rng.normal(scale=0.1, size=80)
    return X[:60], y[:60], X[60:], y[60:]


def checkpoint(**options):
    return [{"callback_selection": {"callback_type": "ModelCheckpoint", "monitor": "val_loss", **options}}]


@pytest.mark.parametrize("save_weights_only", [True, False])
def test_model_checkpoint_gives_the_model_the_best_epochs_weights(tmp_path, monkeypatch, capsys, save_weights_only):
    """mode max on val_loss picks the worst epoch (the first, as the loss falls): never the last one's weights."""
    from gxkeras.keras.callbacks import CHECKPOINT

    monkeypatch.chdir(tmp_path)
    X, y, X_val, y_val = regression_arrays()
    estimator = regression_estimator(checkpoint(mode="max", save_best_only=True, save_weights_only=save_weights_only))
    history = kte.train(estimator, X, y, X_val, y_val)
    val_loss = history.history["val_loss"]
    assert val_loss[0] == max(val_loss) and val_loss[-1] < val_loss[0] * 0.8
    evaluated = estimator.model_.evaluate(X_val, y_val, verbose=0, return_dict=True)["loss"]
    assert evaluated == pytest.approx(val_loss[0], rel=1e-4)
    assert (tmp_path / CHECKPOINT[save_weights_only]).exists()  # the fixed file, in the working directory
    assert f"the weights of epoch 1 of 6 (val_loss {val_loss[0]:.6g})" in capsys.readouterr().out


def test_model_checkpoint_of_the_lowest_val_loss(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "checkpoint.weights.h5").write_text("stale file of another job")  # removed, never read
    X, y, X_val, y_val = regression_arrays()
    estimator = regression_estimator(checkpoint(mode="auto", save_best_only=True))
    history = kte.train(estimator, X, y, X_val, y_val)
    evaluated = estimator.model_.evaluate(X_val, y_val, verbose=0, return_dict=True)["loss"]
    assert evaluated == pytest.approx(min(history.history["val_loss"]), rel=1e-4)


def test_model_checkpoint_of_an_unreported_quantity_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    estimator = regression_estimator(checkpoint(monitor="val_acc", mode="max", save_best_only=True), epochs=1)
    with pytest.raises(ToolInputError, match=r"ModelCheckpoint monitors val_acc, which training does not report; "
                                             r"choose one of loss, mae, val_loss, val_mae"):
        kte.train(estimator, *regression_arrays())


@pytest.mark.parametrize("options, rates", [
    ({"schedule": "step_decay", "drop": 0.5, "epochs_drop": 2}, [0.01, 0.01, 0.005, 0.005, 0.0025]),
    ({"schedule": "exponential_decay", "decay_rate": 0.5}, [0.01 * np.exp(-0.5 * epoch) for epoch in range(5)]),
])
def test_learning_rate_scheduler_lowers_the_optimizers_rate(options, rates):
    estimator = regression_estimator([{"callback_selection": {"callback_type": "LearningRateScheduler", **options}}],
                                     epochs=5, learning_rate=0.01)
    history = kte.train(estimator, *regression_arrays())
    assert history.history["learning_rate"] == pytest.approx(rates, rel=1e-5)


def imbalanced(folder):
    """90 % class 0; the classes overlap, so an unweighted model predicts class 1 rarely."""
    rng = np.random.default_rng(7)
    y = (rng.random(200) < 0.1).astype(int)
    X = (rng.normal(size=(200, 5)) + 0.8 * y[:, None]).round(3)
    (folder / "X.tsv").write_text(tsv(X))
    (folder / "y.tsv").write_text(tsv(y.reshape(-1, 1)))
    return str(folder / "X.tsv"), str(folder / "y.tsv")


def class_weight_recalls(folder, model, x_path, y_path, choice):
    """recall and balanced_accuracy of the model trained 20 epochs with the class weight ``choice`` (None: none)."""
    out = outputs(folder)
    inputs = params(model, x_path, y_path, primary="recall", secondary=["balanced_accuracy"], shuffle="stratified")
    inputs["experiment_schemes"]["test_split"]["split_algos"]["test_size"] = 0.3
    kte.train_and_evaluate({**inputs, "class_weights": [{"class_weight_selection": choice}] if choice else []}, out)
    return {row[0]: float(row[1]) for row in read(out["outfile_result"])[1:]}


@pytest.fixture(scope="module")
def unweighted(tmp_path_factory):
    """The imbalanced data, the model, and its scores trained without class weights: the baseline of every
    class weight choice below, trained once (the run is deterministic: seed 42, same files)."""
    folder = tmp_path_factory.mktemp("unweighted")
    x_path, y_path = imbalanced(folder)
    model = write_model(folder, epochs=20)
    return model, x_path, y_path, class_weight_recalls(folder, model, x_path, y_path, None)


@pytest.mark.parametrize("selection", [{"class_weight_type": "balanced"},
                                       {"class_weight_type": "mapping", "class_weight": "{0: 1, 1: 9}"},
                                       {"class_weight_type": "mapping", "class_weight": "1: 9"}])
def test_class_weight_changes_training_on_imbalanced_classes(tmp_path, unweighted, capsys, selection):
    model, x_path, y_path, none = unweighted
    capsys.readouterr()
    weighted = class_weight_recalls(tmp_path, model, x_path, y_path, selection)
    # the minority class is found far more often when it weighs more, and the balance improves
    assert weighted["recall"] >= none["recall"] + 0.3
    assert weighted["balanced_accuracy"] > none["balanced_accuracy"]
    assert "Class weights (class: weight): 0: " in capsys.readouterr().out


@pytest.mark.parametrize("selection, learning_type, message", [
    ({"class_weight_type": "balanced"}, "KerasGRegressor", "balanced weights classes, and this is a regression model"),
    ({"class_weight_type": "mapping", "class_weight": "0: 1, 1: -2"}, "KerasGClassifier", "weights must be numbers from 0"),
    # an int too large for a float: float() and np.isfinite() raised OverflowError and TypeError (tracebacks)
    ({"class_weight_type": "mapping", "class_weight": "0: 1, 1: " + "9" * 400}, "KerasGClassifier",
     "weights must be numbers from 0 to 3.4e\\+38"),
    ({"class_weight_type": "mapping", "class_weight": "9" * 400 + ": 1"}, "KerasGClassifier", "is not a mapping"),
    ({"class_weight_type": "mapping", "class_weight": "0: 1, 1: 1e39"}, "KerasGClassifier",  # inf in float32
     "weights must be numbers from 0 to 3.4e\\+38"),
    ({"class_weight_type": "mapping", "class_weight": "{'a': 1}"}, "KerasGClassifier", "is not a mapping of class labels"),
    ({"class_weight_type": "mapping", "class_weight": "__import__('os')"}, "KerasGClassifier", "is not a mapping"),
    ({"class_weight_type": "mapping", "class_weight": "{0: 1, 5: 2}"}, "KerasGClassifier",
     r"Class weights: 5 is not a class of the training set \(0, 1\)"),
    ({"class_weight_type": "none"}, "KerasGClassifier", "unknown 'none'"),
])
def test_bad_class_weights_give_one_line(tmp_path, make_model, classification_data, selection, learning_type, message):
    model = make_model(learning_type=learning_type, loss="mean_squared_error" if learning_type == "KerasGRegressor"
                       else "binary_crossentropy", metrics=("mae",), activation="linear" if learning_type ==
                       "KerasGRegressor" else "sigmoid")
    with pytest.raises(ToolInputError, match=message):
        kte.train_and_evaluate({**params(model, *classification_data), "class_weights": [{"class_weight_selection": selection}]},
                outputs(tmp_path))


@pytest.mark.parametrize("onehot", [False, True])
def test_softmax_with_sparse_labels_end_to_end(tmp_path, make_model, write_text, onehot):
    """sparse_categorical_crossentropy on labels 1..3 in one column, or on a one-hot y (then class indices)."""
    rng = np.random.default_rng(11)
    X = rng.normal(size=(90, 5)).round(3)
    labels = np.argmax(X[:, :3], axis=1)
    y = np.eye(3, dtype=int)[labels] if onehot else (labels + 1).reshape(-1, 1)
    model = make_model(loss="sparse_categorical_crossentropy", units=3, activation="softmax", epochs=30)
    out = outputs(tmp_path)
    kte.train_and_evaluate(params(model, write_text(tsv(X), "X.tsv"), write_text(tsv(y), "y.tsv"), primary="accuracy",
                   secondary=["f1_weighted", "neg_log_loss"], shuffle="stratified"), out)
    result = {row[0]: float(row[1]) for row in read(out["outfile_result"])[1:]}
    assert result["accuracy"] > 0.6 and result["neg_log_loss"] < 0
    expected = ["0", "1", "2"] if onehot else ["1", "2", "3"]
    assert read(out["outfile_y_preds"])[0] == ["y_preds", *(f"probability_{label}" for label in expected)]
    assert {row[0] for row in read(out["outfile_y_preds"])[1:]} <= set(expected)


def test_batch_classifier_model_trains_only_on_sequences(tmp_path, make_model, classification_data):
    """A KerasGBatchClassifier (here as galaxy-ml writes it: no generator) is not trained on a table."""
    import h5py

    model = make_model()
    with h5py.File(model, "r+") as handle:
        del handle["-keras_models-/0/class_name"]
        handle["-keras_models-/0/class_name"] = b"KerasGBatchClassifier"
    with pytest.raises(ToolInputError, match=r"^Select input type: tabular, but the model is a KerasGBatchClassifier: "
                                             r"a KerasGBatchClassifier \('Build Deep learning Batch Training Models'\) "
                                             "trains on sequences in a fasta file"):
        kte.train_and_evaluate(params(model, *classification_data), outputs(tmp_path))


def test_one_hot_targets_beyond_the_jobs_memory_are_refused_before_training(tmp_path, make_model, write_text,
                                                                           monkeypatch):
    """4,500 training samples of 1,500 classes for categorical_crossentropy: galaxy-ml's to_categorical makes a
    54 MB float64 one-hot table, Keras a float32 copy; the budget is set below it."""
    from gxkeras.galaxy import memory

    model = make_model(loss="categorical_crossentropy", activation="softmax", units=1500, metrics=("acc",))
    X = write_text("".join("\t".join(["0.5"] * 5) + "\n" for _ in range(6000)), "X.tsv")
    y = write_text("".join(f"{i % 1500}\n" for i in range(6000)), "y.tsv")
    monkeypatch.setenv(memory.LIMIT_VARIABLE, str(48 * 1024 ** 2))
    with pytest.raises(ToolInputError, match=r"^Dataset containing class labels or target values: the one-hot targets of "
                                             r"4,500 training samples x 1,500 classes needs 77\.2 MB, more than half of "
                                             r"the 48\.0 MB .*; a model with this many classes needs sparse_categorical"):
        kte.train_and_evaluate(params(model, X, y, shuffle="stratified"), outputs(tmp_path))
    assert not any(Path(path).exists() for path in outputs(tmp_path).values())
