"""XGBoost estimators in galaxy-ml files: the booster parsed and checked by us, never by XGBoost's parser.

galaxy-ml 0.11 pickles an ``XGBClassifier``/``XGBRegressor`` like any object (its own JSON path for
XGBoost is never taken): the ``_Booster`` is ``Booster`` with the state ``{"handle": bytearray}``, the
bytes being XGBoost's serialisation, UBJSON ``{"Config": ..., "Model": ...}``. XGBoost's C++ code
would parse those bytes and then walk the trees' arrays by the indices they hold, unchecked.

Here the bytes are parsed by :func:`parse_ubjson` (bounded: every length against the bytes left, the
nesting depth limited, the memory the parsed values take against the job's), ``Config`` (training
settings) is dropped, and ``Model`` is checked and rebuilt by :func:`check_model`: a tree booster
(``gbtree``; XGBoost 3 also saves ``dart`` models so) or a linear one (``gblinear``: its weights one per
feature and bias per output group) of numeric features, with an objective of :data:`OBJECTIVES`, and in
every tree arrays of one entry per node whose child indices point forward inside the tree (each child
with that node as its parent, every node reached from the root), split features below ``num_feature``,
no categorical splits and one value per leaf; the trees' output groups and iteration boundaries must
fit the model's classes and tree count.

Every number is read strictly (:func:`gxkeras.galaxy.values.parse_int`, :func:`gxkeras.galaxy.values.parse_float`) and
must lie in the range XGBoost itself or the prediction's maths admits: the parameters XGBoost reads from
text are listed, each with its range, in one table (:data:`PARAMETERS`, :data:`OBJECTIVES`), and any key
not in it is refused; values and split points are finite 32-bit floats. The model XGBoost reads is not
the file's document but a new one written from the checked values only (:func:`model_json`, XGBoost's
documented JSON model format), so nothing unchecked reaches it; should XGBoost still refuse it,
:func:`load_booster` turns its error into a refusal of the file.
"""
import json
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from gxkeras.galaxy.errors import ModelRefused, first_line
from gxkeras.galaxy.memory import check_allocation
from gxkeras.galaxy.values import parse_float, parse_int

XGB_CLASSES = {("xgboost.sklearn", "XGBClassifier"), ("xgboost.sklearn", "XGBRegressor")}
BOOSTER = ("xgboost.core", "Booster")
BYTEARRAY = ("builtins", "bytearray")
MAX_DEPTH = 16  # XGBoost's model is 6 levels deep
INT32_MAX = 2 ** 31 - 1
FLOAT32_MAX = 3.4028234663852886e38  # a larger double becomes an infinity in XGBoost's 32-bit floats
FLOAT32_NORMAL = 1.1754943508222875e-38  # the smallest normal 32-bit float
MAX_CLASSES = 10 ** 5
# XGBoost predicts with one thread here (Galaxy allots one core); its CPU predictor keeps, per thread, a
# block of 64 rows, each a dense vector of num_feature 4-byte entries: num_feature sizes that memory
# (measured: num_feature 10^8 on 4-column data takes 23 GB to predict 60 rows).
PREDICTION_THREADS = 1
PREDICTION_BYTES_PER_FEATURE = 64 * 4
# Parsed and checked, a byte of the booster can take this much memory: an int16 of a typed array becomes a
# 28-byte int and an 8-byte list slot (18 bytes a byte), the rebuilt model's lists and its JSON text add some
# more (measured on a 180-tree booster of XGBoost's own: 6 bytes a byte at the peak).
PARSED_BYTES_PER_BYTE = 24
ROOT_PARENT = 2147483647  # XGBoost's "no parent"
FEATURE_TYPES = ("q", "float", "int", "i")
TREE_INTEGERS = ("default_left", "left_children", "parents", "right_children", "split_indices", "split_type")
TREE_FLOATS = ("base_weights", "loss_changes", "split_conditions", "sum_hessian")
TREE_ARRAYS = tuple(sorted(TREE_INTEGERS + TREE_FLOATS))
CATEGORY_ARRAYS = ("categories", "categories_nodes", "categories_segments", "categories_sizes")
CATEGORY_CONTAINER = ("enc", "feature_segments", "sorted_idx")  # gbtree's "cats": empty without categories
XGBOOST_LOG_PREFIX = re.compile(r"^\[[0-9:]+\] [^ ]+:[0-9]+: ")  # "[01:24:18] /path/regression_obj.cu:116: "
# UBJSON scalar markers XGBoost writes: struct format (big-endian) of each.
_NUMBERS = {b"i": ">b", b"U": ">B", b"I": ">h", b"l": ">i", b"L": ">q", b"d": ">f", b"D": ">d"}


