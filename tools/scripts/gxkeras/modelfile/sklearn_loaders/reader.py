"""Loading scikit-learn estimators and pipelines that galaxy-ml 0.11 saved as h5mlm, never unpickled.

galaxy-ml's ``dump_model_to_h5`` writes a pickle-like description of the object graph as JSON
(``-model_config-``) and the numeric arrays as HDF5 datasets (``-model_weights-/0``, ``1``, ...).
Its own loader rebuilds whatever the description names: any ``-global-`` is imported and any
``-reduce-`` calls it, so a file could run ``os.system``. Here the description is read twice, each
object as the loader of its class says (:data:`LOADERS`, one table: gxkeras/modelfile/sklearn_loaders/loader.py):

1. The check pass (``build`` False) walks it without importing or building anything. Every class or
   function it names must be in :data:`CLASSES` (common estimators, the transformers pipelines
   use, ``Pipeline``), :data:`NUMPY_SCALARS` or the few structural names pickle itself writes
   (:data:`STRUCTURE`), each in the one place pickle puts it; a reference to a class or function
   anywhere else (an attribute holding a callable), ``-keras_model-``/``-xgboost_model-``
   entries, attribute names that would hide a method, object arrays holding anything but plain
   values, arrays that are not plain numbers (or the tree nodes' record type), numbers beyond 64
   bits and numpy scalars their type cannot hold are refused with one error line. The nodes of every
   decision tree are checked too: scikit-learn walks them in C without bounds checks, so child and
   feature indices must stay inside the tree. Then each object's state is held to its loader: a private
   attribute it does not declare is refused, the checked ones must meet its invariants (a kernel SVM's
   arrays agree in size, a neighbour search's samples, labels and metric parameters fit its features:
   gxkeras/modelfile/sklearn_loaders/svm.py, gxkeras/modelfile/sklearn_loaders/neighbors.py, ...), iteration counts and tolerances are
   bounded for every class, and the attributes it recomputes or drops are read in this check mode only,
   also when building: every class named there must be allowed, but nothing there is ever built.
   Attributes read their own way are each read in one place, named by their loader: an SGD
   classifier's loss object (gxkeras/modelfile/sklearn_loaders/linear.py), a univariate selector's ``score_func``
   (gxkeras/modelfile/sklearn_loaders/steps.py), a voting or stacking ensemble's ``named_estimators_`` Bunch and a
   sampler's ``sampling_strategy_`` (gxkeras/modelfile/sklearn_loaders/ensembles.py), a KBinsDiscretizer's bin edges
   (gxkeras/modelfile/sklearn_loaders/encoders.py), a fitted RandomState (gxkeras/modelfile/sklearn_loaders/random_state.py). A Keras estimator
   may be a pipeline's last step: its ``-keras_model-`` entry is checked and built by
   :mod:`gxkeras.modelfile.model_io`, as a Keras model file is (``keras`` argument of :func:`read_sklearn`). An
   XGBoost estimator's booster is bytes XGBoost's C++ code would parse: :mod:`gxkeras.modelfile.sklearn_loaders.xgboost`
   parses and checks them, and XGBoost is given only the JSON model written from the checked values.
2. Only then does the build pass import the named scikit-learn modules and make the objects:
   ``cls.__new__(cls)`` and ``__setstate__(state)`` as pickle would, with the state less what the loader
   recomputes or drops, ``Tree(*args)`` for a tree's structure, ``numpy.dtype(spec)`` for a dtype. Each
   object's parameters are then validated as scikit-learn's ``fit`` validates them, its loader's
   ``rebuild`` computes the derived attributes again with scikit-learn's own code, and a dense output
   too wide for the job's memory is refused.

After building, every object's ``n_jobs`` is reset to None (one job, as Galaxy allots) and the
pieces that predict without validating their input (trees in forests) are checked to have the
estimator's number of features.
"""
import importlib
import inspect
import re
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

