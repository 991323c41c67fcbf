"""sklearn_to_categorical: one-hot rows equal to Keras' to_categorical, the old form's parameters, errors."""
import subprocess
import sys

import numpy as np
import pytest

import sklearn_to_categorical as tool
from gxkeras.galaxy.errors import ToolInputError
from repo_paths import SCRIPTS



def run(write_inputs, tmp_path, infile, header0, num_classes=None):
    """Run main() on a saved-state-like parameter dict; return the output table as an int array."""
    outfile = tmp_path / "onehot.tsv"
    inputs = write_inputs({"infile": infile, "header0": header0, "num_classes": num_classes})
    tool.main(["--inputs", inputs, "--outfile", str(outfile)])
    return np.loadtxt(outfile, dtype="int64", delimiter="\t", ndmin=2), outfile.read_text()


def test_header_and_inferred_classes(write_inputs, write_text, tmp_path):
    matrix, text = run(write_inputs, tmp_path, write_text("label\n0\n3\n1\n2\n"), True)
    assert matrix.tolist() == [[1, 0, 0, 0], [0, 0, 0, 1], [0, 1, 0, 0], [0, 0, 1, 0]]
    assert text.splitlines()[0] == "1\t0\t0\t0"  # integers, tab-separated, no header line


def test_num_classes_widens_and_no_header(write_inputs, write_text, tmp_path):
    """The CNN tutorial's state: header0 false, num_classes "10" (a string, as saved workflows hold it)."""
    matrix, _text = run(write_inputs, tmp_path, write_text("7\n2\n1\n"), False, "10")
    assert matrix.shape == (3, 10)
    assert matrix.argmax(axis=1).tolist() == [7, 2, 1] and matrix.sum(axis=1).tolist() == [1, 1, 1]


def test_whole_floats_are_labels(write_inputs, write_text, tmp_path):
    matrix, _text = run(write_inputs, tmp_path, write_text("1.0\n0.0\n"), False)
    assert matrix.tolist() == [[0, 1], [1, 0]]


def test_equals_keras_to_categorical():
    """The promise in the help: the same matrix as keras.utils.to_categorical."""
    from keras.utils import to_categorical
    labels = np.array([0, 4, 2, 2, 9, 1])
    assert np.array_equal(tool.one_hot(labels, 10), to_categorical(labels, num_classes=10).astype("int64"))
    assert np.array_equal(tool.one_hot(labels, tool.number_of_classes(labels, None, False)),
                          to_categorical(labels).astype("int64"))


@pytest.mark.parametrize("text, header, num_classes, message", [
    ("label\n0\n3\n", True, 3, "Input file: line 3 has label 3, but 'Total number of classes' is 3 (labels 0 to 2)"),
    ("0\n-1\n", False, None, "Input file: line 2 is -1, expected a class label"),
    ("label\n0\n1.5\n", True, None, "Input file: line 3 is 1.5, expected a class label"),
    ("0\t1\n1\t0\n", False, None, "Input file: expected one column of class labels (0, 1, 2, ...), got 2 columns"),
    ("label\ncat\n", True, None, "Input file: line 2, column 1 is 'cat', expected a finite number"),
    ("0\n1\n", False, 0, "Total number of classes: 0 is not a whole number from 1 to 2,147,483,647"),
    ("0\n1\n", False, "\u00b2", "Total number of classes: '\u00b2' is not a whole number"),  # '\u00b2'.isdigit()
    ("0\n1\n", False, 10 ** 30, "Total number of classes: 1000000000000000000000000000000 is not a whole number"),
    ("0\n1e300\n", False, None, "Input file: line 2 is 1e+300, expected a class label"),  # int64 cast wrapped
    ("7\n2\n", True, None, "Input file: 'Does the dataset contain header?' is set, but line 1 (7) is a label"),
])
def test_errors(write_inputs, write_text, tmp_path, text, header, num_classes, message):
    with pytest.raises(ToolInputError) as error:
        run(write_inputs, tmp_path, write_text(text), header, num_classes)
    assert str(error.value).startswith(message)


def test_one_error_line_and_no_output(write_inputs, write_text, tmp_path):
    """Through the command line: exit 1, one 'Error:' line, the output file removed."""
    outfile = tmp_path / "onehot.tsv"
    outfile.write_text("stale")
    inputs = write_inputs({"infile": write_text("label\n0\n5\n"), "header0": True, "num_classes": 2})
    result = subprocess.run([sys.executable, str(SCRIPTS / "sklearn_to_categorical.py"), "--inputs", inputs,
                             "--outfile", str(outfile)], capture_output=True, text=True,
                            env={"PYTHONPATH": str(SCRIPTS)})
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "Error: Input file: line 3 has label 5, but 'Total number of classes' is 2 (labels 0 to 1); "
        "raise it or leave it empty"]
    assert not outfile.exists()


@pytest.mark.parametrize("labels, num_classes, label", [("0\n1\n", 10 ** 5, "Total number of classes"),
                                                      ("0\n99999\n", None, "Input file")])
def test_a_one_hot_table_beyond_the_jobs_memory_is_refused(write_inputs, write_text, tmp_path, monkeypatch, labels,
                                                           num_classes, label):
    """10^5 classes: before, np.eye(10^5) alone asked 80 GB for two labels; the table is 2 x 10^5 bytes, and the
    budget is set below it."""
    from gxkeras.galaxy import memory

    monkeypatch.setenv(memory.LIMIT_VARIABLE, str(300_000))
    with pytest.raises(ToolInputError, match=rf"^{label}: the one-hot table of 2 samples x 100,000 classes needs 195\.3 KB, "
                                             r"more than half of the 293\.0 KB"):
        run(write_inputs, tmp_path, write_text(labels), False, num_classes)
    monkeypatch.setenv(memory.LIMIT_VARIABLE, str(10 ** 6))
    matrix, _ = run(write_inputs, tmp_path, write_text(labels), False, num_classes)
    assert matrix.shape == (2, 100_000) and matrix.sum() == 2
