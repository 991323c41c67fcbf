"""XGBoost boosters in galaxy-ml files, second round (issue 25): every number strict, every parameter in range.

The booster's bytes are parsed and checked by gxkeras/modelfile/sklearn_loaders/xgboost.py, and XGBoost reads only the JSON model
rebuilt from the checked values. These edits of real boosters each got past the first round's checks and then
crashed, ended in a traceback or predicted something else silently: a number in non-ASCII digits, NaN or
out-of-float32 values, objective parameters out of XGBoost's own range (a traceback from Booster.load_model),
a base_score outside its objective's domain (a traceback at the first prediction, or NaN predictions), a node no
path reaches whose parent lies outside the tree (a segmentation fault in XGBoost), a num_feature that sizes
XGBoost's prediction buffers (10^8 took 23 GB). Each must be refused as ModelRefused naming the file and the
value, before XGBoost is given anything.
"""
import copy
import functools
import json

import h5py
import numpy as np
import pytest

from gxkeras.galaxy import memory
from gxkeras.galaxy.errors import ModelRefused
from gxkeras.modelfile.h5mlm import check_h5mlm, load_sklearn
from gxkeras.modelfile.sklearn_loaders.ubjson import parse_ubjson
from gxkeras.modelfile.sklearn_loaders.xgboost import booster_model, load_booster
from gxkeras.modelfile.sklearn_loaders.xgboost_parameters import OBJECTIVES, PARAMETERS
from gxkeras.modelfile.sklearn_loaders.xgboost_trees import PREDICTION_BYTES_PER_FEATURE
from test_sklearn_ensembles import booster_edit, data, rewrite, ubjson, xgboost_model
from test_sklearn_models import MODEL, dump

FILE = f"{MODEL} (model.h5mlm)"


def fail(problem):
    raise ModelRefused(f"{FILE}: {problem}; the file is refused unread")


@functools.cache
def _serialisation(objective):
    """The bytes galaxy-ml saves of a small fitted booster."""
    model, _ = xgboost_model(objective, pipeline=False)
    return bytes(model.get_booster().__getstate__()["handle"])


def serialisation(objective="multi:softprob"):
    """XGBoost's {Config, Model} document of a small fitted booster (a fresh copy to edit)."""
    return parse_ubjson(_serialisation(objective))


def learner(document):
    return document["Model"]["learner"]


def first_tree(document):
    return learner(document)["gradient_booster"]["model"]["trees"][0]


def leaf(tree):
    return next(node for node, child in enumerate(tree["left_children"]) if child == -1)


def refusal(change, objective="multi:softprob"):
    """The ModelRefused message for the booster of ``objective`` edited by ``change(document)``."""
    document = serialisation(objective)
    change(document)
    with pytest.raises(ModelRefused) as caught:
        booster_model(ubjson(document), fail)
    message = str(caught.value)
    assert message.startswith(f"{FILE}: ") and "\n" not in message
    return message


def set_param(section, **values):
    return lambda document: learner(document)[section].update(values)


def set_objective(**values):
    def change(document):
        objective = learner(document)["objective"]
        objective[next(key for key in objective if key != "name")].update(values)
    return change


def set_leaf(name, value):
    def change(document):
        tree = first_tree(document)
        tree[name][leaf(tree)] = value
    return change


def orphan(parent):
    """One more node in the first tree that no node points to, whose parent is ``parent``."""
    def change(document):
        tree = first_tree(document)
        for name in ("base_weights", "loss_changes", "split_conditions", "sum_hessian"):
            tree[name].append(0.0)
        for name in ("default_left", "split_indices", "split_type"):
            tree[name].append(0)
        tree["left_children"].append(-1)
        tree["right_children"].append(-1)
        tree["parents"].append(parent)
        tree["tree_param"]["num_nodes"] = str(len(tree["parents"]))
    return change


