"""What is left between Keras 2 (tf-keras) and Keras 3 with our sparse-update fix, on the tutorial's IMDB model.

Needs tf-keras beside the tools' venv (not part of it; same TensorFlow 2.21):

    .venv-tools/bin/pip install --no-deps --target /tmp/tfk 'tf-keras==2.21.*'
    PYTHONPATH=/tmp/tfk nice -n 5 .venv-tools/bin/python research/keras2_gap.py steps --seed 2 --steps 100
    PYTHONPATH=/tmp/tfk nice -n 5 .venv-tools/bin/python research/keras2_gap.py train --seed 2 \\
        --keras 2 --order keras2 [--out docs/keras2_gap.jsonl]

Both modes start from the training tool's own initial weights for the seed (galaxy-ml's
``KerasGClassifier`` built as ``keras_train_and_eval`` builds it) and its validation holdout (20 %,
``train_test_split`` with the seed), and feed explicit batches with ``train_on_batch``, so that every
model sees exactly the same data in the same order:

- ``steps``: models in lock step on the first ``--steps`` batches of epoch 1: Keras 2, Keras 3 with the
  fix (densified sparse gradients), the same with one Dense weight moved by one float ulp (how fast float
  noise grows in this model), and with ``--nofix`` Keras 3 without the fix. Prints, every ``--every``
  steps, each model's loss and the largest weight difference to Keras 2 (and of the ulp copy to its
  original), per weight array (Embedding, LSTM kernel, recurrent kernel, bias, Dense kernel, bias).
- ``train``: one full run (2 epochs, batch 128) of ``--keras 2`` or ``3`` (with the fix) in the batch
  order ``--order keras2`` (what tf-keras' ``fit`` draws from the seed: epoch 1's permutation, then a
  new one) or ``keras3`` (what Keras 3's ``fit`` on TensorFlow draws: epoch 1's permutation again in
  every epoch; see gxkeras/train/epoch_shuffle.py); validation accuracy after each epoch, then the confusion
  matrix on the 25,000 test reviews. One JSON line to stdout and ``--out``.

The batch orders are Keras' own: the permutations its data adapters draw after ``tf.random.set_seed``,
read from tf-keras' adapter (epoch 1 is checked to equal Keras 3's). docs/keras_sparse_updates.md
("What remained after the fix") has the results.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools" / "scripts"))  # the tools' package gxkeras
sys.path.insert(0, str(ROOT / "research"))
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "imdb"
BATCH = 128


def load(folder):
    """(X_train, y_train, X_test, y_test) of the tutorial's TSVs."""
    from seed_study import read_matrix

    return (read_matrix(folder, "X_train.tsv"), read_matrix(folder, "y_train.tsv").ravel(),
            read_matrix(folder, "X_test.tsv"), read_matrix(folder, "y_test.tsv").ravel())


def tool_start(seed, X, y):
    """The training tool's holdout and initial weights for ``seed``: (train rows, validation rows, weights)."""
    import keras
    from galaxy_ml.keras_galaxy_models import KerasGClassifier
    from seed_study import model_config
    from sklearn.model_selection import train_test_split

    train, validation = train_test_split(np.arange(len(y)), test_size=0.2, random_state=seed, shuffle=True)
    keras.utils.set_random_seed(seed)  # as keras_train_and_eval.train, then galaxy-ml seeds and builds in fit
    estimator = KerasGClassifier(config=model_config("base"), model_type="sequential", loss="binary_crossentropy",
                                 optimizer="adam", metrics=["acc"], epochs=0, batch_size=BATCH, seed=seed,
                                 verbose=0, validation_split=0.0)
    estimator.fit(X[train[:BATCH]], y[train[:BATCH]])
    return train, validation, estimator.model_.get_weights()


