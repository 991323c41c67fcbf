"""What pickle's structural names make besides instances: a fitted decision tree's ``Tree`` (its nodes checked to
stay inside the tree, as scikit-learn walks them in C unchecked) and a numpy ``dtype`` (plain types only).

Also the check after building that parts predicting in C without validating their input fit their estimator
(:func:`check_fitted_parts`).
"""
import re
from typing import Any

import numpy as np

from gxkeras.galaxy.errors import ModelRefused
from gxkeras.modelfile.sklearn_loaders.loader import RECONSTRUCTOR, Fail

OBJECT = ("builtins", "object")
TREE = ("sklearn.tree._tree", "Tree")  # a fitted tree's arrays
DTYPE = ("numpy", "dtype")
STRUCTURE = {RECONSTRUCTOR, OBJECT, TREE, DTYPE}
# A decision tree's node record as scikit-learn 1.9 stores it (sklearn.tree._tree.NODE_DTYPE).
NODE_DTYPE = np.dtype({
    "names": ["left_child", "right_child", "feature", "threshold", "impurity", "n_node_samples",
              "weighted_n_node_samples", "missing_go_to_left"],
    "formats": ["<i8", "<i8", "<i8", "<f8", "<f8", "<i8", "<f8", "u1"],
    "offsets": [0, 8, 16, 24, 32, 40, 48, 56], "itemsize": 64})
DTYPE_SPEC = re.compile(r"^[<>|=]?(b1|[iu][1248]|f[248]|U\d{1,6}|O8?)$")


def check_tree(args: Any, state: Any, fail: Fail) -> int:
    """A fitted tree's structure checked, its nodes to stay inside the tree (C walks them unchecked): its depth."""
    if not (isinstance(args, tuple) and len(args) == 3 and _count(args[0]) and _count(args[2])
            and isinstance(args[1], np.ndarray) and args[1].dtype.kind in "iu" and args[1].shape == (args[2],)
            and np.all(args[1] >= 1)):
        return fail("a decision tree's (n_features, n_classes, n_outputs) are not valid")
    if not (isinstance(state, dict) and set(state) == {"max_depth", "node_count", "nodes", "values"}):
        return fail("a decision tree's structure is not (max_depth, node_count, nodes, values)")
    n_features, n_classes, n_outputs = args
    nodes, values = state["nodes"], state["values"]
    if not (isinstance(nodes, np.ndarray) and nodes.dtype == NODE_DTYPE and nodes.ndim == 1 and len(nodes) >= 1
            and state["node_count"] == len(nodes) and isinstance(values, np.ndarray)
            and values.dtype == np.float64 and values.shape == (len(nodes), n_outputs, int(n_classes.max()))):
        return fail("a decision tree's nodes or values do not have the shapes scikit-learn gives them")
    index = np.arange(len(nodes))
    left, right, feature = nodes["left_child"], nodes["right_child"], nodes["feature"]
    leaf = left == -1
    inside = (left > index) & (left < len(nodes)) & (right > index) & (right < len(nodes)) \
        & (feature >= 0) & (feature < n_features)
    if not np.all(np.where(leaf, right == -1, inside)):
        return fail("a decision tree's nodes point outside the tree or its features")
    depth = _tree_depth(left, right)
    if depth is None:
        return fail("a decision tree's nodes are not a tree (a node with no parent or with two)")
    return depth


def build_tree(args: tuple[int, np.ndarray, int], state: dict[str, Any], depth: int) -> Any:
    """The ``Tree`` of a structure :func:`check_tree` passed, of that depth."""
    from sklearn.tree._tree import Tree

    n_features, n_classes, n_outputs = args
    nodes, values = state["nodes"], state["values"]
    found = Tree(n_features, n_classes.astype(np.intp), n_outputs)
    # max_depth recomputed, never read: decision_path sizes its C buffer by it (one entry per level).
    found.__setstate__({"max_depth": depth, "node_count": len(nodes), "nodes": nodes, "values": values})
    return found


def dtype(args: Any, state: Any, fail: Fail) -> Any:
    """A numpy dtype of a plain number or text type (:data:`DTYPE_SPEC`), the same in both passes."""
    if not (isinstance(args, tuple) and len(args) == 3 and isinstance(args[0], str) and DTYPE_SPEC.match(args[0])
            and args[1:] == (False, True)):
        return fail(f"a numpy dtype {str(args)[:60]} is not a plain number or text type")
    if not (isinstance(state, tuple) and all(item is None or isinstance(item, (str, int)) for item in state)):
        return fail("a numpy dtype's state is not plain")
    return np.dtype(args[0])


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 10 ** 9


def _tree_depth(left: np.ndarray, right: np.ndarray) -> int | None:
    """The depth of the tree whose children are ``left`` and ``right`` (-1 at leaves, each child after its
    parent), None unless every node but the root is the child of exactly one node. Level by level: with one
    parent each, every node is visited once."""
    internal = left != -1
    children = np.concatenate([left[internal], right[internal]])
    parents = np.bincount(children, minlength=len(left))
    if parents[0] != 0 or np.any(parents[1:] != 1):
        return None
    depth, level = 0, np.array([0])
    while True:
        level = np.concatenate([left[level], right[level]])
        level = level[level != -1]
        if not len(level):
            return depth
        depth += 1


def check_fitted_parts(estimator: Any, what: str) -> None:
    """Parts that predict in C without checking their input must fit the estimator's features: a tree
    estimator's ``tree_`` must be a Tree of its number of features, a forest's trees must have the forest's.
    One job, as Galaxy allots: ``n_jobs`` None."""
    from sklearn.tree._tree import Tree

    n_features = getattr(estimator, "n_features_in_", None)
    tree = getattr(estimator, "tree_", None)
    if tree is not None and (not isinstance(tree, Tree) or tree.n_features != n_features):
        raise ModelRefused(f"{what}: a decision tree has {getattr(tree, 'n_features', '?')} features but its "
                           f"estimator {n_features}; the file is refused")
    subsets = getattr(estimator, "estimators_features_", None)  # bagging: checked by check_bagging, before
    for member in [] if subsets is not None else getattr(estimator, "estimators_", None) or []:
        if getattr(member, "n_features_in_", None) != n_features:
            raise ModelRefused(f"{what}: a member of the {type(estimator).__name__} has other features than the "
                               "ensemble; the file is refused")
    if hasattr(estimator, "n_jobs"):
        estimator.n_jobs = None
