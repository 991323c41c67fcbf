"""The trees of an XGBoost booster (``gbtree``) and the weights of a linear one (``gblinear``), checked for every
index XGBoost's C++ code follows unchecked, and rebuilt from the checked values.

In every tree each array has one entry per node, children point forward inside the tree with that node as
their parent, every node is reached from the root, splits are on features below ``num_feature`` and never
categorical; the trees' output groups and iteration boundaries must fit the model's classes and tree count.
"""
from typing import Any

from gxkeras.galaxy.errors import ModelRefused
from gxkeras.galaxy.memory import check_allocation
from gxkeras.modelfile.sklearn_loaders.xgboost_parameters import COUNT, FLOAT32_MAX, read_section, refuse, write_section

# XGBoost predicts with one thread here (Galaxy allots one core); its CPU predictor keeps, per thread, a
# block of 64 rows, each a dense vector of num_feature 4-byte entries: num_feature sizes that memory
# (measured: num_feature 10^8 on 4-column data takes 23 GB to predict 60 rows).
PREDICTION_THREADS = 1
PREDICTION_BYTES_PER_FEATURE = 64 * 4
ROOT_PARENT = 2147483647  # XGBoost's "no parent"
TREE_INTEGERS = ("default_left", "left_children", "parents", "right_children", "split_indices", "split_type")
TREE_FLOATS = ("base_weights", "loss_changes", "split_conditions", "sum_hessian")
TREE_ARRAYS = tuple(sorted(TREE_INTEGERS + TREE_FLOATS))
CATEGORY_ARRAYS = ("categories", "categories_nodes", "categories_segments", "categories_sizes")
CATEGORY_CONTAINER = ("enc", "feature_segments", "sorted_idx")  # gbtree's "cats": empty without categories


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
        refuse("the XGBoost model's linear booster (gblinear) is not XGBoost's model format")
    weights = _floats(model["weights"], (n_features + 1) * groups)
    if weights is None:
        refuse(f"the XGBoost model's linear weights are not ({n_features} features + 1) x {groups} finite numbers")
    rebuilt: dict[str, Any] = {"weights": weights}
    if "boosted_rounds" in model:
        rebuilt["boosted_rounds"] = COUNT.read(model["boosted_rounds"], "the XGBoost model's boosted_rounds")
    return {"name": "gblinear", "model": rebuilt}


def check_gbtree(booster: Any, n_features: int, groups: int) -> tuple[dict[str, Any], int]:
    """A tree booster's trees, output groups and iteration boundaries (rebuilt), and its number of iterations."""
    model = booster.get("model") if isinstance(booster, dict) else None
    if not (isinstance(booster, dict) and booster.get("name") == "gbtree" and set(booster) == {"name", "model"}
            and isinstance(model, dict)):
        refuse("the XGBoost model's booster is neither a tree booster (gbtree) nor a linear one (gblinear)")
    if not {"gbtree_model_param", "iteration_indptr", "tree_info", "trees"} <= set(model) \
            <= {"cats", "gbtree_model_param", "iteration_indptr", "tree_info", "trees"}:
        refuse("the XGBoost model's tree booster does not hold gbtree_model_param, trees, tree_info and "
                "iteration_indptr (and nothing else)")
    param = read_section("gbtree_model_param", model["gbtree_model_param"], "the XGBoost model's gbtree_model_param")
    trees = model["trees"]
    if not (isinstance(trees, list) and trees and param["num_trees"] == len(trees)):
        refuse("the XGBoost model's trees do not match its num_trees")
    info = _integers(model["tree_info"], len(trees))
    if info is None or not all(0 <= group < groups for group in info):
        refuse(f"the XGBoost model's tree_info is not one output group (< {groups}) per tree")
    indptr = model["iteration_indptr"]
    if not (isinstance(indptr, list) and len(indptr) >= 2 and _integers(indptr, len(indptr)) is not None
            and indptr[0] == 0 and indptr[-1] == len(trees)
            and all(low <= high for low, high in zip(indptr, indptr[1:], strict=False))):
        refuse("the XGBoost model's iteration_indptr does not divide its trees into iterations")
    cats = model.get("cats", {})
    if not (isinstance(cats, dict) and set(cats) <= set(CATEGORY_CONTAINER) and all(value == [] for value in cats.values())):
        refuse("the XGBoost model has categorical features, which are not accepted")
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
        refuse(f"XGBoost tree {index} does not have the arrays of XGBoost's model format")
    param = read_section("tree_param", tree["tree_param"], f"XGBoost tree {index}'s tree_param")
    if tree["id"] != index or type(tree["id"]) is not int or param["num_feature"] != n_features:
        refuse(f"XGBoost tree {index}'s tree_param is not one of {n_features} features and one value per leaf")
    n_nodes = int(param["num_nodes"])
    rebuilt: dict[str, Any] = {"id": index, "tree_param": write_section("tree_param", param)}
    for name in TREE_ARRAYS:
        values = (_integers if name in TREE_INTEGERS else _floats)(tree[name], n_nodes)
        if values is None:
            kind = "integers" if name in TREE_INTEGERS else "finite 32-bit floats"
            refuse(f"XGBoost tree {index}'s {name} is not one number per node ({n_nodes} {kind})")
        rebuilt[name] = values
    if any(value not in (0, 1) for value in tree["default_left"]):
        refuse(f"XGBoost tree {index}'s default_left is not 0 or 1 per node")
    if any(tree[name] for name in CATEGORY_ARRAYS) or any(tree["split_type"]):
        refuse(f"XGBoost tree {index} has categorical splits, which are not accepted")
    rebuilt.update((name, []) for name in CATEGORY_ARRAYS)
    left, right, parents, features = tree["left_children"], tree["right_children"], tree["parents"], tree["split_indices"]
    if parents[0] != ROOT_PARENT:
        refuse(f"XGBoost tree {index}'s root has a parent")
    children = 0
    for node in range(n_nodes):
        if not 0 <= features[node] < n_features:
            refuse(f"XGBoost tree {index} splits on feature {features[node]} of {n_features}")
        low, high = left[node], right[node]
        if low == high == -1:
            continue
        if not (node < low < n_nodes and node < high < n_nodes and low != high and parents[low] == node
                and parents[high] == node):
            refuse(f"XGBoost tree {index}'s node {node} points outside the tree")
        children += 2
    # Each child has one parent (its parents entry), so the children are distinct nodes: n_nodes - 1 of them is
    # every node but the root, each reached from a parent before it. XGBoost reads an unreached node's parent too.
    if children != n_nodes - 1:
        refuse(f"XGBoost tree {index} has {n_nodes - 1 - children} nodes that no path from its root reaches")
    return rebuilt
