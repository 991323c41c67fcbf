"""What one admitted scikit-learn class may take from a galaxy-ml file, what is checked, what is recomputed.

Checking, class by class, each private attribute that C code indexes proved open-ended (a OneHotEncoder
whose ``_n_features_outs`` disagreed with its ``categories_`` wrote out of bounds). So the rule is the other
way round: every admitted class has one :class:`Loader` in :data:`gxkeras.modelfile.sklearn_loaders.reader.LOADERS` (as skops
registers its node types in ``skops/io/_sklearn.py``), and an attribute whose name starts with ``_`` is
never taken from the file unless that loader names it:

* ``checked``: read from the file, made safe by the loader's ``checks`` (invariants against the public
  attributes, run in the check pass, before anything is imported);
* ``recomputed``: read (every class it names must be allowed) and kept out of the built object; the
  loader's ``rebuild`` computes it again with scikit-learn's own code from the checked public attributes (a
  fit on a tiny array built from them where scikit-learn computes it in ``fit``). Where the file's value is
  an input of that computation (a k-NN's labels ``_y``), the computation must give it back unchanged;
* ``dropped``: training state that prediction never reads (bootstrap seeds, partial_fit accumulators, the
  training data a Relief selector keeps): read and thrown away, never set.

Anything else private is refused; a test fits every admitted class and fails when scikit-learn gives one an
attribute its loader does not declare. Public attributes the loader recomputes (``drop_idx_``,
``effective_metric_``) are never taken from the file either. The other public attributes and the
constructor parameters are what defines the model and are read (a name that would hide a method is
refused): scikit-learn uses them through numpy, which checks every index and shape, or through the C
code whose inputs the loaders check (a tree's nodes, libsvm's arrays, a neighbour search's samples and
metric parameters) or recompute.

Three rules hold for every class, here once: :func:`check_work_bounds` (iteration counts, tolerances and
the number of input features inside sane ranges before any call), :func:`check_parameters` (after import:
the parameters as scikit-learn's own ``_parameter_constraints`` validate them in ``fit``) and
:func:`check_output_width` (a dense output of ``width`` columns for :data:`PREDICTION_ROWS` rows must fit
the job's memory; a classifier's width is its number of labels, a regressor's its outputs, unless its loader
says more).
"""
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np

from gxkeras.galaxy.errors import ModelRefused, first_line
from gxkeras.galaxy.memory import check_allocation

Fail = Callable[[str], NoReturn]
Key = tuple[str, str]
# An invariant of a class's state, checked before anything is imported: ``check(key, state, fail)``.
Check = Callable[[Key, dict[str, Any], Fail], None]
# The attributes scikit-learn's code computes again for a built object, from it and the file's state (what was
# read, recomputed attributes included, for the rebuild to compare with): ``rebuild(found, state, fail) -> {name: value}``.
Rebuild = Callable[[Any, dict[str, Any], Fail], dict[str, Any]]
# Invariants of checked attributes that hold objects (built by their own loaders), checked once they are built:
# ``verify(found, fail)``.
Verify = Callable[[Any, Fail], None]
# How one attribute is read its own way: ``reader_factory(reader, cls)(data)`` (reader: sklearn_io's _Reader).
ReaderFactory = Callable[[Any, Any], Callable[[object], Any]]
# What a class's prediction writes per row at most, in dense columns (None: nothing dense or not known).
Width = Callable[[Any], int | None]

