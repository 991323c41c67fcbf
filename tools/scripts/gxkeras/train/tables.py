"""The trainer's tabular outputs (metrics, history, true and predicted values) and its one number format."""
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from gxkeras.galaxy.outputs import atomic_output


def format_value(value: object) -> str:
    """A cell as the trainer writes and prints it: floats with 6 significant digits, ints whole."""
    if isinstance(value, (float, np.floating)):
        return "nan" if np.isnan(value) else f"{float(value):.6g}"
    if isinstance(value, (np.integer, int)):
        return str(int(value))
    return str(value)


def write_table(path: str, header: Sequence[str], rows: Iterable[Iterable[Any]]) -> None:
    """A tab-separated table with a header line, written through ``<path>.part``."""
    with atomic_output(path) as handle:
        handle.write("\t".join(header) + "\n")
        for row in rows:
            handle.write("\t".join(format_value(value) for value in row) + "\n")
