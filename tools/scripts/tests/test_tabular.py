import numpy as np
import pytest

from gxkeras.galaxy.errors import ToolInputError
from gxkeras.data.tabular import read_tabular

LABEL = "Training samples dataset"


def test_reads_ints_without_header(write_text):
    values, names = read_tabular(write_text("1\t2\t3\n4\t5\t6\n"), LABEL)
    assert values.tolist() == [[1, 2, 3], [4, 5, 6]]
    assert values.dtype.kind == "i"
    assert names == ["0", "1", "2"]


def test_header_and_selection_by_name(write_text):
    path = write_text("a\tb\tc\n1\t2.5\t3\n4\t5\t6\n")
    values, names = read_tabular(path, LABEL, header=True, column_option="by_header_name", columns="c,a")
    assert names == ["a", "c"]  # data order, not the order typed
    assert values.tolist() == [[1, 3], [4, 6]]
    values, names = read_tabular(path, LABEL, header=True, column_option="all_but_by_header_name", columns="b")
    assert names == ["a", "c"]


@pytest.mark.parametrize("option, columns, expected", [
    ("by_index_number", [3, 1], [[1, 3], [4, 6]]),
    ("by_index_number", "2", [[2], [5]]),
    ("all_but_by_index_number", "2", [[1, 3], [4, 6]]),
    ("all_columns", None, [[1, 2, 3], [4, 5, 6]]),
])
def test_selection_by_index(write_text, option, columns, expected):
    values, _ = read_tabular(write_text("1\t2\t3\n4\t5\t6\n"), LABEL, column_option=option, columns=columns)
    assert values.tolist() == expected


@pytest.mark.parametrize("text, kwargs, message", [
    ("", {}, "Training samples dataset .*: the dataset is empty"),
    ("a\tb\n", {"header": True}, "has no data rows"),
    ("1\t2\n3\t4\t5\n", {}, "line 2 has 3 columns, expected 2"),
    ("1\t2\t3\n4\t5\n", {}, "line 2 has 2 columns, expected 3"),
    ("1\t2\n3\tx\n", {}, "line 2, column 2 is 'x', expected a finite number"),
    ("1\t2\n3\tnan\n", {}, "line 2, column 2 is 'nan'"),
    ("1\t2\n3\tinf\n", {}, "line 2, column 2 is 'inf'"),
    ("a\tb\n1\t2\n", {}, "line 1, column 1 is 'a'.*header"),
    ("1\t2\n", {"column_option": "by_index_number", "columns": "3"}, "column 3 does not exist: the data has 2"),
    ("1\t2\n", {"column_option": "all_but_by_index_number", "columns": "1,2"}, "leaves no column"),
    ("1\t2\n", {"column_option": "by_header_name", "columns": "a"}, "needs a dataset with a header"),
    ("a\tb\n1\t2\n", {"header": True, "column_option": "by_header_name", "columns": "z"}, "no column named z"),
])
def test_bad_tables_give_one_clear_error(write_text, text, kwargs, message):
    with pytest.raises(ToolInputError, match=message):
        read_tabular(write_text(text), LABEL, **kwargs)


def test_floats_stay_floats(write_text):
    values, _ = read_tabular(write_text("0.5\t1\n"), LABEL)
    assert values.dtype == np.float64


@pytest.mark.parametrize("text", [
    "1\t-2\t+3\n",  # signs
    "1e3\t2.5E-1\t-0.0\n",  # exponents, negative zero
    " 5\t6 \t7\n",  # spaces around numbers
    "9007199254740993\t1\t2\n",  # an int beyond float64's exact range stays exact
    "1\t2\t3\n4.5\t5\t6\n",  # one float makes its column float
])
def test_numbers_read_as_numbers_equal_the_text_cells_converted(write_text, text):
    """The fast path (pandas parses the numbers) gives exactly what converting each text cell gives."""
    import pandas as pd

    path = write_text(text)
    values, _ = read_tabular(path, LABEL)
    cells = pd.read_csv(path, sep="\t", header=None, dtype=str, keep_default_na=False)
    expected = cells.apply(lambda column: pd.to_numeric(column.str.strip())).to_numpy()
    assert values.dtype == expected.dtype
    assert values.tolist() == expected.tolist()


@pytest.mark.parametrize("text, message", [
    ("1\t2\nTrue\tFalse\n", "line 2, column 1 is 'True', expected a finite number"),
    ("1\t2\n3\t\n", "line 2, column 2 is empty"),
    ("1\t2\n3\tNA\n", "line 2, column 2 is 'NA'"),
    ("1\t2\n3\t-inf\n", "line 2, column 2 is '-inf'"),
])
def test_cells_pandas_would_not_call_numbers_are_refused_by_name(write_text, text, message):
    with pytest.raises(ToolInputError, match=message):
        read_tabular(write_text(text), LABEL)