@dataclass(frozen=True)
class Number:
    """A number of XGBoost's model: whole or not, and the range XGBoost (or the maths of prediction) admits.

    ``text``: XGBoost writes it as a text (its parameters, ``"1.5"``), read back by dmlc's parameter parser,
    which also refuses a subnormal float such as 1e-40 as out of range; otherwise as a JSON number.
    """
    whole: bool
    low: float
    high: float
    above_low: bool = False  # ``low`` itself is excluded
    text: bool = True

    def read(self, value: object, what: str) -> int | float:
        if self.whole:
            return parse_int(value, what, int(self.low), int(self.high), error=ModelRefused)
        found = parse_float(value, what, self.low, self.high, error=ModelRefused, above_minimum=self.above_low)
        if self.text and 0 < abs(found) < FLOAT32_NORMAL:
            raise ModelRefused(f"{what}: {found!r} is too small for XGBoost's parameters (0 or at least "
                               f"{FLOAT32_NORMAL:g} in size)")
        return found

    def write(self, value: int | float) -> str | int | float:
        """``value`` as XGBoost's model format holds it."""
        return (str(value) if self.whole else repr(float(value))) if self.text else value


COUNT = Number(True, 0, INT32_MAX, text=False)  # the version's numbers, a linear booster's rounds
# Every parameter XGBoost reads from the model, by (section, name), with its range (XGBoost 3.4's declarations,
# src/learner.cc and src/objective/): an out-of-range value would fail inside Booster.load_model, or be taken
# silently. A section holds these names and no others; base_score (one number per output) is checked with
# its objective's domain (:class:`Objective`).
LEARNER, ATTRIBUTES = "learner_model_param", "attributes"
PARAMETERS = {
    (LEARNER, "num_feature"): Number(True, 1, INT32_MAX),
    (LEARNER, "num_class"): Number(True, 0, MAX_CLASSES),  # 0: one output; else a multi-class objective's classes
    (LEARNER, "num_target"): Number(True, 1, 1),  # one target: multi-target trees are not accepted
    (LEARNER, "boost_from_average"): Number(True, 0, 1),
    ("gbtree_model_param", "num_trees"): Number(True, 1, INT32_MAX),  # and the trees' count
    ("gbtree_model_param", "num_parallel_tree"): Number(True, 1, INT32_MAX),
    ("tree_param", "num_nodes"): Number(True, 1, INT32_MAX),  # and every array's length
    ("tree_param", "num_deleted"): Number(True, 0, 0),  # a deleted node is a hole XGBoost skips
    ("tree_param", "num_feature"): Number(True, 1, INT32_MAX),  # and the learner's num_feature
    ("tree_param", "size_leaf_vector"): Number(True, 0, 1),  # one value per leaf
    ("reg_loss_param", "scale_pos_weight"): Number(False, 0, FLOAT32_MAX),  # set_lower_bound(0)
    ("poisson_regression_param", "max_delta_step"): Number(False, 0, FLOAT32_MAX),  # set_lower_bound(0)
    ("tweedie_regression_param", "tweedie_variance_power"): Number(False, 1, 2),  # set_range(1, 2)
    # no bound in XGBoost, but the pseudo-Huber loss divides by it
    ("pseudo_huber_param", "huber_slope"): Number(False, 0, FLOAT32_MAX, above_low=True),
    # set_lower_bound(1); a classifier's classes, equal to the learner's num_class
    ("softmax_multiclass_param", "num_class"): Number(True, 2, MAX_CLASSES),
    # written by XGBoost's training with early stopping, read by its scikit-learn estimators with int(), float()
    (ATTRIBUTES, "best_iteration"): Number(True, 0, INT32_MAX),  # and below the model's iterations
    (ATTRIBUTES, "best_score"): Number(False, -1.7976931348623157e308, 1.7976931348623157e308),
}
# The domains of base_score, which XGBoost maps through the objective's link when it first predicts: the
# logistic objectives refuse a probability outside [0, 1], gamma one <= 0, and Poisson, Tweedie and Cox take
# its logarithm unchecked (a base_score <= 0 gives NaN or -inf margins: predictions silently NaN or 0).
MARGIN = Number(False, -FLOAT32_MAX, FLOAT32_MAX, text=False)
PROBABILITY = Number(False, 0, 1, text=False)
POSITIVE = Number(False, 0, FLOAT32_MAX, above_low=True, text=False)


