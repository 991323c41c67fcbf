"""model_prediction: chunked prediction, weights, column selection and clear errors."""
import json
from pathlib import Path

import numpy as np
import pytest

import model_prediction as mp
from gxkeras.modelfile.lockdown import MODE_VARIABLE
from gxkeras.galaxy.errors import ToolInputError
from repo_paths import TEST_DATA



@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small trained KerasGClassifier like the tutorial's, saved as h5mlm, and its weights files."""
    from gxkeras.keras.environment import import_keras

    keras = import_keras()
    from galaxy_ml.keras_galaxy_models import KerasGClassifier

    from gxkeras.modelfile.h5mlm import save_estimator

    model = keras.Sequential([keras.Input(shape=(100,)), keras.layers.Embedding(10000, 4),
                              keras.layers.LSTM(4), keras.layers.Dense(1, activation="sigmoid")])
    config = json.loads(model.to_json())["config"]
    clf = KerasGClassifier(config=config, loss="binary_crossentropy", optimizer="adam", epochs=1,
                           batch_size=32, seed=0, verbose=0)
    X = np.loadtxt(TEST_DATA / "imdb_X_train.tsv", dtype="int64")[:64]
    y = np.loadtxt(TEST_DATA / "imdb_y_train.tsv", dtype="int64")[:64]
    clf.fit(X, y)
    folder = tmp_path_factory.mktemp("model")
    paths = {"model": str(folder / "model.h5mlm"), "legacy": str(folder / "legacy.h5"),
             "keras3": str(folder / "k3.dat")}
    save_estimator(clf, paths["model"])
    clf.save_weights(paths["legacy"])
    # Keras 3 weights of the same architecture with other values, in a Galaxy-like file name.
    other = keras.models.model_from_json(clf.model_.to_json())
    other.set_weights([w + 0.05 * (i + 1) for i, w in enumerate(clf.model_.get_weights())])
    other.save_weights(str(folder / "k3.weights.h5"))
    Path(folder / "k3.weights.h5").rename(paths["keras3"])
    return clf, other, paths


def params(model, data, method="predict", header=False, selection=None, weights=None):
    return {
        "infile_estimator": model, "weights": [{"infile_weights": weights}] if weights else [], "method": method,
        "input_options": {"selected_input": "tabular", "infile1": data, "header1": header,
                          "column_selector_options_1": selection or {"selected_column_selector_option": "all_columns"}},
    }


def read_output(path):
    lines = Path(path).read_text().splitlines()
    return lines[0].split("\t"), np.array([line.split("\t") for line in lines[1:]], dtype="float64")


X_TEST = str(TEST_DATA / "imdb_X_test.tsv")


def test_predict_in_chunks_equals_one_shot(trained, tmp_path):
    clf, _, paths = trained
    out = str(tmp_path / "out.tsv")
    rows = mp.run(params(paths["model"], X_TEST), out, chunk_rows=48)  # 200 rows: 4 full chunks and one of 8
    names, values = read_output(out)
    assert rows == 200 and names == ["Predicted"]
    expected = clf.predict(np.loadtxt(X_TEST, dtype="int64"), verbose=0).ravel()
    assert values.ravel().tolist() == expected.tolist()
    assert set(values.ravel()) <= {0, 1}
    assert not (tmp_path / "out.tsv.part").exists()


def test_predict_proba(trained, tmp_path):
    clf, _, paths = trained
    out = str(tmp_path / "out.tsv")
    mp.run(params(paths["model"], X_TEST, method="predict_proba"), out, chunk_rows=64)
    names, values = read_output(out)
    assert names == ["0", "1"]
    assert values.shape == (200, 2)
    assert ((values >= 0) & (values <= 1)).all()
    np.testing.assert_allclose(values.sum(axis=1), 1, atol=2e-6)
    expected = clf.predict_proba(np.loadtxt(X_TEST, dtype="int64"), verbose=0)
    np.testing.assert_allclose(values, expected, atol=1e-6)
    # predict agrees with the probabilities
    mp.run(params(paths["model"], X_TEST), out)
    assert read_output(out)[1].ravel().tolist() == (values[:, 1] > 0.5).astype(int).tolist()