RECONSTRUCTOR = ("copyreg", "_reconstructor")  # pickle's way to make an instance: object.__new__(cls)
# The rows model_prediction predicts at a time (its CHUNK_ROWS is this).
PREDICTION_ROWS = 4096
# scikit-learn's version as pickle keeps it; BaseEstimator.__setstate__ reads it (a warning if it differs).
VERSION = "_sklearn_version"
MAX_VERSION_TEXT = 40
# What ``set_output`` sets on a transformer (KernelPCA sets it on its centerer): the container transform returns.
OUTPUT_CONFIG = "_sklearn_output_config"
# Not "polars": it is not installed with the tools (set on a pipeline's step, predict ended in an ImportError).
OUTPUTS = ("default", "pandas")
# Parameters that bound iterative work (NMF and LatentDirichletAllocation iterate when they transform) and
# their tolerances: a count must be a whole number in [-1, MAX_ITERATIONS] (-1: libsvm's "no limit", which
# it applies only when fitting), a tolerance a finite number >= 0 (a negative one never converges).
ITERATIONS = ("max_iter", "n_iter", "max_doc_update_iter", "transform_max_iter", "max_no_improvement",
              "n_iter_no_change", "max_trials", "iterated_power", "n_oversamples")
TOLERANCES = ("tol", "mean_change_tol", "perp_tol", "eps")
MAX_ITERATIONS = 10 ** 6
MAX_FEATURES = 10 ** 7  # n_features_in_: an input wider than this cannot be read as a table anyway


@dataclass(frozen=True)
class Loader:
    """How one admitted class is read, checked and rebuilt (see the module's docstring)."""
    checked: frozenset[str] = frozenset()
    recomputed: frozenset[str] = frozenset()
    dropped: frozenset[str] = frozenset()
    readers: Mapping[str, ReaderFactory] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()
    rebuild: Rebuild | None = None
    verify: Verify | None = None
    width: Width | None = None
    # imbalanced-learn's samplers: made from their parameters alone (``make(klass, state)``), nothing fitted kept
    make: Callable[[Any, dict[str, Any]], Any] | None = None

    @property
    def declared(self) -> frozenset[str]:
        """The private attributes a file may hold for this class (anything else private is refused)."""
        return self.checked | self.recomputed | self.dropped | {VERSION, OUTPUT_CONFIG}

    @property
    def not_read(self) -> frozenset[str]:
        """Attributes of the file's state that never reach the built object."""
        return self.recomputed | self.dropped


DEFAULT = Loader()  # a class whose fitted state is public attributes only


def loader(*, checked: Any = (), recomputed: Any = (), dropped: Any = (), **rest: Any) -> Loader:
    """A :class:`Loader` from plain collections of names."""
    return Loader(checked=frozenset(checked), recomputed=frozenset(recomputed), dropped=frozenset(dropped), **rest)


def key_of(found: Any) -> Key:
    """The (module, name) of a class or function the description names."""
    return found.module, found.name


