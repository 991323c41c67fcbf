"""The old pipeline builder's other steps in galaxy-ml files: dimension reduction, feature expansion and
transformation, binning, and selection by a model.

All of them transform with numpy (matrix products on ``components_``, ``np.interp`` on
``quantiles_``, ``np.searchsorted`` on ``bin_edges_``, boolean masks), which checks its shapes,
and the estimators that SelectFromModel and RFE wrap are read under the allow-list like any other.
What is left is SelectFromModel's ``importance_getter``: any text other than ``"auto"`` is an
attribute path that scikit-learn follows on the estimator (``operator.attrgetter``), so only the
two attributes it is documented for are accepted (:func:`check_step`). A KBinsDiscretizer keeps its
bin edges as an object array of one numeric array per feature, read by :func:`bin_edges` in that
one place (elsewhere object arrays hold plain values only). skrebate's Relief selectors index X with their
``top_features_`` (:func:`check_relief`: a permutation of the feature indices); galaxy-ml's BinarizeTarget
estimators wrap an estimator read under the allow-list and keep a threshold (:func:`check_binarize`), and
IRAPSClassifier keeps arrays sized against each other (:func:`check_iraps`).
"""
from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

KBINS = ("sklearn.preprocessing._discretization", "KBinsDiscretizer")
SELECT_FROM_MODEL = ("sklearn.feature_selection._from_model", "SelectFromModel")
RFE = ("sklearn.feature_selection._rfe", "RFE")
RFECV = ("sklearn.feature_selection._rfe", "RFECV")
KERNEL_PCA = ("sklearn.decomposition._kernel_pca", "KernelPCA")
NYSTROEM = ("sklearn.kernel_approximation", "Nystroem")
TARGET_REGRESSOR = ("sklearn.compose._target", "TransformedTargetRegressor")
FUNCTION_TRANSFORMER = ("sklearn.preprocessing._function_transformer", "FunctionTransformer")
# decompositions whose transform multiplies by (or, NMF, LDA and dictionary learning, iterate in Cython over)
# ``components_``: checked to be one row per component of n_features_in_ numbers
_D = "sklearn.decomposition"
COMPONENTS = {
    (f"{_D}._factor_analysis", "FactorAnalysis"), (f"{_D}._fastica", "FastICA"),
    (f"{_D}._incremental_pca", "IncrementalPCA"), (f"{_D}._nmf", "NMF"),
    (f"{_D}._sparse_pca", "SparsePCA"), (f"{_D}._sparse_pca", "MiniBatchSparsePCA"),
    (f"{_D}._dict_learning", "DictionaryLearning"),
    # their fitted RandomState read by gxkeras/sklearn_random.py
    (f"{_D}._dict_learning", "MiniBatchDictionaryLearning"), (f"{_D}._lda", "LatentDirichletAllocation"),
}
# univariate selectors by p-value: their score_func read like SelectKBest's (SCORE_FUNCS in sklearn_io.py)
P_SELECTORS = {("sklearn.feature_selection._univariate_selection", name) for name in ("SelectFpr", "SelectFdr", "SelectFwe")}
STEPS = {
    ("sklearn.decomposition._pca", "PCA"),
    ("sklearn.decomposition._truncated_svd", "TruncatedSVD"),
    ("sklearn.preprocessing._polynomial", "PolynomialFeatures"),
    ("sklearn.preprocessing._data", "QuantileTransformer"),
    ("sklearn.preprocessing._data", "PowerTransformer"),
    KBINS,
    SELECT_FROM_MODEL,
    RFE,
    # the old pipeline builder's preprocessing, decomposition, kernel approximation and compose steps
    ("sklearn.preprocessing._data", "Binarizer"),
    ("sklearn.preprocessing._data", "KernelCenterer"),  # also KernelPCA's _centerer
    RFECV,
    *COMPONENTS,
    KERNEL_PCA,
    NYSTROEM,
    ("sklearn.kernel_approximation", "RBFSampler"),
    ("sklearn.kernel_approximation", "AdditiveChi2Sampler"),
    ("sklearn.kernel_approximation", "SkewedChi2Sampler"),
    TARGET_REGRESSOR,
    FUNCTION_TRANSFORMER,  # TransformedTargetRegressor's transformer_ when it has none: func and inverse_func None
}
# skrebate's Relief-based feature selectors (the old pipeline builder's feature selection): transform indexes X
# with ``top_features_[:n_features_to_select]``, checked by :func:`check_relief` to be feature indices
RELIEFS = {(f"skrebate.{name.lower()}", name) for name in ("ReliefF", "SURF", "SURFstar", "MultiSURF", "MultiSURFstar")}
STEPS |= RELIEFS
# galaxy-ml's estimators fitted on a binarized target: the wrapped classifier/regressor (and its fitted copy) is
# read under the allow-list like any other; the threshold and direction are checked by :func:`check_binarize`
_BINARIZE = "galaxy_ml.binarize_target._binarize_estimators"
BINARIZE = {(_BINARIZE, "BinarizeTargetClassifier"): "classifier", (_BINARIZE, "BinarizeTargetRegressor"): "regressor"}
STEPS |= set(BINARIZE)
_IRAPS = "galaxy_ml.binarize_target._iraps_classifier"
IRAPS, IRAPS_CORE = (_IRAPS, "IRAPSClassifier"), (_IRAPS, "IRAPSCore")
STEPS |= {IRAPS, IRAPS_CORE}
IMPORTANCE_GETTERS = ("auto", "coef_", "feature_importances_")
# The named kernels of sklearn.metrics.pairwise.PAIRWISE_KERNEL_FUNCTIONS (test_kernel_names_are_sklearns);
# KernelPCA also takes "precomputed" (its input is then the kernel, validated against its n_features_in_).
KERNELS = ("additive_chi2", "chi2", "linear", "polynomial", "poly", "rbf", "laplacian", "sigmoid", "cosine")


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


