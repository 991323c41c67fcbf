"""A model file from a user's history must not read, write, import or exhaust anything (issue 11).

One test per attack class, each with a canary: a secret file whose content must appear in no
output or message, a target path that must not exist afterwards, a module that must not have been
imported. The hostile files are crafted in tmp_path by fixtures/hostile_models.py (the same code
writes the Galaxy tests' files). Also: the forms and the Python allow-lists agree (a contract).
"""
import json
import re
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

import keras_model_builder as kmb
import keras_train_and_eval as kte
import model_prediction as mp
from gxkeras.keras import callbacks, estimators, options
from gxkeras.galaxy import forms
from gxkeras.galaxy import memory
from gxkeras.keras import config_size as resources
from gxkeras.galaxy import safe_json
from gxkeras.keras.allowlist import allowed, check_model_config
from gxkeras.galaxy.errors import ModelRefused, ToolInputError
from gxkeras.train.class_weights import CLASS_WEIGHT_TYPES
from gxkeras.keras.estimators import parse_model_json
from gxkeras.modelfile.h5mlm import check_h5mlm, load_estimator
from gxkeras.modelfile.hdf5_audit import check_hdf5_objects
from fresh_python import WORK_IN_TOOL_PROCESS, run_tools
from repo_paths import TEST_DATA

from fixtures import hostile_models as hostile

MODEL = "Choose the dataset containing pipeline/estimator object"
SECRET = "CANARY-SECRET-7f3a9"


@pytest.fixture
def secret(tmp_path):
    """A file outside the job that a hostile model would read (e.g. the server's config)."""
    path = tmp_path / "outside" / "galaxy.yml"
    path.parent.mkdir()
    path.write_text(f"database_connection: postgresql://galaxy:{SECRET}@db/galaxy\n")
    return path


def predict(tmp_path, model, weights=None, data="regression_X.tsv"):
    """Run model_prediction's ``run``; return (error message, output path)."""
    out = tmp_path / "job" / "pred.tsv"
    out.parent.mkdir(exist_ok=True)
    params = {"infile_estimator": str(model), "weights": [{"infile_weights": str(weights)}] if weights else [],
              "method": "predict",
              "input_options": {"selected_input": "tabular", "infile1": str(TEST_DATA / data), "header1": True}}
    with pytest.raises(ToolInputError) as caught:
        mp.run(params, str(out))
    return str(caught.value), out


def train(tmp_path, model):
    outputs = {name: str(tmp_path / "job" / f"{name}.out") for name in
               ("outfile_result", "outfile_object", "outfile_weights")}
    (tmp_path / "job").mkdir(exist_ok=True)
    params = {"experiment_schemes": {"selected_exp_scheme": "train_val", "infile_estimator": str(model),
                                     "test_split": {"split_algos": {"shuffle": "simple", "test_size": 0.2}}},
              "input_options": {"selected_input": "tabular", "infile1": str(TEST_DATA / "regression_X.tsv"),
                                "header1": True, "infile2": str(TEST_DATA / "regression_y.tsv"), "header2": True}}
    with pytest.raises(ToolInputError) as caught:
        kte.train_and_evaluate(params, outputs)
    assert not any(Path(path).exists() for path in outputs.values())
    return str(caught.value)


# ---- reading a file: a lookup layer's vocabulary, external HDF5 storage and links ----------------

@pytest.mark.parametrize("legacy", [True, False])
def test_lookup_vocabulary_path_is_refused_unread(tmp_path, secret, legacy):
    path = hostile.lookup_model(tmp_path / "model.h5mlm", str(secret))
    if not legacy:  # the Keras 3 form of the same layer
        with h5py.File(path, "r+") as handle:
            params = json.loads(handle["-keras_models-/0/params"][()])
            params["config"]["layers"][1].update(module="keras.layers", registered_name=None)
            del handle["-keras_models-/0/params"]
            handle["-keras_models-/0/params"] = json.dumps(params).encode()
    expected = r"has no module: a Keras 2 \(legacy\) object" if legacy else \
        r"keras.layers.StringLookup is not offered by the tool forms"
    message, out = predict(tmp_path, path)
    assert re.search(expected, message), message
    assert SECRET not in message and not out.exists()
    assert SECRET not in train(tmp_path, path)


