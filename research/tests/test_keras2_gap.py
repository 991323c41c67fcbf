"""research/keras2_gap.py: the batch orders it feeds are Keras' own (tf-keras' needs tf-keras on the path)."""
import numpy as np
import pytest

import keras2_gap


def test_same_order_compares_batches_in_order():
    first = [np.array([1, 2]), np.array([0, 3])]
    assert keras2_gap.same_order(first, [np.array([1, 2]), np.array([0, 3])])
    assert not keras2_gap.same_order(first, [np.array([0, 3]), np.array([1, 2])])
    assert not keras2_gap.same_order(first, first[:1])


def test_batch_orders_are_keras2s_and_keras3s():
    """Epoch 1 is the same in both from one seed; Keras 3 repeats it, tf-keras draws a new one."""
    pytest.importorskip("tf_keras", reason="tf-keras is not in the tools' venv (see keras2_gap's docstring)")
    keras2, keras3 = keras2_gap.batch_orders(5, 300)
    assert [len(batch) for batch in keras2[0]] == [128, 128, 44]
    assert sorted(np.concatenate(keras2[1])) == list(range(300))
    assert keras2_gap.same_order(keras2[0], keras3[0])
    assert keras2_gap.same_order(keras3[0], keras3[1])
    assert not keras2_gap.same_order(keras2[0], keras2[1])