def batch_orders(seed, n_samples, epochs=2):
    """Keras' batch orders for ``seed``: (tf-keras' list of epochs, Keras 3's); each epoch a list of index arrays.

    Read from the data adapters themselves, fed the sample numbers as data, after ``tf.random.set_seed``
    (galaxy-ml sets it in ``fit`` before Keras builds the pipeline).
    """
    import tensorflow as tf
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter
    from tf_keras.src.engine.data_adapter import TensorLikeDataAdapter

    rows = np.arange(n_samples)
    per_epoch = -(-n_samples // BATCH)
    tf.random.set_seed(seed)
    keras2 = [batch.numpy() for batch in TensorLikeDataAdapter(rows, batch_size=BATCH, epochs=epochs,
                                                                 shuffle=True).get_dataset()]
    tf.random.set_seed(seed)
    adapter = ArrayDataAdapter(rows, batch_size=BATCH, shuffle=True)
    dataset = adapter.get_tf_dataset()
    keras3 = [[batch[0].numpy() if isinstance(batch, tuple) else batch.numpy() for batch in dataset]
              for _ in range(epochs)]  # a new iterator each epoch, as Keras 3's epoch iterator does
    keras2 = [keras2[epoch * per_epoch:(epoch + 1) * per_epoch] for epoch in range(epochs)]
    return keras2, keras3


def same_order(first, second):
    """Whether two epochs' batch lists are the same batches in the same order."""
    return len(first) == len(second) and all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


def keras2_model(weights):
    import tf_keras

    model = tf_keras.Sequential([tf_keras.Input(shape=(500,)), tf_keras.layers.Embedding(10000, 32),
                                 tf_keras.layers.LSTM(100), tf_keras.layers.Dense(1, activation="sigmoid")])
    model.set_weights(weights)
    model.compile(optimizer=tf_keras.optimizers.Adam(0.001), loss="binary_crossentropy", metrics=["acc"])
    return model


def keras3_model(weights, fix=True):
    import keras
    from gxkeras.train.sparse_updates import densify_sparse_gradients

    model = keras.Sequential([keras.Input(shape=(500,)), keras.layers.Embedding(10000, 32),
                              keras.layers.LSTM(100), keras.layers.Dense(1, activation="sigmoid")])
    model.set_weights(weights)
    optimizer = keras.optimizers.Adam(0.001)
    model.compile(optimizer=densify_sparse_gradients(optimizer) if fix else optimizer,
                  loss="binary_crossentropy", metrics=["acc"])
    return model


def step(model, x, y):
    """One update on one batch; the batch's loss before the update."""
    model.reset_metrics()
    result = model.train_on_batch(x, y)
    return float(result[0] if isinstance(result, (list, tuple)) else result)


def max_difference(first, second):
    """Per weight array, the largest absolute difference (Embedding, LSTM kernel, recurrent, bias, Dense...)."""
    return [float(np.abs(a - b).max()) for a, b in zip(first.get_weights(), second.get_weights(), strict=True)]


def run_steps(seed, steps, data, every=10, with_nofix=False):
    X, y, _, _ = data
    train, _, weights = tool_start(seed, X, y)
    keras2, keras3 = batch_orders(seed, len(train))
    if not same_order(keras2[0], keras3[0]):
        raise SystemExit("epoch 1 of tf-keras and Keras 3 differ: the batches would not be the same")
    nudged = [w.copy() for w in weights]
    nudged[-2][0, 0] = np.nextafter(nudged[-2][0, 0], np.float32(1))  # one Dense weight, one ulp up
    models = {"keras2": keras2_model(weights), "keras3_fix": keras3_model(weights),
              "keras3_fix_ulp": keras3_model(nudged)}
    if with_nofix:
        models["keras3_nofix"] = keras3_model(weights, fix=False)
    rows = []
    for number, batch in enumerate(keras2[0][:steps], start=1):
        rows_x, rows_y = X[train[batch]], y[train[batch]].astype("float32")
        losses = {name: step(model, rows_x, rows_y) for name, model in models.items()}
        if number % every and number not in (1, 2, steps):
            continue
        row = {"step": number, "loss": losses,
               "max_diff_to_keras2": {name: max_difference(model, models["keras2"])
                                      for name, model in models.items() if name != "keras2"},
               "max_diff_ulp_copy": max_difference(models["keras3_fix_ulp"], models["keras3_fix"])}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def run_train(seed, which, order, data, epochs=2, test=True):
    from sklearn.metrics import confusion_matrix

    X, y, X_test, y_test = data
    train, validation, weights = tool_start(seed, X, y)
    keras2, keras3 = batch_orders(seed, len(train), epochs)
    model = keras2_model(weights) if which == "2" else keras3_model(weights)
    history, start = {"loss": [], "val_acc": [], "val_loss": []}, time.time()
    for epoch in (keras2 if order == "keras2" else keras3):
        losses = [step(model, X[train[batch]], y[train[batch]].astype("float32")) for batch in epoch]
        val_loss, val_acc = model.evaluate(X[validation], y[validation], batch_size=BATCH, verbose=0)
        history["loss"].append(round(float(np.mean(losses)), 4))
        history["val_loss"].append(round(float(val_loss), 4))
        history["val_acc"].append(round(float(val_acc), 4))
        print(json.dumps({"epoch": len(history["loss"]), **{k: v[-1] for k, v in history.items()}}), flush=True)
    result = {"keras": which, "order": order, "seed": seed, "epochs": epochs, "train_s": round(time.time() - start, 1),
              "history": history}
    if test:
        pred = (model.predict(X_test, batch_size=1024, verbose=0).ravel() > 0.5).astype(int)
        tn, fp, fn, tp = (int(v) for v in confusion_matrix(y_test, pred, labels=[0, 1]).ravel())
        result.update(tn=tn, fp=fp, fn=fn, tp=tp, accuracy=round((tn + tp) / len(y_test), 4))
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("steps", "train"))
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--steps", type=int, default=100, help="steps: how many batches of epoch 1")
    parser.add_argument("--every", type=int, default=10, help="steps: print every this many steps")
    parser.add_argument("--nofix", action="store_true", help="steps: also Keras 3 without the fix")
    parser.add_argument("--keras", choices=("2", "3"), default="2", help="train: Keras 2, or Keras 3 with the fix")
    parser.add_argument("--order", choices=("keras2", "keras3"), default="keras2", help="train: whose batch order")
    parser.add_argument("--epochs", type=int, default=2, help="train: epochs")
    parser.add_argument("--no-test", dest="test", action="store_false", help="train: skip the test set")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with the four tutorial TSVs")
    parser.add_argument("--out", type=Path, help="append the JSON result(s) to this file")
    args = parser.parse_args(argv)
    data = load(args.data)
    results = run_steps(args.seed, args.steps, data, args.every, args.nofix) if args.mode == "steps" else \
        [run_train(args.seed, args.keras, args.order, data, args.epochs, args.test)]
    if args.mode == "train":
        print(json.dumps(results[0]), flush=True)
    if args.out:
        with open(args.out, "a") as handle:
            handle.writelines(json.dumps({"mode": args.mode, "seed": args.seed, **row}) + "\n" for row in results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
