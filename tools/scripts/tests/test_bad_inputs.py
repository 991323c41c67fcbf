"""Inputs that used to end in a traceback: each now gives one ``Error:`` line naming the input.

Files that are not UTF-8 tables (gzip, Latin-1, binary, a directory), seeds outside what NumPy and
scikit-learn take, layer names HDF5 or TensorFlow cannot use, an ``axis`` the input lacks, scores
given to the confusion matrix; and TensorFlow's start-up lines kept out of the job's stderr.
"""
import bz2
import gzip
import json
import os
import random
import subprocess
import sys

import h5py
import pytest

import keras_model_builder as kmb
import keras_model_config as kmc
import keras_train_and_eval as kte
import ml_visualization_ex as viz
from gxkeras.galaxy.errors import ToolInputError
from gxkeras.keras.estimators import make_estimator
from gxkeras.modelfile.h5mlm import save_estimator
from gxkeras.data.tabular import iter_tabular, read_tabular
from gxkeras.galaxy.values import SEED_MAX, check_layer_names, check_seed
from form_values import kwargs_text
from repo_paths import SCRIPTS, TEST_DATA

LABEL = "Training samples dataset"


# ---- tabular files that are not UTF-8 text ----------------------------------------------------------

def write_hdf5(path):
    with h5py.File(path, "w") as handle:
        handle["x"] = [1, 2]


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(gzip.compress(b"1\t2\n3\t4\n")), r" \(.*\): the dataset is gzip-compressed: decompress"),
    (lambda p: p.write_bytes(bz2.compress(b"1\t2\n3\t4\n")), r" \(.*\): the dataset is bzip2-compressed"),
    (write_hdf5, r" \(.*\): the dataset is an HDF5 file \(a model or weights\?\), not a table"),
    (lambda p: p.write_bytes(b"1\t2\n3\t\xe94\n"), r": line 2, byte 3 is not UTF-8 text \(b'\\xe9'\)"),
    (lambda p: p.write_bytes(b"1\t2\n3\t4\x00\n"), r": line 2 holds a NUL byte: binary data"),
    (lambda p: p.mkdir(), r" \(.*\): is a directory, expected a dataset file"),
    (lambda p: None, r" \(.*\): no such file, expected a dataset file"),
])
def test_files_that_are_not_tables(tmp_path, make, message):
    path = tmp_path / "data.tsv"
    make(path)
    for read in (lambda: read_tabular(str(path), LABEL), lambda: list(iter_tabular(str(path), LABEL, chunk_rows=1))):
        with pytest.raises(ToolInputError, match=f"^{LABEL}" + message):
            read()


def test_a_latin1_header_is_refused_too(tmp_path):
    path = tmp_path / "data.tsv"
    path.write_bytes("caf\u00e9\tb\n1\t2\n".encode("latin-1"))
    with pytest.raises(ToolInputError, match=f"^{LABEL}: line 1, byte 4 is not UTF-8 text"):
        read_tabular(str(path), LABEL, header=True)


def test_utf8_with_a_byte_order_mark_is_still_read(tmp_path):
    path = tmp_path / "data.tsv"
    path.write_bytes("\ufeffa\tb\n1\t2\n".encode("utf-8"))
    values, names = read_tabular(str(path), LABEL, header=True)
    assert names == ["a", "b"] and values.tolist() == [[1, 2]]


def test_a_gzipped_history_is_refused(tmp_path):
    history = tmp_path / "history.tsv"
    history.write_bytes(gzip.compress(b"epoch\tloss\n0\t0.5\n"))
    params = {"plotting_selection": {"plot_type": "learning_curve", "infile1": str(history)}}
    with pytest.raises(ToolInputError, match=r"^Select the dataset containing values for plotting learning curve \(.*\): the dataset "
                                             "is gzip-compressed"):
        viz.run(params, str(tmp_path / "plot.png"))


# ---- seeds -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [-1, SEED_MAX + 1, 2 ** 63, 1.5, True, "7"])
def test_seeds_outside_numpy_range_are_refused(value):
    with pytest.raises(ToolInputError, match=rf"^Random seed must be an integer from 0 to {SEED_MAX}, got"):
        check_seed(value, "Random seed")


def test_seeds_in_range_pass():
    assert [check_seed(value, "s") for value in (None, "", 0, SEED_MAX)] == [None, None, 0, SEED_MAX]


