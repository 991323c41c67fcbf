"""Tests of keras_text_to_sequences: exactness on real IMDB reviews, the Keras options, bad input."""
import os
import subprocess
import sys

import numpy as np
import pytest

import keras_text_to_sequences as tool
from gxkeras import text
from gxkeras.errors import ToolInputError
from repo_paths import SCRIPTS, TEST_DATA

IMDB = {"lower": "ascii", "num_words": 10000, "skip_top": 50, "maxlen": 500}
REVIEWS = {"infile": os.path.join(TEST_DATA, "imdb_text_reviews.tsv"), "header": False,
           "text_selector": "by_index_number", "text_col": "2",
           "label_selector": "by_index_number", "label_col": "1"}


def data(name):
    return os.path.join(TEST_DATA, name)


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def matrix(path):
    return np.loadtxt(path, dtype=np.int64, delimiter="\t", ndmin=2)


def run(tmp_path, **params):
    params.setdefault("text_selector", "by_index_number")
    params.setdefault("text_col", "1")
    tmp_path.mkdir(exist_ok=True)
    tool.run(params, str(tmp_path))
    return {key: str(tmp_path / name) for key, name in tool.OUTPUT_NAMES.items()}


# ---- exactness: the IMDB conventions, on real reviews ----

def test_imdb_word_index_and_settings_give_the_rows_of_x_train(tmp_path):
    out = run(tmp_path, mode="apply", infile_vocabulary=data("imdb_text_word_index.json"), **REVIEWS, **IMDB)
    assert read(out["x"]) == read(data("imdb_text_X.tsv"))
    assert read(out["y"]) == read(data("imdb_text_y.tsv"))
    assert not os.path.exists(out["vocabulary"])  # apply mode never makes a vocabulary


def test_unicode_lower_casing_changes_the_review_with_accented_capitals(tmp_path):
    """Why the IMDB settings need A-Z lower-casing: the slice's last review has capitals outside A-Z."""
    out = run(tmp_path, mode="apply", infile_vocabulary=data("imdb_text_word_index.json"),
              **REVIEWS, **{**IMDB, "lower": "unicode"})
    got, expected = matrix(out["x"]), matrix(data("imdb_text_X.tsv"))
    assert (got[:-1] == expected[:-1]).all()
    assert (got[-1] != expected[-1]).any()


# ---- fit mode: Tokenizer ranks, keras.datasets.imdb indices, pad_sequences ----

def test_fit_ranks_by_count_then_first_appearance_and_writes_counts(write_text, tmp_path):
    infile = write_text("b a, c!\nA b\tx\nd. C c\n")
    out = run(tmp_path, mode="fit", infile=infile, maxlen=6)
    assert read(out["vocabulary"]).splitlines() == [
        "word\tindex\tcount", "c\t1\t3", "b\t2\t2", "a\t3\t2", "d\t4\t1"]
    # [start_char 1] + rank + index_from 3, pre-padded with 0; the tab ends line 2's text (column 1).
    assert matrix(out["x"]).tolist() == [[0, 0, 1, 5, 6, 4], [0, 0, 0, 1, 6, 5], [0, 0, 1, 7, 4, 4]]


def test_num_words_skip_top_and_no_start_char(write_text, tmp_path):
    infile = write_text("c c c b b a\n")
    # indices c=4, b=5, a=6: skip_top 5 and num_words 6 keep only b; oov_char 9 marks the others
    out = run(tmp_path, mode="fit", infile=infile, maxlen=6, skip_top=5, num_words=6, oov_char=9, start_char=None)
    assert matrix(out["x"]).tolist() == [[9, 9, 9, 5, 5, 9]]
    # without oov_char, words outside the range are dropped
    out = run(tmp_path, mode="fit", infile=infile, maxlen=6, skip_top=5, num_words=6, oov_char=None, start_char=None,
              padding="post")
    assert matrix(out["x"]).tolist() == [[5, 5, 0, 0, 0, 0]]