def test_lookup_vocabulary_in_a_model_json_is_refused(tmp_path, secret, monkeypatch):
    monkeypatch.setattr(estimators, "_build_check", lambda *args: pytest.fail("Keras was asked to build it"))
    path = hostile.lookup_json(tmp_path / "model.json", str(secret))
    with pytest.raises(ToolInputError, match=r"'StringLookup' has no module") as caught:
        parse_model_json(Path(path).read_text(), kmb.MODEL_LABEL)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize("value", ["/etc/passwd", "../../galaxy.yml", "galaxy.yml", "https://example.org/v.txt",
                                   "os.system", "~/.ssh/id_rsa", "C:\\secrets"])
def test_no_argument_may_name_a_file_url_or_module(value):
    model = json.loads((TEST_DATA / "regression_model_config.json").read_text())
    model["config"]["layers"][1]["config"]["vocabulary"] = value
    with pytest.raises(ToolInputError, match=r"looks like a file, URL or module path"):
        check_model_config(model, "model")


def test_external_hdf5_storage_is_refused_unread(tmp_path, secret):
    weights = hostile.external_weights(tmp_path / "w.weights.h5", secret)
    message, out = predict(tmp_path, TEST_DATA / "regression_trained.h5mlm", weights)
    assert "keeps its data in other files; the file is refused unread" in message
    assert SECRET not in message and not out.exists()


def test_external_hdf5_link_is_refused(tmp_path, secret):
    other = tmp_path / "outside" / "other.h5mlm"
    shutil.copy(TEST_DATA / "regression_untrained.h5mlm", other)
    path = hostile.external_link_model(tmp_path / "model.h5mlm", other)
    with pytest.raises(ToolInputError, match=r"-keras_models-/0 is a ExternalLink, which points outside"):
        check_h5mlm(path, MODEL)


# ---- writing a file: callbacks stored in the model, functions in the object graph --------------

@pytest.mark.parametrize("callback_type, refusal", [
    # the form's CSVLogger takes no option: it always writes log.csv in the job's working directory
    ("CSVLogger", "callback 1 (CSVLogger) has no option 'filename'"),
    # the form's ModelCheckpoint has no file name either: it always writes a CHECKPOINT file in the working directory
    ("ModelCheckpoint", "callback 1 (ModelCheckpoint) has no option 'filepath'"),
    ("TensorBoard", "callback 1 is a 'TensorBoard'; only the callbacks the form offers are accepted"),
])
def test_callbacks_that_write_files_are_refused(tmp_path, callback_type, refusal):
    target = tmp_path / "outside" / "written"
    path = hostile.callback_model(tmp_path / "model.h5mlm", callback_type, target)
    message = train(tmp_path, path)
    assert refusal in message
    assert not target.exists() and not target.parent.exists()


def test_form_callback_with_a_path_option_is_refused(tmp_path):
    class_name, params = hostile.model_params()
    params["callbacks"] = [{"callback_selection": {"callback_type": "EarlyStopping", "filepath": "/tmp/x"}}]
    path = hostile.write_h5mlm(tmp_path / "model.h5mlm", class_name, params)
    with pytest.raises(ToolInputError, match=r"callback 1 \(EarlyStopping\) has no option 'filepath'"):
        load_estimator(path, MODEL)


@pytest.mark.parametrize("selection, refusal", [
    # a schedule is one of the form's names, never code (galaxy-ml would pass any callable Keras can build)
    ({"callback_type": "LearningRateScheduler", "schedule": "lambda epoch, lr: __import__('os')"},
     r"callback 1 \(LearningRateScheduler\): schedule must be one of step_decay, exponential_decay"),
    ({"callback_type": "LearningRateScheduler", "schedule": {"class_name": "function", "config": "os.system"}},
     r"schedule must be one of step_decay, exponential_decay"),
    ({"callback_type": "ModelCheckpoint", "save_best_only": True, "options": {"experimental_io_device": "/x"}},
     r"callback 1 \(ModelCheckpoint\) has no option 'options'"),
    ({"callback_type": "ModelCheckpoint", "save_weights_only": "/tmp/x.keras"},
     r"callback 1 \(ModelCheckpoint\): save_weights_only must be true or false"),
])
def test_stored_checkpoint_and_scheduler_take_only_the_forms_options(tmp_path, selection, refusal):
    class_name, params = hostile.model_params()
    params["callbacks"] = [{"callback_selection": selection}]
    with pytest.raises(ToolInputError, match=refusal):
        load_estimator(hostile.write_h5mlm(tmp_path / "model.h5mlm", class_name, params), MODEL)


