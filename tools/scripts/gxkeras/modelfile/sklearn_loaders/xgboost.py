"""XGBoost estimators in galaxy-ml files: the booster parsed and checked by us, never by XGBoost's parser.

galaxy-ml 0.11 pickles an ``XGBClassifier``/``XGBRegressor`` like any object (its own JSON path for
XGBoost is never taken): the ``_Booster`` is ``Booster`` with the state ``{"handle": bytearray}``, the
bytes being XGBoost's serialisation, UBJSON ``{"Config": ..., "Model": ...}``. XGBoost's C++ code
would parse those bytes and then walk the trees' arrays by the indices they hold, unchecked.

Here the bytes are parsed by :func:`gxkeras.modelfile.sklearn_loaders.ubjson.parse_ubjson` (bounded: every
length against the bytes left, the nesting depth limited, the memory the parsed values take against the
job's), ``Config`` (training settings) is dropped, and ``Model`` is checked and rebuilt by :func:`check_model`:
a tree booster (``gbtree``; XGBoost 3 also saves ``dart`` models so) or a linear one (``gblinear``: its
weights one per feature and bias per output group) of numeric features, with an objective of
:data:`~gxkeras.modelfile.sklearn_loaders.xgboost_parameters.OBJECTIVES`, and in every tree arrays of one
entry per node whose child indices point forward inside the tree (each child with that node as its parent,
every node reached from the root), split features below ``num_feature``, no categorical splits and one value
per leaf; the trees' output groups and iteration boundaries must fit the model's classes and tree count
(:mod:`gxkeras.modelfile.sklearn_loaders.xgboost_trees`).

Every number is read strictly (:func:`gxkeras.galaxy.values.parse_int`, :func:`gxkeras.galaxy.values.parse_float`) and
must lie in the range XGBoost itself or the prediction's maths admits: the parameters XGBoost reads from
text are listed, each with its range, in one table (:mod:`gxkeras.modelfile.sklearn_loaders.xgboost_parameters`), and any key
not in it is refused; values and split points are finite 32-bit floats. The model XGBoost reads is not
the file's document but a new one written from the checked values only (:func:`model_json`, XGBoost's
documented JSON model format), so nothing unchecked reaches it; should XGBoost still refuse it,
:func:`load_booster` turns its error into a refusal of the file.
"""
import json
import re
import struct
from collections.abc import Callable
from typing import Any, NoReturn

from gxkeras.galaxy.errors import ModelRefused, first_line
from gxkeras.galaxy.memory import check_allocation
from gxkeras.modelfile.sklearn_loaders.ubjson import UBJSONError, parse_ubjson
from gxkeras.modelfile.sklearn_loaders.xgboost_parameters import (
    ATTRIBUTES, COUNT, LEARNER, check_base_score, check_objective, read_section, refuse, write_section,
)
from gxkeras.modelfile.sklearn_loaders.xgboost_trees import PREDICTION_THREADS, check_gblinear, check_gbtree

XGB_CLASSES = {("xgboost.sklearn", "XGBClassifier"), ("xgboost.sklearn", "XGBRegressor")}
BOOSTER = ("xgboost.core", "Booster")
BYTEARRAY = ("builtins", "bytearray")
# Parsed and checked, a byte of the booster can take this much memory: an int16 of a typed array becomes a
# 28-byte int and an 8-byte list slot (18 bytes a byte), the rebuilt model's lists and its JSON text add some
# more (measured on a 180-tree booster of XGBoost's own: 6 bytes a byte at the peak).
PARSED_BYTES_PER_BYTE = 24
FEATURE_TYPES = ("q", "float", "int", "i")
XGBOOST_LOG_PREFIX = re.compile(r"^\[[0-9:]+\] [^ ]+:[0-9]+: ")  # "[01:24:18] /path/regression_obj.cu:116: "


def booster_model(raw: bytes, fail: Callable[[str], NoReturn]) -> dict[str, Any]:
    """The ``Model`` of a booster's serialisation, checked and rebuilt (``Config`` is dropped); a refusal is
    passed to ``fail``, which names the file."""
    try:
        check_allocation(len(raw) * PARSED_BYTES_PER_BYTE, "the XGBoost booster", f"parsing its {len(raw):,} bytes",
                         error=ModelRefused)
        try:
            document = parse_ubjson(raw)
        except (UBJSONError, UnicodeDecodeError, struct.error) as error:
            refuse(f"the XGBoost booster is not XGBoost's UBJSON serialisation ({error})")
        if not (isinstance(document, dict) and set(document) == {"Config", "Model"}):
            refuse("the XGBoost booster is not XGBoost's {Config, Model} serialisation")
        return check_model(document["Model"])
    except ModelRefused as error:
        fail(str(error))

def check_model(model: Any) -> dict[str, Any]:
    """XGBoost's model document, checked for everything its C++ code reads, and rebuilt from the checked values."""
    learner = model.get("learner") if isinstance(model, dict) else None
    if not (isinstance(learner, dict) and set(model) == {"learner", "version"}
            and {ATTRIBUTES, "gradient_booster", LEARNER, "objective"} <= set(learner)
            <= {ATTRIBUTES, "feature_names", "feature_types", "gradient_booster", LEARNER, "objective"}):
        refuse("the XGBoost model is not a learner of XGBoost's model format")
    version = model["version"]
    if not (isinstance(version, list) and len(version) == 3):
        refuse("the XGBoost model's version is not 3 numbers")
    param = learner[LEARNER]
    if not (isinstance(param, dict) and "base_score" in param):
        refuse("the XGBoost model's learner_model_param has no base_score")
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
            refuse(f"the XGBoost model's {name} are not {n_features} names of numeric features")
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
        refuse(f"the XGBoost model's best_iteration {attributes['best_iteration']} is not one of its {iterations} "
                "iterations")
    rebuilt[ATTRIBUTES] = write_section(ATTRIBUTES, attributes)
    return {"version": [COUNT.read(part, "the XGBoost model's version") for part in version], "learner": rebuilt}


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
