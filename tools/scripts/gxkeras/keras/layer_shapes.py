"""Shape arithmetic of a Keras model config, layer kind by layer kind: each layer's output shape (without
the batch axis) from its arguments and its input shapes, no Keras object built.

:mod:`gxkeras.keras.config_size` follows these shapes through a model to estimate its weights
(:mod:`gxkeras.keras.layer_weights`) and each layer's output for one sample.
"""
import math
from typing import Any

# Gates per recurrent cell: each has a kernel (input x units), a recurrent kernel and a bias.
RNN_GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}
# The cells of the recurrent layers: the config tool runs one inside ``keras.layers.RNN`` (whose
# config holds it as "cell"), with the weights of the layer of the same name.
RNN_CELLS = {"SimpleRNNCell": "SimpleRNN", "GRUCell": "GRU", "LSTMCell": "LSTM"}
# Layers that wrap another and how many copies of its weights they hold.
WRAPPERS = {"Bidirectional": 2, "TimeDistributed": 1}


def positive_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def product(values: object) -> int | None:
    """The product of one positive int or a list of them; None if any is not one."""
    total = 1
    for value in values if isinstance(values, (list, tuple)) else [values]:
        number = positive_int(value)
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


def multiplier(value: object) -> int:
    """A multiplier such as ``depth_multiplier`` or ``groups``: Keras refuses what is not a positive int,
    so anything else counts as 1 (a float is rounded up: never fewer weights than Keras would make)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 1 <= value < math.inf:
        return 1
    return math.ceil(value)


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
        channels = channels * multiplier(config.get("depth_multiplier")) if positive_int(channels) else None
    elif "Conv" in class_name:
        channels = positive_int(config.get("filters"))
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
    units = positive_int(config.get("units"))
    if class_name == "Embedding":
        return [*shape, positive_int(config.get("output_dim"))]
    if class_name == "Dense":
        return [*shape[:-1], units]
    if class_name == "RNN":  # a cell inside RNN: the cell has the units, the RNN return_sequences
        cell = config.get("cell") if isinstance(config.get("cell"), dict) else {}
        units = positive_int(cell["config"].get("units")) if isinstance(cell.get("config"), dict) else None
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
        size = product(shape)
        return [size] if size else None
    if class_name == "Reshape":
        target = config.get("target_shape")
        return list(target) if isinstance(target, list) and all(positive_int(item) for item in target) else None
    if class_name == "Permute":
        dims = config.get("dims")
        if isinstance(dims, list) and sorted(dims) == list(range(1, len(shape) + 1)):
            return [shape[dim - 1] for dim in dims]
        return None
    if class_name == "RepeatVector":
        return [positive_int(config.get("n")), *shape]
    if class_name == "Concatenate":
        axis = config.get("axis", -1)
        if axis != -1 or any(other is None for other in shapes):
            return None
        widths = [other[-1] for other in shapes]
        return [*shape[:-1], sum(widths)] if all(positive_int(width) for width in widths) else None
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
