"""A model architecture diagram from a Keras model configuration (JSON), drawn without graphviz.

The Galaxy-ML tool drew it with ``keras.utils.plot_model``, which needs the graphviz binaries (not
installable the way Galaxy installs a tool's requirements) and builds the model first. Here the JSON
is only read (never deserialised into a model, never evaluated): each layer becomes a box
``name (ClassName)`` with its main settings, and the arrows follow the model's wiring: the layer order
of a Sequential model, the ``inbound_nodes`` of a functional one (Keras 3 ``keras_history`` records
and the Keras 2 ``[name, node, tensor, kwargs]`` lists alike).
"""
import os
from typing import Any

from gxkeras.galaxy import forms, safe_json
from gxkeras.galaxy.errors import ToolInputError
from gxkeras.report.figures import pyplot, save_image

LABEL = forms.label("ml_visualization_ex", "infile_model_config")
# the settings shown under a layer's name, when it has them
SHOWN = ("units", "filters", "kernel_size", "pool_size", "rate", "output_dim", "input_dim", "activation",
         "batch_shape", "batch_input_shape", "target_shape", "axis", "num_heads", "key_dim")
MAX_LAYERS = 200


Node = tuple[str, str, str]  # (layer name, class name, details)
Edge = tuple[str, str]  # (from, to)


def read_layers(path: str | os.PathLike[str]) -> tuple[str, list[Node], list[Edge]]:
    """``(model name, [(layer name, class name, details), ...], [(from, to), ...])`` of the model JSON."""
    try:
        with open(path, "rb") as handle:
            text = handle.read()
    except OSError as error:
        raise ToolInputError(f"{LABEL}: cannot be read ({error.strerror})") from None
    model = safe_json.loads(text, LABEL, "a Keras model configuration (JSON)")
    config = model.get("config") if isinstance(model, dict) else None
    if not isinstance(config, dict):  # then there are no layers either: refused just below
        config = {}
    layers = config.get("layers")
    if not isinstance(layers, list) or not layers:
        raise ToolInputError(f"{LABEL}: no 'config' with 'layers': expected a Keras model configuration "
                             "(the output of keras_model_config)")
    if len(layers) > MAX_LAYERS:
        raise ToolInputError(f"{LABEL}: {len(layers)} layers, more than the {MAX_LAYERS} a diagram can show")
    nodes: list[Node] = []
    edges: list[Edge] = []
    for index, layer in enumerate(layers):
        if not isinstance(layer, dict) or not isinstance(layer.get("config", {}), dict):
            raise ToolInputError(f"{LABEL}: layer {index + 1} is not a layer configuration (an object)")
        settings = layer.get("config", {})
        name = str(settings.get("name") or layer.get("name") or f"layer_{index + 1}")
        details = ", ".join(f"{key}={_short(settings[key])}" for key in SHOWN if settings.get(key) is not None)
        nodes.append((name, str(layer.get("class_name", "?")), details))
        if "inbound_nodes" in layer:
            edges += [(source, name) for source in _inbound_names(layer["inbound_nodes"])]
    if not edges:  # Sequential: each layer feeds the next
        edges = [(nodes[i][0], nodes[i + 1][0]) for i in range(len(nodes) - 1)]
    names = {node[0] for node in nodes}
    unknown = sorted({source for source, _ in edges if source not in names})
    if unknown:
        raise ToolInputError(f"{LABEL}: inbound layer {unknown[0]!r} is not a layer of this model")
    return str(config.get("name") or model.get("class_name") or "model"), nodes, edges


def _inbound_names(value: Any) -> list[str]:
    """The names of the layers a layer reads from, in any of the formats Keras 2 and 3 save."""
    if isinstance(value, dict):
        history = value.get("keras_history")
        if isinstance(history, list) and history and isinstance(history[0], str):
            return [history[0]]
        return [name for item in value.values() for name in _inbound_names(item)]
    if isinstance(value, list):
        if len(value) >= 3 and isinstance(value[0], str) and isinstance(value[1], int):
            return [value[0]]
        return [name for item in value for name in _inbound_names(item)]
    return []


def _short(value: object) -> str:
    text = str(value).replace("None", "?")
    return text if len(text) <= 24 else text[:21] + "..."


def _levels(nodes: list[Node], edges: list[Edge]) -> dict[str, int]:
    """Each layer's row: one below the lowest of the layers it reads from (inputs on top)."""
    level = {name: 0 for name, _, _ in nodes}
    for _ in range(len(nodes)):  # at most one pass per layer; a cycle cannot raise a level forever
        changed = False
        for source, target in edges:
            if level[target] < level[source] + 1:
                level[target] = level[source] + 1
                changed = True
        if not changed:
            return level
    raise ToolInputError(f"{LABEL}: the layers' inbound nodes form a cycle: not a model")


def draw_diagram(config_path: str | os.PathLike[str], title: str | None, image_format: str,
                 path: str | os.PathLike[str]) -> None:
    """Draw the model of ``config_path`` as ``image_format`` (png or svg) to ``path``."""
    model_name, nodes, edges = read_layers(config_path)
    level = _levels(nodes, edges)
    rows = max(level.values()) + 1
    by_row: dict[int, list[str]] = {}
    for name, _, _ in nodes:
        by_row.setdefault(level[name], []).append(name)
    width = max(6.4, 2.6 * max(len(names) for names in by_row.values()))
    figure = pyplot().figure(figsize=(width, 0.9 * rows + 1.0), dpi=100)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, 1)
    axes.set_ylim(rows + 0.2, -0.8)
    axes.axis("off")
    position: dict[str, tuple[float, int]] = {}
    for row, names in by_row.items():
        for index, name in enumerate(names):
            position[name] = ((index + 1) / (len(names) + 1), row)
    for source, target in edges:
        axes.annotate("", xy=(position[target][0], position[target][1] - 0.28),
                      xytext=(position[source][0], position[source][1] + 0.28),
                      arrowprops={"arrowstyle": "->", "color": "0.3"})
    for name, class_name, details in nodes:
        x, y = position[name]
        text = f"{name} ({class_name})" + (f"\n{details}" if details else "")
        axes.text(x, y, text, ha="center", va="center", fontsize=8, parse_math=False,
                  bbox={"boxstyle": "round,pad=0.4", "facecolor": "#dbe9f6", "edgecolor": "#3a6ea5"})
    heading = "".join(char for char in str(title or "") if char.isprintable()).strip() or model_name
    axes.text(0.5, -0.55, heading, ha="center", va="center", fontsize=11, parse_math=False)
    print(f"Title: {heading!r}")
    save_image(figure, image_format, path, dpi=100)
    print(f"{len(nodes)} layers, {len(edges)} connections")
