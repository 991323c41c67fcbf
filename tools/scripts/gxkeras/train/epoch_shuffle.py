"""A new batch order every epoch in Keras 3 on TensorFlow when the seed is fixed, as Keras 2 had.

Why: ``fit(shuffle=True)`` promises to shuffle the training data before each epoch. Keras 3 on the
TensorFlow backend (3.15.1 at least) builds the ``tf.data`` pipeline of an array input once, with the
permutation drawn by ``tf.random.shuffle`` inside a dataset function, and starts a new iterator over it
every epoch. With a global seed set (``keras.utils.set_random_seed``, as the training tool and galaxy-ml
do for a reproducible run) that random op restarts from the same seed in every new iterator: every epoch
draws the same permutation, so epoch 2 repeats epoch 1's batches in the same order. Keras 2 (tf-keras)
repeats the permutation dataset for all epochs inside one iterator, so its stream goes on: the first
epoch's order is the same as Keras 3's from the same seed, later epochs get new ones. On JAX and
PyTorch, Keras 3 shuffles with numpy and is not affected. docs/keras_sparse_updates.md ("What remained
after the fix") has the measurement on the tutorial's IMDB model.

How: while :func:`reshuffle_every_epoch` is open, the array adapter's ``tf.data`` pipeline is built
unshuffled by Keras and shuffled by ``Dataset.shuffle`` over all samples with the given seed and
``reshuffle_each_iteration=True``: tf.data keeps that shuffle's seed stream in the dataset, so each
new iterator (each epoch) gets the next permutation, reproducibly from the seed. Batches keep Keras'
size and its last partial batch. ``shuffle="batch"``, unshuffled data and the validation and prediction
pipelines (never shuffled) are left to Keras. Nothing is stored in the model file.

Remove this module, and its use in ``gxkeras.train.fit.train``, once Keras on TensorFlow reshuffles
seeded runs by itself: ``test_keras_alone_repeats_the_order`` in ``scripts/tests/test_epoch_shuffle.py``
then fails and says so.

The replacement leans on Keras internals (``keras.src``'s ``ArrayDataAdapter``, its ``get_tf_dataset``
and the private ``_shuffle``, ``_num_samples`` and ``_batch_size``), which no release promises to keep.
It is therefore made only on the Keras releases in :data:`RESHUFFLE_KERAS`, where the tests of
``test_epoch_shuffle.py`` passed. On any other release the tool trains with Keras' own shuffling (on
TensorFlow, a seeded fit may then repeat epoch 1's batch order) and prints one ``Warning:`` line saying
so, rather than fail: the model is still trained correctly, and a changed internal would otherwise end
in a traceback or, worse, in a patch that silently does something else. The tests fail on a release not
in the list (``test_installed_keras_is_a_release_the_reshuffle_was_checked_on``), so an upgrade is checked
before it reaches users: run that file on the new release and add it to the list once it passes.
"""
import contextlib
from collections.abc import Iterator
from typing import Any

from gxkeras.keras.environment import keras_release, keras_release_checked

# Keras releases (major.minor) on which the replacement was checked (tests/test_epoch_shuffle.py).
RESHUFFLE_KERAS = ("3.15",)


@contextlib.contextmanager
def reshuffle_every_epoch(seed: int | None) -> Iterator[None]:
    """While open, Keras' array inputs on TensorFlow get a new permutation every epoch, drawn from ``seed``.

    On a Keras release not in :data:`RESHUFFLE_KERAS` nothing is changed and a warning is printed.
    """
    if not keras_release_checked(RESHUFFLE_KERAS):
        print(f"Warning: Keras {keras_release()} is not a release the per-epoch reshuffle was checked on "
              f"({', '.join(RESHUFFLE_KERAS)}); training uses Keras' own shuffling, with which a seeded run "
              "on TensorFlow may repeat the first epoch's batch order in every epoch", flush=True)
        yield
        return
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    build = ArrayDataAdapter.get_tf_dataset

    def get_tf_dataset(adapter: Any) -> Any:
        shuffle = adapter._shuffle
        if not shuffle or shuffle == "batch":
            return build(adapter)
        adapter._shuffle = False
        try:
            ordered = build(adapter)
        finally:
            adapter._shuffle = shuffle
        return (ordered.unbatch()
                .shuffle(adapter._num_samples, seed=seed, reshuffle_each_iteration=True)
                .batch(adapter._batch_size)
                .prefetch(-1))  # tf.data.AUTOTUNE

    ArrayDataAdapter.get_tf_dataset = get_tf_dataset
    try:
        yield
    finally:
        ArrayDataAdapter.get_tf_dataset = build