import h5py
import numpy as np

from gxkeras.galaxy.errors import ModelRefused
from gxkeras.galaxy.memory import NO_LIMIT, available_memory, format_bytes
from gxkeras.modelfile.sklearn_loaders.encoders import KBINS, LABEL_BINARIZER, LABEL_ENCODER, ONE_HOT, POLYNOMIAL, TREES_EMBEDDING
from gxkeras.modelfile.sklearn_loaders.encoders import LOADERS as ENCODER_LOADERS
from gxkeras.modelfile.sklearn_loaders.ensembles import (
    ENSEMBLES, FORESTS, IMBLEARN_PIPELINE, SAMPLER_PARTS, SAMPLERS, TREES,
)
from gxkeras.modelfile.sklearn_loaders.ensembles import LOADERS as ENSEMBLE_LOADERS
from gxkeras.modelfile.sklearn_loaders.linear import LOADERS as LINEAR_LOADERS
from gxkeras.modelfile.sklearn_loaders.linear import LossSpec
from gxkeras.modelfile.sklearn_loaders.loader import (
    DEFAULT, RECONSTRUCTOR, Key, Loader, check_output_width, check_parameters, check_private, check_work_bounds,
    key_of, loader, rebuilt,
)
from gxkeras.modelfile.sklearn_loaders.neighbors import LOADERS as NEIGHBOR_LOADERS
from gxkeras.modelfile.sklearn_loaders.neighbors import NEIGHBORS
from gxkeras.modelfile.sklearn_loaders.steps import LOADERS as STEP_LOADERS
from gxkeras.modelfile.sklearn_loaders.steps import STEPS
from gxkeras.modelfile.sklearn_loaders.svm import LIBSVM_CLASSES
from gxkeras.modelfile.sklearn_loaders.svm import LOADERS as SVM_LOADERS
from gxkeras.modelfile.sklearn_loaders.xgboost import BOOSTER, BYTEARRAY, XGB_CLASSES, booster_model, load_booster, n_classes