def test_stored_checkpoint_writes_only_its_fixed_file(tmp_path, monkeypatch):
    """A model file's ModelCheckpoint (as the form stores it) writes checkpoint.weights.h5 in the job's directory."""
    job = tmp_path / "job"
    job.mkdir()
    monkeypatch.chdir(job)
    class_name, params = hostile.model_params()
    params.update(epochs=2, callbacks=[{"callback_selection": {"callback_type": "ModelCheckpoint", "monitor": "val_loss",
                                                                "mode": "min", "save_best_only": True,
                                                                "save_weights_only": True}}])
    estimator = load_estimator(hostile.write_h5mlm(tmp_path / "m.h5mlm", class_name, params), MODEL)
    X, y = np.random.default_rng(0).normal(size=(20, 4)), np.arange(20.0)
    kte.train(estimator, X[:16], y[:16], X[16:], y[16:])
    assert sorted(path.name for path in job.iterdir()) == [callbacks.CHECKPOINT[True]]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["job", "m.h5mlm"]


def test_training_builds_only_the_checked_callbacks(tmp_path, monkeypatch):
    """The trainer builds callbacks itself, from the checked list; galaxy-ml's builder never runs."""
    from galaxy_ml.keras_galaxy_models import BaseKerasModel

    monkeypatch.setattr(BaseKerasModel, "_callbacks", property(lambda self: pytest.fail("galaxy-ml built callbacks")
                                                               if self.callbacks else None))
    class_name, params = hostile.model_params()
    params.update(epochs=1, callbacks=[{"callback_selection": {"callback_type": "EarlyStopping", "patience": 1}}])
    estimator = load_estimator(hostile.write_h5mlm(tmp_path / "m.h5mlm", class_name, params), MODEL)
    X, y = np.random.default_rng(0).normal(size=(20, 4)), np.arange(20.0)
    history = kte.train(estimator, X[:16], y[:16], X[16:], y[16:])
    assert len(history.history["loss"]) == 1
    assert estimator.callbacks == params["callbacks"]  # the saved parameter is kept as it was


GRAPHS = {
    "export_graphviz": lambda target: hostile.reduce_call("sklearn.tree._export", "export_graphviz", None, str(target)),
    "imblearn.LazyLoader": lambda target: hostile.reduce_call("imblearn", "LazyLoader", "canarymod", {}, "canarymod"),
    "xgboost.LazyLoader": lambda target: hostile.reduce_call("xgboost.compat", "LazyLoader", "canarymod", {},
                                                             "canarymod"),
    "global": lambda target: {"-object-": {"-global-": ["canarymod", "payload"]}},
}


@pytest.fixture(scope="module")
def graph_runs(tmp_path_factory):
    """model_prediction on each of GRAPHS, all in ONE fresh Python (tests/fresh_python.py):
    ``{id: (Run, its output path)}``, and the canary file. Canaries: the file export_graphviz would write,
    and a module that writes it when imported."""
    folder = tmp_path_factory.mktemp("graphs")
    target = folder / "outside" / "written.dot"
    target.parent.mkdir()
    (target.parent / "canarymod.py").write_text(f"open({str(target)!r}, 'w').write('imported')\npayload = 1\n")
    runs, outs = [], []
    for name, graph_for in GRAPHS.items():
        model = hostile.graph_model(folder / f"{name}.h5mlm", graph_for(target))
        inputs, out = folder / f"{name}.json", folder / f"{name}.tsv"
        inputs.write_text(json.dumps({"infile_estimator": str(model), "method": "predict",
                                      "input_options": {"selected_input": "tabular", "header1": True,
                                                        "infile1": str(TEST_DATA / "regression_X.tsv")}}))
        runs.append(("model_prediction.py", ["--inputs", inputs, "--outfile", out]))
        outs.append(out)
    results = run_tools(runs, ["canarymod", "imblearn", "xgboost", "sklearn.tree", "galaxy_ml", "tensorflow"],
                        cwd=folder, extra_path=[target.parent], env=WORK_IN_TOOL_PROCESS)
    return dict(zip(GRAPHS, zip(results, outs, strict=True), strict=True)), target


@pytest.mark.parametrize("name", list(GRAPHS))
def test_object_graph_functions_never_run_nor_import(graph_runs, name):
    runs, target = graph_runs
    run, out = runs[name]
    assert run.returncode == 1 and not out.exists()
    assert "Error: Choose the dataset containing pipeline/estimator object" in run.stderr
    assert re.search(r"the model names \S+, which is not one of the scikit-learn classes this tool accepts|"
                     r"the model's object graph is neither a single Keras estimator", run.stderr)
    assert run.imported == [] and not target.exists()


