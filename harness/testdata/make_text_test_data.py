"""Write the test-data slices of keras_text_to_sequences from the real IMDB data (issue #15).

    .venv-tools/bin/python harness/testdata/make_text_test_data.py [--data ../shared/data/imdb]

- imdb_text_reviews.tsv: 30 raw training reviews, ``label<TAB>text`` (rows 1-29 of reviews_train and
  row WITH_CAPITAL_ACCENT, a review whose capital letters outside A-Z make Unicode lower-casing differ
  from the IMDB conventions), with imdb_text_X.tsv / imdb_text_y.tsv: their rows of X_train / y_train;
- imdb_text_word_index.json: the part of the Keras IMDB word index these reviews' words need (the
  whole index is 88,584 words; the encoding only looks up words that occur);
- imdb_text_train.tsv: 100 further reviews, the workflow test's training text (its test text is
  imdb_text_reviews.tsv).
"""
import argparse
import gzip
import json
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))  # harness/testdata/ -> the repository
sys.path.insert(0, os.path.join(ROOT, "tools", "scripts"))

from gxkeras.data import text# noqa: E402

SLICE_ROWS = list(range(29))
TRAIN_ROWS = range(100, 200)


def lines(path):
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return handle.read().split("\n")


def first_accent_row(reviews):
    """The first review whose Unicode lower-casing differs from A-Z lower-casing."""
    for row, review in enumerate(reviews):
        body = review.split("\t", 1)[-1]
        if body.lower() != body.translate(text._ASCII_LOWER):
            return row
    raise SystemExit("no review with capitals outside A-Z")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "imdb"))
    args = parser.parse_args()
    reviews = lines(os.path.join(args.data, "reviews_train.tsv.gz"))
    x_rows = lines(os.path.join(args.data, "X_train.tsv.gz"))
    rows = SLICE_ROWS + [first_accent_row(reviews)]
    out = os.path.join(ROOT, "test-data")

    def write(name, items):
        with open(os.path.join(out, name), "w", encoding="utf-8", newline="") as handle:
            handle.writelines(item + "\n" for item in items)

    write("imdb_text_reviews.tsv", [reviews[row] for row in rows])
    write("imdb_text_X.tsv", [x_rows[row] for row in rows])
    write("imdb_text_y.tsv", [reviews[row].split("\t", 1)[0] for row in rows])
    write("imdb_text_train.tsv", [reviews[row] for row in TRAIN_ROWS])
    with gzip.open(os.path.join(args.data, "imdb_word_index.json.gz"), "rt") as handle:
        index = json.load(handle)
    settings = text.Settings(lower="ascii")
    words = set(text.tokenize([reviews[row].split("\t", 1)[1] for row in rows], settings).words)
    subset = {word: rank for word, rank in index.items() if word in words}
    with open(os.path.join(out, "imdb_text_word_index.json"), "w") as handle:
        json.dump(subset, handle, sort_keys=True)
        handle.write("\n")
    print(f"rows {rows[-1]} (accented capitals) and 0-28; {len(subset)} of {len(index)} index words")


if __name__ == "__main__":
    main()