# (module, class) exactly as galaxy-ml writes them (``cls.__module__`` of scikit-learn 1.9). Adding a
# class: check that its predict/transform validate their arrays in Python or numpy (anything walked in
# C without bounds checks, like a tree's nodes, needs its own check), give it a loader in LOADERS if it
# has private attributes or parameters that C code reads, then add it: test_every_allowed_class_loads_as_fitted
# fits, dumps with galaxy-ml and reloads every entry, and test_private_attributes_are_declared fails until
# every private attribute it has is declared (checked, recomputed or dropped) by its loader.
PIPELINES = {("sklearn.pipeline", "Pipeline"), IMBLEARN_PIPELINE}
_LM = "sklearn.linear_model"
LINEAR_REGRESSORS = {
    (f"{_LM}._bayes", "ARDRegression"), (f"{_LM}._bayes", "BayesianRidge"), (f"{_LM}._huber", "HuberRegressor"),
    *((f"{_LM}._least_angle", name) for name in ("Lars", "LarsCV", "LassoLars", "LassoLarsCV", "LassoLarsIC")),
    (f"{_LM}._omp", "OrthogonalMatchingPursuit"), (f"{_LM}._omp", "OrthogonalMatchingPursuitCV"),
    (f"{_LM}._ransac", "RANSACRegressor"), (f"{_LM}._theil_sen", "TheilSenRegressor"),
    *((f"{_LM}._coordinate_descent", name) for name in (
        "MultiTaskLasso", "MultiTaskElasticNet", "MultiTaskLassoCV", "MultiTaskElasticNetCV")),
}
CLASSES = {
    *PIPELINES,
    # linear models
    ("sklearn.linear_model._logistic", "LogisticRegression"),
    ("sklearn.linear_model._base", "LinearRegression"),
    ("sklearn.linear_model._ridge", "Ridge"),
    ("sklearn.linear_model._ridge", "RidgeClassifier"),
    LABEL_BINARIZER,  # RidgeClassifier's label encoding
    ("sklearn.linear_model._coordinate_descent", "Lasso"),
    ("sklearn.linear_model._coordinate_descent", "ElasticNet"),
    # their cross-validated forms (RidgeCV is StackingRegressor's default final estimator): the same
    # predict (numpy on coef_ / intercept_); the cross-validation results are plain arrays
    ("sklearn.linear_model._ridge", "RidgeCV"),
    ("sklearn.linear_model._ridge", "RidgeClassifierCV"),
    ("sklearn.linear_model._coordinate_descent", "LassoCV"),
    ("sklearn.linear_model._coordinate_descent", "ElasticNetCV"),
    ("sklearn.linear_model._logistic", "LogisticRegressionCV"),
    # the old selector's other linear regressors: all predict with numpy on coef_ / intercept_ (LinearModel's
    # _decision_function; ARD and Bayesian ridge's standard deviations too); RANSAC predicts with its estimator_,
    # itself an allowed class read like any other
    *LINEAR_REGRESSORS,
    # stochastic gradient descent: their compiled loss object is named by LOSSES and rebuilt by us
    ("sklearn.linear_model._stochastic_gradient", "SGDClassifier"),
    ("sklearn.linear_model._stochastic_gradient", "SGDRegressor"),
    ("sklearn.linear_model._perceptron", "Perceptron"),
    ("sklearn.linear_model._passive_aggressive", "PassiveAggressiveClassifier"),
    ("sklearn.linear_model._passive_aggressive", "PassiveAggressiveRegressor"),
    # support vector machines; the kernel ones predict in C (libsvm) from arrays checked by check_libsvm
    ("sklearn.svm._classes", "LinearSVC"),
    ("sklearn.svm._classes", "LinearSVR"),
    *LIBSVM_CLASSES,
    # trees and forests (their nodes checked by _Reader.tree, their widths by gxkeras/modelfile/sklearn_loaders/ensembles.py)
    *TREES,
    *FORESTS,
    # trees as a sparse embedding (their leaves one-hot encoded by a OneHotEncoder rebuilt from the trees)
    TREES_EMBEDDING,
    # k nearest neighbours, local outlier factor (brute force: galaxy-ml cannot save KD/ball trees), nearest
    # centroid: their stored samples, centroids and labels checked by gxkeras/modelfile/sklearn_loaders/neighbors.py
    *NEIGHBORS,
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
    ONE_HOT,
    ("sklearn.impute._base", "SimpleImputer"),
    ("sklearn.feature_selection._variance_threshold", "VarianceThreshold"),
    # the old pipeline builder's other steps (gxkeras/modelfile/sklearn_loaders/steps.py; univariate selectors among them)
    *STEPS,
    KBINS, POLYNOMIAL,  # their encoder and widths rebuilt by scikit-learn (gxkeras/modelfile/sklearn_loaders/encoders.py)
    # AdaBoost, bagging, voting, stacking (gxkeras/modelfile/sklearn_loaders/ensembles.py); the classifiers' label encoder
    *ENSEMBLES,
    LABEL_ENCODER,
    # imbalanced-learn's samplers: checked, then rebuilt from their parameters (skipped at prediction)
    *SAMPLERS,
    # XGBoost's scikit-learn estimators: the booster's bytes parsed and checked by gxkeras/modelfile/sklearn_loaders/xgboost.py
    *XGB_CLASSES,
}
NUMPY_SCALARS = {("numpy", name) for name in (
    "bool_", "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64")}
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
INT64 = (-2 ** 63, 2 ** 63 - 1)  # a whole number beyond these overflows in numpy (OverflowError)


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
    """An object the description would build (check pass), with its ``n_features_in_`` (None if unset) and,
    for an XGBoost booster, its number of classes."""
    what: Global
    n_features: object = None
    classes: int = 0


