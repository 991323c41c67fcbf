"""Small helpers of gxkeras shared by the tools, and where a library's error becomes a user's error.

A library error becomes a one-line ``ToolInputError`` only where the input can be at fault (Keras
refusing a config, weights that do not fit); anything else (a bug, running out of memory) must keep
its traceback, so those places catch a narrow list of exception types.
"""
import pytest

from gxkeras.keras import estimators
from gxkeras.modelfile import keras_weights
from gxkeras.galaxy.errors import ToolInputError, first_line
from gxkeras.galaxy.inputs import GALAXY_KEYS, flatten_sections, without_galaxy_keys


@pytest.mark.parametrize(("error", "line"), [
    (ValueError("Input 0 of layer dense is incompatible\n\nArguments received:\n  x=..."),
     "Input 0 of layer dense is incompatible"),
    (KeyError("units"), "'units'"),
    (ValueError("\n  leading blank lines\nsecond"), "leading blank lines"),
    (ValueError(""), "ValueError"),
    (IndexError("   \n "), "IndexError"),
    (ValueError("\x1b[1mDense\x1b[0m: units must be positive  \nmore"), "Dense: units must be positive"),
    (ValueError("Exception encountered when calling LSTM.call().\n\n\x1b[1mInput 0 is incompatible\x1b[0m\n"
                "Arguments received by LSTM.call():"),
     "Exception encountered when calling LSTM.call(): Input 0 is incompatible"),
    (ValueError("Exception encountered when calling LSTM.call()."), "Exception encountered when calling LSTM.call()."),
])
def test_first_line_of_an_error(error, line):
    assert first_line(error) == line


def test_first_line_is_bounded():
    assert first_line(ValueError("x" * 1000)) == "x" * 300
    assert first_line(ValueError("abcdef"), limit=3) == "abc"


def test_without_galaxy_keys():
    selection = {"__current_case__": 1, "optimizer_type": "adam", "learning_rate": 0.001}
    assert without_galaxy_keys(selection) == {"optimizer_type": "adam", "learning_rate": 0.001}
    assert without_galaxy_keys({"__index__": 0, "callback_selection": {"__current_case__": 2}}) == {
        "callback_selection": {"__current_case__": 2}}  # one level: nested dicts are the caller's
    assert without_galaxy_keys(None) == {}
    assert selection["__current_case__"] == 1  # the caller's dict is left as it is


def test_flatten_sections_drops_galaxy_keys_at_every_level():
    layer = {"__index__": 3, "layer_selection": {"__current_case__": 0, "layer_type": "Dense", "units": 4,
                                                 "advanced": {"use_bias": True}}}
    flat = flatten_sections(layer)
    assert flat == {"layer_type": "Dense", "units": 4, "use_bias": True}
    assert not set(flat) & set(GALAXY_KEYS)


DENSE = {"name": "sequential", "layers": [
    {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None, 4], "name": "input"}},
    {"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense", "units": 1}},
]}


@pytest.fixture
def keras():
    from gxkeras.keras.environment import import_keras

    return import_keras()


def test_build_model_reports_keras_refusing_the_config_in_one_line(keras, monkeypatch):
    def refuse(_config, **_kwargs):
        raise ValueError("Kernel shape must have the same length as input\n\nfull dump ...")

    monkeypatch.setattr(keras.Sequential, "from_config", refuse)
    with pytest.raises(ToolInputError) as refused:
        estimators.build_model(DENSE, "sequential", "model JSON")
    assert str(refused.value) == ("model JSON: Keras cannot build this model: Kernel shape must have the same "
                                  "length as input")


# (An ArithmeticError is Keras refusing the config's numbers, e.g. strides=0: a build error since issue 16.)
@pytest.mark.parametrize("bug", [RuntimeError("bug"), AssertionError("bug"), MemoryError()])
def test_build_model_lets_other_failures_through(keras, monkeypatch, bug):
    """A bug or an exhausted machine is not the user's input: it keeps its traceback."""
    def fail(_config, **_kwargs):
        raise bug

    monkeypatch.setattr(keras.Sequential, "from_config", fail)
    with pytest.raises(type(bug)):
        estimators.build_model(DENSE, "sequential", "model JSON")


def test_build_model_builds_a_good_config(keras):
    model = estimators.build_model(DENSE, "sequential", "model JSON")
    assert [layer.name for layer in model.layers] == ["dense"]


@pytest.mark.parametrize(("failure", "refused"), [(ValueError("Layer count mismatch\ndetails"), True),
                                                  (KeyError("dense"), True),
                                                  (RuntimeError("bug"), False), (OSError("disk"), False)])
def test_load_legacy_weights_refuses_only_weights_that_do_not_fit(keras, monkeypatch, failure, refused):
    from keras.src.legacy.saving import legacy_h5_format

    def load(_group, _model):
        raise failure

    monkeypatch.setattr(keras_weights, "check_weight_shapes", lambda *_args: None)
    monkeypatch.setattr(legacy_h5_format, "load_weights_from_hdf5_group", load)
    model = estimators.build_model(DENSE, "sequential", "model")
    if refused:
        with pytest.raises(ToolInputError) as error:
            keras_weights.load_legacy_weights(None, model, "weights")
        assert str(error.value) == f"weights: the weights do not fit the model: {first_line(failure)}"
    else:
        with pytest.raises(type(failure)):
            keras_weights.load_legacy_weights(None, model, "weights")
