"""The config-building module: real Keras models from form parameters, and clear errors."""
import json
import re

import numpy as np
import pytest

import keras_model_config as kmc
from gxkeras.keras import config_size as resources
from gxkeras.galaxy.errors import ToolInputError
from fresh_python import run_tools
from gtn_states import saved_state
from repo_paths import SCRIPTS

SCRIPT = SCRIPTS / "keras_model_config.py"


def layer(layer_type, **fields):
    """One LAYER as Galaxy writes it: a conditional (the Galaxy-ML tools' layout: kwargs in the case)."""
    return {"__index__": 0, "layer_selection": {"layer_type": layer_type, **fields}}


def sequential(input_shape, *layers):
    return {"model_selection": {"model_type": "sequential", "input_shape": input_shape, "layers": list(layers)}}


def functional(*layers, input_layers="[]", output_layers="[]"):
    return {"model_selection": {"model_type": "functional", "layers": list(layers), "input_layers": input_layers,
                                "output_layers": output_layers}}


TUTORIAL = sequential(
    "(500,)",
    layer("Embedding", input_dim=10000, output_dim=32),
    layer("LSTM", units=100),
    layer("Dense", units=1, activation="sigmoid"),
)


def model_layers(model_json):
    return [(item["class_name"], item["config"]) for item in json.loads(model_json)["config"]["layers"]]


def test_tutorial_model_round_trips_through_keras_and_galaxy_ml():
    import keras
    from galaxy_ml.keras_galaxy_models import KerasGClassifier

    model_json = kmc.build_model_json(TUTORIAL)
    classes = [name for name, _ in model_layers(model_json)]
    assert classes == ["InputLayer", "Embedding", "LSTM", "Dense"]
    model = keras.models.model_from_json(model_json)
    assert model.input_shape == (None, 500)
    assert model.output_shape == (None, 1)
    assert model.count_params() == 10000 * 32 + 4 * (100 * (32 + 100) + 100) + 101
    # galaxy-ml takes the model's "config" part and really builds and fits it
    rng = np.random.default_rng(0)
    X, y = rng.integers(0, 10000, size=(16, 500)), np.array([0, 1] * 8)
    estimator = KerasGClassifier(config=json.loads(model_json)["config"], model_type="sequential",
                                 loss="binary_crossentropy", optimizer="adam", epochs=1, batch_size=8,
                                 validation_split=0.0, verbose=0, seed=0)
    estimator.fit(X, y)
    predictions = estimator.predict(X)
    assert predictions.size == 16 and set(predictions.ravel()) <= {0, 1}


def test_bidirectional_and_old_style_kwargs():
    model_json = kmc.build_model_json(sequential(
        "(50,)",
        layer("Embedding", input_dim=100, output_dim=8, kwargs="mask_zero=True"),
        layer("GRU", units=6, kwargs="return_sequences=True, dropout=0.25"),
        layer("Bidirectional", rnn_type="LSTM", merge_mode="sum", units=4,
              kwargs="return_sequences=False, recurrent_dropout=0.1"),
        layer("Dense", units=1, activation="sigmoid", kwargs="kernel_initializer='zeros', use_bias=False"),
    ))
    layers = model_layers(model_json)
    assert layers[1][1]["mask_zero"] is True
    assert layers[2][1]["return_sequences"] is True and layers[2][1]["dropout"] == 0.25
    bidirectional = layers[3][1]
    assert bidirectional["merge_mode"] == "sum"
    assert bidirectional["layer"]["class_name"] == "LSTM" and bidirectional["layer"]["config"]["units"] == 4
    assert bidirectional["layer"]["config"]["recurrent_dropout"] == 0.1
    assert layers[4][1]["kernel_initializer"]["class_name"] == "Zeros" and layers[4][1]["use_bias"] is False


def test_functional_two_inputs_inferred():
    import keras
    model_json = kmc.build_model_json(functional(
        layer("Input", shape="(20,)"),
        layer("Input", shape="(8,)"),
        layer("Dense", units=16, activation="relu", inbound_nodes=1),
        layer("Dense", units=4, activation="relu", inbound_nodes=2),
        layer("Concatenate", axis=-1, merging_layers="[3, 4]"),
        layer("Dense", units=1, activation="sigmoid", inbound_nodes=None),
    ))
    model = keras.models.model_from_json(model_json)
    assert [tuple(shape) for shape in model.input_shape] == [(None, 20), (None, 8)]
    assert model.output_shape == (None, 1)