@dataclass(frozen=True)
class Objective:
    """An admitted objective: its section of :data:`PARAMETERS` in the model (None: it has none), the domain
    of base_score, and whether it is a multi-class one (num_class 2 or more; else 0)."""
    block: str | None
    base_score: Number
    multiclass: bool = False


# Objectives of the estimators galaxy-ml's tools fit; what they compute from the trees' sums is fixed C++ code
# that reads no array of the file. Ranking objectives (query groups), reg:quantileerror (its quantile_alpha
# array), reg:expectileerror and survival:aft (its distribution parameters) are not admitted.
OBJECTIVES = {
    "binary:logistic": Objective("reg_loss_param", PROBABILITY),
    "binary:logitraw": Objective("reg_loss_param", MARGIN),
    "reg:logistic": Objective("reg_loss_param", PROBABILITY),
    "reg:squarederror": Objective("reg_loss_param", MARGIN),
    "reg:gamma": Objective("reg_loss_param", POSITIVE),
    "reg:squaredlogerror": Objective(None, MARGIN),
    "reg:pseudohubererror": Objective("pseudo_huber_param", MARGIN),
    "reg:absoluteerror": Objective(None, MARGIN),
    "count:poisson": Objective("poisson_regression_param", POSITIVE),
    "reg:tweedie": Objective("tweedie_regression_param", POSITIVE),
    "multi:softprob": Objective("softmax_multiclass_param", MARGIN, multiclass=True),
    "multi:softmax": Objective("softmax_multiclass_param", MARGIN, multiclass=True),
    "binary:hinge": Objective(None, MARGIN),
    "survival:cox": Objective(None, POSITIVE),
}


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


def _refuse(problem: str) -> NoReturn:
    raise ModelRefused(problem)


def booster_model(raw: bytes, fail: Callable[[str], NoReturn]) -> dict[str, Any]:
    """The ``Model`` of a booster's serialisation, checked and rebuilt (``Config`` is dropped); a refusal is
    passed to ``fail``, which names the file."""
    try:
        check_allocation(len(raw) * PARSED_BYTES_PER_BYTE, "the XGBoost booster", f"parsing its {len(raw):,} bytes",
                         error=ModelRefused)
        try:
            document = parse_ubjson(raw)
        except (UBJSONError, UnicodeDecodeError, struct.error) as error:
            _refuse(f"the XGBoost booster is not XGBoost's UBJSON serialisation ({error})")
        if not (isinstance(document, dict) and set(document) == {"Config", "Model"}):
            _refuse("the XGBoost booster is not XGBoost's {Config, Model} serialisation")
        return check_model(document["Model"])
    except ModelRefused as error:
        fail(str(error))


def read_section(section: str, values: object, what: str, every: bool = True) -> dict[str, int | float]:
    """The parameters of ``section`` (all of :data:`PARAMETERS`' names for it when ``every``, else some, and no
    other), each read by its range."""
    known = {name: number for (place, name), number in PARAMETERS.items() if place == section}
    if not (isinstance(values, dict) and (set(values) == set(known) if every else set(values) <= set(known))):
        _refuse(f"{what} is not {'' if every else 'some of '}{', '.join(sorted(known))} (and nothing else)")
    return {name: known[name].read(value, f"{what}'s {name}") for name, value in values.items()}


def write_section(section: str, values: dict[str, int | float]) -> dict[str, Any]:
    """Parameters read by :func:`read_section`, as XGBoost's model format holds them."""
    return {name: PARAMETERS[section, name].write(value) for name, value in values.items()}


