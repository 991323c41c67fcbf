"""gxkeras.train.sparse_updates: every optimizer the tools build updates from an Embedding's sparse gradient
exactly as from the same gradient in dense form (the two-step check of issue 12), and the training
tool trains with it.
"""
import json

import numpy as np
import pytest

from gxkeras.keras.estimators import make_estimator
from gxkeras.keras.options import OPTIMIZER_ARGS
from gxkeras.keras.environment import import_keras
from gxkeras.train.sparse_updates import correct_sparse_updates

# Options that make each optimizer's mistakes visible in two steps: a large learning rate, and SGD with
# momentum (the form's option; without it SGD has no state at all).
OPTIMIZERS = tuple(OPTIMIZER_ARGS)  # every optimizer the builder offers
OPTIONS = {name: {"learning_rate": 0.1, **({"momentum": 0.9} if name == "sgd" else {})} for name in OPTIMIZERS}
# Keras 3.15.1 gets these wrong by itself; SGD (with or without momentum) is linear in the gradient.
WRONG_IN_KERAS = [name for name in OPTIMIZERS if name != "sgd"]

# Two steps of an Embedding's gradient as Keras 3 on TensorFlow delivers it: one slice per looked-up
# index, duplicates included. Rows 0, 2 and 5 occur only in step 1, row 4 never: the dense update still
# moves them (moments decay, momentum carries on), which a lazy sparse update would miss.
SHAPE = (6, 3)
STEPS = [np.array([0, 0, 0, 2, 2, 5]), np.array([1, 1, 3, 3, 3, 3])]


def gradients():
    """The two steps' gradients as (sparse, dense) pairs; the dense sums duplicate rows (numpy)."""
    import tensorflow as tf

    rng = np.random.default_rng(7)
    pairs = []
    for indices in STEPS:
        values = rng.normal(size=(len(indices), SHAPE[1])).astype("float32")
        dense = np.zeros(SHAPE, "float32")
        np.add.at(dense, indices, values)
        pairs.append((tf.IndexedSlices(tf.constant(values), tf.constant(indices), tf.constant(SHAPE)),
                      tf.constant(dense)))
    return pairs


def built_optimizer(name):
    """The optimizer galaxy-ml builds in ``fit`` for an estimator made like the builder tool makes it."""
    estimator = make_estimator("KerasGClassifier", {"layers": []}, "sequential", loss="binary_crossentropy",
                               optimizer=name, **OPTIONS[name])
    return estimator._optimizer


def two_steps(optimizer, grads):
    """The variable after two updates, applied as Keras' training step applies them (in a tf.function)."""
    import tensorflow as tf

    keras = import_keras()
    variable = keras.Variable(np.linspace(-0.05, 0.05, np.prod(SHAPE), dtype="float32").reshape(SHAPE))
    step = tf.function(lambda grad: optimizer.apply_gradients([(grad, variable)]))
    for grad in grads:
        step(grad)
    return variable.numpy()


def sparse_vs_dense(name):
    """Largest difference between the two-step updates from the sparse and from the dense gradients,
    relative to the largest change the dense updates made (Adadelta's steps are 1,000 times smaller)."""
    pairs = gradients()
    sparse = two_steps(built_optimizer(name), [pair[0] for pair in pairs])
    dense = two_steps(built_optimizer(name), [pair[1] for pair in pairs])
    change = np.abs(dense - two_steps(built_optimizer(name), [])).max()
    assert change > 0
    return float(np.abs(sparse - dense).max() / change)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_sparse_update_equals_dense(name):
    with correct_sparse_updates():
        assert sparse_vs_dense(name) < 1e-5


@pytest.mark.parametrize("name", WRONG_IN_KERAS)
def test_keras_alone_is_wrong(name):
    """The reason for gxkeras.train.sparse_updates (Keras 3.15.1: 40-70 % of the update). When this fails, Keras
    has fixed it: remove the module (see its docstring)."""
    difference = sparse_vs_dense(name)
    assert difference > 0.05, (f"Keras now updates {name} correctly from sparse gradients (relative difference "
                               f"{difference:.1e}): remove gxkeras.train.sparse_updates, see its docstring")


def test_fix_is_scoped_to_the_block():
    from galaxy_ml.keras_galaxy_models import BaseKerasModel

    original = BaseKerasModel.__dict__["_optimizer"]
    with pytest.raises(RuntimeError):
        with correct_sparse_updates():
            assert getattr(built_optimizer("adam").apply, "densifies_sparse_gradients", False)
            raise RuntimeError("training failed")
    assert BaseKerasModel.__dict__["_optimizer"] is original
    assert not hasattr(built_optimizer("adam").apply, "densifies_sparse_gradients")


def test_training_tool_trains_with_the_fix():
    import keras_train_and_eval as kte

    keras = import_keras()
    model = keras.Sequential([keras.Input((6,)), keras.layers.Embedding(12, 4), keras.layers.Flatten(),
                              keras.layers.Dense(1, activation="sigmoid")])
    estimator = make_estimator("KerasGClassifier", json.loads(model.to_json())["config"], "sequential",
                               loss="binary_crossentropy", optimizer="rmsprop", epochs=1, batch_size=8, seed=0,
                               verbose=0)
    rng = np.random.default_rng(0)
    X, y = rng.integers(0, 12, size=(24, 6)), np.arange(24) % 2
    kte.train(estimator, X[:16], y[:16], X[16:], y[16:])
    assert getattr(estimator.model_.optimizer.apply, "densifies_sparse_gradients", False)
