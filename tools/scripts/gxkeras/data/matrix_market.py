"""The Galaxy-ML tools' "sparse matrix" input: a MatrixMarket file (``.mtx``), read with scipy.

The old tools read it with ``scipy.io.mmread`` and handed the sparse matrix to the model. Keras 3
models (and the scikit-learn models galaxy-ml saves) take dense arrays here, so the matrix is made
dense, one row per sample. Before anything is parsed, the header and size line are read
(``scipy.io.mminfo``, a few bytes) and the dense table's size is checked against the job's memory
(:func:`gxkeras.galaxy.memory.available_memory`), the same budget as a model file's arrays get: a size
line of 10^6 x 10^6 is one error line, not an out-of-memory kill.
"""
from collections.abc import Iterator
from typing import Any

import numpy as np

from gxkeras.galaxy.errors import ToolInputError, first_line
from gxkeras.galaxy.inputs import check_dataset_path
from gxkeras.galaxy.memory import NO_LIMIT, available_memory, format_bytes

BANNER = b"%%MatrixMarket"
FORMATS = ("coordinate", "array")
FIELDS = ("real", "integer", "pattern")
SYMMETRIES = ("general", "symmetric", "skew-symmetric")
# Reading a coordinate file holds each entry's row, column and value (8 bytes each) before densifying.
BYTES_PER_ENTRY = 24


def matrix_info(path: str, label: str) -> tuple[int, int, int, str, str, str]:
    """The header and size line: (rows, columns, stored entries, format, field, symmetry), checked."""
    check_dataset_path(path, label)
    with open(path, "rb") as handle:
        banner = handle.read(len(BANNER))
    if banner != BANNER:
        raise ToolInputError(f"{label} ({path}): not a MatrixMarket file: its first line must start with "
                             "%%MatrixMarket, e.g. '%%MatrixMarket matrix coordinate real general'")
    from scipy.io import mminfo

    try:
        rows, columns, entries, layout, field, symmetry = mminfo(path)
    except (ValueError, TypeError, IndexError, OSError, UnicodeDecodeError) as error:
        raise ToolInputError(f"{label} ({path}): the MatrixMarket header or size line is not valid: "
                             f"{first_line(error)[:200]}") from None
    if layout not in FORMATS or field not in FIELDS or symmetry not in SYMMETRIES:
        raise ToolInputError(f"{label} ({path}): a MatrixMarket '{layout} {field} {symmetry}' matrix; expected "
                             f"{' or '.join(FORMATS)} of {', '.join(FIELDS)} values ({', '.join(SYMMETRIES)})")
    if rows < 1 or columns < 1:
        raise ToolInputError(f"{label} ({path}): the matrix is {rows} x {columns}; it needs at least one row "
                             "(sample) and one column (feature)")
    return rows, columns, entries, layout, field, symmetry


def read_matrix_market(path: str, label: str, limit: int | None = None) -> np.ndarray:
    """The matrix as a dense array (int64 for an integer matrix, float64 otherwise), rows = samples.

    ``limit`` is the job's memory in bytes (default: :func:`available_memory`); the dense table and
    the entries read must fit in half of it.
    """
    rows, columns, entries, layout, field, symmetry = matrix_info(path, label)
    dtype = np.dtype(np.int64 if field == "integer" else np.float64)
    needed = rows * columns * dtype.itemsize + (entries * BYTES_PER_ENTRY * (1 if symmetry == "general" else 2)
                                                if layout == "coordinate" else 0)
    limit = (available_memory() or NO_LIMIT) if limit is None else limit
    if needed > limit // 2:
        raise ToolInputError(f"{label} ({path}): a {rows:,} x {columns:,} matrix needs {format_bytes(needed)} as a "
                             f"dense table, more than half of the {format_bytes(limit)} of memory available to this "
                             "job; select fewer samples or features")
    from scipy.io import mmread

    try:
        matrix: Any = mmread(path, spmatrix=False)  # a sparse array (or a dense one for the array layout)
    except (ValueError, TypeError, IndexError, OverflowError, OSError, UnicodeDecodeError, RuntimeError) as error:
        raise ToolInputError(f"{label} ({path}): cannot read the MatrixMarket entries: {first_line(error)[:200]}") \
            from None
    values = np.asarray(matrix.toarray() if hasattr(matrix, "toarray") else matrix)
    if values.shape != (rows, columns) or values.dtype.kind not in "biuf":
        raise ToolInputError(f"{label} ({path}): the entries do not make the {rows} x {columns} matrix of numbers "
                             "that the size line announces")
    values = values.astype(dtype, copy=False)
    bad = np.argwhere(~np.isfinite(values)) if values.dtype.kind == "f" else np.empty((0, 2), dtype=np.intp)
    if len(bad):
        row, column = (int(index) + 1 for index in bad[0])
        raise ToolInputError(f"{label} ({path}): entry ({row}, {column}) is {values[row - 1, column - 1]}, expected "
                             "a finite number")
    return values


def matrix_chunks(values: np.ndarray, chunk_rows: int) -> Iterator[tuple[np.ndarray, list[str]]]:
    """A dense matrix's rows in chunks, as :func:`gxkeras.data.tabular.iter_tabular` gives a table's (no names)."""
    for start in range(0, len(values), chunk_rows):
        yield values[start:start + chunk_rows], []
