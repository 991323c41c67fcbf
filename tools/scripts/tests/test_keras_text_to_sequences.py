"""Tests of keras_text_to_sequences: exactness on real IMDB reviews, the Keras options, bad input."""
import os
import subprocess
import sys

import numpy as np
import pytest

import keras_text_to_sequences as tool
from gxkeras.data import text
from gxkeras.galaxy.errors import ToolInputError
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
    ("1\tgood\n", {"text_col": "2", "maxlen": 0}, "maxlen: word indices per text: 0 is not a whole number from 1 to"),
    ("1\tgood\n", {"text_col": "2", "padding": "middle"}, "padding: unknown 'middle'; expected one of pre, post"),
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
    ("word\tindex\tcount\nfilm\tone\t3\n", "line 2: the index of 'film': 'one' is not a whole number from 1 to"),
    ("word\tindex\tcount\nfilm\n", "line 2 is 'film', expected a word and its index"),
    ("word\tindex\tcount\nfilm\t1\t3\nfilm\t2\t1\n", "line 3: the word 'film' is listed twice"),
    ("word\tindex\tcount\n", "it lists no words"),
    ('["film", "good"]', "the JSON is not a non-empty object"),
    ('{"film": "1"}', "word 'film' has index '1', expected an integer of at least 1"),
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


# ---- numbers parsed strictly, indices bounded to int32, memory and line length checked first ----

@pytest.mark.parametrize("content", ["word\tindex\tcount\nfilm\t\u00b2\t3\n",  # '\u00b2'.isdigit() is true
                                     "word\tindex\tcount\nfilm\t\u0663\t3\n",  # int('\u0663') is 3
                                     "word\tindex\tcount\nfilm\t4294967300\t3\n",  # 2**32 + 4: wrapped to 4
                                     '{"film": 4294967300}'])
def test_vocabulary_indices_are_ascii_whole_numbers_within_int32(write_text, tmp_path, content):
    vocabulary = write_text(content, "vocabulary.tsv")
    with pytest.raises(ToolInputError, match=r"^Vocabulary: (line 2: )?the index of (the word )?'film': .* is not a "
                                             r"whole number from 1 to 2,147,483,647"):
        run(tmp_path, mode="apply", infile=write_text("good film\n"), infile_vocabulary=vocabulary)
    assert not os.path.exists(tmp_path / "X.tsv")


@pytest.mark.parametrize("name, value", [("start_char", 2 ** 32 + 1), ("oov_char", 2 ** 32 + 2),
                                         ("index_from", 2 ** 32), ("num_words", 2 ** 40), ("skip_top", 2 ** 31),
                                         ("maxlen", "\u00b2"), ("maxlen", 10 ** 30)])
def test_settings_that_would_wrap_round_in_int32_are_refused(write_text, tmp_path, name, value):
    with pytest.raises(ToolInputError, match=rf"^{name}[^:]*: .* is not a whole number from [01] to 2,147,483,647$"):
        run(tmp_path, mode="fit", infile=write_text("good film\n"), **{name: value})


def test_a_rank_that_index_from_pushes_past_int32_is_refused(write_text, tmp_path):
    """Each value alone is in range; their sum would wrap round to a small, valid, word index."""
    vocabulary = write_text(f"word\tindex\tcount\nfilm\t{text.INDEX_MAX - 1}\t3\n", "vocabulary.tsv")
    with pytest.raises(ToolInputError, match=r"^Vocabulary: the word 'film' has index 2,147,483,646, which with "
                                             r"index_from 3 becomes 2,147,483,649"):
        run(tmp_path, mode="apply", infile=write_text("good film\n"), infile_vocabulary=vocabulary)
    # with num_words the same rank becomes oov_char: nothing would be written beyond int32
    out = run(tmp_path, mode="apply", infile=write_text("good film\n"), infile_vocabulary=vocabulary, num_words=10,
              maxlen=3)
    assert matrix(out["x"]).tolist() == [[0, 1, 2]]


