"""Hostile and malformed input for every tool: one clear error, nothing from the input executed.

The malicious model files are built here, in tmp_path, from the committed real models (never
shipped in test-data): a copy of an h5mlm whose galaxy-ml object graph (``-model_config-``) or
Keras entry (``-keras_models-/0``) is rewritten.
"""
import json
import re
import shutil
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

import h5py
import numpy as np
import pytest

import keras_model_builder as kmb
import keras_model_config as kmc
import keras_train_and_eval as kte
import keras_text_to_sequences as kts
import ml_visualization_ex as mve
import model_prediction as mp
import plotly_regression_performance_plots as plotly
from gxkeras.keras import estimators
from gxkeras.galaxy import memory
from gxkeras.keras import config_size as resources
from gxkeras.keras.allowlist import MAX_LAYERS, check_model_config, count_layers
from gxkeras.galaxy.errors import ModelRefused, ToolInputError, run_tool
from gxkeras.keras.estimators import parse_model_json
from gxkeras.modelfile.h5mlm import check_h5mlm, load_estimator
from gxkeras.data.tabular import iter_tabular, read_tabular
from repo_paths import ROOT, SCRIPTS, TEST_DATA

from fixtures.hostile_models import reduce_call

X_LABEL = "Training samples dataset"


def tsv(rows):
    return "".join("\t".join(str(value) for value in row) + "\n" for row in np.atleast_2d(rows))


# ---- tabular data: the shared reader, whole and in chunks -----------------------------------------

def read_both(path, **options):
    """Read with read_tabular and iter_tabular: both must give the same error."""
    errors = []
    for reader in (lambda: read_tabular(path, X_LABEL, **options),
                   lambda: list(iter_tabular(path, X_LABEL, chunk_rows=2, **options))):
        with pytest.raises(ToolInputError) as caught:
            reader()
        errors.append(str(caught.value))
    assert errors[0] == errors[1]
    return errors[0]


@pytest.mark.parametrize("text, options, message", [
    ("", {}, r"^Training samples dataset \(.*\): the dataset is empty, expected tab-separated numbers"),
    ("a\tb\n", {"header": True}, r"^Training samples dataset: the dataset has no data rows"),
    ("1\t2\n3\t4\n5\n", {}, r"^Training samples dataset: line 3 has 1 columns, expected 2 like the lines before it"),
    ("1\t2\n3\t4\n5\t6\t7\n", {}, r"^Training samples dataset: line 3 has 3 columns, expected 2"),
    ("1\t2\n3\tx7\n", {}, r"^Training samples dataset: line 2, column 2 is 'x7', expected a finite number$"),
    ("1\t2\n3\tnan\n", {}, r"line 2, column 2 is 'nan', expected a finite number$"),
    ("1\t2\ninf\t4\n", {}, r"line 2, column 1 is 'inf', expected a finite number$"),
    ("1\t-Infinity\n", {}, r"line 1, column 2 is '-Infinity', expected a finite number$"),
    ("1\t1e999\n", {}, r"line 1, column 2 is '1e999', expected a finite number"),
    # a header although the header option says there is none
    ("age\tweight\n1\t2\n", {}, r"line 1, column 1 is 'age', expected a finite number \(is the first line a header\? "
                              r"set the header option\)"),
    # the header option set although line 1 is a sample
    ("0\t0\t7\n1\t2\t3\n", {"header": True}, r"'Does the dataset contain header' is set, but line 1 \(0, 0, 7\) is a "
                                            r"row of numbers, not column names: unset the header option"),
    ("0.25\t1.5\n1\t2\n", {"header": True}, r"line 1 \(0.25, 1.5\) is a row of numbers"),
    ("1\t2\n", {"column_option": "by_index_number", "columns": "3"},
     r"column 3 does not exist: the data has 2 columns"),
    ("1\t2\n", {"column_option": "by_index_number", "columns": "0"}, r"column 0 does not exist"),
    ("1\t2\n", {"column_option": "by_index_number", "columns": "1;rm -rf /"},
     r"column: '1;rm -rf /' is not a whole number"),
    ("1\t2\n", {"column_option": "all_but_by_index_number", "columns": "1,2"}, r"the selection leaves no column"),
    ("a\tb\n1\t2\n", {"header": True, "column_option": "by_header_name", "columns": "c"},
     r"no column named c in the header \(a, b\)"),
    ("a\tb\n1\t2\n", {"header": True, "column_option": "all_but_by_header_name", "columns": "a,b"},
     r"the selection leaves no column"),
    ("1\t2\n", {"column_option": "by_header_name", "columns": "a"}, r"selecting columns by header name needs"),
])
def test_malformed_tables(write_text, text, options, message):
    assert re.search(message, read_both(write_text(text), **options))


def test_numeric_column_names_are_still_a_header(write_text):
    """predict_proba's header is its class labels (0 1, or -1 1): a header of distinct integers is kept."""
    values, names = read_tabular(write_text("-1\t1\n0.25\t0.75\n"), X_LABEL, header=True)
    assert names == ["-1", "1"] and values.tolist() == [[0.25, 0.75]]


# ---- keras_train_and_eval and model_prediction: data that does not fit the model --------------------

