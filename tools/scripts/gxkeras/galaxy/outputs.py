"""Writing a tool's outputs so that a failed job never leaves one that looks valid.

Every output is written to ``<path>.part`` and renamed onto ``path`` only when it is complete
(:func:`atomic_output`); :func:`gxkeras.galaxy.errors.run_tool` removes the outputs of a job that failed.

Numbers in the tables the tools write have one writer (:func:`number_text`, :func:`number_cells`): whole numbers
as such, NaN as ``nan``, other numbers with 6 significant digits (a history's learning rate 0.0025 stays
``0.0025``), or with the fixed decimals a table has always had and its Galaxy tests read: predictions 6
(``0.500000``, as the Galaxy-ML tool wrote them: a column of probabilities lines up), ratios of a metrics table 4.
"""
import contextlib
import os
import shutil
from collections.abc import Iterator
from typing import IO, Any


@contextlib.contextmanager
def atomic_output(path: str, binary: bool = False) -> Iterator[IO[Any]]:
    """An open ``<path>.part`` (text in UTF-8, or ``binary``), renamed onto ``path`` when the block ends
    without an exception, removed when it raises."""
    partial = f"{path}.part"
    try:
        with open(partial, "wb") if binary else open(partial, "w", encoding="utf-8") as handle:
            yield handle
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def move_into_place(source: str, path: str) -> None:
    """A finished file (written elsewhere, e.g. by the contained process) moved onto ``path`` through
    ``<path>.part``: across file systems it is copied first, so ``path`` never holds half of it."""
    shutil.move(source, f"{path}.part")
    os.replace(f"{path}.part", path)


SIGNIFICANT_DIGITS = 6  # a number in a table, unless the table fixes its decimals


def _number_format(decimals: int | None) -> str:
    return f"%.{SIGNIFICANT_DIGITS}g" if decimals is None else f"%.{decimals}f"


def number_text(value: object, decimals: int | None = None) -> str:
    """One table cell: an int (or numpy integer, or bool) as a whole number, a float with
    :data:`SIGNIFICANT_DIGITS` significant digits (or ``decimals`` decimals), NaN as ``nan``, anything else
    as ``str``."""
    import numpy as np  # here, not at import: the contained process locks itself down before numpy starts threads

    if isinstance(value, (float, np.floating)):
        return "nan" if np.isnan(value) else _number_format(decimals) % float(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value)


def number_cells(values: Any, decimals: int | None = None) -> Any:
    """The cells of an array at once (a chunk of predictions), as :func:`number_text` writes each (a numpy array
    of str)."""
    import numpy as np

    values = np.asarray(values)
    if values.dtype.kind == "f":
        return np.char.mod(_number_format(decimals), values)  # NaN: "nan"
    return values.astype(str)  # whole numbers as such; a model's class labels as they are
