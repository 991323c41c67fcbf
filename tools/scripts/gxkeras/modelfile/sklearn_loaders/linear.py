"""Linear models whose fitted state holds objects: an SGD classifier's loss, a ridge classifier's label encoding.

Linear models predict with numpy on ``coef_`` and ``intercept_``. Two of them keep an object besides:

* SGD classifiers (and Perceptron, PassiveAggressiveClassifier) keep their compiled loss
  (``_loss_function_``). The file must describe exactly the loss object :data:`LOSSES` names for the
  estimator's ``loss`` (:func:`read_loss`, :func:`check_loss`: a -reduce- of that class with plain numbers);
  the object used is then the one scikit-learn's ``_get_loss_function`` makes (:func:`rebuild_loss`), never
  the file's. Their ``_expanded_class_weight`` only weighs training samples: dropped.
* RidgeClassifier and RidgeClassifierCV take their ``classes_`` from ``_label_binarizer``: it must be the
  ``LabelBinarizer(pos_label=1, neg_label=-1)`` their ``fit`` makes (:func:`verify_label_binarizer`), whose
  labels its own loader checks (gxkeras/modelfile/sklearn_loaders/encoders.py: what a fit on them finds).
"""
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gxkeras.galaxy.values import shown
from gxkeras.modelfile.sklearn_loaders.loader import Fail, Key, Loader, loader

# The compiled loss object (``_loss_function_``) a fitted SGD classifier keeps, for each value of its
# ``loss``: the class scikit-learn 1.9 makes and its argument (none, a constant, or the estimator's
# ``epsilon``), as ``BaseSGDClassifier.loss_functions`` says (test_loss_table_is_sklearns). The file
# must name exactly this; we then rebuild the object with scikit-learn's ``_get_loss_function``.
_SGD_FAST, _LOSS = "sklearn.linear_model._sgd_fast", "sklearn._loss._loss"
LOSSES: dict[str, tuple[tuple[str, str], float | str | None]] = {
    "hinge": ((_SGD_FAST, "Hinge"), 1.0),
    "squared_hinge": ((_SGD_FAST, "SquaredHinge"), 1.0),
    "perceptron": ((_SGD_FAST, "Hinge"), 0.0),
    "log_loss": ((_LOSS, "CyHalfBinomialLoss"), None),
    "modified_huber": ((_SGD_FAST, "ModifiedHuber"), None),
    "squared_error": ((_LOSS, "CyHalfSquaredError"), None),
    "huber": ((_LOSS, "CyHuberLoss"), "epsilon"),
    "epsilon_insensitive": ((_SGD_FAST, "EpsilonInsensitive"), "epsilon"),
    "squared_epsilon_insensitive": ((_SGD_FAST, "SquaredEpsilonInsensitive"), "epsilon"),
}
LOSS_CLASSES = {spec[0] for spec in LOSSES.values()}
# Classifiers that keep a loss object; PassiveAggressiveClassifier fits with "hinge" whatever its loss.
LOSS_OWNERS = {("sklearn.linear_model._stochastic_gradient", "SGDClassifier"): None,
               ("sklearn.linear_model._perceptron", "Perceptron"): None,
               ("sklearn.linear_model._passive_aggressive", "PassiveAggressiveClassifier"): "hinge"}
RIDGE_CLASSIFIERS = {("sklearn.linear_model._ridge", "RidgeClassifier"), ("sklearn.linear_model._ridge", "RidgeClassifierCV")}


@dataclass(frozen=True)
class LossSpec:
    """A loss object the description names: its class and arguments (checked, rebuilt by us)."""
    what: tuple[str, str]
    args: tuple[float, ...]


def read_loss(reader: Any, cls: Any) -> Callable[[object], Any]:
    """An SGD classifier's ``_loss_function_``: a -reduce- of an allowed loss class with plain numbers."""
    def read(data: object) -> LossSpec:
        reduce = data.get("-reduce-") if isinstance(data, dict) and set(data) == {"-reduce-"} else None
        if not (isinstance(reduce, dict) and set(reduce) == {"--func-", "-args-"}):
            return reader.fail(f"the {cls.name}'s _loss_function_ is not a loss object")
        func = reader.named(reduce["--func-"], LOSS_CLASSES, f"the {cls.name}'s _loss_function_")
        args = reduce["-args-"]
        if not (isinstance(args, dict) and set(args) == {"-tuple-"} and isinstance(args["-tuple-"], list)
                and len(args["-tuple-"]) <= 1 and all(isinstance(arg, (int, float)) and not isinstance(arg, bool)
                                                      for arg in args["-tuple-"])):
            return reader.fail(f"the {cls.name}'s _loss_function_ arguments are not at most one number")
        found = LossSpec((func.module, func.name), tuple(float(arg) for arg in args["-tuple-"]))
        reader.memo.append(found)
        return found
    return read


def loss_name(key: Key, state: dict[str, Any]) -> object:
    return LOSS_OWNERS[key] or state.get("loss")


def check_loss(key: Key, state: dict[str, Any], fail: Fail) -> None:
    """The loss object must be the one scikit-learn makes for the estimator's ``loss`` (LOSSES)."""
    if "_loss_function_" not in state:
        return  # unfitted
    spec, name = state["_loss_function_"], loss_name(key, state)
    if not isinstance(name, str) or name not in LOSSES:
        fail(f"the {key[1]}'s loss {shown(name)} is not one of {', '.join(LOSSES)}")
    what, argument = LOSSES[name]
    expected = () if argument is None else (state.get("epsilon"),) if argument == "epsilon" else (argument,)
    if not isinstance(spec, LossSpec) or spec.what != what or spec.args != expected:
        fail(f"the {key[1]}'s _loss_function_ is not the {what[1]}{expected} that its loss {name!r} uses")


def rebuild_loss(found: Any, state: dict[str, Any], fail: Fail) -> dict[str, Any]:
    """scikit-learn's own loss object for the estimator's loss."""
    key = (type(found).__module__, type(found).__name__)
    return {"_loss_function_": found._get_loss_function(loss_name(key, vars(found)))}


def verify_label_binarizer(found: Any, fail: Fail) -> None:
    """A ridge classifier's label encoding is the LabelBinarizer its ``fit`` makes (its labels checked by the
    LabelBinarizer's own loader: what fit on them finds)."""
    from sklearn.preprocessing import LabelBinarizer

    kept: Any = getattr(found, "_label_binarizer", None)
    if not (type(kept) is LabelBinarizer and hasattr(kept, "classes_") and (kept.pos_label, kept.neg_label) == (1, -1)
            and kept.sparse_output is False):
        fail(f"the {type(found).__name__}'s _label_binarizer is not a fitted LabelBinarizer(pos_label=1, neg_label=-1)")


LOADERS: dict[Key, Loader] = {
    **{key: loader(readers={"_loss_function_": read_loss}, checks=(check_loss,), recomputed={"_loss_function_"},
                   dropped={"_expanded_class_weight"}, rebuild=rebuild_loss) for key in LOSS_OWNERS},
    **{key: loader(checked={"_label_binarizer"}, verify=verify_label_binarizer) for key in RIDGE_CLASSIFIERS},
}
