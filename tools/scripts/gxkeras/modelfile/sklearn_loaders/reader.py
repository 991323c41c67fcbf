"""Loading scikit-learn estimators and pipelines that galaxy-ml 0.11 saved as h5mlm, never unpickled.

galaxy-ml's ``dump_model_to_h5`` writes a pickle-like description of the object graph as JSON
(``-model_config-``) and the numeric arrays as HDF5 datasets (``-model_weights-/0``, ``1``, ...).
Its own loader rebuilds whatever the description names: any ``-global-`` is imported and any
``-reduce-`` calls it, so a file could run ``os.system``. Here the description is read twice, each
object as the loader of its class says (:data:`LOADERS`, one table: gxkeras/modelfile/sklearn_loaders/loader.py):

1. The check pass (``build`` False) walks it without importing or building anything. Every class or
   function it names must be in the allow-list (:mod:`gxkeras.modelfile.sklearn_loaders.classes`: common
   estimators, the transformers pipelines use, ``Pipeline``; numpy's scalar types) or the few structural names
   pickle itself writes (:data:`gxkeras.modelfile.sklearn_loaders.structures.STRUCTURE`), each in the one place
   pickle puts it (values and references: :mod:`gxkeras.modelfile.sklearn_loaders.value_reader`); a reference to a class or function
   anywhere else (an attribute holding a callable), ``-keras_model-``/``-xgboost_model-``
   entries, attribute names that would hide a method, object arrays holding anything but plain
   values, arrays that are not plain numbers (or the tree nodes' record type), numbers beyond 64
   bits and numpy scalars their type cannot hold are refused with one error line. The nodes of every
   decision tree are checked too (:mod:`gxkeras.modelfile.sklearn_loaders.structures`): scikit-learn walks them in C without bounds checks, so child and
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
   :mod:`gxkeras.modelfile.h5mlm`, as a Keras model file is (``keras`` argument of :func:`read_sklearn`). An
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
from collections.abc import Callable
from typing import Any

import h5py

from gxkeras.galaxy.errors import ModelRefused
from gxkeras.modelfile.sklearn_loaders.classes import CLASSES, PIPELINES
from gxkeras.modelfile.sklearn_loaders.encoders import LOADERS as ENCODER_LOADERS
from gxkeras.modelfile.sklearn_loaders.ensembles import LOADERS as ENSEMBLE_LOADERS
from gxkeras.modelfile.sklearn_loaders.ensembles import SAMPLER_PARTS, SAMPLERS
from gxkeras.modelfile.sklearn_loaders.linear import LOADERS as LINEAR_LOADERS
from gxkeras.modelfile.sklearn_loaders.loader import (
    DEFAULT, RECONSTRUCTOR, Key, Loader, check_output_width, check_parameters, check_private, check_work_bounds,
    key_of, loader, rebuilt,
)
from gxkeras.modelfile.sklearn_loaders.neighbors import LOADERS as NEIGHBOR_LOADERS
from gxkeras.modelfile.sklearn_loaders.steps import LOADERS as STEP_LOADERS
from gxkeras.modelfile.sklearn_loaders.structures import DTYPE, OBJECT, TREE, build_tree, check_fitted_parts, check_tree, dtype
from gxkeras.modelfile.sklearn_loaders.svm import LOADERS as SVM_LOADERS
from gxkeras.modelfile.sklearn_loaders.value_reader import (
    PLAIN_MEMO, Discarded, Global, Owned, Planned, SamplerPart, ValueReader,
)
from gxkeras.modelfile.sklearn_loaders.xgboost import BOOSTER, BYTEARRAY, booster_model, load_booster, n_classes

TOP_LEVEL = {"-model_config-", "-model_weights-", "-model_hyperparameters-"}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# A Keras estimator as a pipeline's last step: ``keras(index, build)`` checks the file's Keras entry
# ``index`` (build False: returns its class name) or makes the estimator (gxkeras/modelfile/h5mlm.py).
KerasEntry = Callable[[int, bool], Any]
KERAS_MODELS = "-keras_models-"


def is_sklearn_graph(graph: object) -> bool:
    """Whether a galaxy-ml object graph describes a pickled object (not a Keras estimator)."""
    return isinstance(graph, dict) and set(graph) == {"-object-"} and isinstance(graph["-object-"], dict) \
        and set(graph["-object-"]) == {"-reduce-"}


class _Reader(ValueReader):
    """One walk over the description, objects included; ``build`` False checks, True makes the objects."""

    def __init__(self, weights: h5py.Group | None, what: str, build: bool, keras: KerasEntry | None = None) -> None:
        super().__init__(weights, what, build)
        self.keras = keras
        self.keras_used = False

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
            tree_args, tree_state = tuple(self.value(args["-tuple-"])), self.value(data.get("-state-"))
            depth = check_tree(tree_args, tree_state, self.fail)
            found = build_tree(tree_args, tree_state, depth) if self.build else Planned(Global(*TREE))
        elif key == DTYPE:
            found = dtype(tuple(self.value(args["-tuple-"])), self.value(data.get("-state-")), self.fail)
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