def test_functional_as_the_galaxy_ml_tools_own_test():
    """The functional test state of the Galaxy-ML keras_model_config (1.0.11): named typed Inputs, inbound_nodes,
    merging_layers, input_layers [1, 5] and output_layers [4, 10] (the main and the auxiliary output)."""
    import keras
    model_json = kmc.build_model_json(functional(
        layer("Input", shape="(100, )", name="main_input", dtype="int32", sparse=False),
        layer("Embedding", input_dim=10000, output_dim=512, kwargs="", inbound_nodes=1),
        layer("LSTM", units=32, kwargs="", inbound_nodes=2),
        layer("Dense", units=1, activation="sigmoid", kwargs="", inbound_nodes=3),
        layer("Input", shape="(5, )", name="aux_input", dtype="float32", sparse="boolfalse"),
        layer("Concatenate", merging_layers="[4, 5]", axis=-1),
        layer("Dense", units=64, activation="relu", kwargs="", inbound_nodes=6),
        layer("Dense", units=64, activation="relu", kwargs="", inbound_nodes=7),
        layer("Dense", units=64, activation="relu", kwargs="", inbound_nodes=8),
        layer("Dense", units=1, activation="sigmoid", kwargs="", inbound_nodes=9),
        input_layers="[1, 5]", output_layers="[4, 10]",
    ))
    model = keras.models.model_from_json(model_json)
    assert [tensor.name for tensor in model.inputs] == ["main_input", "aux_input"]
    assert [tensor.dtype for tensor in model.inputs] == ["int32", "float32"]
    assert [tuple(shape) for shape in model.output_shape] == [(None, 1), (None, 1)]
    dense_names = [item["config"]["name"] for item in json.loads(model_json)["config"]["layers"]
                   if item["class_name"] == "Dense"]
    assert [name for name, _, _ in json.loads(model_json)["config"]["output_layers"]] == [dense_names[0], dense_names[-1]]


def test_cnn():
    import keras
    model = keras.models.model_from_json(kmc.build_model_json(sequential(
        "(28, 28, 1)",
        layer("Conv2D", filters=8, kernel_size="3,3", activation="relu", kwargs="strides=1, padding='valid'"),
        layer("MaxPooling2D", pool_size="2,2", strides="", kwargs=""),
        layer("Flatten", data_format="channels_last"),
        layer("Dense", units=10, activation="softmax"),
    )))
    assert model.output_shape == (None, 10)
    assert model.layers[0].kernel_size == (3, 3)


@pytest.mark.parametrize("tutorial, classes, output_shape", [
    ("FNN", ["Dense", "Dense", "Dense"], (None, 1)),
    ("RNN", ["Embedding", "LSTM", "Dense"], (None, 1)),
    ("CNN", ["Reshape", "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense"], (None, 10)),
])
def test_gtn_workflow_states_build_their_model(tutorial, classes, output_shape):
    """The keras_model_config steps of the GTN workflows, as saved (kwargs "", Flatten data_format)."""
    import keras

    model = keras.models.model_from_json(kmc.build_model_json(saved_state(tutorial, "keras_model_config")))
    assert [layer.__class__.__name__ for layer in model.layers] == classes
    assert model.output_shape == output_shape
    if tutorial == "CNN":  # (784,) -> (28, 28, 1) -> Conv2D(64, 3) ... -> Flatten -> Dense(10, softmax)
        assert (model.layers[1].filters, model.layers[1].kernel_size, model.layers[2].pool_size) == (64, (3, 3), (2, 2))
        assert model.layers[5].data_format == "channels_last" and model.count_params() == 640 + 18464 + 8010


