"""Neighbour-based estimators in galaxy-ml files: their arrays checked against each other before any import.

scikit-learn finds neighbours in C (``ArgKmin``, ``pairwise_distances_argmin``) from the query and
the stored samples (``_fit_X``, a nearest centroid's ``centroids_``), reading as many columns of
both as the query has: stored samples of another width are read out of bounds (measured: a
``_fit_X`` of 2000 columns against 4-column queries gives distances from memory past the query). A
brute-force classifier's probabilities are summed in C at ``class_scores[sample, _y[neighbour]]``
without bounds checks: a ``_y`` beyond ``classes_`` wrote out of bounds (measured: a segmentation
fault with ``metric="manhattan"``). :func:`check_neighbors` makes these agree on the state read
in the check pass. The distance metrics read their parameters in C by the number of features: a
Mahalanobis ``VI`` smaller than ``n_features x n_features`` was read past its end by scipy's ``cdist``;
:func:`check_metric` admits the metrics of a brute-force search with exactly the parameters each takes,
sized by the features (Minkowski's ``p`` finite and >= 1, its weights ``w`` one per feature).

The search itself is never taken from the file: a k-NN or outlier factor is given to scikit-learn's own
``NeighborsBase._fit`` with the stored samples (and the labels ``classes_[_y]``), which sets again
``effective_metric_``, ``effective_metric_params_``, ``_fit_method``, ``_tree`` (a KD or ball tree
scikit-learn builds, if it chooses one: galaxy-ml 0.11 cannot save them, ``HPicklerError``), ``classes_``
and ``_y`` (:func:`rebuild_search`); the classes it finds must be the file's.
"""
from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

from gxkeras.galaxy.values import shown
from gxkeras.modelfile.sklearn_loaders.encoders import same_values
from gxkeras.modelfile.sklearn_loaders.loader import Fail, Key, Loader, loader

_CLASSIFICATION = ("sklearn.neighbors._classification", "KNeighborsClassifier")
KNN = {_CLASSIFICATION, ("sklearn.neighbors._regression", "KNeighborsRegressor")}
LOF = ("sklearn.neighbors._lof", "LocalOutlierFactor")
NEAREST_CENTROID = ("sklearn.neighbors._nearest_centroid", "NearestCentroid")
NEIGHBORS = KNN | {LOF, NEAREST_CENTROID}
# The fitted attributes whose presence makes an estimator "fitted" here: all of them are then checked.
_FITTED = {"_fit_X", "n_samples_fit_", "_y", "_lrd", "_distances_fit_X_", "centroids_", "classes_"}
# The metrics of a brute-force search on dense data (sklearn.neighbors.VALID_METRICS["brute"] less "precomputed";
# test_metric_names_are_sklearns) and the metric_params each takes: (name, shape in features) pairs.
METRICS = ("braycurtis", "canberra", "chebyshev", "cityblock", "correlation", "cosine", "dice", "euclidean", "hamming",
           "haversine", "jaccard", "l1", "l2", "mahalanobis", "manhattan", "minkowski", "nan_euclidean",
           "rogerstanimoto", "russellrao", "seuclidean", "sokalsneath", "sqeuclidean", "yule")
METRIC_PARAMS: dict[str, dict[str, int]] = {"minkowski": {"p": 0, "w": 1}, "mahalanobis": {"VI": 2, "V": 2},
                                             "seuclidean": {"V": 1}}
CENTROID_METRICS = ("euclidean", "manhattan")