def test_header_and_column_selection(trained, tmp_path, write_text):
    """A header line and an extra id column, dropped by the column selector, give the same predictions."""
    _, _, paths = trained
    X = np.loadtxt(X_TEST, dtype="int64")[:30]
    lines = ["id\t" + "\t".join(f"w{i}" for i in range(100))]
    lines += [f"r{n}\t" + "\t".join(map(str, row)) for n, row in enumerate(X)]
    data = write_text("\n".join(lines) + "\n", "with_header.tsv")
    plain = write_text("\n".join("\t".join(map(str, row)) for row in X) + "\n", "plain.tsv")
    out1, out2, out3 = (str(tmp_path / f"o{i}.tsv") for i in range(3))
    mp.run(params(paths["model"], plain, "predict_proba"), out1)
    mp.run(params(paths["model"], data, "predict_proba", header=True, selection={
        "selected_column_selector_option": "all_but_by_header_name", "col1": "id"}), out2, chunk_rows=4)
    mp.run(params(paths["model"], data, "predict_proba", header=True, selection={
        "selected_column_selector_option": "by_index_number", "col1": [str(i) for i in range(2, 102)]}), out3)
    assert Path(out1).read_text() == Path(out2).read_text() == Path(out3).read_text()


@pytest.mark.parametrize("kind", ["legacy", "keras3"])
def test_weights_are_loaded(trained, tmp_path, kind):
    clf, other, paths = trained
    out = str(tmp_path / "out.tsv")
    mp.run(params(paths["model"], X_TEST, "predict_proba", weights=paths[kind]), out)
    X = np.loadtxt(X_TEST, dtype="int64")
    source = clf.model_ if kind == "legacy" else other
    expected = source.predict(X, verbose=0).ravel()
    np.testing.assert_allclose(read_output(out)[1][:, 1], expected, atol=1e-6)


def test_weights_not_matching_the_model(trained, tmp_path):
    from gxkeras.keras.environment import import_keras

    keras = import_keras()
    small = keras.Sequential([keras.Input(shape=(100,)), keras.layers.Dense(1)])
    path = tmp_path / "small.weights.h5"
    small.save_weights(str(path))
    out = str(tmp_path / "out.tsv")
    with pytest.raises(ToolInputError, match="Choose the dataset containing weights for the estimator above"):
        mp.run(params(trained[2]["model"], X_TEST, weights=str(path)), out)
    assert not Path(out).exists()


@pytest.mark.parametrize("text, message", [
    ("1\t2\t3\n", "Training samples dataset: the selected data has 3 columns, but the model expects 100"),
    ("\t".join(["1"] * 99 + ["10000"]) + "\n", "line 1, selected column 100 is 10000; .*word index 0..9999"),
    ("\t".join(["1"] * 99 + ["x"]) + "\n", "Training samples dataset: line 1, column 100 is 'x'"),
])
def test_bad_data(trained, tmp_path, write_text, text, message):
    out = tmp_path / "out.tsv"
    with pytest.raises(ToolInputError, match=message):
        mp.run(params(trained[2]["model"], write_text(text)), str(out))
    assert not out.exists() and not Path(str(out) + ".part").exists()


def test_not_a_model(tmp_path, write_text):
    with pytest.raises(ToolInputError, match="Choose the dataset containing pipeline/estimator object .*not an HDF5 file"):
        mp.run(params(write_text("1\t2\n", "model.dat"), X_TEST), str(tmp_path / "out.tsv"))


def test_command_line_failure_leaves_no_output(trained, tmp_path, write_inputs, write_text, run_script):
    """The script's command line as Galaxy runs it: one Error line, exit 1, the (pre-created) output removed."""
    out = tmp_path / "out.tsv"
    out.write_text("")  # Galaxy creates the output file before the job runs
    inputs = write_inputs(params(trained[2]["model"], write_text("1\t2\n")))
    result = run_script("model_prediction.py", "--inputs", inputs, "--outfile", out)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert errors == ["Error: Training samples dataset: the selected data has 2 columns, but the model expects 100 "
                      "(input shape (100,)); check the columns selected and the header option"]
    assert not out.exists()


UNTRAINED = TEST_DATA / "imdb_untrained.h5mlm"
ALL_POSITIVE = TEST_DATA / "imdb_all_positive.weights.h5"


@pytest.mark.skipif(not (UNTRAINED.exists() and ALL_POSITIVE.exists()), reason="test-data chain files not made yet")
def test_untrained_model_needs_weights(tmp_path):
    """keras_model_builder's untrained model predicts with the weights given, and refuses without."""
    out = tmp_path / "out.tsv"
    with pytest.raises(ToolInputError, match="the model has not been trained .*give its weights"):
        mp.run(params(str(UNTRAINED), X_TEST), str(out))
    assert not out.exists()
    mp.run(params(str(UNTRAINED), X_TEST, weights=str(ALL_POSITIVE)), str(out))
    assert out.read_text() == "Predicted\n" + "1\n" * 200


@pytest.mark.parametrize("selected, message", [
    ("refseq_and_interval", "^Select input data type for prediction: unknown 'refseq_and_interval'; "
                            "expected one of tabular, sparse, seq_fasta, variant_effect"),
    ("variant_effect", "^Dataset containing reference genomic sequence: no dataset given")])