@pytest.mark.parametrize("header", [False, True])
def test_text_cells_decide_where_pandas_number_parser_gives_up(write_text, monkeypatch, header):
    """The fallback (cells read as text, then converted) returns the same numbers, whole and in chunks."""
    from gxkeras.data import tabular

    text = ("a\tb\n" if header else "") + "".join(f"{i}\t{i * 0.5}\n" for i in range(1, 8))
    path = write_text(text)
    expected, _ = read_tabular(path, LABEL, header=header)
    monkeypatch.setattr(tabular, "_numbers", lambda frame, chosen: None)
    values, _ = read_tabular(path, LABEL, header=header)
    chunks = [chunk for chunk, _ in tabular.iter_tabular(path, LABEL, header=header, chunk_rows=3)]
    assert values.tolist() == expected.tolist() == np.vstack(chunks).tolist()


# ---- column numbers parsed strictly; lines and the table's memory bounded before pandas reads them ----

@pytest.mark.parametrize("columns", ["\u00b2", "\u0662", "1_0", " +1", [True]])
def test_column_numbers_are_ascii_whole_numbers(write_text, columns):
    """'\u00b2'.isdigit() is true and int() fails on it; int('\u0662') is 2 and int('1_0') is 10."""
    with pytest.raises(ToolInputError, match=rf"^{LABEL}: column: .* is not a whole number from 0 to 2,147,483,647$"):
        read_tabular(write_text("1\t2\n"), LABEL, column_option="by_index_number", columns=columns)


def test_a_100_mb_line_is_refused_after_reading_the_bound(tmp_path):
    """A sparse 100 MB file without a newline (nothing is written to disk): the reader stops after
    MAX_LINE_BYTES + 1 bytes, with the real bound, and names the line."""
    from gxkeras.data.lines import MAX_LINE_BYTES

    path = tmp_path / "one_line.tsv"
    with open(path, "wb") as handle:
        handle.write(b"1\t2\n")
        handle.truncate(100 * 1024 * 1024)
    with pytest.raises(ToolInputError, match=rf"^{LABEL}: line 2 is longer than 16\.0 MB \({MAX_LINE_BYTES:,} bytes\)"):
        read_tabular(str(path), LABEL)


@pytest.mark.parametrize("reader", ["read", "iter"])
def test_the_line_bound_holds_for_every_reader(write_text, monkeypatch, reader):
    from gxkeras.data import lines
    from gxkeras.data import tabular

    monkeypatch.setattr(lines, "MAX_LINE_BYTES", 100)
    path = write_text("1\t2\n" + "3\t" * 60 + "4\n")
    read = (lambda: read_tabular(path, LABEL)) if reader == "read" else (lambda: list(tabular.iter_tabular(path, LABEL)))
    with pytest.raises(ToolInputError, match=rf"^{LABEL}: line 2 is longer than 100 bytes"):
        read()
    assert len(read_tabular(write_text("3\t" * 49 + "4\n"), LABEL)[0][0]) == 50  # 100 bytes and a newline: read


def test_a_table_too_wide_for_the_jobs_memory_is_refused_before_pandas_reads_it(write_text, monkeypatch):
    """A line of 10^5 tabs is 200 kB of file and, as pandas columns, about 400 MB (measured 2.7 kB a column)."""
    from gxkeras.galaxy import memory
    from gxkeras.data import tabular

    monkeypatch.setenv(memory.LIMIT_VARIABLE, str(512 * 1024 ** 2))
    path = write_text("\t".join(["1"] * 100_000) + "\n")
    monkeypatch.setattr(tabular.pd, "read_csv", lambda *args, **kwargs: pytest.fail("pandas was called"))
    with pytest.raises(ToolInputError, match=rf"^{LABEL}: reading its 1 x 100,000 table \(lines x columns\) needs "
                                             r"396\.0 MB, more than half of the 512\.0 MB of memory this job may use"):
        read_tabular(path, LABEL)
    with pytest.raises(ToolInputError, match=rf"^{LABEL}: reading its 1 x 100,000 table"):
        tabular.check_row_lengths(path, LABEL)  # the readers of small tables as text cells


def test_whole_floats_become_int64_only_within_float64s_exact_range():
    from gxkeras.data.tabular import as_whole_numbers

    assert as_whole_numbers(np.array([1.0, 2.0])).dtype == np.int64
    assert as_whole_numbers(np.array([2.0 ** 53, -(2.0 ** 53)])).tolist() == [2 ** 53, -(2 ** 53)]
    for kept in ([1e300, 2e300], [2.0 ** 54], [0.5, 1.0], [np.nan]):
        assert as_whole_numbers(np.array(kept)).dtype == np.float64