@pytest.mark.parametrize("params, message", [
    (sequential("(500,)", layer("Lambda", function="os.system")), r"LAYER 1: layer type: unknown 'Lambda'"),
    (sequential("(500,)", layer("Dense", units=-5)), r"LAYER 1 \(Core -- Dense\): units must be a positive integer, got -5"),
    (sequential("(5a0,)", layer("Dense", units=1)), r"input_shape '\(5a0,\)' is malformed"),
    (sequential("(500,)", layer("Dropout", rate=1.5)), r"rate must be a fraction in \[0, 1\)"),
    (sequential("(500,)", layer("Dense", units=1, kwargs="bogus=1")), r"Dense argument: unknown 'bogus'"),
    (sequential("(500,)", layer("Dense", units=1, kwargs="units=3")), r"'units' has its own field"),
    (sequential("(500,)", layer("Dense", units=1, kwargs="use_bias=os.system('id')")),
     r"kwargs: the value of 'use_bias' must be a number, 'string', True, False, None"),
    (sequential("(500,)", layer("Dense", units=1, kwargs='{"use_bias": false}')), r"kwargs: .* is malformed: expected key=value"),
    (sequential("(10,)", layer("Conv2D", filters=2, kernel_size="3,3")),
     r"LAYER 1 \(Convolution -- Conv2D\): cannot be applied to its input"),
    (sequential("(10,)", layer("Concatenate")), r"needs a functional model"),
    ({"model_selection": {"model_type": "sequential", "input_shape": "(1,)", "layers": []}}, "no LAYER"),
    (functional(layer("Dense", units=1)), "first LAYER of a functional model must be an Input"),
    (functional(layer("Input", shape="(3,)"), layer("Dense", units=1, inbound_nodes=5)),
     r"inbound_nodes 5 is not a LAYER before it: expected a number in 1..1"),
    (functional(layer("Input", shape="(3,)"), layer("Add", merging_layers="[1]")),
     "a merge layer needs at least two LAYERs in merging_layers"),
    (functional(layer("Input", shape="(3,)"), layer("Dense", units=1), input_layers="[2]"),
     "input_layers: LAYER 2 is not an Input LAYER"),
    (functional(layer("Input", shape="(3,)"), layer("Dense", units=1), output_layers="[1, x]"),
     r"output_layers: LAYER: 'x' is not a whole number from 1 to 2"),
    # '\u00b2'.isdigit() is true and int() fails on it; int('\u0661') is 1
    (functional(layer("Input", shape="(3,)"), layer("Dense", units=1), output_layers="[\u00b2]"),
     r"output_layers: LAYER: '\u00b2' is not a whole number from 1 to 2"),
    (functional(layer("Input", shape="(3,)"), layer("Dense", units=1), output_layers="[\u0661]"),
     r"output_layers: LAYER: '\u0661' is not a whole number from 1 to 2"),
    (functional(layer("Input", shape="(3,)", name="a b")), "the layer name 'a b' is not allowed"),
])
def test_bad_input_gives_one_clear_error(params, message):
    with pytest.raises(ToolInputError, match=message):
        kmc.build_model_json(params)


def test_script_writes_json_or_one_error_line(tmp_path, write_inputs, run_script):
    outfile = tmp_path / "model.json"
    ok = run_script(SCRIPT.name, "--inputs", write_inputs(TUTORIAL), "--outfile", outfile)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(outfile.read_text())["class_name"] == "Sequential"

    outfile.unlink()
    bad = run_script(SCRIPT.name, "--inputs", write_inputs(sequential("(x,)", layer("Flatten"))), "--outfile", outfile)
    assert bad.returncode == 1
    error_lines = [line for line in bad.stderr.splitlines() if line.startswith("Error:")]
    assert error_lines == ["Error: input_shape '(x,)' is malformed: expected a tuple of positive integers "
                           "such as (500,) or (28, 28, 1)"]
    assert "Traceback" not in bad.stderr
    assert not outfile.exists()


LIGHT_START_CASES = {"tutorial": TUTORIAL, "image": sequential(
    "(28, 28, 1)",
    layer("Conv2D", filters=8, kernel_size="3,3", activation="relu", kwargs="strides=1, padding='valid'"),
    layer("BatchNormalization", kwargs="momentum=0.9"),
    layer("Flatten", data_format="channels_last"),
    layer("Dropout", rate=0.2),
    layer("Dense", units=10, activation="softmax", kwargs="kernel_initializer='zeros'"),
)}


@pytest.fixture(scope="module")
def light_and_tensorflow_json(tmp_path_factory):
    """Each case's JSON written by the tool in a fresh Python as Galaxy starts it (no KERAS_BACKEND: the light
    start, JAX) and with an admin's KERAS_BACKEND=tensorflow, and whether TensorFlow or scikit-learn got
    imported. One fresh Python per backend (Keras fixes its backend at import), running every case in turn:
    Keras numbers unnamed layers per process, so both see the same sequence."""
    folder = tmp_path_factory.mktemp("light_start")
    results = {}
    for backend in ("light", "tensorflow"):
        runs = []
        for name, params in LIGHT_START_CASES.items():
            (folder / f"{name}.json").write_text(json.dumps(params))
            runs.append((SCRIPT.name, ["--inputs", folder / f"{name}.json", "--outfile", folder / f"{name}.{backend}"]))
        env = {"KERAS_BACKEND": backend} if backend == "tensorflow" else {}
        for name, run in zip(LIGHT_START_CASES, run_tools(runs, ["tensorflow", "sklearn"], cwd=folder, env=env),
                             strict=True):
            assert run.returncode == 0, run.stderr
            results[name, backend] = ((folder / f"{name}.{backend}").read_text(), run.imported)
    return results