def builder_params(random_seed, config=TEST_DATA / "imdb_model_config.json"):
    return {"mode_selection": {"mode_type": "train_model", "infile_json": str(config), "learning_type": "KerasGClassifier",
                               "compile_params": {"loss": "binary_crossentropy",
                                                  "optimizer_selection": {"optimizer_type": "Adam"}},
                               "random_seed": random_seed}}


@pytest.mark.parametrize("seed", [-1, 2 ** 32])
def test_builder_refuses_a_seed_numpy_cannot_take(seed):
    with pytest.raises(ToolInputError, match=rf"^Random seed must be an integer from 0 to 4294967295, got {seed}$"):
        kmb.build_estimator(builder_params(seed))


def regression_params(model, random_state=None):
    return {"experiment_schemes": {"selected_exp_scheme": "train_val", "infile_estimator": str(model),
                                   "test_split": {"split_algos": {"shuffle": "simple", "test_size": 0.25,
                                                                  "random_state": random_state}},
                                   "metrics": {"scoring": {"primary_scoring": "default"}}},
            "input_options": {"selected_input": "tabular", "infile1": str(TEST_DATA / "regression_X.tsv"),
                              "header1": True,
                              "column_selector_options_1": {"selected_column_selector_option": "all_but_by_header_name",
                                                            "col1": "sample_id"},
                              "infile2": str(TEST_DATA / "regression_y.tsv"), "header2": True,
                              "column_selector_options_2": {"selected_column_selector_option2": "all_columns"}}}


def train_outputs(tmp_path):
    names = ("outfile_result", "outfile_object", "outfile_weights")
    return {name: str(tmp_path / name) for name in names}


@pytest.mark.parametrize("random_state", [-1, 2 ** 32])
def test_trainer_refuses_a_split_seed_scikit_learn_cannot_take(tmp_path, random_state):
    with pytest.raises(ToolInputError, match=r"^Validation holdout: Random seed number must be an integer from 0 "
                                             rf"to 4294967295, got {random_state}$"):
        kte.train_and_evaluate(regression_params(TEST_DATA / "regression_untrained.h5mlm", random_state), train_outputs(tmp_path))


def regression_model(tmp_path, change_config=lambda config: None, **params):
    """An untrained regression h5mlm made from the committed config, changed as a forged file would be."""
    config = json.loads((TEST_DATA / "regression_model_config.json").read_text())
    change_config(config["config"])
    estimator = make_estimator("KerasGRegressor", config["config"], "sequential", loss="mse", **params)
    path = tmp_path / "forged.h5mlm"
    save_estimator(estimator, str(path))
    return path


def test_trainer_refuses_a_model_whose_seed_numpy_cannot_take(tmp_path):
    model = regression_model(tmp_path, seed=-5)
    with pytest.raises(ToolInputError, match=r"^Choose the dataset containing pipeline/estimator object \(.*forged\.h5mlm\): the model's "
                                             r"random seed must be an integer from 0 to 4294967295, got -5$"):
        kte.train_and_evaluate(regression_params(model), train_outputs(tmp_path))


def test_trainer_refuses_a_model_with_a_layer_named_dot(tmp_path):
    """'.' passed Keras and failed in h5py when the trained model was saved, after training."""
    model = regression_model(tmp_path, lambda config: config["layers"][-1]["config"].update(name="."))
    # The model file's allow-list (gxkeras.keras.allowlist) refuses it first, as a name that could be a path.
    with pytest.raises(ToolInputError, match=r"^Choose the dataset containing pipeline/estimator object \(.*\): "
                                             r"Dense '\.': name '\.' looks like a file, URL or module path"):
        kte.train_and_evaluate(regression_params(model), train_outputs(tmp_path))


# ---- layer names, axes and arguments in model JSON and the config form ------------------------------

def imdb_config():
    return json.loads((TEST_DATA / "imdb_model_config.json").read_text())


