"""XGBoost estimators in galaxy-ml files: the booster parsed and checked by us, never by XGBoost's parser.

galaxy-ml 0.11 pickles an ``XGBClassifier``/``XGBRegressor`` like any object (its own JSON path for
XGBoost is never taken): the ``_Booster`` is ``Booster`` with the state ``{"handle": bytearray}``, the
bytes being XGBoost's serialisation, UBJSON ``{"Config": ..., "Model": ...}``. XGBoost's C++ code
would parse those bytes and then walk the trees' arrays by the indices they hold, unchecked.

Here the bytes are parsed by :func:`parse_ubjson` (bounded: every length against the bytes left, the
nesting depth limited), ``Config`` (training settings) is dropped, and ``Model`` is checked by
:func:`check_model`: a tree booster (``gbtree``; XGBoost 3 also saves ``dart`` models so) or a linear one
(``gblinear``: its weights one per feature and bias per output group) of numeric features, with an objective of
:data:`OBJECTIVES`, and in every tree arrays of one entry per node whose child indices point forward
inside the tree (each child with that node as its parent), split features below ``num_feature``, no
categorical splits and one value per leaf; the trees' output groups and iteration boundaries must
fit the model's classes and tree count. XGBoost then reads only the JSON model that :func:`model_json`
writes from the checked values (its documented model format).
"""
import json
import math
import struct
from collections.abc import Callable
from typing import Any, NoReturn

XGB_CLASSES = {("xgboost.sklearn", "XGBClassifier"), ("xgboost.sklearn", "XGBRegressor")}
BOOSTER = ("xgboost.core", "Booster")
BYTEARRAY = ("builtins", "bytearray")
MAX_DEPTH = 16  # XGBoost's model is 6 levels deep
# Objectives (and their parameter block) of the estimators galaxy-ml's tools fit; what they compute
# from the trees' sums is fixed C++ code that reads no array of the file.
OBJECTIVES = {"binary:logistic": "reg_loss_param", "binary:logitraw": "reg_loss_param",
              "reg:logistic": "reg_loss_param", "reg:squarederror": "reg_loss_param",
              "reg:squaredlogerror": None, "reg:pseudohubererror": "pseudo_huber_param",
              "reg:absoluteerror": None, "count:poisson": "poisson_regression_param",
              "multi:softprob": "softmax_multiclass_param", "multi:softmax": "softmax_multiclass_param",
              "reg:gamma": "reg_loss_param", "reg:tweedie": "tweedie_regression_param", "binary:hinge": None,
              "survival:cox": None}
TREE_ARRAYS = ("base_weights", "default_left", "left_children", "loss_changes", "parents", "right_children",
               "split_conditions", "split_indices", "split_type", "sum_hessian")
CATEGORY_ARRAYS = ("categories", "categories_nodes", "categories_segments", "categories_sizes")
ROOT_PARENT = 2147483647  # XGBoost's "no parent"
FEATURE_TYPES = ("q", "float", "int", "i")
# UBJSON scalar markers XGBoost writes: struct format (big-endian) of each.
_NUMBERS = {b"i": ">b", b"U": ">B", b"I": ">h", b"l": ">i", b"L": ">q", b"d": ">f", b"D": ">d"}


class UBJSONError(ValueError):
    """The bytes are not the UBJSON XGBoost writes."""


def parse_ubjson(data: bytes) -> Any:
    """The value UBJSON ``data`` holds (objects, arrays, typed arrays, strings, numbers, booleans)."""
    value, end = _value(data, 0, 0)
    if end != len(data):
        raise UBJSONError(f"{len(data) - end} bytes after the model")
    return value


def _take(data: bytes, position: int, size: int) -> tuple[bytes, int]:
    if size < 0 or position + size > len(data):
        raise UBJSONError("a length runs past the end of the data")
    return data[position:position + size], position + size


