"""keras_batch_models (KerasGBatchClassifier on FASTA sequences): build, the model-file checks, training
on a FASTA file with keras_train_and_eval and predicting from one with model_prediction."""
import shutil

import numpy as np
import pytest

import keras_batch_models as kbm
import keras_train_and_eval as kte
import model_prediction as mp
from gxkeras.galaxy.errors import ToolInputError
from gxkeras.modelfile.h5mlm import check_h5mlm, load_estimator
from stored_params import rewrite_params, stored_params
from repo_paths import TEST_DATA

MODEL_JSON = str(TEST_DATA / "fasta_dna_model_config.json")  # Conv1D on one-hot (50, 4)
FASTA = TEST_DATA / "fasta_dna_seqs.fasta"  # 40 sequences of 30-60 bases
LABELS = str(TEST_DATA / "fasta_dna_labels.tsv")  # header, then 0/1 alternating


def form(generator="FastaDNABatchGenerator", seq_length=50, loss="binary_crossentropy", **more):
    """The inputs JSON as Galaxy writes it for the form (the Galaxy-ML tool's names)."""
    mode = {"mode_type": "train_model", "infile_json": MODEL_JSON, "learning_type": "KerasGBatchClassifier",
            "generator_selection": {"__current_case__": 0, "generator_type": generator, "seq_length": seq_length,
                                    "shuffle": True, "seed": 999},
            "compile_params": {"loss": loss, "metrics": ["acc"],
                               "optimizer_selection": {"optimizer_type": "Adam",
                                                       "optimizer_options": {"learning_rate": 0.01}}},
            "fit_params": {"epochs": 2, "batch_size": 8, "validation_split": 0.1, "verbose": 0, "callbacks": []},
            "class_positive_factor": 1.0, "prediction_steps": None, "random_seed": 42, **more}
    return {"mode_selection": mode}


@pytest.fixture
def built(tmp_path, write_inputs, run_script):
    """An untrained batch classifier made by the tool's command line, and its stdout."""
    out = tmp_path / "model.h5mlm"
    result = run_script("keras_batch_models.py", "--inputs", write_inputs(form()), "--outfile", out)
    assert result.returncode == 0, result.stderr
    return out, result.stdout


def test_build_writes_the_generator_without_a_path(built):
    out, stdout = built
    assert "generator FastaDNABatchGenerator (seq_length 50, shuffle True, seed 999); loss binary_crossentropy" in stdout
    generator = stored_params(out)["data_batch_generator"]
    assert generator == {"generator_type": "FastaDNABatchGenerator", "seq_length": 50, "shuffle": True, "seed": 999}
    estimator = load_estimator(str(out), "model")
    assert type(estimator).__name__ == "KerasGBatchClassifier" and estimator.data_batch_generator.fasta_path is None
    assert estimator.data_batch_generator.seq_length == 50 and estimator.learning_rate == 0.01


def test_galaxy_ml_own_loader_reads_the_model(built):
    from galaxy_ml.model_persist import load_model_from_h5

    estimator = load_model_from_h5(str(built[0]))
    assert type(estimator).__name__ == "KerasGBatchClassifier" and estimator.epochs == 2
    assert estimator.data_batch_generator["generator_type"] == "FastaDNABatchGenerator"


@pytest.mark.parametrize("change, message", [
    (dict(generator="GenomicIntervalBatchGenerator"), r"^Select a batch data generator: center_bin_to_predict \(200\) "
                                                      r"must be at most seq_length \(50\)"),
    (dict(generator="none"), r"^Select a batch data generator: none \(no generator\) is not supported"),
    (dict(seq_length=60), r"^Select a batch data generator: the model's input shape is \(50, 4\), but its "
                          r"FastaDNABatchGenerator \(seq_length 60\) encodes each sequence as \(60, 4\)"),
    (dict(generator="FastaProteinBatchGenerator"), r"encodes each sequence as \(50, 20\)"),
    (dict(seq_length=0), "^Select a batch data generator: the data_batch_generator's seq_length must be an integer "
                         "from 1 to 100000"),
    (dict(loss="mean_squared_error"), "^Select a loss function: mean_squared_error is a regression loss"),
    (dict(class_positive_factor=0), "class_positive_factor must be a number > 0"),
])
def test_form_errors_are_one_line(change, message):
    more = {key: change.pop(key) for key in list(change) if key == "class_positive_factor"}
    with pytest.raises(ToolInputError, match=message):
        kbm.build_estimator(form(**change, **more))


