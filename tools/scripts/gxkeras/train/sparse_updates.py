"""Correct optimizer updates for sparse gradients (an Embedding's) in Keras 3 on TensorFlow.

Why: on TensorFlow the gradient of an ``Embedding`` (any ``gather``) reaches the optimizer as a
``tf.IndexedSlices`` with one slice per looked-up index, duplicates included: a word that occurs n
times in a batch appears n times, the padding index 0 hundreds of times. Keras 2's optimizers summed
duplicate indices before the update (``_deduplicate_sparse_grad``); Keras 3 (up to 3.15.1 at least)
does not, and its ``update_step``s apply non-linear operations to the parts instead of to their sum:
Adam, Adamax and Nadam decay a row's moments once per occurrence and add the squares of the parts
instead of the square of their sum; RMSprop, Adadelta, Adagrad and Ftrl square the parts. The update
is then not the optimizer's update of the gradient. On the tutorial's IMDB model the Embedding ends
two steps up to 6 learning rates away from the correct update, and 2 epochs reach a test accuracy of
0.70-0.85 instead of Keras 2's 0.86-0.87 (docs/results.md, docs/keras_sparse_updates.md). SGD, with or
without momentum, is linear in the gradient and already correct; it goes through the same code.

How: every optimizer galaxy-ml's estimators build while :func:`correct_sparse_updates` is open (they
build it in ``fit``, from the saved parameters) turns ``IndexedSlices`` gradients into dense tensors
before its update (``tf.convert_to_tensor`` sums duplicate indices): the update is then exactly the one
from the dense gradient. Densifying rather than summing duplicates into unique slices, because every
affected Keras 3 optimizer but Adagrad computes its update over the whole variable anyway (its moments
decay on every row), and on the tutorial's model the dense update is the cheaper one (docs/results.md).
Nothing is stored: the model file (h5mlm) is unchanged and other galaxy-ml tools read it as before.

Remove this module, and its uses in ``gxkeras.train.fit.train`` and ``harness/seed_study.py``, once
the Keras release the tools run on sums duplicate indices itself: ``test_keras_alone_is_wrong`` in
``scripts/tests/test_sparse_updates.py`` then fails and says so (docs/keras_sparse_updates.md has the
reproducer to file upstream).
"""
import contextlib
from collections.abc import Iterator
from typing import Any


def densify_sparse_gradients(optimizer: Any) -> Any:
    """Make ``optimizer`` update from dense gradients where it is given ``tf.IndexedSlices``; return it.

    Patches this one instance's ``apply`` (which ``apply_gradients`` and Keras' training step call).
    """
    import tensorflow as tf

    apply = optimizer.apply

    def apply_dense(grads: list[Any], trainable_variables: list[Any] | None = None) -> Any:
        grads = [tf.convert_to_tensor(grad) if isinstance(grad, tf.IndexedSlices) else grad for grad in grads]
        return apply(grads, trainable_variables)

    apply_dense.densifies_sparse_gradients = True  # type: ignore[attr-defined]  # lets tests see which optimizers carry the fix
    optimizer.apply = apply_dense
    return optimizer


@contextlib.contextmanager
def correct_sparse_updates() -> Iterator[None]:
    """While open, the optimizers galaxy-ml's Keras estimators build (in ``fit``) densify sparse gradients.

    galaxy-ml builds the optimizer in its ``_optimizer`` property and compiles the model with it inside
    ``fit``, out of our reach; the property is wrapped for the duration and restored afterwards.
    """
    from galaxy_ml.keras_galaxy_models import BaseKerasModel

    build = BaseKerasModel.__dict__["_optimizer"]
    BaseKerasModel._optimizer = property(lambda estimator: densify_sparse_gradients(build.fget(estimator)))
    try:
        yield
    finally:
        BaseKerasModel._optimizer = build
