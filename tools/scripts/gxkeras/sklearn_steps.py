"""The old pipeline builder's other steps in galaxy-ml files: dimension reduction, feature expansion and
transformation, binning, and selection by a model.

All of them transform with numpy (matrix products on ``components_``, ``np.interp`` on
``quantiles_``, ``np.searchsorted`` on ``bin_edges_``, boolean masks), which checks its shapes,
and the estimators that SelectFromModel and RFE wrap are read under the allow-list like any other.
What is left is SelectFromModel's ``importance_getter``: any text other than ``"auto"`` is an
attribute path that scikit-learn follows on the estimator (``operator.attrgetter``), so only the
two attributes it is documented for are accepted (:func:`check_step`). A KBinsDiscretizer keeps its
bin edges as an object array of one numeric array per feature, read by :func:`bin_edges` in that
one place (elsewhere object arrays hold plain values only).
"""
from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

KBINS = ("sklearn.preprocessing._discretization", "KBinsDiscretizer")
SELECT_FROM_MODEL = ("sklearn.feature_selection._from_model", "SelectFromModel")
STEPS = {
    ("sklearn.decomposition._pca", "PCA"),
    ("sklearn.decomposition._truncated_svd", "TruncatedSVD"),
    ("sklearn.preprocessing._polynomial", "PolynomialFeatures"),
    ("sklearn.preprocessing._data", "QuantileTransformer"),
    ("sklearn.preprocessing._data", "PowerTransformer"),
    KBINS,
    SELECT_FROM_MODEL,
    ("sklearn.feature_selection._rfe", "RFE"),
}
IMPORTANCE_GETTERS = ("auto", "coef_", "feature_importances_")


def bin_edges(data: object, value: Callable[[Any], Any], fail: Callable[[str], NoReturn]) -> np.ndarray:
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


def check_step(key: tuple[str, str], state: dict[str, Any], fail: Callable[[str], NoReturn]) -> None:
    """A SelectFromModel reads its estimator's importances only from ``coef_`` or ``feature_importances_``; a
    KBinsDiscretizer has ``n_bins_ + 1`` edges per feature."""
    if key == KBINS and "bin_edges_" in state:
        edges, counts, width = state["bin_edges_"], state.get("n_bins_"), state.get("n_features_in_")
        if not (isinstance(counts, np.ndarray) and counts.shape == (width,) == edges.shape and all(
                edge.dtype.kind == "f" and edge.ndim == 1 and len(edge) == count + 1
                for edge, count in zip(edges, counts, strict=True))):
            fail("the KBinsDiscretizer's bin_edges_ are not n_bins_ + 1 edges for each of its features")
    if key == SELECT_FROM_MODEL and state.get("importance_getter") not in IMPORTANCE_GETTERS:
        fail(f"the SelectFromModel's importance_getter {str(state.get('importance_getter'))[:40]!r} is not one of "
             f"{', '.join(IMPORTANCE_GETTERS)}")