def test_padding_and_truncating_sides(write_text, tmp_path):
    infile = write_text("a b c d\na\n")  # a=4 b=5 c=6 d=7 (index_from 0 + rank + 3)
    for padding, truncating, expected in (("pre", "pre", [[5, 6, 7], [0, 1, 4]]),
                                          ("post", "post", [[1, 4, 5], [1, 4, 0]])):
        out = run(tmp_path, mode="fit", infile=infile, maxlen=3, padding=padding, truncating=truncating)
        assert matrix(out["x"]).tolist() == expected


def test_filters_and_lower_options(write_text, tmp_path):
    infile = write_text("Don't-stop STOP\n")
    out = run(tmp_path, mode="fit", infile=infile, maxlen=4, filters="-", lower="none")
    assert [line.split("\t")[0] for line in read(out["vocabulary"]).splitlines()[1:]] == ["Don't", "stop", "STOP"]
    out = run(tmp_path, mode="fit", infile=infile, maxlen=4)
    assert [line.split("\t")[0] for line in read(out["vocabulary"]).splitlines()[1:]] == ["stop", "don't"]


def test_apply_uses_the_fitted_vocabulary_and_unknown_words_option(write_text, tmp_path):
    fitted = run(tmp_path / "fit", mode="fit", infile=write_text("good film good\n", "train.tsv"), maxlen=4)
    vocabulary = fitted["vocabulary"]
    new_text = write_text("good new film\n", "test.tsv")
    out = run(tmp_path, mode="apply", infile=new_text, infile_vocabulary=vocabulary, maxlen=4)
    assert matrix(out["x"]).tolist() == [[0, 1, 4, 5]]  # "new" is not in the vocabulary: dropped
    out = run(tmp_path, mode="apply", infile=new_text, infile_vocabulary=vocabulary, maxlen=4, unknown_words="oov")
    assert matrix(out["x"]).tolist() == [[1, 4, 2, 5]]


def test_header_and_columns_by_name(write_text, tmp_path):
    infile = write_text('id\treview\tsentiment\n7\t"Great" film<br />Très bien\t1\n8\tBad film\t0\n')
    out = run(tmp_path, mode="fit", infile=infile, header=True, text_selector="by_header_name", text_col="review",
              label_selector="by_header_name", label_col="sentiment", maxlen=5)
    assert read(out["y"]) == "1\n0\n"
    words = [line.split("\t")[0] for line in read(out["vocabulary"]).splitlines()[1:]]
    assert words == ["film", "great", "br", "très", "bien", "bad"]


def test_same_text_through_fit_and_apply_gives_the_same_rows(tmp_path):
    fitted = run(tmp_path / "fit", mode="fit", **REVIEWS, **IMDB)
    applied = run(tmp_path, mode="apply", infile_vocabulary=fitted["vocabulary"], **REVIEWS, **IMDB)
    assert read(applied["x"]) == read(fitted["x"])


def test_decode_shows_the_words_the_model_sees(write_text, tmp_path):
    fitted = run(tmp_path / "fit", mode="fit", infile=write_text("The film, the END\n"), maxlen=6)
    out = run(tmp_path, mode="decode", infile_sequences=fitted["x"], infile_vocabulary=fitted["vocabulary"])
    assert read(out["decoded"]) == "<START> the film the end\n"


def test_decode_with_the_keras_word_index(tmp_path):
    out = run(tmp_path, mode="decode", infile_sequences=data("imdb_text_X.tsv"),
              infile_vocabulary=data("imdb_text_word_index.json"))
    first = read(out["decoded"]).splitlines()[0].split(" ")
    # skip_top 50 turned the start marker and the 47 most frequent words into 2 (<OOV>)
    assert first[:6] == ["<OOV>"] * 5 + ["brilliant"]
    assert len(first) == int((matrix(data("imdb_text_X.tsv"))[0] != 0).sum())


def test_a_10_mb_text_is_encoded(write_text, tmp_path):
    words = " ".join(f"word{i % 5000}" for i in range(1_500_000))
    assert len(words) > 10_000_000
    out = run(tmp_path, mode="fit", infile=write_text(f"1\t{words}\n"), text_col="2", maxlen=500)
    row = matrix(out["x"])[0]
    assert row.shape == (500,) and (row > 3).all()  # the last 500 words, all known
    assert read(out["vocabulary"]).count("\n") == 5001


