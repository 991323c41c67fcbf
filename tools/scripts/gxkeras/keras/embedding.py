"""Word indices for a model that starts with an Embedding layer (the IMDB tutorial's models).

Training and prediction check their data the same way, with the same message: an index outside
``0..input_dim - 1`` makes TensorFlow fail with an error that names neither the file nor the cell.
"""
from typing import Any

import numpy as np

from gxkeras.galaxy.errors import ToolInputError


def embedding_input_dim(config: dict[str, Any] | None) -> int | None:
    """``input_dim`` of the model's first layer (after its InputLayer) when it is an Embedding, else None."""
    layers = [layer for layer in (config or {}).get("layers") or [] if layer.get("class_name") != "InputLayer"]
    if layers and layers[0].get("class_name") == "Embedding":
        return layers[0].get("config", {}).get("input_dim")
    return None


def check_word_indices(values: np.ndarray, input_dim: int, label: str, first_line: int, why: str | None = None) -> None:
    """Every value must be a whole number in ``[0, input_dim)``; ``first_line`` is the file line of row 0.

    ``values`` are the selected columns, one row per sample (any further axes are flattened); the
    error gives the line in the file and the column among the selected ones, counted from 1. ``why``
    says where ``input_dim`` comes from (default: the model's Embedding).
    """
    flat = np.asarray(values).reshape(len(values), -1)
    bad = (flat < 0) | (flat >= input_dim) | (flat != np.round(flat))
    if bad.any():
        row, column = np.argwhere(bad)[0]
        value = flat[row, column]
        shown = f"{int(value)}" if value == np.round(value) else f"{value:g}"
        why = why or f"the model starts with an Embedding of input_dim {input_dim}"
        raise ToolInputError(f"{label}: line {first_line + row}, selected column {column + 1} is {shown}; {why}, so "
                             f"every value must be a word index 0..{input_dim - 1}")
