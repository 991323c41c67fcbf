"""keras_text_to_sequences: raw text -> rows of word indices ("Turn text into word-index sequences" tool).

Three modes, chosen in the form:

- ``fit``: rank the words of this text (the training set) into a vocabulary and encode the text;
- ``apply``: encode new text (the test set) with a vocabulary made earlier, by fit mode or the Keras
  IMDB word index JSON, so that test text never changes the vocabulary;
- ``decode``: turn rows of word indices back into words, to see what a model sees.

The encoding itself (tokens, ranks, indices, padding) is in :mod:`gxkeras.data.text`; this module reads
and writes Galaxy datasets. Outputs are written into ``--outdir`` under fixed names (the tool XML
collects them with ``from_work_dir``); a failed job leaves none behind.
"""
import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from gxkeras.data import bounded_lines, read_tabular, select_columns, text
from gxkeras.galaxy import (
    ToolInputError, atomic_output, check_allocation, check_dataset_path, choice, flatten_sections, format_bytes,
    forms, load_inputs, parse_int, run_tool, safe_json,
)
from gxkeras.keras import check_word_indices

TOOL = "keras_text_to_sequences"
TEXT_LABEL = forms.label(TOOL, "infile")
VOCABULARY_LABEL = forms.label(TOOL, "infile_vocabulary")
SEQUENCES_LABEL = forms.label(TOOL, "infile_sequences")
MODE_LABEL = forms.label(TOOL, "mode")
OUTPUT_NAMES = {"x": "X.tsv", "y": "y.tsv", "vocabulary": "vocabulary.tsv", "decoded": "decoded.tsv"}
VOCABULARY_HEADER = ("word", "index", "count")
MODES = forms.options(TOOL, "mode")  # fit, apply, decode
# Peak memory per byte of input, measured: tokenizing and encoding 34 MB of IMDB reviews (25,000 texts)
# takes 16-18 bytes a byte (each token a Python string until factorized); a vocabulary of 10^6 words,
# about 3 (JSON or tabular), held twice more as word values and indices. Rounded up.
TEXT_BYTES_PER_BYTE = 20
VOCABULARY_BYTES_PER_BYTE = 8


def check_file_memory(path: str, label: str, bytes_per_byte: int, purpose: str) -> None:
    """Refuse a dataset that, read whole, would not fit in the job's memory (before reading any of it)."""
    check_dataset_path(path, label)
    size = os.path.getsize(path)
    check_allocation(size * bytes_per_byte, label, f"{purpose} {format_bytes(size)} of it",
                     "give the job more memory, or split the dataset")


