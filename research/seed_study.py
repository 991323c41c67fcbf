"""How stable is the tutorial's IMDB result? Train the tutorial's model over several seeds and variants.

    .venv-tools/bin/python research/seed_study.py --variants base,clipnorm --seeds 0,1,2 [--data DIR]
    .venv-tools/bin/python research/seed_study.py --report     # markdown tables of the runs recorded so far

Each run trains galaxy-ml 0.11's ``KerasGClassifier`` directly (no Galaxy) on X_train with the training
tool's default validation holdout (``train_test_split``, 20 %, shuffled with the seed), then predicts all
25,000 test reviews. Like the training tool, it trains inside ``gxkeras.train.sparse_updates.correct_sparse_updates``
(Keras 3 mis-updates the Embedding otherwise); ``--no-sparse-fix`` measures Keras 3 without it, as the
tools trained before (runs without the ``sparse_fix`` key in the records predate the fix). Like the tool, it
also draws a new batch order every epoch (``gxkeras.train.epoch_shuffle``; records with ``"epoch_reshuffle": true``;
older ones repeated epoch 1's order, as Keras 3 does for a seeded run). One JSON line
per run goes to stdout and to ``--out`` (appended), so a long study can be stopped and resumed.
``docs/results.md`` explains what the variants showed.

Variants (all keep the tutorial's model, loss and Adam at 0.001; all but ``epochs3`` and ``batch64`` its 2
epochs of batch 128):

- ``base``: exactly the tutorial's settings;
- ``clipnorm``: Adam with ``clipnorm=1.0`` (galaxy-ml's optimizer wrapper has no such parameter, so this
  study sets it on a subclass; it is a measurement, not what the tools do);
- ``mask_zero``: the Embedding skips the padding index 0;
- ``hard_sigmoid``: the LSTM's gates use ``hard_sigmoid``, the default of the Keras 2 releases the
  tutorial's tools were written for (its form's help still lists ``recurrent_activation='hard_sigmoid'``);
- ``full``: no validation holdout (train on all 25,000 rows);
- ``epochs3``: a third epoch (everything else as ``base``);
- ``batch64``: batches of 64 (twice the weight updates per epoch; everything else as ``base``);
- ``epochs4_best``: up to 4 epochs with ``EarlyStopping(monitor="val_loss", patience=1,
  restore_best_weights=True)``, a callback the model builder tool offers.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools" / "scripts"))  # the tools' package gxkeras
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "imdb"
VARIANTS = ("base", "clipnorm", "mask_zero", "hard_sigmoid", "full", "epochs3", "batch64", "epochs4_best")


def read_matrix(folder, name):
    """A tutorial TSV (gzipped or not) as an int32 matrix."""
    import pandas as pd

    path = folder / name
    if not path.exists():
        path = folder / (name + ".gz")
    return pd.read_csv(path, sep="\t", header=None, dtype=np.int32).to_numpy()


def model_config(variant):
    """The tutorial's architecture as Keras 3 JSON (what keras_model_config writes)."""
    import keras

    gates = "hard_sigmoid" if variant == "hard_sigmoid" else "sigmoid"
    model = keras.Sequential([
        keras.Input(shape=(500,)),
        keras.layers.Embedding(10000, 32, mask_zero=variant == "mask_zero"),
        keras.layers.LSTM(100, recurrent_activation=gates),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    return json.loads(model.to_json())["config"]


def estimator_class(clipnorm):
    from galaxy_ml.keras_galaxy_models import KerasGClassifier

    if not clipnorm:
        return KerasGClassifier

    class ClippedKerasGClassifier(KerasGClassifier):
        @property
        def _optimizer(self):
            optimizer = super()._optimizer
            return type(optimizer).from_config({**optimizer.get_config(), "clipnorm": clipnorm})

    return ClippedKerasGClassifier


def one_run(variant, seed, data, sparse_fix=True):
    import contextlib

    import keras

    from gxkeras.train.epoch_shuffle import reshuffle_every_epoch
    from gxkeras.train.sparse_updates import correct_sparse_updates
    from sklearn.metrics import confusion_matrix
    from sklearn.model_selection import train_test_split

    X, y, X_test, y_test = data
    keras.utils.set_random_seed(seed)
    if variant == "full":
        X_train, y_train, validation = X, y, None
    else:
        X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.2, random_state=seed, shuffle=True)
        validation = (X_val, y_val)
    klass = estimator_class(1.0 if variant == "clipnorm" else None)
    estimator = klass(config=model_config(variant), model_type="sequential",
                      loss="binary_crossentropy", optimizer="adam", metrics=["acc"],
                      epochs={"epochs3": 3, "epochs4_best": 4}.get(variant, 2),
                      batch_size=64 if variant == "batch64" else 128, seed=seed, verbose=2, validation_split=0.0)
    start = time.time()
    callbacks = [keras.callbacks.EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)] \
        if variant == "epochs4_best" else None
    with correct_sparse_updates() if sparse_fix else contextlib.nullcontext(), reshuffle_every_epoch(seed):
        history = estimator.fit(X_train, y_train, validation_data=validation, callbacks=callbacks)
    train_s = time.time() - start
    pred = estimator.predict(X_test, verbose=0).ravel()
    tn, fp, fn, tp = (int(v) for v in confusion_matrix(y_test, pred, labels=[0, 1]).ravel())
    return {"variant": variant, "sparse_fix": sparse_fix, "epoch_reshuffle": True, "seed": seed, "train_rows": len(y_train), "tn": tn,
            "fp": fp, "fn": fn, "tp": tp, "accuracy": round((tn + tp) / len(y_test), 4), "train_s": round(train_s, 1),
            "history": {key: [round(float(v), 4) for v in values] for key, values in history.history.items()}}