# ---- reaching inside the estimator: attributes, parameters --------------------------------------

@pytest.mark.parametrize("attributes, message", [
    ({"predict_proba": np.arange(3)}, r"sets the attribute 'predict_proba'; only a classifier's classes_"),
    ({"classes_": np.array([0])}, r"classes_ must be 2 to 2 class labels"),
    ({"classes_": np.array([1, 0])}, r"classes_ must be distinct finite numbers in increasing order"),
    ({"classes_": np.zeros((10 ** 6,), "float32")}, r"classes_ must be 2 to 2 class labels"),
    ({"__class__": np.arange(2)}, r"sets the attribute '__class__'"),
])
def test_attributes_cannot_override_the_estimator(tmp_path, attributes, message):
    path = hostile.attributes_model(tmp_path / "model.h5mlm", attributes)
    with pytest.raises(ToolInputError, match=message):
        load_estimator(path, MODEL)


def test_regressor_has_no_classes(tmp_path):
    class_name, params = hostile.model_params()
    path = hostile.write_h5mlm(tmp_path / "m.h5mlm", class_name, params, attributes={"classes_": np.arange(2)})
    with pytest.raises(ToolInputError, match="a regression model has no classes_"):
        load_estimator(path, MODEL)


@pytest.mark.parametrize("change, message", [
    (lambda p: p.update(shuffle=False), r"a parameter 'shuffle' that 'Create deep learning model' never sets"),
    (lambda p: p.update(class_weight={"0": 1}), r"a parameter 'class_weight'"),
    (lambda p: p.update(run_eagerly=True), r"sets run_eagerly, which 'Create deep learning model' never sets"),
    (lambda p: p.update(momentum=0.5), r"momentum is not an option of the optimizer adam"),
    (lambda p: p.update(learning_rate=0), r"learning_rate must be a number > 0"),
    (lambda p: p.update(optimizer="keras.optimizers.Adam"), r"unknown optimizer"),
    (lambda p: p.update(loss="binary_crossentropy"), r"loss 'binary_crossentropy' is not one the form offers for a "
                                                      r"KerasGRegressor"),
    (lambda p: p.update(metrics=["mae", "os.system"]), r"are not among the form's metrics"),
    (lambda p: p.update(epochs=-1), r"epochs must be an integer from 1 to 100,000, got '-1'"),
    (lambda p: p.update(epochs=10 ** 12), r"epochs must be an integer from 1 to 100,000, got '1000000000000'"),
    (lambda p: p.update(batch_size=2 ** 31), r"batch_size must be an integer from 1 to 2,147,483,647"),
    (lambda p: p.update(seed=-5), r"random seed must be an integer from 0 to 4294967295"),
    (lambda p: p.update(callbacks=[{"callback_selection": {"callback_type": "EarlyStopping",
                                                           "monitor": "../x"}}]), r"monitor must be a metric name"),
])
def test_stored_parameters_pass_the_builder_form_checks(tmp_path, change, message):
    class_name, params = hostile.model_params()
    change(params)
    path = hostile.write_h5mlm(tmp_path / "m.h5mlm", class_name, params)
    with pytest.raises(ModelRefused, match=message):
        check_h5mlm(path, MODEL)


def test_files_our_tools_wrote_are_accepted():
    for name in ("imdb_untrained.h5mlm", "imdb_trained.h5mlm", "regression_untrained.h5mlm",
                 "regression_trained.h5mlm"):
        estimator = load_estimator(str(TEST_DATA / name), MODEL)
        assert type(estimator).__name__ in ("KerasGClassifier", "KerasGRegressor")
    assert list(load_estimator(str(TEST_DATA / "imdb_trained.h5mlm"), MODEL).classes_) == [0, 1]


# ---- exhausting the node: weights after Flatten/in wrappers, huge datasets, deep JSON -----------

def test_flatten_weights_are_counted_whatever_build_config_claims(tmp_path, monkeypatch):
    monkeypatch.setenv(memory.LIMIT_VARIABLE, str(8 * 1024 ** 3))
    path = hostile.flatten_model(tmp_path / "model.h5mlm")
    with pytest.raises(ToolInputError, match=r"about 1,000,001,\d{3},\d{3} parameters, 3\.6 TB as float32, more than "
                                             r"the 8\.0 GB of memory available"):
        check_h5mlm(path, MODEL)


