"""Ensembles and imbalanced-learn pipelines in galaxy-ml files: the allow-list and the checks of their state.

The ensembles galaxy-ml 0.11 can save with scikit-learn 1.9 (AdaBoost, bagging, voting, stacking)
predict in Python over their members; the members (trees, linear models, SVMs ...) are checked
as any other allowed class, so what is left to check here is how the ensemble combines them:
every member sees the features it was fitted on (a bagging member a column subset, given by
``estimators_features_``), a stacking ensemble calls only prediction methods of its members,
and the voting rule is one scikit-learn knows. An isolation forest (a bagging of extra trees) also
reads two arrays per tree at the leaf each tree gives a sample: they must have one value per node
(:func:`check_isolation`, then :func:`isolation_problem` on the built trees). :func:`check_ensemble` runs on the state read in
the check pass, before anything is imported; members are then described by ``n_features``.

imbalanced-learn's samplers only resample training data: its ``Pipeline`` skips them at
prediction. Their stored state is still read and checked like anything else (every class it
names must be allowed: a fitted ClusterCentroids keeps a KMeans, admitted inside a sampler only,
:data:`SAMPLER_PARTS`), and each sampler is then rebuilt from its parameters alone
(:func:`sampler_params`), so that nothing fitted of it stays in the model.
"""
from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

_WEIGHT_BOOSTING, _BAGGING = "sklearn.ensemble._weight_boosting", "sklearn.ensemble._bagging"
_VOTING, _STACKING = "sklearn.ensemble._voting", "sklearn.ensemble._stacking"
BOOSTING = {(_WEIGHT_BOOSTING, "AdaBoostClassifier"), (_WEIGHT_BOOSTING, "AdaBoostRegressor")}
BAGGING = {(_BAGGING, "BaggingClassifier"), (_BAGGING, "BaggingRegressor")}
VOTING = {(_VOTING, "VotingClassifier"), (_VOTING, "VotingRegressor")}
STACKING = {(_STACKING, "StackingClassifier"), (_STACKING, "StackingRegressor")}
# An isolation forest is a bagging of extra trees (column subsets included) that scores a sample by the depth of
# the leaf each tree puts it in: ``_decision_path_lengths[i][leaf]`` and ``_average_path_length_per_tree[i][leaf]``.
ISOLATION = ("sklearn.ensemble._iforest", "IsolationForest")
ENSEMBLES = BOOSTING | BAGGING | VOTING | STACKING | {ISOLATION}
LABEL_ENCODER = ("sklearn.preprocessing._label", "LabelEncoder")  # voting and stacking classifiers' labels
# The samplers of the old pipeline builder (tools/sklearn/main_macros.xml, imbalanced_learn_sampling) that
# galaxy-ml 0.11 can save: the others keep a fitted NearestNeighbors with a KD tree (or SMOTENC numpy
# integers) that its dump_model_to_h5 cannot write (docs/comparison.md).
_UNDER = "imblearn.under_sampling._prototype_selection"
SAMPLERS = {
    ("imblearn.under_sampling._prototype_generation._cluster_centroids", "ClusterCentroids"),
    (f"{_UNDER}._instance_hardness_threshold", "InstanceHardnessThreshold"),
    (f"{_UNDER}._random_under_sampler", "RandomUnderSampler"),
    (f"{_UNDER}._tomek_links", "TomekLinks"),
    ("imblearn.over_sampling._random_over_sampler", "RandomOverSampler"),
}
IMBLEARN_PIPELINE = ("imblearn.pipeline", "Pipeline")
# Classes admitted only inside a sampler's state (never built into a model that predicts with them):
# KMeans predicts in C from its cluster centres.
SAMPLER_PARTS = {("sklearn.cluster._kmeans", "KMeans")}
# Structures galaxy-ml writes for these classes, each read in one place only: a voting or stacking
# ensemble's ``named_estimators_`` (a Bunch: a dict subclass) and a sampler's ``sampling_strategy_``.
BUNCH, DICT = ("sklearn.utils._bunch", "Bunch"), ("builtins", "dict")
ORDERED_DICT = ("collections", "OrderedDict")
BUNCH_STATE: dict[str, Any] = {"_deprecated_key_to_warnings": {}}
# What a stacking ensemble may call on its members (``getattr(member, method)(X)``).
STACK_METHODS = ("predict_proba", "decision_function", "predict")
VOTING_RULES = ("hard", "soft")


def n_features_of(member: Any) -> object:
    """A member's number of features: ``n_features`` of a checked description, ``n_features_in_`` of an object."""
    return getattr(member, "n_features", getattr(member, "n_features_in_", None))


