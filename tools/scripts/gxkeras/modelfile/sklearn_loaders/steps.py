"""The old pipeline builder's other steps in galaxy-ml files: dimension reduction, feature expansion and
transformation, selection by a model or a score, and their loaders (:data:`LOADERS`).

All of them transform with numpy (matrix products on ``components_``, ``np.interp`` on
``quantiles_``, boolean masks), which checks its shapes, and the estimators that SelectFromModel and RFE
wrap are read under the allow-list like any other. What is left is SelectFromModel's ``importance_getter``:
any text other than ``"auto"`` is an attribute path that scikit-learn follows on the estimator
(``operator.attrgetter``), so only the two attributes it is documented for are accepted
(:func:`check_importance_getter`). A univariate selector's ``score_func`` is one of :data:`SCORE_FUNCS`,
read by :func:`read_score_func` (scikit-learn's function of that name is used, never the path in the file).
skrebate's Relief selectors index X with their ``top_features_`` (:func:`check_relief`: a permutation of the
feature indices; their ``_num_attributes`` is its length, recomputed); galaxy-ml's BinarizeTarget estimators
wrap an estimator read under the allow-list and keep a threshold (:func:`check_binarize`), and
IRAPSClassifier keeps arrays sized against each other (:func:`check_iraps`). The private attributes of these
classes are recomputed (a KernelPCA's ``_centerer`` from its ``X_fit_``, an NMF's ``_n_components`` and
``_beta_loss`` by its own ``_check_params``), checked (a PCA's ``_fit_svd_solver``, a PowerTransformer's
``_scaler``, a TransformedTargetRegressor's ``_training_dim``, a SimpleImputer's dtypes) or, training state
only, dropped (:data:`LOADERS`).
"""
import importlib
from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

from gxkeras.galaxy.errors import ModelRefused
from gxkeras.galaxy.memory import check_allocation
from gxkeras.galaxy.values import shown
from gxkeras.modelfile.sklearn_loaders.loader import Fail, Key, Loader, loader
from gxkeras.modelfile.sklearn_loaders.random_state import RANDOM_STATE_OWNERS, random_state_reader

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
    # their fitted RandomState read by gxkeras/modelfile/sklearn_loaders/random_state.py
    (f"{_D}._dict_learning", "MiniBatchDictionaryLearning"), (f"{_D}._lda", "LatentDirichletAllocation"),
}
# univariate selectors by p-value: their score_func read like SelectKBest's (SCORE_FUNCS in sklearn_io.py)
P_SELECTORS = {("sklearn.feature_selection._univariate_selection", name) for name in ("SelectFpr", "SelectFdr", "SelectFwe")}
PCA = ("sklearn.decomposition._pca", "PCA")
POWER = ("sklearn.preprocessing._data", "PowerTransformer")
IMPUTER = ("sklearn.impute._base", "SimpleImputer")
_SAMPLERS = "sklearn.kernel_approximation"
RANDOM_SAMPLERS = {(_SAMPLERS, "RBFSampler"), (_SAMPLERS, "SkewedChi2Sampler")}
NMF = (f"{_D}._nmf", "NMF")
MINI_BATCH_DICTIONARY = (f"{_D}._dict_learning", "MiniBatchDictionaryLearning")
FAST_ICA = (f"{_D}._fastica", "FastICA")
LDA = (f"{_D}._lda", "LatentDirichletAllocation")
# The decompositions whose transform iterates for each row (NMF's coordinate descent or multiplicative updates,
# LDA's variational E-step), and the parameter counting those iterations. Each iteration costs a row about
# components x (components + features) operations, and a tolerance of 0 (which scikit-learn admits) makes it run
# them all: an NMF of 60 components and max_iter 10^6 ran past 90 s on 40 rows of 4 features. MAX_ROW_WORK bounds
# iterations x components x (components + features): 10^8 operations, a fraction of a second a row at most (the
# defaults: NMF 200 iterations, LDA 100; 10 components of 1,000 features take 2 x 10^6 and 10^6). Measured at
# the bound with a tolerance of 0: 40 rows in 5 s (NMF, 60 components of 4 features, 26,000 iterations), 2 s (LDA).
TRANSFORM_ITERATIONS = {NMF: "max_iter", LDA: "max_doc_update_iter"}
MAX_ROW_WORK = 10 ** 8
SELECTORS = {("sklearn.feature_selection._univariate_selection", name)
             for name in ("SelectKBest", "SelectPercentile", "GenericUnivariateSelect")} | P_SELECTORS