@pytest.mark.parametrize("layers", [
    lambda k: [k.Input((6, 5)), k.layers.Flatten(), k.layers.Dense(7)],
    lambda k: [k.Input((20,)), k.layers.Embedding(50, 6), k.layers.Flatten(), k.layers.Dense(3)],
    lambda k: [k.Input((6, 5)), k.layers.TimeDistributed(k.layers.Dense(4)), k.layers.Flatten(), k.layers.Dense(2)],
    lambda k: [k.Input((9, 9, 2)), k.layers.Conv2D(3, 3, strides=2, padding="same"), k.layers.MaxPooling2D(2),
               k.layers.Flatten(), k.layers.Dense(5)],
    lambda k: [k.Input((12, 3)), k.layers.Conv1D(4, 3), k.layers.AveragePooling1D(2), k.layers.Reshape((20,)),
               k.layers.Dense(2)],
    lambda k: [k.Input((8, 3)), k.layers.Bidirectional(k.layers.LSTM(4, return_sequences=True)), k.layers.Flatten(),
               k.layers.Dense(2)],
])
def test_parameter_count_follows_shapes_like_keras(layers):
    from gxkeras.keras.environment import import_keras

    keras = import_keras()
    model = keras.Sequential(layers(keras))
    config = json.loads(model.to_json())["config"]
    for layer in config["layers"]:
        layer.pop("build_config", None)  # the count must not depend on what the file claims
    assert resources.config_parameters(config) == model.count_params()


@pytest.mark.parametrize("layers", [
    lambda k: [k.Input((10, 4)), k.layers.SeparableConv1D(5, 3, depth_multiplier=2, padding="same"),
               k.layers.Permute((2, 1)), k.layers.Flatten(), k.layers.Dense(3)],
    lambda k: [k.Input((9, 9, 3)), k.layers.SeparableConv2D(4, (3, 2), strides=2),
               k.layers.DepthwiseConv2D(2, depth_multiplier=3, use_bias=False), k.layers.Flatten(), k.layers.Dense(2)],
    lambda k: [k.Input((5, 5, 2)), k.layers.Conv2DTranspose(3, 3, strides=2), k.layers.Flatten(), k.layers.Dense(2)],
    lambda k: [k.Input((5, 5, 2)), k.layers.Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=1),
               k.layers.Flatten(), k.layers.Dense(2)],
    lambda k: [k.Input((4, 4, 4, 2)), k.layers.Conv3D(3, 2), k.layers.Conv3DTranspose(2, (2, 3, 2), strides=(1, 2, 1)),
               k.layers.Flatten(), k.layers.Dense(2)],
    lambda k: [k.Input((6, 7, 8, 2)), k.layers.MaxPooling3D(2), k.layers.AveragePooling3D((1, 2, 2), strides=1,
                                                                                          padding="same"),
               k.layers.Flatten(), k.layers.Dense(2)],
    lambda k: [k.Input((2, 6, 7, 8)), k.layers.GlobalAveragePooling3D(data_format="channels_first"), k.layers.Dense(2)],
    lambda k: [k.Input((10, 3)), k.layers.Cropping1D((1, 2)), k.layers.UpSampling1D(3), k.layers.ZeroPadding1D((2, 1)),
               k.layers.Flatten(), k.layers.Dense(2)],
    lambda k: [k.Input((8, 9, 3)), k.layers.Cropping2D(((1, 0), (2, 1))), k.layers.UpSampling2D((2, 3)),
               k.layers.ZeroPadding2D((1, 2)), k.layers.Flatten(), k.layers.Dense(2)],
    lambda k: [k.Input((6, 6, 6, 1)), k.layers.Cropping3D(1), k.layers.UpSampling3D(2),
               k.layers.ZeroPadding3D(((1, 0), (0, 1), (2, 2))), k.layers.Flatten(), k.layers.Dense(2)],
    lambda k: [k.Input((3, 8, 9)), k.layers.ZeroPadding2D(1, data_format="channels_first"),
               k.layers.Conv2D(4, 3, data_format="channels_first"), k.layers.Flatten(), k.layers.Dense(2)],
    lambda k: [k.Input((4, 2, 6, 6)), k.layers.ConvLSTM2D(3, (3, 2), data_format="channels_first", padding="same",
                                                          return_sequences=True), k.layers.Flatten(), k.layers.Dense(2)],
    lambda k: [k.Input((7,)), k.layers.RepeatVector(4), k.layers.Masking(), k.layers.ActivityRegularization(0.1),
               k.layers.SpatialDropout1D(0.2), k.layers.Conv1D(4, 3, padding="causal", strides=2), k.layers.LSTM(3)],
    lambda k: [k.Input((5, 3)), k.layers.RNN(k.layers.GRUCell(4), return_sequences=True),
               k.layers.RNN(k.layers.LSTMCell(3), return_sequences=True), k.layers.RNN(k.layers.SimpleRNNCell(2)),
               k.layers.Dense(2)],
    # a wrapper's weights grow with its inner layer's channels: TimeDistributed's layer sees no time axis
    lambda k: [k.Input((5, 3, 8, 8)), k.layers.TimeDistributed(k.layers.Conv2D(4, 3, data_format="channels_first")),
               k.layers.TimeDistributed(k.layers.Flatten()), k.layers.Dense(2)],
])
def test_parameter_count_of_conv_pooling_and_core_layers_like_keras(layers):
    """The layer types of the Core, Convolution, Pooling and Recurrent groups: weights (channels_first
    included: the channels are then not the last axis) and shapes followed as Keras does."""
    test_parameter_count_follows_shapes_like_keras(layers)


