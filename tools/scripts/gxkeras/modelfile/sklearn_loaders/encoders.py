"""Encoders and expansions whose output layout C code trusts: every derived attribute rebuilt by scikit-learn.

OneHotEncoder.transform places each sample's ones at ``category index + offset of its feature``, the offsets
being the running sum of ``_n_features_outs`` (less ``_drop_idx_after_grouping``), and hands those column
indices to scipy's CSR code, which writes them without bounds checks when it makes a dense array (measured:
a ``_n_features_outs`` smaller than the categories wrote past the output; a segmentation fault inside a
KBinsDiscretizer). So nothing derived is taken from the file:

* OneHotEncoder: ``categories_`` (checked: one non-empty 1-D array per feature) and the parameters are
  read; a new encoder with those parameters is fitted on a tiny table holding exactly those categories
  (:func:`category_table`) and must give the same ``categories_`` (sorted, unique, as fit makes them); its
  ``_n_features_outs``, ``_drop_idx_after_grouping``, ``drop_idx_`` and ``_infrequent_enabled`` are the
  ones used. Infrequent-category grouping (``max_categories``, ``min_frequency``) depends on the training
  counts, which the file keeps only as private indices: such encoders are refused (docs/comparison.md).
* KBinsDiscretizer: its ``_encoder`` made as its ``fit`` makes it, from ``n_bins_`` (checked against
  ``bin_edges_``, an object array of one numeric array per feature read by :func:`bin_edges` in this one
  place: elsewhere object arrays hold plain values only).
* RandomTreesEmbedding: its ``one_hot_encoder_`` fitted, as its ``fit_transform`` does, on its trees' leaves
  (every leaf of a tree grown without bootstrap holds a training sample) and ``_n_features_out`` its width.
* PolynomialFeatures: fitted again on ``np.zeros((1, n_features_in_))``: its fit depends only on the shape.
* LabelBinarizer and LabelEncoder: their ``classes_`` must be what a fit on them finds (:func:`verify_labels`).

The dense outputs' widths (:func:`gxkeras.modelfile.sklearn_loaders.loader.check_output_width`) are compared with the job's memory.
"""
from collections.abc import Callable
from typing import Any

import numpy as np

from gxkeras.galaxy.errors import ModelRefused
from gxkeras.galaxy.memory import check_allocation
from gxkeras.modelfile.sklearn_loaders.loader import Fail, Key, Loader, loader

ONE_HOT = ("sklearn.preprocessing._encoders", "OneHotEncoder")
KBINS = ("sklearn.preprocessing._discretization", "KBinsDiscretizer")
POLYNOMIAL = ("sklearn.preprocessing._polynomial", "PolynomialFeatures")
TREES_EMBEDDING = ("sklearn.ensemble._forest", "RandomTreesEmbedding")
LABEL_BINARIZER = ("sklearn.preprocessing._label", "LabelBinarizer")
LABEL_ENCODER = ("sklearn.preprocessing._label", "LabelEncoder")
ONE_HOT_DERIVED = ("_n_features_outs", "_drop_idx_after_grouping", "drop_idx_", "_infrequent_enabled")


def category_table(categories: list[np.ndarray], what: str) -> np.ndarray:
    """A table whose column ``i`` holds exactly the values ``categories[i]`` (the last one repeated to fill)."""
    rows = max(len(values) for values in categories)
    kinds = {values.dtype for values in categories}
    dtype = kinds.pop() if len(kinds) == 1 else np.dtype(object)
    check_allocation(rows * len(categories) * dtype.itemsize, what,
                     f"a table of {len(categories):,} features' categories to rebuild a one-hot encoder",
                     error=ModelRefused)
    table = np.empty((rows, len(categories)), dtype=dtype)
    for column, values in enumerate(categories):
        table[:, column] = np.concatenate([values, np.repeat(values[-1:], rows - len(values))])
    return table


