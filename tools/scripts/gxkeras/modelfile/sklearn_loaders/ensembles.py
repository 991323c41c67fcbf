"""Ensembles and imbalanced-learn pipelines in galaxy-ml files: the allow-list and the checks of their state.

The ensembles galaxy-ml 0.11 can save with scikit-learn 1.9 (AdaBoost, bagging, voting, stacking)
predict in Python over their members; the members (trees, linear models, SVMs ...) are checked
as any other allowed class, so what is left to check here is how the ensemble combines them:
every member sees the features it was fitted on (a bagging member a column subset, given by
``estimators_features_``), a stacking ensemble calls only prediction methods of its members,
and the voting rule is one scikit-learn knows. :func:`check_ensemble` runs on the state read in
the check pass, before anything is imported; members are then described by ``n_features``.

Their private attributes (:data:`LOADERS`) are recomputed or dropped, never read: an isolation forest reads
two arrays per tree at the leaf each tree gives a sample (``_decision_path_lengths``,
``_average_path_length_per_tree``), made again from its trees as its ``fit`` makes them
(:func:`rebuild_isolation`); a voting classifier's ``le_`` and a stacking classifier's ``_label_encoder``
are fitted again on its ``classes_`` (:func:`rebuild_label_encoder`); bootstrap state (``_seeds``,
``_n_samples``, ``_sample_weight`` ...) is only read to draw training samples again: dropped.

imbalanced-learn's samplers only resample training data: its ``Pipeline`` skips them at
prediction. Their stored state is still read and checked like anything else (every class it
names must be allowed: a fitted ClusterCentroids keeps a KMeans, admitted inside a sampler only,
:data:`SAMPLER_PARTS`), and each sampler is then rebuilt from its parameters alone
(:func:`sampler_params`), so that nothing fitted of it stays in the model.
"""
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

from gxkeras.galaxy.values import shown
from gxkeras.modelfile.sklearn_loaders.encoders import same_values
from gxkeras.modelfile.sklearn_loaders.loader import RECONSTRUCTOR, Fail, Key, Loader, key_of, loader

_WEIGHT_BOOSTING, _BAGGING = "sklearn.ensemble._weight_boosting", "sklearn.ensemble._bagging"
_VOTING, _STACKING = "sklearn.ensemble._voting", "sklearn.ensemble._stacking"
BOOSTING = {(_WEIGHT_BOOSTING, "AdaBoostClassifier"), (_WEIGHT_BOOSTING, "AdaBoostRegressor")}
BAGGING = {(_BAGGING, "BaggingClassifier"), (_BAGGING, "BaggingRegressor")}
VOTING = {(_VOTING, "VotingClassifier"), (_VOTING, "VotingRegressor")}
STACKING = {(_STACKING, "StackingClassifier"), (_STACKING, "StackingRegressor")}
# An isolation forest is a bagging of extra trees (column subsets included) that scores a sample by the depth of
# the leaf each tree puts it in: ``_decision_path_lengths[i][leaf]`` and ``_average_path_length_per_tree[i][leaf]``.
ISOLATION = ("sklearn.ensemble._iforest", "IsolationForest")
FORESTS = {("sklearn.ensemble._forest", name) for name in (
    "RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor")}
_TREE = "sklearn.tree._classes"
TREE_CLASSIFIERS = {(_TREE, "DecisionTreeClassifier"), (_TREE, "ExtraTreeClassifier")}
TREES = TREE_CLASSIFIERS | {(_TREE, "DecisionTreeRegressor"), (_TREE, "ExtraTreeRegressor")}
FOREST_CLASSIFIERS = {key for key in FORESTS if key[1].endswith("Classifier")}
ENSEMBLES = BOOSTING | BAGGING | VOTING | STACKING | {ISOLATION}
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
NUMPY_SCALAR = ("numpy._core.multiarray", "scalar")  # a text class label of a sampler's counts, decoded by us
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
            fail(f"the {name}'s voting {shown(state.get('voting'))} is not one of {', '.join(VOTING_RULES)}")
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
    """An isolation forest's trees all see one number of columns (its ``_max_features``, recomputed) and its
    ``max_samples_`` (its ``_max_samples``, recomputed; scores are scaled by it) is a count."""
    if not (features and all(count == features[0] for count in features) and features[0] <= n_features):
        fail("the IsolationForest's trees do not all see one number of its features")
    if not (_whole(state.get("max_samples_")) and state["max_samples_"] >= 1):
        fail(f"the IsolationForest's max_samples_ {str(state.get('max_samples_'))[:20]} is not a count")