@pytest.mark.parametrize("case", list(LIGHT_START_CASES))
def test_config_tool_needs_no_tensorflow_and_writes_the_same_json(light_and_tensorflow_json, case):
    """Without TensorFlow (JAX backend, no scikit-learn) the tool starts faster; its JSON must equal TensorFlow's."""
    light_json, light_imported = light_and_tensorflow_json[case, "light"]
    tf_json, tf_imported = light_and_tensorflow_json[case, "tensorflow"]
    assert light_imported == [] and "tensorflow" in tf_imported
    assert light_json == tf_json


# Every layer type of the groups Core, Convolution, Pooling (3D) and Recurrent (ConvLSTM2D) that the
# Galaxy-ML tools offered, built from the form's fields (their names and text syntax) on an input it
# fits; the weights the tool's size check counts must be exactly the ones Keras makes.
@pytest.mark.parametrize("input_shape, fields, output_shape", [
    ("(4, 3)", dict(layer_type="Permute", dims="(2, 1)"), (None, 3, 4)),
    ("(5,)", dict(layer_type="RepeatVector", n=3), (None, 3, 5)),
    ("(5,)", dict(layer_type="ActivityRegularization", l1=0.01, l2=0.0), (None, 5)),
    ("(6, 2)", dict(layer_type="Masking", mask_value=0.0), (None, 6, 2)),
    ("(6, 2)", dict(layer_type="SpatialDropout1D", rate=0.2), (None, 6, 2)),
    ("(6, 6, 2)", dict(layer_type="SpatialDropout2D", rate=0.2, kwargs="seed=1"), (None, 6, 6, 2)),
    ("(4, 4, 4, 2)", dict(layer_type="SpatialDropout3D", rate=0.2, kwargs=""), (None, 4, 4, 4, 2)),
    ("(10, 3)", dict(layer_type="SeparableConv1D", filters=4, kernel_size="3", activation="relu",
                     kwargs="depth_multiplier=2"), (None, 8, 4)),
    ("(8, 8, 3)", dict(layer_type="SeparableConv2D", filters=5, kernel_size="3,3", activation="linear",
                       kwargs="padding='same'"), (None, 8, 8, 5)),
    ("(8, 8, 3)", dict(layer_type="DepthwiseConv2D", kernel_size="(3, 3)", activation="relu",
                       kwargs="depth_multiplier=2, use_bias=False"), (None, 6, 6, 6)),
    ("(4, 4, 3)", dict(layer_type="Conv2DTranspose", filters=2, kernel_size="3,3", activation="relu",
                       kwargs="strides=(2, 2)"), (None, 9, 9, 2)),
    ("(5, 5, 5, 1)", dict(layer_type="Conv3D", filters=3, kernel_size="3,3,3", activation="relu", kwargs=""),
     (None, 3, 3, 3, 3)),
    ("(3, 3, 3, 2)", dict(layer_type="Conv3DTranspose", filters=2, kernel_size="2,2,2", activation="linear",
                          kwargs="strides=2, padding='same'"), (None, 6, 6, 6, 2)),
    ("(10, 3)", dict(layer_type="Cropping1D", cropping="(1, 2)"), (None, 7, 3)),
    ("(8, 8, 3)", dict(layer_type="Cropping2D", cropping="((1, 0), (2, 2))", kwargs=""), (None, 7, 4, 3)),
    ("(6, 6, 6, 1)", dict(layer_type="Cropping3D", cropping="1", kwargs=""), (None, 4, 4, 4, 1)),
    ("(5, 3)", dict(layer_type="UpSampling1D", size=2), (None, 10, 3)),
    ("(4, 4, 3)", dict(layer_type="UpSampling2D", size="(2, 3)", kwargs="interpolation='bilinear'"), (None, 8, 12, 3)),
    ("(2, 2, 2, 1)", dict(layer_type="UpSampling3D", size="2", kwargs=""), (None, 4, 4, 4, 1)),
    ("(5, 3)", dict(layer_type="ZeroPadding1D", padding="1"), (None, 7, 3)),
    ("(4, 4, 3)", dict(layer_type="ZeroPadding2D", padding="((1, 0), (0, 2))", kwargs=""), (None, 5, 6, 3)),
    ("(2, 2, 2, 1)", dict(layer_type="ZeroPadding3D", padding="(1, 1, 1)", kwargs=""), (None, 4, 4, 4, 1)),
    ("(6, 6, 6, 2)", dict(layer_type="MaxPooling3D", pool_size="(2, 2, 2)", strides=""), (None, 3, 3, 3, 2)),
    ("(6, 6, 6, 2)", dict(layer_type="AveragePooling3D", pool_size="2,2,2", strides="1,1,1", kwargs="padding='same'"),
     (None, 6, 6, 6, 2)),
    ("(4, 4, 4, 2)", dict(layer_type="GlobalMaxPooling3D", data_format="channels_last"), (None, 2)),
    ("(2, 4, 4, 4)", dict(layer_type="GlobalAveragePooling3D", data_format="channels_first"), (None, 2)),
    ("(3, 6, 6, 2)", dict(layer_type="ConvLSTM2D", filters=4, kernel_size="3,3", kwargs="return_sequences=True"),
     (None, 3, 4, 4, 4)),
    # a cell runs inside keras.layers.RNN; the RNN's arguments (return_sequences, name) go to it
    ("(5, 3)", dict(layer_type="SimpleRNNCell", units=4, kwargs="dropout=0.1, return_sequences=True"), (None, 5, 4)),
    ("(5, 3)", dict(layer_type="GRUCell", units=4, kwargs="name='gru_cell_rnn', go_backwards=True"), (None, 4)),
    ("(5, 3)", dict(layer_type="LSTMCell", units=6, kwargs=""), (None, 6)),
])
def test_every_layer_type_builds_and_is_counted_exactly(input_shape, fields, output_shape, monkeypatch):
    import keras

    counted = []
    original = kmc.layer_parameters
    monkeypatch.setattr(kmc, "layer_parameters", lambda *args: counted.append(original(*args)) or counted[-1])
    for model_json in (kmc.build_model_json(sequential(input_shape, layer(**fields))),
                       kmc.build_model_json(functional(layer("Input", shape=input_shape), layer(**fields)))):
        model = keras.models.model_from_json(model_json)
        last = model.layers[-1]
        if fields["layer_type"].endswith("Cell"):
            assert type(last).__name__ == "RNN" and type(last.cell).__name__ == fields["layer_type"]
        else:
            assert type(last).__name__ == fields["layer_type"]
        assert model.output_shape == output_shape
        assert counted.pop() == model.count_params()
        config = json.loads(model_json)["config"]
        for item in config["layers"]:
            item.pop("build_config", None)  # the loaders' estimate follows the shapes itself
        assert resources.config_parameters(config) == model.count_params()