@pytest.mark.parametrize("change, message", [
    (lambda p: p["data_batch_generator"].update(fasta_path="/etc/passwd"), "has a field 'fasta_path'.*a stored file "
                                                                          "path is refused"),
    (lambda p: p["data_batch_generator"].update(ref_genome_path="/x"), "has a field 'ref_genome_path'"),
    (lambda p: p["data_batch_generator"].update(generator_type="GenomicVariantBatchGenerator"),
     "the data_batch_generator is a 'GenomicVariantBatchGenerator'; only FastaDNABatchGenerator"),
    (lambda p: p["data_batch_generator"].update(generator_type="ImageDataFrameBatchGenerator"),
     "the data_batch_generator is a 'ImageDataFrameBatchGenerator'"),
    (lambda p: p.update(data_batch_generator="FastaDNABatchGenerator(fasta_path='/etc/passwd')"),
     "the data_batch_generator is not a generator description"),
    (lambda p: p["data_batch_generator"].update(seq_length=10 ** 9), "seq_length must be an integer from 1 to 100000"),
    (lambda p: p["data_batch_generator"].update(seq_length=True), "seq_length must be an integer"),
    (lambda p: p["data_batch_generator"].update(shuffle="yes"), "shuffle must be true or false"),
    (lambda p: p["data_batch_generator"].update(seed=-1), "seed must be empty or an integer >= 0"),
    (lambda p: p.update(n_jobs=64), "n_jobs must be 1"),
    (lambda p: p.update(prediction_steps=0), "prediction_steps must be empty or a positive integer"),
    (lambda p: p.update(class_positive_factor=-2), "class_positive_factor must be a number > 0"),
    (lambda p: p.update(target_path="/etc/passwd"), "has a parameter 'target_path'"),
    (lambda p: p.update(loss="mean_squared_error"), "loss 'mean_squared_error' is not one the form offers for a "
                                                    "KerasGBatchClassifier"),
])
def test_hostile_model_files_are_refused_before_loading(built, change, message):
    rewrite_params(built[0], change)
    with pytest.raises(ToolInputError, match=message):
        check_h5mlm(str(built[0]), "model")


def test_model_file_admitted_with_or_without_a_generator(built):
    """What the tool writes, and what galaxy-ml itself writes (the generator left out), pass the checks."""
    check_h5mlm(str(built[0]), "model")
    rewrite_params(built[0], lambda params: params.pop("data_batch_generator"))
    check_h5mlm(str(built[0]), "model")
    assert load_estimator(str(built[0]), "model").data_batch_generator is None


def train_params(model, fasta, labels=LABELS):
    return {"experiment_schemes": {
                "selected_exp_scheme": "train_val_test", "infile_estimator": str(model),
                "hyperparams_swapping": {"param_set": []},
                "test_split": {"split_algos": {"shuffle": "stratified", "test_size": 0.25, "random_state": 0}},
                "val_split": {"split_algos": {"shuffle": "stratified", "test_size": 0.2, "random_state": 0}},
                "metrics": {"scoring": {"primary_scoring": "accuracy", "secondary_scoring": ["roc_auc"]}}},
            "input_options": {"selected_input": "seq_fasta", "fasta_path": str(fasta), "infile2": labels,
                              "header2": True,
                              "column_selector_options_2": {"selected_column_selector_option2": "all_columns"}},
            "save": ["save_estimator", "save_prediction", "save_csvlogger"]}


