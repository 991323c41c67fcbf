"""What does gxkeras.train.sparse_updates cost? Time the tutorial model's training step with and without it.

    .venv-tools/bin/python research/sparse_update_cost.py [--rounds 30] [--data DIR]

Three copies of the tutorial's model (Embedding(10000, 32) -> LSTM(100) -> Dense(1, sigmoid), Adam 0.001)
train on the same real batches of 128 reviews, in turns, so that the load of a shared machine hits all
three alike: ``keras`` (Keras 3's own update from the IndexedSlices, the incorrect one), ``dense`` (the
fix: the gradient densified, ``gxkeras.train.sparse_updates``) and ``unique`` (the alternative: duplicate
indices summed into unique slices). Prints the median and mean step time of each, then the Adam update
of the Embedding alone, from one real batch's gradient. docs/results.md records the numbers.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools" / "scripts"))
sys.path.insert(0, str(ROOT / "harness"))

from seed_study import DEFAULT_DATA, read_matrix  # noqa: E402  (the same data and reader as the seed study)

BATCH = 128


def sum_duplicates(optimizer):
    """The alternative to densifying: one slice per row, duplicate indices summed."""
    import tensorflow as tf

    apply = optimizer.apply

    def apply_unique(grads, trainable_variables=None):
        def unique(grad):
            rows, positions = tf.unique(grad.indices)
            return tf.IndexedSlices(tf.math.unsorted_segment_sum(grad.values, positions, tf.shape(rows)[0]),
                                    rows, grad.dense_shape)
        grads = [unique(grad) if isinstance(grad, tf.IndexedSlices) else grad for grad in grads]
        return apply(grads, trainable_variables)

    optimizer.apply = apply_unique
    return optimizer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with the tutorial TSVs")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)

    from gxkeras.keras.environment import import_keras
    from gxkeras.train.sparse_updates import densify_sparse_gradients

    keras = import_keras()
    import tensorflow as tf

    X = read_matrix(args.data, "X_train.tsv")[: BATCH * 40]
    y = read_matrix(args.data, "y_train.tsv")[: BATCH * 40].astype("float32")
    fixes = {"keras": lambda optimizer: optimizer, "dense": densify_sparse_gradients, "unique": sum_duplicates}
    models = {}
    for name, fix in fixes.items():
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((500,)), keras.layers.Embedding(10000, 32), keras.layers.LSTM(100),
                                  keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer=fix(keras.optimizers.Adam()), loss="binary_crossentropy", metrics=["acc"])
        model.train_on_batch(X[:BATCH], y[:BATCH])  # builds and traces the step
        models[name] = model
    times = {name: [] for name in models}
    for round_ in range(args.rounds):
        rows = slice(BATCH * (round_ % 39 + 1), BATCH * (round_ % 39 + 2))
        for name, model in models.items():
            start = time.perf_counter()
            model.train_on_batch(X[rows], y[rows])
            times[name].append(time.perf_counter() - start)
    for name, seconds in times.items():
        print(f"training step, {name:6s}: median {1000 * np.median(seconds):.0f} ms, "
              f"mean {1000 * np.mean(seconds):.0f} ms ({len(seconds)} steps)")

    model = models["keras"]
    with tf.GradientTape() as tape:
        loss = keras.losses.binary_crossentropy(y[BATCH:2 * BATCH], model(X[BATCH:2 * BATCH]))
    gradient = tape.gradient(loss, model.layers[0].embeddings)
    print(f"Embedding gradient of one batch: {gradient.values.shape[0]} slices, "
          f"{len(np.unique(gradient.indices.numpy()))} distinct rows of 10,000")
    for name, fix in fixes.items():
        variable = keras.Variable(model.layers[0].embeddings.numpy())
        optimizer = fix(keras.optimizers.Adam())
        step = tf.function(lambda grad, optimizer=optimizer, variable=variable: optimizer.apply([grad], [variable]))
        step(gradient)
        start = time.perf_counter()
        for _ in range(50):
            step(gradient)
        print(f"Adam update of the Embedding alone, {name:6s}: {1000 * (time.perf_counter() - start) / 50:.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
