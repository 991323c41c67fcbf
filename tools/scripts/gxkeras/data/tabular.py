"""Reading Galaxy tabular datasets into numeric arrays, with the forms' header flag and column selector.

Every tool that takes X or y offers the same choices (see the ``tabular_input`` macro in
``tools/macros.xml``): whether the first line is a header, and which columns to use. Errors name the
dataset by its form label and give the file's line and column, counted from 1 as a spreadsheet would.
"""
import csv
import re
from collections.abc import Iterator
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from gxkeras.galaxy.errors import ToolInputError
from gxkeras.galaxy.inputs import check_dataset_path
from gxkeras.data.lines import bounded_lines
from gxkeras.galaxy.memory import check_allocation
from gxkeras.galaxy.values import parse_int

COLUMN_OPTIONS = (
    "all_columns",
    "by_index_number",
    "all_but_by_index_number",
    "by_header_name",
    "all_but_by_header_name",
)


# A column number is an int32 (far more columns than a line may hold); beyond, it is refused as malformed.
MAX_COLUMN_NUMBER = 2 ** 31 - 1


def _parse_indices(columns: object, label: str, n_columns: int) -> list[int]:
    """Galaxy gives column numbers as a list or a comma string, counted from 1."""
    items = columns if isinstance(columns, list) else str(columns or "").split(",")
    indices = []
    for item in items:
        index = parse_int(item if isinstance(item, int) else str(item).strip(), f"{label}: column", 0,
                          MAX_COLUMN_NUMBER)
        if not 1 <= index <= n_columns:
            raise ToolInputError(f"{label}: column {index} does not exist: the data has {n_columns} columns")
        indices.append(index - 1)
    if not indices:
        raise ToolInputError(f"{label}: no column selected")
    return indices


def _parse_names(columns: object, label: str, names: list[str]) -> list[int]:
    wanted = [name.strip() for name in str(columns or "").split(",") if name.strip()]
    if not wanted:
        raise ToolInputError(f"{label}: no column name given")
    missing = [name for name in wanted if name not in names]
    if missing:
        raise ToolInputError(f"{label}: no column named {', '.join(missing)} in the header ({', '.join(names)})")
    return [names.index(name) for name in wanted]


def select_columns(names: list[str], option: str | None, columns: object, label: str, header: bool) -> list[int]:
    """Indices (0-based) of the columns the user chose, in the order the data has them."""
    n_columns = len(names)
    if option in (None, "", "all_columns"):
        return list(range(n_columns))
    if option not in COLUMN_OPTIONS:
        raise ToolInputError(f"{label}: unknown column selection '{option}'")
    if option.endswith("header_name"):
        if not header:
            raise ToolInputError(f"{label}: selecting columns by header name needs a dataset with a header")
        chosen = _parse_names(columns, label, names)
    else:
        chosen = _parse_indices(columns, label, n_columns)
    if option.startswith("all_but"):
        chosen = [index for index in range(n_columns) if index not in chosen]
        if not chosen:
            raise ToolInputError(f"{label}: the selection leaves no column")
    return sorted(set(chosen))


# float64 holds every whole number up to 2**53 exactly; beyond, neighbours merge, and a cast to int64 wraps
# round past 2**63 (1e300 and 2e300 both become -2**63).
EXACT_WHOLE = 2 ** 53


def as_whole_numbers(values: Any) -> np.ndarray:
    """``values`` as int64 when every one is a whole number that float64 holds exactly, else as they are:
    for labels and class indices read as floats (``1.0``), never wrapped round by the cast."""
    values = np.asarray(values)
    if (values.dtype.kind == "f" and values.size and np.isfinite(values).all() and np.all(np.mod(values, 1) == 0)
            and np.abs(values).max() <= EXACT_WHOLE):
        return values.astype("int64")
    return values


def _first_bad_cell(frame: pd.DataFrame, header: bool) -> tuple[int, int, Any]:
    """(line, column, text) of the first cell that is not a finite number (the caller found one)."""
    for position, name in enumerate(frame.columns):
        numbers = pd.to_numeric(frame[name], errors="coerce")
        bad = ~np.isfinite(numbers.to_numpy(dtype="float64", na_value=np.nan))
        if bad.any():
            row = int(np.argmax(bad))
            line = row + 1 + (1 if header else 0)
            return line, position + 1, frame[name].iloc[row]
    raise RuntimeError("_first_bad_cell: every cell is a finite number")  # a bug in the caller, not bad input


