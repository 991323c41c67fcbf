"""The table of predictions model_prediction writes: its header, its cells and its rows.

One row of predictions per row (or sequence) of the data, or one per variant allele with the VCF's fields first.
Numbers are written by :func:`gxkeras.galaxy.outputs.number_cells` with 6 decimals (the Galaxy-ML tool's format),
class labels as the model holds them, refused when they would break the table's rows or columns.
"""
from collections.abc import Iterable
from typing import IO, Any

import numpy as np

from gxkeras.galaxy.errors import ModelRefused, ToolInputError
from gxkeras.galaxy.outputs import number_cells

PREDICTION_DECIMALS = 6  # the Galaxy-ML tool's, read by the Galaxy tests (0.500000)
VARIANT_COLUMNS = ("chrom", "pos", "name", "ref", "alt", "strand")  # the Galaxy-ML tool's output columns
# What a cell of a tabular output cannot hold: a model's text label with one of them wrote other rows and columns
# than the model predicts (a class "b\nINJECTED" added a row).
CELL_BREAKS = ("\t", "\n", "\r")


def check_cells(cells: Any, label: str) -> Any:
    """Text cells (a model's class labels) that keep the table's rows and columns: no tab or line break
    (``label``: the model's input, named in the refusal)."""
    for cell in np.ravel(cells):
        if any(mark in cell for mark in CELL_BREAKS):
            raise ModelRefused(f"{label}: the class label {cell[:40]!r} holds a tab or a line break, "
                               "which a tabular output cannot hold; the file is refused")
    return cells


def prediction_cells(predicted: Any, label: str) -> np.ndarray:
    """The cells of a chunk of predictions, one row per sample (a model's outputs flattened)."""
    predicted = np.asarray(predicted)
    if predicted.ndim == 1:
        predicted = predicted[:, None]
    predicted = predicted.reshape(len(predicted), -1)
    cells = number_cells(predicted, PREDICTION_DECIMALS)
    return cells if predicted.dtype.kind in "iubf" else check_cells(cells, label)


def prediction_header(estimator: Any, method: str, label: str) -> list[str]:
    """Column names: ``Predicted`` for labels, the class labels for probabilities."""
    if method == "predict_proba":
        return list(check_cells([str(name) for name in estimator.classes_], label))
    units = estimator.model_.output_shape[-1] if hasattr(estimator, "model_") else 1  # scikit-learn: 1
    if hasattr(estimator, "classes_") or units == 1:
        return ["Predicted"]  # one label (or one value) per row; multi-label models give one column each
    return [f"Predicted_{index}" for index in range(units)]


def write_rows(handle: IO[str], cells: Iterable[Iterable[str]]) -> None:
    handle.write("".join("\t".join(row) + "\n" for row in cells))


def write_variant_rows(handle: IO[str], variants: list[Any], indices: range, cells: np.ndarray) -> None:
    """One row per variant allele: its VCF fields (:data:`VARIANT_COLUMNS`) then its predictions; the header first."""
    if indices.start == 0:
        handle.write("\t".join([*VARIANT_COLUMNS, *map(str, range(cells.shape[1]))]) + "\n")
    write_rows(handle, ([*map(str, variants[index]), *row] for index, row in zip(indices, cells, strict=True)))


def check_columns(n_columns: int, shape: tuple[Any, ...], label: str, model_label: str) -> None:
    """One clear error when the data's column count (``label``) is not what the model (``model_label``) takes."""
    if any(dim is None for dim in shape):
        if len(shape) == 1:
            return  # variable-length sequences: any number of columns
        raise ToolInputError(f"{model_label}: the model's input shape {shape} has an unknown dimension")
    expected = int(np.prod(shape))
    if n_columns != expected:
        raise ToolInputError(
            f"{label}: the selected data has {n_columns} columns, but the model expects {expected} "
            f"(input shape {shape}); check the columns selected and the header option"
        )
