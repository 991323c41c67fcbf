"""Refusing models too large for the machine before Keras allocates them.

A form value or a JSON from someone else's history can ask for an ``Embedding(10**8, 10**4)``:
4 TB of weights. TensorFlow would try to allocate it and the job would die from the kernel's OOM
killer (or take the node with it) with no useful message. Here the number of parameters is
estimated from the layer settings alone (no Keras object is built), multiplied by 4 bytes
(float32) and compared with the memory available to the job. Layers without weights can ask for as
much (``RepeatVector(10**9)``, ``UpSampling2D`` by huge factors): each layer's output for one sample,
followed through the model's shapes, must fit too.
"""
import math
from collections.abc import Iterator
from typing import Any

from gxkeras.galaxy.errors import ToolInputError
from gxkeras.galaxy.memory import available_memory, format_bytes

BYTES_PER_PARAMETER = 4  # float32 weights
# Gates per recurrent cell: each has a kernel (input x units), a recurrent kernel and a bias.
RNN_GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}
# The cells of the recurrent layers: the config tool runs one inside ``keras.layers.RNN`` (whose
# config holds it as "cell"), with the weights of the layer of the same name.
RNN_CELLS = {"SimpleRNNCell": "SimpleRNN", "GRUCell": "GRU", "LSTMCell": "LSTM"}
# Layers that wrap another and how many copies of its weights they hold.
WRAPPERS = {"Bidirectional": 2, "TimeDistributed": 1}
def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _product(values: object) -> int | None:
    """The product of one positive int or a list of them; None if any is not one."""
    total = 1
    for value in values if isinstance(values, (list, tuple)) else [values]:
        number = _int(value)
        if number is None:
            return None
        total *= number
    return total


