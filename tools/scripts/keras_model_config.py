"""keras_model_config: turn the "Create a deep learning model architecture" form into Keras 3 JSON.

The form's parameter names are the Keras arguments themselves (``units``, ``input_dim``,
``kernel_size`` ...), so this module needs no per-layer code: it checks each value, converts the
shapes typed as text, builds the real Keras layers (which validates the architecture, shapes
included) and writes ``model.to_json()``, the format ``keras.models.model_from_json`` and
galaxy-ml's ``KerasGClassifier(config=...)`` read.
"""
import argparse
import inspect
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from gxkeras.galaxy import (
    ToolInputError, as_bool, atomic_output, check_layer_name, check_seed, choice, first_line, flatten_sections, forms,
    load_inputs, output_paths, parse_int, parse_int_or_shape, parse_int_pairs, parse_kwargs, parse_shape, run_tool,
)
from gxkeras.keras import check_layer_count, check_model_config
from gxkeras.keras import RNN_CELLS, check_output_size, check_parameters, input_width, layer_parameters
from gxkeras.keras import import_keras
from gxkeras.keras import KERAS_BUILD_ERRORS
from gxkeras.keras import keras_fields

# Layers the form offers, by the group shown in "Group -- Layer". Only these are ever looked up
# in keras.layers: the layer type string from the form cannot name anything else.
LAYER_GROUPS = {
    "Core": ["Dense", "Activation", "Dropout", "Flatten", "Reshape", "Permute", "RepeatVector", "ActivityRegularization",
             "Masking", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D"],
    "Embedding": ["Embedding"],
    "Recurrent": ["SimpleRNN", "LSTM", "GRU", "Bidirectional", "ConvLSTM2D", *RNN_CELLS],
    "Convolution": [
        "Conv1D", "Conv2D", "SeparableConv1D", "SeparableConv2D", "DepthwiseConv2D", "Conv2DTranspose", "Conv3D",
        "Conv3DTranspose", "Cropping1D", "Cropping2D", "Cropping3D", "UpSampling1D", "UpSampling2D", "UpSampling3D",
        "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
    ],
    "Pooling": [
        "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
        "GlobalMaxPooling1D", "GlobalAveragePooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling2D",
        "MaxPooling3D", "AveragePooling3D", "GlobalMaxPooling3D", "GlobalAveragePooling3D",
    ],
    "Normalization": ["BatchNormalization", "LayerNormalization"],
    "Merge": ["Add", "Multiply", "Average", "Concatenate",  # functional models only
              "Subtract", "Maximum", "Minimum", "Dot"],
    "Advanced activations": ["LeakyReLU", "PReLU", "ELU", "ReLU", "Softmax"],
    "Noise": ["GaussianNoise", "GaussianDropout", "AlphaDropout"],
    "Wrappers": ["TimeDistributed"],
    "Attention": ["MultiHeadAttention"],  # functional models only
}
GROUP_OF = {layer: group for group, layers in LAYER_GROUPS.items() for layer in layers}
MERGE_LAYERS = set(LAYER_GROUPS["Merge"])
FUNCTIONAL_ONLY = MERGE_LAYERS | {"Input", "MultiHeadAttention"}
RNN_TYPES = {"SimpleRNN", "LSTM", "GRU"}
# The layers TimeDistributed may wrap: the options of its "Layer to apply to every time step".
TIME_DISTRIBUTED_TYPES = set(forms.options("keras_model_config", "inner_layer_type"))
# Wrappers and the form field that names the layer they wrap.
INNER_TYPE_FIELD = {"Bidirectional": "rnn_type", "TimeDistributed": "inner_layer_type"}

POSITIVE_INT_ARGS = {"units", "input_dim", "output_dim", "filters", "n", "num_heads", "key_dim"}
RATE_ARGS = {"rate", "dropout", "recurrent_dropout"}  # fractions in [0, 1)
# Regularization factors, noise, slopes and limits.
NON_NEGATIVE_ARGS = {"l1", "l2", "stddev", "negative_slope", "max_value", "epsilon"}
INT_OR_SHAPE_ARGS = {"kernel_size", "strides", "pool_size", "size"}  # "3" -> 3, "3,3" -> (3, 3)
SHAPE_ARGS = {"target_shape", "dims"}
INT_PAIRS_ARGS = {"cropping", "padding"}  # "1", "(1, 2)" or "((1, 0), (2, 2))": Cropping and ZeroPadding
# Form fields that are not keyword arguments of the Keras layer itself (the wiring of functional models).
FORM_ONLY = {"layer_type", "kwargs", "rnn_type", "inner_layer_type", "inbound_nodes", "merging_layers",
             "value_nodes", "key_nodes"}
INPUT_DTYPES = ("float32", "float64", "int32", "int64")
# Base-layer arguments every Keras layer accepts through **kwargs.
BASE_LAYER_ARGS = {"name", "trainable"}
# Arguments the layers have that describe no architecture: weight values (``weights``: data in a
# config, unchecked in size) and fine-tuning or quantisation of trained weights (``lora_rank`` adds
# weights the size estimate does not know: a large one is an out-of-memory crash).
NOT_ARCHITECTURE_ARGS = {"weights", "lora_rank", "lora_alpha", "quantization_config"}


def layer_label(index: int, layer_type: str) -> str:
    """How the form shows a layer: repeat title and number, then its type."""
    return f"LAYER {index} ({GROUP_OF.get(layer_type, '?')} -- {layer_type})"


def convert_args(fields: dict[str, Any], label: str) -> dict[str, Any]:
    """Check and convert the form's values into Keras keyword arguments (unset fields dropped)."""
    args = {}
    for name, value in fields.items():
        if name in FORM_ONLY or value is None or value == "":
            continue
        if name in POSITIVE_INT_ARGS and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise ToolInputError(f"{label}: {name} must be a positive integer, got {value!r}")
        if name in RATE_ARGS and not (isinstance(value, (int, float)) and 0 <= value < 1):
            raise ToolInputError(f"{label}: {name} must be a fraction in [0, 1), got {value!r}")
        if name in NON_NEGATIVE_ARGS and (isinstance(value, bool) or not isinstance(value, (int, float))
                                          or not 0 <= value < float("inf")):
            raise ToolInputError(f"{label}: {name} must be a number of 0 or more, got {value!r}")
        if name in INT_OR_SHAPE_ARGS:
            value = parse_int_or_shape(value, f"{label}: {name}")
        elif name in SHAPE_ARGS:
            value = parse_shape(value, f"{label}: {name}")
        elif name in INT_PAIRS_ARGS:
            value = parse_int_pairs(value, f"{label}: {name}")
        args[name] = value
    return args


def add_extra_kwargs(args: dict[str, Any], extra: dict[str, Any], keras_class: Any, label: str) -> dict[str, Any]:
    """Merge the extra keyword arguments (parsed kwargs), accepting only arguments the layer really has."""
    known = set(inspect.signature(keras_class.__init__).parameters) - {"self", "kwargs"}
    known |= BASE_LAYER_ARGS
    for key in extra:
        if key in args:
            raise ToolInputError(f"{label}: '{key}' has its own field in the form; set it there")
        if key in NOT_ARCHITECTURE_ARGS:
            raise ToolInputError(f"{label}: '{key}' is not part of a model architecture and cannot be set here")
        choice(key, sorted(known), f"{label}: {keras_class.__name__} argument")
    if "name" in extra:
        check_layer_name(extra["name"], label)
    if "seed" in extra:
        check_seed(extra["seed"], f"{label}: seed")
    return {**args, **extra}


class ParameterBudget:
    """The running estimate of the model's weights, checked before each layer is made.

    Keras allocates a layer's weights as soon as it is added to a model with a known input; an
    ``Embedding(10**8, 10**4)`` (4 TB) must be refused from the form's numbers before that.
    """

    def __init__(self, limit: int | None = None) -> None:
        self.total = 0
        self.limit = limit

    def add(self, layer_type: str, args: dict[str, Any], fields: dict[str, Any], input_shapes: list[Any], label: str) -> None:
        """Count one layer from its arguments and its inputs' shapes (batch axis first)."""
        shapes = [batchless(shape) for shape in input_shapes]
        if layer_type in INNER_TYPE_FIELD:  # counted as Keras writes a wrapper: its layer inside
            args = {"layer": {"class_name": fields.get(INNER_TYPE_FIELD[layer_type]), "config": args}}
        width = input_width(layer_type, args, shapes[0] if shapes else None)
        self.total += layer_parameters(layer_type, args, width, shapes)
        check_parameters(self.total, f"{label}: too large", self.limit)


def batchless(shape: Any) -> list[Any] | None:
    """A Keras shape without its batch axis (None where unknown)."""
    if isinstance(shape, list) and shape and isinstance(shape[0], (list, tuple)):
        shape = shape[0]  # several outputs: the first
    return list(shape[1:]) if shape else None


def make_layer(keras: Any, fields: dict[str, Any], index: int, input_shapes: list[Any],
               budget: ParameterBudget | None = None) -> Any:
    """Build one Keras layer from one LAYER of the form, reading inputs of ``input_shapes`` (batch axis
    first; its size checked first against ``budget``)."""
    layer_type = choice(fields.get("layer_type"), sorted(GROUP_OF), f"LAYER {index}: layer type")
    label = layer_label(index, layer_type)
    fields = keras_fields(keras, layer_type, fields, label)
    args = convert_args(fields, label)
    extra = parse_kwargs(fields.get("kwargs"), f"{label}: kwargs")
    if budget is not None:
        budget.add(layer_type, {**extra, **args}, fields, input_shapes, label)
    try:
        if layer_type in RNN_CELLS:
            return make_cell_rnn(keras, layer_type, args, extra, label)
        if layer_type == "Bidirectional":
            rnn_type = choice(fields.get("rnn_type"), sorted(RNN_TYPES), f"{label}: the layer to wrap")
            merge_mode = args.pop("merge_mode", "concat")
            rnn_class = getattr(keras.layers, rnn_type)
            inner = rnn_class(**add_extra_kwargs(args, extra, rnn_class, label))
            return keras.layers.Bidirectional(inner, merge_mode=merge_mode)
        if layer_type == "TimeDistributed":
            inner_type = choice(fields.get("inner_layer_type"), sorted(TIME_DISTRIBUTED_TYPES),
                                f"{label}: the layer to wrap")
            inner_class = getattr(keras.layers, inner_type)
            return keras.layers.TimeDistributed(inner_class(**add_extra_kwargs(args, extra, inner_class, label)))
        keras_class = getattr(keras.layers, layer_type)
        return keras_class(**add_extra_kwargs(args, extra, keras_class, label))
    except ToolInputError:
        raise
    except KERAS_BUILD_ERRORS as error:  # Keras checks its arguments with ValueError, TypeError, ...
        # Every argument comes from the form: whatever Keras refuses is the user's to fix.
        raise ToolInputError(f"{label}: {first_line(error)}") from None


def make_cell_rnn(keras: Any, layer_type: str, args: dict[str, Any], extra: dict[str, Any], label: str) -> Any:
    """A cell of the old form (SimpleRNNCell, GRUCell, LSTMCell) inside the ``keras.layers.RNN`` that runs it
    over the time steps. A cell alone needs its states as a second input and is no layer of a model (the
    Galaxy-ML tools added it alone, which Keras refused). The RNN's own arguments (``return_sequences``,
    ``go_backwards``, ``name`` ...) may be given in kwargs beside the cell's."""
    rnn_args = set(inspect.signature(keras.layers.RNN.__init__).parameters) - {"self", "cell", "kwargs"}
    outer = {key: value for key, value in extra.items() if key in rnn_args | BASE_LAYER_ARGS}
    inner = {key: value for key, value in extra.items() if key not in outer}
    cell_class = getattr(keras.layers, layer_type)
    cell = cell_class(**add_extra_kwargs(args, inner, cell_class, label))
    return keras.layers.RNN(cell, **add_extra_kwargs({}, outer, keras.layers.RNN, label))


def apply_layer(layer: Any, input_shape: Any, apply: Callable[[], Any], label: str) -> Any:
    """Run ``apply()`` (add or call ``layer`` on an input of ``input_shape``), errors as one line."""
    check_axis(layer, input_shape, label)
    try:
        return apply()
    except KERAS_BUILD_ERRORS as error:  # shape errors: ValueError, TypeError, IndexError, ...
        raise ToolInputError(f"{label}: cannot be applied to its input: {first_line(error)}") from None


def check_axis(layer: Any, input_shape: Any, label: str) -> None:
    """A layer's ``axis`` (BatchNormalization, Concatenate: from the extra arguments) must exist in
    its input; Keras indexes the shape with it and fails with a bare IndexError otherwise."""
    axes = getattr(layer, "axis", None)
    if axes is None:
        return
    rank = len(input_shape)
    for axis in axes if isinstance(axes, (list, tuple)) else [axes]:
        if isinstance(axis, bool) or not isinstance(axis, int) or not -rank <= axis < rank:
            raise ToolInputError(f"{label}: axis {axis!r} does not exist: the input has {rank} axes "
                                 f"(the batch axis included), expected an integer from {-rank} to {rank - 1}")


def build_sequential(keras: Any, model_params: dict[str, Any], layers: list[dict[str, Any]],
                     budget: ParameterBudget | None = None) -> Any:
    """A Sequential model: the form's input_shape, then each LAYER on the previous one."""
    model = keras.Sequential()
    shape = parse_shape(model_params.get("input_shape"), "input_shape")
    model.add(keras.Input(shape=shape))
    current = (None, *shape)  # the output shape so far, batch axis first
    for index, fields in enumerate(layers, start=1):
        if fields.get("layer_type") in FUNCTIONAL_ONLY:
            raise ToolInputError(f"{layer_label(index, fields['layer_type'])}: needs a functional model")
        layer = make_layer(keras, fields, index, [current], budget)
        apply_layer(layer, current, lambda: model.add(layer),  # noqa: B023 (called at once)
                    layer_label(index, fields["layer_type"]))
        current = model.output_shape
        check_output_size(batchless(current), f"{layer_label(index, fields['layer_type'])}: too large", budget.limit if budget else None)
    return model


def layer_numbers(text: object, what: str, below: int) -> list[int]:
    """LAYER numbers typed as a list (``[2, 3]``, the Galaxy-ML tools' syntax, or ``2, 3``), each in 1..below
    (ASCII digits: '\u00b2'.isdigit() is true, and int() fails on it)."""
    body = str(text if text is not None else "").strip()
    body = body[1:-1] if body[:1] == "[" and body[-1:] == "]" else body
    items = [item.strip() for item in body.split(",")]
    if items and items[-1] == "":
        items.pop()  # a trailing comma
    return [parse_int(item, f"{what}: LAYER", 1, below) for item in items]


def inbound_of(fields: dict[str, Any], index: int, label: str) -> list[int]:
    """The LAYER numbers a functional LAYER reads: its merging_layers (a merge layer), else its
    inbound_nodes; empty (and for the layers the form gives none: Activation, RepeatVector, BatchNormalization):
    the LAYER just before it. MultiHeadAttention reads its query there, then its value (value_nodes;
    empty: the query, i.e. self-attention) and its key (key_nodes; empty: the value)."""
    if fields.get("layer_type") in MERGE_LAYERS:
        numbers = layer_numbers(fields.get("merging_layers"), f"{label}: merging_layers", index - 1)
        if len(numbers) < 2:
            raise ToolInputError(f"{label}: a merge layer needs at least two LAYERs in merging_layers, such as [1, 2]")
        return numbers
    query = layer_number(fields.get("inbound_nodes"), "inbound_nodes", index, label)
    if fields.get("layer_type") != "MultiHeadAttention":
        return [query]
    value = layer_number(fields.get("value_nodes"), "value_nodes", index, label, default=query)
    key = fields.get("key_nodes")
    return [query, value] if key in (None, "") else [query, value, layer_number(key, "key_nodes", index, label)]


def layer_number(number: object, name: str, index: int, label: str, default: int | None = None) -> Any:
    """One LAYER number field (``name``) of LAYER ``index``: a LAYER before it; empty: ``default``,
    else the LAYER just before it."""
    if number in (None, "") and default is not None:
        return default
    if number in (None, ""):
        if index == 1:
            raise ToolInputError(f"{label}: the first LAYER of a functional model must be an Input")
        return index - 1
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number < index:
        raise ToolInputError(f"{label}: {name} {number!r} is not a LAYER before it: expected a number in "
                             f"1..{index - 1}")
    return number


def make_input(keras: Any, fields: dict[str, Any], index: int) -> Any:
    """An Input LAYER: its shape, and the Galaxy-ML tools' name, dtype and sparse fields."""
    label = f"LAYER {index} (Input)"
    args = {"shape": parse_shape(fields.get("shape"), f"{label}: shape", allow_none=True)}
    if fields.get("name") not in (None, ""):
        check_layer_name(fields["name"], label)
        args["name"] = fields["name"]
    dtype = choice(fields.get("dtype") or "float32", INPUT_DTYPES, f"{label}: dtype")
    sparse = as_bool(fields.get("sparse"))
    if sparse not in (None, True, False):
        raise ToolInputError(f"{label}: sparse must be true or false, got {sparse!r}")
    return keras.Input(dtype=dtype, sparse=bool(sparse), **args)


def chosen_layers(model_params: dict[str, Any], key: str, tensors: dict[int, Any], default: list[Any], what: str) -> list[Any]:
    """The model's inputs or outputs: the LAYERs listed in ``key`` (``[1, 5]``), else ``default``."""
    text = model_params.get(key)
    numbers = layer_numbers(text, key, len(tensors)) if str(text or "").strip("[] ") else []
    if not numbers:
        return default
    if what == "input":
        wrong = [number for number in numbers if tensors[number] not in default]
        if wrong:
            raise ToolInputError(f"{key}: LAYER {wrong[0]} is not an Input LAYER")
    return [tensors[number] for number in numbers]


def build_functional(keras: Any, model_params: dict[str, Any], layers: list[dict[str, Any]],
                     budget: ParameterBudget | None = None) -> Any:
    """A functional model wired as the Galaxy-ML tools' form wires it: each LAYER reads the LAYER its
    inbound_nodes names (merge layers: the LAYERs in merging_layers); the inputs and outputs are
    input_layers / output_layers, or, left empty, every Input LAYER and every LAYER nobody reads."""
    tensors, inputs, consumed = {}, [], set()
    for index, fields in enumerate(layers, start=1):
        layer_type = fields.get("layer_type")
        if layer_type == "Input":
            tensors[index] = make_input(keras, fields, index)
            inputs.append(tensors[index])
            continue
        label = layer_label(index, str(layer_type))
        inbound = inbound_of(fields, index, label)
        consumed.update(inbound)
        sources = [tensors[number] for number in inbound]
        layer = make_layer(keras, fields, index, [tuple(source.shape) for source in sources], budget)
        arguments = [sources] if layer_type in MERGE_LAYERS else sources  # MultiHeadAttention: query, value, key
        tensors[index] = apply_layer(layer, tuple(sources[0].shape), lambda: layer(*arguments),  # noqa: B023
                                     label)  # (apply_layer calls the lambda at once, inside this iteration)
        output = getattr(tensors[index], "shape", None)  # None: a list of outputs (return_state=True), no amplifier
        check_output_size(batchless(tuple(output or ())), f"{label}: too large", budget.limit if budget else None)
    if not inputs:
        raise ToolInputError("a functional model needs at least one LAYER of type Input")
    inputs = chosen_layers(model_params, "input_layers", tensors, inputs, "input")
    unread = [tensors[i] for i in tensors if i not in consumed and tensors[i] not in inputs]
    outputs = chosen_layers(model_params, "output_layers", tensors, unread, "output")
    if not outputs:
        raise ToolInputError("the functional model has no output: its last LAYER is an Input")
    try:
        return keras.Model(inputs=inputs, outputs=outputs[0] if len(outputs) == 1 else outputs)
    except ValueError as error:  # e.g. two LAYERs given the same name, an output not reached from the inputs
        raise ToolInputError(f"the functional model: {first_line(error)}") from None


def build_model_json(params: dict[str, Any]) -> str:
    """The Keras 3 JSON of the architecture described by the form's parameters."""
    model_params = params.get("model_selection") or {}
    layers = [flatten_sections(layer) for layer in model_params.get("layers") or []]
    if not layers:
        raise ToolInputError("the model has no LAYER: add at least one")
    check_layer_count(len(layers), "the model's LAYERs", ToolInputError)  # before Keras builds any
    keras = import_keras(tensorflow=False)  # only layers and JSON: no TensorFlow needed
    model_type = model_params.get("model_type")
    budget = ParameterBudget()
    if model_type == "sequential":
        model = build_sequential(keras, model_params, layers, budget)
    elif model_type == "functional":
        model = build_functional(keras, model_params, layers, budget)
    else:
        choice(model_type, ("sequential", "functional"), "model type")
    model_json = json.loads(model.to_json())
    check_model_config(model_json, "the architecture")  # exactly what the other tools will accept
    return json.dumps(model_json, indent=2)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--inputs", required=True, help="Galaxy's inputs JSON (the form's values)")
    parser.add_argument("--outfile", required=True, help="where to write the model JSON")
    args = parser.parse_args(argv)
    model_json = build_model_json(load_inputs(args.inputs))
    with atomic_output(args.outfile) as handle:
        handle.write(model_json + "\n")
    print(f"Wrote a Keras {json.loads(model_json)['class_name']} model configuration to {args.outfile}")


if __name__ == "__main__":
    run_tool(main, outputs=output_paths(sys.argv[1:], "--outfile"))
