"""Loading scikit-learn estimators and pipelines that galaxy-ml 0.11 saved as h5mlm, never unpickled.

galaxy-ml's ``dump_model_to_h5`` writes a pickle-like description of the object graph as JSON
(``-model_config-``) and the numeric arrays as HDF5 datasets (``-model_weights-/0``, ``1``, ...).
Its own loader rebuilds whatever the description names: any ``-global-`` is imported and any
``-reduce-`` calls it, so a file could run ``os.system``. Here the description is read twice:

1. :meth:`_Reader.check` walks it without importing or building anything. Every class or
   function it names must be in :data:`CLASSES` (common estimators, the transformers pipelines
   use, ``Pipeline``), :data:`NUMPY_SCALARS` or the few structural names pickle itself writes
   (:data:`STRUCTURE`), each in the one place pickle puts it; a reference to a class or function
   anywhere else (an attribute holding a callable), ``-keras_model-``/``-xgboost_model-``
   entries, attribute names that would hide a method, object arrays holding anything but plain
   values, and arrays that are not plain numbers (or the tree nodes' record type) are refused
   with one error line. The nodes of every decision tree are checked too: scikit-learn walks
   them in C without bounds checks, so child and feature indices must stay inside the tree.
2. Only then does :meth:`_Reader.build` import the named scikit-learn modules and make the
   objects: ``cls.__new__(cls)`` and ``__setstate__(state)`` as pickle would, ``Tree(*args)``
   for a tree's structure, ``numpy.dtype(spec)`` for a dtype.

After building, every object's ``n_jobs`` is reset to None (one job, as Galaxy allots) and the
pieces that predict without validating their input (trees in forests) are checked to have the
estimator's number of features.
"""
import importlib
import inspect
import re
from dataclasses import dataclass
from typing import Any

import h5py
import numpy as np

from gxkeras.errors import ToolInputError
from gxkeras.resources import NO_LIMIT, available_memory, format_bytes

# (module, class) exactly as galaxy-ml writes them (``cls.__module__`` of scikit-learn 1.9). Adding a
# class: check that its predict/transform validate their arrays in Python or numpy (anything walked in
# C without bounds checks, like a tree's nodes, needs its own check here), then add it: the test
# test_every_allowed_class_loads_as_fitted fits, dumps with galaxy-ml and reloads every entry.
CLASSES = {
    ("sklearn.pipeline", "Pipeline"),
    # linear models
    ("sklearn.linear_model._logistic", "LogisticRegression"),
    ("sklearn.linear_model._base", "LinearRegression"),
    ("sklearn.linear_model._ridge", "Ridge"),
    ("sklearn.linear_model._ridge", "RidgeClassifier"),
    ("sklearn.preprocessing._label", "LabelBinarizer"),  # RidgeClassifier's label encoding
    ("sklearn.linear_model._coordinate_descent", "Lasso"),
    ("sklearn.linear_model._coordinate_descent", "ElasticNet"),
    # (SGDClassifier, SGDRegressor and Perceptron keep a compiled loss object, which is not accepted)
    # linear support vector machines (kernel SVMs predict in C from arrays we cannot fully check)
    ("sklearn.svm._classes", "LinearSVC"),
    ("sklearn.svm._classes", "LinearSVR"),
    # trees and forests
    ("sklearn.tree._classes", "DecisionTreeClassifier"),
    ("sklearn.tree._classes", "DecisionTreeRegressor"),
    ("sklearn.tree._classes", "ExtraTreeClassifier"),
    ("sklearn.tree._classes", "ExtraTreeRegressor"),
    ("sklearn.ensemble._forest", "RandomForestClassifier"),
    ("sklearn.ensemble._forest", "RandomForestRegressor"),
    ("sklearn.ensemble._forest", "ExtraTreesClassifier"),
    ("sklearn.ensemble._forest", "ExtraTreesRegressor"),
    # k nearest neighbours (brute force: the KD/ball tree structures are not accepted)
    ("sklearn.neighbors._classification", "KNeighborsClassifier"),
    ("sklearn.neighbors._regression", "KNeighborsRegressor"),
    # naive Bayes
    ("sklearn.naive_bayes", "GaussianNB"),
    ("sklearn.naive_bayes", "MultinomialNB"),
    ("sklearn.naive_bayes", "BernoulliNB"),
    # pipeline steps: scalers, encoders, imputation, feature selection by variance
    ("sklearn.preprocessing._data", "StandardScaler"),
    ("sklearn.preprocessing._data", "MinMaxScaler"),
    ("sklearn.preprocessing._data", "MaxAbsScaler"),
    ("sklearn.preprocessing._data", "RobustScaler"),
    ("sklearn.preprocessing._data", "Normalizer"),
    ("sklearn.preprocessing._encoders", "OneHotEncoder"),
    ("sklearn.impute._base", "SimpleImputer"),
    ("sklearn.feature_selection._variance_threshold", "VarianceThreshold"),
}
NUMPY_SCALARS = {("numpy", name) for name in (
    "bool_", "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64")}