# The functions a univariate selector may score with, by the (module, name) galaxy-ml writes; each is
# mapped to scikit-learn's public function of that name (never imported from the path in the file).
SCORE_FUNCS = {
    ("sklearn.feature_selection._univariate_selection", "f_classif"): "f_classif",
    ("sklearn.feature_selection._univariate_selection", "f_regression"): "f_regression",
    ("sklearn.feature_selection._univariate_selection", "chi2"): "chi2",
    ("sklearn.feature_selection._mutual_info", "mutual_info_classif"): "mutual_info_classif",
    ("sklearn.feature_selection._mutual_info", "mutual_info_regression"): "mutual_info_regression",
}
STEPS = {
    PCA,
    ("sklearn.decomposition._truncated_svd", "TruncatedSVD"),
    ("sklearn.preprocessing._data", "QuantileTransformer"),
    POWER,
    SELECT_FROM_MODEL,
    RFE,
    # the old pipeline builder's preprocessing, decomposition, kernel approximation and compose steps
    ("sklearn.preprocessing._data", "Binarizer"),
    ("sklearn.preprocessing._data", "KernelCenterer"),  # also KernelPCA's _centerer
    RFECV,
    *COMPONENTS,
    KERNEL_PCA,
    NYSTROEM,
    *RANDOM_SAMPLERS,
    (_SAMPLERS, "AdditiveChi2Sampler"),
    TARGET_REGRESSOR,
    FUNCTION_TRANSFORMER,  # TransformedTargetRegressor's transformer_ when it has none: func and inverse_func None
    *SELECTORS,  # univariate feature selection: ``score_func`` only as one of SCORE_FUNCS, mapped by name
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
        fail(f"the {name}'s kernel {shown(state.get('kernel'))} is not one of {', '.join(KERNELS)}")
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


def check_transform_work(key: Key, state: dict[str, Any], fail: Fail) -> None:
    """An iterating decomposition's worst case a row (:data:`MAX_ROW_WORK`), from its iterations and components."""
    components, iterations = state.get("components_"), state.get(TRANSFORM_ITERATIONS[key])
    iterations = iterations if _count(iterations) else None
    if not (isinstance(components, np.ndarray) and components.ndim == 2 and iterations is not None):
        return  # unfitted, or refused by check_kernel_step and check_work_bounds
    rows, width = components.shape
    work = int(iterations) * rows * (rows + width)
    if work > MAX_ROW_WORK:
        fail(f"the {key[1]}'s {TRANSFORM_ITERATIONS[key]} {iterations:,} x {rows:,} components x ({rows:,} + {width:,} "
             f"features) is {work:,} operations a row at most, more than {MAX_ROW_WORK:,}")


def check_relief(key: tuple[str, str], state: dict[str, Any], fail: Callable[[str], NoReturn]) -> None:
    """A skrebate selector's ``top_features_`` is a permutation of its feature indices, with one
    ``feature_importances_`` score each and a count of features to select."""
    if "top_features_" not in state and "feature_importances_" not in state:
        return  # unfitted (a prototype)
    top, scores = state.get("top_features_"), state.get("feature_importances_")
    width = len(top) if isinstance(top, np.ndarray) and top.ndim == 1 else 0
    if not (width and top.dtype.kind in "iu" and np.array_equal(np.sort(top), np.arange(width))  # type: ignore[union-attr]
            and _shape(scores, (width,))):
        fail(f"the {key[1]}'s top_features_ and feature_importances_ are not a permutation of its feature indices "
             "and one score each")
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




def check_importance_getter(key: Key, state: dict[str, Any], fail: Fail) -> None:
    """A SelectFromModel or RFE reads its estimator's importances only from ``coef_`` or ``feature_importances_``."""
    if state.get("importance_getter") not in IMPORTANCE_GETTERS:
        fail(f"the {key[1]}'s importance_getter {shown(state.get('importance_getter'))} is not one of "
             f"{', '.join(IMPORTANCE_GETTERS)}")


SVD_SOLVERS = ("full", "covariance_eigh", "arpack", "randomized")


def check_pca(key: Key, state: dict[str, Any], fail: Fail) -> None:
    """A PCA's ``_fit_svd_solver`` (what "auto" chose when fitting; read by its tags) is a solver's name."""
    if "_fit_svd_solver" in state and state["_fit_svd_solver"] not in SVD_SOLVERS:
        fail(f"the PCA's _fit_svd_solver {shown(state['_fit_svd_solver'])} is not one of {', '.join(SVD_SOLVERS)}")


def check_training_dim(key: Key, state: dict[str, Any], fail: Fail) -> None:
    """A TransformedTargetRegressor's ``_training_dim`` (its target's number of dimensions) is 1 or 2."""
    if "_training_dim" in state and state["_training_dim"] not in (1, 2):
        fail(f"the TransformedTargetRegressor's _training_dim {str(state['_training_dim'])[:20]} is not 1 or 2")


def check_imputer(key: Key, state: dict[str, Any], fail: Fail) -> None:
    """A SimpleImputer's ``_fit_dtype`` and ``_fill_dtype`` are numpy dtypes (the reader admits plain ones only)."""
    for name in ("_fit_dtype", "_fill_dtype"):
        if name in state and not isinstance(state[name], np.dtype):
            fail(f"the SimpleImputer's {name} is not a numpy dtype")


def verify_power(found: Any, fail: Fail) -> None:
    """A PowerTransformer's ``_scaler`` (fitted on its transformed training data) scales each of its features."""
    from sklearn.preprocessing import StandardScaler

    scaler, width = getattr(found, "_scaler", None), found.n_features_in_
    if found.standardize and not (type(scaler) is StandardScaler and getattr(scaler, "n_features_in_", None) == width
                                  and all(np.shape(getattr(scaler, name, None)) == (width,) for name in ("mean_", "scale_"))):
        fail(f"the PowerTransformer's _scaler is not a StandardScaler fitted on its {width} features")


def rebuild_centerer(found: Any, state: dict[str, Any], fail: Fail) -> dict[str, Any]:
    """KernelPCA.fit's kernel centerer, fitted again on the kernel of its ``X_fit_`` (n_samples x n_samples)."""
    from sklearn.preprocessing import KernelCenterer

    samples = len(found.X_fit_)
    check_allocation(8 * samples * samples, "KernelPCA", f"the kernel of its {samples:,} training samples",
                     error=ModelRefused)
    return {"_centerer": KernelCenterer().set_output(transform="default").fit(found._get_kernel(found.X_fit_))}


def rebuild_nmf(found: Any, state: dict[str, Any], fail: Fail) -> dict[str, Any]:
    """An NMF's ``_n_components`` and ``_beta_loss`` as its own ``_check_params`` sets them (transform does too)."""
    found._check_params(np.zeros((1, found.n_features_in_)))
    count = found.components_.shape[0] if found._n_components == "auto" else found._n_components
    return {"_n_components": count, "_beta_loss": found._beta_loss}


def read_score_func(reader: Any, cls: Any) -> Callable[[object], Any]:
    """A univariate selector's ``score_func``: scikit-learn's public function of the allowed name."""
    def read(data: object) -> Any:
        found = reader.named(data, SCORE_FUNCS, f"the {cls.name}'s score_func")
        if not reader.build:
            return found
        return getattr(importlib.import_module("sklearn.feature_selection"), SCORE_FUNCS[(found.module, found.name)])
    return read


def _width_of(attribute: str, axis: int) -> Callable[[Any, dict[str, Any], Fail], dict[str, Any]]:
    """A kernel approximation's ``_n_features_out`` (get_feature_names_out's count), from its fitted array."""
    return lambda found, state, fail: {"_n_features_out": int(getattr(found, attribute).shape[axis])}


_RELIEF_TRAINING = ("_X", "_y", "_class_type", "_datalen", "_headers", "_label_list", "_labels_std",
                    "_missing_data_count", "_weights")
_STEP_CHECKS = (check_kernel_step,)
LOADERS: dict[Key, Loader] = {
    **{key: loader(checks=(check_importance_getter,)) for key in (SELECT_FROM_MODEL, RFE, RFECV)},
    **{key: loader(readers={"score_func": read_score_func}) for key in SELECTORS},
    **{key: loader(checks=_STEP_CHECKS) for key in COMPONENTS},
    NMF: loader(checks=(*_STEP_CHECKS, check_transform_work), recomputed={"_n_components", "_beta_loss"},
                rebuild=rebuild_nmf),
    FAST_ICA: loader(checks=_STEP_CHECKS, dropped={"_unmixing"}),  # fit's unmixing matrix; transform uses components_
    MINI_BATCH_DICTIONARY: loader(  # partial_fit's accumulators; its fitted RandomState read by sklearn_random.py
        checks=_STEP_CHECKS, checked={"_random_state"},
        readers={"_random_state": random_state_reader(RANDOM_STATE_OWNERS[MINI_BATCH_DICTIONARY])},
        dropped={"_A", "_B", "_batch_size", "_ewa_cost", "_ewa_cost_min", "_fit_algorithm", "_n_components",
                 "_no_improvement"}),
    **{key: loader(checks=(*_STEP_CHECKS, *((check_transform_work,) if key == LDA else ())),
                   readers={attribute: random_state_reader(attribute)})
       for key, attribute in RANDOM_STATE_OWNERS.items() if key != MINI_BATCH_DICTIONARY},
    KERNEL_PCA: loader(checks=_STEP_CHECKS, recomputed={"_centerer"}, rebuild=rebuild_centerer),
    NYSTROEM: loader(checks=_STEP_CHECKS, recomputed={"_n_features_out"}, rebuild=_width_of("components_", 0)),
    **{key: loader(recomputed={"_n_features_out"}, dropped={"_gamma"}, rebuild=_width_of("random_weights_", 1))
       for key in RANDOM_SAMPLERS},  # _gamma: what fit scaled random_weights_ by
    TARGET_REGRESSOR: loader(checks=(check_kernel_step, check_training_dim), checked={"_training_dim"}),
    FUNCTION_TRANSFORMER: loader(checks=_STEP_CHECKS),
    PCA: loader(checks=(check_pca,), checked={"_fit_svd_solver"}),
    POWER: loader(checked={"_scaler"}, verify=verify_power),
    IMPUTER: loader(checks=(check_imputer,), checked={"_fit_dtype", "_fill_dtype"}),
    **{key: loader(checks=(check_relief,), recomputed={"_num_attributes"}, dropped=_RELIEF_TRAINING,
                   rebuild=lambda found, state, fail: {"_num_attributes": len(found.top_features_)}) for key in RELIEFS},
    **{key: loader(checks=(check_binarize,)) for key in BINARIZE},
    **{key: loader(checks=(check_iraps,)) for key in (IRAPS, IRAPS_CORE)},
}