def same_values(ours: Any, theirs: Any) -> bool:
    """Arrays of one dtype and shape holding the same values (NaN equal to NaN), or equal plain values."""
    if isinstance(ours, np.ndarray) or isinstance(theirs, np.ndarray):
        if not (isinstance(ours, np.ndarray) and isinstance(theirs, np.ndarray) and ours.dtype == theirs.dtype
                and ours.shape == theirs.shape):
            return False
        return bool(np.array_equal(ours, theirs, equal_nan=ours.dtype.kind in "fc"))
    if isinstance(ours, (list, tuple)) and isinstance(theirs, (list, tuple)):
        return len(ours) == len(theirs) and all(same_values(a, b) for a, b in zip(ours, theirs, strict=True))
    return type(ours) is type(theirs) and bool(ours == theirs)


def fitted_encoder(params: dict[str, Any], categories: list[np.ndarray], what: str, fail: Fail) -> Any:
    """A OneHotEncoder with ``params`` fitted on exactly ``categories``; it must find them as they are."""
    from sklearn.preprocessing import OneHotEncoder

    encoder = OneHotEncoder(**params).fit(category_table(categories, what))
    if not same_values(encoder.categories_, categories):
        fail("the OneHotEncoder's categories_ are not the sorted, distinct values per feature that fit makes")
    return encoder


def check_one_hot(key: Key, state: dict[str, Any], fail: Fail) -> None:
    """One non-empty 1-D array of categories per feature; no infrequent-category grouping."""
    if state.get("max_categories") is not None or state.get("min_frequency") is not None:
        fail("the OneHotEncoder groups infrequent categories (max_categories, min_frequency), which depends on "
             "training counts the file does not keep; such encoders are not accepted")
    if "categories_" not in state:
        return  # unfitted (KBinsDiscretizer's or RandomTreesEmbedding's encoder is rebuilt anyway)
    categories = state["categories_"]
    if not (isinstance(categories, list) and len(categories) == state.get("n_features_in_") and all(
            isinstance(values, np.ndarray) and values.ndim == 1 and len(values) for values in categories)):
        fail("the OneHotEncoder's categories_ are not one non-empty array of categories per feature")


def rebuild_one_hot(found: Any, state: dict[str, Any], fail: Fail) -> dict[str, Any]:
    encoder = fitted_encoder(found.get_params(deep=False), found.categories_, type(found).__name__, fail)
    return {name: getattr(encoder, name) for name in ONE_HOT_DERIVED}


def one_hot_width(found: Any) -> int | None:
    return None if found.sparse_output else int(sum(found._n_features_outs))


def bin_edges(data: object, value: Callable[[Any], Any], fail: Fail) -> np.ndarray:
    """A KBinsDiscretizer's ``bin_edges_``: an object array whose items are numeric arrays (``value`` reads them)."""
    inner = data.get("-np_ndarray_o_type-") if isinstance(data, dict) and set(data) == {"-np_ndarray_o_type-"} else None
    items = inner.get("-values-") if isinstance(inner, dict) and set(inner) == {"-dtype-", "-values-"} else None
    if not (isinstance(items, list) and items and all(
            isinstance(item, dict) and set(item) == {"-np_ndarray-"} for item in items)):
        fail("the KBinsDiscretizer's bin_edges_ is not one array of edges per feature")
    if value(inner["-dtype-"]) != np.dtype(object):  # type: ignore[index]
        fail("the KBinsDiscretizer's bin_edges_ is not an object array")
    found = np.empty(len(items), dtype=object)
    for index, item in enumerate(items):
        found[index] = value(item)
    return found


def read_bin_edges(reader: Any, cls: Any) -> Callable[[object], Any]:
    return lambda data: bin_edges(data, reader.value, reader.fail)


def check_kbins(key: Key, state: dict[str, Any], fail: Fail) -> None:
    """A KBinsDiscretizer has ``n_bins_ + 1`` edges for each feature (so ``n_bins_`` is as large as the file)."""
    if "bin_edges_" in state:
        edges, counts, width = state["bin_edges_"], state.get("n_bins_"), state.get("n_features_in_")
        if not (isinstance(counts, np.ndarray) and counts.dtype.kind in "iu" and counts.shape == (width,) == edges.shape
                and all(edge.dtype.kind == "f" and edge.ndim == 1 and len(edge) == count + 1 >= 2
                        for edge, count in zip(edges, counts, strict=True))):
            fail("the KBinsDiscretizer's bin_edges_ are not n_bins_ + 1 edges for each of its features")