RECONSTRUCTOR = ("copyreg", "_reconstructor")  # pickle's way to make an instance: object.__new__(cls)
OBJECT = ("builtins", "object")
TREE = ("sklearn.tree._tree", "Tree")  # a fitted tree's arrays
DTYPE = ("numpy", "dtype")
STRUCTURE = {RECONSTRUCTOR, OBJECT, TREE, DTYPE}
TOP_LEVEL = {"-model_config-", "-model_weights-", "-model_hyperparameters-"}
# A decision tree's node record as scikit-learn 1.9 stores it (sklearn.tree._tree.NODE_DTYPE).
NODE_DTYPE = np.dtype({
    "names": ["left_child", "right_child", "feature", "threshold", "impurity", "n_node_samples",
              "weighted_n_node_samples", "missing_go_to_left"],
    "formats": ["<i8", "<i8", "<i8", "<f8", "<f8", "<i8", "<f8", "u1"],
    "offsets": [0, 8, 16, 24, 32, 40, 48, 56], "itemsize": 64})
DTYPE_SPEC = re.compile(r"^[<>|=]?(b1|[iu][1248]|f[248]|U\d{1,6}|O8?)$")
ARRAY_KINDS = "biuf"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
OBJECT_ARRAY_ITEMS = 10 ** 6


