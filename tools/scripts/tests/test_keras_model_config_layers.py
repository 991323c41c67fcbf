"""keras_model_config: advanced activations, noise, merge, LayerNormalization, MultiHeadAttention and
TimeDistributed (issue 16): each builds through the tool, keeps the old form's field names, has its
weights counted exactly as Keras counts them, and trains and predicts through the other tools."""
import json
from pathlib import Path

import numpy as np
import pytest

import keras_model_builder as kmb
import keras_model_config as kmc
import keras_train_and_eval as kte
import model_prediction as mp
from gxkeras.galaxy import memory
from gxkeras.keras import config_size as resources
from gxkeras.keras.allowlist import check_model_config
from gxkeras.galaxy.errors import ToolInputError

GROUPS = ("Advanced activations", "Noise", "Normalization", "Merge", "Wrappers", "Attention")


def layer(layer_type, **fields):
    return {"__index__": 0, "layer_selection": {"layer_type": layer_type, **fields}}


def sequential(input_shape, *layers):
    return {"model_selection": {"model_type": "sequential", "input_shape": input_shape, "layers": list(layers)}}


def functional(*layers, output_layers="[]"):
    return {"model_selection": {"model_type": "functional", "layers": list(layers), "input_layers": "[]",
                                "output_layers": output_layers}}


def inner(layer_type, **fields):
    """TimeDistributed's nested conditional, as Galaxy writes it."""
    return {"inner_layer": {"inner_layer_type": layer_type, "__current_case__": 0, **fields}}


def prelu_constraint(kind, **options):
    return {"alpha_constraint": {"constraint_type": kind, "constraint_options": options} if options
            else {"constraint_type": kind}}


def merged(layer_type, **fields):
    """Two Dense branches of one Input merged by ``layer_type``, then a Dense."""
    return functional(layer("Input", shape="(4, 6)"), layer("Dense", units=3, inbound_nodes=1),
                      layer("Dense", units=3, inbound_nodes=1), layer(layer_type, merging_layers="[2, 3]", **fields),
                      layer("Flatten", data_format="channels_last"), layer("Dense", units=2))