def test_channels_first_convolution_is_counted_by_its_channels():
    """A Conv2D on (channels, rows, cols) has channels x filters x window weights: 2 rows cannot hide
    100,000 channels."""
    config = {"layers": [{"class_name": "InputLayer", "config": {"batch_shape": [None, 100000, 2, 2]}},
                         {"class_name": "Conv2D", "config": {"filters": 100000, "kernel_size": [2, 2],
                                                             "data_format": "channels_first"}}]}
    assert resources.config_parameters(config) == 4 * 100000 * 100000 + 100000


@pytest.mark.parametrize("fields, shape", [
    ({"layer_type": "RepeatVector", "n": 10 ** 8}, "(100,)"),
    ({"layer_type": "UpSampling2D", "size": "(100000, 100000)"}, "(8, 8, 1)"),
    ({"layer_type": "ZeroPadding1D", "padding": "(999999999, 0)"}, "(8, 3)"),
    ({"layer_type": "Conv2DTranspose", "filters": 1, "kernel_size": "1", "kwargs": "strides=100000"}, "(8, 8, 1)"),
])
def test_layers_without_weights_cannot_ask_for_huge_outputs(monkeypatch, fields, shape):
    """No weights to count, but one sample's output would fill the memory at the first batch: refused
    by the config tool and by the loaders (a model JSON from elsewhere)."""
    from keras_model_config import build_model_json

    monkeypatch.setenv(memory.LIMIT_VARIABLE, str(1024 ** 3))
    form = {"model_selection": {"model_type": "sequential", "input_shape": shape,
                                "layers": [{"layer_selection": fields}]}}
    with pytest.raises(ToolInputError, match=r"LAYER 1 \(.*\): too large: its output has [\d,]+ values for one sample"):
        build_model_json(form)
    monkeypatch.setenv(memory.LIMIT_VARIABLE, str(10 ** 16))  # the config tool builds it; the loaders refuse it
    config = json.loads(build_model_json(form))["config"]
    with pytest.raises(ToolInputError, match=r"model: layer '.*': its output has [\d,]+ values for one sample"):
        resources.check_config_size(config, "model", limit=1024 ** 3)


def test_functional_parameter_count_follows_the_graph():
    from gxkeras.keras.environment import import_keras

    keras = import_keras()
    a, b = keras.Input((4, 3)), keras.Input((4, 5))
    joined = keras.layers.Concatenate()([keras.layers.Dense(6)(a), b])
    model = keras.Model([a, b], keras.layers.Dense(2)(keras.layers.Flatten()(joined)))
    config = json.loads(model.to_json())["config"]
    for layer in config["layers"]:
        layer.pop("build_config", None)
    assert resources.config_parameters(config) == model.count_params()


def test_time_distributed_is_counted_and_its_layer_checked(tmp_path):
    model = json.loads((TEST_DATA / "regression_model_config.json").read_text())
    dense = model["config"]["layers"][1]
    model["config"]["layers"][1] = {"module": "keras.layers", "class_name": "TimeDistributed", "registered_name": None,
                                    "config": {"name": "td", "layer": dense}}
    assert resources.config_parameters(model["config"]) == 4 * 8 + 8 + 8 * 1 + 1
    check_model_config(model, "model")  # offered (issue 16), wrapping a layer its form offers
    dense["class_name"] = "StringLookup"
    with pytest.raises(ToolInputError, match="keras.layers.StringLookup is not offered by the tool forms"):
        check_model_config(model, "model")


