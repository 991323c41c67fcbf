"""The old tools' "sparse matrix" input: MatrixMarket files read by gxkeras.data.matrix_market (issue 16).

Every refusal is one error line naming the input; a size line larger than the job's memory is
refused from the header alone (the test's file holds one entry), before scipy parses anything.
"""
import numpy as np
import pytest
from scipy.io import mmwrite
from scipy.sparse import coo_matrix

from gxkeras.data import matrix_market
from gxkeras.galaxy.errors import ToolInputError
from gxkeras.data.matrix_market import read_matrix_market
from repo_paths import TEST_DATA

LABEL = "Select a sparse matrix"


def write(tmp_path, text, name="m.mtx"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_test_data_matrix_is_the_table():
    """sklearn_X.mtx holds sklearn_X.tsv's non-zero values: read back, it is the table."""
    values = read_matrix_market(str(TEST_DATA / "sklearn_X.mtx"), LABEL)
    np.testing.assert_array_equal(values, np.loadtxt(TEST_DATA / "sklearn_X.tsv", skiprows=1))
    assert values.dtype == np.float64


def test_coordinate_entries_fill_a_dense_table(tmp_path):
    path = write(tmp_path, "%%MatrixMarket matrix coordinate real general\n% a comment\n3 4 2\n1 2 1.5\n3 4 -2\n")
    expected = np.zeros((3, 4))
    expected[0, 1], expected[2, 3] = 1.5, -2
    np.testing.assert_array_equal(read_matrix_market(path, LABEL), expected)


@pytest.mark.parametrize("field, dtype", [("integer", np.int64), ("pattern", np.float64)])
def test_integer_and_pattern_matrices(tmp_path, field, dtype):
    entry = "2 1 7\n" if field == "integer" else "2 1\n"
    values = read_matrix_market(write(tmp_path, f"%%MatrixMarket matrix coordinate {field} general\n2 2 1\n{entry}"),
                                LABEL)
    assert values.dtype == dtype and values.tolist() == [[0, 0], [7 if field == "integer" else 1, 0]]


def test_symmetric_and_array_layouts(tmp_path):
    symmetric = write(tmp_path, "%%MatrixMarket matrix coordinate real symmetric\n2 2 1\n2 1 3\n", "s.mtx")
    assert read_matrix_market(symmetric, LABEL).tolist() == [[0, 3], [3, 0]]
    dense = np.arange(6.0).reshape(3, 2)
    mmwrite(tmp_path / "a.mtx", dense)
    np.testing.assert_array_equal(read_matrix_market(str(tmp_path / "a.mtx"), LABEL), dense)


def test_round_trip_of_scipy_written_sparse_data(tmp_path):
    rng = np.random.default_rng(3)
    dense = np.where(rng.random((50, 30)) < 0.1, rng.normal(size=(50, 30)).round(4), 0.0)
    mmwrite(tmp_path / "r.mtx", coo_matrix(dense), precision=8)
    np.testing.assert_array_equal(read_matrix_market(str(tmp_path / "r.mtx"), LABEL), dense)


@pytest.mark.parametrize("text, message", [
    ("1\t2\t3\n", "not a MatrixMarket file: its first line must start with %%MatrixMarket"),
    ("", "not a MatrixMarket file"),
    ("%%MatrixMarket matrix coordinate real general\nthree 4 2\n", "the MatrixMarket header or size line is not valid"),
    ("%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 2\n",
     "a MatrixMarket 'coordinate complex general' matrix; expected coordinate or array of real, integer, pattern"),
    ("%%MatrixMarket matrix coordinate real general\n0 4 0\n", "the matrix is 0 x 4; it needs at least one row"),
    ("%%MatrixMarket matrix coordinate real general\n2 2 1\n5 1 1.0\n", "cannot read the MatrixMarket entries"),
    ("%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 nan\n", "entry (1, 1) is nan, expected a finite number"),
], ids=["tabular", "empty", "size_line", "complex", "no_rows", "index_outside", "nan"])
def test_bad_files_are_one_line(tmp_path, text, message):
    with pytest.raises(ToolInputError, match=r"^Select a sparse matrix \(.*\): ") as caught:
        read_matrix_market(write(tmp_path, text), LABEL)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_size_line_beyond_memory_is_refused_before_parsing(tmp_path, monkeypatch):
    """10^6 x 10^6 announced, one entry given: refused from the size line (8 TB dense), mmread never runs."""
    import scipy.io

    monkeypatch.setattr(scipy.io, "mmread", lambda *args, **kwargs: pytest.fail("the entries were parsed"))
    path = write(tmp_path, "%%MatrixMarket matrix coordinate real general\n1000000 1000000 1\n1 1 1\n")
    with pytest.raises(ToolInputError, match=r"a 1,000,000 x 1,000,000 matrix needs 7\.3 TB as a dense table, more "
                                             r"than half of the 1\.0 GB of memory available"):
        read_matrix_market(path, LABEL, limit=2 ** 30)
    small = write(tmp_path, "%%MatrixMarket matrix coordinate real general\n100 100 1\n1 1 1\n", "small.mtx")
    with pytest.raises(ToolInputError, match="a 100 x 100 matrix needs 78.1 KB"):
        read_matrix_market(small, LABEL, limit=100_000)
    monkeypatch.undo()
    assert read_matrix_market(small, LABEL, limit=200_000).shape == (100, 100)


def test_missing_dataset_is_named():
    with pytest.raises(ToolInputError, match="^Select a sparse matrix: no dataset given"):
        read_matrix_market(None, LABEL)
    assert matrix_market.FIELDS == ("real", "integer", "pattern")


@pytest.mark.parametrize("tool, genomic", [
    ("keras_train_and_eval", {"refseq_and_interval": ("ref_genome_file", "interval_file", "target_file")}),
    ("model_prediction", {"variant_effect": ("ref_genome_file", "blacklist_regions", "vcf_file", "seq_length",
                                             "output_reference")})])
def test_forms_offer_the_input_types_python_reads(tool, genomic):
    """The forms' input types are Python's (INPUT_TYPES); each keeps the old forms' names."""
    from gxkeras.galaxy import forms
    from gxkeras.galaxy.input_types import INPUT_TYPES

    cases = forms.when_params(tool, "selected_input")
    assert tuple(cases) == INPUT_TYPES[tool]
    # training: y's table (the tabular case's second dataset, from infile2 on) follows every kind of X
    tabular = cases["tabular"]
    y_fields = tabular[tabular.index("infile2"):] if tool == "keras_train_and_eval" else ()
    for name, fields in genomic.items():
        assert cases[name] == (*fields, *y_fields)
    assert cases["sparse"] == ("infile1", *y_fields)  # the matrix, then (training) y's table
    # infile1: the tabular X and the sparse matrix, a txt dataset as in the old form
    assert [param.get("format") for param in forms._params(tool, "infile1")] == ["tabular", "txt"]
    # sequences in a fasta file: the old forms' names (training: y's table)
    fasta_y = y_fields if tool == "keras_train_and_eval" else ("seq_type",)
    assert cases["seq_fasta"] == ("fasta_path", *fasta_y)