# Every layer type of the groups above, in a small model, with the old form's fields where it had the layer.
CASES = {
    "LeakyReLU": sequential("(6, 4)", layer("Dense", units=3), layer("LeakyReLU", alpha=0.1), layer("Dense", units=2)),
    "PReLU": sequential("(6, 4)", layer("PReLU", alpha_initializer="zeros", alpha_regularizer="(0. , 0.)",
                                        shared_axes="", **prelu_constraint("None")), layer("Dense", units=2)),
    "PReLU shared": sequential("(5, 5, 3)", layer("PReLU", alpha_initializer="constant", alpha_regularizer="(0.01, 0.)",
                                                  shared_axes="[1, 2]",
                                                  **prelu_constraint("MinMaxNorm", min_value=0.0, max_value=1.0,
                                                                     rate_max_value=1.0, axis="0")),
                               layer("Flatten"), layer("Dense", units=2)),
    "ELU": sequential("(6,)", layer("ELU", alpha=0.5), layer("Dense", units=2)),
    "ReLU": sequential("(6,)", layer("ReLU", max_value=6.0, negative_slope=0.1, threshold_max_value=0.5),
                       layer("Dense", units=2)),
    "Softmax": sequential("(3, 6)", layer("Softmax", axis=1), layer("Flatten"), layer("Dense", units=2)),
    "GaussianNoise": sequential("(6,)", layer("GaussianNoise", stddev=0.2), layer("Dense", units=2)),
    "GaussianDropout": sequential("(6,)", layer("GaussianDropout", rate=0.3), layer("Dense", units=2)),
    "AlphaDropout": sequential("(6,)", layer("AlphaDropout", rate=0.1, kwargs="seed=3"), layer("Dense", units=2)),
    "LayerNormalization": sequential("(5, 7)", layer("LayerNormalization", axis=-1, epsilon=0.01, kwargs=""),
                                     layer("Flatten"), layer("Dense", units=2)),
    "LayerNormalization two axes": sequential("(5, 7)", layer("LayerNormalization", axis=-1, epsilon=0.001,
                                                              kwargs="center=False"),
                                              layer("LayerNormalization", axis=1, epsilon=0.001, kwargs="")),
    "BatchNormalization": sequential("(6,)", layer("BatchNormalization", kwargs=""), layer("Dense", units=2)),
    "TimeDistributed": sequential("(5, 6)", layer("TimeDistributed", **inner("Dense", units=4, activation="relu",
                                                                             kwargs="")),
                                  layer("Flatten"), layer("Dense", units=2)),
    "TimeDistributed CNN": sequential(
        "(4, 8, 8, 1)",
        layer("TimeDistributed", **inner("Conv2D", filters=3, kernel_size="3,3", activation="relu", kwargs="")),
        layer("TimeDistributed", **inner("MaxPooling2D", pool_size="(2, 2)", strides="", kwargs="")),
        layer("TimeDistributed", **inner("Flatten", data_format="channels_last")),
        layer("TimeDistributed", **inner("Dropout", rate=0.1, kwargs="")),
        layer("LSTM", units=3, kwargs=""), layer("Dense", units=2)),
    "TimeDistributed Conv1D": sequential(
        "(4, 9, 2)", layer("TimeDistributed", **inner("Conv1D", filters=3, kernel_size="3", activation="linear",
                                                       kwargs="")),
        layer("TimeDistributed", **inner("MaxPooling1D", pool_size="2", strides="", kwargs=""))),
    "Subtract": merged("Subtract"),
    "Maximum": merged("Maximum"),
    "Minimum": merged("Minimum"),
    "Dot": functional(layer("Input", shape="(4, 6)"), layer("Dense", units=3, inbound_nodes=1),
                      layer("Dense", units=3, inbound_nodes=1), layer("Dot", merging_layers="[2, 3]", axis="(2, 2)",
                                                                      normalize="booltrue"),  # an old state's text
                      layer("Flatten"), layer("Dense", units=2)),
    "Dot vectors": functional(layer("Input", shape="(6,)"), layer("Input", shape="(6,)"),
                              layer("Dot", merging_layers="[1, 2]", axis="", normalize=False), layer("Dense", units=1)),
    "MultiHeadAttention": functional(layer("Input", shape="(5, 6)"), layer("MultiHeadAttention", num_heads=2, key_dim=4,
                                                                           kwargs=""),
                                     layer("GlobalAveragePooling1D", data_format="channels_last"),
                                     layer("Dense", units=1)),
    "MultiHeadAttention cross": functional(
        layer("Input", shape="(5, 6)"), layer("Input", shape="(7, 3)"), layer("Input", shape="(7, 2)"),
        layer("MultiHeadAttention", num_heads=3, key_dim=2, inbound_nodes=1, value_nodes=2, key_nodes=3,
              kwargs="value_dim=5, output_shape=4, use_gate=True"),
        layer("MultiHeadAttention", num_heads=1, key_dim=3, inbound_nodes=4, value_nodes=1,
              kwargs="use_bias=False, dropout=0.1"),
        layer("Flatten"), layer("Dense", units=2)),
}


def built(params):
    """The tool's JSON, the Keras model it describes, and the weights the tool's budget counted."""
    import keras

    counted = []

    class Recording(kmc.ParameterBudget):
        def add(self, *args):
            super().add(*args)
            counted.append(self.total)

    original = kmc.ParameterBudget
    kmc.ParameterBudget = Recording
    try:
        model_json = kmc.build_model_json(params)
    finally:
        kmc.ParameterBudget = original
    return json.loads(model_json), keras.models.model_from_json(model_json), counted[-1]


def test_cases_cover_every_layer_of_these_groups():
    named = {name.split()[0] for name in CASES}
    for group in GROUPS:
        assert set(kmc.LAYER_GROUPS[group]) - {"Add", "Multiply", "Average", "Concatenate"} <= named, group


@pytest.mark.parametrize("name", CASES)
def test_layer_builds_and_its_weights_are_counted_exactly(name):
    model_json, model, budget = built(CASES[name])
    layer_type = name.split()[0]
    assert layer_type in [item["class_name"] for item in model_json["config"]["layers"]]
    check_model_config(model_json, "model")  # what the tool writes, the other tools accept
    config = model_json["config"]
    assert budget == model.count_params() > 0
    assert resources.config_parameters(config) == model.count_params()
    for item in config["layers"]:
        item.pop("build_config", None)  # the count follows the shapes, whatever the file claims
    assert resources.config_parameters(config) == model.count_params()