@dataclass(frozen=True)
class Global:
    """A class or function the description names (checked, not imported)."""
    module: str
    name: str

    @property
    def path(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(frozen=True)
class Planned:
    """An object the description would build (check pass)."""
    what: Global


def is_sklearn_graph(graph: object) -> bool:
    """Whether a galaxy-ml object graph describes a pickled object (not a Keras estimator)."""
    return isinstance(graph, dict) and set(graph) == {"-object-"} and isinstance(graph["-object-"], dict) \
        and set(graph["-object-"]) == {"-reduce-"}


class _Reader:
    """One walk over the description; ``build`` False checks, True makes the objects."""

    def __init__(self, weights: h5py.Group | None, what: str, build: bool) -> None:
        self.weights, self.what, self.build = weights, what, build
        self.memo: list[Any] = []
        self.bytes_read = 0

    def fail(self, problem: str) -> Any:
        raise ToolInputError(f"{self.what}: {problem}; the file is refused unread")

    # ---- values -----------------------------------------------------------------------------
    def value(self, data: Any) -> Any:
        if data is None or isinstance(data, (bool, int, float)):
            return data
        if isinstance(data, str):
            self.memo.append(data)
            return data
        if isinstance(data, list):
            return [self.value(item) for item in data]
        if not isinstance(data, dict):
            return self.fail(f"unexpected value {str(data)[:60]!r} in the model's description")
        tags = [key for key in data if isinstance(key, str) and key.startswith("-") and key != "-keys-"]
        if not tags:
            return self.mapping(data)
        if len(data) != 1:
            return self.fail(f"a {tags[0][:40]} entry with other keys ({', '.join(sorted(map(str, data)))[:80]})")
        tag, inner = tags[0], data[tags[0]]
        if tag == "-memo-":
            found = self.memo_item(inner)
            return self.data_type(found) if isinstance(found, Global) else found
        if tag == "-bytes-" and isinstance(inner, str):
            found = inner.encode("utf-8")
            self.memo.append(found)
            return found
        if tag in ("-tuple-", "-set-") and isinstance(inner, list):
            return tuple(self.value(inner))  # galaxy-ml loads a set as a tuple too
        if tag == "-frozenset-" and isinstance(inner, list):
            found = frozenset(self.value(inner))
            self.memo.append(found)
            return found
        if tag == "-reduce-":
            return self.reduce(inner)
        if tag == "-np_ndarray-":
            return self.array(inner)
        if tag == "-np_ndarray_o_type-":
            return self.object_array(inner)
        if tag == "-np_datatype-":
            return self.scalar(inner)
        if tag == "-global-":
            return self.data_type(self.global_(inner))
        return self.fail(f"{tag[:40]} entries (Keras or XGBoost models inside a scikit-learn object) are not "
                         "accepted")

    def data_type(self, found: Global) -> Any:
        """A numpy scalar type as a value (e.g. OneHotEncoder's ``dtype``); no other class or function."""
        if key_of(found) not in NUMPY_SCALARS:
            self.fail(f"an attribute refers to {found.path}: classes and functions are not accepted as values")
        return getattr(np, found.name) if self.build else found

    def mapping(self, data: dict[str, Any]) -> dict[Any, Any]:
        keys = data.get("-keys-", [])
        if not isinstance(keys, list) or not all(isinstance(key, (str, int)) and not isinstance(key, bool)
                                                 for key in keys):
            return self.fail("a dictionary's -keys- is not a list of names")
        if set(data) - {"-keys-"} != {str(key) for key in keys} or len(set(map(str, keys))) != len(keys):
            return self.fail("a dictionary's entries do not match its -keys-")
        return {key: self.value(data[str(key)]) for key in keys}

    def memo_item(self, index: object) -> Any:
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(self.memo):
            return self.fail(f"-memo- {str(index)[:20]} refers to nothing read before it")
        return self.memo[index]

    def global_(self, data: object) -> Global:
        if not (isinstance(data, list) and len(data) == 2 and all(isinstance(part, str) for part in data)):
            self.fail("a -global- is not a [module, name] pair")
        found = Global(*data)  # type: ignore[misc]
        key = (found.module, found.name)
        if key not in CLASSES | NUMPY_SCALARS | STRUCTURE:
            self.fail(f"the model names {found.path[:120]}, which is not one of the scikit-learn classes "
                      "this tool accepts (see its help)")
        self.memo.append(found)
        return found

    def reference(self, data: object) -> Global:
        """A class or function in one of pickle's own places: a -global- or a -memo- of one."""
        if isinstance(data, dict) and set(data) == {"-global-"}:
            return self.global_(data["-global-"])
        if isinstance(data, dict) and set(data) == {"-memo-"}:
            found = self.memo_item(data["-memo-"])
            if isinstance(found, Global):
                return found
        return self.fail("a -reduce- calls something that is not a named class")

    # ---- objects ----------------------------------------------------------------------------
    def reduce(self, data: object) -> Any:
        if not isinstance(data, dict) or not {"--func-", "-args-"} <= set(data) <= {"--func-", "-args-", "-state-"}:
            return self.fail("a -reduce- entry holds other keys than --func-, -args- and -state-")
        func = self.reference(data["--func-"])
        args = data["-args-"]
        if not (isinstance(args, dict) and set(args) == {"-tuple-"} and isinstance(args["-tuple-"], list)):
            return self.fail("a -reduce- entry's -args- is not a tuple")
        key = (func.module, func.name)
        if key == RECONSTRUCTOR:
            found = self.instance(args["-tuple-"], data.get("-state-"))
        elif key == TREE:
            found = self.tree(tuple(self.value(args["-tuple-"])), self.value(data.get("-state-")))
        elif key == DTYPE:
            found = self.dtype(tuple(self.value(args["-tuple-"])), self.value(data.get("-state-")))
        else:
            return self.fail(f"the model calls {func.path}, which is not how scikit-learn objects are saved")
        self.memo.append(found)
        return found

    def instance(self, args: list[Any], state_data: object) -> Any:
        if len(args) != 3 or args[2] is not None:
            return self.fail("an object is not saved as (class, object, None)")
        cls = self.reference(args[0])
        base = self.reference(args[1])
        if (cls.module, cls.name) not in CLASSES or (base.module, base.name) != OBJECT:
            return self.fail(f"{cls.path} cannot be made as an object")
        if not (isinstance(state_data, dict) and "-keys-" in state_data):
            return self.fail(f"the {cls.name}'s attributes are not a dictionary")
        state = self.value(state_data)
        for key in state:
            if not isinstance(key, str) or not _NAME.match(key) or key.startswith("__"):
                self.fail(f"the {cls.name} has an attribute named {str(key)[:60]!r}")
        if key_of(cls) == ("sklearn.pipeline", "Pipeline"):
            self.check_pipeline(state)
        if not self.build:
            return Planned(cls)
        klass = getattr(importlib.import_module(cls.module), cls.name)
        for key in state:
            if callable(inspect.getattr_static(klass, key, None)):
                self.fail(f"the {cls.name}'s attribute {key!r} would hide its method of that name")
        found = klass.__new__(klass)
        found.__setstate__(state)
        check_fitted_parts(found, self.what)
        return found

    def check_pipeline(self, state: dict[str, Any]) -> None:
        steps = state.get("steps")
        if state.get("memory") is not None:
            self.fail("the Pipeline's memory (a cache folder) must be None")
        if not isinstance(steps, list) or not steps or not all(
                isinstance(step, tuple) and len(step) == 2 and isinstance(step[0], str) for step in steps):
            self.fail("the Pipeline's steps are not a list of (name, estimator) pairs")

    def tree(self, args: Any, state: Any) -> Any:
        """A fitted tree's structure, its nodes checked to stay inside the tree (C walks them unchecked)."""
        if not (isinstance(args, tuple) and len(args) == 3 and _count(args[0]) and _count(args[2])
                and isinstance(args[1], np.ndarray) and args[1].dtype.kind in "iu" and args[1].shape == (args[2],)
                and np.all(args[1] >= 1)):
            return self.fail("a decision tree's (n_features, n_classes, n_outputs) are not valid")
        if not (isinstance(state, dict) and set(state) == {"max_depth", "node_count", "nodes", "values"}):
            return self.fail("a decision tree's structure is not (max_depth, node_count, nodes, values)")
        n_features, n_classes, n_outputs = args
        nodes, values = state["nodes"], state["values"]
        if not (isinstance(nodes, np.ndarray) and nodes.dtype == NODE_DTYPE and nodes.ndim == 1 and len(nodes) >= 1
                and state["node_count"] == len(nodes) and isinstance(values, np.ndarray)
                and values.dtype == np.float64 and values.shape == (len(nodes), n_outputs, int(n_classes.max()))):
            return self.fail("a decision tree's nodes or values do not have the shapes scikit-learn gives them")
        index = np.arange(len(nodes))
        left, right, feature = nodes["left_child"], nodes["right_child"], nodes["feature"]
        leaf = left == -1
        inside = (left > index) & (left < len(nodes)) & (right > index) & (right < len(nodes)) \
            & (feature >= 0) & (feature < n_features)
        if not np.all(np.where(leaf, right == -1, inside)):
            return self.fail("a decision tree's nodes point outside the tree or its features")
        if not self.build:
            return Planned(Global(*TREE))
        from sklearn.tree._tree import Tree

        found = Tree(n_features, n_classes.astype(np.intp), n_outputs)
        found.__setstate__({"max_depth": state["max_depth"], "node_count": len(nodes), "nodes": nodes,
                            "values": values})
        return found

    def dtype(self, args: Any, state: Any) -> Any:
        if not (isinstance(args, tuple) and len(args) == 3 and isinstance(args[0], str) and DTYPE_SPEC.match(args[0])
                and args[1:] == (False, True)):
            return self.fail(f"a numpy dtype {str(args)[:60]} is not a plain number or text type")
        if not (isinstance(state, tuple) and all(item is None or isinstance(item, (str, int)) for item in state)):
            return self.fail("a numpy dtype's state is not plain")
        return np.dtype(args[0])

    # ---- arrays -----------------------------------------------------------------------------
    def array(self, index: object) -> np.ndarray:
        dataset = self.weights.get(str(index)) if self.weights is not None and isinstance(index, int) else None
        if not isinstance(dataset, h5py.Dataset):
            return self.fail(f"array {str(index)[:20]} is missing from -model_weights-")
        if not (dataset.dtype.kind in ARRAY_KINDS and dataset.dtype.itemsize <= 8 or dataset.dtype == NODE_DTYPE):
            return self.fail(f"array {index} holds {str(dataset.dtype)[:80]}, expected numbers")
        size = int(np.prod(dataset.shape, dtype=np.int64)) * dataset.dtype.itemsize
        self.bytes_read += size
        if self.bytes_read > (available_memory() or NO_LIMIT) // 2:
            self.fail(f"its arrays hold more than {format_bytes(self.bytes_read)}, more than the job's memory allows")
        return dataset[()]

    def object_array(self, data: object) -> np.ndarray:
        """Labels or categories saved as text (numpy's U or O dtypes): plain values only, never objects."""
        if not (isinstance(data, dict) and set(data) == {"-dtype-", "-values-"}):
            return self.fail("an object array is not (dtype, values)")
        dtype = self.value(data["-dtype-"])
        if not isinstance(dtype, np.dtype):
            return self.fail("an object array's dtype is not a numpy dtype")
        count = _plain_count(data["-values-"])
        if count is None or count > OBJECT_ARRAY_ITEMS:
            return self.fail("an object array holds something other than numbers and texts")
        values = self.value(data["-values-"])
        return np.array(values, dtype=dtype)

    def scalar(self, data: object) -> Any:
        if not (isinstance(data, dict) and set(data) == {"-datatype-", "-value-"}):
            return self.fail("a numpy scalar is not (datatype, value)")
        kind = self.reference(data["-datatype-"])
        value = data["-value-"]
        if (kind.module, kind.name) not in NUMPY_SCALARS or not isinstance(value, (bool, int, float)):
            return self.fail(f"a numpy scalar of {kind.path[:80]} is not a plain number")
        return getattr(np, kind.name)(value) if self.build else value


def key_of(found: Global) -> tuple[str, str]:
    return found.module, found.name


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 10 ** 9


def _plain_count(values: object) -> int | None:
    """How many plain values (numbers, texts, None) a nested list holds; None if anything else."""
    count, stack = 0, [values]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif item is None or isinstance(item, (bool, int, float, str)):
            count += 1
        else:
            return None
    return count


def check_fitted_parts(estimator: Any, what: str) -> None:
    """Parts that predict in C without checking their input must fit the estimator's features.

    A tree estimator's ``tree_`` must be a Tree of its number of features, a forest's trees must
    have the forest's, and k nearest neighbours must search by brute force (``_fit_method``).
    """
    from sklearn.tree._tree import Tree

    n_features = getattr(estimator, "n_features_in_", None)
    tree = getattr(estimator, "tree_", None)
    if tree is not None and (not isinstance(tree, Tree) or tree.n_features != n_features):
        raise ToolInputError(f"{what}: a decision tree has {getattr(tree, 'n_features', '?')} features but its "
                             f"estimator {n_features}; the file is refused")
    for member in getattr(estimator, "estimators_", None) or []:
        if getattr(member, "n_features_in_", None) != n_features:
            raise ToolInputError(f"{what}: a member of the {type(estimator).__name__} has other features than the "
                                 "ensemble; the file is refused")
    if getattr(estimator, "_fit_method", "brute") != "brute":
        raise ToolInputError(f"{what}: the {type(estimator).__name__} searches with a "
                             f"{str(estimator._fit_method)[:20]}; only brute force is accepted")
    if hasattr(estimator, "n_jobs"):
        estimator.n_jobs = None


def read_sklearn(handle: h5py.File, graph: dict[str, Any], what: str, build: bool) -> Any:
    """Check (``build`` False) or make the object a galaxy-ml h5mlm file describes.

    The description is walked first, so that a file naming a forbidden class or function is refused
    with that name, whatever else it holds.
    """
    weights = handle.get("-model_weights-")
    if weights is not None and not isinstance(weights, h5py.Group):
        raise ToolInputError(f"{what}: -model_weights- is not an HDF5 group")
    found = _Reader(weights, what, build).value(graph["-object-"])
    if build:
        return found
    if not isinstance(found, Planned) or key_of(found.what) not in CLASSES:
        raise ToolInputError(f"{what}: the model is not a scikit-learn estimator or pipeline")
    unexpected = sorted(set(handle) - TOP_LEVEL)
    if unexpected:
        raise ToolInputError(f"{what}: holds {unexpected[0][:60]!r}, which a scikit-learn model saved by galaxy-ml "
                             "never has; the file is refused unread")
    return found
