"""The numbers XGBoost reads from a booster's model, each with the range XGBoost (or the maths of prediction)
admits, and the objectives admitted: one table (:data:`PARAMETERS`, :data:`OBJECTIVES`).

Every number is read strictly (:func:`gxkeras.galaxy.values.parse_int`, :func:`gxkeras.galaxy.values.parse_float`): a
section of the model holds the names of its table and no others, and a value outside its range would fail
inside ``Booster.load_model`` or be taken silently. What is read is written back in XGBoost's model format by
:func:`write_section`, so the model XGBoost is given holds only checked values.
"""
import json
from dataclasses import dataclass
from typing import Any, NoReturn

from gxkeras.galaxy.errors import ModelRefused
from gxkeras.galaxy.values import parse_float, parse_int

INT32_MAX = 2 ** 31 - 1
FLOAT32_MAX = 3.4028234663852886e38  # a larger double becomes an infinity in XGBoost's 32-bit floats
FLOAT32_NORMAL = 1.1754943508222875e-38  # the smallest normal 32-bit float
MAX_CLASSES = 10 ** 5


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


def refuse(problem: str) -> NoReturn:
    raise ModelRefused(problem)


def read_section(section: str, values: object, what: str, every: bool = True) -> dict[str, int | float]:
    """The parameters of ``section`` (all of :data:`PARAMETERS`' names for it when ``every``, else some, and no
    other), each read by its range."""
    known = {name: number for (place, name), number in PARAMETERS.items() if place == section}
    if not (isinstance(values, dict) and (set(values) == set(known) if every else set(values) <= set(known))):
        refuse(f"{what} is not {'' if every else 'some of '}{', '.join(sorted(known))} (and nothing else)")
    return {name: known[name].read(value, f"{what}'s {name}") for name, value in values.items()}


def write_section(section: str, values: dict[str, int | float]) -> dict[str, Any]:
    """Parameters read by :func:`read_section`, as XGBoost's model format holds them."""
    return {name: PARAMETERS[section, name].write(value) for name, value in values.items()}

def check_objective(objective: Any, n_class: int) -> tuple[dict[str, Any], Objective]:
    """An admitted objective with its parameters (rebuilt), and its :class:`Objective`."""
    name = objective.get("name") if isinstance(objective, dict) else None
    spec = OBJECTIVES.get(name) if isinstance(name, str) else None
    if spec is None or set(objective) != {"name", *([spec.block] if spec.block else [])}:
        refuse(f"the XGBoost model's objective is not one of {', '.join(OBJECTIVES)}")
    rebuilt: dict[str, Any] = {"name": name}
    if spec.block:
        values = read_section(spec.block, objective[spec.block], f"the XGBoost model's {name} objective's {spec.block}")
        rebuilt[spec.block] = write_section(spec.block, values)
        if spec.multiclass and values["num_class"] != n_class:
            refuse(f"the XGBoost model's {name} objective has num_class {values['num_class']}, its "
                    f"learner_model_param num_class {n_class}")
    if not spec.multiclass and n_class != 0:
        refuse(f"the XGBoost model has num_class {n_class}, but its objective {name} has one output (num_class 0)")
    return rebuilt, spec


def check_base_score(text: object, groups: int, spec: Objective) -> str:
    """base_score, ``"[x, ...]"`` (one number per output group in the objective's domain), as XGBoost reads it."""
    items = text[1:-1].split(",") if isinstance(text, str) and text[:1] == "[" and text[-1:] == "]" else []
    if len(items) != groups:
        refuse(f"the XGBoost model's base_score is not {groups} numbers")
    return json.dumps([spec.base_score.read(item, "the XGBoost model's base_score") for item in items])