def _whole(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and int(value) >= 0


def check_ensemble(key: tuple[str, str], state: dict[str, Any], fail: Callable[[str], NoReturn]) -> None:
    """How an ensemble combines its members must be sound before any of them predicts."""
    name = key[1]
    members = state.get("estimators_")
    if not isinstance(members, list) or not members:
        fail(f"the {name}'s estimators_ is not a list of fitted estimators")
    features = [n_features_of(member) for member in members]
    if not all(_whole(count) and count for count in features):
        fail(f"a member of the {name} has no number of features")
    n_features = state.get("n_features_in_", features[0])
    if not _whole(n_features):
        fail(f"the {name}'s n_features_in_ is not a number")
    if key in BAGGING or key == ISOLATION:
        check_bagging(name, state, members, features, n_features, fail)
    elif any(count != n_features for count in features):
        fail(f"a member of the {name} has {features} features, but the ensemble {n_features}")
    if key == ISOLATION:
        check_isolation(state, features, n_features, fail)
    if key in STACKING:
        methods = state.get("stack_method_")
        if not (isinstance(methods, list) and len(methods) == len(members)
                and all(method in STACK_METHODS for method in methods)):
            fail(f"the {name}'s stack_method_ is not one of {', '.join(STACK_METHODS)} per member")
        if n_features_of(state.get("final_estimator_")) is None or not isinstance(state.get("passthrough"), bool):
            fail(f"the {name} has no fitted final_estimator_ or no passthrough setting")
    if key in VOTING:
        if key[1] == "VotingClassifier" and state.get("voting") not in VOTING_RULES:
            fail(f"the {name}'s voting {str(state.get('voting'))[:40]!r} is not one of {', '.join(VOTING_RULES)}")
        weights = state.get("weights")
        if weights is not None and not (isinstance(weights, list) and len(weights) == len(members)
                                        and all(isinstance(w, (int, float)) for w in weights)):
            fail(f"the {name}'s weights are not one number per member")
    if key in BOOSTING:
        for array in ("estimator_weights_", "estimator_errors_"):
            value = state.get(array)
            if not (isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind == "f"
                    and len(value) >= len(members)):
                fail(f"the {name}'s {array} is not one number per member")


def check_bagging(name: str, state: dict[str, Any], members: list[Any], features: list[Any], n_features: int,
                  fail: Callable[[str], NoReturn]) -> None:
    """A bagging member predicts from the columns ``estimators_features_`` gives it: inside X, as many as it has."""
    subsets = state.get("estimators_features_")
    if not (isinstance(subsets, list) and len(subsets) == len(members)):
        fail(f"the {name}'s estimators_features_ is not one column list per member")
    for subset, count in zip(subsets, features, strict=True):
        if not (isinstance(subset, np.ndarray) and subset.ndim == 1 and subset.dtype.kind in "iu"
                and len(subset) == count and np.all(subset >= 0) and np.all(subset < n_features)):
            fail(f"the {name}'s estimators_features_ do not select its members' {count} columns out of {n_features}")


def check_isolation(state: dict[str, Any], features: list[Any], n_features: int,
                    fail: Callable[[str], NoReturn]) -> None:
    """An isolation forest's per-tree depth arrays (one 1-D array per tree; their sizes are checked against
    the trees by :func:`isolation_problem` once built) and ``_max_features``, every tree's number of columns."""
    width: Any = state.get("_max_features")
    if not (_whole(width) and 1 <= width <= n_features and all(count == width for count in features)):
        fail(f"the IsolationForest's _max_features {str(width)[:20]} is not its trees' number of features")
    for name in ("_decision_path_lengths", "_average_path_length_per_tree"):
        arrays = state.get(name)
        if not (isinstance(arrays, tuple) and len(arrays) == len(features) and all(
                isinstance(array, np.ndarray) and array.ndim == 1 and array.dtype.kind in "iuf" for array in arrays)):
            fail(f"the IsolationForest's {name} is not one 1-D array of numbers per tree")


def isolation_problem(forest: Any) -> str | None:
    """What is wrong with a built isolation forest's depth arrays: each must have one value per node of its tree."""
    if (type(forest).__module__, type(forest).__name__) != ISOLATION:
        return None
    for name in ("_decision_path_lengths", "_average_path_length_per_tree"):
        for index, (array, member) in enumerate(zip(getattr(forest, name), forest.estimators_, strict=True)):
            if len(array) != member.tree_.node_count:
                return (f"the IsolationForest's {name}[{index}] has {len(array)} values, but its tree "
                        f"{member.tree_.node_count} nodes")
    return None


def sampler_params(klass: Any, state: dict[str, Any]) -> dict[str, Any]:
    """The parameters of a sampler's state (its fitted attributes are dropped: it never predicts)."""
    names = klass._get_param_names()
    return {key: value for key, value in state.items() if key in names}