def check_model(model: Any) -> dict[str, Any]:
    """XGBoost's model document, checked for everything its C++ code reads, and rebuilt from the checked values."""
    learner = model.get("learner") if isinstance(model, dict) else None
    if not (isinstance(learner, dict) and set(model) == {"learner", "version"}
            and {ATTRIBUTES, "gradient_booster", LEARNER, "objective"} <= set(learner)
            <= {ATTRIBUTES, "feature_names", "feature_types", "gradient_booster", LEARNER, "objective"}):
        _refuse("the XGBoost model is not a learner of XGBoost's model format")
    version = model["version"]
    if not (isinstance(version, list) and len(version) == 3):
        _refuse("the XGBoost model's version is not 3 numbers")
    param = learner[LEARNER]
    if not (isinstance(param, dict) and "base_score" in param):
        _refuse("the XGBoost model's learner_model_param has no base_score")
    numbers = read_section(LEARNER, {key: value for key, value in param.items() if key != "base_score"},
                           "the XGBoost model's learner_model_param")
    n_features, n_class = int(numbers["num_feature"]), int(numbers["num_class"])
    groups = max(n_class, 1)
    objective, spec = check_objective(learner["objective"], n_class)
    rebuilt: dict[str, Any] = {
        LEARNER: {**write_section(LEARNER, numbers), "base_score": check_base_score(param["base_score"], groups, spec)},
        "objective": objective}
    for name, allowed in (("feature_names", None), ("feature_types", FEATURE_TYPES)):
        values = learner.get(name, [])
        if not (isinstance(values, list) and len(values) in (0, n_features)
                and all(isinstance(value, str) and (allowed is None or value in allowed) for value in values)):
            _refuse(f"the XGBoost model's {name} are not {n_features} names of numeric features")
        if name in learner:
            rebuilt[name] = list(values)
    booster = learner["gradient_booster"]
    iterations = None
    if isinstance(booster, dict) and booster.get("name") == "gblinear":
        rebuilt["gradient_booster"] = check_gblinear(booster, n_features, groups)
    else:
        rebuilt["gradient_booster"], iterations = check_gbtree(booster, n_features, groups)
    attributes = read_section(ATTRIBUTES, learner[ATTRIBUTES], "the XGBoost model's attributes", every=False)
    if iterations is not None and attributes.get("best_iteration", 0) >= iterations:
        _refuse(f"the XGBoost model's best_iteration {attributes['best_iteration']} is not one of its {iterations} "
                "iterations")
    rebuilt[ATTRIBUTES] = write_section(ATTRIBUTES, attributes)
    return {"version": [COUNT.read(part, "the XGBoost model's version") for part in version], "learner": rebuilt}


def check_objective(objective: Any, n_class: int) -> tuple[dict[str, Any], Objective]:
    """An admitted objective with its parameters (rebuilt), and its :class:`Objective`."""
    name = objective.get("name") if isinstance(objective, dict) else None
    spec = OBJECTIVES.get(name) if isinstance(name, str) else None
    if spec is None or set(objective) != {"name", *([spec.block] if spec.block else [])}:
        _refuse(f"the XGBoost model's objective is not one of {', '.join(OBJECTIVES)}")
    rebuilt: dict[str, Any] = {"name": name}
    if spec.block:
        values = read_section(spec.block, objective[spec.block], f"the XGBoost model's {name} objective's {spec.block}")
        rebuilt[spec.block] = write_section(spec.block, values)
        if spec.multiclass and values["num_class"] != n_class:
            _refuse(f"the XGBoost model's {name} objective has num_class {values['num_class']}, its "
                    f"learner_model_param num_class {n_class}")
    if not spec.multiclass and n_class != 0:
        _refuse(f"the XGBoost model has num_class {n_class}, but its objective {name} has one output (num_class 0)")
    return rebuilt, spec


def check_base_score(text: object, groups: int, spec: Objective) -> str:
    """base_score, ``"[x, ...]"`` (one number per output group in the objective's domain), as XGBoost reads it."""
    items = text[1:-1].split(",") if isinstance(text, str) and text[:1] == "[" and text[-1:] == "]" else []
    if len(items) != groups:
        _refuse(f"the XGBoost model's base_score is not {groups} numbers")
    return json.dumps([spec.base_score.read(item, "the XGBoost model's base_score") for item in items])