def test_old_field_names_become_keras_arguments():
    def config_of(params, class_name):
        return next(item["config"] for item in built(params)[0]["config"]["layers"] if item["class_name"] == class_name)

    assert config_of(CASES["LeakyReLU"], "LeakyReLU")["negative_slope"] == pytest.approx(0.1)
    relu = config_of(CASES["ReLU"], "ReLU")
    assert (relu["max_value"], relu["negative_slope"], relu["threshold"]) == (6.0, pytest.approx(0.1), 0.5)
    prelu = config_of(CASES["PReLU shared"], "PReLU")
    assert prelu["shared_axes"] == [1, 2] and prelu["alpha_initializer"]["class_name"] == "Constant"
    assert prelu["alpha_regularizer"]["class_name"] == "L1L2"
    assert prelu["alpha_regularizer"]["config"]["l1"] == pytest.approx(0.01)
    assert prelu["alpha_constraint"]["class_name"] == "MinMaxNorm"
    plain = config_of(CASES["PReLU"], "PReLU")
    assert plain["alpha_regularizer"] is None and plain["alpha_constraint"] is None
    assert config_of(CASES["Dot"], "Dot")["axes"] == [2, 2] and config_of(CASES["Dot"], "Dot")["normalize"] is True
    assert config_of(CASES["Dot vectors"], "Dot")["axes"] == -1
    td = config_of(CASES["TimeDistributed"], "TimeDistributed")
    assert td["layer"]["class_name"] == "Dense" and td["layer"]["config"]["units"] == 4


def test_attention_reads_query_value_and_key_by_layer_number():
    _, model, _ = built(CASES["MultiHeadAttention cross"])
    attention = [item for item in model.layers if item.__class__.__name__ == "MultiHeadAttention"]
    node = attention[0]._inbound_nodes[0]
    assert [tuple(tensor.shape) for tensor in node.input_tensors] == [(None, 5, 6), (None, 7, 3), (None, 7, 2)]
    assert tuple(attention[0].output.shape) == (None, 5, 4)  # output_shape=4
    second = attention[1]._inbound_nodes[0]  # query: LAYER 4, value (and key): LAYER 1
    assert [tuple(tensor.shape) for tensor in second.input_tensors] == [(None, 5, 4), (None, 5, 6)]


def test_global_average_pooling_respects_the_embedding_mask():
    """Embedding(mask_zero=True) then GlobalAveragePooling1D: the mean over the real tokens only."""
    _, model, _ = built(sequential("(5,)", layer("Embedding", input_dim=10, output_dim=3, kwargs="mask_zero=True"),
                                   layer("GlobalAveragePooling1D", data_format="channels_last")))
    table = model.layers[0].get_weights()[0]
    out = model.predict(np.array([[4, 7, 0, 0, 0], [2, 0, 0, 0, 0]]), verbose=0)
    np.testing.assert_allclose(out[0], (table[4] + table[7]) / 2, rtol=1e-5)
    np.testing.assert_allclose(out[1], table[2], rtol=1e-5)
    unmasked = (table[4] + table[7] + 3 * table[0]) / 5
    assert not np.allclose(out[0], unmasked)