@pytest.mark.parametrize("name, message", [
    (".", r"LSTM '\.': name '\.' looks like a file, URL or module path"),  # the allow-list's check comes first
    ("", r"layer 3: the layer name '' is not allowed"),
    ("a b", r"layer 3: the layer name 'a b' is not allowed"),
    ("x" * 101, r"layer 3: the layer name 'x{40}' is not allowed"),
    ("embedding", r"Keras cannot build this model: All layers added to a Sequential model should have unique names"),
])
def test_builder_refuses_layer_names_hdf5_or_tensorflow_cannot_use(tmp_path, name, message):
    model = imdb_config()
    names = [layer["config"]["name"] for layer in model["config"]["layers"]]
    assert names[1] == "embedding"  # the case "embedding" repeats the name of layer 2
    model["config"]["layers"][2]["config"]["name"] = name
    path = tmp_path / "model.json"
    path.write_text(json.dumps(model))
    with pytest.raises(ToolInputError, match="^Select the dataset containing model configuration: " + message):
        kmb.build_estimator(builder_params(1, path))


def test_names_keras_gives_pass():
    check_layer_names(imdb_config()["config"], "model")


def test_repeated_and_wrapped_names_in_a_stored_config():
    """What a forged h5mlm can hold without Keras ever seeing it before the trainer saves the model."""
    layers = [{"config": {"name": "a"}}, {"config": {"name": "a"}}]
    with pytest.raises(ToolInputError, match=r"^model: layer 2: the name 'a' is used by an earlier layer"):
        check_layer_names({"layers": layers}, "model")
    wrapped = [{"config": {"name": "bi", "layer": {"config": {"name": ".."}}}}]
    with pytest.raises(ToolInputError, match=r"^model: layer 1 \(the wrapped layer\): the layer name '\.\.' is not"):
        check_layer_names({"layers": wrapped}, "model")


def sequential(*layers, shape="(6, 4)"):
    return {"model_selection": {"model_type": "sequential", "input_shape": shape,
                                "layers": [{"layer_selection": layer} for layer in layers]}}


def functional(*layers):
    return {"model_selection": {"model_type": "functional", "layers": [{"layer_selection": layer} for layer in layers],
                                "input_layers": "[]", "output_layers": "[]"}}


def dense(units=3, **kwargs):
    return {"layer_type": "Dense", "units": units, "kwargs": kwargs_text(**kwargs)}


INPUT = {"layer_type": "Input", "shape": "(6, 4)"}


@pytest.mark.parametrize("params, message", [
    (sequential({"layer_type": "BatchNormalization", "kwargs": "axis=5"}),
     r"^LAYER 1 \(Normalization -- BatchNormalization\): axis 5 does not exist: the input has 3 axes \(the batch axis "
     r"included\), expected an integer from -3 to 2$"),
    (functional(INPUT, INPUT, {"layer_type": "Concatenate", "merging_layers": "[1, 2]", "axis": -4}),
     r"^LAYER 3 \(Merge -- Concatenate\): axis -4 does not exist: the input has 3 axes"),
    (sequential(dense(name="a"), dense(name="a")),
     r"^LAYER 2 \(Core -- Dense\): cannot be applied to its input: All layers added to a Sequential model should have "
     "unique names"),
    (functional(INPUT, dense(name="a"), dense(name="a")), r'^the functional model: The name "a" is used 2 times'),
    (sequential(dense(name=".")), r"^LAYER 1 \(Core -- Dense\): the layer name '\.' is not allowed"),
    (sequential(dense(name="dense/1")), r"^LAYER 1 \(Core -- Dense\): the layer name 'dense/1' is not allowed"),
    (sequential({"layer_type": "Dropout", "rate": 0.5, "kwargs": "seed=-1"}),
     r"^LAYER 1 \(Core -- Dropout\): seed must be an integer from 0 to 4294967295, got -1$"),
    (sequential({"layer_type": "Dropout", "rate": 0.5, "kwargs": "seed=99999999999999999999"}),
     r"^LAYER 1 \(Core -- Dropout\): seed must be an integer from 0 to 4294967295"),
    (sequential(dense(lora_rank=10 ** 8)), r"^LAYER 1 \(Core -- Dense\): 'lora_rank' is not part of a model architecture"),
    (sequential(dense(weights=[[1.0]])), r"^LAYER 1 \(Core -- Dense\): 'weights' is not part of a model architecture"),
    (sequential(dense(units=True)), r"^LAYER 1 \(Core -- Dense\): units must be a positive integer, got True$"),
    (sequential({"layer_type": "MaxPooling1D", "pool_size": "9"}),
     r"^LAYER 1 \(Pooling -- MaxPooling1D\): cannot be applied to its input: Exception encountered when calling "
     r"MaxPooling1D\.call\(\): Computed output size would be zero or negative"),
    (sequential({"layer_type": "MaxPooling2D", "pool_size": "2", "kwargs": "strides=0"}, shape="(6, 6, 3)"),
     r"^LAYER 1 \(Pooling -- MaxPooling2D\): cannot be applied to its input: .*division by zero"),
    (sequential({"layer_type": "ConvLSTM2D", "filters": 2, "kernel_size": "2,2", "kwargs": "strides=0"},
                shape="(3, 6, 6, 3)"), r"^LAYER 1 \(Recurrent -- ConvLSTM2D\): cannot be applied to its input"),
    (sequential({"layer_type": "Cropping1D", "cropping": "(1, x)"}),
     r"^LAYER 1 \(Convolution -- Cropping1D\): cropping '\(1, x\)' is malformed: expected an integer, a tuple"),
    (sequential({"layer_type": "Cropping1D", "cropping": "(3, 3)"}),
     r"^LAYER 1 \(Convolution -- Cropping1D\): .*cropping"),
    (sequential({"layer_type": "Permute", "dims": "(1, 1)"}), r"^LAYER 1 \(Core -- Permute\): "),
    (sequential({"layer_type": "ActivityRegularization", "l1": -0.5}),
     r"^LAYER 1 \(Core -- ActivityRegularization\): l1 must be a number of 0 or more, got -0\.5$"),
])
def test_config_form_values_keras_would_crash_on(params, message):
    with pytest.raises(ToolInputError, match=message):
        kmc.build_model_json(params)


