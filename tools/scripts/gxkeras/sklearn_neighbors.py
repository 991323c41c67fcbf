"""Neighbour-based estimators in galaxy-ml files: their arrays checked against each other before any import.

scikit-learn finds neighbours in C (``ArgKmin``, ``pairwise_distances_argmin``) from the query and
the stored samples (``_fit_X``, a nearest centroid's ``centroids_``), reading as many columns of
both as the query has: stored samples of another width are read out of bounds (measured: a
``_fit_X`` of 2000 columns against 4-column queries gives distances from memory past the query). A
brute-force classifier's probabilities are summed in C at ``class_scores[sample, _y[neighbour]]``
without bounds checks: a ``_y`` beyond ``classes_`` wrote out of bounds (measured: a segmentation
fault with ``metric="manhattan"``). :func:`check_neighbors` makes these agree on the state read
in the check pass (:mod:`gxkeras.sklearn_io` calls it for every class in :data:`NEIGHBORS`).
KD and ball trees are never admitted: galaxy-ml 0.11 cannot save them (``HPicklerError``).
"""
from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

_CLASSIFICATION = ("sklearn.neighbors._classification", "KNeighborsClassifier")
KNN = {_CLASSIFICATION, ("sklearn.neighbors._regression", "KNeighborsRegressor")}
LOF = ("sklearn.neighbors._lof", "LocalOutlierFactor")
NEAREST_CENTROID = ("sklearn.neighbors._nearest_centroid", "NearestCentroid")
NEIGHBORS = KNN | {LOF, NEAREST_CENTROID}
# The fitted attributes whose presence makes an estimator "fitted" here: all of them are then checked.
_FITTED = {"_fit_X", "n_samples_fit_", "_y", "_lrd", "_distances_fit_X_", "centroids_", "classes_"}


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
    if state.get("_fit_method") != "brute" or state.get("_tree") is not None:
        fail(f"the {name} searches with a {str(state.get('_fit_method'))[:20]}; only brute force is accepted")
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
