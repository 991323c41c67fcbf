"""The scorers of "Deep learning training and evaluation", by the names the Galaxy-ML tools saved.

Every name is a scikit-learn *scorer* (``sklearn.metrics.get_scorer_names()``) or one Galaxy-ML added
(``spearman_correlation``), with the scorer's meaning: greater is better, so the error metrics are
reported negated (``neg_mean_squared_error`` is minus the MSE, ``max_error`` minus the largest
error). The old form's misspellings ``precision_wighted`` and ``recall_wighted`` are the weighted
averages they were meant to be. All are computed with scikit-learn's metric functions from one
prediction of each evaluated set (:class:`Prediction`), so the network predicts each set once, not
once per metric.

Where scikit-learn's scorer would refuse a model the tool trains, the score is given its natural
extension instead of an error: ``f1``/``precision``/``recall`` (binary) are macro averages for more
than two classes, ``roc_auc`` is one-vs-rest, ``average_precision`` is macro over the classes, and
the ``*_samples`` averages score the one-hot indicator rows (for one label per sample as here, the
samples average of a one-hot row). ``binarize_auc_scorer`` and ``binarize_average_precision_scorer``
need Galaxy-ML's binarized-target estimators (a ``discretize_value`` threshold a Keras model does not
have): they are refused before training with one line, as the old tool failed on them.

Several target features at once (a ``GenomicIntervalBatchGenerator`` model, one sigmoid unit per
feature): ``y`` and ``labels`` are 0/1 indicator rows, ``proba`` one probability per feature, and the
scores are scikit-learn's multi-label ones: ``accuracy`` is the subset accuracy (every feature right),
f1/precision/recall without a suffix are macro averages, ``roc_auc`` and ``average_precision`` macro
averages over the features with both values in the set, ``balanced_accuracy`` the mean over those
features, ``neg_log_loss`` the mean binary log loss of every feature of every sample.
"""
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from gxkeras.galaxy.errors import ToolInputError
from gxkeras.report.metrics import one_hot

# The averages of f1, precision and recall, by the suffix of their scorer names. The old form spelled
# the weighted precision and recall "_wighted" (and f1 "_weighted"): those are the names saved states hold.
_AVERAGES = {"": None, "_micro": "micro", "_macro": "macro", "_weighted": "weighted", "_samples": "samples"}
_SUFFIXES = {"f1": _AVERAGES, **{name: {("_wighted" if suffix == "_weighted" else suffix): average
                                        for suffix, average in _AVERAGES.items()}
                                 for name in ("precision", "recall")}}
UNSUPPORTED = {
    "binarize_auc_scorer": "roc_auc",
    "binarize_average_precision_scorer": "average_precision",
}


@dataclass
class Prediction:
    """One evaluated set: true values and the model's predictions of it.

    Classification: ``y`` and ``labels`` are class labels, ``proba`` has one column per class of
    ``classes``. Regression: ``y`` and ``values`` are numbers.
    """
    y: np.ndarray
    labels: np.ndarray = None
    proba: np.ndarray = None
    classes: np.ndarray = None
    values: np.ndarray = None

    def indicators(self) -> tuple[np.ndarray, np.ndarray]:
        """True and predicted labels as one-hot rows over ``classes`` (for the samples averages), one byte a
        value: smaller together than the probabilities (float32) the model gave already."""
        size = len(self.classes)
        return (one_hot(np.searchsorted(self.classes, self.y), size, "uint8"),
                one_hot(np.searchsorted(self.classes, self.labels), size, "uint8"))


Scorer = Callable[[Prediction], float]


def _averaged(function: str, average: str | None) -> Scorer:
    from sklearn import metrics

    score = getattr(metrics, f"{function}_score")

    def compute(p: Prediction) -> float:
        if average == "samples":
            true, predicted = p.indicators()
            return score(true, predicted, average="samples", zero_division=0)
        if average is None:
            if len(p.classes) == 2:
                return score(p.y, p.labels, pos_label=p.classes[1], zero_division=0)
            return score(p.y, p.labels, average="macro", zero_division=0)
        return score(p.y, p.labels, average=average, labels=p.classes, zero_division=0)
    return compute


def _roc_auc(p: Prediction) -> float:
    from sklearn import metrics

    if len(np.unique(p.y)) < 2:
        return float("nan")
    if len(p.classes) == 2:
        return metrics.roc_auc_score(p.y == p.classes[1], p.proba[:, 1])
    return metrics.roc_auc_score(p.y, p.proba, multi_class="ovr", labels=p.classes)


def _average_precision(p: Prediction) -> float:
    from sklearn import metrics

    if len(np.unique(p.y)) < 2:
        return float("nan")
    if len(p.classes) == 2:
        return metrics.average_precision_score(p.y == p.classes[1], p.proba[:, 1])
    true, _ = p.indicators()
    present = true.any(axis=0)  # a class absent from this set has no precision-recall curve
    return metrics.average_precision_score(true[:, present], p.proba[:, present], average="macro")