def test_a_valid_axis_still_builds():
    model = json.loads(kmc.build_model_json(sequential({"layer_type": "BatchNormalization", "kwargs": "axis=-1"})))
    assert model["config"]["layers"][1]["config"]["axis"] == -1


def fuzz_cases():
    """Every extra argument of every layer the form offers, with values of each wrong kind."""
    from gxkeras.keras.environment import import_keras

    keras = import_keras()
    values = [-1, 0, 10 ** 12, "x", [2, 2, 2, 2], 0.5, True, None]
    cases = []
    for layer_type in sorted(set(kmc.GROUP_OF) - kmc.MERGE_LAYERS):
        wrapped = {"Bidirectional": "LSTM", "TimeDistributed": "Dense"}  # the arguments are the wrapped layer's
        keras_class = getattr(keras.layers, wrapped.get(layer_type, layer_type))
        arguments = set(inspect_arguments(keras_class)) | kmc.BASE_LAYER_ARGS
        cases += [(layer_type, argument, value) for argument in sorted(arguments) for value in values]
    return cases


def inspect_arguments(keras_class):
    import inspect

    return set(inspect.signature(keras_class.__init__).parameters) - {"self", "kwargs"}


REQUIRED = {"Dense": {"units": 3}, "SimpleRNN": {"units": 3}, "LSTM": {"units": 3}, "GRU": {"units": 3},
            "Bidirectional": {"units": 3, "rnn_type": "LSTM"}, "Conv1D": {"filters": 2, "kernel_size": "2"},
            "Conv2D": {"filters": 2, "kernel_size": "2,2"}, "Embedding": {"input_dim": 10, "output_dim": 3},
            "Reshape": {"target_shape": "(24,)"}, "Activation": {"activation": "relu"}, "Dropout": {"rate": 0.1},
            **{name: {"units": 3} for name in ("SimpleRNNCell", "GRUCell", "LSTMCell")}, "Permute": {"dims": "(2, 1)"}, "RepeatVector": {"n": 2},
            "ConvLSTM2D": {"filters": 2, "kernel_size": "2,2"},
            **{name: {"filters": 2, "kernel_size": "2"} for name in ("SeparableConv1D", "Conv3D", "Conv3DTranspose")},
            **{name: {"filters": 2, "kernel_size": "2,2"} for name in ("SeparableConv2D", "Conv2DTranspose")},
            "DepthwiseConv2D": {"kernel_size": "2,2"}, **{f"Cropping{n}D": {"cropping": "1"} for n in (1, 2, 3)},
            **{f"ZeroPadding{n}D": {"padding": "1"} for n in (1, 2, 3)}, **{f"UpSampling{n}D": {"size": "2"} for n in (1, 2, 3)},
            **{f"{kind}Pooling3D": {"pool_size": "2"} for kind in ("Max", "Average")},
            "GaussianNoise": {"stddev": 0.1}, "GaussianDropout": {"rate": 0.1}, "AlphaDropout": {"rate": 0.1},
            "TimeDistributed": {"inner_layer_type": "Dense", "units": 3},
            "MultiHeadAttention": {"num_heads": 2, "key_dim": 2}}