def decode_utf8(data: bytes, label: str, number: int | None = None) -> str:
    """The bytes as text; non-UTF-8 bytes are refused with the line they are on (``number``: the line's)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = number if number is not None else data.count(b"\n", 0, error.start) + 1
        byte = data[error.start:error.start + 1].hex()
        raise ToolInputError(f"{label}: line {line} is not UTF-8 text (byte 0x{byte}): save the file as UTF-8") from None


def read_lines(path: str, label: str) -> list[str]:
    """The dataset's lines, split on newlines only (text may hold any other Unicode separator), each read
    within :data:`gxkeras.data.lines.MAX_LINE_BYTES`."""
    with open(path, "rb") as handle:
        lines = [decode_utf8(line, label, number) for number, line in enumerate(bounded_lines(handle, label), start=1)]
    if lines:
        lines[0] = lines[0].lstrip("\ufeff")
    if not lines:
        raise ToolInputError(f"{label} ({path}): the dataset is empty, expected one text per line")
    return [line.removesuffix("\n").removesuffix("\r") for line in lines]


def _column(names: list[str], option: str, columns: object, label: str, header: bool, what: str) -> int:
    """0-based index of the one column chosen in a column conditional (by number or header name)."""
    chosen = select_columns(names, option, columns, f"{label}, {what}", header)
    if len(chosen) != 1:
        raise ToolInputError(f"{label}, {what}: choose one column, not {len(chosen)}")
    return chosen[0]


def read_texts(path: str, header: bool, params: dict[str, Any]) -> tuple[list[str], list[str] | None]:
    """``(texts, labels or None)`` from a tabular dataset with a text column and an optional label column.

    ``params``: the form's column choices, ``text_selector``/``text_col`` and ``label_selector``/``label_col``
    (selector values as in :data:`gxkeras.data.tabular.COLUMN_OPTIONS`, or "none" for no label column).
    """
    check_file_memory(path, TEXT_LABEL, TEXT_BYTES_PER_BYTE, "tokenizing the")
    lines = read_lines(path, TEXT_LABEL)
    names = lines[0].split("\t") if header else [str(number) for number in range(1, lines[0].count("\t") + 2)]
    rows = lines[1:] if header else lines
    if not rows:
        raise ToolInputError(f"{TEXT_LABEL}: the dataset has a header line but no texts")
    columns = [_column(names, params.get("text_selector", "by_index_number"), params.get("text_col"),
                       TEXT_LABEL, header, "text column")]
    if params.get("label_selector", "none") != "none":
        columns.append(_column(names, params["label_selector"], params.get("label_col"), TEXT_LABEL, header,
                               "label column"))
    needed = max(columns) + 1
    first_line = 2 if header else 1
    cells = [row.split("\t") for row in rows]
    for number, row in enumerate(cells, start=first_line):
        if len(row) < needed:
            raise ToolInputError(f"{TEXT_LABEL}: line {number} has {len(row)} columns, expected at least {needed} "
                                 f"(column {needed} is the {'text' if needed - 1 == columns[0] else 'label'} column)")
    texts = [row[columns[0]] for row in cells]
    labels = [row[columns[1]] for row in cells] if len(columns) > 1 else None
    return texts, labels


def read_vocabulary(path: str) -> dict[str, int]:
    """``{word: rank}`` from fit mode's vocabulary (word, index, count) or a Keras word index JSON; each
    rank a whole number from 1 to :data:`gxkeras.data.text.INDEX_MAX`."""
    check_file_memory(path, VOCABULARY_LABEL, VOCABULARY_BYTES_PER_BYTE, "reading the words of the")
    with open(path, "rb") as handle:
        start = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
        handle.seek(0)
        if start.startswith((b"{", b"[")):  # a word index JSON is one line of megabytes: not read by lines
            return _json_vocabulary(handle.read())
        return _tabular_vocabulary(handle)


def _not_a_vocabulary(detail: str) -> ToolInputError:
    return ToolInputError(
        f"{VOCABULARY_LABEL}: {detail}; expected the vocabulary output of this tool (header 'word<TAB>index"
        "<TAB>count') or a Keras word index JSON ({\"word\": index, ...})"
    )


def _rank(value: object, where: str) -> int:
    """A word's index as a whole number from 1 to int32's largest (larger ones would wrap round)."""
    try:
        return parse_int(value, where, 1, text.INDEX_MAX)
    except ToolInputError as error:
        raise _not_a_vocabulary(str(error)) from None


def _json_vocabulary(data: bytes) -> dict[str, int]:
    content = decode_utf8(data, VOCABULARY_LABEL).lstrip("\ufeff")
    try:
        ranks = safe_json.loads(content, VOCABULARY_LABEL)
    except ToolInputError as error:
        raise _not_a_vocabulary(str(error).removeprefix(f"{VOCABULARY_LABEL}: ").removesuffix("; expected valid JSON"))\
            from None
    if not isinstance(ranks, dict) or not ranks:
        raise _not_a_vocabulary("the JSON is not a non-empty object")
    for word, rank in ranks.items():
        if isinstance(rank, bool) or not isinstance(rank, int):
            raise _not_a_vocabulary(f"word '{word[:40]}' has index {str(rank)[:40]!r}, expected an integer of at least 1")
        _rank(rank, f"the index of the word {word[:40]!r}")
    return ranks


def _tabular_vocabulary(handle: BinaryIO) -> dict[str, int]:
    lines = bounded_lines(handle, VOCABULARY_LABEL)
    first = decode_utf8(next(lines, b""), VOCABULARY_LABEL, 1).lstrip("\ufeff").rstrip("\r\n")
    if tuple(first.split("\t"))[:2] != VOCABULARY_HEADER[:2]:
        raise _not_a_vocabulary(f"line 1 is '{first[:60]}'")
    ranks = {}
    for number, raw in enumerate(lines, start=2):
        line = decode_utf8(raw, VOCABULARY_LABEL, number).rstrip("\r\n")
        if not line:
            continue
        cells = line.split("\t")
        if len(cells) < 2:
            raise _not_a_vocabulary(f"line {number} is '{line[:60]}', expected a word and its index (1, 2, ...)")
        rank = _rank(cells[1], f"line {number}: the index of {cells[0][:40]!r}")
        if cells[0] in ranks:
            raise _not_a_vocabulary(f"line {number}: the word '{cells[0][:40]}' is listed twice")
        ranks[cells[0]] = rank
    if not ranks:
        raise _not_a_vocabulary("it lists no words")
    return ranks


def settings_from(params: dict[str, Any]) -> text.Settings:
    """The encoding settings of the form (every option; None where the form field was left empty)."""
    names = [name for name in text.Settings.__dataclass_fields__ if name in params]
    return text.Settings(**{name: params[name] for name in names}).check()


WRITE_ROWS = 1000  # rows turned into Python ints at a time (36 bytes a value, 9 times the int32 array)


def write_rows(path: str, array: np.ndarray) -> None:
    """One tab-separated row of integers per sample, no header: the X format of the training tools.

    Each distinct value is formatted once: in a list indexed by value when the values are dense (the
    fastest: 25,000 x 500 indices in 1.5 s), else in a dict of the values present (an index of 2 * 10^9
    must not make 2 * 10^9 strings).
    """
    largest = int(array.max()) + 1 if array.size else 0
    if largest <= array.size:
        strings: list[str] | dict[Any, str] = [str(value) for value in range(largest)]
    else:
        strings = {value: str(value) for value in pd.unique(array.ravel()).tolist()}
    with atomic_output(path) as handle:
        for start in range(0, len(array), WRITE_ROWS):
            handle.writelines("\t".join(map(strings.__getitem__, row)) + "\n"
                              for row in array[start:start + WRITE_ROWS].tolist())


def write_lines(path: str, lines: Iterable[str]) -> None:
    with atomic_output(path) as handle:
        handle.writelines(line + "\n" for line in lines)


def write_vocabulary(path: str, vocabulary: list[tuple[str, int]]) -> None:
    lines = ["\t".join(VOCABULARY_HEADER)]
    lines += [f"{word}\t{rank}\t{count}" for rank, (word, count) in enumerate(vocabulary, start=1)]
    write_lines(path, lines)


def run(params: dict[str, Any], outdir: str) -> str:
    """Do what the form asks; return a one-line summary for the job's stdout."""
    mode = choice(params.get("mode"), MODES, MODE_LABEL)
    settings = settings_from(params)
    output = {key: os.path.join(outdir, name) for key, name in OUTPUT_NAMES.items()}
    if mode == "decode":
        header = bool(params.get("header"))
        rows, _ = read_tabular(params["infile_sequences"], SEQUENCES_LABEL, header=header)
        check_word_indices(rows, text.INDEX_MAX + 1, SEQUENCES_LABEL, 1 + header, "word indices are int32")
        ranks = read_vocabulary(params["infile_vocabulary"])
        write_lines(output["decoded"], text.decode(rows.astype("int64"), ranks, settings))
        return f"Decoded {len(rows)} rows into words"
    texts, labels = read_texts(params["infile"], bool(params.get("header")), params)
    tokens = text.tokenize(texts, settings)
    if mode == "fit":
        vocabulary = text.fit_vocabulary(tokens)
        ranks = {word: rank for rank, (word, _) in enumerate(vocabulary, start=1)}
    else:
        ranks = read_vocabulary(params["infile_vocabulary"])
    write_rows(output["x"], text.encode(tokens, ranks, settings, VOCABULARY_LABEL if mode == "apply" else TEXT_LABEL))
    if labels is not None:
        write_lines(output["y"], labels)
    if mode == "fit":
        write_vocabulary(output["vocabulary"], vocabulary)
    return f"Encoded {len(texts)} texts into {settings.maxlen} word indices each ({len(ranks)} words in the vocabulary)"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--inputs", required=True, help="Galaxy's inputs JSON (the form's values, dataset paths)")
    parser.add_argument("--outdir", default=".", help=f"where to write {', '.join(OUTPUT_NAMES.values())}")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    print(run(flatten_sections(load_inputs(args.inputs)), args.outdir))


def output_files(argv: Iterable[str]) -> list[str]:
    """The paths this run may write, removed if it fails (``--outdir`` as parsed later)."""
    argv = list(argv)
    outdir = argv[argv.index("--outdir") + 1] if "--outdir" in argv[:-1] else "."
    return [os.path.join(outdir, name) for name in OUTPUT_NAMES.values()]


if __name__ == "__main__":
    run_tool(main, outputs=output_files(sys.argv[1:]))