@pytest.mark.parametrize("params, message", [
    (sequential("(5, 6)", layer("MultiHeadAttention", num_heads=2, key_dim=2)), "needs a functional model"),
    (sequential("(5, 6)", layer("Dot", merging_layers="[1, 2]")), "needs a functional model"),
    (functional(layer("Input", shape="(5, 6)"), layer("MultiHeadAttention", num_heads=2, key_dim=2, value_nodes=4)),
     r"MultiHeadAttention\): value_nodes 4 is not a LAYER before it: expected a number in 1..1"),
    (functional(layer("Input", shape="(5, 6)"), layer("Input", shape="(5, 6)"), layer("Input", shape="(5, 6)"),
                layer("Subtract", merging_layers="[1, 2, 3]")), r"Merge -- Subtract\): cannot be applied to its input"),
    (functional(layer("Input", shape="(6,)"), layer("Input", shape="(6,)"),
                layer("Dot", merging_layers="[1, 2]", axis="(1, 2, 3)")), r"axis '\(1, 2, 3\)': expected one axis or two"),
    (functional(layer("Input", shape="(6,)"), layer("Input", shape="(6,)"),
                layer("Dot", merging_layers="[1, 2]", axis="x")), r"axis: 'x' is not a whole number"),
    (functional(layer("Input", shape="(6,)"), layer("Input", shape="(6,)"),
                layer("Dot", merging_layers="[1, 2]", axis="\u0662")), r"axis: '\u0662' is not a whole number"),
    (functional(layer("Input", shape="(6,)"), layer("Input", shape="(6,)"),
                layer("Dot", merging_layers="[1, 2]", normalize="maybe")), "normalize must be true or false"),
    (sequential("(6,)", layer("PReLU", alpha_regularizer="(0.1)")), r"alpha_regularizer '\(0.1\)' is malformed"),
    (sequential("(6,)", layer("PReLU", alpha_regularizer="(-1, 0)")), r"alpha_regularizer: l1: '-1' is not a number "
                                                                        "from 0"),
    # float('\u0663') is 3.0 and float('1_0') is 10.0
    (sequential("(6,)", layer("PReLU", alpha_regularizer="(\u0663, 0)")), r"alpha_regularizer: l1: '\u0663' is not a number"),
    (sequential("(6,)", layer("PReLU", alpha_regularizer="(0, 1_0)")), r"alpha_regularizer: l2: '1_0' is not a number"),
    (sequential("(6,)", layer("PReLU", shared_axes="[a]")), r"shared_axes '\[a\]' is malformed"),
    (sequential("(6,)", layer("PReLU", **prelu_constraint("Bogus"))), "unknown constraint_type 'Bogus'"),
    (sequential("(6,)", layer("GaussianNoise", stddev=-1.0)), "stddev must be a number of 0 or more"),
    (sequential("(6,)", layer("GaussianDropout", rate=1.0)), r"rate must be a fraction in \[0, 1\)"),
    (sequential("(6,)", layer("Softmax", axis=3)), "axis 3 does not exist"),
    (sequential("(6,)", layer("LayerNormalization", axis=2, epsilon=0.001)), "axis 2 does not exist"),
    (sequential("(5, 6)", layer("TimeDistributed", **inner("LSTM", units=2))), r"the layer to wrap: unknown 'LSTM'"),
    (sequential("(5, 6)", layer("TimeDistributed", **inner("Dense", units=2, kwargs="return_sequences=True"))),
     "Dense argument: unknown 'return_sequences'"),
    (sequential("(6,)", layer("TimeDistributed", **inner("Dense", units=2))),
     r"Wrappers -- TimeDistributed\): cannot be applied to its input"),
])
def test_bad_input_gives_one_clear_error(params, message):
    with pytest.raises(ToolInputError, match=message):
        kmc.build_model_json(params)


@pytest.mark.parametrize("params, message", [
    (functional(layer("Input", shape="(50, 4000)"),
                layer("MultiHeadAttention", num_heads=64, key_dim=4096, kwargs="")), "MultiHeadAttention"),
    (sequential("(50, 100000)", layer("TimeDistributed", **inner("Dense", units=100000, kwargs=""))), "TimeDistributed"),
    (sequential("(30000, 30000)", layer("PReLU")), "PReLU"),
])
def test_large_layers_are_refused_before_keras_allocates_them(monkeypatch, params, message):
    monkeypatch.setenv(memory.LIMIT_VARIABLE, str(2 * 1024 ** 3))
    with pytest.raises(ToolInputError, match=rf"{message}\): too large: the model has about [\d,]+ parameters"):
        kmc.build_model_json(params)


def test_crafted_attention_key_is_counted_however_it_is_passed():
    """A file may pass the key by name, and understate build_config: the graph's shapes still count."""
    import keras

    query, value, key = keras.Input((5, 6)), keras.Input((7, 4)), keras.Input((7, 900))
    model = keras.Model([query, value, key], keras.layers.MultiHeadAttention(2, 8)(query, value, key))
    config = json.loads(model.to_json())["config"]
    attention = config["layers"][3]
    node = attention["inbound_nodes"][0]
    node["kwargs"]["key"] = node["args"].pop()
    attention["build_config"] = {"shapes_dict": {"query_shape": [None, 5, 6], "value_shape": [None, 7, 4]}}
    assert resources.config_parameters(config) == model.count_params()