@dataclass(frozen=True)
class Owned:
    """A memo entry no other place may refer to again (an XGBoost booster and its bytes)."""


@dataclass(frozen=True)
class Discarded:
    """A memo entry for an object inside an attribute that is recomputed or dropped: checked, never built, and
    never to be referred to again (the object the file describes there is not the one the model uses)."""


# Memo entries that are the same whether a value is checked or built (texts, names, dtypes): still referable
# after an attribute that is never built was read.
PLAIN_MEMO = (str, bytes, frozenset, np.dtype)


@dataclass(frozen=True)
class SamplerPart:
    """A memo entry that only a sampler's own state may refer to again (a KMeans it keeps)."""
    found: Any


# A Keras estimator as a pipeline's last step: ``keras(index, build)`` checks the file's Keras entry
# ``index`` (build False: returns its class name) or makes the estimator (gxkeras/modelfile/model_io.py).
KerasEntry = Callable[[int, bool], Any]
KERAS_MODELS = "-keras_models-"


def is_sklearn_graph(graph: object) -> bool:
    """Whether a galaxy-ml object graph describes a pickled object (not a Keras estimator)."""
    return isinstance(graph, dict) and set(graph) == {"-object-"} and isinstance(graph["-object-"], dict) \
        and set(graph["-object-"]) == {"-reduce-"}