def train_params(model, X, y, header=False, x_selector=None):
    split = {"split_algos": {"shuffle": "simple", "test_size": 0.25, "random_state": None}}
    return {"experiment_schemes": {"selected_exp_scheme": "train_val", "infile_estimator": model,
                                   "test_split": split, "metrics": {"scoring": {"primary_scoring": "default"}}},
            "input_options": {"selected_input": "tabular", "infile1": X, "header1": header,
                              "column_selector_options_1": x_selector or {"selected_column_selector_option": "all_columns"},
                              "infile2": y, "header2": header,
                              "column_selector_options_2": {"selected_column_selector_option2": "all_columns"}}}


def train_outputs(tmp_path, tag=""):
    names = ("outfile_result", "outfile_object", "outfile_weights", "outfile_history", "outfile_y_true",
             "outfile_y_preds")
    return {name: str(tmp_path / f"{name}{tag}.out") for name in names}


def imdb_rows(n=20):
    return np.loadtxt(TEST_DATA / "imdb_X_test.tsv", dtype="int64")[:n], np.array([0, 1] * (n // 2))


@pytest.mark.parametrize("value, place", [(-1, (3, 5)), (10000, (7, 100)), (123456789, (1, 1))])
def test_training_refuses_word_indices_outside_the_embedding(tmp_path, write_text, value, place):
    X, y = imdb_rows()
    X[place[0] - 1, place[1] - 1] = value
    with pytest.raises(ToolInputError, match=rf"^{X_LABEL}: line {place[0]}, selected column {place[1]} is {value}; the model "
                                             r"starts with an Embedding of input_dim 10000"):
        kte.train_and_evaluate(train_params(str(TEST_DATA / "imdb_untrained.h5mlm"), write_text(tsv(X), "X.tsv"),
                             write_text(tsv(y.reshape(-1, 1)), "y.tsv")), train_outputs(tmp_path))


@pytest.mark.parametrize("value", [-1, 10000, 2.5])
def test_prediction_refuses_word_indices_outside_the_embedding(tmp_path, write_text, value):
    X, _ = imdb_rows(10)
    X = X.astype(object)
    X[4, 9] = value
    params = {"infile_estimator": str(TEST_DATA / "imdb_trained.h5mlm"), "method": "predict",
              "input_options": {"selected_input": "tabular", "infile1": write_text(tsv(X), "X.tsv"), "header1": False,
                                "column_selector_options_1": {"selected_column_selector_option": "all_columns"}}}
    out = tmp_path / "pred.tsv"
    with pytest.raises(ToolInputError, match=rf"^{X_LABEL}: line 5, selected column 10 is {value}.*; the model "
                                             r"starts with an Embedding of input_dim 10000, so every value must be a "
                                             r"word index 0..9999"):
        mp.run(params, str(out))
    assert not out.exists() and not Path(str(out) + ".part").exists()


@pytest.mark.parametrize("case, message", [
    ("header_numbers", rf"^{X_LABEL}: 'Does the dataset contain header' is set, but line 1 \(0, 0, 0, 0, 0, \.\.\.\) is "
                       "a row of numbers"),
    ("missing_column", rf"^{X_LABEL}: column 101 does not exist: the data has 100 columns"),
    ("no_column", rf"^{X_LABEL}: the selection leaves no column"),
    ("width", rf"^{X_LABEL}: 99 columns, but the model's input shape is \(100,\)"),
    ("labels", r"^Dataset containing class labels or target values: line 2 is -1, but the model ends in one sigmoid"),
])
def test_training_data_that_does_not_fit(tmp_path, write_text, case, message):
    X, y = imdb_rows()
    header, selector = False, None
    if case == "header_numbers":
        header = True
    elif case == "missing_column":
        selector = {"selected_column_selector_option": "by_index_number", "col1": [1, 101]}
    elif case == "no_column":
        selector = {"selected_column_selector_option": "all_but_by_index_number", "col1": list(range(1, 101))}
    elif case == "width":
        X = X[:, 1:]
    elif case == "labels":
        y[1] = -1
    with pytest.raises(ToolInputError, match=message):
        kte.train_and_evaluate(train_params(str(TEST_DATA / "imdb_untrained.h5mlm"), write_text(tsv(X), "X.tsv"),
                             write_text(tsv(y.reshape(-1, 1)), "y.tsv"), header=header, x_selector=selector),
                train_outputs(tmp_path))


# ---- model files: refused before anything in them runs ------------------------------------------

def rewrite_graph(tmp_path, graph, source="imdb_untrained.h5mlm"):
    """A copy of a real h5mlm whose galaxy-ml object graph is ``graph``."""
    path = tmp_path / "hostile.h5mlm"
    shutil.copy(TEST_DATA / source, path)
    with h5py.File(path, "r+") as handle:
        del handle["-model_config-"]
        handle["-model_config-"] = json.dumps(graph).encode("utf-8")
    return str(path)


def rewrite_keras_entry(tmp_path, change, source="imdb_trained.h5mlm"):
    """A copy of a real h5mlm whose Keras entry (class name, params with the model config) is changed."""
    path = tmp_path / "hostile.h5mlm"
    shutil.copy(TEST_DATA / source, path)
    with h5py.File(path, "r+") as handle:
        entry = handle["-keras_models-/0"]
        class_name = entry["class_name"][()].decode()
        params = json.loads(entry["params"][()])
        class_name = change(params) or class_name
        for key, value in (("class_name", class_name), ("params", json.dumps(params))):
            del entry[key]
            entry[key] = value.encode("utf-8")
    return str(path)


def lambda_layer(params):
    params["config"]["layers"].insert(2, {
        "module": "keras.layers", "class_name": "Lambda", "registered_name": None,
        "config": {"name": "evil", "function": {"class_name": "__lambda__", "config": {"code": "ZZZ"}}}})


def foreign_module(params):
    params["config"]["layers"][1]["module"] = "os"


def custom_object(params):
    params["config"]["layers"][-1]["registered_name"] = "evil>Dense"


def huge_embedding(params):
    params["config"]["layers"][1]["config"].update(input_dim=10 ** 8, output_dim=10 ** 4)
    params["config"]["layers"][1]["build_config"] = {"input_shape": [None, 100]}


MODEL = "Choose the dataset containing pipeline/estimator object"
NOT_OUR_GRAPH = (r"(the model's object graph is neither a single Keras estimator .*|the model names "
                 r"(os\.system|builtins\.eval|subprocess\.Popen), which is not one of the scikit-learn classes .*)"
                 r"the file is refused unread")


@pytest.fixture
def canary(tmp_path):
    """A file that an executed payload would create."""
    return tmp_path / "pwned"


def hostile_model(tmp_path, write_text, canary, case):
    if case == "not_hdf5":
        return write_text("import os; os.system('touch pwned')\n", "model.h5mlm"), r"not an HDF5 file"
    if case == "hdf5_not_h5mlm":
        path = tmp_path / "other.h5"
        with h5py.File(path, "w") as handle:
            handle["data"] = np.arange(3)
        return str(path), r"an HDF5 file but not a galaxy-ml h5mlm model"
    if case == "graph_not_json":
        path = rewrite_graph(tmp_path, {})
        with h5py.File(path, "r+") as handle:
            del handle["-model_config-"]
            handle["-model_config-"] = b"\x80\x04cos\nsystem\n."  # a pickle
        return path, r"object graph \(-model_config-\): not valid JSON"
    if case == "os.system":
        return (rewrite_graph(tmp_path, reduce_call("os", "system", f"touch {canary}")),
                NOT_OUR_GRAPH)
    if case == "builtins.eval":
        return rewrite_graph(tmp_path, reduce_call("builtins", "eval", f"open('{canary}', 'w')")), NOT_OUR_GRAPH
    if case == "subprocess.Popen":
        return rewrite_graph(tmp_path, reduce_call("subprocess", "Popen", ["touch", str(canary)])), NOT_OUR_GRAPH
    if case == "nested_global":  # a forbidden global deep inside an otherwise plain graph
        graph = {"-object-": {"-keras_model-": 0}, "extra": [{"a": reduce_call("posix", "system", "id")}]}
        return rewrite_graph(tmp_path, graph, "imdb_trained.h5mlm"), NOT_OUR_GRAPH
    if case == "keras_class":
        return (rewrite_keras_entry(tmp_path, lambda params: "load_model"),
                r"Keras entry is a 'load_model', expected one of KerasGClassifier, KerasGRegressor")
    if case == "lambda":
        return rewrite_keras_entry(tmp_path, lambda_layer), r"keras.layers.Lambda is not offered by the tool forms"
    if case == "foreign_module":
        return rewrite_keras_entry(tmp_path, foreign_module), r"os.Embedding is not offered by the tool forms"
    if case == "custom_object":
        return rewrite_keras_entry(tmp_path, custom_object), r"custom object 'evil>Dense' is not accepted"
    if case == "huge":
        return rewrite_keras_entry(tmp_path, huge_embedding), r"about 1,000,000,\d{3},\d{3} parameters, 3\.6 TB"
    raise AssertionError(case)


HOSTILE_MODELS = ["not_hdf5", "hdf5_not_h5mlm", "graph_not_json", "os.system", "builtins.eval", "subprocess.Popen",
                  "nested_global", "keras_class", "lambda", "foreign_module", "custom_object", "huge"]


@pytest.mark.parametrize("case", HOSTILE_MODELS)
def test_hostile_model_files_are_refused_unread(tmp_path, write_text, canary, monkeypatch, case):
    path, message = hostile_model(tmp_path, write_text, canary, case)
    import galaxy_ml.model_persist as persist

    def must_not_load(*args, **kwargs):
        raise AssertionError("galaxy-ml's loader was reached")

    monkeypatch.setattr(persist, "load_model_from_h5", must_not_load)
    with pytest.raises(ToolInputError, match=message):
        check_h5mlm(path, MODEL)
    with pytest.raises(ToolInputError, match=rf"^{MODEL} \(.*\): .*{message}"):
        load_estimator(path, MODEL)
    assert not canary.exists()


@pytest.mark.parametrize("case", ["os.system", "subprocess.Popen", "lambda", "keras_class"])
def test_trainer_and_predictor_refuse_hostile_models(tmp_path, write_text, canary, case):
    path, message = hostile_model(tmp_path, write_text, canary, case)
    X, y = imdb_rows(10)
    x_path, y_path = write_text(tsv(X), "X.tsv"), write_text(tsv(y.reshape(-1, 1)), "y.tsv")
    out = train_outputs(tmp_path)
    with pytest.raises(ToolInputError, match=message):
        kte.train_and_evaluate(train_params(path, x_path, y_path), out)
    predict = {"infile_estimator": path, "method": "predict",
               "input_options": {"selected_input": "tabular", "infile1": x_path, "header1": False}}
    with pytest.raises(ToolInputError, match=message):
        mp.run(predict, str(tmp_path / "pred.tsv"))
    assert not canary.exists()
    assert not any(Path(p).exists() for p in [*out.values(), tmp_path / "pred.tsv"])


# ---- model JSON for the builder: Lambda, custom objects, foreign modules, size --------------------

def imdb_json():
    return json.loads((TEST_DATA / "imdb_model_config.json").read_text())


@pytest.mark.parametrize("change, message", [
    (lambda m: lambda_layer(m), "keras.layers.Lambda is not offered by the tool forms"),
    (lambda m: m["config"]["layers"][2].update(module="subprocess"), r"subprocess\.\w+ is not offered"),
    (lambda m: m["config"]["layers"][3]["config"]["kernel_initializer"].update(module="builtins",
                                                                               class_name="eval"),
     "builtins.eval is not offered"),
    (lambda m: m["config"]["layers"][3].update(registered_name="my_package>MyDense"), "custom object"),
    (lambda m: m["config"]["layers"][3].update(class_name="os.system"), "keras.layers.os.system is not offered"),
    (lambda m: huge_embedding(m), r"about 1,000,000,\d{3},\d{3} parameters, 3\.6 TB as float32, more than the"),
])
def test_model_json_refused_before_keras_builds_it(monkeypatch, change, message):
    import gxkeras.keras.estimators as estimators

    model = imdb_json()
    change(model)
    monkeypatch.setattr(estimators, "_build_check", lambda *args: pytest.fail("Keras was asked to build it"))
    with pytest.raises(ToolInputError, match=message):
        parse_model_json(json.dumps(model), kmb.MODEL_LABEL)


def test_builder_refuses_a_huge_json_with_the_numbers(write_text, monkeypatch):
    monkeypatch.setenv(memory.LIMIT_VARIABLE, str(2 * 1024 ** 3))
    model = imdb_json()
    huge_embedding(model)
    path = write_text(json.dumps(model), "model.json")
    params = {"mode_selection": {"mode_type": "train_model", "infile_json": path, "learning_type": "KerasGClassifier",
                                 "compile_params": {"loss": "binary_crossentropy",
                                                    "optimizer_selection": {"optimizer_type": "Adam"}},
                                 "random_seed": 1}}
    with pytest.raises(ToolInputError, match=r"^Select the dataset containing model configuration: the model has "
                                             r"about 1,000,000,\d{3},\d{3} parameters, 3\.6 TB as float32, more than "
                                             r"the 2\.0 GB of memory available to this job"):
        kmb.build_estimator(params)


# ---- layer counts: bounded, counted first, wrapped and nested layers included ------------------------

def dense(index):
    return {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
            "config": {"name": f"dense_{index}", "units": 2, "activation": "relu"}}


def with_layers(model, layers):
    """``model`` (a whole model JSON or an estimator's params) with ``layers`` after its input layer."""
    model["config"]["layers"] = model["config"]["layers"][:1] + layers
    return model


def time_distributed(index):
    return {"module": "keras.layers", "class_name": "TimeDistributed", "registered_name": None,
            "config": {"name": f"td_{index}", "layer": dense(index)}}


def nested_sequential(count):
    return {"module": "keras", "class_name": "Sequential", "registered_name": None,
            "config": {"name": "inner", "layers": [dense(index) for index in range(count)]}}


@pytest.mark.parametrize("layers, counted", [
    ([dense(index) for index in range(1000)], 1001),  # 1,000 took two minutes, then a RecursionError
    ([time_distributed(index) for index in range(300)], 601),  # each wraps a Dense
    ([nested_sequential(600)], 602),  # a model inside the model
])
def test_too_many_layers_are_refused_before_keras_builds_anything(monkeypatch, layers, counted):
    """The count comes first, says by how much it exceeds the bound, and counts wrapped and nested layers."""
    monkeypatch.setattr(estimators, "_build_check", lambda *args: pytest.fail("Keras was asked to build it"))
    with pytest.raises(ModelRefused) as caught:
        parse_model_json(json.dumps(with_layers(imdb_json(), layers)), kmb.MODEL_LABEL)
    message = str(caught.value)
    assert message.startswith(f"{kmb.MODEL_LABEL}: the model has {counted:,} layers")
    assert f"{counted - MAX_LAYERS:,} more than the {MAX_LAYERS}" in message


def test_a_model_at_the_layer_bound_is_accepted():
    model = with_layers(imdb_json(), [dense(index) for index in range(MAX_LAYERS - 1)])
    assert count_layers(model) == MAX_LAYERS
    check_model_config(model, kmb.MODEL_LABEL)


def test_a_model_file_of_too_many_layers_is_refused_unread(tmp_path):
    path = rewrite_keras_entry(tmp_path, lambda params: with_layers(params, [dense(i) for i in range(600)]) and None)
    with pytest.raises(ModelRefused, match=rf"^{re.escape(MODEL)} \(.*hostile.h5mlm\): the model has 601 layers"):
        check_h5mlm(path, MODEL)


def test_the_config_form_refuses_too_many_layers_before_keras(monkeypatch):
    monkeypatch.setattr(kmc, "import_keras", lambda **kwargs: pytest.fail("Keras was imported"))
    form = sequential(*[{"layer_type": "Dense", "units": 2}] * (MAX_LAYERS + 1))
    with pytest.raises(ToolInputError, match=rf"^the model's LAYERs: the model has {MAX_LAYERS + 1} layers .*, 1 "
                                             rf"more than the {MAX_LAYERS}"):
        kmc.build_model_json(form)


def test_layers_are_counted_without_recursion():
    """100,000 wrappers deep (no JSON parser allows that; a Python structure may): counted, no RecursionError."""
    layer = dense(0)
    for _ in range(100_000):
        layer = {"module": "keras.layers", "class_name": "TimeDistributed", "config": {"layer": layer}}
    assert count_layers({"config": {"layers": [layer]}}) == 100_001


# ---- keras_model_config: memory bound and hostile form values -----------------------------------

def sequential(*layers, shape="(100,)"):
    return {"model_selection": {"model_type": "sequential", "input_shape": shape,
                                "layers": [{"layer_selection": layer} for layer in layers]}}


def test_config_refuses_a_huge_embedding_before_building_it(monkeypatch):
    import keras

    original = keras.layers.Embedding.build
    monkeypatch.setattr(keras.layers.Embedding, "build", lambda *a, **k: pytest.fail("weights were allocated"))
    with pytest.raises(ToolInputError, match=r"^LAYER 1 \(Embedding -- Embedding\): too large: the model has about "
                                             r"1,000,000,000,000 parameters, 3\.6 TB as float32, more than the "
                                             r"[\d.,]+ [KMGT]B of memory available"):
        kmc.build_model_json(sequential({"layer_type": "Embedding", "input_dim": 10 ** 8, "output_dim": 10 ** 4}))
    monkeypatch.setattr(keras.layers.Embedding, "build", original)


def test_config_counts_the_whole_stack(monkeypatch):
    """Dense layers that are small alone but too large together; the limit from the environment."""
    monkeypatch.setenv(memory.LIMIT_VARIABLE, "4100000")  # 1,025,000 float32 parameters
    with pytest.raises(ToolInputError, match=r"^LAYER 3 \(Core -- Dense\): too large: the model has about 1,028,930 "
                                             r"parameters, 3\.9 MB as float32, more than the 3\.9 MB"):
        kmc.build_model_json(sequential({"layer_type": "Dense", "units": 1000}, {"layer_type": "Dense", "units": 900},
                                        {"layer_type": "Dense", "units": 30}))


@pytest.mark.parametrize("layers, shape", [
    ([{"layer_type": "Embedding", "input_dim": 10000, "output_dim": 32}, {"layer_type": "LSTM", "units": 100},
      {"layer_type": "Dense", "units": 1, "activation": "sigmoid"}], "(500,)"),
    ([{"layer_type": "Embedding", "input_dim": 500, "output_dim": 8},
      {"layer_type": "Bidirectional", "rnn_type": "GRU", "units": 6, "kwargs": "return_sequences=True"},
      {"layer_type": "SimpleRNN", "units": 4}, {"layer_type": "BatchNormalization"}, {"layer_type": "Dense", "units": 3}],
     "(20,)"),
    ([{"layer_type": "Conv2D", "filters": 4, "kernel_size": "3,3"}, {"layer_type": "MaxPooling2D", "pool_size": "2,2"},
      {"layer_type": "Conv2D", "filters": 5, "kernel_size": "2,2"}, {"layer_type": "Dense", "units": 2}], "(12, 12, 3)"),
])
def test_parameter_estimate_matches_keras(layers, shape):
    """The estimate (from the form, and from the written JSON) is Keras' own count for these models."""
    from gxkeras.keras.environment import import_keras

    keras = import_keras()
    budget = kmc.ParameterBudget()
    model = kmc.build_sequential(keras, {"input_shape": shape},
                                 [kmc.flatten_sections(layer) for layer in layers], budget)
    assert budget.total == model.count_params()
    assert resources.config_parameters(json.loads(model.to_json())["config"]) == model.count_params()


@pytest.mark.parametrize("kwargs, message", [
    ("name=\"x/'; $(touch /tmp/pwned) `id`\"", r"the layer name .* is not allowed: expected up to 100 letters"),
    ("__class__='os.system'", r"Dense argument: unknown '__class__'"),
    ("kernel_initializer={'class_name': 'Lambda', 'module': 'os', 'config': {}}",
     r"the value of 'kernel_initializer' must be a number, 'string', True, False, None or a tuple or list of those"),
    ("__import__('os').system('id')", r"kwargs: .* is malformed: expected key=value pairs"),
    ("use_bias=__import__('os').system('id')", r"the value of 'use_bias' must be a number"),
    ("units=3), __import__('os').system('id'", r"kwargs: .* is malformed: expected key=value pairs"),
    ("units=3\n; rm -rf ~", r"kwargs: .* is malformed: expected key=value pairs"),
    ("a=" + "[" * 100000 + "]" * 100000, r"kwargs: longer than 2000 characters"),
    ("a=" + "[" * 900 + "]" * 900, r"kwargs: .* is malformed"),
])
def test_config_hostile_extra_kwargs(kwargs, message):
    with pytest.raises(ToolInputError, match=message):
        kmc.build_model_json(sequential({"layer_type": "Dense", "units": 2, "kwargs": kwargs}))


def test_config_refuses_a_hostile_layer_name():
    """Names become HDF5 groups and TensorFlow name scopes: only plain ones pass (no shell text either)."""
    name = "n'; $(touch pwned) `id` \" && echo"
    with pytest.raises(ToolInputError, match=r"^LAYER 1 \(Core -- Dense\): the layer name .* is not allowed"):
        kmc.build_model_json(sequential({"layer_type": "Dense", "units": 2, "kwargs": f"name={name!r}"}))


# ---- ml_visualization_ex: titles drawn literally --------------------------------------------------

@pytest.mark.parametrize("title", [
    "a $x^ $(id) `id`; 'q\" \\frac{ $$",  # unbalanced mathtext made matplotlib fail before
    "line one\nline two $\\alpha$",
    "\x1b[31m; rm -rf / #",
])
def test_hostile_title_is_drawn_literally(tmp_path, write_text, capsys, title):
    true = write_text("0\n1\n1\n0\n", "true.tsv")
    predicted = write_text("0\n1\n0\n0\n", "pred.tsv")
    params = {"plotting_selection": {"plot_type": "classification_confusion_matrix", "title": title,
                                     "infile_true": true, "infile_predicted": predicted}}
    plot = tmp_path / "plot.png"
    mve.run(params, str(plot), str(tmp_path / "metrics.tsv"))
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    shown = "".join(char for char in title if char == "\n" or char.isprintable()).strip()
    assert f"Title: {shown!r}" in capsys.readouterr().out


# ---- reproducibility and the seed in the model's metadata ----------------------------------------

@pytest.fixture(scope="module")
def seeded_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seeded")
    config = folder / "model.json"
    config.write_text((TEST_DATA / "imdb_model_config.json").read_text())
    estimator = kmb.build_estimator({"mode_selection": {
        "mode_type": "train_model", "infile_json": str(config), "learning_type": "KerasGClassifier",
        "compile_params": {"loss": "binary_crossentropy", "optimizer_selection": {"optimizer_type": "Adam"},
                           "metrics": ["acc"]},
        "fit_params": {"epochs": 2, "batch_size": 32, "validation_split": 0.1, "verbose": 0, "callbacks": []},
        "random_seed": 1234}})
    from gxkeras.modelfile.h5mlm import save_estimator

    path = str(folder / "untrained.h5mlm")
    save_estimator(estimator, path)
    return path


def seed_in_file(path):
    with h5py.File(path, "r") as handle:
        params = json.loads(handle["-keras_models-/0/params"][()])
        hyper = json.loads(handle["-model_hyperparameters-"][()])
    return params["seed"], [row for row in hyper if row[1] == "seed"]


def test_same_seed_same_metrics_and_predictions(tmp_path, write_text, seeded_model):
    X = np.loadtxt(TEST_DATA / "imdb_X_train.tsv", dtype="int64")[:120]
    y = np.loadtxt(TEST_DATA / "imdb_y_train.tsv", dtype="int64")[:120]
    x_path, y_path = write_text(tsv(X), "X.tsv"), write_text(tsv(y.reshape(-1, 1)), "y.tsv")
    runs = []
    for run in range(2):
        out = train_outputs(tmp_path, str(run))
        kte.train_and_evaluate(train_params(seeded_model, x_path, y_path), out)
        predictions = str(tmp_path / f"predictions{run}.tsv")
        mp.run({"infile_estimator": out["outfile_object"], "method": "predict_proba",
                "input_options": {"selected_input": "tabular", "infile1": str(TEST_DATA / "imdb_X_test.tsv")}},
               predictions)
        runs.append({name: Path(path).read_text() for name, path in out.items()
                     if name not in ("outfile_object", "outfile_weights")})
        runs[-1]["predictions"] = Path(predictions).read_text()
        with h5py.File(out["outfile_weights"]) as handle:
            weights = []
            handle.visititems(lambda name, item: weights.append(item[()])  # noqa: B023 (visititems runs now)
                              if isinstance(item, h5py.Dataset) else None)
        runs[-1]["weights"] = weights
        assert seed_in_file(out["outfile_object"]) == (1234, [["@", "seed", "seed: 1234"]])
    for name in ("outfile_result", "outfile_history", "outfile_y_true", "outfile_y_preds", "predictions"):
        assert runs[0][name] == runs[1][name], name
    assert all(np.array_equal(a, b) for a, b in zip(runs[0]["weights"], runs[1]["weights"], strict=True))
    assert len(runs[0]["predictions"].splitlines()) == 201


def test_seed_is_recorded_in_the_untrained_model(seeded_model):
    assert seed_in_file(seeded_model) == (1234, [["@", "seed", "seed: 1234"]])
    assert load_estimator(seeded_model, MODEL).seed == 1234


# ---- the code itself: nothing that executes or unpickles data, every Cheetah variable quoted -------

FORBIDDEN_CODE = {
    r"\bimport\s+(pickle|cPickle|dill|cloudpickle|marshal|shelve|asteval)\b": "an unpickler or evaluator",
    r"\bfrom\s+(pickle|cPickle|dill|cloudpickle|marshal|shelve|asteval)\b": "an unpickler or evaluator",
    r"\b(pickle|joblib|dill|marshal|cloudpickle)\.loads?\s*\(": "unpickling",
    r"(?<![.\w])eval\s*\(": "eval",
    r"(?<![.\w])exec\s*\(": "exec",
    r"\b__import__\s*\(": "__import__",
    r"\bsafe_mode\s*=\s*False": "Keras safe_mode=False",
    r"\benable_unsafe_deserialization\b": "Keras unsafe deserialization",
    r"\bsanitize\s*=\s*False": "galaxy-ml's loader without its allow-list",
    r"\byaml\.load\s*\(": "yaml.load",
    r"\bshell\s*=\s*True": "a shell",
    r"\bos\.(system|popen)\s*\(": "a shell",
    r"allow_pickle\s*=\s*True": "numpy unpickling",
}


def test_no_eval_exec_pickle_or_unsafe_loading_in_the_tools():
    sources = [path for path in SCRIPTS.rglob("*.py") if "tests" not in path.relative_to(SCRIPTS).parts]
    assert len(sources) >= 10
    found = []
    for path in sources:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            code = line.split("#", 1)[0]
            for pattern, what in FORBIDDEN_CODE.items():
                if re.search(pattern, code):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {what}: {line.strip()}")
    assert not found, "\n".join(found)


def test_forbidden_code_patterns_do_match():
    """The patterns above are not vacuous (and spare .evaluate() and re.compile)."""
    hits = ["import pickle", "x = eval(text)", "exec (code)", "keras.models.load_model(p, safe_mode=False)",
            "load_model_from_h5(p, sanitize=False)", "np.load(p, allow_pickle=True)", "pickle.loads(b)"]
    misses = ["model.evaluate(X)", "re.compile(r'x')", "estimator.model_.evaluate(X, y)", "safe_mode=True"]
    for text in hits:
        assert any(re.search(pattern, text) for pattern in FORBIDDEN_CODE), text
    for text in misses:
        assert not any(re.search(pattern, text) for pattern in FORBIDDEN_CODE), text


def test_every_cheetah_variable_in_a_command_is_single_quoted():
    """Form values reach the scripts only through the inputs JSON; paths on the command line are quoted."""
    for tool in sorted((ROOT / "tools").glob("*.xml")):
        root = ElementTree.parse(tool).getroot()
        command = root.find("command")
        if command is None:
            continue
        assert root.find("configfiles/inputs") is not None, tool.name
        for line in command.text.splitlines():
            code = line.strip()
            if not code or code.startswith("#"):
                continue  # Cheetah directives (#if ...) print nothing
            unquoted = re.sub(r"'[^']*'", "", code)
            assert "$" not in unquoted, f"{tool.name}: unquoted variable in: {code}"


# ---- the scripts: one line, exit 1, no output left, also for an unexpected failure ----------------

def test_run_tool_removes_outputs_on_any_failure(tmp_path):
    """A bug keeps its traceback (for the report), but its half-written output goes."""
    out = tmp_path / "out.tsv"

    def crash(argv):
        out.write_text("half a result")
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        run_tool(crash, [], outputs=[str(out)])
    assert not out.exists()


def tool_outputs(tmp_path):
    """Every tool script: the output arguments it is given (the flags its __main__ block removes) and the files."""
    def flags(*names):
        return [item for name in names for item in (name, tmp_path / name.strip("-"))]
    return {
        "keras_batch_models.py": flags("--outfile"), "keras_model_builder.py": flags("--outfile"),
        "keras_model_config.py": flags("--outfile"), "model_prediction.py": flags("--outfile"),
        "sklearn_to_categorical.py": flags("--outfile"), "keras_train_and_eval.py": flags(*kte.OUTPUT_FLAGS),
        "ml_visualization_ex.py": flags(*mve.OUTPUT_FLAGS),
        "plotly_regression_performance_plots.py": flags(*plotly.OUTPUT_FLAGS),
        "keras_text_to_sequences.py": ["--outdir", tmp_path],  # writes kts.OUTPUT_NAMES there
    }


def test_every_tool_script_runs_through_run_tool(tmp_path):
    scripts = sorted(path.name for path in SCRIPTS.glob("*.py"))
    assert scripts == sorted(tool_outputs(tmp_path)) and len(scripts) == 9
    for name in scripts:
        main_block = (SCRIPTS / name).read_text().split('\nif __name__ == "__main__":\n')[1]
        assert "    run_tool(main, outputs=" in main_block, name


def test_nothing_in_the_tools_catches_every_exception():
    """So an out-of-memory error anywhere in a tool's work reaches run_tool. The only broad handlers are run_tool's
    own, those that close a file or pipe and raise again (hdf5_audit's open_hdf5, h5mlm's ModelFile, containment's
    start of the child), and the contained child's report of how it ended (lockdown's child_main), which sends an
    out-of-memory error on as the out-of-memory line (test_containment.py::test_running_out_of_memory_is_the_out_of_memory_line)."""
    broad = re.compile(r"^\s*except\s*(BaseException|Exception)?\s*(as \w+)?:")
    found = Counter(path.name for path in [*SCRIPTS.glob("*.py"), *(SCRIPTS / "gxkeras").rglob("*.py")]
                    for line in path.read_text().splitlines() if broad.match(line))
    assert found == {"errors.py": 2, "hdf5_audit.py": 1, "h5mlm.py": 1, "containment.py": 1, "lockdown.py": 1}


def resource_exhausted():
    from tensorflow import errors

    return errors.ResourceExhaustedError(None, None, "OOM when allocating tensor with shape[100000,100000]")


@pytest.mark.parametrize("error", [lambda: MemoryError(), resource_exhausted], ids=["MemoryError", "ResourceExhausted"])
@pytest.mark.parametrize("script", sorted(tool_outputs(Path("."))))
def test_running_out_of_memory_is_one_error_line_in_every_tool(tmp_path, write_inputs, run_script, monkeypatch,
                                                               script, error):
    """Out of memory inside the work (after outputs were begun): one Error line, exit 1, no output left."""
    from gxkeras.modelfile import building
    from gxkeras.galaxy import inputs as galaxy_inputs

    arguments = tool_outputs(tmp_path)[script]
    outputs = [path for path in arguments if isinstance(path, Path) and path != tmp_path] or [
        tmp_path / name for name in kts.OUTPUT_NAMES.values()]

    def exhausted(path):
        for output in outputs:
            output.write_text("half a result")
        raise error()

    import gxkeras.galaxy

    # every tool's work starts there: the scripts import it from the galaxy package's face, the builders' work
    # from modelfile.building
    for module in (galaxy_inputs, gxkeras.galaxy, building):
        monkeypatch.setattr(module, "load_inputs", exhausted)
    result = run_script(script, "--inputs", write_inputs({}), *arguments)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: the job ran out of memory") and "Traceback" not in result.stderr
    assert not any(path.exists() for path in outputs)


class ResourceExhaustedError(Exception):
    """Stands in for tensorflow.errors.ResourceExhaustedError, which run_tool knows by name."""


@pytest.mark.parametrize("error", [MemoryError("Unable to allocate 60.0 GiB for an array"),
                                   ResourceExhaustedError("OOM when allocating tensor with shape[100000,100000]")])
def test_running_out_of_memory_is_one_error_line(tmp_path, capsys, error):
    out = tmp_path / "out.tsv"

    def exhaust(argv):
        out.write_text("half a result")
        raise error

    with pytest.raises(SystemExit) as stop:
        run_tool(exhaust, [], outputs=[str(out)])
    assert stop.value.code == 1 and not out.exists()
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: the job ran out of memory ({type(error).__name__}: ")


@pytest.mark.parametrize("script, params, flags, message", [
    ("keras_model_config.py",
     sequential({"layer_type": "Embedding", "input_dim": 10 ** 8, "output_dim": 10 ** 4}), ["--outfile"],
     "Error: LAYER 1 (Embedding -- Embedding): too large: the model has about 1,000,000,000,000 parameters"),
    ("ml_visualization_ex.py",
     {"plotting_selection": {"plot_type": "classification_confusion_matrix", "infile_true": "TRUE",
                             "infile_predicted": "PRED", "header_predicted": True}},
     ["--output", "--output_metrics"],
     "Error: Select dataset containing the predicted labels: 'Does the dataset contain header' is set, but line 1 "
     "(1) is"),
])
def test_scripts_fail_with_one_line_and_no_output(tmp_path, write_inputs, write_text, run_script, script, params, flags,
                                                  message):
    if script == "ml_visualization_ex.py":
        # a one-column 'header' of "1" is allowed (it may be a name); "1.5" cannot be
        selection = params["plotting_selection"]
        selection["infile_true"] = write_text("0\n1\n", "true.tsv")
        selection["infile_predicted"] = write_text("1.5\n1\n0\n", "pred.tsv")
        message = message.replace("(1) is", "(1.5) is a row of numbers")
    argv = ["--inputs", write_inputs(params)]
    outputs = []
    for flag in flags:
        path = tmp_path / flag.strip("-")
        path.write_text("stale")
        outputs.append(path)
        argv += [flag, path]
    result = run_script(script, *argv)
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr
    assert "Traceback" not in result.stderr
    assert not any(path.exists() for path in outputs)