def _number(data: bytes, position: int, marker: bytes) -> tuple[Any, int]:
    fmt = _NUMBERS[marker]
    raw, position = _take(data, position, struct.calcsize(fmt))
    return struct.unpack(fmt, raw)[0], position


def _length(data: bytes, position: int) -> tuple[int, int]:
    marker, position = _take(data, position, 1)
    if marker not in (b"i", b"U", b"I", b"l", b"L"):
        raise UBJSONError("a length is not an integer")
    return _number(data, position, marker)


def _value(data: bytes, position: int, depth: int, marker: bytes | None = None) -> tuple[Any, int]:
    if depth > MAX_DEPTH:
        raise UBJSONError("nested too deeply")
    if marker is None:
        marker, position = _take(data, position, 1)
    if marker in _NUMBERS:
        return _number(data, position, marker)
    if marker in (b"T", b"F"):
        return marker == b"T", position
    if marker == b"Z":
        return None, position
    if marker == b"S":
        size, position = _length(data, position)
        raw, position = _take(data, position, size)
        return raw.decode("utf-8"), position
    if marker == b"[":
        return _array(data, position, depth)
    if marker == b"{":
        found: dict[str, Any] = {}
        while True:
            if data[position:position + 1] == b"}":
                return found, position + 1
            size, position = _length(data, position)
            raw, position = _take(data, position, size)
            found[raw.decode("utf-8")], position = _value(data, position, depth + 1)
    raise UBJSONError(f"unknown marker {marker!r}")


def _array(data: bytes, position: int, depth: int) -> tuple[list[Any], int]:
    if data[position:position + 1] == b"$":  # a typed array: [$type#count values...
        marker, position = _take(data, position + 1, 1)
        hash_mark, position = _take(data, position, 1)
        if marker not in _NUMBERS or hash_mark != b"#":
            raise UBJSONError("a typed array of other than numbers")
        count, position = _length(data, position)
        fmt = _NUMBERS[marker]
        raw, position = _take(data, position, count * struct.calcsize(fmt))
        return list(struct.unpack(f">{count}{fmt[1]}", raw)), position
    found = []
    if data[position:position + 1] == b"#":  # [#count values... (no end marker)
        count, position = _length(data, position + 1)
        if count < 0 or count > len(data) - position:
            raise UBJSONError("an array counts more values than there are bytes")
        for _ in range(count):
            item, position = _value(data, position, depth + 1)
            found.append(item)
        return found, position
    while True:
        if data[position:position + 1] == b"]":
            return found, position + 1
        if position >= len(data):
            raise UBJSONError("an array runs past the end of the data")
        item, position = _value(data, position, depth + 1)
        found.append(item)


def booster_model(raw: bytes, fail: Callable[[str], NoReturn]) -> dict[str, Any]:
    """The checked ``Model`` of a booster's serialisation (``Config`` is dropped)."""
    try:
        document = parse_ubjson(raw)
    except (UBJSONError, UnicodeDecodeError, struct.error) as error:
        fail(f"the XGBoost booster is not XGBoost's UBJSON serialisation ({error})")
    if not (isinstance(document, dict) and set(document) == {"Config", "Model"}):
        fail("the XGBoost booster is not XGBoost's {Config, Model} serialisation")
    return check_model(document["Model"], fail)


def _whole(value: object, low: int = 0, high: int = 2 ** 31 - 1) -> int | None:
    """``value`` as an int (XGBoost writes parameters as text) when it lies in [low, high]."""
    if isinstance(value, str) and value.isdigit() and len(value) < 12:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    return None