def test_train_on_fasta_then_predict_from_fasta(built, tmp_path, monkeypatch):
    """2 epochs on 24 of the 40 sequences; the outputs of the tabular path; the trained model predicts a FASTA."""
    monkeypatch.chdir(tmp_path)  # the job's working directory: the FASTA is linked and indexed there
    fasta = tmp_path / "dataset.dat"
    shutil.copy(FASTA, fasta)
    out = {name: str(tmp_path / f"{name}.out") for name in ("outfile_result", "outfile_object", "outfile_weights",
                                                            "outfile_history", "outfile_y_true", "outfile_y_preds")}
    kte.run(train_params(built[0], fasta), out)
    assert not (tmp_path / "dataset.dat.fai").exists()  # nothing written next to the dataset
    result = [line.split("\t") for line in open(out["outfile_result"]).read().splitlines()]
    assert result[0] == ["metric", "validation", "test"] and [row[0] for row in result[1:]] == ["accuracy", "roc_auc",
                                                                                                "loss"]
    assert all(0 <= float(value) <= 1 for value in result[1][1:])
    history = open(out["outfile_history"]).read().splitlines()
    assert history[0].split("\t")[:2] == ["epoch", "acc"] and len(history) == 3  # 2 epochs
    assert len(open(out["outfile_y_true"]).read().splitlines()) == 1 + 10  # the test set: 25 % of 40
    trained = out["outfile_object"]
    assert stored_params(trained)["data_batch_generator"] == stored_params(built[0])["data_batch_generator"]
    estimator = load_estimator(trained, "trained")
    assert list(estimator.classes_) == [0, 1] and estimator.model_ is not None

    predicted = tmp_path / "predicted.tsv"
    mp.run({"infile_estimator": trained, "method": "predict_proba", "weights": [],
            "input_options": {"selected_input": "seq_fasta", "fasta_path": str(fasta),
                              "seq_type": "FastaDNABatchGenerator"}}, str(predicted))
    rows = [line.split("\t") for line in predicted.read_text().splitlines()]
    assert rows[0] == ["0", "1"] and len(rows) == 41
    assert np.allclose(np.array(rows[1:], dtype=float).sum(axis=1), 1, atol=1e-5)
    mp.run({"infile_estimator": trained, "method": "predict", "weights": [],
            "input_options": {"selected_input": "seq_fasta", "fasta_path": str(fasta),
                              "seq_type": "FastaDNABatchGenerator"}}, str(predicted))
    labels = predicted.read_text().splitlines()
    assert labels[0] == "Predicted" and set(labels[1:]) <= {"0", "1"} and len(labels) == 41

    with pytest.raises(ToolInputError, match=r"^Sequence type: FastaProteinBatchGenerator: the model's input shape is "
                                             r"\(50, 4\)"):
        mp.run({"infile_estimator": trained, "method": "predict", "weights": [],
                "input_options": {"selected_input": "seq_fasta", "fasta_path": str(fasta),
                                  "seq_type": "FastaProteinBatchGenerator"}}, str(predicted))


def test_fasta_input_errors(built, tmp_path, monkeypatch, write_text):
    monkeypatch.chdir(tmp_path)
    out = {"outfile_result": str(tmp_path / "result.out")}
    short = write_text("label\n0\n1\n", "short.tsv")
    with pytest.raises(ToolInputError, match="^Dataset containing fasta genomic/protein sequences has 40 sequences but "
                                             "Dataset containing class labels or target values has 2 rows"):
        kte.train_and_evaluate(train_params(built[0], FASTA, short), out)
    not_fasta = write_text("just text\nno header\n", "bad.fasta")
    with pytest.raises(ToolInputError, match="^Dataset containing fasta genomic/protein sequences: "):
        kte.train_and_evaluate(train_params(built[0], not_fasta), out)
    tabular_model = str(TEST_DATA / "imdb_untrained.h5mlm")
    with pytest.raises(ToolInputError, match="^Select input type: seq_fasta, but the model is a KerasGClassifier"):
        kte.train_and_evaluate(train_params(tabular_model, FASTA), out)
    assert not (tmp_path / "result.out").exists()