def _whole(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _real(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def check_private(key: Key, state: dict[str, Any], entry: Loader, fail: Fail) -> None:
    """Every private attribute of the state is one its loader declares; the version is a short text."""
    name = key[1]
    for attribute in state:
        if attribute.startswith("_") and attribute not in entry.declared:
            fail(f"the {name} has an attribute {attribute[:60]!r} that its loader does not declare (a fitted {name} "
                 "has no such attribute)")
    version = state.get(VERSION)
    if VERSION in state and not (isinstance(version, str) and len(version) <= MAX_VERSION_TEXT):
        fail(f"the {name}'s {VERSION} is not a version text")
    output = state.get(OUTPUT_CONFIG)
    if OUTPUT_CONFIG in state and not (isinstance(output, dict) and set(output) <= {"transform"}
                                       and all(value in OUTPUTS for value in output.values())):
        fail(f"the {name}'s {OUTPUT_CONFIG} is not {{'transform': one of {', '.join(OUTPUTS)}}}")


def check_work_bounds(key: Key, state: dict[str, Any], fail: Fail) -> None:
    """Iteration counts, tolerances and the input width of any class inside sane ranges (before any call)."""
    name = key[1]
    value: Any
    for attribute in ITERATIONS:
        value = state.get(attribute)
        if value is None or isinstance(value, str):  # "auto" and the like: validated by scikit-learn
            continue
        if not (_whole(value) and -1 <= value <= MAX_ITERATIONS):
            fail(f"the {name}'s {attribute} {str(value)[:40]} is not a whole number of iterations from -1 to "
                 f"{MAX_ITERATIONS:,}")
    for attribute in TOLERANCES:
        value = state.get(attribute)
        if value is not None and not (_real(value) and np.isfinite(value) and value >= 0):
            fail(f"the {name}'s {attribute} {str(value)[:40]} is not a finite number >= 0")
    width: Any = state.get("n_features_in_")
    if "n_features_in_" in state and not (_whole(width) and 0 < width <= MAX_FEATURES):
        fail(f"the {name}'s n_features_in_ {str(width)[:40]} is not a number of features from 1 to {MAX_FEATURES:,}")


def check_parameters(found: Any, what: str) -> None:
    """The parameters of a built object as scikit-learn's ``fit`` validates them (``_parameter_constraints``)."""
    constraints = getattr(type(found), "_parameter_constraints", None)
    if not isinstance(constraints, dict):
        return  # not a scikit-learn estimator (galaxy-ml's, skrebate's, XGBoost's): its loader checks it
    from sklearn.utils._param_validation import InvalidParameterError, validate_parameter_constraints

    try:
        validate_parameter_constraints(constraints, found.get_params(deep=False), caller_name=type(found).__name__)
    except InvalidParameterError as error:
        raise ModelRefused(f"{what}: {first_line(error)}; the file is refused") from None


def rebuilt(found: Any, state: dict[str, Any], entry: Loader, what: str) -> None:
    """Set the attributes ``entry.rebuild`` computes with scikit-learn's code (only those it declares), after
    ``entry.verify`` checked the objects it keeps."""
    if not is_fitted(found):
        return  # an unfitted template (an ensemble's estimator): scikit-learn refuses to predict with it
    name = type(found).__name__

    def fail(problem: str) -> NoReturn:
        raise ModelRefused(f"{what}: {problem}; the file is refused")

    try:
        if entry.verify is not None:
            entry.verify(found, fail)
        values = entry.rebuild(found, state, fail) if entry.rebuild is not None else {}
    except (ValueError, TypeError, IndexError, KeyError, AttributeError) as error:  # scikit-learn refusing the values
        fail(f"scikit-learn cannot rebuild the {name} from its fitted attributes ({first_line(error, 200)})")
    undeclared = set(values) - entry.recomputed
    if undeclared:  # a loader's mistake, not the file's: its table must say what it recomputes
        raise AssertionError(f"the {name} loader recomputes {sorted(undeclared)} without declaring them")
    for attribute, value in values.items():
        setattr(found, attribute, value)


def prediction_width(found: Any) -> int | None:
    """What any estimator predicts per row unless its loader says otherwise: a classifier's probabilities (one
    column per label of each output, ``classes_``), else one value per output (``n_outputs_``)."""
    classes = vars(found).get("classes_")
    if isinstance(classes, list):
        return sum(len(labels) for labels in classes if hasattr(labels, "__len__"))
    if hasattr(classes, "__len__"):
        return len(classes)
    outputs = vars(found).get("n_outputs_")
    return int(outputs) if isinstance(outputs, (int, np.integer)) and not isinstance(outputs, bool) else None


def check_output_width(found: Any, entry: Loader, what: str) -> None:
    """A dense output of ``entry.width`` columns (:func:`prediction_width` by default), for
    :data:`PREDICTION_ROWS` rows of float64, fits the memory."""
    width = (entry.width or prediction_width)(found) if is_fitted(found) else None
    if width is not None:
        check_allocation(int(width) * PREDICTION_ROWS * 8, what,
                         f"the {type(found).__name__}'s output of {int(width):,} columns for {PREDICTION_ROWS:,} rows",
                         error=ModelRefused)


def is_fitted(found: Any) -> bool:
    """Whether an object has fitted attributes (scikit-learn's rule: a public name ending in ``_``)."""
    return any(name.endswith("_") and not name.startswith("_") for name in vars(found))