def check_model(model: Any, fail: Callable[[str], NoReturn]) -> dict[str, Any]:
    """XGBoost's model document, checked for everything its C++ prediction code indexes by."""
    learner = model.get("learner") if isinstance(model, dict) else None
    if not (isinstance(learner, dict) and isinstance(model.get("version"), list)
            and {"gradient_booster", "learner_model_param", "objective"} <= set(learner)
            <= {"attributes", "feature_names", "feature_types", "gradient_booster", "learner_model_param",
                "objective"}):
        fail("the XGBoost model is not a learner of XGBoost's model format")
    param = learner["learner_model_param"]
    if not isinstance(param, dict):
        fail("the XGBoost model's learner_model_param is not a dictionary")
    n_features, n_class, n_target = (_whole(param.get("num_feature"), 1), _whole(param.get("num_class"), 0, 10 ** 5),
                                     _whole(param.get("num_target"), 1, 1))
    if n_features is None or n_class is None or n_target is None:
        fail("the XGBoost model's num_feature, num_class or num_target is not valid (one target only)")
    groups = max(n_class or 0, 1)
    try:
        base_score = json.loads(param.get("base_score", ""))
    except (TypeError, ValueError):
        base_score = None
    if not (isinstance(base_score, list) and len(base_score) == groups
            and all(isinstance(value, (int, float)) and math.isfinite(value) for value in base_score)):
        fail(f"the XGBoost model's base_score is not {groups} numbers")
    objective = learner["objective"]
    block = OBJECTIVES.get(str(objective.get("name"))) if isinstance(objective, dict) else None
    if not isinstance(objective, dict) or objective.get("name") not in OBJECTIVES or set(objective) != {
            "name", *([block] if block else [])} or not (block is None or all(
                isinstance(value, str) for value in objective[block].values())):
        fail(f"the XGBoost model's objective is not one of {', '.join(OBJECTIVES)}")
    for name, allowed in (("feature_names", None), ("feature_types", FEATURE_TYPES)):
        values = learner.get(name, [])
        if not (isinstance(values, list) and len(values) in (0, n_features)
                and all(isinstance(value, str) and (allowed is None or value in allowed) for value in values)):
            fail(f"the XGBoost model's {name} are not {n_features} names of numeric features")
    attributes = learner.get("attributes", {})
    if not (isinstance(attributes, dict) and all(isinstance(value, str) for value in attributes.values())):
        fail("the XGBoost model's attributes are not texts")
    booster = learner["gradient_booster"]
    if isinstance(booster, dict) and booster.get("name") == "gblinear":
        check_gblinear(booster, n_features or 0, groups, fail)
    else:
        check_gbtree(booster, n_features or 0, groups, fail)
    return model


def check_gblinear(booster: dict[str, Any], n_features: int, groups: int, fail: Callable[[str], NoReturn]) -> None:
    """A linear booster: ``weights`` is (features + 1 bias) x output groups numbers, which XGBoost reads by
    that size."""
    model = booster.get("model")
    if not (set(booster) == {"name", "model"} and isinstance(model, dict)
            and set(model) <= {"weights", "boosted_rounds"} and _whole(model.get("boosted_rounds", 0)) is not None):
        fail("the XGBoost model's linear booster (gblinear) is not XGBoost's model format")
    weights = model.get("weights")
    if not (isinstance(weights, list) and len(weights) == (n_features + 1) * groups
            and all(isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
                    for value in weights)):
        fail(f"the XGBoost model's linear weights are not ({n_features} features + 1) x {groups} finite numbers")