def test_fasta_path_cannot_be_swapped(built, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    params = train_params(built[0], FASTA)
    params["experiment_schemes"]["hyperparams_swapping"]["param_set"] = [
        {"sp_name": "data_batch_generator__fasta_path", "sp_value": "'/etc/passwd'"}]
    with pytest.raises(ToolInputError, match="data_batch_generator__fasta_path cannot be swapped"):
        kte.train_and_evaluate(params, {"outfile_result": str(tmp_path / "result.out")})


def test_protein_generator_builds_trains_and_predicts(tmp_path, monkeypatch, write_text):
    """FastaProteinBatchGenerator: 20 values per position; 12 short protein sequences, 2 epochs, predicted."""
    from gxkeras.keras.environment import import_keras

    keras = import_keras()
    monkeypatch.chdir(tmp_path)
    model = keras.Sequential([keras.Input((20, 20)), keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid")])
    config = write_text(model.to_json(), "protein_model.json")
    rng = np.random.default_rng(3)
    amino = "ACDEFGHIKLMNPQRSTVWY"
    fasta = write_text("".join(f">p{index}\n{''.join(rng.choice(list(amino), size=15 + index))}\n" for index in range(12)),
                       "proteins.fasta")
    labels = write_text("label\n" + "0\n1\n" * 6, "protein_labels.tsv")
    params = form(generator="FastaProteinBatchGenerator", seq_length=20)
    params["mode_selection"]["infile_json"] = config
    estimator = kbm.build_estimator(params)
    assert type(estimator.data_batch_generator).__name__ == "FastaProteinBatchGenerator"
    untrained = str(tmp_path / "untrained.h5mlm")
    from gxkeras.modelfile.h5mlm import save_estimator

    save_estimator(estimator, untrained)
    train = train_params(untrained, fasta, labels)
    train["experiment_schemes"]["selected_exp_scheme"] = "train_val"
    out = {"outfile_result": str(tmp_path / "result.out"), "outfile_object": str(tmp_path / "trained.out")}
    kte.train_and_evaluate(train, out)
    assert open(out["outfile_result"]).read().startswith("metric\tvalidation\n")
    predicted = tmp_path / "predicted.tsv"
    mp.run({"infile_estimator": out["outfile_object"], "method": "predict", "weights": [],
            "input_options": {"selected_input": "seq_fasta", "fasta_path": fasta,
                              "seq_type": "FastaProteinBatchGenerator"}}, str(predicted))
    assert len(predicted.read_text().splitlines()) == 13
    with pytest.raises(ToolInputError, match=r"^Sequence type: FastaDNABatchGenerator: the model's input shape is "
                                             r"\(20, 20\), but its FastaDNABatchGenerator \(seq_length 20\) encodes "
                                             r"each sequence as \(20, 4\)"):
        mp.run({"infile_estimator": out["outfile_object"], "method": "predict", "weights": [],
                "input_options": {"selected_input": "seq_fasta", "fasta_path": fasta,
                                  "seq_type": "FastaDNABatchGenerator"}}, str(predicted))


@pytest.mark.parametrize(("model", "seq_type", "message"), [
    ("fasta_dna_trained.h5mlm", "FastaGenomeBatchGenerator",
     r"^Sequence type: unknown 'FastaGenomeBatchGenerator'; expected one of FastaDNABatchGenerator"),
    ("regression_trained.h5mlm", "FastaDNABatchGenerator",
     r"^Choose the dataset containing pipeline/estimator object: the model's input shape \(\d+,\) does not take "
     r"encoded sequences"),
])
def test_prediction_from_fasta_refuses_what_cannot_encode_it(tmp_path, monkeypatch, model, seq_type, message):
    """A sequence type the form does not offer, and a model on table rows given a FASTA: one line each."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ToolInputError, match=message):
        mp.run({"infile_estimator": str(TEST_DATA / model), "method": "predict", "weights": [],
                "input_options": {"selected_input": "seq_fasta", "fasta_path": str(FASTA), "seq_type": seq_type}},
               str(tmp_path / "predicted.tsv"))
    assert not (tmp_path / "predicted.tsv").exists() or not (tmp_path / "predicted.tsv").read_text()