def test_script_builds_every_new_sequential_layer(tmp_path, write_inputs, run_script):
    params = sequential("(6, 4)", *[CASES[name]["model_selection"]["layers"][index] for name, index in [
        ("PReLU", 0), ("ReLU", 0), ("GaussianNoise", 0), ("GaussianDropout", 0), ("AlphaDropout", 0),
        ("TimeDistributed", 0), ("LeakyReLU", 1), ("ELU", 0), ("Softmax", 0), ("LayerNormalization", 0)]])
    outfile = tmp_path / "model.json"
    done = run_script("keras_model_config.py", "--inputs", write_inputs(params), "--outfile", outfile)
    assert done.returncode == 0, done.stderr
    classes = [item["class_name"] for item in json.loads(outfile.read_text())["config"]["layers"]]
    assert classes == ["InputLayer", "PReLU", "ReLU", "GaussianNoise", "GaussianDropout", "AlphaDropout",
                       "TimeDistributed", "LeakyReLU", "ELU", "Softmax", "LayerNormalization"]


def test_attention_model_trains_and_predicts_through_the_tools(tmp_path, write_text):
    """Config -> builder -> train_and_eval -> model_prediction with a self-attention model on tabular rows."""
    model_json = kmc.build_model_json(functional(
        layer("Input", shape="(6,)"), layer("Reshape", target_shape="(6, 1)", inbound_nodes=1),
        layer("Dense", units=4, inbound_nodes=2), layer("MultiHeadAttention", num_heads=2, key_dim=2, kwargs=""),
        layer("LayerNormalization", axis=-1, epsilon=0.001, kwargs=""), layer("LeakyReLU", alpha=0.2),
        layer("GlobalAveragePooling1D", data_format="channels_last"),
        layer("Dense", units=1, activation="sigmoid")))
    config_path = write_text(model_json, "model.json")
    estimator = kmb.build_estimator({"mode_selection": {
        "mode_type": "train_model", "infile_json": config_path, "learning_type": "KerasGClassifier",
        "compile_params": {"loss": "binary_crossentropy", "metrics": ["acc"],
                           "optimizer_selection": {"optimizer_type": "Adam"}},
        "fit_params": {"epochs": 2, "batch_size": 16}, "random_seed": 0}})
    from gxkeras.modelfile.h5mlm import save_estimator

    untrained = str(tmp_path / "untrained.h5mlm")
    save_estimator(estimator, untrained)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 6)).round(3)
    y = (X[:, 0] > 0).astype(int)
    x_path = write_text("".join("\t".join(map(str, row)) + "\n" for row in X), "X.tsv")
    y_path = write_text("".join(f"{value}\n" for value in y), "y.tsv")
    outputs = {name: str(tmp_path / f"{name}.out") for name in ("outfile_result", "outfile_object", "outfile_weights")}
    selection = {"selected_column_selector_option": "all_columns"}
    kte.train_and_evaluate({"experiment_schemes": {"selected_exp_scheme": "train_val", "infile_estimator": untrained,
                                    "test_split": {"split_algos": {"shuffle": "simple", "test_size": 0.25,
                                                                   "random_state": 0}},
                                    "metrics": {"scoring": {"primary_scoring": "default"}}},
             "input_options": {"selected_input": "tabular", "infile1": x_path, "header1": False,
                               "column_selector_options_1": selection, "infile2": y_path, "header2": False,
                               "column_selector_options_2": {"selected_column_selector_option2": "all_columns"}},
             "save": ["save_estimator"]}, outputs)
    assert Path(outputs["outfile_result"]).read_text().startswith("metric")
    predictions = tmp_path / "predictions.tsv"
    mp.run({"infile_estimator": outputs["outfile_object"], "weights": [], "method": "predict_proba",
            "input_options": {"selected_input": "tabular", "infile1": x_path, "header1": False,
                              "column_selector_options_1": selection}}, str(predictions))
    rows = predictions.read_text().splitlines()
    assert len(rows) == 41
    probabilities = np.array([row.split("\t") for row in rows[1:]], dtype=float)
    assert probabilities.shape == (40, 2) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