def _shape(value: object, shape: tuple[object, ...]) -> bool:
    """A numeric (float) array of exactly ``shape``; a None in ``shape`` is any length."""
    return isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.ndim == len(shape) and all(
        want is None or size == want for size, want in zip(value.shape, shape, strict=True))


def _count(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 0


def check_kernel_step(key: tuple[str, str], state: dict[str, Any], fail: Callable[[str], NoReturn]) -> None:
    """A KernelPCA or Nystroem names its kernel (never a function); their stored arrays agree in size. A
    TransformedTargetRegressor (and the FunctionTransformer it makes) applies no function to the target."""
    name = key[1]
    if key in (KERNEL_PCA, NYSTROEM) and state.get("kernel") not in KERNELS + (("precomputed",) if key == KERNEL_PCA else ()):
        fail(f"the {name}'s kernel {str(state.get('kernel'))[:40]!r} is not one of {', '.join(KERNELS)}")
    width = state.get("n_features_in_")  # the arrays are checked once any is there (unfitted prototypes have none)
    if key == KERNEL_PCA and {"X_fit_", "eigenvectors_", "eigenvalues_", "dual_coef_", "X_transformed_fit_"} & set(state):
        fitted, vectors, values = state.get("X_fit_"), state.get("eigenvectors_"), state.get("eigenvalues_")
        samples = fitted.shape[0] if isinstance(fitted, np.ndarray) and fitted.ndim == 2 else None
        count = values.shape[0] if isinstance(values, np.ndarray) and values.ndim == 1 else None
        if not (_count(width) and samples and count is not None and _shape(fitted, (samples, width))
                and _shape(vectors, (samples, count)) and _shape(values, (count,))):
            fail(f"the KernelPCA's X_fit_, eigenvectors_ and eigenvalues_ are not (samples, {width}), (samples, "
                 "components) and (components,) arrays")
        if state.get("fit_inverse_transform") and not (_shape(state.get("dual_coef_"), (samples, width)) and _shape(
                state.get("X_transformed_fit_"), (samples, count))):
            fail(f"the KernelPCA's dual_coef_ and X_transformed_fit_ are not ({samples}, {width}) and "
                 f"({samples}, {count}) arrays")
    if key == NYSTROEM and {"components_", "normalization_"} & set(state):
        components, normalization = state.get("components_"), state.get("normalization_")
        count = components.shape[0] if isinstance(components, np.ndarray) and components.ndim == 2 else None
        if not (_count(width) and count and _shape(components, (count, width))
                and _shape(normalization, (count, count))):
            fail(f"the Nystroem's components_ and normalization_ are not (components, {width}) and "
                 "(components, components) arrays")
    if key in (TARGET_REGRESSOR, FUNCTION_TRANSFORMER):
        for attribute in ("func", "inverse_func", *(("kw_args", "inv_kw_args") if key == FUNCTION_TRANSFORMER else ())):
            if state.get(attribute) is not None:
                fail(f"the {name}'s {attribute} is {str(state.get(attribute))[:40]!r}; only None is accepted "
                     "(no function applied)")
    if key in COMPONENTS and "components_" in state:
        components = state.get("components_")
        rows = components.shape[0] if isinstance(components, np.ndarray) and components.ndim == 2 else None
        if not (_count(width) and rows and _shape(components, (rows, width))):
            fail(f"the {name}'s components_ is not an array of (components, {width}) numbers")
        if name == "LatentDirichletAllocation" and not _shape(state.get("exp_dirichlet_component_"), (rows, width)):
            fail(f"the LatentDirichletAllocation's exp_dirichlet_component_ is not a ({rows}, {width}) array")


def check_relief(key: tuple[str, str], state: dict[str, Any], fail: Callable[[str], NoReturn]) -> None:
    """A skrebate selector's ``top_features_`` is a permutation of its ``_num_attributes`` feature indices, with
    one ``feature_importances_`` score each and a count of features to select."""
    if "top_features_" not in state and "feature_importances_" not in state:
        return  # unfitted (a prototype)
    width, top, scores = state.get("_num_attributes"), state.get("top_features_"), state.get("feature_importances_")
    if not (_count(width) and width and isinstance(top, np.ndarray) and top.dtype.kind in "iu" and top.shape == (width,)
            and np.array_equal(np.sort(top), np.arange(width)) and _shape(scores, (width,))):
        fail(f"the {key[1]}'s top_features_ and feature_importances_ are not a permutation of its {width} feature "
             f"indices and {width} scores")
    if not _count(state.get("n_features_to_select")):
        fail(f"the {key[1]}'s n_features_to_select is not a count")


def _number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and bool(
        np.isfinite(value))


def check_binarize(key: tuple[str, str], state: dict[str, Any], fail: Callable[[str], NoReturn]) -> None:
    """A BinarizeTarget estimator's threshold (``discretize_value``, ``z_score``, ``value``) are finite numbers (value
    may be None) and ``less_is_positive`` a bool; its wrapped estimator is checked where it is read."""
    name = key[1]
    for attribute in ("z_score", "discretize_value", "value"):
        if (attribute in state or attribute == "z_score") and not (
                _number(state.get(attribute)) or attribute == "value" and state.get(attribute) is None):
            fail(f"the {name}'s {attribute} {str(state.get(attribute))[:40]!r} is not a finite number")
    if not isinstance(state.get("less_is_positive"), bool):
        fail(f"the {name}'s less_is_positive {str(state.get('less_is_positive'))[:40]!r} is not true or false")
    if key in BINARIZE and BINARIZE[key] not in state:
        fail(f"the {name} has no {BINARIZE[key]}")


def check_iraps(key: tuple[str, str], state: dict[str, Any], fail: Callable[[str], NoReturn]) -> None:
    """An IRAPSCore's p-values, fold changes and base values are (n_iter, features) arrays and its joblib
    ``pre_dispatch`` (evaluated by joblib when fitting) a count or joblib's own text; an IRAPSClassifier has no
    cache folder (``memory``), a ``mask_`` of one bool per feature (numpy checks it against X) and a (2, selected)
    ``signature_``."""
    if key == IRAPS_CORE:
        if not (_count(state.get("pre_dispatch")) or state.get("pre_dispatch") in ("2*n_jobs", "all")):
            fail(f"the IRAPSCore's pre_dispatch {str(state.get('pre_dispatch'))[:40]!r} is not a count, '2*n_jobs' or 'all'")
        if "pvalues_" in state:
            pvalues = state.get("pvalues_")
            shape = pvalues.shape if isinstance(pvalues, np.ndarray) and pvalues.ndim == 2 else None
            if not (shape and all(_shape(state.get(name), shape) for name in ("pvalues_", "fold_changes_", "base_values_"))):
                fail("the IRAPSCore's pvalues_, fold_changes_ and base_values_ are not arrays of one shape (iterations, features)")
        return
    if state.get("memory") is not None:
        fail(f"the IRAPSClassifier's memory {str(state.get('memory'))[:40]!r} is not None (no cache folder)")
    if "mask_" not in state and "signature_" not in state:
        return  # unfitted
    mask, signature = state.get("mask_"), state.get("signature_")
    if not (isinstance(mask, np.ndarray) and mask.dtype == bool and mask.ndim == 1 and mask.any()
            and _shape(signature, (2, int(mask.sum())))):
        fail("the IRAPSClassifier's mask_ and signature_ are not one bool per feature and a (2, selected features) "
             "array")
    check_binarize(key, {**state, "z_score": state.get("discretize")}, fail)


def check_step(key: tuple[str, str], state: dict[str, Any], fail: Callable[[str], NoReturn]) -> None:
    """A SelectFromModel reads its estimator's importances only from ``coef_`` or ``feature_importances_``; a
    KBinsDiscretizer has ``n_bins_ + 1`` edges per feature."""
    if key == KBINS and "bin_edges_" in state:
        edges, counts, width = state["bin_edges_"], state.get("n_bins_"), state.get("n_features_in_")
        if not (isinstance(counts, np.ndarray) and counts.shape == (width,) == edges.shape and all(
                edge.dtype.kind == "f" and edge.ndim == 1 and len(edge) == count + 1
                for edge, count in zip(edges, counts, strict=True))):
            fail("the KBinsDiscretizer's bin_edges_ are not n_bins_ + 1 edges for each of its features")
    check_kernel_step(key, state, fail)
    if key in RELIEFS:
        check_relief(key, state, fail)
    if key in BINARIZE:
        check_binarize(key, state, fail)
    if key in (IRAPS, IRAPS_CORE):
        check_iraps(key, state, fail)
    if key in (SELECT_FROM_MODEL, RFE, RFECV) and state.get("importance_getter") not in IMPORTANCE_GETTERS:
        fail(f"the {key[1]}'s importance_getter {str(state.get('importance_getter'))[:40]!r} is not one of "
             f"{', '.join(IMPORTANCE_GETTERS)}")