class _Reader:
    """One walk over the description; ``build`` False checks, True makes the objects."""

    def __init__(self, weights: h5py.Group | None, what: str, build: bool, keras: KerasEntry | None = None) -> None:
        self.weights, self.what, self.build, self.keras = weights, what, build, keras
        self.memo: list[Any] = []
        self.bytes_read = 0
        self.in_sampler = 0  # > 0 while a sampler's state is read (SAMPLER_PARTS are admitted there only)
        self.keras_used = False

    def fail(self, problem: str) -> Any:
        raise ModelRefused(f"{self.what}: {problem}; the file is refused unread")

    # ---- values -----------------------------------------------------------------------------
    def value(self, data: Any) -> Any:
        if isinstance(data, int) and not isinstance(data, bool) and not INT64[0] <= data <= INT64[1]:
            return self.fail(f"the number {str(data)[:40]} is outside the 64-bit range that numpy and scikit-learn use")
        if data is None or isinstance(data, (bool, int, float)):
            return data
        if isinstance(data, str):
            if not _encodable(data):
                return self.fail(f"the text {data[:40]!r} is not Unicode text (a lone surrogate), which no file "
                                 "galaxy-ml writes holds")
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
            if isinstance(found, LossSpec):
                return self.fail("a loss object is referred to a second time")
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
        if tag == "-keras_model-":
            return self.fail("a Keras model is accepted only as the last step of a pipeline")
        return self.fail(f"{tag[:40]} entries (XGBoost models inside a scikit-learn object) are not accepted")

    def data_type(self, found: Global) -> Any:
        """A numpy scalar type as a value (e.g. OneHotEncoder's ``dtype``); no other class or function."""
        if key_of(found) not in NUMPY_SCALARS:
            self.fail(f"an attribute refers to {found.path}: classes and functions are not accepted as values")
        return getattr(np, found.name) if self.build else found

    def mapping(self, data: dict[str, Any], special: dict[str, Any] | None = None) -> dict[Any, Any]:
        """A dictionary; ``special`` reads the named entries its own way (a loader's ``readers``)."""
        special = special or {}
        keys = data.get("-keys-", [])
        if not isinstance(keys, list) or not all(isinstance(key, (str, int)) and not isinstance(key, bool)
                                                 for key in keys):
            return self.fail("a dictionary's -keys- is not a list of names")
        if set(data) - {"-keys-"} != {str(key) for key in keys} or len(set(map(str, keys))) != len(keys):
            return self.fail("a dictionary's entries do not match its -keys-")
        return {key: special.get(key, self.value)(data[str(key)]) for key in keys}

    def memo_item(self, index: object) -> Any:
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(self.memo):
            return self.fail(f"-memo- {str(index)[:20]} refers to nothing read before it")
        found = self.memo[index]
        if isinstance(found, Discarded):
            return self.fail("a -memo- refers to an object inside an attribute that is recomputed or dropped")
        if isinstance(found, Owned):
            return self.fail("an XGBoost booster is referred to a second time")
        if isinstance(found, SamplerPart):
            if not self.in_sampler:
                return self.fail("a part of a sampler (its KMeans) is referred to outside the sampler")
            return found.found
        return found

    def global_(self, data: object) -> Global:
        if not (isinstance(data, list) and len(data) == 2 and all(isinstance(part, str) for part in data)):
            self.fail("a -global- is not a [module, name] pair")
        found = Global(*data)  # type: ignore[misc]
        key = (found.module, found.name)
        if key not in CLASSES | NUMPY_SCALARS | STRUCTURE and not (self.in_sampler and key in SAMPLER_PARTS):
            self.fail(f"the model names {found.path[:120]}, which is not one of the scikit-learn classes "
                      "this tool accepts (see its help)")
        self.memo.append(found)
        return found

    def named(self, data: object, allowed: Any, what: str) -> Global:
        """A class or function allowed in one place only (a loss class, a score_func), never elsewhere."""
        if isinstance(data, dict) and set(data) == {"-global-"} and isinstance(data["-global-"], list) \
                and len(data["-global-"]) == 2 and all(isinstance(part, str) for part in data["-global-"]):
            found = Global(*data["-global-"])
            if key_of(found) not in allowed:
                self.fail(f"{what} names {found.path[:120]}, expected one of "
                          f"{', '.join(sorted(name for _, name in allowed))}")
            self.memo.append(found)
            return found
        if isinstance(data, dict) and set(data) == {"-memo-"}:
            found = self.memo_item(data["-memo-"])
            if isinstance(found, Global) and key_of(found) in allowed:
                return found
        return self.fail(f"{what} is not one of {', '.join(sorted(name for _, name in allowed))}")

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
        made = key_of(found.what) if isinstance(found, Planned) else (type(found).__module__, type(found).__name__)
        self.memo.append(SamplerPart(found) if made in SAMPLER_PARTS else found)
        return found

    def instance(self, args: list[Any], state_data: object) -> Any:
        """An object of an admitted class: its state read and checked as its loader says (check pass), then
        built from what may be taken from the file, and what is derived recomputed by scikit-learn (build)."""
        if len(args) != 3 or args[2] is not None:
            return self.fail("an object is not saved as (class, object, None)")
        cls = self.reference(args[0])
        base = self.reference(args[1])
        key = key_of(cls)
        if not (key in CLASSES or self.in_sampler and key in SAMPLER_PARTS) or key_of(base) != OBJECT:
            return self.fail(f"{cls.path} cannot be made as an object")
        if not (isinstance(state_data, dict) and "-keys-" in state_data
                and not any(isinstance(key, str) and key.startswith("-") and key != "-keys-" for key in state_data)):
            return self.fail(f"the {cls.name}'s attributes are not a dictionary")
        entry = LOADERS[key]
        readers = {name: factory(self, cls) for name, factory in entry.readers.items()}
        readers.update({name: self.never_built(readers.get(name, self.value)) for name in entry.not_read})
        self.in_sampler += key in SAMPLERS
        try:
            state = self.mapping(state_data, readers)
        finally:
            self.in_sampler -= key in SAMPLERS
        for name in state:
            if not isinstance(name, str) or not _NAME.match(name) or name.startswith("__"):
                self.fail(f"the {cls.name} has an attribute named {str(name)[:60]!r}")
        check_private(key, state, entry, self.fail)
        check_work_bounds(key, state, self.fail)
        for check in entry.checks:
            check(key, state, self.fail)
        if not self.build:
            first = state["steps"][0][1] if key in PIPELINES else None
            return Planned(cls, getattr(first, "n_features", None) if first else state.get("n_features_in_"))
        klass = getattr(importlib.import_module(cls.module), cls.name)
        for name in state:
            if callable(inspect.getattr_static(klass, name, None)):
                self.fail(f"the {cls.name}'s attribute {name!r} would hide its method of that name")
        if entry.make is not None:
            found = entry.make(klass, state)
            check_parameters(found, self.what)
            return found
        found = klass.__new__(klass)
        found.__setstate__({name: value for name, value in state.items() if name not in entry.not_read})
        check_parameters(found, self.what)
        rebuilt(found, state, entry, self.what)
        check_output_width(found, entry, self.what)
        check_fitted_parts(found, self.what)
        return found

    def never_built(self, read: Callable[[object], Any]) -> Callable[[object], Any]:
        """``read`` as the check pass reads (every class named must be allowed, every check holds), also when
        building: an attribute the loader recomputes or drops is never made from the file. The objects read
        there cannot be referred to again (:class:`Discarded`)."""
        def checked_only(data: object) -> Any:
            start, building = len(self.memo), self.build
            self.build = False
            try:
                found = read(data)
            finally:
                self.build = building
            for index in range(start, len(self.memo)):
                if not isinstance(self.memo[index], (*PLAIN_MEMO, Global)):
                    self.memo[index] = Discarded()
            return found
        return checked_only

    def booster(self, cls: Global) -> Any:
        """An XGBoost estimator's ``_Booster``: ``Booster`` with the state ``{"handle": bytearray(...)}``, its bytes
        checked by :func:`gxkeras.modelfile.sklearn_loaders.xgboost.booster_model`; XGBoost then reads the JSON model we write."""
        def read(data: object) -> Any:
            reduce = data.get("-reduce-") if isinstance(data, dict) and set(data) == {"-reduce-"} else None
            args = reduce.get("-args-") if isinstance(reduce, dict) else None
            state = reduce.get("-state-") if isinstance(reduce, dict) else None
            if not (isinstance(reduce, dict) and set(reduce) == {"--func-", "-args-", "-state-"}
                    and key_of(self.reference(reduce["--func-"])) == RECONSTRUCTOR and isinstance(args, dict)
                    and set(args) == {"-tuple-"} and isinstance(args["-tuple-"], list) and len(args["-tuple-"]) == 3
                    and args["-tuple-"][2] is None and isinstance(state, dict) and set(state) == {"-keys-", "handle"}
                    and state["-keys-"] == ["handle"]):
                return self.fail(f"the {cls.name}'s _Booster is not an XGBoost Booster as galaxy-ml saves it")
            self.named(args["-tuple-"][0], {BOOSTER}, f"the {cls.name}'s _Booster")
            if key_of(self.reference(args["-tuple-"][1])) != OBJECT:
                return self.fail(f"the {cls.name}'s _Booster is not made as an object")
            handle = state["handle"]
            inner = handle.get("-reduce-") if isinstance(handle, dict) and set(handle) == {"-reduce-"} else None
            if not (isinstance(inner, dict) and set(inner) == {"--func-", "-args-"}
                    and isinstance(inner["-args-"], dict) and set(inner["-args-"]) == {"-tuple-"}
                    and isinstance(inner["-args-"]["-tuple-"], list) and len(inner["-args-"]["-tuple-"]) == 2):
                return self.fail(f"the {cls.name}'s booster bytes are not a bytearray")
            self.named(inner["--func-"], {BYTEARRAY}, f"the {cls.name}'s booster bytes")
            text, encoding = (self.value(part) for part in inner["-args-"]["-tuple-"])
            if not isinstance(text, str) or encoding != "latin-1" or not all(ord(char) < 256 for char in text):
                return self.fail(f"the {cls.name}'s booster bytes are not latin-1 text")
            self.bytes_read += len(text)
            model = booster_model(text.encode("latin-1"), self.fail)
            self.memo.append(Owned())  # the bytearray
            found: Any = Planned(Global(*BOOSTER), classes=n_classes(model))
            if self.build:
                found = load_booster(model, self.fail)
            self.memo.append(Owned())
            return found
        return read

    def steps(self, data: object) -> Any:
        """A pipeline's (name, step) pairs; the last step may be a Keras estimator (read by ``self.keras``)."""
        if not isinstance(data, list) or not data:
            return self.fail("the Pipeline's steps are not a list of (name, estimator) pairs")
        found = []
        for position, item in enumerate(data):
            pair = item.get("-tuple-") if isinstance(item, dict) and set(item) == {"-tuple-"} else None
            step = pair[1] if isinstance(pair, list) and len(pair) == 2 else None
            if not (isinstance(step, dict) and set(step) == {"-keras_model-"}):
                found.append(self.value(item))
                continue
            if position != len(data) - 1 or self.keras is None or self.keras_used or step["-keras_model-"] != 0:
                return self.fail("a Keras model is accepted only as the last step of a pipeline")
            name = self.value(pair[0])  # type: ignore[index]
            self.keras_used = True
            model = self.keras(0, self.build)
            model = model if self.build else Planned(Global("galaxy_ml.keras_galaxy_models", model))
            self.memo.append(model)
            found.append((name, model))
        return found

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
        depth = _tree_depth(left, right)
        if depth is None:
            return self.fail("a decision tree's nodes are not a tree (a node with no parent or with two)")
        if not self.build:
            return Planned(Global(*TREE))
        from sklearn.tree._tree import Tree

        found = Tree(n_features, n_classes.astype(np.intp), n_outputs)
        # max_depth recomputed, never read: decision_path sizes its C buffer by it (one entry per level).
        found.__setstate__({"max_depth": depth, "node_count": len(nodes), "nodes": nodes, "values": values})
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
        self.count_bytes(int(np.prod(dataset.shape, dtype=np.int64)) * dataset.dtype.itemsize)
        return dataset[()]

    def count_bytes(self, size: int) -> None:
        """``size`` more bytes of arrays made from the file: all of them together must fit the job's memory."""
        self.bytes_read += size
        if self.bytes_read > (available_memory() or NO_LIMIT) // 2:
            self.fail(f"its arrays hold more than {format_bytes(self.bytes_read)}, more than the job's memory allows")

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
        # a text dtype of n characters takes 4n bytes an item whatever the texts are: 3,000 one-letter texts as
        # U999999 asked for 11 GB
        self.count_bytes(count * dtype.itemsize)
        values = self.value(data["-values-"])
        return np.array(values, dtype=dtype)

    def scalar(self, data: object) -> Any:
        if not (isinstance(data, dict) and set(data) == {"-datatype-", "-value-"}):
            return self.fail("a numpy scalar is not (datatype, value)")
        kind = self.reference(data["-datatype-"])
        value = data["-value-"]
        if (kind.module, kind.name) not in NUMPY_SCALARS or not isinstance(value, (bool, int, float)):
            return self.fail(f"a numpy scalar of {kind.path[:80]} is not a plain number")
        dtype = np.dtype(getattr(np, kind.name))
        if not _fits(value, dtype):
            return self.fail(f"a numpy {kind.name} holds {str(value)[:40]}, which that type cannot hold")
        return getattr(np, kind.name)(value) if self.build else value


