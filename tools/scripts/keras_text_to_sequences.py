"""keras_text_to_sequences: raw text -> rows of word indices ("Turn text into word-index sequences" tool).

Three modes, chosen in the form:

- ``fit``: rank the words of this text (the training set) into a vocabulary and encode the text;
- ``apply``: encode new text (the test set) with a vocabulary made earlier, by fit mode or the Keras
  IMDB word index JSON, so that test text never changes the vocabulary;
- ``decode``: turn rows of word indices back into words, to see what a model sees.

The encoding itself (tokens, ranks, indices, padding) is in :mod:`gxkeras.text`; this module reads
and writes Galaxy datasets. Outputs are written into ``--outdir`` under fixed names (the tool XML
collects them with ``from_work_dir``); a failed job leaves none behind.
"""
import argparse
import json
import os
import sys

from gxkeras import text
from gxkeras.errors import ToolInputError, run_tool
from gxkeras.galaxy_inputs import flatten_sections, load_inputs
from gxkeras.tabular import read_tabular, select_columns

TEXT_LABEL = "Text dataset"
VOCABULARY_LABEL = "Vocabulary"
SEQUENCES_LABEL = "Sequences dataset"
OUTPUT_NAMES = {"x": "X.tsv", "y": "y.tsv", "vocabulary": "vocabulary.tsv", "decoded": "decoded.tsv"}
VOCABULARY_HEADER = ("word", "index", "count")
MODES = ("fit", "apply", "decode")


def decode_utf8(data, label):
    """The bytes as text; non-UTF-8 bytes are refused with the line they are on."""
    try:
        return data.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = data[error.start:error.start + 1].hex()
        raise ToolInputError(f"{label}: line {line} is not UTF-8 text (byte 0x{byte}): save the file as UTF-8") from None


def read_lines(path, label):
    """The dataset's lines, split on newlines only: text may hold any other Unicode separator."""
    with open(path, "rb") as handle:
        content = decode_utf8(handle.read(), label)
    lines = content.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise ToolInputError(f"{label} ({path}): the dataset is empty, expected one text per line")
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _column(names, option, columns, label, header, what):
    """0-based index of the one column chosen in a column conditional (by number or header name)."""
    chosen = select_columns(names, option, columns, f"{label}, {what}", header)
    if len(chosen) != 1:
        raise ToolInputError(f"{label}, {what}: choose one column, not {len(chosen)}")
    return chosen[0]


def read_texts(path, header, params):
    """``(texts, labels or None)`` from a tabular dataset with a text column and an optional label column.

    ``params``: the form's column choices, ``text_selector``/``text_col`` and ``label_selector``/``label_col``
    (selector values as in :data:`gxkeras.tabular.COLUMN_OPTIONS`, or "none" for no label column).
    """
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


def read_vocabulary(path):
    """``{word: rank}`` from fit mode's vocabulary (word, index, count) or a Keras word index JSON."""
    with open(path, "rb") as handle:
        content = decode_utf8(handle.read(), VOCABULARY_LABEL)
    if content.lstrip().startswith(("{", "[")):
        return _json_vocabulary(content)
    return _tabular_vocabulary(content)


def _not_a_vocabulary(detail):
    return ToolInputError(
        f"{VOCABULARY_LABEL}: {detail}; expected the vocabulary output of this tool (header 'word<TAB>index"
        "<TAB>count') or a Keras word index JSON ({\"word\": index, ...})"
    )


def _json_vocabulary(content):
    try:
        ranks = json.loads(content)
    except ValueError as error:
        raise _not_a_vocabulary(f"not valid JSON ({error})") from None
    if not isinstance(ranks, dict) or not ranks:
        raise _not_a_vocabulary("the JSON is not a non-empty object")
    for word, rank in ranks.items():
        if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
            raise _not_a_vocabulary(f"word '{word}' has index {json.dumps(rank)}, expected an integer of at least 1")
    return ranks


def _tabular_vocabulary(content):
    lines = content.split("\n")
    header = tuple(lines[0].rstrip("\r").split("\t"))
    if header[:2] != VOCABULARY_HEADER[:2]:
        raise _not_a_vocabulary(f"line 1 is '{lines[0][:60]}'")
    ranks = {}
    for number, line in enumerate(lines[1:], start=2):
        line = line.rstrip("\r")
        if not line:
            continue
        cells = line.split("\t")
        if len(cells) < 2 or not cells[1].isdigit() or int(cells[1]) < 1:
            raise _not_a_vocabulary(f"line {number} is '{line[:60]}', expected a word and its index (1, 2, ...)")
        if cells[0] in ranks:
            raise _not_a_vocabulary(f"line {number}: the word '{cells[0]}' is listed twice")
        ranks[cells[0]] = int(cells[1])
    if not ranks:
        raise _not_a_vocabulary("it lists no words")
    return ranks


def settings_from(params):
    """The encoding settings of the form (every option; None where the form field was left empty)."""
    names = [name for name in text.Settings.__dataclass_fields__ if name in params]
    return text.Settings(**{name: params[name] for name in names}).check()


def write_rows(path, array):
    """One tab-separated row of integers per sample, no header: the X format of the training tools."""
    strings = [str(value) for value in range(int(array.max()) + 1)] if array.size else []
    with open(path, "w") as handle:
        handle.writelines("\t".join(map(strings.__getitem__, row)) + "\n" for row in array.tolist())


def write_lines(path, lines):
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(line + "\n" for line in lines)


def write_vocabulary(path, vocabulary):
    lines = ["\t".join(VOCABULARY_HEADER)]
    lines += [f"{word}\t{rank}\t{count}" for rank, (word, count) in enumerate(vocabulary, start=1)]
    write_lines(path, lines)


def run(params, outdir):
    """Do what the form asks; return a one-line summary for the job's stdout."""
    mode = params.get("mode")
    if mode not in MODES:
        raise ToolInputError(f"mode: '{mode}' is not one of {', '.join(MODES)}")
    settings = settings_from(params)
    output = {key: os.path.join(outdir, name) for key, name in OUTPUT_NAMES.items()}
    if mode == "decode":
        rows, _ = read_tabular(params["infile_sequences"], SEQUENCES_LABEL, header=bool(params.get("header")))
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
    write_rows(output["x"], text.encode(tokens, ranks, settings))
    if labels is not None:
        write_lines(output["y"], labels)
    if mode == "fit":
        write_vocabulary(output["vocabulary"], vocabulary)
    return f"Encoded {len(texts)} texts into {settings.maxlen} word indices each ({len(ranks)} words in the vocabulary)"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", required=True, help="Galaxy's inputs JSON (the form's values, dataset paths)")
    parser.add_argument("--outdir", default=".", help=f"where to write {', '.join(OUTPUT_NAMES.values())}")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    print(run(flatten_sections(load_inputs(args.inputs)), args.outdir))


def output_files(argv):
    """The paths this run may write, removed if it fails (``--outdir`` as parsed later)."""
    argv = list(argv)
    outdir = argv[argv.index("--outdir") + 1] if "--outdir" in argv[:-1] else "."
    return [os.path.join(outdir, name) for name in OUTPUT_NAMES.values()]


if __name__ == "__main__":
    run_tool(main, outputs=output_files(sys.argv[1:]))