def rebuild_isolation(found: Any, state: dict[str, Any], fail: Fail) -> dict[str, Any]:
    """IsolationForest.fit's per-tree depth arrays, from the (checked) trees, with scikit-learn's functions."""
    from sklearn.ensemble._iforest import _average_path_length

    lengths, depths = zip(*[(_average_path_length(member.tree_.n_node_samples), member.tree_.compute_node_depths())
                            for member in found.estimators_], strict=True)
    return {"_average_path_length_per_tree": lengths, "_decision_path_lengths": depths,
            "_max_features": len(found.estimators_features_[0]), "_max_samples": found.max_samples_}


def class_counts(found: Any) -> list[int]:
    """The number of labels of each output: one array of labels per output (a list), or one array."""
    classes = found.classes_
    return [len(labels) for labels in classes] if isinstance(classes, list) else [len(classes)]


def rebuild_class_count(found: Any, state: dict[str, Any], fail: Fail) -> dict[str, Any]:
    """``n_classes_`` as ``fit`` sets it, from ``classes_``: the forests and bagging size their probabilities by it
    (``np.zeros((rows, n_classes_))``: measured, a file's 10^8 asked for 30 GB for 40 rows), so it is never the
    file's. A tree's is numpy's (an intp, or an array of one per output), a forest's a list of ints per output."""
    key, counts = (type(found).__module__, type(found).__name__), class_counts(found)
    several = isinstance(found.classes_, list)
    if key in TREE_CLASSIFIERS:
        return {"n_classes_": np.array(counts, dtype=np.intp) if several else np.intp(counts[0])}
    if several and key not in FOREST_CLASSIFIERS:
        fail(f"the {key[1]}'s classes_ is not one array of labels")
    return {"n_classes_": counts if several else counts[0]}


def verify_tree(found: Any, fail: Fail) -> None:
    """A tree predicts ``tree_.n_outputs`` values of ``tree_.n_classes`` each (its ``values`` per node): they are
    the estimator's outputs and labels per output (one value per output for a regressor), so the output's width
    is the one its public attributes give (a 1-node tree of 10^5 classes is 800 kB but 3.2 GB for 4096 rows)."""
    tree = found.tree_
    key = (type(found).__module__, type(found).__name__)
    counts = class_counts(found) if key in TREE_CLASSIFIERS else [1] * int(found.n_outputs_)
    if not (type(tree).__name__ == "Tree" and tree.n_outputs == found.n_outputs_ == len(counts)
            and tree.n_classes.tolist() == counts):
        fail(f"the {key[1]}'s tree_ predicts {getattr(tree, 'n_outputs', '?')} outputs of "
             f"{np.asarray(getattr(tree, 'n_classes', [])).tolist()[:5]} values, but its n_outputs_ and classes_ "
             f"say {counts[:5]}")


def rebuild_label_encoder(attribute: str) -> Callable[[Any, dict[str, Any], Fail], dict[str, Any]]:
    """A voting or stacking classifier's label encoder(s), as its ``fit`` makes them, fitted on its ``classes_``."""
    def rebuild(found: Any, state: dict[str, Any], fail: Fail) -> dict[str, Any]:
        from sklearn.preprocessing import LabelEncoder

        classes = found.classes_
        several = isinstance(classes, list)
        encoders = [LabelEncoder().fit(labels) for labels in (classes if several else [classes])]
        if not all(isinstance(labels, np.ndarray) and same_values(encoder.classes_, labels)
                   for encoder, labels in zip(encoders, classes if several else [classes], strict=True)):
            fail(f"the {type(found).__name__}'s classes_ are not sorted, distinct labels")
        return {attribute: encoders if several else encoders[0]}
    return rebuild