def _encodable(text: str) -> bool:
    """Whether a text is Unicode text (JSON's ``\\ud800`` escapes give lone surrogates, which no output can write)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 10 ** 9


def _fits(value: bool | int | float, dtype: np.dtype) -> bool:
    """Whether numpy's ``dtype`` holds ``value`` as it is (no overflow, no float made infinite)."""
    if dtype.kind in "iu":
        return not isinstance(value, float) and np.iinfo(dtype).min <= value <= np.iinfo(dtype).max
    if dtype.kind == "f":
        return not np.isfinite(value) or abs(value) <= np.finfo(dtype).max
    return isinstance(value, bool) or value in (0, 1)


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


def check_pipeline(key: Key, state: dict[str, Any], fail: Any) -> None:
    steps = state.get("steps")
    if state.get("memory") is not None:
        fail("the Pipeline's memory (a cache folder) must be None")
    if not isinstance(steps, list) or not steps or not all(
            isinstance(step, tuple) and len(step) == 2 and isinstance(step[0], str) for step in steps):
        fail("the Pipeline's steps are not a list of (name, estimator) pairs")


def check_booster_classes(key: Key, state: dict[str, Any], fail: Any) -> None:
    """An XGBClassifier's ``n_classes_`` is its booster's (the booster is a Planned in the check pass)."""
    booster = state.get("_Booster")
    if isinstance(booster, Planned) and state.get("n_classes_") != booster.classes:
        fail(f"the XGBClassifier's n_classes_ {str(state.get('n_classes_'))[:20]} is not its booster's "
             f"{booster.classes} classes")


