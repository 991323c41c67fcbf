"""Small tables of numbers that the plots read: whether line 1 is a header, and headed tables of numbers.

A model's scores (Model Prediction's output), a Keras training history or scikit-learn's learning_curve table:
every value a number, line 1 sometimes a header and sometimes not (the Galaxy-ML tool always took it as one).
"""
import pandas as pd

from gxkeras.galaxy.errors import ToolInputError
from gxkeras.data.lines import bounded_lines
from gxkeras.data.tabular import check_header_names, check_row_lengths


def is_number_text(text: object) -> bool:
    """Whether ``text`` reads as a number (``float`` accepts it): a cell that cannot be a column name."""
    try:
        float(str(text))
    except ValueError:
        return False
    return True


def _data_lines(path: str, label: str) -> int:
    with open(path, "rb") as handle:
        return sum(1 for line in bounded_lines(handle, label) if line.strip())


def has_header(path: str, label: str, data_rows: int | None = None) -> bool:
    """Whether line 1 is a header. The Galaxy-ML tool always took it as one ("headered" tables); a
    line of numbers is data instead when it cannot be column names (fractions, repeated values), or,
    with ``data_rows`` given (the other table's rows), when the file has exactly that many lines."""
    with open(path, "rb") as handle:
        first = next(bounded_lines(handle, label), b"")
    cells = first.decode("utf-8", errors="replace").rstrip("\r\n").split("\t")
    if not all(is_number_text(cell) for cell in cells):
        return True
    if data_rows is not None:
        return _data_lines(path, label) != data_rows
    try:
        check_header_names(cells, label)
    except ToolInputError:
        return False
    return True


def read_numeric_table(path: str, label: str) -> pd.DataFrame:
    """A table with a header line whose every column holds numbers (a history, a learning_curve output)."""
    check_row_lengths(path, label)  # a readable UTF-8 table before pandas sees it
    try:
        frame = pd.read_csv(path, sep="\t")
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as error:
        raise ToolInputError(f"{label}: not a tab-separated table with a header ({error})") from None
    if frame.empty:
        raise ToolInputError(f"{label}: no rows: expected a header line, then one row per epoch or training size")
    frame.columns = [str(name).strip() for name in frame.columns]
    for name in frame.columns:
        numbers = pd.to_numeric(frame[name], errors="coerce")
        if numbers.isna().any():
            row = int(numbers.isna().to_numpy().argmax())
            raise ToolInputError(f"{label}: line {row + 2}, column {name} is '{frame[name].iloc[row]}', expected a number")
        frame[name] = numbers
    return frame
