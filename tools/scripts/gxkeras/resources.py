"""Refusing models too large for the machine before Keras allocates them.

A form value or a JSON from someone else's history can ask for an ``Embedding(10**8, 10**4)``:
4 TB of weights. TensorFlow would try to allocate it and the job would die from the kernel's OOM
killer (or take the node with it) with no useful message. Here the number of parameters is
estimated from the layer settings alone (no Keras object is built), multiplied by 4 bytes
(float32) and compared with the memory available to the job.
"""
import os

from gxkeras.errors import ToolInputError

BYTES_PER_PARAMETER = 4  # float32 weights
# Gates per recurrent cell: each has a kernel (input x units), a recurrent kernel and a bias.
RNN_GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}
# For tests and administrators: a fixed limit in bytes instead of the machine's available memory.
LIMIT_VARIABLE = "GXKERAS_MEMORY_LIMIT_BYTES"


def available_memory():
    """Bytes of memory this job may use: GXKERAS_MEMORY_LIMIT_BYTES, else MemAvailable, else RAM."""
    override = os.environ.get(LIMIT_VARIABLE, "").strip()
    if override.isdigit():
        return int(override)
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _product(values):
    total = 1
    for value in values if isinstance(values, (list, tuple)) else [values]:
        if _int(value) is None:
            return None
        total *= value
    return total


def layer_parameters(class_name, config, input_width):
    """Weights of one layer from its Keras arguments and the size of its input's last axis.

    ``input_width`` may be None when it is unknown; only the Embedding needs none. Layers without
    weights (or not known here) count 0.
    """
    config = config if isinstance(config, dict) else {}
    if class_name == "Embedding":
        input_dim, output_dim = _int(config.get("input_dim")), _int(config.get("output_dim"))
        return input_dim * output_dim if input_dim and output_dim else 0
    if class_name == "Bidirectional":
        inner = config.get("layer") or {}
        inner_config = inner.get("config") if isinstance(inner, dict) else None
        return 2 * layer_parameters(inner.get("class_name") if isinstance(inner, dict) else None,
                                    inner_config, input_width)
    width = _int(input_width)
    if width is None:
        return 0
    units = _int(config.get("units"))
    if class_name == "Dense" and units:
        return width * units + units
    if class_name in RNN_GATES and units:
        biases = 2 if class_name == "GRU" else 1  # Keras 3's GRU has reset_after=True: two biases
        return RNN_GATES[class_name] * (units * (width + units) + biases * units)
    if class_name in ("Conv1D", "Conv2D", "Conv3D"):
        filters, kernel = _int(config.get("filters")), _product(config.get("kernel_size"))
        return kernel * width * filters + filters if filters and kernel else 0
    if class_name in ("BatchNormalization", "LayerNormalization"):
        return 4 * width
    return 0


def output_width(class_name, config, input_width):
    """The last axis of a layer's output where the layer sets it, else its input's (a fallback)."""
    config = config if isinstance(config, dict) else {}
    if class_name == "Embedding":
        return _int(config.get("output_dim"))
    if class_name == "Bidirectional":
        inner = (config.get("layer") or {}).get("config") or {}
        units = _int(inner.get("units"))
        return units and (2 * units if config.get("merge_mode", "concat") == "concat" else units)
    if _int(config.get("units")):
        return config["units"]
    if _int(config.get("filters")):
        return config["filters"]
    if class_name in ("Flatten", "Reshape", "Concatenate"):
        return None  # the width depends on shapes this estimate does not follow
    return input_width


def _width_from_shape(shape):
    if isinstance(shape, list) and shape and isinstance(shape[0], list):
        shape = shape[0]  # a layer with several inputs: the first one's width is a fair guess
    return _int(shape[-1]) if isinstance(shape, list) and shape else None


def config_parameters(config):
    """Estimated number of weights of a Keras model config (the ``config`` of a model JSON).

    Each layer's input width comes from its ``build_config`` (Keras 3 records the input shape of
    built layers), else from the previous layer's output.
    """
    total, width = 0, None
    for layer in (config or {}).get("layers") or []:
        if not isinstance(layer, dict):
            continue
        class_name, layer_config = layer.get("class_name"), layer.get("config") or {}
        if class_name == "InputLayer":
            width = _width_from_shape(layer_config.get("batch_shape"))
            continue
        build = layer.get("build_config") or {}
        known = _width_from_shape(build.get("input_shape")) if isinstance(build, dict) else None
        width = known or width
        total += layer_parameters(class_name, layer_config, width)
        width = output_width(class_name, layer_config, width)
    return total


def check_parameters(n_parameters, what, limit=None):
    """Refuse ``n_parameters`` weights when 4 bytes each exceed the memory available to the job."""
    limit = available_memory() if limit is None else limit
    needed = n_parameters * BYTES_PER_PARAMETER
    if limit and needed > limit:
        raise ToolInputError(
            f"{what}: the model has about {n_parameters:,} parameters, {format_bytes(needed)} as float32, "
            f"more than the {format_bytes(limit)} of memory available to this job; make the layers "
            "smaller (e.g. the Embedding's input_dim or output_dim, or the units)"
        )
    return needed


def format_bytes(count):
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if count < 1024 or unit == "TB":
            return f"{count:,.0f} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1024
    return f"{count:,.1f} TB"
