"""gxkeras.train.epoch_shuffle: a seeded fit on TensorFlow draws a new batch order every epoch (Keras 3 alone
repeats epoch 1's), reproducibly from the seed, and the training tool trains with it.
"""
import contextlib

import numpy as np
import pytest

from gxkeras.keras import environment as keras_env
from gxkeras.train.epoch_shuffle import RESHUFFLE_KERAS, reshuffle_every_epoch
from gxkeras.keras.environment import import_keras

SAMPLES, BATCH, EPOCHS = 40, 8, 3


def batch_orders(seed, reshuffle, shuffle=True):
    """The sample numbers of each training batch, per epoch, of a seeded 3-epoch fit (with validation data)."""
    import tensorflow as tf

    keras = import_keras()
    keras.utils.set_random_seed(seed)
    seen = []

    class Record(keras.layers.Layer):
        """Passes its input on and records the batch (sample numbers are the input); training batches only."""

        def call(self, inputs, training=None):
            if training:
                tf.py_function(lambda batch: seen.append(batch.numpy()[:, 0].astype(int).tolist()) or 0,
                               [inputs], tf.int32)
            return inputs

    inputs = keras.Input((1,))
    model = keras.Model(inputs, keras.layers.Dense(1)(Record()(inputs)))
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.arange(SAMPLES, dtype="float32").reshape(-1, 1), np.zeros((SAMPLES, 1), "float32")
    with reshuffle_every_epoch(seed) if reshuffle else contextlib.nullcontext():
        model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=shuffle, validation_data=(x[:16], y[:16]), verbose=0)
    steps = SAMPLES // BATCH
    assert len(seen) == EPOCHS * steps
    return [seen[epoch * steps:(epoch + 1) * steps] for epoch in range(EPOCHS)]


def test_keras_alone_repeats_the_order():
    """The reason for gxkeras.train.epoch_shuffle (Keras 3.15.1). When this fails, Keras reshuffles seeded runs
    itself: remove the module (see its docstring)."""
    orders = batch_orders(3, reshuffle=False)
    assert orders[0] == orders[1] == orders[2], ("Keras 3 now draws a new batch order every epoch of a seeded "
                                                 "fit: remove gxkeras.train.epoch_shuffle, see its docstring")


def test_every_epoch_gets_a_new_permutation():
    orders = batch_orders(3, reshuffle=True)
    for epoch in orders:
        assert [len(batch) for batch in epoch] == [BATCH] * (SAMPLES // BATCH)
        assert sorted(sum(epoch, [])) == list(range(SAMPLES))  # every sample once per epoch
        assert sum(epoch, []) != list(range(SAMPLES))  # shuffled
    assert orders[0] != orders[1] and orders[1] != orders[2] and orders[0] != orders[2]


def test_the_orders_come_from_the_seed():
    assert batch_orders(3, reshuffle=True) == batch_orders(3, reshuffle=True)
    assert batch_orders(3, reshuffle=True) != batch_orders(4, reshuffle=True)


def test_unshuffled_fit_is_left_alone():
    assert batch_orders(3, reshuffle=True, shuffle=False)[1] == [list(range(start, start + BATCH))
                                                                 for start in range(0, SAMPLES, BATCH)]


def test_installed_keras_is_a_release_the_reshuffle_was_checked_on():
    """Fails after a Keras upgrade until this file's tests have passed on the new release and it is added
    to RESHUFFLE_KERAS (until then the tool trains with Keras' own shuffling and warns)."""
    import keras

    assert keras_env.keras_release_checked(RESHUFFLE_KERAS), (
        f"Keras {keras.__version__} is not in epoch_shuffle.RESHUFFLE_KERAS {RESHUFFLE_KERAS}: run "
        "test_epoch_shuffle.py on it and add its major.minor there once the tests pass")


def test_the_keras_internals_it_replaces_are_there():
    """What get_tf_dataset's replacement reads from Keras' private adapter, named so a change is plain."""
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    x = np.zeros((SAMPLES, 1), "float32")
    adapter = ArrayDataAdapter(x, x, batch_size=BATCH, shuffle=True)
    assert (adapter._shuffle, adapter._num_samples, adapter._batch_size) == (True, SAMPLES, BATCH)
    assert callable(ArrayDataAdapter.get_tf_dataset)


def test_an_unchecked_keras_release_is_left_alone_with_a_warning(monkeypatch, capsys):
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    original = ArrayDataAdapter.get_tf_dataset
    monkeypatch.setattr(keras_env.importlib.metadata, "version", lambda _name: "3.99.0")
    with reshuffle_every_epoch(0):
        assert ArrayDataAdapter.get_tf_dataset is original
    assert capsys.readouterr().out.startswith("Warning: Keras 3.99 is not a release the per-epoch reshuffle was "
                                              f"checked on ({', '.join(RESHUFFLE_KERAS)}); training uses Keras' "
                                              "own shuffling")


def test_the_patch_is_scoped_to_the_block():
    from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

    original = ArrayDataAdapter.get_tf_dataset
    with pytest.raises(RuntimeError):
        with reshuffle_every_epoch(0):
            assert ArrayDataAdapter.get_tf_dataset is not original
            raise RuntimeError("training failed")
    assert ArrayDataAdapter.get_tf_dataset is original


def test_training_tool_trains_with_it(monkeypatch):
    import json

    import keras_train_and_eval as kte
    from gxkeras.keras.estimators import make_estimator
    from gxkeras.train import fit

    seeds = []
    real = fit.reshuffle_every_epoch

    def spy(seed):
        seeds.append(seed)
        return real(seed)

    monkeypatch.setattr(fit, "reshuffle_every_epoch", spy)
    keras = import_keras()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    estimator = make_estimator("KerasGClassifier", json.loads(model.to_json())["config"], "sequential",
                               loss="binary_crossentropy", optimizer="sgd", epochs=2, batch_size=4, seed=11, verbose=0)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 3)), np.arange(16) % 2
    kte.train(estimator, X[:12], y[:12], X[12:], y[12:])
    assert seeds == [11]