def verify_encoded_members(found: Any, fail: Fail) -> None:
    """A voting or stacking classifier's ``fit`` gives its members the labels' codes (``le_.transform(y)``): each
    member's ``classes_`` is ``0 .. n_classes - 1``. Hard voting counts each row's votes with ``np.bincount``,
    sized by the largest code a member predicts (measured: a member's label 10^9 asked for 7.5 GB a row)."""
    if isinstance(found.classes_, list):
        return  # multilabel stacking: one array of labels per output, its members' likewise
    codes = np.arange(len(found.classes_))
    for member in found.estimators_:
        labels = getattr(member, "classes_", None)
        if labels is not None and not (isinstance(labels, np.ndarray) and labels.shape == codes.shape
                                       and labels.dtype.kind in "iuf" and np.array_equal(labels, codes)):
            fail(f"the {type(found).__name__}'s member {type(member).__name__} has classes_ "
                 f"{np.asarray(labels).tolist()[:5]}, not the codes 0 .. {len(codes) - 1} of its labels")


def read_bunch(reader: Any, cls: Any) -> Callable[[object], Any]:
    """A voting or stacking ensemble's ``named_estimators_``: a Bunch (dict) of its members by name."""
    def read(data: object) -> Any:
        reduce = data.get("-reduce-") if isinstance(data, dict) and set(data) == {"-reduce-"} else None
        args = reduce.get("-args-") if isinstance(reduce, dict) else None
        if not (isinstance(reduce, dict) and {"--func-", "-args-"} <= set(reduce) <= {"--func-", "-args-", "-state-"}
                and key_of(reader.reference(reduce["--func-"])) == RECONSTRUCTOR and isinstance(args, dict)
                and set(args) == {"-tuple-"} and isinstance(args["-tuple-"], list) and len(args["-tuple-"]) == 3):
            return reader.fail(f"the {cls.name}'s named_estimators_ is not a Bunch of its members")
        reader.named(args["-tuple-"][0], {BUNCH}, f"the {cls.name}'s named_estimators_")
        reader.named(args["-tuple-"][1], {DICT}, f"the {cls.name}'s named_estimators_ base")
        members = args["-tuple-"][2]
        if not (isinstance(members, dict) and "-keys-" in members
                and not any(key.startswith("-") and key != "-keys-" for key in members)):
            return reader.fail(f"the {cls.name}'s named_estimators_ is not a dictionary")
        content = reader.mapping(members)
        if reader.value(reduce.get("-state-")) not in (None, BUNCH_STATE) \
                or not all(isinstance(key, str) for key in content):
            return reader.fail(f"the {cls.name}'s named_estimators_ holds more than its members by name")
        if reader.build:
            from sklearn.utils import Bunch

            content = Bunch(**content)
        reader.memo.append(content)
        return content
    return read


def read_ordered_dict(reader: Any, cls: Any) -> Callable[[object], Any]:
    """A sampler's ``sampling_strategy_``: an OrderedDict of class labels to sample counts (numbers only)."""
    def read(data: object) -> Any:
        reduce = data.get("-reduce-") if isinstance(data, dict) and set(data) == {"-reduce-"} else None
        if not (isinstance(reduce, dict) and {"--func-", "-args-"} <= set(reduce) <= {"--func-", "-args-", "-dictitems-"}):
            return reader.fail(f"the {cls.name}'s sampling_strategy_ is not an OrderedDict")
        reader.named(reduce["--func-"], {ORDERED_DICT}, f"the {cls.name}'s sampling_strategy_")
        pairs = reduce.get("-dictitems-", [])
        if reduce["-args-"] != {"-tuple-": []} or not (isinstance(pairs, list) and all(
                isinstance(pair, dict) and set(pair) == {"-tuple-"} and isinstance(pair["-tuple-"], list)
                and len(pair["-tuple-"]) == 2 for pair in pairs)):
            return reader.fail(f"the {cls.name}'s sampling_strategy_ is not class labels and counts")
        items = [(text_label(reader, pair["-tuple-"][0]), reader.value(pair["-tuple-"][1])) for pair in pairs]
        if not all(_plain_scalar(part) for item in items for part in item):
            return reader.fail(f"the {cls.name}'s sampling_strategy_ is not class labels and counts")
        found = OrderedDict(items)
        reader.memo.append(found)
        return found
    return read


