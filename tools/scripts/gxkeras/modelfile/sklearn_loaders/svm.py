"""Kernel support vector machines (libsvm) in galaxy-ml files: their arrays checked against each other.

libsvm is C code that reads a fitted SVM's arrays by the sizes the other arrays give, without
checking them; :func:`check_libsvm` makes those sizes agree before anything is imported. What libsvm
is given besides is never taken from the file (:func:`rebuild_libsvm`): ``_dual_coef_`` and ``_intercept_``
are the public ``dual_coef_`` and ``intercept_`` (sign-flipped for a binary classifier, as ``fit`` flips
them), ``_effective_probability`` follows ``probability`` as ``fit`` sets it; ``_gamma`` (from the training
data's variance when ``gamma="scale"``) is checked to be the kernel coefficient ``gamma`` gives, and
``_num_iter`` (the solver's iteration counts, kept public as ``n_iter_``) is dropped.
"""
from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

from gxkeras.galaxy.values import shown
from gxkeras.modelfile.sklearn_loaders.loader import Fail, Key, Loader, loader

LIBSVM_CLASSES = {("sklearn.svm._classes", name) for name in ("SVC", "NuSVC", "SVR", "NuSVR", "OneClassSVM")}
LIBSVM_CLASSIFIERS = {("sklearn.svm._classes", "SVC"), ("sklearn.svm._classes", "NuSVC")}
# The attributes galaxy-ml writes for a fitted libsvm estimator (scikit-learn 1.9): nothing else may be
# set on one (an ``_impl`` attribute, for one, would make libsvm read the arrays as another kind of SVM).
LIBSVM_KEYS = {
    "C", "_dual_coef_", "_effective_probability", "_gamma", "_intercept_", "_n_support", "_num_iter", "_probA",
    "_probB", "_sklearn_version", "_sparse", "break_ties", "cache_size", "class_weight", "class_weight_", "classes_",
    "coef0", "decision_function_shape", "degree", "dual_coef_", "epsilon", "fit_status_", "gamma", "intercept_",
    "kernel", "max_iter", "n_features_in_", "feature_names_in_", "n_iter_", "nu", "offset_", "probability",
    "random_state", "shape_fit_", "shrinking", "support_", "support_vectors_", "tol", "verbose"}
LIBSVM_KERNELS = ("linear", "poly", "rbf", "sigmoid", "precomputed")