def _floats(values: object, count: int) -> list[float] | None:
    """``values`` as a list of ``count`` finite 32-bit floats, None if it is not one."""
    if not (isinstance(values, list) and len(values) == count
            and all(type(value) in (int, float) and -FLOAT32_MAX <= value <= FLOAT32_MAX for value in values)):
        return None  # NaN fails the comparison too
    return [float(value) for value in values]


def _integers(values: object, count: int) -> list[int] | None:
    """``values`` as a list of ``count`` integers (no bools, no floats), None if it is not one."""
    if not (isinstance(values, list) and len(values) == count and all(type(value) is int for value in values)):
        return None
    return values


def check_gblinear(booster: dict[str, Any], n_features: int, groups: int) -> dict[str, Any]:
    """A linear booster: ``weights`` is (features + 1 bias) x output groups numbers, which XGBoost reads by
    that size."""
    model = booster.get("model")
    if not (set(booster) == {"name", "model"} and isinstance(model, dict)
            and {"weights"} <= set(model) <= {"weights", "boosted_rounds"}):
        _refuse("the XGBoost model's linear booster (gblinear) is not XGBoost's model format")
    weights = _floats(model["weights"], (n_features + 1) * groups)
    if weights is None:
        _refuse(f"the XGBoost model's linear weights are not ({n_features} features + 1) x {groups} finite numbers")
    rebuilt: dict[str, Any] = {"weights": weights}
    if "boosted_rounds" in model:
        rebuilt["boosted_rounds"] = COUNT.read(model["boosted_rounds"], "the XGBoost model's boosted_rounds")
    return {"name": "gblinear", "model": rebuilt}


def check_gbtree(booster: Any, n_features: int, groups: int) -> tuple[dict[str, Any], int]:
    """A tree booster's trees, output groups and iteration boundaries (rebuilt), and its number of iterations."""
    model = booster.get("model") if isinstance(booster, dict) else None
    if not (isinstance(booster, dict) and booster.get("name") == "gbtree" and set(booster) == {"name", "model"}
            and isinstance(model, dict)):
        _refuse("the XGBoost model's booster is neither a tree booster (gbtree) nor a linear one (gblinear)")
    if not {"gbtree_model_param", "iteration_indptr", "tree_info", "trees"} <= set(model) \
            <= {"cats", "gbtree_model_param", "iteration_indptr", "tree_info", "trees"}:
        _refuse("the XGBoost model's tree booster does not hold gbtree_model_param, trees, tree_info and "
                "iteration_indptr (and nothing else)")
    param = read_section("gbtree_model_param", model["gbtree_model_param"], "the XGBoost model's gbtree_model_param")
    trees = model["trees"]
    if not (isinstance(trees, list) and trees and param["num_trees"] == len(trees)):
        _refuse("the XGBoost model's trees do not match its num_trees")
    info = _integers(model["tree_info"], len(trees))
    if info is None or not all(0 <= group < groups for group in info):
        _refuse(f"the XGBoost model's tree_info is not one output group (< {groups}) per tree")
    indptr = model["iteration_indptr"]
    if not (isinstance(indptr, list) and len(indptr) >= 2 and _integers(indptr, len(indptr)) is not None
            and indptr[0] == 0 and indptr[-1] == len(trees)
            and all(low <= high for low, high in zip(indptr, indptr[1:], strict=False))):
        _refuse("the XGBoost model's iteration_indptr does not divide its trees into iterations")
    cats = model.get("cats", {})
    if not (isinstance(cats, dict) and set(cats) <= set(CATEGORY_CONTAINER) and all(value == [] for value in cats.values())):
        _refuse("the XGBoost model has categorical features, which are not accepted")
    check_allocation(n_features * PREDICTION_BYTES_PER_FEATURE * PREDICTION_THREADS, "the XGBoost model's num_feature",
                     f"predicting with {n_features:,} features (XGBoost's buffers)", error=ModelRefused)
    rebuilt = {"gbtree_model_param": write_section("gbtree_model_param", param),
               "trees": [check_tree(tree, index, n_features) for index, tree in enumerate(trees)],
               "tree_info": info, "iteration_indptr": list(indptr)}
    if "cats" in model:
        rebuilt["cats"] = {name: [] for name in cats}
    return {"name": "gbtree", "model": rebuilt}, len(indptr) - 1