def test_a_large_index_does_not_make_a_table_of_every_smaller_one(tmp_path):
    """write_rows formats each distinct value once; a vocabulary index of 2 * 10^9 must not make 2 * 10^9
    strings. The address space is limited to 1 GB more than the process maps, so a table would fail."""
    import resource

    rows = np.array([[0, 1, 2_000_000_000], [2, 1, 0]], dtype=np.int32)
    with open("/proc/self/status") as handle:
        mapped = next(int(line.split()[1]) * 1024 for line in handle if line.startswith("VmSize:"))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (mapped + 2 ** 30, hard))
    try:
        tool.write_rows(str(tmp_path / "X.tsv"), rows)
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    assert read(str(tmp_path / "X.tsv")) == "0\t1\t2000000000\n2\t1\t0\n"


def test_decode_refuses_indices_that_are_not_int32_word_indices(write_text, tmp_path):
    vocabulary = run(tmp_path / "fit", mode="fit", infile=write_text("good film\n"), maxlen=3)["vocabulary"]
    for value in ("4294967297", "1.5", "-1"):  # 2**32 + 1 would become 1, the start marker, as int32
        sequences = write_text(f"0\t{value}\t4\n", "sequences.tsv")
        with pytest.raises(ToolInputError, match=r"^Sequences dataset: line 1, selected column 2 is .*; word indices "
                                                 r"are int32, so every value must be a word index 0\.\.2147483647$"):
            run(tmp_path, mode="decode", infile_sequences=sequences, infile_vocabulary=vocabulary)


def test_maxlen_sizes_the_rows_only_within_the_jobs_memory(write_text, tmp_path, monkeypatch):
    from gxkeras.galaxy import memory

    monkeypatch.setenv(memory.LIMIT_VARIABLE, str(10 ** 8))
    with pytest.raises(ToolInputError, match=r"^maxlen: word indices per text: 2 texts of 1,000,000,000 word indices "
                                             r"needs 7\.5 GB, more than half of the 95\.4 MB"):
        run(tmp_path, mode="fit", infile=write_text("good film\nbad film\n"), maxlen=10 ** 9)
    assert not os.path.exists(tmp_path / "X.tsv")


@pytest.mark.parametrize("mode", ["fit", "apply"])
def test_text_and_vocabulary_too_large_for_the_jobs_memory(write_text, tmp_path, monkeypatch, mode):
    from gxkeras.galaxy import memory

    vocabulary = run(tmp_path / "fit", mode="fit", infile=write_text("good film\n"), maxlen=3)["vocabulary"]
    infile = write_text("good film " * 1000 + "\n")  # 10 kB of text: 200 kB to tokenize, 40 kB of vocabulary
    monkeypatch.setenv(memory.LIMIT_VARIABLE, str(100_000))
    label = "Text dataset: tokenizing the" if mode == "fit" else "Vocabulary: reading the words of the"
    if mode == "apply":
        monkeypatch.setattr(tool, "TEXT_BYTES_PER_BYTE", 1)
        monkeypatch.setattr(tool, "VOCABULARY_BYTES_PER_BYTE", 10 ** 4)
    with pytest.raises(ToolInputError, match=rf"^{label} .* of it needs .*, more than half of the 97\.7 KB"):
        run(tmp_path, mode=mode, infile=infile, infile_vocabulary=vocabulary, maxlen=3)


@pytest.mark.parametrize("which", ["text", "vocabulary"])
def test_a_line_longer_than_the_bound_is_refused_while_reading(write_text, tmp_path, monkeypatch, which):
    """A 100 MB line without a newline used to be read whole; the bound is made small here (the real one
    is 16 MiB), and the reader never takes more than bound + 1 bytes of the line."""
    from gxkeras.data import lines

    monkeypatch.setattr(lines, "MAX_LINE_BYTES", 1000)
    long_line = "good " * 300  # 1,500 bytes, no newline
    vocabulary = write_text("word\tindex\tcount\ngood\t1\t3\n" + (long_line if which == "vocabulary" else ""),
                            "vocabulary.tsv")
    infile = write_text("film\n" + (long_line if which == "text" else "film\n"))
    label = "Text dataset" if which == "text" else "Vocabulary"
    with pytest.raises(ToolInputError, match=rf"^{label}: line {2 if which == 'text' else 3} is longer than 1,000 "
                                             r"bytes, the longest line a tool reads"):
        run(tmp_path, mode="apply", infile=infile, infile_vocabulary=vocabulary)