# The one table of loaders (gxkeras/modelfile/sklearn_loaders/loader.py): every admitted class, DEFAULT unless the module of its
# concern says more (each class in at most one of LOADER_TABLES: test_loader_tables_name_admitted_classes_once).
_SPECIFIC: dict[Key, Loader] = {
    **{key: loader(readers={"steps": lambda reader, cls: reader.steps}, checks=(check_pipeline,)) for key in PIPELINES},
    ("xgboost.sklearn", "XGBClassifier"): loader(readers={"_Booster": _Reader.booster}, checked={"_Booster"},
                                                 checks=(check_booster_classes,)),
    ("xgboost.sklearn", "XGBRegressor"): loader(readers={"_Booster": _Reader.booster}, checked={"_Booster"}),
    # a KMeans inside a sampler: the sampler is made from its parameters, so its fitted state is never used
    **{key: loader(dropped={"_algorithm", "_n_features_out", "_n_init", "_n_threads", "_tol"}) for key in SAMPLER_PARTS},
}
LOADER_TABLES = (ENCODER_LOADERS, ENSEMBLE_LOADERS, LINEAR_LOADERS, NEIGHBOR_LOADERS, STEP_LOADERS, SVM_LOADERS, _SPECIFIC)
LOADERS: dict[Key, Loader] = {**dict.fromkeys(CLASSES | SAMPLER_PARTS, DEFAULT), **{
    key: entry for table in LOADER_TABLES for key, entry in table.items()}}