# An input each layer type fits: images for 2D, volumes for 3D, time steps of images for ConvLSTM2D.
FUZZ_SHAPES = {"2D": "(6, 6, 3)", "3D": "(6, 6, 6, 3)", "ConvLSTM2D": "(3, 6, 6, 3)", "Embedding": "(6,)",
               "RepeatVector": "(6,)"}


def test_fuzz_layer_arguments_end_in_a_model_or_one_error():
    """A sample of (layer, argument, wrong value): Keras builds it or the user gets a ToolInputError."""
    for layer_type, argument, value in random.Random(11).sample(fuzz_cases(), 300):
        fields = {"layer_type": layer_type, **REQUIRED.get(layer_type, {})}
        fields = {key: val for key, val in fields.items() if key != argument}
        fields["kwargs"] = kwargs_text(**{argument: value})
        shape = next((FUZZ_SHAPES[key] for key in reversed(FUZZ_SHAPES) if key in layer_type), "(6, 4)")
        try:
            kmc.build_model_json(sequential(fields, shape=shape))
        except ToolInputError:
            pass
        except Exception as error:  # noqa: BLE001 the point of the test
            pytest.fail(f"{layer_type} {argument}={value!r}: {type(error).__name__}: {error}")


# ---- the confusion matrix and scores ----------------------------------------------------------------

def cm_params(true_path, predicted_path, header_predicted=False):
    selection = {"selected_column_selector_option": "all_columns"}
    return {"plotting_selection": {
        "plot_type": "classification_confusion_matrix", "infile_true": true_path, "header_true": False,
        "column_selector_options_true": selection, "infile_predicted": predicted_path,
        "header_predicted": header_predicted, "column_selector_options_predicted": selection}}


@pytest.mark.parametrize("predicted, header, message", [
    ("1\n0\n0.73\n1\n", False, r"line 3 is 0\.73, not a class label: the confusion matrix needs predicted class labels"),
    ("y\n1\n0.2\n0\n1\n", True, r"line 3 is 0\.2, not a class label"),
    ("1\n7\n8\n9\n", False, r"3 predicted values \(7, 8, 9\) are not among the 2 true classes"),
])
def test_confusion_matrix_refuses_scores(tmp_path, write_text, predicted, header, message):
    params = cm_params(write_text("1\n0\n1\n0\n", "true.tsv"), write_text(predicted, "pred.tsv"), header)
    with pytest.raises(ToolInputError, match=r"^Select dataset containing the predicted labels: " + message +
                       r".*choose the 'ROC curve' or 'Precision-recall curve' plot type$"):
        viz.run(params, str(tmp_path / "plot.png"), str(tmp_path / "metrics.tsv"))


def test_confusion_matrix_accepts_a_class_missing_from_the_truth(tmp_path, write_text):
    """A 3-class model on a test set without class 2 predicts 2 sometimes: that is a label."""
    params = cm_params(write_text("1\n0\n1\n0\n", "true.tsv"), write_text("1\n2\n1\n0\n", "pred.tsv"))
    viz.run(params, str(tmp_path / "plot.png"), str(tmp_path / "metrics.tsv"))
    assert (tmp_path / "metrics.tsv").read_text().splitlines()[0].startswith("class\tTP")


# ---- stderr holds the one Error line and nothing of TensorFlow's start-up -------------------------

def bad_runs(tmp_path):
    """For each tool that imports Keras before it fails: (script, inputs, output flags)."""
    not_weights = tmp_path / "weights.h5"
    not_weights.write_text("not HDF5\n")
    return {
        "keras_model_config.py": (sequential({"layer_type": "BatchNormalization", "kwargs": "axis=5"}),
                                  ["--outfile"], "Error: LAYER 1 (Normalization -- BatchNormalization): axis 5"),
        "keras_model_builder.py": (builder_params(-1), ["--outfile"], "Error: Random seed must be an integer"),
        "keras_batch_models.py": (batch_params(seq_length=60), ["--outfile"],
                                  "Error: Select a batch data generator: the model's input shape is (50, 4)"),
        "keras_train_and_eval.py": (regression_params(TEST_DATA / "regression_untrained.h5mlm", -1),
                                    ["--outfile_result", "--outfile_object", "--outfile_weights"],
                                    "Error: Validation holdout: Random seed number"),
        "model_prediction.py": ({"infile_estimator": str(TEST_DATA / "imdb_untrained.h5mlm"),
                                 "weights": [{"infile_weights": str(not_weights)}], "method": "predict",
                                 "input_options": {"selected_input": "tabular",
                                                   "infile1": str(TEST_DATA / "imdb_X_test.tsv"), "header1": False}},
                                ["--outfile"], "Error: Choose the dataset containing weights for the estimator above"),
    }


