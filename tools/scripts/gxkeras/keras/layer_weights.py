"""The weights of one Keras layer, from its arguments and the shape of its input (no Keras object built)."""
from typing import Any

from gxkeras.keras.layer_shapes import CONVOLUTIONS, RNN_CELLS, RNN_GATES, WRAPPERS, multiplier, positive_int, product


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
        input_dim, output_dim = positive_int(config.get("input_dim")), positive_int(config.get("output_dim"))
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
    width = positive_int(input_width)
    if class_name in ("PReLU", "LayerNormalization"):
        return _shape_parameters(class_name, config, width, shapes[0] if shapes else None)
    if width is None:
        return 0
    units = positive_int(config.get("units"))
    if class_name == "Dense" and units:
        return width * units + units
    if class_name in RNN_GATES and units:
        biases = 2 if class_name == "GRU" else 1  # Keras 3's GRU has reset_after=True: two biases
        return RNN_GATES[class_name] * (units * (width + units) + biases * units)
    filters, kernel = positive_int(config.get("filters")), product(config.get("kernel_size"))
    if class_name in CONVOLUTIONS and filters and kernel:
        groups = multiplier(config.get("groups"))
        return kernel * (width // groups if width % groups == 0 else width) * filters + _bias(config, filters)
    if class_name in ("SeparableConv1D", "SeparableConv2D") and filters and kernel:
        depth = width * multiplier(config.get("depth_multiplier"))  # a depthwise then a 1x1 pointwise kernel
        return kernel * depth + depth * filters + _bias(config, filters)
    if class_name == "DepthwiseConv2D" and kernel:
        depth = width * multiplier(config.get("depth_multiplier"))
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
        return product([size if index + 1 not in shared else 1 for index, size in enumerate(sizes)]) \
            or positive_int(width) or 0  # unknown sizes: at least the last axis
    axes = config.get("axis", -1)
    factor = int(config.get("center", True) is not False) + int(config.get("scale", True) is not False)
    rank = len(sizes) + 1
    total = 1
    for axis in axes if isinstance(axes, list) else [axes]:
        if isinstance(axis, bool) or not isinstance(axis, int) or not -rank < axis < rank or axis % rank == 0:
            return factor * (positive_int(width) or 0)
        total *= positive_int(sizes[axis % rank - 1]) or 1
    return factor * total


def _attention_parameters(config: dict[str, Any], query_width: int | None, shapes: list[Any]) -> int:
    """MultiHeadAttention: query, key and value projections (and the optional gate) into
    ``num_heads`` heads of ``key_dim``/``value_dim``, and the output projection back to the query's
    width or ``output_shape``. Inputs in call order: query, value, key (key defaults to value)."""
    widths = [positive_int(shape[-1]) if shape else None for shape in shapes] or [query_width]
    query = positive_int(query_width) or widths[0]
    value = widths[1] if len(widths) > 1 else query
    key = widths[2] if len(widths) > 2 else value
    heads, key_dim = positive_int(config.get("num_heads")), positive_int(config.get("key_dim"))
    value_dim = positive_int(config.get("value_dim")) or key_dim
    target = config.get("output_shape")
    out = product(target) if target not in (None, [], 0) else query
    if not (query and value and key and heads and key_dim and value_dim and out):
        return 0
    bias = config.get("use_bias", True) is not False
    count = heads * (key_dim * (query + key + bias * 2) + value_dim * (value + bias))
    if config.get("use_gate"):
        count += heads * value_dim * (query + bias)
    return count + heads * value_dim * out + bias * out
