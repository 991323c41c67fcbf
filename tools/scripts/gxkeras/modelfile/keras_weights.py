"""Keras weights read from a file, checked against the model they are loaded into before any value is read.

Both of Keras' layouts: the Keras 2 HDF5 one (galaxy-ml's ``save_weights``, and the weights inside an h5mlm
file) and Keras 3's ``.weights.h5``. The model is built first, in safe mode, from a checked config, so the
weights' shapes and types can be compared with its own (:func:`check_weight_shapes`) from HDF5's metadata.
"""
import contextlib
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from typing import Any

import h5py
import numpy as np

from gxkeras.galaxy.errors import ModelRefused, first_line
from gxkeras.keras.estimators import build_model
from gxkeras.modelfile.hdf5_audit import open_hdf5

OPTIMIZER_SLOTS, OPTIMIZER_SCALARS = 3, 8
WEIGHT_KINDS = "fiu"  # float, int and unsigned weights of at most 8 bytes each


def set_model(estimator: Any, model: Any) -> None:
    """Give the estimator its Keras model, as galaxy-ml's own loader does."""
    import keras

    estimator.model_class_ = keras.Sequential if estimator.model_type == "sequential" else keras.Model
    estimator.model_ = model


def check_weight_shapes(group: h5py.Group, model: Any, what: str) -> None:
    """Every dataset under ``group`` must be a number array shaped like one of the model's weights.

    Checked from HDF5's metadata (shape, dtype), before a single value is read: a compressed
    dataset of a huge shape, or any data the model has no place for, is refused unread. A Keras 3
    file saved from a compiled model also holds the optimizer's state (``optimizer/``): at most
    ``OPTIMIZER_SLOTS`` arrays per weight (Adam with amsgrad keeps three) and a few scalars.
    """
    shapes = Counter(tuple(variable.shape) for variable in model.variables)
    free = {"model": shapes, "optimizer": Counter({shape: OPTIMIZER_SLOTS * count for shape, count in shapes.items()})}
    free["optimizer"][()] += OPTIMIZER_SCALARS
    datasets = []
    group.visititems(lambda name, item: datasets.append((name, item)) if isinstance(item, h5py.Dataset) else None)
    for name, dataset in datasets:
        if dataset.dtype.kind not in WEIGHT_KINDS or dataset.dtype.itemsize > 8:
            raise ModelRefused(f"{what}: dataset {name[:80]} holds {dataset.dtype}, expected numbers")
        pool = free["optimizer" if name.startswith("optimizer/") else "model"]
        if pool[dataset.shape] < 1:
            raise ModelRefused(f"{what}: dataset {name[:80]} has shape {dataset.shape}, which no weight of the "
                                 "model has: the weights do not fit the model")
        pool[dataset.shape] -= 1


def load_legacy_weights(group: h5py.Group, model: Any, what: str) -> None:
    """Weights in the Keras 2 HDF5 layout (galaxy-ml's ``save_weights`` and h5mlm), checked first."""
    from keras.src.legacy.saving import legacy_h5_format

    check_weight_shapes(group, model, what)
    try:
        legacy_h5_format.load_weights_from_hdf5_group(group, model)
    except (ValueError, KeyError, TypeError, IndexError) as error:
        raise ModelRefused(f"{what}: the weights do not fit the model: {first_line(error)}") from None


def weights_format(handle: h5py.File, what: str) -> str:
    """``"legacy"`` (galaxy-ml save_weights / Keras 2 HDF5) or ``"keras3"`` (``.weights.h5``)."""
    if "layer_names" in handle.attrs or "model_weights" in handle:
        return "legacy"
    if "layers" in handle or "vars" in handle:
        return "keras3"
    raise ModelRefused(f"{what}: an HDF5 file but not Keras model weights")


@contextlib.contextmanager
def keras_weights_name(path: str) -> Iterator[str]:
    """``path`` under a name ending in ``.weights.h5``, the only name Keras 3 reads its weights format from
    (Galaxy's datasets are ``*.dat``): ``path`` itself if it has one, else a link in a temporary folder.
    A tool whose model runs contained makes the link before (the contained process can create no file)."""
    if path.endswith(".weights.h5"):
        yield path
        return
    with tempfile.TemporaryDirectory() as folder:
        link = os.path.join(folder, "model.weights.h5")
        os.symlink(os.path.abspath(path), link)
        yield link


def load_weights_file(estimator: Any, path: str, what: str, model_label: str) -> None:
    """Load a weights file (``what`` names it in errors) into a Keras model built, in safe mode, from the
    estimator's config (``model_label`` names where that config came from), and give it to the estimator.

    The file's datasets are compared with the model's weights by shape and type before any value is
    read, and nothing in it may point outside it (:func:`open_hdf5`). A classifier that was never
    trained gets the classes its output implies: 0/1 for one sigmoid unit, else 0..k-1.
    """
    with open_hdf5(path, what, "Keras model weights") as handle:
        kind = weights_format(handle, what)
        model = build_model(estimator.config, estimator.model_type, model_label)
        check_weight_shapes(handle, model, what)
        if kind == "legacy":
            load_legacy_weights(handle.get("model_weights", handle), model, what)
    if kind == "keras3":
        try:
            with keras_weights_name(path) as named:
                model.load_weights(named)
        except (ValueError, KeyError, TypeError) as error:
            raise ModelRefused(f"{what}: do not fit the model: {first_line(error)[:300]}") from None
    set_model(estimator, model)
    if not hasattr(estimator, "classes_") and hasattr(estimator, "predict_proba"):
        units = estimator.model_.output_shape[-1]
        estimator.classes_ = np.arange(2 if units == 1 else units)