def check_libsvm(key: tuple[str, str], state: dict[str, Any], fail: Callable[[str], NoReturn]) -> None:
    """A kernel SVM's arrays must agree with each other: libsvm (C) reads them by these sizes, unchecked.

    libsvm takes the number of classes from ``_n_support``, reads ``_n_support`` support vectors per
    class, ``n_class - 1`` rows of ``_dual_coef_`` of one value per support vector, one intercept (and
    probA/probB, when it computes probabilities) per pair of classes, and, for a precomputed kernel,
    indexes the input's columns by ``support_``.
    """
    model = key[1]
    unknown = sorted(set(state) - LIBSVM_KEYS)
    if unknown:
        fail(f"the {model} has an attribute {unknown[0][:60]!r} that a fitted {model} does not have")
    if not any(key.endswith("_") or key.startswith("_") and key != "_sklearn_version" for key in state):
        return  # unfitted (an ensemble's template): scikit-learn refuses to predict with it, libsvm reads nothing

    def array(name: str, kind: str, ndim: int) -> np.ndarray:
        value = state.get(name)
        if not (isinstance(value, np.ndarray) and value.dtype.kind == kind and value.ndim == ndim
                and (kind != "f" or value.dtype == np.float64) and (kind != "i" or value.dtype == np.int32)):
            fail(f"the {model}'s {name} is not a {ndim}-D array of "
                 f"{'float64' if kind == 'f' else 'int32'}, as libsvm reads it")
        return value

    def number(name: str, integral: bool = False) -> float:
        value = state.get(name)
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, int if integral else (int, float)) \
                or not np.isfinite(value) or abs(value) > 2 ** 31 - 1:
            fail(f"the {model}'s {name} is not a {'whole ' if integral else ''}number")
        return value

    kernel = state.get("kernel")
    if kernel not in LIBSVM_KERNELS:
        fail(f"the {model}'s kernel {shown(kernel)} is not one of {', '.join(LIBSVM_KERNELS)}")
    if state.get("_sparse") is not False:
        fail(f"the {model} was fitted on sparse data; only dense-fitted SVMs are accepted")
    n_features = number("n_features_in_", True)
    for name in ("degree", "_gamma", "coef0", "cache_size"):
        number(name, name == "degree")
    gamma: Any = state.get("gamma")
    expected = 1 / n_features if gamma == "auto" else gamma
    if state["_gamma"] < 0 or (kernel == "precomputed" and state["_gamma"] != 0) or (
            kernel != "precomputed" and gamma != "scale" and state["_gamma"] != expected):
        fail(f"the {model}'s _gamma {state['_gamma']} is not the kernel coefficient its gamma {str(gamma)[:20]!r} gives")
    shape_fit = state.get("shape_fit_")
    if not (isinstance(shape_fit, tuple) and len(shape_fit) == 2 and all(
            isinstance(size, int) and not isinstance(size, bool) and size >= 0 for size in shape_fit)):
        fail(f"the {model}'s shape_fit_ is not (samples, features)")
    support, vectors = array("support_", "i", 1), array("support_vectors_", "f", 2)
    n_support, prob_a, prob_b = array("_n_support", "i", 1), array("_probA", "f", 1), array("_probB", "f", 1)
    count = len(support)
    if kernel == "precomputed":
        if vectors.size or np.any(support < 0) or np.any(support >= shape_fit[0]):
            fail(f"the {model}'s support_ indexes outside its {shape_fit[0]} training samples")
    elif vectors.shape != (count, n_features) or shape_fit[1] != n_features:
        fail(f"the {model}'s support_vectors_ are {vectors.shape}, expected {count} support vectors of "
             f"{n_features} features")
    classifier = key in LIBSVM_CLASSIFIERS
    if np.any(n_support < 0) or (classifier and (len(n_support) < 2 or n_support.sum() != count)) \
            or (not classifier and (len(n_support) != 2 or n_support[0] != count)):
        fail(f"the {model}'s _n_support {n_support.tolist()[:10]} does not add up to its {count} support vectors")
    n_class = len(n_support)
    pairs = n_class * (n_class - 1) // 2
    if array("dual_coef_", "f", 2).shape != (n_class - 1, count):
        fail(f"the {model}'s dual_coef_ is {state['dual_coef_'].shape}, expected ({n_class - 1}, {count})")
    if array("intercept_", "f", 1).shape != (pairs,):
        fail(f"the {model}'s intercept_ has {len(state['intercept_'])} values, expected {pairs}")
    probability = state.get("probability") is True
    if prob_a.shape != prob_b.shape or len(prob_a) not in ((pairs,) if probability else (0, pairs)):
        fail(f"the {model}'s _probA and _probB have {len(prob_a)} and {len(prob_b)} values, expected "
             f"{pairs if probability else f'0 or {pairs}'}")
    if classifier:
        classes = state.get("classes_")
        if not (isinstance(classes, np.ndarray) and classes.shape == (n_class,)
                and array("class_weight_", "f", 1).shape == (n_class,)):
            fail(f"the {model}'s classes_ and class_weight_ do not have its {n_class} classes")
    if "offset_" in state and array("offset_", "f", 1).shape != (1,):
        fail(f"the {model}'s offset_ is not one number")


def rebuild_libsvm(found: Any, state: dict[str, Any], fail: Fail) -> dict[str, Any]:
    """What libsvm reads besides the checked arrays, from the public attributes, as ``BaseLibSVM.fit`` sets it."""
    binary = (type(found).__module__, type(found).__name__) in LIBSVM_CLASSIFIERS and len(found.classes_) == 2
    sign = -1.0 if binary else 1.0
    return {"_dual_coef_": sign * found.dual_coef_, "_intercept_": sign * found.intercept_,
            "_effective_probability": False if found.probability == "deprecated" else found.probability}


LOADERS: dict[Key, Loader] = {key: loader(
    checks=(check_libsvm,), checked={"_n_support", "_probA", "_probB", "_gamma", "_sparse"}, dropped={"_num_iter"},
    recomputed={"_dual_coef_", "_intercept_", "_effective_probability"}, rebuild=rebuild_libsvm)
    for key in LIBSVM_CLASSES}