def read_sklearn(handle: h5py.File, graph: dict[str, Any], what: str, build: bool,
                 keras: KerasEntry | None = None) -> Any:
    """Check (``build`` False) or make the object a galaxy-ml h5mlm file describes.

    The description is walked first, so that a file naming a forbidden class or function is refused
    with that name, whatever else it holds. ``keras`` reads a Keras estimator that is a pipeline's
    last step (galaxy-ml keeps it under ``-keras_models-``, as a Keras model file of its own).
    """
    weights = handle.get("-model_weights-")
    if weights is not None and not isinstance(weights, h5py.Group):
        raise ModelRefused(f"{what}: -model_weights- is not an HDF5 group")
    reader = _Reader(weights, what, build, keras)
    found = reader.value(graph["-object-"])
    if build:
        return found
    if not isinstance(found, Planned) or key_of(found.what) not in CLASSES:
        raise ModelRefused(f"{what}: the model is not a scikit-learn estimator or pipeline")
    unexpected = sorted(set(handle) - TOP_LEVEL - ({KERAS_MODELS} if reader.keras_used else set()))
    if unexpected:
        raise ModelRefused(f"{what}: holds {unexpected[0][:60]!r}, which a scikit-learn model saved by galaxy-ml "
                             "never has; the file is refused unread")
    return found


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