def test_huge_compressed_weights_are_refused_before_reading(tmp_path):
    weights = hostile.huge_weights(tmp_path / "w.weights.h5")
    assert Path(weights).stat().st_size < 100_000  # 4 GB of float32 once unpacked
    import tracemalloc

    tracemalloc.start()
    message, out = predict(tmp_path, TEST_DATA / "regression_trained.h5mlm", weights)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "dataset layers/dense/vars/0 is stored through the HDF5 filter 'deflate'" in message
    assert peak < 500 * 1024 ** 2 and not out.exists()


def never_read(monkeypatch):
    """Any read of a dataset's values fails the test."""
    def read(*args, **kwargs):
        pytest.fail("a dataset's values were read")
    monkeypatch.setattr(h5py.Dataset, "__getitem__", read)
    monkeypatch.setattr(h5py.Dataset, "read_direct", read)


@pytest.mark.parametrize("case, sizes, refusal", [
    ("compressed", (600_000_000,), "dataset -model_weights-/0 is stored through the HDF5 filter 'deflate'"),
    ("unwritten", (600_000_000,), "dataset -model_weights-/0 as its metadata declares it needs 2.2 GB"),
    ("unwritten", (200_000_000,) * 4, "the file's 8 datasets (declared sizes) needs 3.0 GB"),
])
def test_declared_dataset_sizes_are_checked_before_anything_is_read(tmp_path, monkeypatch, case, sizes, refusal):
    """A few kB declaring gigabytes, compressed or as chunks never written (read as the fill value): refused from
    HDF5's metadata, each dataset and their total against the job's memory (here 2 GB), nothing read."""
    monkeypatch.setenv(memory.LIMIT_VARIABLE, str(2 * 1024 ** 3))
    path = hostile.oversized_sklearn(tmp_path / "model.h5mlm", case == "compressed", sizes)
    assert Path(path).stat().st_size < 100_000
    never_read(monkeypatch)
    with pytest.raises(ModelRefused) as caught:
        check_h5mlm(path, MODEL)
    assert str(caught.value).startswith(f"{MODEL} ({path}): {refusal}")


@pytest.mark.parametrize("make, refusal", [
    (lambda f: f.create_dataset("x", data=np.array(["a", "b"], dtype=object), dtype=h5py.string_dtype()),
     "variable-length values"),
    (lambda f: f.create_dataset("x", shape=(2,), dtype=h5py.vlen_dtype("i4")), "variable-length values"),
    (lambda f: f.create_dataset("x", shape=(2,), dtype=h5py.ref_dtype), "references"),
    (lambda f: f.create_dataset("x", shape=(8,), dtype="f4", chunks=(4,), shuffle=True, fletcher32=True),
     "the HDF5 filter 'shuffle, fletcher32'"),
])
def test_datasets_our_writers_never_write_are_refused(tmp_path, monkeypatch, make, refusal):
    """Variable-length arrays (what their items point to is not in the declared size), references and filters."""
    path = tmp_path / "model.h5mlm"
    shutil.copy(TEST_DATA / "sklearn_pipeline.h5mlm", path)
    with h5py.File(path, "r+") as handle:
        make(handle["-model_weights-"])
    never_read(monkeypatch)
    with pytest.raises(ModelRefused, match=re.escape(f"({path}): dataset -model_weights-/x ")) as caught:
        check_h5mlm(str(path), MODEL)
    assert refusal in str(caught.value)


@pytest.mark.parametrize("name", sorted(path.name for path in TEST_DATA.glob("*.h5*")
                                        if not path.name.startswith("hostile_")))
def test_every_hdf5_file_our_tools_and_galaxy_ml_wrote_passes_the_dataset_checks(name):
    with h5py.File(TEST_DATA / name, "r") as handle:
        check_hdf5_objects(handle, name)


def test_weights_of_another_dtype_are_refused(tmp_path):
    with h5py.File(tmp_path / "w.weights.h5", "w") as handle:
        handle["layers/dense/vars/0"] = np.array([b"x" * 10] * 4)
    message, _ = predict(tmp_path, TEST_DATA / "regression_trained.h5mlm", tmp_path / "w.weights.h5")
    assert "holds |S10, expected numbers" in message