def _neg_log_loss(p: Prediction) -> float:
    from sklearn import metrics

    return -metrics.log_loss(p.y, np.clip(p.proba, 1e-15, 1), labels=p.classes)


def _regression(function: str, sign: int = 1) -> Scorer:
    def compute(p: Prediction) -> float:
        from sklearn import metrics

        return sign * getattr(metrics, function)(p.y, p.values)
    return compute


def _neg_mean_squared_log_error(p: Prediction) -> float:
    from sklearn import metrics

    if (p.y <= -1).any() or (p.values <= -1).any():
        return float("nan")  # log(1 + value) is undefined; scikit-learn would stop the job after training
    return -metrics.mean_squared_log_error(p.y, p.values)


def _spearman(p: Prediction) -> float:
    from scipy.stats import spearmanr

    return spearmanr(p.y, p.values)[0]


def _classification_scorers() -> dict[str, Scorer]:
    from sklearn import metrics

    scorers: dict[str, Scorer] = {
        "accuracy": lambda p: metrics.accuracy_score(p.y, p.labels),
        "balanced_accuracy": lambda p: metrics.balanced_accuracy_score(p.y, p.labels),
        "average_precision": _average_precision,
        "neg_log_loss": _neg_log_loss,
        "roc_auc": _roc_auc,
    }
    for function, suffixes in _SUFFIXES.items():
        for suffix, average in suffixes.items():
            scorers[function + suffix] = _averaged(function, average)
    return scorers


REGRESSION: dict[str, Scorer] = {
    "r2": _regression("r2_score"),
    "explained_variance": _regression("explained_variance_score"),
    "neg_mean_absolute_error": _regression("mean_absolute_error", -1),
    "neg_mean_squared_error": _regression("mean_squared_error", -1),
    "neg_root_mean_squared_error": _regression("root_mean_squared_error", -1),
    "neg_mean_squared_log_error": _neg_mean_squared_log_error,
    "neg_median_absolute_error": _regression("median_absolute_error", -1),
    "max_error": _regression("max_error", -1),
    "spearman_correlation": _spearman,
}
CLASSIFICATION_NAMES = ("accuracy", "balanced_accuracy", "average_precision", "neg_log_loss", "roc_auc",
                        *(function + suffix for function, suffixes in _SUFFIXES.items() for suffix in suffixes))


def scorer_names(classifier: bool) -> tuple[str, ...]:
    """The names this module computes for a classifier or a regressor."""
    return CLASSIFICATION_NAMES if classifier else tuple(REGRESSION)


def check_names(names: Sequence[str], classifier: bool, where: str) -> list[str]:
    """Every name must be a scorer of this kind of model; one line naming the first that is not."""
    allowed = scorer_names(classifier)
    kind = "a classification" if classifier else "a regression"
    for name in names:
        if name in UNSUPPORTED:
            raise ToolInputError(f"{where}: {name} scores Galaxy-ML's binarized-target estimators (a discretize "
                                 f"threshold a Keras model does not have); choose {UNSUPPORTED[name]} instead")
        if name not in allowed:
            raise ToolInputError(f"{where}: {name} does not apply to {kind} model; choose one of {', '.join(allowed)}")
    return list(names)


def _multilabel(name: str, p: Prediction) -> float:
    """The score ``name`` of 0/1 indicator rows (several target features per sample)."""
    from sklearn import metrics

    true, labels, proba = p.y, p.labels, p.proba
    varied = true.min(axis=0) != true.max(axis=0)  # features with both values in this set
    if name == "accuracy":
        return metrics.accuracy_score(true, labels)
    if name == "neg_log_loss":
        return -metrics.log_loss(true.ravel(), np.clip(proba.ravel(), 1e-15, 1 - 1e-15), labels=[0, 1])
    if not varied.any() and name in ("roc_auc", "average_precision", "balanced_accuracy"):
        return float("nan")
    if name == "roc_auc":
        return metrics.roc_auc_score(true[:, varied], proba[:, varied], average="macro")
    if name == "average_precision":
        return metrics.average_precision_score(true[:, varied], proba[:, varied], average="macro")
    if name == "balanced_accuracy":
        return float(np.mean([metrics.balanced_accuracy_score(true[:, j], labels[:, j])
                              for j in np.flatnonzero(varied)]))
    for function, suffixes in _SUFFIXES.items():
        for suffix, average in suffixes.items():
            if name == function + suffix:
                score = getattr(metrics, f"{function}_score")
                return score(true, labels, average=average or "macro", zero_division=0)
    raise KeyError(name)


def compute(name: str, prediction: Prediction) -> float:
    """The score ``name`` of one evaluated set, as a float (NaN where it is undefined)."""
    if name not in REGRESSION and prediction.y is not None and np.ndim(prediction.y) == 2:
        return float(_multilabel(name, prediction))
    function = REGRESSION.get(name) or _classification_scorers()[name]
    return float(function(prediction))