# (change, objective, what the message names)
HOSTILE = {
    # numbers in text: '²'.isdigit() is true but int('²') fails; int('٣') is 3
    "num_feature_superscript": (set_param("learner_model_param", num_feature="\u00b2"), "num_feature"),
    "num_feature_arabic_digit": (set_param("learner_model_param", num_feature="\u0663"), "num_feature"),
    "num_class_negative": (set_param("learner_model_param", num_class="-1"), "num_class"),
    "boost_from_average": (set_param("learner_model_param", boost_from_average="7"), "boost_from_average"),
    "learner_unknown_key": (set_param("learner_model_param", multi_strategy="1"), "learner_model_param"),
    "num_nodes_superscript": (lambda d: first_tree(d)["tree_param"].update(num_nodes="\u00b2"), "num_nodes"),
    "num_trees_superscript": (lambda d: learner(d)["gradient_booster"]["model"]["gbtree_model_param"].update(
        num_trees="\u00b2"), "num_trees"),
    # values that are not finite 32-bit floats
    "nan_leaf": (set_leaf("split_conditions", float("nan")), "split_conditions"),
    "infinite_weight": (set_leaf("base_weights", float("-inf")), "base_weights"),
    "leaf_beyond_float32": (set_leaf("split_conditions", 1e300), "split_conditions"),
    "nan_hessian": (set_leaf("sum_hessian", float("nan")), "sum_hessian"),
    "float_child": (lambda d: first_tree(d)["left_children"].__setitem__(0, 1.0), "left_children"),
    "nan_base_score": (set_param("learner_model_param", base_score="[NaN,0,0]"), "base_score"),
    "huge_integer_base_score": (set_param("learner_model_param", base_score="[1" + "0" * 400 + ",0,0]"), "base_score"),
    "base_score_not_a_list": (set_param("learner_model_param", base_score="0.5"), "base_score"),
    # objective parameters out of XGBoost's range, or unknown
    "softmax_num_class": (set_objective(num_class="5"), "num_class"),
    "objective_unknown_key": (set_objective(num_parallel_tree="2"), "softmax_multiclass_param"),
    # the tree's structure
    "orphan_parent_outside": (orphan(10 ** 8), "nodes that no path from its root reaches"),
    "orphan_parent_inside": (orphan(0), "nodes that no path from its root reaches"),
    "weight_drop": (lambda d: learner(d)["gradient_booster"]["model"].update(weight_drop=[float("nan")]),
                    "tree booster"),
    # attributes XGBoost's scikit-learn estimators read with int() and float()
    "best_iteration_superscript": (set_param("attributes", best_iteration="\u00b2"), "best_iteration"),
    "best_iteration_beyond": (set_param("attributes", best_iteration="3"), "best_iteration"),
    "best_score_nan": (set_param("attributes", best_score="nan"), "best_score"),
    "unknown_attribute": (set_param("attributes", scikit_learn="{}"), "attributes"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_numbers_and_keys_are_refused(case):
    change, named = HOSTILE[case]
    assert named in refusal(change)


# Objective parameters, each with a value XGBoost itself refuses (in Booster.load_model, or when it first predicts)
# and one at the edge of its range that both accept: (objective, change, named).
OUT_OF_RANGE = {
    "scale_pos_weight_negative": ("binary:logistic", set_objective(scale_pos_weight="-1"), "scale_pos_weight"),
    "scale_pos_weight_subnormal": ("binary:logistic", set_objective(scale_pos_weight="1e-40"), "scale_pos_weight"),
    "scale_pos_weight_beyond_float32": ("binary:logistic", set_objective(scale_pos_weight="1e39"),
                                        "scale_pos_weight"),
    "max_delta_step_negative": ("count:poisson", set_objective(max_delta_step="-0.5"), "max_delta_step"),
    "tweedie_variance_power_above_2": ("reg:tweedie", set_objective(tweedie_variance_power="2.5"),
                                       "tweedie_variance_power"),
    "tweedie_variance_power_below_1": ("reg:tweedie", set_objective(tweedie_variance_power="0.5"),
                                       "tweedie_variance_power"),
    "logistic_base_score_above_1": ("binary:logistic", set_param("learner_model_param", base_score="[2]"),
                                    "base_score"),
    "gamma_base_score_negative": ("reg:gamma", set_param("learner_model_param", base_score="[-1]"), "base_score"),
}
AT_THE_EDGE = {
    "scale_pos_weight_negative": set_objective(scale_pos_weight="0"),
    "max_delta_step_negative": set_objective(max_delta_step="0"),
    "tweedie_variance_power_above_2": set_objective(tweedie_variance_power="2"),
    "tweedie_variance_power_below_1": set_objective(tweedie_variance_power="1"),
    "logistic_base_score_above_1": set_param("learner_model_param", base_score="[1]"),
}


def xgboost_refuses(document):
    """Whether XGBoost itself refuses the document, given to it unchecked (what the first round did)."""
    from xgboost import Booster
    from xgboost.core import XGBoostError

    booster = Booster(params={"nthread": 1})
    try:
        booster.load_model(bytearray(json.dumps(document["Model"]).encode()))
        booster.save_config()  # configures it, as its first prediction would
    except XGBoostError:
        return True
    return False


@pytest.mark.parametrize("case", sorted(OUT_OF_RANGE))
def test_out_of_range_parameters_are_refused_as_xgboost_would(case):
    """The table's ranges are XGBoost's own: what XGBoost would fail on (as a traceback inside load_model or the
    first prediction) is refused first, by name; at the edge of the range both accept."""
    objective, change, named = OUT_OF_RANGE[case]
    assert named in refusal(change, objective)
    document = serialisation(objective)
    change(document)
    assert xgboost_refuses(document)
    if case in AT_THE_EDGE:
        document = serialisation(objective)
        AT_THE_EDGE[case](document)
        assert not xgboost_refuses(document)
        load_booster(booster_model(ubjson(document), fail), fail)


@pytest.mark.parametrize("objective, change, named", [
    ("reg:pseudohubererror", set_objective(huber_slope="0"), "huber_slope"),  # XGBoost takes it; the loss divides
    ("count:poisson", set_param("learner_model_param", base_score="[-1]"), "base_score"),  # log(-1): NaN predictions
    ("survival:cox", set_param("learner_model_param", base_score="[0]"), "base_score"),  # log(0): predictions of 0
    ("reg:squarederror", set_param("learner_model_param", num_class="3", base_score="[0,0,0]"), "num_class"),
    ("multi:softprob", set_param("learner_model_param", num_class="4", base_score="[0,0,0,0]"), "num_class"),
    ("binary:logistic", set_objective(scale_pos_weight="nan"), "scale_pos_weight"),  # XGBoost takes NaN
])
def test_values_xgboost_takes_silently_are_refused(objective, change, named):
    assert named in refusal(change, objective)


@pytest.mark.filterwarnings("ignore::UserWarning")  # XGBoost 3 deprecates gblinear (still saved)
@pytest.mark.parametrize("value", [float("nan"), float("inf"), 1e39])
def test_linear_weights_that_are_not_finite_float32_are_refused(value):
    from xgboost import XGBClassifier

    X, y = data()
    document = parse_ubjson(bytes(XGBClassifier(n_estimators=2, booster="gblinear").fit(X, y).get_booster()
                                  .__getstate__()["handle"]))
    booster_model(ubjson(document), fail)
    learner(document)["gradient_booster"]["model"]["weights"][3] = value
    with pytest.raises(ModelRefused, match="linear weights are not .* finite numbers"):
        booster_model(ubjson(document), fail)


def test_every_objective_parameter_has_a_range():
    """The objectives' blocks are sections of the one table, and every section has its ranges there."""
    sections = {section for section, _ in PARAMETERS}
    assert {spec.block for spec in OBJECTIVES.values() if spec.block} <= sections
    assert all(number.low <= number.high for number in PARAMETERS.values())


def test_num_feature_is_checked_against_the_memory(monkeypatch):
    """num_feature sizes XGBoost's prediction buffers, not any array of the file: checked against the job's memory."""
    monkeypatch.setenv(memory.LIMIT_VARIABLE, str(4 * 1024 ** 3))
    features = 10 ** 8  # 24 GB of buffers

    def change(document):
        learner(document)["learner_model_param"]["num_feature"] = str(features)
        for tree in learner(document)["gradient_booster"]["model"]["trees"]:
            tree["tree_param"]["num_feature"] = str(features)
    assert "num_feature" in refusal(change)
    assert features * PREDICTION_BYTES_PER_FEATURE > 2 * 1024 ** 3
    monkeypatch.setenv(memory.LIMIT_VARIABLE, str(64 * 1024 ** 4))  # a budget that has room for them
    document = serialisation()
    change(document)
    booster_model(ubjson(document), fail)


def test_parsing_the_booster_is_checked_against_the_memory(monkeypatch):
    raw = _serialisation("multi:softprob")
    monkeypatch.setenv(memory.LIMIT_VARIABLE, str(len(raw) * 4))
    with pytest.raises(ModelRefused, match="the XGBoost booster"):
        booster_model(raw, fail)


def test_xgboost_errors_are_one_refusal(monkeypatch):
    """The backstop: should XGBoost refuse a checked model after all, the file is refused in one line."""
    checked = booster_model(_serialisation("binary:logistic"), fail)
    for section, values in (("objective", {"reg_loss_param": {"scale_pos_weight": "-1"}}),
                            ("learner_model_param", {"base_score": "[2]"})):
        edited = copy.deepcopy(checked)
        edited["learner"][section].update(values)
        with pytest.raises(ModelRefused, match="XGBoost refuses the checked booster") as caught:
            load_booster(edited, fail)
        assert str(caught.value).startswith(FILE) and "\n" not in str(caught.value)


def test_xgboost_reads_the_rebuilt_model_only():
    """What XGBoost is given is written from the checked values: integers where XGBoost reads integers, floats
    where it reads floats (an integer leaf value made Booster.load_model fail before), the parameters as text."""
    document = serialisation("binary:logistic")
    set_leaf("split_conditions", 1)(document)
    checked = booster_model(ubjson(document), fail)
    tree = checked["learner"]["gradient_booster"]["model"]["trees"][0]
    assert all(type(value) is float for value in tree["split_conditions"])
    assert all(type(value) is int for value in tree["left_children"])
    assert checked["learner"]["objective"] == {"name": "binary:logistic", "reg_loss_param": {"scale_pos_weight": "1.0"}}
    X, _ = data()
    assert load_booster(checked, fail).inplace_predict(X).shape == (len(X),)


def test_early_stopping_attributes_are_kept():
    """best_iteration and best_score, which early stopping writes, are admitted and given to XGBoost as they were:
    XGBoost's scikit-learn estimators predict with the trees up to best_iteration."""
    from xgboost import XGBClassifier

    X, y = data()
    model = XGBClassifier(n_estimators=30, max_depth=2, early_stopping_rounds=2).fit(
        X[:45], y[:45], eval_set=[(X[45:], y[45:])], verbose=False)
    booster = load_booster(booster_model(bytes(model.get_booster().__getstate__()["handle"]), fail), fail)
    assert booster.best_iteration == model.best_iteration < booster.num_boosted_rounds() - 1
    assert float(booster.attr("best_score")) == model.best_score
    np.testing.assert_array_equal(booster.inplace_predict(X, iteration_range=(0, booster.best_iteration + 1)),
                                  model.predict_proba(X))


@pytest.mark.parametrize("change, named", [
    (booster_edit(lambda d: set_leaf("split_conditions", float("nan"))(d)), "split_conditions"),
    (booster_edit(lambda d: set_param("learner_model_param", num_feature="\u00b2")(d)), "num_feature"),
    (booster_edit(lambda d: orphan(10 ** 8)(d)), "no path from its root"),
])
def test_hostile_boosters_in_a_file_are_refused_unread(tmp_path, change, named):
    """Through the file: ModelRefused naming the model input and its path, nothing of XGBoost run."""
    model, _ = xgboost_model("multi:softprob")
    source = dump(model, tmp_path / "source.h5mlm")
    with h5py.File(source) as handle:
        graph = json.loads(handle["-model_config-"][()])
    change(graph)
    path = rewrite(source, graph, tmp_path / "model.h5mlm")
    for load in (check_h5mlm, load_sklearn):
        with pytest.raises(ModelRefused) as caught:
            load(path, MODEL)
        assert str(caught.value).startswith(f"{MODEL} ({path}): ") and named in str(caught.value)