def text_label(reader: Any, data: object) -> Any:
    """A class label; a text label is numpy's ``scalar(dtype('<Un'), its UTF-32 bytes)``, decoded here."""
    reduce = data.get("-reduce-") if isinstance(data, dict) and set(data) == {"-reduce-"} else None
    if reduce is None:
        return reader.value(data)
    args = reduce.get("-args-")
    if not (set(reduce) == {"--func-", "-args-"} and isinstance(args, dict) and set(args) == {"-tuple-"}
            and isinstance(args["-tuple-"], list) and len(args["-tuple-"]) == 2):
        return reader.fail("a class label is not a number or a text")
    reader.named(reduce["--func-"], {NUMPY_SCALAR}, "a class label")
    dtype, raw = reader.value(args["-tuple-"][0]), reader.value(args["-tuple-"][1])
    if not (isinstance(dtype, np.dtype) and dtype.kind == "U" and isinstance(raw, bytes)
            and len(raw) == dtype.itemsize):
        return reader.fail("a class label is not a text of its stated length")
    found = np.str_(raw.decode("utf-32-le").rstrip("\0"))
    reader.memo.append(found)
    return found


def _plain_scalar(value: object) -> bool:
    """A number or text (numpy numbers included): what a sampler's class counts may hold."""
    return isinstance(value, (int, float, str, np.number)) and not isinstance(value, bool)


def sampler_params(klass: Any, state: dict[str, Any]) -> dict[str, Any]:
    """The parameters of a sampler's state (its fitted attributes are dropped: it never predicts)."""
    names = klass._get_param_names()
    return {key: value for key, value in state.items() if key in names}


def make_sampler(klass: Any, state: dict[str, Any]) -> Any:
    """A sampler made from its parameters (skipped at prediction); its pipeline's number of input columns kept."""
    found = klass(**sampler_params(klass, state))
    width: Any = state.get("n_features_in_")
    if _whole(width) and width >= 1:
        found.n_features_in_ = width
    return found


_BOOTSTRAP = {"_n_samples", "_sample_weight", "_seeds"}  # what bagging draws its training samples with
_COUNTED = {"recomputed": {"n_classes_"}, "rebuild": rebuild_class_count}  # classifiers whose n_classes_ sizes work
LOADERS: dict[Key, Loader] = {
    **{key: loader(verify=verify_tree, **(_COUNTED if key in TREE_CLASSIFIERS else {})) for key in TREES},
    **{key: loader(dropped={"_n_samples", "_n_samples_bootstrap", "_sample_weight"},
                   **(_COUNTED if key in FOREST_CLASSIFIERS else {})) for key in FORESTS},
    **{key: loader(checks=(check_ensemble,), dropped=_BOOTSTRAP | {"_max_features", "_max_samples"},
                   **(_COUNTED if key[1].endswith("Classifier") else {})) for key in BAGGING},
    ISOLATION: loader(checks=(check_ensemble,), dropped=_BOOTSTRAP, rebuild=rebuild_isolation, recomputed={
        "_average_path_length_per_tree", "_decision_path_lengths", "_max_features", "_max_samples"}),
    **{key: loader(checks=(check_ensemble,), **(_COUNTED if key[1].endswith("Classifier") else {})) for key in BOOSTING},
    (_VOTING, "VotingClassifier"): loader(readers={"named_estimators_": read_bunch}, checks=(check_ensemble,),
                                          recomputed={"le_"}, rebuild=rebuild_label_encoder("le_"),
                                          verify=verify_encoded_members),
    (_VOTING, "VotingRegressor"): loader(readers={"named_estimators_": read_bunch}, checks=(check_ensemble,)),
    (_STACKING, "StackingClassifier"): loader(  # _n_feature_outs: only get_feature_names_out reads it
        readers={"named_estimators_": read_bunch}, checks=(check_ensemble,), recomputed={"_label_encoder"},
        dropped={"_n_feature_outs"}, rebuild=rebuild_label_encoder("_label_encoder"), verify=verify_encoded_members),
    (_STACKING, "StackingRegressor"): loader(readers={"named_estimators_": read_bunch}, checks=(check_ensemble,),
                                             dropped={"_n_feature_outs"}),
    **{key: loader(readers={"sampling_strategy_": read_ordered_dict}, make=make_sampler) for key in SAMPLERS},
}