# Layers with a kernel over a window: Conv* and their transposes (kernel x input channels x filters).
CONVOLUTIONS = {"Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "Conv3DTranspose"}
# Layers that slide a window over the spatial axes (their output length follows ``_spatial``).
WINDOWED = CONVOLUTIONS - {"Conv2DTranspose", "Conv3DTranspose"} | {
    "SeparableConv1D", "SeparableConv2D", "DepthwiseConv2D", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D",
    "AveragePooling1D", "AveragePooling2D", "AveragePooling3D"}
# Layers whose output has the shape of their (first) input.
SAME_SHAPE = {"Activation", "Dropout", "BatchNormalization", "LayerNormalization", "Add", "Multiply", "Average",
              "InputLayer", "ActivityRegularization", "Masking", "SpatialDropout1D", "SpatialDropout2D",
              "SpatialDropout3D", "LeakyReLU", "PReLU", "ELU", "ReLU", "Softmax", "GaussianNoise",
              "GaussianDropout", "AlphaDropout", "Subtract", "Maximum", "Minimum"}


def _factor(value: object) -> int:
    """A multiplier such as ``depth_multiplier`` or ``groups``: Keras refuses what is not a positive int,
    so anything else counts as 1 (a float is rounded up: never fewer weights than Keras would make)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 1 <= value < math.inf:
        return 1
    return math.ceil(value)


def _bias(config: dict[str, Any], count: int) -> int:
    return 0 if config.get("use_bias") is False else count


def input_width(class_name: str | None, config: Any, shape: Any) -> int | None:
    """The size of the axis a layer's weights grow with: the channels (``data_format``'s axis for the
    convolutions, which ``channels_first`` puts first, after the time axis for ConvLSTM2D), else the last.
    A wrapper's is its inner layer's (TimeDistributed's inner layer sees the shape without the time axis)."""
    if not isinstance(shape, (list, tuple)) or not shape:
        return None
    config = config if isinstance(config, dict) else {}
    if class_name in WRAPPERS:
        inner = config.get("layer") if isinstance(config.get("layer"), dict) else {}
        return input_width(inner.get("class_name"), inner.get("config"),
                           shape[1:] if class_name == "TimeDistributed" and len(shape) > 1 else shape)
    if config.get("data_format") == "channels_first" and len(shape) > 1:
        return shape[1] if class_name == "ConvLSTM2D" else shape[0]
    return shape[-1]


def layer_parameters(class_name: str | None, config: Any, input_width: int | None,
                     input_shapes: list[Any] | None = None) -> int:
    """Weights of one layer from its Keras arguments and the size of its input's channel axis
    (:func:`input_width`: the last axis, unless a convolution's ``data_format`` says otherwise).

    ``input_width`` may be None when it is unknown; only the Embedding needs none. Layers whose
    weights depend on more than the last axis (PReLU, LayerNormalization over several axes,
    MultiHeadAttention's query, value and key) read ``input_shapes``: the batchless shapes of the
    layer's inputs, in call order. Layers without weights (or not known here) count 0. Wrappers
    (Bidirectional, TimeDistributed) count their inner layer, on the width :func:`input_width` gives them.
    """
    config = config if isinstance(config, dict) else {}
    shapes = [shape if isinstance(shape, (list, tuple)) and shape else None for shape in input_shapes or []]
    if class_name == "Embedding":
        input_dim, output_dim = _int(config.get("input_dim")), _int(config.get("output_dim"))
        return input_dim * output_dim if input_dim and output_dim else 0
    if class_name in WRAPPERS:
        inner = config.get("layer") if isinstance(config.get("layer"), dict) else {}
        inner_shapes = [list(shapes[0][1:])] if shapes and shapes[0] and class_name == "TimeDistributed" else None
        return WRAPPERS[class_name] * layer_parameters(inner.get("class_name"), inner.get("config"), input_width,
                                                       inner_shapes)
    if class_name == "RNN":
        cell = config.get("cell") if isinstance(config.get("cell"), dict) else {}
        return layer_parameters(cell.get("class_name"), cell.get("config"), input_width)
    if class_name == "MultiHeadAttention":
        return _attention_parameters(config, input_width, shapes)
    class_name = RNN_CELLS.get(str(class_name), class_name)
    width = _int(input_width)
    if class_name in ("PReLU", "LayerNormalization"):
        return _shape_parameters(class_name, config, width, shapes[0] if shapes else None)
    if width is None:
        return 0
    units = _int(config.get("units"))
    if class_name == "Dense" and units:
        return width * units + units
    if class_name in RNN_GATES and units:
        biases = 2 if class_name == "GRU" else 1  # Keras 3's GRU has reset_after=True: two biases
        return RNN_GATES[class_name] * (units * (width + units) + biases * units)
    filters, kernel = _int(config.get("filters")), _product(config.get("kernel_size"))
    if class_name in CONVOLUTIONS and filters and kernel:
        groups = _factor(config.get("groups"))
        return kernel * (width // groups if width % groups == 0 else width) * filters + _bias(config, filters)
    if class_name in ("SeparableConv1D", "SeparableConv2D") and filters and kernel:
        depth = width * _factor(config.get("depth_multiplier"))  # a depthwise then a 1x1 pointwise kernel
        return kernel * depth + depth * filters + _bias(config, filters)
    if class_name == "DepthwiseConv2D" and kernel:
        depth = width * _factor(config.get("depth_multiplier"))
        return kernel * depth + _bias(config, depth)
    if class_name == "ConvLSTM2D" and filters and kernel:  # 4 gates, each an input and a recurrent kernel
        return 4 * filters * (kernel * (width + filters)) + _bias(config, 4 * filters)
    if class_name == "BatchNormalization":
        return 4 * width
    return 0


def _shape_parameters(class_name: str, config: dict[str, Any], width: int | None, shape: Any) -> int:
    """PReLU (one slope per input value, shared along ``shared_axes``) and LayerNormalization
    (gamma and beta over the normalized ``axis``): weights from the whole input shape.

    Axes count the batch axis as 0, as Keras does. An unknown size counts as the last axis' width
    (an unknown axis cannot be built by Keras: it never allocates that layer).
    """
    sizes = list(shape) if shape else [width]
    if class_name == "PReLU":
        shared = config.get("shared_axes")
        shared = shared if isinstance(shared, list) else [shared]
        return _product([size if index + 1 not in shared else 1 for index, size in enumerate(sizes)]) \
            or _int(width) or 0  # unknown sizes: at least the last axis
    axes = config.get("axis", -1)
    factor = int(config.get("center", True) is not False) + int(config.get("scale", True) is not False)
    rank = len(sizes) + 1
    total = 1
    for axis in axes if isinstance(axes, list) else [axes]:
        if isinstance(axis, bool) or not isinstance(axis, int) or not -rank < axis < rank or axis % rank == 0:
            return factor * (_int(width) or 0)
        total *= _int(sizes[axis % rank - 1]) or 1
    return factor * total


def _attention_parameters(config: dict[str, Any], query_width: int | None, shapes: list[Any]) -> int:
    """MultiHeadAttention: query, key and value projections (and the optional gate) into
    ``num_heads`` heads of ``key_dim``/``value_dim``, and the output projection back to the query's
    width or ``output_shape``. Inputs in call order: query, value, key (key defaults to value)."""
    widths = [_int(shape[-1]) if shape else None for shape in shapes] or [query_width]
    query = _int(query_width) or widths[0]
    value = widths[1] if len(widths) > 1 else query
    key = widths[2] if len(widths) > 2 else value
    heads, key_dim = _int(config.get("num_heads")), _int(config.get("key_dim"))
    value_dim = _int(config.get("value_dim")) or key_dim
    target = config.get("output_shape")
    out = _product(target) if target not in (None, [], 0) else query
    if not (query and value and key and heads and key_dim and value_dim and out):
        return 0
    bias = config.get("use_bias", True) is not False
    count = heads * (key_dim * (query + key + bias * 2) + value_dim * (value + bias))
    if config.get("use_gate"):
        count += heads * value_dim * (query + bias)
    return count + heads * value_dim * out + bias * out


def _spatial(sizes: list[Any], window: object, strides: object, padding: object,
             dilation: object = 1) -> list[int | None] | None:
    """Output lengths of a convolution or pooling over ``sizes`` (None where unknown)."""
    count = len(sizes)
    windows, strides_, dilations = (_as_tuple(value, count) for value in (window, strides, dilation))
    if windows is None or strides_ is None or dilations is None:
        return None
    out: list[int | None] = []
    for size, k, s, d in zip(sizes, windows, strides_, dilations, strict=False):
        if size is None:
            out.append(None)
        elif padding in ("same", "causal"):  # causal pads the start by the window: as long as "same"
            out.append(-(-size // s))
        else:
            out.append(max(0, (size - (k - 1) * d - 1) // s + 1))
    return out


def _transposed(sizes: list[Any], config: dict[str, Any]) -> list[int | None] | None:
    """Output lengths of a transposed convolution (Keras' ``compute_conv_transpose_output_shape``)."""
    count = len(sizes)
    windows, strides, dilations = (_as_tuple(config.get(key, default), count) for key, default in
                                   (("kernel_size", None), ("strides", 1), ("dilation_rate", 1)))
    extra = config.get("output_padding")
    paddings = None if extra is None else _as_tuple(extra, count, minimum=0)
    if windows is None or strides is None or dilations is None or (extra is not None and paddings is None):
        return None
    out: list[int | None] = []
    for index, (size, k, s, d) in enumerate(zip(sizes, windows, strides, dilations, strict=False)):
        k = (k - 1) * d + 1
        if size is None:
            out.append(None)
        elif paddings is not None:
            out.append((size - 1) * s + (k if config.get("padding", "valid") == "valid" else k % 2) + paddings[index])
        else:
            out.append(size * s if config.get("padding") == "same" else (size - 1) * s + max(k, s))
    return out


def _as_tuple(value: object, count: int, minimum: int = 1) -> tuple[int, ...] | None:
    """A window, stride or dilation (one int, or a list of ``count``) as ``count`` ints of at least
    ``minimum``; None if not."""
    items = value if isinstance(value, list) and len(value) == count else [value] * count
    numbers = [item for item in items if isinstance(item, int) and not isinstance(item, bool) and item >= minimum]
    return tuple(numbers) if len(numbers) == len(items) else None


def _pairs(value: object, count: int) -> list[tuple[int, int]] | None:
    """Cropping or zero padding of ``count`` axes (an int, one per axis, ``(before, after)`` of a
    single axis, or one pair per axis) as ``(before, after)`` pairs; None if not."""
    if isinstance(value, list) and count == 1 and len(value) == 2 and not isinstance(value[0], list):
        value = [value]
    per_axis = value if isinstance(value, list) and len(value) == count else [value] * count
    pairs = [tuple(item) if isinstance(item, list) else (item, item) for item in per_axis]
    if all(len(pair) == 2 and _as_tuple(list(pair), 2, minimum=0) for pair in pairs):
        return [(pair[0], pair[1]) for pair in pairs]
    return None


def _channels(config: dict[str, Any], shape: list[Any]) -> tuple[list[Any], Any, bool]:
    """``(spatial axes, channels, channels_first)`` of an image-like shape without the batch axis."""
    if config.get("data_format") == "channels_first":
        return list(shape[1:]), shape[0], True
    return list(shape[:-1]), shape[-1], False


def _spatial_shape(class_name: str, config: dict[str, Any], shape: list[Any]) -> list[Any] | None:
    """Output shape of the layers that change only the spatial axes (and the channels)."""
    spatial, channels, first = _channels(config, shape)
    sizes: list[Any] | None
    if class_name in WINDOWED:
        conv = "Conv" in class_name
        window = config.get("kernel_size") if conv else config.get("pool_size")
        sizes = _spatial(spatial, window, config.get("strides") or window, config.get("padding", "valid"),
                         config.get("dilation_rate", 1) if conv else 1)
    elif class_name in ("Conv2DTranspose", "Conv3DTranspose"):
        sizes = _transposed(spatial, config)
    elif class_name.startswith(("Cropping", "ZeroPadding")):
        pairs = _pairs(config.get("cropping" if class_name.startswith("Cropping") else "padding"), len(spatial))
        sign = -1 if class_name.startswith("Cropping") else 1
        sizes = None if pairs is None else [None if size is None else size + sign * (before + after)
                                            for size, (before, after) in zip(spatial, pairs, strict=False)]
    else:  # UpSampling
        factors = _as_tuple(config.get("size"), len(spatial))
        sizes = None if factors is None else [None if size is None else size * factor
                                              for size, factor in zip(spatial, factors, strict=False)]
    if sizes is None:
        return None
    if class_name == "DepthwiseConv2D":
        channels = channels * _factor(config.get("depth_multiplier")) if _int(channels) else None
    elif "Conv" in class_name:
        channels = _int(config.get("filters"))
    return [channels, *sizes] if first else [*sizes, channels]


def output_shape(class_name: str | None, config: Any, shapes: list[Any]) -> list[Any] | None:
    """A layer's output shape (without the batch axis) from its input shapes; None where unknown.

    Follows the layers the forms offer (and the wrappers), so that a later layer's weights are
    counted from the real width, e.g. a Dense after Flatten sees every value of its input.
    """
    config = config if isinstance(config, dict) else {}
    shape = shapes[0] if shapes else None
    if shape is None or not isinstance(class_name, str):
        return None
    units = _int(config.get("units"))
    if class_name == "Embedding":
        return [*shape, _int(config.get("output_dim"))]
    if class_name == "Dense":
        return [*shape[:-1], units]
    if class_name == "RNN":  # a cell inside RNN: the cell has the units, the RNN return_sequences
        cell = config.get("cell") if isinstance(config.get("cell"), dict) else {}
        units = _int(cell["config"].get("units")) if isinstance(cell.get("config"), dict) else None
    if class_name in RNN_GATES or class_name == "RNN":
        return [*shape[:-1], units] if config.get("return_sequences") else [units]
    if class_name in WRAPPERS:
        inner = config.get("layer") if isinstance(config.get("layer"), dict) else {}
        if class_name == "TimeDistributed":
            inner_shape = output_shape(inner.get("class_name"), inner.get("config"), [shape[1:]])
            return None if inner_shape is None else [shape[0], *inner_shape]
        result = output_shape(inner.get("class_name"), inner.get("config"), [shape])
        if result and config.get("merge_mode", "concat") == "concat" and result[-1] is not None:
            result[-1] *= 2
        return result
    if class_name == "ConvLSTM2D":  # (time, rows, cols, channels): a Conv2D over each step
        step = _spatial_shape("Conv2D", config, shape[1:])
        return None if step is None else [shape[0], *step] if config.get("return_sequences") else step
    if class_name in WINDOWED or class_name.startswith(("Conv", "Cropping", "ZeroPadding", "UpSampling")):
        return _spatial_shape(class_name, config, shape)
    if class_name.startswith("Global") and "Pooling" in class_name:
        spatial, channels, first = _channels(config, shape)
        if not config.get("keepdims"):
            return [channels]
        return [channels, *[1] * len(spatial)] if first else [*[1] * len(spatial), channels]
    if class_name == "Flatten":
        size = _product(shape)
        return [size] if size else None
    if class_name == "Reshape":
        target = config.get("target_shape")
        return list(target) if isinstance(target, list) and all(_int(item) for item in target) else None
    if class_name == "Permute":
        dims = config.get("dims")
        if isinstance(dims, list) and sorted(dims) == list(range(1, len(shape) + 1)):
            return [shape[dim - 1] for dim in dims]
        return None
    if class_name == "RepeatVector":
        return [_int(config.get("n")), *shape]
    if class_name == "Concatenate":
        axis = config.get("axis", -1)
        if axis != -1 or any(other is None for other in shapes):
            return None
        widths = [other[-1] for other in shapes]
        return [*shape[:-1], sum(widths)] if all(_int(width) for width in widths) else None
    if class_name in SAME_SHAPE:
        return list(shape)
    if class_name == "MultiHeadAttention":
        target = config.get("output_shape")
        target = target if isinstance(target, list) else [target] if target else [shape[-1]]
        return [*shape[:-1], *target]
    if class_name == "Dot":
        return _dot_shape(config.get("axes"), shapes)
    return None


def _dot_shape(axes: object, shapes: list[Any]) -> list[Any] | None:
    """Dot's output: both inputs without their contracted axis (Keras counts the batch axis as 0)."""
    if len(shapes) != 2 or any(shape is None for shape in shapes):
        return None
    pair = axes if isinstance(axes, list) and len(axes) == 2 else [axes, axes]
    result = []
    for shape, axis in zip(shapes, pair, strict=True):
        rank = len(shape) + 1
        if isinstance(axis, bool) or not isinstance(axis, int) or not -rank <= axis < rank or axis % rank == 0:
            return None
        result += [size for index, size in enumerate(shape) if index != axis % rank - 1]
    return result or [1]


def _batchless(shape: object) -> list[Any] | None:
    return list(shape[1:]) if isinstance(shape, list) and shape else None


def _built_shapes(layer: dict[str, Any]) -> list[Any] | None:
    """The input shapes Keras recorded for a built layer (``build_config``), without the batch axis:
    its ``input_shape`` (one, or a list for several inputs), or a ``shapes_dict`` (MultiHeadAttention's
    query, value and key shapes)."""
    build = layer.get("build_config")
    if not isinstance(build, dict):
        return None
    shape = build.get("input_shape")
    if isinstance(build.get("shapes_dict"), dict):
        shape = list(build["shapes_dict"].values())
    if isinstance(shape, list) and shape and isinstance(shape[0], list):
        return [_batchless(item) for item in shape]
    return [_batchless(shape)] if _batchless(shape) is not None else None


def _inbound_names(layer: dict[str, Any]) -> list[str] | None:
    """Names of the layers whose outputs a functional layer takes (its first call), in call order."""
    nodes = layer.get("inbound_nodes")
    if not isinstance(nodes, list) or not nodes or not isinstance(nodes[0], dict):
        return None
    names = []

    def collect(value: object) -> None:
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            history = (value.get("config") or {}).get("keras_history")
            if isinstance(history, list) and history and isinstance(history[0], str):
                names.append(history[0])
        elif isinstance(value, list):
            for item in value:
                collect(item)

    collect(nodes[0].get("args"))
    kwargs = nodes[0].get("kwargs")
    if isinstance(kwargs, dict):  # MultiHeadAttention's value and key may be passed by name
        collect([kwargs.get("value"), kwargs.get("key")])
    return names


def _followed(config: dict[str, Any]) -> Iterator[tuple[str, int, list[Any] | None]]:
    """Each layer of a Keras model config: its name, its estimated weights and its output shape.

    Each layer's input shape is followed from the model's input through every layer (functional
    models through their graph). A crafted file could understate ``build_config``, which Keras
    builds from, or the shapes, so each layer counts the larger of the two estimates.
    """
    config = config if isinstance(config, dict) else {}
    previous = _batchless(config.get("build_input_shape"))
    outputs: dict[str, list[Any] | None] = {}
    for layer in config.get("layers") or []:
        if not isinstance(layer, dict):
            continue
        class_name, layer_config = layer.get("class_name"), layer.get("config") or {}
        weights = 0
        if class_name == "InputLayer":
            shape = _batchless(layer_config.get("batch_shape"))
        else:
            names = _inbound_names(layer)
            shapes = [outputs.get(name) for name in names] if names else [previous]
            built = _built_shapes(layer)
            weights = max(layer_parameters(class_name, layer_config,
                                           input_width(class_name, layer_config, inputs[0] if inputs else None), inputs)
                          for inputs in (shapes, built or [None]))
            shape = output_shape(class_name, layer_config, shapes)
            if shape is None and built is not None:
                shape = output_shape(class_name, layer_config, built)
        name = layer.get("name") or layer_config.get("name")
        if isinstance(name, str):
            outputs[name] = shape
        previous = shape
        yield str(name), weights, shape


def config_parameters(config: dict[str, Any]) -> int:
    """Estimated number of weights of a Keras model config (the ``config`` of a model JSON)."""
    return sum(weights for _, weights, _ in _followed(config))


def check_config_size(config: dict[str, Any], what: str, limit: int | None = None) -> None:
    """Refuse a model config whose weights, or one layer's output for a single sample, exceed the
    job's memory. Layers without weights can still blow up (``RepeatVector(10**9)``, an
    ``UpSampling2D`` of huge factors): Keras would allocate their output at the first batch."""
    limit = available_memory() if limit is None else limit
    check_parameters(config_parameters(config), what, limit)
    for name, _, shape in _followed(config):
        check_output_size(shape, f"{what}: layer {name[:60]!r}", limit)


def check_output_size(shape: object, what: str, limit: int | None = None) -> None:
    """Refuse a layer whose output for one sample (``shape`` without the batch axis) exceeds the job's memory."""
    size = _product(shape) if isinstance(shape, (list, tuple)) and shape else None
    limit = available_memory() if limit is None else limit
    if size and limit and size * BYTES_PER_PARAMETER > limit:
        raise ToolInputError(
            f"{what}: its output has {size:,} values for one sample, {format_bytes(size * BYTES_PER_PARAMETER)} "
            f"as float32, more than the {format_bytes(limit)} of memory available to this job; make the "
            "repetition, upsampling, padding or strides smaller"
        )


def check_parameters(n_parameters: int, what: str, limit: int | None = None) -> None:
    """Refuse ``n_parameters`` weights when 4 bytes each exceed the memory available to the job."""
    limit = available_memory() if limit is None else limit
    needed = n_parameters * BYTES_PER_PARAMETER
    if limit and needed > limit:
        raise ToolInputError(
            f"{what}: the model has about {n_parameters:,} parameters, {format_bytes(needed)} as float32, "
            f"more than the {format_bytes(limit)} of memory available to this job; make the layers "
            "smaller (e.g. the Embedding's input_dim or output_dim, or the units)"
        )
