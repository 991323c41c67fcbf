"""Refusing models too large for the machine before Keras allocates them.

A form value or a JSON from someone else's history can ask for an ``Embedding(10**8, 10**4)``:
4 TB of weights. TensorFlow would try to allocate it and the job would die from the kernel's OOM
killer (or take the node with it) with no useful message. Here the number of parameters is
estimated from the layer settings alone (no Keras object is built), multiplied by 4 bytes
(float32) and compared with the memory available to the job. Layers without weights can ask for as
much (``RepeatVector(10**9)``, ``UpSampling2D`` by huge factors): each layer's output for one sample,
followed through the model's shapes, must fit too.
"""
from collections.abc import Iterator
from typing import Any

from gxkeras.galaxy.errors import ToolInputError
from gxkeras.galaxy.memory import available_memory, format_bytes
from gxkeras.keras.layer_shapes import output_shape, product
from gxkeras.keras.layer_weights import input_width, layer_parameters

BYTES_PER_PARAMETER = 4  # float32 weights


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
    size = product(shape) if isinstance(shape, (list, tuple)) and shape else None
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