def report(path, bar=0.86):
    """Markdown: one summary row per variant, then every run; the text of docs/results.md's tables."""
    runs = [json.loads(line) for line in open(path) if line.strip()]
    for run in runs:  # name runs by what they measured: with the sparse-update fix or (older records) without,
        run["variant"] += ", fixed" if run.get("sparse_fix") else ""  # and with a new batch order every epoch
        run["variant"] += ", reshuffled" if run.get("epoch_reshuffle") else ""
    variants = list(dict.fromkeys(run["variant"] for run in runs))
    lines = ["| variant | runs | test accuracy: min / median / max | runs >= %.2f |" % bar, "| --- | ---: | --- | ---: |"]
    for variant in variants:
        values = sorted(run["accuracy"] for run in runs if run["variant"] == variant)
        lines.append(f"| {variant} | {len(values)} | {values[0]:.4f} / {float(np.median(values)):.4f} / "
                     f"{values[-1]:.4f} | {sum(value >= bar for value in values)} |")
    lines += ["", "| variant | seed | TN | FP | FN | TP | accuracy | val_acc after each epoch |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for run in sorted(runs, key=lambda run: (variants.index(run["variant"]), run["seed"])):
        val = ", ".join(f"{value:.3f}" for value in run["history"].get("val_acc", []))
        lines.append(f"| {run['variant']} | {run['seed']} | {run['tn']:,} | {run['fp']:,} | {run['fn']:,} | "
                     f"{run['tp']:,} | {run['accuracy']:.4f} | {val} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with the four tutorial TSVs")
    parser.add_argument("--variants", default="base", help=f"comma-separated, of {', '.join(VARIANTS)}")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated integers")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "seed_study.jsonl")
    parser.add_argument("--report", action="store_true", help="print the tables of the runs in --out and stop")
    parser.add_argument("--no-sparse-fix", dest="sparse_fix", action="store_false",
                        help="train without gxkeras.train.sparse_updates (Keras 3's own sparse updates)")
    args = parser.parse_args(argv)
    if args.report:
        print(report(args.out))
        return 0
    variants = args.variants.split(",")
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variant(s): {', '.join(sorted(unknown))}")
    seeds = [int(seed) for seed in args.seeds.split(",")]
    data = (read_matrix(args.data, "X_train.tsv"), read_matrix(args.data, "y_train.tsv").ravel(),
            read_matrix(args.data, "X_test.tsv"), read_matrix(args.data, "y_test.tsv").ravel())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for variant in variants:
        for seed in seeds:
            result = one_run(variant, seed, data, args.sparse_fix)
            line = json.dumps(result)
            print(line, flush=True)
            with open(args.out, "a") as handle:
                handle.write(line + "\n")


if __name__ == "__main__":
    sys.exit(main())