def rebuild_kbins(found: Any, state: dict[str, Any], fail: Fail) -> dict[str, Any]:
    """KBinsDiscretizer.fit's own construction of its encoder (sklearn/preprocessing/_discretization.py)."""
    if "onehot" not in found.encode:
        return {}
    from sklearn.preprocessing import OneHotEncoder

    # fit gives it the training data's dtype when ``dtype`` is None; transform sets the data's own while it encodes
    dtype = found.dtype if found.dtype in (np.float64, np.float32) else np.dtype(np.float64)
    encoder = OneHotEncoder(categories=[np.arange(count) for count in found.n_bins_],
                            sparse_output=found.encode == "onehot", dtype=dtype)
    return {"_encoder": encoder.fit(np.zeros((1, len(found.n_bins_))))}


def kbins_width(found: Any) -> int | None:
    return int(np.sum(found.n_bins_)) if found.encode == "onehot-dense" else None


def rebuild_trees_embedding(found: Any, state: dict[str, Any], fail: Fail) -> dict[str, Any]:
    """RandomTreesEmbedding.fit_transform's encoder, fitted on the leaves each tree has (not on the file's)."""
    leaves = [np.flatnonzero(member.tree_.children_left == -1) for member in found.estimators_]
    encoder = fitted_encoder({"sparse_output": found.sparse_output}, leaves, type(found).__name__, fail)
    return {"one_hot_encoder_": encoder, "_n_features_out": int(sum(encoder._n_features_outs))}


def trees_embedding_width(found: Any) -> int | None:
    return None if found.sparse_output else int(found._n_features_out)


def rebuild_polynomial(found: Any, state: dict[str, Any], fail: Fail) -> dict[str, Any]:
    """PolynomialFeatures.fit reads only the input's shape: fitted again on one row of zeros."""
    from sklearn.preprocessing import PolynomialFeatures

    check_allocation(8 * int(found.n_features_in_), type(found).__name__, "one row of its input", error=ModelRefused)
    fresh = PolynomialFeatures(**found.get_params(deep=False)).fit(np.zeros((1, found.n_features_in_)))
    return {name: getattr(fresh, name) for name in ("_min_degree", "_max_degree", "_n_out_full", "n_output_features_")}


def verify_labels(found: Any, fail: Fail) -> None:
    """A LabelBinarizer's or LabelEncoder's ``classes_`` (and target type) are what a fit on them finds: the
    sorted, distinct labels (a multilabel binarizer's are its column indices)."""
    labels = found.classes_
    multilabel = getattr(found, "y_type_", None) == "multilabel-indicator"
    fresh = type(found)(**found.get_params(deep=False)).fit(np.eye(len(labels), dtype=int) if multilabel else labels)
    if not (same_values(fresh.classes_, labels) and getattr(fresh, "y_type_", None) == getattr(found, "y_type_", None)):
        fail(f"the {type(found).__name__}'s classes_ are not the sorted, distinct labels fit finds")


LOADERS: dict[Key, Loader] = {
    LABEL_BINARIZER: loader(verify=verify_labels),
    LABEL_ENCODER: loader(verify=verify_labels),
    ONE_HOT: loader(recomputed=ONE_HOT_DERIVED, checks=(check_one_hot,), rebuild=rebuild_one_hot, width=one_hot_width),
    KBINS: loader(recomputed={"_encoder"}, readers={"bin_edges_": read_bin_edges}, checks=(check_kbins,),
                  rebuild=rebuild_kbins, width=kbins_width),
    TREES_EMBEDDING: loader(recomputed={"one_hot_encoder_", "_n_features_out"},
                            dropped={"_n_samples", "_n_samples_bootstrap", "_sample_weight"},
                            rebuild=rebuild_trees_embedding, width=trees_embedding_width),
    POLYNOMIAL: loader(recomputed={"_min_degree", "_max_degree", "_n_out_full", "n_output_features_"},
                       rebuild=rebuild_polynomial, width=lambda found: int(found.n_output_features_)),
}