def batch_params(seq_length):
    """keras_batch_models' form: the DNA model of test-data with a FASTA generator of ``seq_length``."""
    from test_keras_batch_models import form

    return form(seq_length=seq_length)


@pytest.mark.parametrize("script", ["keras_model_config.py", "keras_model_builder.py", "keras_batch_models.py",
                                    "keras_train_and_eval.py", "model_prediction.py"])
def test_stderr_is_exactly_the_error_line(tmp_path, write_inputs, script):
    params, flags, message = bad_runs(tmp_path)[script]
    command = [sys.executable, str(SCRIPTS / script), "--inputs", write_inputs(params)]
    for flag in flags:
        command += [flag, str(tmp_path / flag.strip("-"))]
    env = {key: value for key, value in os.environ.items() if key != "KERAS_BACKEND"}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr


@pytest.mark.parametrize("line, noise", [
    ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR", True),
    ("I0000 00:00:1796193482.131851   20298 port.cc:153] oneDNN custom operations are on.", True),
    ("W0000 00:00:1796193482.131851   20298 gpu_device.cc:2344] Cannot dlopen some GPU libraries.", True),
    ("E0000 00:00:1796193513.269475   20298 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error", True),
    ("E0000 00:00:1796193513.269475   20298 bfc_allocator.cc:47] Allocator ran out of memory", False),
    ("Error: Random seed must be an integer from 0 to 4294967295, got -1", False),
    ("/x/keras/src/layers/core.py:93: UserWarning: Do not pass an `input_shape`", False),
])
def test_only_tensorflow_start_up_lines_are_dropped(line, noise):
    from gxkeras.keras.environment import START_UP_NOISE

    assert bool(START_UP_NOISE.match(line)) == noise


# ---- bounds through the command line: exit 1, one Error line naming the input, no output ----------

def bound_cases(tmp_path):
    """(script, inputs, the output to be removed, the start of the Error line) for one defect class each."""
    labels, text, truth = tmp_path / "labels.tsv", tmp_path / "text.tsv", tmp_path / "truth.tsv"
    labels.write_text("0\n1\n")
    text.write_text("good film\n")
    truth.write_text("".join(f"{i}\n" for i in range(20_000)))
    return {
        "to_categorical": ("sklearn_to_categorical.py", {"infile": str(labels), "header0": False, "num_classes": 10 ** 9},
                           "--outfile", "Error: Total number of classes: the one-hot table of 2 samples x "
                                        "1,000,000,000 classes needs"),
        "start_char": ("keras_text_to_sequences.py", {"mode": "fit", "infile": str(text), "text_selector":
                                                      "by_index_number", "text_col": "1", "start_char": 2 ** 32 + 1},
                       "--outdir", "Error: start_char: 4294967297 is not a whole number from 1 to 2,147,483,647"),
        "confusion_matrix": ("ml_visualization_ex.py", cm_params(str(truth), str(truth)), "--output",
                             "Error: Select dataset containing the true labels: the 20,000 x 20,000 confusion matrix"),
    }


@pytest.mark.parametrize("case", ["to_categorical", "start_char", "confusion_matrix"])
def test_bounds_end_in_one_error_line_and_no_output(tmp_path, write_inputs, run_script, monkeypatch, case):
    from gxkeras.galaxy import memory

    monkeypatch.setenv(memory.LIMIT_VARIABLE, str(100 * 1024 ** 2))
    script, params, flag, message = bound_cases(tmp_path)[case]
    out = tmp_path / "out"
    if flag == "--outdir":
        out.mkdir()
        (out / "X.tsv").write_text("stale")
    else:
        out.write_text("stale")
    result = run_script(script, "--inputs", write_inputs(params), flag, out)
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith(message), result.stderr
    assert not (out / "X.tsv" if flag == "--outdir" else out).exists()