def _count(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and 1 <= int(value) <= 10 ** 12


def check_neighbors(key: tuple[str, str], state: dict[str, Any], fail: Callable[[str], NoReturn]) -> None:
    """The stored samples (or centroids) must have the estimator's width, and labels index its classes."""
    name = key[1]
    if not _FITTED & set(state):
        return  # unfitted (an ensemble's template): scikit-learn refuses to predict with it
    n_features = state.get("n_features_in_")
    if not _count(n_features):
        fail(f"the {name}'s n_features_in_ is not a number")

    def array(attribute: str, shape: tuple[Any, ...], kinds: str = "f") -> np.ndarray:
        value = state.get(attribute)
        if not (isinstance(value, np.ndarray) and value.dtype.kind in kinds and value.ndim == len(shape)
                and all(want is None or size == want for size, want in zip(value.shape, shape, strict=True))):
            fail(f"the {name}'s {attribute} is not an array of shape {tuple('n' if s is None else s for s in shape)}")
        return value

    if key == NEAREST_CENTROID:
        classes = array("classes_", (None,), "biufU")
        array("centroids_", (len(classes), n_features))
        array("class_prior_", (len(classes),))
        array("within_class_std_dev_", (n_features,))
        return
    n_samples: Any = state.get("n_samples_fit_")
    if not _count(n_samples):
        fail(f"the {name}'s n_samples_fit_ is not a number")
    array("_fit_X", (n_samples, n_features))
    if key == LOF:
        neighbours: Any = state.get("n_neighbors_")
        if not (_count(neighbours) and neighbours <= n_samples):
            fail(f"the {name}'s n_neighbors_ is not a number of its {n_samples} samples")
        array("_lrd", (n_samples,))
        array("_distances_fit_X_", (n_samples, neighbours))
        return
    if key != _CLASSIFICATION:
        array("_y", (n_samples,) if np.ndim(state.get("_y")) == 1 else (n_samples, None))
        return
    two_d = state.get("outputs_2d_")
    classes = state.get("classes_") if two_d else [state.get("classes_")]
    if not (isinstance(two_d, bool) and isinstance(classes, list) and classes and all(
            isinstance(labels, np.ndarray) and labels.ndim == 1 and len(labels) for labels in classes)):
        fail(f"the {name}'s classes_ are not one array of labels per output")
    labels = array("_y", (n_samples, len(classes)) if two_d else (n_samples,), "iu").reshape(n_samples, -1)
    if np.any(labels < 0) or np.any(labels >= np.array([len(part) for part in classes])):
        fail(f"the {name}'s _y holds class indices outside its classes_")


def check_metric(key: Key, state: dict[str, Any], fail: Fail) -> None:
    """A neighbour search's metric is one of :data:`METRICS`, with only the parameters it takes, each finite and
    sized by the features (Mahalanobis ``VI``/``V`` n_features x n_features, ``seuclidean``'s ``V`` and
    Minkowski's ``w`` one per feature, ``V`` and ``w`` not negative); Minkowski's ``p`` finite and >= 1."""
    name, metric = key[1], state.get("metric")
    params: Any = state.get("metric_params")
    if key == NEAREST_CENTROID:
        if metric not in CENTROID_METRICS:
            fail(f"the {name}'s metric {shown(metric)} is not one of {', '.join(CENTROID_METRICS)}")
        return
    if metric not in METRICS:
        fail(f"the {name}'s metric {shown(metric)} is not one of {', '.join(METRICS)}")
    if params is None:
        params = {}
    takes = METRIC_PARAMS.get(str(metric), {})
    if not (isinstance(params, dict) and set(params) <= set(takes) and len(set(params) & {"V", "VI"}) <= 1):
        fail(f"the {name}'s metric_params {sorted(map(str, params))[:5] if isinstance(params, dict) else params!r} are "
             f"not the parameters the {metric} metric takes ({', '.join(takes) or 'none'})")
    width = state.get("n_features_in_")
    for parameter, value in params.items():
        if parameter == "p" or (parameter == "w" and value is None):
            continue
        shape = (width,) * takes[parameter]
        if not (isinstance(value, np.ndarray) and value.dtype.kind in "iuf" and value.shape == shape
                and np.all(np.isfinite(value)) and (parameter == "VI" or metric == "mahalanobis" or np.all(value >= 0))):
            fail(f"the {name}'s {metric} metric parameter {parameter} is not {' x '.join(map(str, shape))} finite "
                 "numbers")
    p = params.get("p", state.get("p"))
    if metric == "minkowski" and not (isinstance(p, (int, float, np.integer, np.floating)) and not isinstance(p, bool)
                                      and np.isfinite(p) and p >= 1):
        fail(f"the {name}'s Minkowski p {str(p)[:20]} is not a finite number >= 1")


_SEARCH = ("_fit_method", "_tree", "effective_metric_", "effective_metric_params_", "n_samples_fit_")


def rebuild_search(found: Any, state: dict[str, Any], fail: Fail) -> dict[str, Any]:
    """scikit-learn's own ``_fit`` on the stored samples and labels: the search and the label codes set again."""
    key = (type(found).__module__, type(found).__name__)
    fresh = type(found)(**found.get_params(deep=False))
    if key == _CLASSIFICATION:
        classes, codes = state["classes_"], state["_y"]
        outputs = classes if state["outputs_2d_"] else [classes]
        labels = np.column_stack([values[codes[:, k] if codes.ndim == 2 else codes] for k, values in enumerate(outputs)])
        fresh._fit(found._fit_X, labels if state["outputs_2d_"] else labels.ravel())
        if not same_values(fresh.classes_, classes):
            fail(f"the {key[1]}'s classes_ are not the sorted, distinct labels its _y uses")
    elif key in KNN:
        fresh._fit(found._fit_X, state["_y"])
    else:
        fresh._fit(found._fit_X)
    return {name: getattr(fresh, name) for name in RECOMPUTED[key]}


RECOMPUTED = {_CLASSIFICATION: (*_SEARCH, "_y", "classes_", "outputs_2d_"),
              ("sklearn.neighbors._regression", "KNeighborsRegressor"): (*_SEARCH, "_y"), LOF: _SEARCH}
_REGRESSION = ("sklearn.neighbors._regression", "KNeighborsRegressor")


def regression_width(found: Any) -> int:
    """A k-NN regressor predicts one value per column of its ``_y``: a file of 3 samples of 20,000 targets
    (480 kB) predicts 655 MB for a chunk of rows."""
    return int(found._y.shape[1]) if found._y.ndim == 2 else 1


LOADERS: dict[Key, Loader] = {
    **{key: loader(checks=(check_neighbors, check_metric), checked={"_fit_X"} | ({"_distances_fit_X_", "_lrd"} if key == LOF
                                                                                  else set()),
                   recomputed=RECOMPUTED[key], rebuild=rebuild_search,
                   width=regression_width if key == _REGRESSION else None) for key in KNN | {LOF}},
    NEAREST_CENTROID: loader(checks=(check_neighbors, check_metric)),
}