def check_tree(tree: Any, index: int, n_features: int) -> dict[str, Any]:
    """One tree: one entry per node everywhere, every node reached once from the root by children that point
    forward, splits on real features, finite values (rebuilt)."""
    if not (isinstance(tree, dict) and set(tree) == {"id", "tree_param", *TREE_ARRAYS, *CATEGORY_ARRAYS}):
        _refuse(f"XGBoost tree {index} does not have the arrays of XGBoost's model format")
    param = read_section("tree_param", tree["tree_param"], f"XGBoost tree {index}'s tree_param")
    if tree["id"] != index or type(tree["id"]) is not int or param["num_feature"] != n_features:
        _refuse(f"XGBoost tree {index}'s tree_param is not one of {n_features} features and one value per leaf")
    n_nodes = int(param["num_nodes"])
    rebuilt: dict[str, Any] = {"id": index, "tree_param": write_section("tree_param", param)}
    for name in TREE_ARRAYS:
        values = (_integers if name in TREE_INTEGERS else _floats)(tree[name], n_nodes)
        if values is None:
            kind = "integers" if name in TREE_INTEGERS else "finite 32-bit floats"
            _refuse(f"XGBoost tree {index}'s {name} is not one number per node ({n_nodes} {kind})")
        rebuilt[name] = values
    if any(value not in (0, 1) for value in tree["default_left"]):
        _refuse(f"XGBoost tree {index}'s default_left is not 0 or 1 per node")
    if any(tree[name] for name in CATEGORY_ARRAYS) or any(tree["split_type"]):
        _refuse(f"XGBoost tree {index} has categorical splits, which are not accepted")
    rebuilt.update((name, []) for name in CATEGORY_ARRAYS)
    left, right, parents, features = tree["left_children"], tree["right_children"], tree["parents"], tree["split_indices"]
    if parents[0] != ROOT_PARENT:
        _refuse(f"XGBoost tree {index}'s root has a parent")
    children = 0
    for node in range(n_nodes):
        if not 0 <= features[node] < n_features:
            _refuse(f"XGBoost tree {index} splits on feature {features[node]} of {n_features}")
        low, high = left[node], right[node]
        if low == high == -1:
            continue
        if not (node < low < n_nodes and node < high < n_nodes and low != high and parents[low] == node
                and parents[high] == node):
            _refuse(f"XGBoost tree {index}'s node {node} points outside the tree")
        children += 2
    # Each child has one parent (its parents entry), so the children are distinct nodes: n_nodes - 1 of them is
    # every node but the root, each reached from a parent before it. XGBoost reads an unreached node's parent too.
    if children != n_nodes - 1:
        _refuse(f"XGBoost tree {index} has {n_nodes - 1 - children} nodes that no path from its root reaches")
    return rebuilt


def n_classes(model: dict[str, Any]) -> int:
    """The number of classes a checked model's classifier has (2 for a binary objective's single output)."""
    return max(int(model["learner"][LEARNER]["num_class"]), 2)


def model_json(model: dict[str, Any]) -> bytearray:
    """XGBoost's JSON model format of a checked model: what XGBoost is given to read."""
    return bytearray(json.dumps(model, allow_nan=False).encode("utf-8"))


def load_booster(model: dict[str, Any], fail: Callable[[str], NoReturn]) -> Any:
    """An XGBoost ``Booster`` of a checked model, predicting on :data:`PREDICTION_THREADS` threads.

    It is configured at once (``save_config``), because XGBoost checks some values (base_score against its
    objective) only then, which would otherwise be at the first prediction. :func:`check_model` admits only what
    XGBoost accepts; should XGBoost refuse the model all the same, ``fail`` refuses the file in one line.
    """
    from xgboost import Booster
    from xgboost.core import XGBoostError

    booster = Booster(params={"nthread": PREDICTION_THREADS})
    try:
        booster.load_model(model_json(model))
        booster.save_config()
    except XGBoostError as error:
        fail(f"XGBoost refuses the checked booster: {XGBOOST_LOG_PREFIX.sub('', first_line(error))}")
    return booster
