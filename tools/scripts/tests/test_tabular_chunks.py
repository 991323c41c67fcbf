"""gxkeras.data.tabular.iter_tabular: the chunked reader gives read_tabular's values and error places."""
import numpy as np
import pytest

from gxkeras.galaxy.errors import ToolInputError
from gxkeras.data.tabular import iter_tabular, read_tabular

LABEL = "Training samples dataset"
TABLE = "a\tb\tc\n" + "".join(f"{i}\t{i * 10}\t{i * 100}\n" for i in range(1, 11))


@pytest.mark.parametrize("chunk_rows", [1, 3, 10, 100])
@pytest.mark.parametrize("option, columns", [("all_columns", None), ("by_header_name", "c,a"),
                                             ("all_but_by_index_number", "2")])
def test_chunks_equal_whole(write_text, chunk_rows, option, columns):
    path = write_text(TABLE)
    whole, names = read_tabular(path, LABEL, header=True, column_option=option, columns=columns)
    chunks = list(iter_tabular(path, LABEL, header=True, column_option=option, columns=columns, chunk_rows=chunk_rows))
    assert all(len(values) <= chunk_rows for values, _ in chunks)
    assert np.vstack([values for values, _ in chunks]).tolist() == whole.tolist()
    assert all(chunk_names == names for _, chunk_names in chunks)


@pytest.mark.parametrize("line, text, message", [
    (9, "8\tx\t800", "line 9, column 2 is 'x', expected a finite number"),
    (10, "9\t90\t900\t1", "line 10 has 4 columns, expected 3"),
    (11, "10\t100", "line 11 has 2 columns, expected 3"),
])
def test_errors_name_the_file_line(write_text, line, text, message):
    lines = TABLE.splitlines()
    lines[line - 1] = text
    path = write_text("\n".join(lines) + "\n")
    with pytest.raises(ToolInputError, match=f"{LABEL}: {message}"):
        list(iter_tabular(path, LABEL, header=True, chunk_rows=3))


@pytest.mark.parametrize("text, header, message", [("", False, "the dataset is empty"),
                                                   ("a\tb\n", True, "has no data rows")])
def test_empty(write_text, text, header, message):
    with pytest.raises(ToolInputError, match=message):
        list(iter_tabular(write_text(text), LABEL, header=header))
