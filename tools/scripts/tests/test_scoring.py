"""gxkeras.train.scoring: every scorer name of the Galaxy-ML form, computed as scikit-learn's scorer computes it."""
import numpy as np
import pytest
from sklearn import metrics
from sklearn.linear_model import LinearRegression, LogisticRegression

from gxkeras.galaxy import forms
from gxkeras.galaxy.errors import ToolInputError
from gxkeras.train.scoring import CLASSIFICATION_NAMES, REGRESSION, UNSUPPORTED, Prediction, check_names, compute

# scikit-learn's scorer for our names where they differ (the old form's misspellings)
SKLEARN_NAME = {"precision_wighted": "precision_weighted", "recall_wighted": "recall_weighted",
                "max_error": "neg_max_error"}  # scikit-learn 1.9 renamed the (negated) max_error scorer


def test_the_form_offers_exactly_the_scorers_computed_here():
    offered = set(forms.options("keras_train_and_eval", "primary_scoring")) - {"default"}
    assert offered == set(CLASSIFICATION_NAMES) | set(REGRESSION) | set(UNSUPPORTED)
    assert set(forms.options("keras_train_and_eval", "secondary_scoring")) == offered


def classifier_prediction(n_classes):
    rng = np.random.default_rng(n_classes)
    X = rng.normal(size=(120, 4))
    y = np.argmax(X[:, :n_classes] + rng.normal(scale=0.8, size=(120, n_classes)), axis=1)
    if n_classes > 2:
        y = y * 10  # labels 0, 10, 20: scores must follow the classes, not their indices
    model = LogisticRegression().fit(X[:80], y[:80])
    X_test, y_test = X[80:], y[80:]
    proba = model.predict_proba(X_test)
    return model, X_test, y_test, Prediction(y=y_test, labels=model.classes_[proba.argmax(axis=1)], proba=proba,
                                             classes=model.classes_)


@pytest.mark.parametrize("name", [name for name in CLASSIFICATION_NAMES if not name.endswith("_samples")])
def test_binary_classification_scores_equal_scikit_learns(name):
    model, X, y, prediction = classifier_prediction(2)
    expected = metrics.get_scorer(SKLEARN_NAME.get(name, name))(model, X, y)
    assert compute(name, prediction) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("name", [name for name in CLASSIFICATION_NAMES
                                  if name.endswith(("_micro", "_macro", "_weighted", "_wighted"))
                                  or name in ("accuracy", "balanced_accuracy", "neg_log_loss")])
def test_multiclass_scores_equal_scikit_learns(name):
    model, X, y, prediction = classifier_prediction(3)
    expected = metrics.get_scorer(SKLEARN_NAME.get(name, name))(model, X, y)
    assert compute(name, prediction) == pytest.approx(expected, abs=1e-9)


def test_multiclass_extensions():
    """Where scikit-learn's scorer refuses several classes: macro averages, one-vs-rest AUC, samples averages."""
    model, X, y, prediction = classifier_prediction(3)
    pred = model.predict(X)
    assert compute("f1", prediction) == pytest.approx(metrics.f1_score(y, pred, average="macro"))
    assert compute("roc_auc", prediction) == pytest.approx(
        metrics.roc_auc_score(y, model.predict_proba(X), multi_class="ovr"))
    assert compute("average_precision", prediction) == pytest.approx(
        metrics.average_precision_score(np.eye(3)[np.searchsorted(model.classes_, y)], model.predict_proba(X)))
    # one label per sample: the samples-averaged F1/precision/recall of one-hot rows is the accuracy
    for name in ("f1_samples", "precision_samples", "recall_samples"):
        assert compute(name, prediction) == pytest.approx(metrics.accuracy_score(y, pred))


@pytest.mark.parametrize("name", list(REGRESSION))
def test_regression_scores_equal_scikit_learns(name):
    rng = np.random.default_rng(5)
    X = rng.uniform(size=(80, 3))
    y = X @ np.array([2.0, 1.0, 0.5]) + rng.normal(scale=0.2, size=80) + 1
    model = LinearRegression().fit(X[:50], y[:50])
    prediction = Prediction(y=y[50:], values=model.predict(X[50:]))
    if name == "spearman_correlation":
        from galaxy_ml.metrics import spearman_correlation_scorer as scorer
    else:
        scorer = metrics.get_scorer(SKLEARN_NAME.get(name, name))
    assert compute(name, prediction) == pytest.approx(scorer(model, X[50:], y[50:]), abs=1e-9)
    if name.startswith("neg_") or name == "max_error":
        assert compute(name, prediction) < 0  # errors are negated: greater is better


def test_undefined_scores_are_nan():
    assert np.isnan(compute("roc_auc", Prediction(y=np.array([1, 1]), labels=np.array([1, 0]),
                                                  proba=np.array([[0.2, 0.8], [0.6, 0.4]]), classes=np.array([0, 1]))))
    assert np.isnan(compute("neg_mean_squared_log_error", Prediction(y=np.array([-2.0, 1.0]),
                                                                     values=np.array([0.5, 1.0]))))


@pytest.mark.parametrize("names, classifier, message", [
    (["r2"], True, "r2 does not apply to a classification model"),
    (["f1"], False, "f1 does not apply to a regression model"),
    (["binarize_average_precision_scorer"], True, "choose average_precision instead"),
])
def test_names_are_checked_for_the_model(names, classifier, message):
    with pytest.raises(ToolInputError, match=f"^Metrics: .*{message}"):
        check_names(names, classifier, "Metrics")