# ---- bad input: one clear line ----

@pytest.mark.parametrize("content, params, message", [
    ("", {}, "Text dataset (PATH): the dataset is empty"),
    ("label\ttext\n", {"header": True}, "Text dataset: the dataset has a header line but no texts"),
    ("1\tgood\n0\n", {"text_col": "2"}, "Text dataset: line 2 has 1 columns, expected at least 2"),
    ("1\tgood\n", {"text_col": "3"}, "Text dataset, text column: column 3 does not exist: the data has 2 columns"),
    ("label\ttext\n1\tgood\n", {"header": True, "text_selector": "by_header_name", "text_col": "review"},
     "Text dataset, text column: no column named review in the header (label, text)"),
    ("1\tgood\n", {"text_col": "2", "maxlen": 0}, "maxlen is 0, expected a sequence length of at least 1"),
    ("1\tgood\n", {"text_col": "2", "padding": "middle"}, "padding: 'middle' is not one of pre, post"),
])
def test_bad_text_input(write_text, tmp_path, content, params, message):
    infile = write_text(content)
    with pytest.raises(ToolInputError) as error:
        run(tmp_path, **{"mode": "fit", "infile": infile, **params})
    assert str(error.value).startswith(message.replace("PATH", infile))


def test_non_utf8_bytes_name_the_line(tmp_path):
    infile = tmp_path / "latin1.tsv"
    infile.write_bytes("1\tgood film\n0\tcaf\u00e9 cr\u00e8me\n".encode("latin-1"))
    with pytest.raises(ToolInputError, match=r"^Text dataset: line 2 is not UTF-8 text \(byte 0xe9\)"):
        run(tmp_path, mode="fit", infile=str(infile))


@pytest.mark.parametrize("content, detail", [
    ("1\n0\n1\n", "line 1 is '1'"),
    ("word\tindex\tcount\nfilm\tone\t3\n", "line 2 is 'film\tone\t3', expected a word and its index"),
    ("word\tindex\tcount\nfilm\t1\t3\nfilm\t2\t1\n", "line 3: the word 'film' is listed twice"),
    ("word\tindex\tcount\n", "it lists no words"),
    ('["film", "good"]', "the JSON is not a non-empty object"),
    ('{"film": "1"}', "word 'film' has index \"1\", expected an integer of at least 1"),
    ('{"film": 1', "not valid JSON"),
])
def test_not_a_vocabulary(write_text, tmp_path, content, detail):
    vocabulary = write_text(content, "vocabulary.tsv")
    with pytest.raises(ToolInputError) as error:
        run(tmp_path, mode="apply", infile=write_text("good film\n"), infile_vocabulary=vocabulary)
    assert str(error.value).startswith(f"Vocabulary: {detail}")
    assert "expected the vocabulary output of this tool" in str(error.value)


def test_settings_check_refuses_oov_for_unknown_words_without_oov_char():
    with pytest.raises(ToolInputError, match="oov_char is empty"):
        text.Settings(unknown_words="oov", oov_char=None).check()


def test_failed_run_prints_one_error_line_and_leaves_no_output(write_inputs, tmp_path):
    # the vocabulary is checked after X would be written in fit mode: here apply fails on it first
    (tmp_path / "X.tsv").write_text("stale\n")
    inputs = write_inputs({"mode": "apply", "infile": data("imdb_text_reviews.tsv"), "text_col": "2",
                           "text_selector": "by_index_number", "infile_vocabulary": data("imdb_text_y.tsv")})
    result = subprocess.run([sys.executable, os.path.join(SCRIPTS, "keras_text_to_sequences.py"),
                             "--inputs", inputs, "--outdir", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: Vocabulary: line 1 is '1'")
    assert not any((tmp_path / name).exists() for name in tool.OUTPUT_NAMES.values())