def _read_frames(path: str, label: str, header: bool, chunk_rows: int | None = None, as_text: bool = False,
                 **window: Any) -> Any:
    """pandas' C reader of the table, whole or in chunks of ``chunk_rows`` rows (``window``: skiprows, nrows).

    By default pandas parses the numbers itself (fast: about 1 s for 25,000 x 500 word indices); a
    blank, ``nan`` or ``inf`` cell becomes a non-finite float and a word makes its column text, which
    :func:`_numbers` refuses. ``as_text`` keeps every cell as written, for the error message that
    names the first bad one (about ten times slower, so only on that path).
    """
    options = {"dtype": str, "keep_default_na": False} if as_text else {"low_memory": False}
    try:
        return pd.read_csv(path, sep="\t", header=0 if header else None, quoting=csv.QUOTE_NONE, engine="c",
                           chunksize=chunk_rows, **options, **window)
    except pd.errors.EmptyDataError:
        raise ToolInputError(f"{label} ({path}): the dataset is empty, expected tab-separated numbers") from None
    except pd.errors.ParserError as error:
        _raise_parser_error(error, label)


def _numbers(frame: pd.DataFrame, chosen: list[int]) -> np.ndarray | None:
    """The chosen columns as an array when pandas parsed them all as finite numbers, else None."""
    part = frame.iloc[:, chosen]
    if not all(dtype.kind in "iuf" for dtype in part.dtypes):
        return None
    values = part.to_numpy()
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        return None
    return values