def test_other_input_types_fail_with_one_line(tmp_path, selected, message):
    """The job stops on an input type it does not have or a missing dataset; it never ignores them
    (variant_effect itself: tests/test_genomic.py)."""
    out = tmp_path / "out.tsv"
    with pytest.raises(ToolInputError, match=message):
        mp.run({"infile_estimator": str(TEST_DATA / "imdb_trained.h5mlm"), "method": "predict",
                "input_options": {"selected_input": selected}}, str(out))
    assert not out.exists()


def test_at_most_one_weights_dataset(tmp_path):
    with pytest.raises(ToolInputError, match="2 weights datasets given; give at most one"):
        mp.run({"infile_estimator": str(TEST_DATA / "imdb_trained.h5mlm"), "method": "predict",
                "weights": [{"infile_weights": "a"}, {"infile_weights": "b"}],
                "input_options": {"selected_input": "tabular", "infile1": X_TEST}}, str(tmp_path / "out.tsv"))


# ---- the old tools' sparse matrix input (MatrixMarket) -------------------------------------------

def sparse_params(model, data, method="predict"):
    """The form's values for *Select input data type for prediction* = sparse matrix (the old tool's layout)."""
    return {"infile_estimator": model, "weights": [], "method": method,
            "input_options": {"selected_input": "sparse", "infile1": data}}


def test_sparse_matrix_predicts_as_the_table(trained, tmp_path):
    """The word indices of imdb_X_test.tsv as an integer MatrixMarket file: the same predictions, in chunks."""
    from scipy.io import mmwrite
    from scipy.sparse import coo_matrix

    clf, _, paths = trained
    X = np.loadtxt(X_TEST, dtype="int64")
    mmwrite(tmp_path / "X.mtx", coo_matrix(X))
    assert (tmp_path / "X.mtx").read_text().startswith("%%MatrixMarket matrix coordinate integer general")
    out = str(tmp_path / "out.tsv")
    assert mp.run(sparse_params(paths["model"], str(tmp_path / "X.mtx"), "predict_proba"), out, chunk_rows=64) == 200
    names, values = read_output(out)
    assert names == ["0", "1"]
    np.testing.assert_allclose(values[:, 1], clf.predict_proba(X, verbose=0)[:, 1], atol=5e-7)


def test_sparse_matrix_of_a_sklearn_pipeline(tmp_path):
    """test-data/sklearn_X.mtx (sklearn_X.tsv's non-zero entries): the pipeline's predictions from the table."""
    from gxkeras.modelfile.h5mlm import load_sklearn

    out = str(tmp_path / "out.tsv")
    model = TEST_DATA / "sklearn_pipeline.h5mlm"
    assert mp.run(sparse_params(str(model), str(TEST_DATA / "sklearn_X.mtx")), out) == 40
    expected = load_sklearn(str(model), "model").predict(np.loadtxt(TEST_DATA / "sklearn_X.tsv", skiprows=1))
    assert Path(out).read_text() == "Predicted\n" + "".join(f"{value}\n" for value in expected)


def test_sparse_matrix_errors_name_the_input(trained, tmp_path, write_text):
    _, _, paths = trained
    out = tmp_path / "out.tsv"
    with pytest.raises(ToolInputError, match="^Select a sparse matrix: the selected data has 4 columns, but the "
                                             "model expects 100"):
        mp.run(sparse_params(paths["model"], str(TEST_DATA / "sklearn_X.mtx")), str(out))
    with pytest.raises(ToolInputError, match=r"^Select a sparse matrix \(.*\): not a MatrixMarket file"):
        mp.run(sparse_params(paths["model"], X_TEST), str(out))
    with pytest.raises(ToolInputError, match="^Select a sparse matrix: no dataset given"):
        mp.run(sparse_params(paths["model"], None), str(out))
    assert not out.exists()


@pytest.mark.parametrize("model", ["keras", "sklearn"])
def test_the_model_file_is_opened_audited_and_built_once(trained, tmp_path, monkeypatch, model):
    """One open of the model file per job (there were four: check, two kind probes, load). Counted with the
    contained work run in this process (GXKERAS_CONTAINMENT=off), where the opens can be seen."""
    from gxkeras.modelfile import h5mlm

    path = trained[2]["model"] if model == "keras" else str(TEST_DATA / "sklearn_forest.h5mlm")
    data = X_TEST if model == "keras" else str(TEST_DATA / "sklearn_X.tsv")
    opened, real = [], h5mlm.open_hdf5
    monkeypatch.setattr(h5mlm, "open_hdf5", lambda name, *args: opened.append(name) or real(name, *args))
    monkeypatch.setenv(MODE_VARIABLE, "off")
    mp.run(params(path, data, header=model == "sklearn"), str(tmp_path / "out.tsv"))
    assert opened == [path]