def test_help_lists_every_layer_type_offered():
    """The tool's help names each layer type of the form (the form is the list; the help must follow)."""
    from xml.etree import ElementTree

    from gxkeras.galaxy import forms

    help_text = ElementTree.parse(SCRIPTS.parent / "keras_model_config.xml").getroot().findtext("help")
    named = set(re.findall(r"\b[A-Z][A-Za-z0-9]+\b", help_text))
    missing = [layer for layer in forms.options("keras_model_config", "layer_type") if layer not in named]
    assert not missing, f"not in the help of keras_model_config: {missing}"


# Text fields of the form that take no list, tuple or Python literal: Galaxy's default sanitizer suits them.
PLAIN_TEXT_FIELDS = {"name"}  # an Input's name: letters, digits, '_', '.', '-' (its own validator)


def test_list_valued_text_fields_keep_their_brackets():
    """Galaxy's default sanitizer turns [500] into __ob__500__cb__: every text field the script parses as a
    list, tuple or literal carries the printable_text sanitizer (macros.xml), which keeps what was typed."""
    from gxkeras.galaxy import forms

    inputs, _ = forms.tool("keras_model_config")
    kept, default = set(), set()
    for param in inputs.iter("param"):
        if param.get("type") == "text":
            valid = param.find("sanitizer/valid")
            keeps = valid is not None and valid.get("initial") == "string.printable"
            (kept if keeps else default).add(forms.param_name(param))
    assert default == PLAIN_TEXT_FIELDS, f"text fields without the printable_text sanitizer: {default}"
    parsed_as_lists = kmc.INT_OR_SHAPE_ARGS | kmc.SHAPE_ARGS | {"input_shape", "shape", "kwargs"}
    assert parsed_as_lists <= kept, f"parsed as lists, but Galaxy would rewrite their brackets: {parsed_as_lists - kept}"
    assert kmc.INT_PAIRS_ARGS <= kept  # cropping and padding, through the int_pairs macro's name token


@pytest.mark.parametrize("typed, expected", [("[500]", (500,)), ("[28, 28, 1]", (28, 28, 1)), ("(500,)", (500,))])
def test_bracketed_shapes_build_the_model(typed, expected):
    """What a user types into input_shape reaches the script unchanged (the test above) and means the shape."""
    config = json.loads(kmc.build_model_json(sequential(typed, layer("Flatten"))))["config"]
    assert tuple(config["layers"][0]["config"]["batch_shape"][1:]) == expected