def check_gbtree(booster: Any, n_features: int, groups: int, fail: Callable[[str], NoReturn]) -> None:
    """A tree booster's trees, output groups and iteration boundaries."""
    model = booster.get("model") if isinstance(booster, dict) else None
    if not (isinstance(booster, dict) and booster.get("name") == "gbtree" and set(booster) == {"name", "model"}
            and isinstance(model, dict)):
        fail("the XGBoost model's booster is neither a tree booster (gbtree) nor a linear one (gblinear)")
    trees, info, indptr = model.get("trees"), model.get("tree_info"), model.get("iteration_indptr")
    param = model.get("gbtree_model_param", {})
    if not (isinstance(trees, list) and trees and isinstance(param, dict)
            and _whole(param.get("num_trees")) == len(trees) and _whole(param.get("num_parallel_tree"), 1) is not None):
        fail("the XGBoost model's trees do not match its num_trees")
    if not (isinstance(info, list) and len(info) == len(trees) and all(_whole(group, 0, groups - 1) is not None
                                                                        for group in info)):
        fail(f"the XGBoost model's tree_info is not one output group (< {groups}) per tree")
    if not (isinstance(indptr, list) and len(indptr) >= 2 and indptr[0] == 0 and indptr[-1] == len(trees)
            and all(_whole(value) is not None for value in indptr)
            and all(low <= high for low, high in zip(indptr, indptr[1:], strict=False))):
        fail("the XGBoost model's iteration_indptr does not divide its trees into iterations")
    cats = model.get("cats", {})
    if not (isinstance(cats, dict) and all(value == [] for value in cats.values())):
        fail("the XGBoost model has categorical features, which are not accepted")
    for index, tree in enumerate(trees):
        check_tree(tree, index, n_features, fail)


def check_tree(tree: Any, index: int, n_features: int, fail: Callable[[str], NoReturn]) -> None:
    """One tree: one entry per node everywhere, children forward inside the tree, splits on real features."""
    param = tree.get("tree_param") if isinstance(tree, dict) else None
    if not isinstance(param, dict):
        fail(f"XGBoost tree {index} has no tree_param")
    n_nodes = _whole(param.get("num_nodes"), 1)
    if n_nodes is None or tree.get("id") != index or param.get("num_deleted") != "0" \
            or _whole(param.get("num_feature")) != n_features or param.get("size_leaf_vector") not in ("0", "1"):
        fail(f"XGBoost tree {index}'s tree_param is not one of {n_features} features and one value per leaf")
    if set(tree) != {"id", "tree_param", *TREE_ARRAYS, *CATEGORY_ARRAYS}:
        fail(f"XGBoost tree {index} does not have the arrays of XGBoost's model format")
    for name in TREE_ARRAYS:
        values = tree[name]
        if not (isinstance(values, list) and len(values) == n_nodes
                and all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in values)):
            fail(f"XGBoost tree {index}'s {name} is not one number per node ({n_nodes})")
    if any(value not in (0, 1) for value in tree["default_left"]):
        fail(f"XGBoost tree {index}'s default_left is not 0 or 1 per node")
    if any(tree[name] for name in CATEGORY_ARRAYS) or any(tree["split_type"]):
        fail(f"XGBoost tree {index} has categorical splits, which are not accepted")
    left, right, parents = tree["left_children"], tree["right_children"], tree["parents"]
    if parents[0] != ROOT_PARENT:
        fail(f"XGBoost tree {index}'s root has a parent")
    for node in range(n_nodes):
        feature, low, high = tree["split_indices"][node], left[node], right[node]
        if not (isinstance(feature, int) and 0 <= feature < n_features):
            fail(f"XGBoost tree {index} splits on feature {feature} of {n_features}")
        if low == high == -1:
            continue
        if not (isinstance(low, int) and isinstance(high, int) and node < low < n_nodes and node < high < n_nodes
                and low != high and parents[low] == node and parents[high] == node):
            fail(f"XGBoost tree {index}'s node {node} points outside the tree")
        if not all(math.isfinite(tree[name][node]) for name in ("split_conditions", "base_weights")):
            fail(f"XGBoost tree {index}'s node {node} splits at a value that is not a finite number")


def n_classes(model: dict[str, Any]) -> int:
    """The number of classes a checked model's classifier has (2 for a binary objective's single output)."""
    return max(int(model["learner"]["learner_model_param"]["num_class"]), 2)


def model_json(model: dict[str, Any]) -> bytearray:
    """XGBoost's JSON model format of a checked model: what XGBoost is given to read."""
    return bytearray(json.dumps(model, allow_nan=False).encode("utf-8"))