def _text_values(path: str, label: str, header: bool, chosen: list[int], first_row: int, rows: int,
                 width: int) -> np.ndarray:
    """Rows ``first_row`` to ``first_row + rows`` read as text cells, then converted.

    The authority when pandas' number parser refused a cell: it raises the error naming the first cell
    that is not a finite number, or returns the numbers if every cell is one after all. Text cells take
    several times a number's memory: they are read :data:`CHUNK_CELLS` cells (of ``width`` a row) at a time.
    """
    step = max(1, CHUNK_CELLS // max(width, 1))
    parts = []
    for start in range(first_row, first_row + rows, step):
        skip = range(1, start + 1) if header else start  # data rows only, never the header line
        frame = _read_frames(path, label, header, as_text=True, skiprows=skip, nrows=min(step, first_row + rows - start))
        parts.append(_frame_values(frame, chosen, label, header, start))
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _raise_parser_error(error: Exception, label: str) -> NoReturn:
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
    if found:
        expected, line, seen = found.groups()
        raise ToolInputError(
            f"{label}: line {line} has {seen} columns, expected {expected} like the lines before it"
        ) from None
    raise ToolInputError(f"{label}: not a tab-separated table ({error})") from None


def _frame_values(frame: pd.DataFrame, chosen: list[int], label: str, header: bool, first_row: int = 0) -> np.ndarray:
    """The chosen columns of a text frame (``as_text``) as numbers; errors give the file's line and column.

    ``first_row`` is the number of data rows before this frame (when reading in chunks).
    """
    frame = frame.iloc[:, chosen]
    offset = first_row + 1 + int(bool(header))  # file line of the frame's first row
    ragged = frame.eq("").to_numpy()
    if ragged.any():
        row, column = np.argwhere(ragged)[0]
        raise ToolInputError(f"{label}: line {row + offset}, column {chosen[column] + 1} is empty, expected a number")
    try:
        values = frame.apply(pd.to_numeric).to_numpy()
    except (ValueError, TypeError):
        values = None
    if values is None or not np.isfinite(values.astype("float64")).all():
        line, column, text = _first_bad_cell(frame, header)
        line += first_row
        where = f"line {line}, column {chosen[column - 1] + 1}"
        looks_like_text = pd.isna(pd.to_numeric(pd.Series([text]), errors="coerce")).all() and \
            str(text).strip().lower() not in ("nan", "inf", "-inf", "+inf", "infinity", "-infinity")
        hint = " (is the first line a header? set the header option)" if line == 1 and not header and looks_like_text else ""
        raise ToolInputError(f"{label}: {where} is '{text}', expected a finite number{hint}")
    return values


def check_header_names(names: list[str], label: str) -> None:
    """Refuse a "header" that is plainly a row of data: numbers that cannot be column names.

    With the header option set, the first line is taken as column names and its values are lost.
    Numbers can be column names (``0 1`` from pandas, the class labels heading predict_proba's
    columns), but not repeated ones or fractions: such a line is a sample, and the option is wrong.
    """
    numbers = pd.to_numeric(pd.Series(names, dtype=str).str.strip(), errors="coerce")
    if not numbers.notna().all():
        return
    values = numbers.to_numpy(dtype="float64")
    if len(set(names)) < len(names) or not np.all(values == np.round(values)):
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise ToolInputError(
            f"{label}: 'Does the dataset contain header' is set, but line 1 ({shown}) is a row of numbers, "
            "not column names: unset the header option so that this sample is not dropped"
        )


def _raw_names(frame: pd.DataFrame, path: str, header: bool) -> list[str]:
    """Column names as written on line 1 (pandas renames repeated names 'a', 'a.1', ...)."""
    if not header:
        return [str(name) for name in frame.columns]
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        line = handle.readline().lstrip("\ufeff").rstrip("\r\n")
    return line.split("\t")


def read_tabular(path: str, label: str, header: bool = False, column_option: str | None = "all_columns",
                 columns: object = None) -> tuple[np.ndarray, list[str]]:
    """Read a tab-separated numeric table; return ``(values, column_names)`` for the chosen columns.

    ``label`` is the dataset's label in the form (e.g. "Training samples dataset"), used in errors.
    Values keep the narrowest type pandas finds (int64 for word indices, float64 otherwise). The table is
    parsed in chunks (:func:`iter_tabular`) and only its numbers are kept: a column of text cells is
    never held whole, and the memory the table takes is checked before pandas reads it.
    """
    chunks = list(_chunks(path, label, header, column_option, columns, CHUNK_ROWS, KEPT_CELL_BYTES))
    values = chunks[0][0] if len(chunks) == 1 else np.concatenate([values for values, _ in chunks])
    return values, chunks[0][1]


# The first bytes of files that are not text, and what to tell the user about them.
BINARY_SIGNATURES = (
    (b"\x1f\x8b", "gzip-compressed: decompress it first (e.g. Galaxy's 'Convert compressed file to uncompressed')"),
    (b"BZh", "bzip2-compressed: decompress it first"),
    (b"PK\x03\x04", "a zip archive: extract the table first"),
    (b"\xfd7zXZ\x00", "xz-compressed: decompress it first"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed: decompress it first"),
    (b"\x89HDF", "an HDF5 file (a model or weights?), not a table"),
)

# What reading a table takes, measured with pandas 2.3 (peak RSS growth over the read): a cell parsed as
# a number 29-35 bytes (20,000 x 500 ints or floats), as text (dtype=str) 54-75 bytes, and each column
# about 2.7 kB more (5 rows x 10^6 columns: 570 bytes a cell); a cell kept as a number in read_tabular's
# chunks and their concatenation, 16. Rounded up, so that what passes the check fits.
NUMBER_CELL_BYTES = 40
TEXT_CELL_BYTES = 96
COLUMN_BYTES = 4096
KEPT_CELL_BYTES = 16
# Rows pandas parses at a time (read_tabular; iter_tabular's default). Fewer rows a chunk cost time, not
# only memory: pandas' work per chunk grows with the width (30,000 columns: about 3 s a chunk).
CHUNK_ROWS = 2000
# Text cells (the fallback that names a bad cell) are read at most this many at a time: about 200 MB.
CHUNK_CELLS = 2 ** 21


def check_row_lengths(path: str, label: str) -> tuple[int, int]:
    """The file must be UTF-8 text, every line at most :data:`gxkeras.data.lines.MAX_LINE_BYTES` long and
    every non-empty line as many tab-separated cells as the first; and the table, read whole as text
    cells (as the callers that read small tables with pandas do), must fit in the job's memory.
    Returns ``(rows, columns)``: non-empty lines, cells per line.

    pandas' chunked reader checks a row's length only against the rows of its own chunk: a longer
    row that starts a chunk is silently cut to the width of the first chunk. One pass counting tabs
    (C speed, a fraction of a second for 25,000 x 500 cells) closes that gap; the same pass refuses
    compressed or binary data and bytes that are not UTF-8, which pandas would report as a
    UnicodeDecodeError traceback (in the middle of a chunked read, after outputs were started), and
    a line too long to be read whole.
    """
    rows, columns = _scan_lines(path, label)
    check_table_memory(label, rows, columns, rows, TEXT_CELL_BYTES)
    return rows, columns


def check_table_memory(label: str, rows: int, columns: int, rows_at_once: int, cell_bytes: int,
                       kept_bytes: int = 0) -> None:
    """Refuse a table whose reading would not fit in the job's memory: ``rows_at_once`` rows parsed at a
    time at ``cell_bytes`` a cell, and ``kept_bytes`` for each cell of the whole table kept. The width
    counts most: a line of 10^6 tabs is 2 MB of file and, as 10^6 pandas columns, gigabytes."""
    needed = columns * COLUMN_BYTES + rows_at_once * columns * cell_bytes + rows * columns * kept_bytes
    check_allocation(needed, label, f"reading its {rows:,} x {columns:,} table (lines x columns)",
                     "give the job more memory, or split the dataset")


def _scan_lines(path: str, label: str) -> tuple[int, int]:
    """``(rows, columns)`` of a table, each line read once within its bound (see :func:`check_row_lengths`)."""
    check_dataset_path(path, label)
    expected, rows = None, 0
    with open(path, "rb") as handle:
        start = handle.read(8)
        for signature, what in BINARY_SIGNATURES:
            if start.startswith(signature):
                raise ToolInputError(f"{label} ({path}): the dataset is {what}; expected tab-separated text")
        handle.seek(0)
        for number, line in enumerate(bounded_lines(handle, label), start=1):
            _check_text_line(line, number, label)
            line = line.rstrip(b"\r\n")
            if not line:
                continue
            rows += 1
            count = line.count(b"\t") + 1
            if expected is None:
                expected = count
            elif count != expected:
                raise ToolInputError(f"{label}: line {number} has {count} columns, expected {expected} like the "
                                     "lines before it")
    return rows, expected or 0


def _check_text_line(line: bytes, number: int, label: str) -> None:
    if b"\x00" in line:
        raise ToolInputError(f"{label}: line {number} holds a NUL byte: binary data, expected tab-separated text")
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ToolInputError(f"{label}: line {number}, byte {error.start + 1} is not UTF-8 text "
                             f"({line[error.start:error.start + 1]!r}); expected tab-separated numbers "
                             "(save the file as UTF-8)") from None


def iter_tabular(path: str, label: str, header: bool = False, column_option: str | None = "all_columns",
                 columns: object = None, chunk_rows: int = CHUNK_ROWS) -> Iterator[tuple[np.ndarray, list[str]]]:
    """Like :func:`read_tabular`, but yield ``(values, column_names)`` for at most ``chunk_rows`` rows at a time.

    For data too large to hold as text cells at once (25,000 reviews x 500 word indices): memory
    stays proportional to ``chunk_rows``, checked before the first chunk is parsed. Errors name the same lines and columns as read_tabular. (Chunks that come before a bad cell have
    been yielded by then: callers write to a temporary file.)
    """
    return _chunks(path, label, header, column_option, columns, chunk_rows, 0)


def _chunks(path: str, label: str, header: bool, column_option: str | None, columns: object, chunk_rows: int,
            kept_bytes: int) -> Iterator[tuple[np.ndarray, list[str]]]:
    """The chosen columns of the table, ``chunk_rows`` rows at a time, its lines and memory checked first;
    ``kept_bytes`` a cell: what the caller keeps of the whole table."""
    rows, width = _scan_lines(path, label)
    check_table_memory(label, rows, width, min(rows, chunk_rows), NUMBER_CELL_BYTES, kept_bytes)
    return _parsed_chunks(path, label, header, column_option, columns, chunk_rows, width)


def _parsed_chunks(path: str, label: str, header: bool, column_option: str | None, columns: object,
                   chunk_rows: int, width: int) -> Iterator[tuple[np.ndarray, list[str]]]:
    reader = _read_frames(path, label, header, chunk_rows=chunk_rows)
    chosen: list[int] | None = None
    names: list[str] = []
    first_row = 0
    try:
        for frame in reader:
            if frame.empty:
                continue  # a header and no rows: pandas yields one empty frame
            if chosen is None:
                if header:
                    check_header_names(_raw_names(frame, path, header), label)
                names = [str(name) for name in frame.columns]
                chosen = select_columns(names, column_option, columns, label, header)
            values = _numbers(frame, chosen)
            if values is None:
                values = _text_values(path, label, header, chosen, first_row, len(frame), width)
            yield values, [names[index] for index in chosen]
            first_row += len(frame)
    except pd.errors.ParserError as error:
        _raise_parser_error(error, label)
    finally:
        reader.close()
    if chosen is None:
        raise ToolInputError(f"{label}: the dataset has no data rows, expected tab-separated numbers")


def read_tabular_input(params: dict[str, Any], infile: str, header: str, selector: str, col: str, label: str,
                       selector_param: str = "selected_column_selector_option") -> tuple[np.ndarray, list[str]]:
    """Read the dataset of one ``tabular_input`` macro from the tool's parameters.

    The keys are the macro's tokens (e.g. ``"infile1", "header1", "column_selector_options_1",
    "col1"``, and ``selector_param`` where the form names its select otherwise); the dataset path
    comes from the inputs JSON (``data_style="paths"``).
    """
    path = params.get(infile)
    if not path:
        raise ToolInputError(f"{label}: no dataset given")
    selection = params.get(selector) or {}
    return read_tabular(
        path, label, header=bool(params.get(header)),
        column_option=selection.get(selector_param, "all_columns"),
        columns=selection.get(col),
    )
