"""Exactness and speed of keras_text_to_sequences on the 25,000 raw IMDB training reviews (issue #15).

    .venv-tools/bin/python research/bench_text.py [--data ../shared/data/imdb] [--repeats 3]

1. Exactness: the tool, run as Galaxy runs it (inputs JSON -> script -> files), in apply mode with the
   Keras IMDB word index and the IMDB settings (A-Z lower-casing, num_words 10000, skip_top 50, maxlen
   500), must write X_train.tsv.gz and y_train.tsv.gz exactly: rows compared one by one.
2. Speed, side by side in one process on the same texts held in memory: our fit + encode (the tool's
   fit mode: rank the words, keep 10,000 indices, 500 per text) against Keras 3's TextVectorization
   adapt + encode with the equivalent settings (same lower-casing and separator characters, split on
   whitespace, max_tokens 10000, output_sequence_length 500). Each is run ``--repeats`` times,
   alternating; the fastest wall time of each counts (the machine is shared: see docs/performance.md),
   and the CPU time of all the process's threads is recorded beside it.

Numbers go to stdout and bench-results/text_bench.json.
"""
import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools", "scripts"))

from gxkeras.data import text# noqa: E402

IMDB = {"lower": "ascii", "num_words": 10000, "skip_top": 50, "maxlen": 500}


def gunzip(source, target):
    with gzip.open(source, "rb") as data, open(target, "wb") as out:
        out.write(data.read())


def exactness(data, workdir):
    """Run the tool in apply mode on all reviews; return (identical rows, rows, labels identical, seconds)."""
    reviews, index = os.path.join(workdir, "reviews.tsv"), os.path.join(workdir, "word_index.json")
    gunzip(os.path.join(data, "reviews_train.tsv.gz"), reviews)
    gunzip(os.path.join(data, "imdb_word_index.json.gz"), index)
    params = {"mode": "apply", "infile": reviews, "header": False, "infile_vocabulary": index,
              "text_selector": "by_index_number", "text_col": "2",
              "label_selector": "by_index_number", "label_col": "1", **IMDB}
    inputs = os.path.join(workdir, "inputs.json")
    with open(inputs, "w") as handle:
        json.dump(params, handle)
    start = time.perf_counter()
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "scripts", "keras_text_to_sequences.py"),
                    "--inputs", inputs, "--outdir", workdir], check=True)
    seconds = time.perf_counter() - start
    with gzip.open(os.path.join(data, "X_train.tsv.gz"), "rt") as expected, open(os.path.join(workdir, "X.tsv")) as got:
        expected_rows, got_rows = expected.read().splitlines(), got.read().splitlines()
    identical = sum(a == b for a, b in zip(expected_rows, got_rows, strict=False))  # lengths compared below
    with gzip.open(os.path.join(data, "y_train.tsv.gz"), "rt") as expected, open(os.path.join(workdir, "y.tsv")) as got:
        labels_identical = expected.read() == got.read()
    if len(expected_rows) != len(got_rows):
        identical = min(identical, 0)  # a missing or extra row is a failure whatever else matched
    return identical, len(expected_rows), labels_identical, seconds


def ours(texts, settings):
    tokens = text.tokenize(texts, settings)
    vocabulary = text.fit_vocabulary(tokens)
    ranks = {word: rank for rank, (word, _) in enumerate(vocabulary, start=1)}
    return text.encode(tokens, ranks, settings)


def text_vectorization(texts, settings):
    """Keras 3 TextVectorization adapt + encode, with the same lower-casing and separators."""
    import tensorflow as tf
    from keras import layers

    separators = "[" + re.escape(settings.filters + text.ALWAYS_SEPARATORS) + "]"

    def standardize(batch):
        return tf.strings.regex_replace(tf.strings.lower(batch), separators, " ")

    layer = layers.TextVectorization(max_tokens=settings.num_words, standardize=standardize, split="whitespace",
                                     output_mode="int", output_sequence_length=settings.maxlen)
    data = tf.constant(texts)
    layer.adapt(data, batch_size=1024)
    return np.asarray(layer(data))


def speed(texts, repeats):
    settings = text.Settings(num_words=10000, maxlen=500).check()
    times = {"ours": [], "text_vectorization": []}
    cpu = {"ours": [], "text_vectorization": []}
    for _ in range(repeats):
        for name, function in (("ours", ours), ("text_vectorization", text_vectorization)):
            start, start_cpu = time.perf_counter(), time.process_time()
            result = function(texts, settings)
            times[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)  # all threads: TensorFlow uses several
            if result.shape != (len(texts), 500):
                raise RuntimeError(f"{name} gave shape {result.shape}, expected ({len(texts)}, 500)")
    return times, cpu


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "imdb"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=os.path.join(ROOT, "bench-results", "text_bench.json"))
    args = parser.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    with tempfile.TemporaryDirectory() as workdir:
        identical, rows, labels_identical, tool_seconds = exactness(args.data, workdir)
        print(f"exactness: {identical:,} of {rows:,} rows identical to X_train; labels identical: {labels_identical}; "
              f"tool run (read, encode, write) {tool_seconds:.1f} s")
        with open(os.path.join(workdir, "reviews.tsv"), encoding="utf-8") as handle:
            texts = [line.rstrip("\n").split("\t", 1)[1] for line in handle]
    times, cpu = speed(texts, args.repeats)
    best = {name: min(values) for name, values in times.items()}
    best_cpu = {name: min(values) for name, values in cpu.items()}
    ratio = best["ours"] / best["text_vectorization"]
    print(f"speed on {len(texts):,} reviews (best of {args.repeats}), wall: ours {best['ours']:.2f} s, "
          f"TextVectorization {best['text_vectorization']:.2f} s, ratio ours/TextVectorization {ratio:.2f}; "
          f"CPU: ours {best_cpu['ours']:.2f} s, TextVectorization {best_cpu['text_vectorization']:.2f} s")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump({"identical_rows": identical, "rows": rows, "labels_identical": labels_identical,
                   "tool_seconds": tool_seconds, "times": times, "best": best, "ratio": ratio,
                   "cpu_times": cpu, "best_cpu": best_cpu,
                   "cpus": os.cpu_count(), "load_average": os.getloadavg()}, handle, indent=1)
    return 0 if identical == rows and labels_identical else 1


if __name__ == "__main__":
    sys.exit(main())