def test_deep_json_is_refused_without_recursion_error(tmp_path, write_text):
    with pytest.raises(ToolInputError, match=r"h5mlm\): the model's Keras parameters: JSON nested 5001 levels deep"):
        check_h5mlm(hostile.deep_model(tmp_path / "model.h5mlm"), MODEL)
    with pytest.raises(ToolInputError, match=r"^Select the dataset containing model configuration: JSON nested 5001 "
                                             r"levels deep, more than the 64"):
        parse_model_json(Path(hostile.deep_json(tmp_path / "deep.json")).read_text(), kmb.MODEL_LABEL)
    with pytest.raises(ToolInputError, match=r"kwargs: longer than 2000 characters"):
        from gxkeras.galaxy.values import parse_kwargs
        parse_kwargs("a=" + "[" * 100000 + "]" * 100000, "kwargs")


def test_depth_ignores_brackets_inside_strings():
    assert safe_json.depth('{"a": "[[[[{{{{", "b": [1, [2]]}') == 3
    assert safe_json.loads('{"a": "[[[["}', "x") == {"a": "[[[["}


# ---- one source of truth: the forms and what Python knows about their options ------------------

def test_allow_lists_come_from_the_forms():
    objects = allowed()["objects"]
    for layer in forms.options("keras_model_config", "layer_type"):
        assert layer == "Input" or ("keras.layers", layer) in objects
    wrapped = {layer for name in ("rnn_type", "inner_layer_type")  # what Bidirectional and TimeDistributed wrap
               for layer in forms.options("keras_model_config", name)}
    offered = set(forms.options("keras_model_config", "layer_type")) - {"Input"}
    # RNN: the layer that runs a form's cell (SimpleRNNCell, GRUCell, LSTMCell), admitted only around one
    assert {name for module, name in objects if module == "keras.layers"} == offered | wrapped | {"InputLayer", "RNN"}
    import keras_model_config as kmc
    assert set(kmc.GROUP_OF) == offered and wrapped <= offered  # the script's groups are the form's layers
    assert ("keras.layers", "StringLookup") not in objects and ("keras.layers", "Lambda") not in objects
    assert set(options.CALLBACK_ARGS) == {"EarlyStopping", "ReduceLROnPlateau", "TerminateOnNaN", "CSVLogger",
                                             "ModelCheckpoint", "LearningRateScheduler"}
    assert options.CALLBACK_ARGS["CSVLogger"] == ()  # no option: its file name is fixed (log.csv)
    # no callback takes a file, directory or URL from the form, nor code: their files are fixed names
    for args in options.CALLBACK_ARGS.values():
        assert not {"filepath", "filename", "log_dir", "backup_dir", "root", "path", "on_epoch_end"} & set(args)
    assert options.CALLBACK_ARGS["LearningRateScheduler"] == ("schedule", "drop", "epochs_drop", "decay_rate")
    assert set(callbacks.CHECKPOINT.values()) == {"checkpoint.weights.h5", "checkpoint.keras"}


def test_contract_form_options_and_python_checks_agree():
    """Fails when an option is added to a form without Python knowing how to check it, or the reverse."""
    form_args = {arg for args in [*options.OPTIMIZER_ARGS.values(), *options.CALLBACK_ARGS.values()]
                 for arg in args}
    assert form_args == set(options.ARG_CHECKS)
    assert set(options.CALLBACK_ARGS) == callbacks.REVIEWED_CALLBACKS
    # the schedules and class weight choices the forms offer are the ones Python computes
    schedules = {name: callbacks.Decay(name, drop=0.5, epochs_drop=1, decay_rate=1.0) for name in options.SCHEDULES}
    assert set(schedules) == set(callbacks.SCHEDULE_RATES) == {"step_decay", "exponential_decay"}
    assert {name: round(decay(0, 1.0) + decay(1, 1.0), 4) for name, decay in schedules.items()} == {
        "step_decay": 1.5, "exponential_decay": 1.3679}
    assert set(CLASS_WEIGHT_TYPES) == {"balanced", "mapping"}
    assert forms.when_params("keras_train_and_eval", "class_weight_type") == {"balanced": (), "mapping": ("class_weight",)}
    assert options.CLASSIFIER_LOSSES | options.REGRESSOR_LOSSES == set(options.LOSSES)
    assert kmb.CLASSIFICATION_ONLY_METRICS <= set(options.METRICS)
    # every name the forms offer is a real Keras object of the kind the allow-list files it under
    from gxkeras.keras.environment import import_keras

    keras = import_keras()
    lists = allowed()
    for module, name in lists["objects"]:
        if module.startswith("keras.") and module != "keras.src.models.functional":
            assert hasattr(getattr(keras, module.split(".")[1]), name), (module, name)
    for name in lists["activations"]:
        assert keras.activations.get(name) is not None
