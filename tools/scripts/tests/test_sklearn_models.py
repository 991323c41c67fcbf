"""scikit-learn models saved by galaxy-ml 0.11: loaded under the allow-list, predicted, plotted (issue 16).

Every class of :data:`gxkeras.modelfile.sklearn_loaders.classes.CLASSES` is fitted, saved with galaxy-ml's own
``dump_model_to_h5`` and loaded by ours, which must give the same predictions as the fitted object.
Hostile files (fixtures/hostile_models.py) must be refused with one error line before anything in
them is imported or built: canaries are a file the payload would write and a module that writes it
when imported, and scikit-learn itself must not have been imported when the refusal comes.
"""
import functools
import json
import re
import warnings

import h5py
import numpy as np
import pytest

import ml_visualization_ex as viz
import model_prediction as mp
from gxkeras.modelfile.sklearn_loaders.classes import CLASSES
from gxkeras.modelfile.sklearn_loaders.ensembles import SAMPLERS
from gxkeras.modelfile.sklearn_loaders import linear as sklearn_linear
from gxkeras.modelfile.sklearn_loaders import steps as sklearn_steps
from gxkeras.modelfile.sklearn_loaders import structures
from gxkeras.galaxy.errors import ModelRefused, ToolInputError
from gxkeras.modelfile.h5mlm import check_h5mlm, is_sklearn_file, load_estimator, load_sklearn
from fresh_python import WORK_IN_TOOL_PROCESS, run_tools
from repo_paths import TEST_DATA

from fixtures import hostile_models as hostile

MODEL = "Choose the dataset containing pipeline/estimator object"
ENSEMBLE_OPTIONS = {"AdaBoostClassifier": {"n_estimators": 3}, "AdaBoostRegressor": {"n_estimators": 3},
                    "BaggingClassifier": {"n_estimators": 3, "max_features": 0.75, "random_state": 0},
                    "BaggingRegressor": {"n_estimators": 3, "max_features": 0.5, "random_state": 0},
                    "VotingClassifier": {"voting": "soft"}, "StackingClassifier": {"cv": 3},
                    "StackingRegressor": {"cv": 3}, "ClusterCentroids": {"random_state": 0},
                    "InstanceHardnessThreshold": {"cv": 3, "random_state": 0}}
X_PATH = TEST_DATA / "sklearn_X.tsv"


def dump(model, path):
    from galaxy_ml.model_persist import dump_model_to_h5

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dump_model_to_h5(model, str(path))
    return str(path)


def make(module, name):
    """A small instance of an allow-listed class (by its public module)."""
    import importlib

    public = module.split("._")[0] if "._" in module else module
    cls = getattr(importlib.import_module(public), name)
    options = {"RandomForestClassifier": {"n_estimators": 2}, "RandomForestRegressor": {"n_estimators": 2},
               "ExtraTreesClassifier": {"n_estimators": 2}, "ExtraTreesRegressor": {"n_estimators": 2},
               "KNeighborsClassifier": {"n_neighbors": 3, "algorithm": "brute"},
               "KNeighborsRegressor": {"n_neighbors": 3, "algorithm": "brute"},
               "LocalOutlierFactor": {"n_neighbors": 5, "algorithm": "brute", "novelty": True},
               "SVC": {"probability": True}, "NuSVC": {"probability": True},  # probA_/probB_ are read too
               "LassoLars": {"alpha": 0.01}, "MultiTaskLasso": {"alpha": 0.01}, "MultiTaskElasticNet": {"alpha": 0.01},
               "RANSACRegressor": {"random_state": 0}, "TheilSenRegressor": {"random_state": 0},
               "LarsCV": {"cv": 3}, "LassoLarsCV": {"cv": 3}, "OrthogonalMatchingPursuitCV": {"cv": 3},
               "MultiTaskLassoCV": {"cv": 3}, "MultiTaskElasticNetCV": {"cv": 3},
               "IsolationForest": {"n_estimators": 3, "max_features": 0.75, "random_state": 0},  # column subsets
               "RandomTreesEmbedding": {"n_estimators": 2, "max_depth": 3, "random_state": 0},
               "PCA": {"n_components": 2, "whiten": True}, "TruncatedSVD": {"n_components": 2},
               "QuantileTransformer": {"n_quantiles": 10}, "KBinsDiscretizer": {"n_bins": 3},
               "SelectKBest": {"k": 2}, "SelectPercentile": {"percentile": 50},
               "Binarizer": {"threshold": 0.5}, **dict.fromkeys(("SelectFpr", "SelectFdr", "SelectFwe"), {"alpha": 0.5}),
               **dict.fromkeys(("FactorAnalysis", "IncrementalPCA", "NMF", "SparsePCA", "DictionaryLearning"),
                               {"n_components": 2}),
               **dict.fromkeys(("FastICA", "MiniBatchSparsePCA", "MiniBatchDictionaryLearning", "LatentDirichletAllocation"),
                               {"n_components": 2, "random_state": 0}),
               "KernelPCA": {"n_components": 2, "kernel": "rbf", "fit_inverse_transform": True},
               **dict.fromkeys(("Nystroem", "RBFSampler", "SkewedChi2Sampler"), {"n_components": 5, "random_state": 0}),
               "XGBClassifier": {"n_estimators": 3, "max_depth": 3}, "XGBRegressor": {"n_estimators": 3, "max_depth": 3},
               **dict.fromkeys(("ReliefF", "SURF", "SURFstar", "MultiSURF", "MultiSURFstar"), {"n_features_to_select": 2}),
               **ENSEMBLE_OPTIONS}
    if name == "Pipeline":
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        first = ("sample", make(*sorted(SAMPLERS)[-1])) if module == "imblearn.pipeline" else ("scale", StandardScaler())
        return cls([first, ("model", LogisticRegression())])
    if name in ("IRAPSClassifier", "IRAPSCore"):
        from galaxy_ml.binarize_target import IRAPSCore

        core = IRAPSCore(n_iter=100, random_state=0)
        return cls(core, p_thres=0.9, fc_thres=0.01, occurrence=0.1) if name == "IRAPSClassifier" else core
    if name in ("BinarizeTargetClassifier", "BinarizeTargetRegressor"):  # around an allowed estimator
        from sklearn.linear_model import LinearRegression, LogisticRegression

        return cls(LogisticRegression() if "Classifier" in name else LinearRegression(), z_score=-0.5)
    if name in ("SelectFromModel", "RFE", "RFECV", "TransformedTargetRegressor"):  # around an allowed estimator
        from sklearn.linear_model import Lasso, LinearRegression
        from sklearn.preprocessing import StandardScaler

        return {"SelectFromModel": lambda: cls(Lasso(alpha=0.01)),
                "RFE": lambda: cls(LinearRegression(), n_features_to_select=2),
                "RFECV": lambda: cls(LinearRegression(), cv=3),
                "TransformedTargetRegressor": lambda: cls(LinearRegression(), transformer=StandardScaler())}[name]()
    if name in ("VotingClassifier", "StackingClassifier", "VotingRegressor", "StackingRegressor"):
        from sklearn.linear_model import LinearRegression, LogisticRegression
        from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

        linear, tree = (LogisticRegression(), DecisionTreeClassifier(max_depth=2)) if "Classifier" in name else (
            LinearRegression(), DecisionTreeRegressor(max_depth=2))
        return cls([("linear", linear), ("tree", tree)], **options.get(name, {}))  # Stacking: default final
    return cls(**options.get(name, {}))


def outputs(model, X):
    """What the model gives: predictions (and probabilities) or the transformed data."""
    if hasattr(model, "predict"):
        found = [np.asarray(model.predict(X))]
        if hasattr(model, "predict_proba"):
            found.append(model.predict_proba(X))
        return found
    transformed = model.transform(X)
    return [transformed.toarray() if hasattr(transformed, "toarray") else np.asarray(transformed)]


def assert_same_outputs(ours: np.ndarray, theirs: np.ndarray) -> None:
    """Labels and integers exactly; floats to 1e-12: the same fitted arrays give results that differ in
    the last bit from run to run (BLAS picks its summation order by the arrays' memory alignment and the
    threads it gets: KernelPCA's transform differed by 1e-16 under load, 2026-12-03)."""
    if np.asarray(ours).dtype.kind in "fc":
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    else:
        np.testing.assert_array_equal(ours, theirs)


@functools.cache
def fitted_admitted(module, name):
    """``(model, X)``: a small instance of an allow-listed class fitted on data it takes (cached: not to be changed)."""
    rng = np.random.RandomState(0)
    X = rng.rand(30, 4)
    y = np.where(X[:, 0] + 0.3 * X[:, 1] > 0.6, "yes", "no") if "Classif" in name or name in (
        "LogisticRegression", "LogisticRegressionCV", "Perceptron", "LinearSVC", "GaussianNB", "MultinomialNB", "BernoulliNB", "NearestCentroid",
        "Pipeline", "SVC", "NuSVC", "SelectKBest", "SelectPercentile", "GenericUnivariateSelect",
        "SelectFpr", "SelectFdr", "SelectFwe",
        *(sampler for _, sampler in SAMPLERS)) else X[:, 0] * 3 + X[:, 1]
    if name.startswith(("BinarizeTarget", "IRAPS")):  # a numeric target in [0, 1], binarized at its mean - 0.5 std
        X, y = rng.rand(60, 6), X[:, 0].repeat(2)  # IRAPS: enough samples for its feature lists
    if name.startswith("MultiTask"):  # two targets
        y = np.c_[y, X[:, 2]]
    if name == "OneHotEncoder":
        X = (X > 0.5).astype(int)
    if name == "KernelCenterer":  # fitted on a kernel matrix
        X = X @ X.T
    if name == "XGBClassifier":  # XGBoost takes class indices, not labels
        y = (y == "yes").astype(int)
    if name in ("LabelBinarizer", "LabelEncoder"):  # fitted on labels, not samples
        X = y = np.where(X[:, 0] > 0.5, "yes", "no")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecations (SVC's probability), convergence
        model = make(module, name).fit(X) if name.startswith("Label") else make(module, name).fit(X, y)
    return model, X


@pytest.mark.parametrize("module, name", sorted(CLASSES))
def test_every_allowed_class_loads_as_fitted(tmp_path, module, name):
    model, X = fitted_admitted(module, name)
    assert (type(model).__module__, name) == (module, name)  # the allow-list spells the paths galaxy-ml writes
    path = dump(model, tmp_path / "model.h5mlm")
    check_h5mlm(path, MODEL)
    assert is_sklearn_file(path, MODEL)
    loaded = load_sklearn(path, MODEL)
    assert type(loaded) is type(model)
    if (module, name) in SAMPLERS:  # skipped at prediction: rebuilt from its parameters, nothing fitted kept
        assert repr(loaded.get_params()) == repr(model.get_params()) and not hasattr(loaded, "sampling_strategy_")
        return
    if name == "LabelEncoder":
        np.testing.assert_array_equal(loaded.transform(X), model.transform(X))
        return
    if name == "IRAPSCore":  # predicts nothing itself: IRAPSClassifier reads its arrays
        for array in ("pvalues_", "fold_changes_", "base_values_"):
            np.testing.assert_array_equal(getattr(loaded, array), getattr(model, array))
        return
    for ours, theirs in zip(outputs(loaded, X), outputs(model, X), strict=True):
        assert_same_outputs(ours, theirs)


def pipeline_cases():
    """Pipelines with the newly admitted classes: every score_func, every SGD loss, every kernel; the old
    pipeline builder's steps before the newly admitted linear, neighbour and outlier estimators."""
    from sklearn import feature_selection as fs
    from sklearn import linear_model as lm
    from sklearn import preprocessing, svm
    from sklearn.pipeline import make_pipeline

    cases = {}
    for kernel in ("linear", "poly", "rbf", "sigmoid"):
        cases[f"svc_{kernel}"] = (make_pipeline(preprocessing.StandardScaler(), svm.SVC(kernel=kernel, probability=True)),
                                  "classes3")
    cases["nusvr"] = (make_pipeline(preprocessing.MinMaxScaler(), svm.NuSVR()), "target")
    cases["one_class"] = (make_pipeline(preprocessing.StandardScaler(), svm.OneClassSVM(nu=0.2)), "target")
    for name in ("f_classif", "chi2", "mutual_info_classif"):
        cases[f"select_{name}"] = (make_pipeline(fs.SelectKBest(getattr(fs, name), k=2), svm.SVC()), "classes3")
    for name in ("f_regression", "mutual_info_regression"):
        cases[f"select_{name}"] = (make_pipeline(fs.SelectPercentile(getattr(fs, name), percentile=50), lm.SGDRegressor()),
                                   "target")
    cases["generic_select"] = (make_pipeline(fs.GenericUnivariateSelect(fs.f_classif, mode="k_best", param=3),
                                             lm.Perceptron()), "classes3")
    for loss in sklearn_linear.LOSSES:
        if loss != "perceptron":
            cases[f"sgd_{loss}"] = (make_pipeline(preprocessing.StandardScaler(),
                                                  lm.SGDClassifier(loss=loss, epsilon=0.3, random_state=0)), "classes3")
    for loss in ("squared_error", "huber", "epsilon_insensitive", "squared_epsilon_insensitive"):
        cases[f"sgd_regressor_{loss}"] = (lm.SGDRegressor(loss=loss, epsilon=0.2), "target")
    from sklearn import decomposition, ensemble, neighbors

    cases["pca_ransac"] = (make_pipeline(decomposition.PCA(3), lm.RANSACRegressor(random_state=0)), "target")
    cases["poly_select_from_model"] = (make_pipeline(preprocessing.PolynomialFeatures(2),
                                                     fs.SelectFromModel(lm.Lasso(alpha=0.01)), lm.BayesianRidge()), "target")
    cases["quantile_rfe"] = (make_pipeline(preprocessing.QuantileTransformer(n_quantiles=10),
                                           fs.RFE(lm.LogisticRegression(), n_features_to_select=3)), "classes3")
    cases["kbins_centroid"] = (make_pipeline(preprocessing.KBinsDiscretizer(n_bins=4, encode="ordinal"),
                                             neighbors.NearestCentroid()), "classes3")
    cases["power_lof"] = (make_pipeline(preprocessing.PowerTransformer(),
                                        neighbors.LocalOutlierFactor(n_neighbors=5, algorithm="brute", novelty=True)),
                          "target")
    cases["svd_iforest"] = (make_pipeline(decomposition.TruncatedSVD(3), ensemble.IsolationForest(
        n_estimators=4, max_features=2, random_state=0)), "target")
    cases.update(later_step_cases())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated in scikit-learn 1.8, still saved by galaxy-ml 0.11
        cases["passive_aggressive"] = (lm.PassiveAggressiveClassifier(loss="squared_hinge"), "classes2")
        cases["passive_aggressive_regressor"] = (lm.PassiveAggressiveRegressor(), "target")
    return cases


def later_step_cases():
    """The steps admitted second, each before an accepted estimator (every named kernel of KernelPCA/Nystroem)."""
    from sklearn import compose, decomposition, kernel_approximation as ka, preprocessing
    from sklearn import feature_selection as fs
    from sklearn import linear_model as lm
    from sklearn import svm
    from sklearn.pipeline import make_pipeline

    cases = {f"kpca_{kernel}": (make_pipeline(preprocessing.MinMaxScaler(), decomposition.KernelPCA(
        3, kernel=kernel, fit_inverse_transform=True), svm.SVC()), "classes3")
        for kernel in ("linear", "poly", "rbf", "sigmoid", "cosine")}
    cases.update({f"nystroem_{kernel}": (make_pipeline(preprocessing.MinMaxScaler(), ka.Nystroem(
        kernel, n_components=6, random_state=0), lm.LogisticRegression()), "classes3")
        for kernel in ("additive_chi2", "chi2", "laplacian", "polynomial")})
    cases["binarizer_fpr"] = (make_pipeline(preprocessing.Binarizer(threshold=0.5), fs.SelectFdr(fs.chi2, alpha=0.9),
                                            lm.LogisticRegression()), "classes3")
    cases["fwe_rfecv"] = (make_pipeline(fs.SelectFwe(fs.f_regression, alpha=0.9), fs.RFECV(lm.Ridge(), cv=3)), "target")
    cases["ica_nmf_ridge"] = (make_pipeline(decomposition.NMF(4, max_iter=500), decomposition.FastICA(3, random_state=0),
                                            lm.Ridge()), "target")
    cases["dictionary_sgd"] = (make_pipeline(decomposition.DictionaryLearning(3, transform_algorithm="lasso_cd",
                                                                              random_state=0),
                                             lm.SGDClassifier(random_state=0)), "classes3")
    cases["sparse_factor_knn"] = (make_pipeline(decomposition.MiniBatchSparsePCA(4, random_state=0),
                                                decomposition.FactorAnalysis(3), decomposition.IncrementalPCA(2),
                                                lm.BayesianRidge()), "target")
    cases["chi2_samplers"] = (make_pipeline(ka.AdditiveChi2Sampler(), ka.SkewedChi2Sampler(n_components=8, random_state=0),
                                            ka.RBFSampler(n_components=6, random_state=0), svm.LinearSVC()), "classes3")
    cases["target_quantile"] = (compose.TransformedTargetRegressor(
        make_pipeline(decomposition.SparsePCA(3, random_state=0), lm.Ridge()),
        transformer=preprocessing.QuantileTransformer(n_quantiles=10)), "target")
    cases["lda_dictionary"] = (make_pipeline(decomposition.LatentDirichletAllocation(3, random_state=0),
                                             decomposition.MiniBatchDictionaryLearning(2, random_state=0), lm.Ridge()),
                               "target")
    cases["target_identity"] = (compose.TransformedTargetRegressor(svm.SVR()), "target")
    return cases


@pytest.mark.parametrize("case", sorted(pipeline_cases()))
def test_newly_admitted_classes_round_trip_in_pipelines(tmp_path, case):
    """Fitted, saved by galaxy-ml, loaded by ours: the same predictions (and probabilities, decisions)."""
    model, target = pipeline_cases()[case]
    rng = np.random.RandomState(1)
    X = rng.rand(40, 5)
    y = {"classes3": (X[:, 0] * 3).astype(int), "classes2": (X[:, 0] > 0.5).astype(int),
         "target": X[:, 0] * 3 + X[:, 1]}[target]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SVC's probability and PassiveAggressive* are deprecated in 1.9
        model.fit(X, y)
    loaded = load_sklearn(dump(model, tmp_path / "model.h5mlm"), MODEL)
    final = loaded[-1] if hasattr(loaded, "steps") else loaded
    assert type(final) is type(model[-1] if hasattr(model, "steps") else model)
    for method in ("predict", "predict_proba", "decision_function"):
        if hasattr(model, method):
            assert_same_outputs(getattr(loaded, method)(X), getattr(model, method)(X))
    if hasattr(final, "_loss_function_"):  # rebuilt by scikit-learn, not read from the file
        original = (model[-1] if hasattr(model, "steps") else model)._loss_function_
        assert type(final._loss_function_) is type(original)
        assert final._loss_function_.__reduce__()[1] == original.__reduce__()[1]
    selector = loaded[0] if hasattr(loaded, "steps") else None
    if hasattr(selector, "score_func"):
        from sklearn import feature_selection

        assert selector.score_func is getattr(feature_selection, selector.score_func.__name__)


def test_loss_table_is_sklearns():
    """LOSSES (checked before anything is imported) says what scikit-learn itself builds for each loss."""
    from sklearn.linear_model import PassiveAggressiveClassifier, SGDClassifier
    from sklearn.linear_model._stochastic_gradient import BaseSGDClassifier

    assert set(sklearn_linear.LOSSES) == set(BaseSGDClassifier.loss_functions)
    for name, (what, argument) in sklearn_linear.LOSSES.items():
        built = SGDClassifier(epsilon=0.25)._get_loss_function(name)
        assert (type(built).__module__, type(built).__name__) == what
        expected = () if argument is None else (0.25,) if argument == "epsilon" else (argument,)
        assert built.__reduce__()[1] == expected
    assert PassiveAggressiveClassifier.loss_functions is BaseSGDClassifier.loss_functions


def test_score_functions_are_sklearns():
    """Each allowed score_func path is where scikit-learn keeps the public function of that name."""
    import importlib

    from sklearn import feature_selection

    for (module, name), public in sklearn_steps.SCORE_FUNCS.items():
        assert name == public and getattr(importlib.import_module(module), name) is getattr(feature_selection, public)


def test_node_dtype_is_sklearns():
    from sklearn.tree._tree import NODE_DTYPE

    assert structures.NODE_DTYPE == NODE_DTYPE


def test_test_data_models_match_galaxy_mls_own_loader():
    """Ours and galaxy-ml's loader (trusted here: our own test files) give the same model."""
    from galaxy_ml.model_persist import load_model_from_h5

    X = np.loadtxt(X_PATH, skiprows=1)
    for name in ("sklearn_forest.h5mlm", "sklearn_pipeline.h5mlm"):
        ours, theirs = load_sklearn(str(TEST_DATA / name), MODEL), load_model_from_h5(str(TEST_DATA / name))
        np.testing.assert_array_equal(ours.predict_proba(X), theirs.predict_proba(X))
    forest = load_sklearn(str(TEST_DATA / "sklearn_forest.h5mlm"), MODEL)
    assert forest.n_jobs is None and forest.feature_importances_.argmax() == 0  # "signal" decides the class


# ---- model_prediction ---------------------------------------------------------------------------

def predict_params(model, method="predict", data=X_PATH, **extra):
    return {"infile_estimator": str(model), "method": method, **extra,
            "input_options": {"selected_input": "tabular", "infile1": str(data), "header1": True}}


@pytest.mark.parametrize("name", ["sklearn_forest.h5mlm", "sklearn_pipeline.h5mlm"])
def test_prediction_of_sklearn_models(tmp_path, name):
    model = load_sklearn(str(TEST_DATA / name), MODEL)
    X = np.loadtxt(X_PATH, skiprows=1)
    out = tmp_path / "out.tsv"
    assert mp.run(predict_params(TEST_DATA / name), str(out)) == 40
    lines = out.read_text().splitlines()
    assert lines[0] == "Predicted" and [int(line) for line in lines[1:]] == model.predict(X).tolist()
    assert mp.run(predict_params(TEST_DATA / name, "predict_proba"), str(out), chunk_rows=7) == 40
    table = np.loadtxt(out, skiprows=1)
    assert out.read_text().splitlines()[0] == "0\t1"
    np.testing.assert_allclose(table, model.predict_proba(X), atol=5e-7)
    truth = np.loadtxt(TEST_DATA / "sklearn_y.tsv", skiprows=1)
    assert np.mean(table.argmax(axis=1) == truth) >= 0.9


def test_prediction_refuses_weights_and_wrong_columns(tmp_path):
    out = tmp_path / "out.tsv"
    forest = TEST_DATA / "sklearn_forest.h5mlm"
    with pytest.raises(ToolInputError, match="Keras weights cannot be loaded into a scikit-learn model"):
        mp.run(predict_params(forest, weights=[{"infile_weights": str(TEST_DATA / "imdb_trained.weights.h5")}]),
               str(out))
    with pytest.raises(ToolInputError, match="the selected data has 5 columns, but the model expects 4"):
        mp.run(predict_params(forest, data=TEST_DATA / "regression_X.tsv"), str(out))
    assert not out.exists()


def test_prediction_of_a_regressor_has_no_probabilities(tmp_path):
    from sklearn.linear_model import LinearRegression

    X = np.loadtxt(X_PATH, skiprows=1)
    path = dump(LinearRegression().fit(X, X[:, 0]), tmp_path / "linear.h5mlm")
    with pytest.raises(ToolInputError, match="predict_proba needs a classifier; this model is a LinearRegression"):
        mp.run(predict_params(path, "predict_proba"), str(tmp_path / "out.tsv"))
    assert mp.run(predict_params(path), str(tmp_path / "out.tsv")) == 40
    np.testing.assert_allclose(np.loadtxt(tmp_path / "out.tsv", skiprows=1), X[:, 0], atol=1e-5)


def test_prediction_of_a_classifier_without_probabilities(tmp_path):
    from sklearn.svm import SVC

    X, y = np.loadtxt(X_PATH, skiprows=1), np.loadtxt(TEST_DATA / "sklearn_y.tsv", skiprows=1)
    path = dump(SVC().fit(X, y), tmp_path / "svc.h5mlm")
    with pytest.raises(ToolInputError, match="predict_proba: this SVC was fitted without probability estimates; "
                                             "choose predict"):
        mp.run(predict_params(path, "predict_proba"), str(tmp_path / "out.tsv"))
    assert mp.run(predict_params(path), str(tmp_path / "out.tsv")) == 40
    assert [float(line) for line in (tmp_path / "out.tsv").read_text().splitlines()[1:]] == SVC().fit(X, y).predict(
        X).tolist()


def test_training_refuses_a_sklearn_model():
    with pytest.raises(ModelRefused, match="scikit-learn estimator or pipeline"):
        load_estimator(str(TEST_DATA / "sklearn_forest.h5mlm"), MODEL)


# ---- ml_visualization_ex: feature_importances ---------------------------------------------------

def importances_params(model, plot_format="html", threshold=None, **selection):
    return {"plotting_selection": {
        "plot_type": "feature_importances", "infile_estimator": str(model), "infile1": str(X_PATH),
        "column_selector_options": selection or {"selected_column_selector_option": "all_columns"},
        "threshold": threshold, "title": "", "plot_format": plot_format}}


def test_feature_importances_of_a_forest(tmp_path, capsys):
    path = tmp_path / "plot.png"
    viz.run(importances_params(TEST_DATA / "sklearn_forest.h5mlm", "png"), str(path))
    assert path.read_bytes().startswith(b"\x89PNG")
    assert "4 features of a RandomForestClassifier; largest signal" in capsys.readouterr().out


def test_feature_importances_of_a_pipelines_final_step(tmp_path):
    """Coefficients 5.68 (signal), -0.37 (noise), -0.61 (weak), 0 (constant): |value| > 0.5 are kept."""
    path = tmp_path / "plot.html"
    viz.run(importances_params(TEST_DATA / "sklearn_pipeline.h5mlm", threshold=0.5), str(path))
    page = path.read_text()
    bars = re.findall(r'"type":"bar".*?"x":\[([^\]]*)\]|"x":\[([^\]]*)\][^{}]*"type":"bar"', page)
    assert [next(part for part in found if part) for found in bars] == ['"signal","weak"']
    found = "Coefficient" in page
    assert found


def test_feature_importances_follow_the_column_selection(tmp_path):
    params = importances_params(TEST_DATA / "sklearn_forest.h5mlm", selected_column_selector_option="by_index_number",
                                col1="1,2")
    with pytest.raises(ToolInputError, match="2 feature names selected, but the RandomForestClassifier has 4"):
        viz.run(params, str(tmp_path / "plot.html"))


def test_feature_importances_through_a_univariate_selector(tmp_path, capsys):
    """SelectKBest keeps 2 of the 4 features (signal, on which the class depends, among them): their coef_ is plotted."""
    from sklearn.feature_selection import SelectKBest, f_classif
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import make_pipeline

    X, y = np.loadtxt(X_PATH, skiprows=1), np.loadtxt(TEST_DATA / "sklearn_y.tsv", skiprows=1)
    model = dump(make_pipeline(SelectKBest(f_classif, k=2), SGDClassifier(random_state=0)).fit(X, y),
                 tmp_path / "model.h5mlm")
    viz.run(importances_params(model, "png"), str(tmp_path / "plot.png"))
    assert "2 features of a SGDClassifier; largest signal" in capsys.readouterr().out


def test_feature_importances_refuse_a_keras_model(tmp_path):
    with pytest.raises(ToolInputError, match="a Keras model, which has neither coef_ nor feature_importances_"):
        viz.run(importances_params(TEST_DATA / "imdb_trained.h5mlm"), str(tmp_path / "plot.html"))


# ---- hostile files ------------------------------------------------------------------------------

ATTACKS = {  # each refused (one Error line) for the class or function it names
    "os.system": "os.system",
    "subprocess.Popen": "subprocess.Popen",
    "builtins.eval": "builtins.eval",
    "canarymod": "canarymod.payload",
    "sklearn_function": "sklearn.tree._export.export_graphviz",
    "sklearn_class": "sklearn.neural_network._multilayer_perceptron.MLPClassifier",
    "object_array": "object array",
    "numpy_scalar": "os.system",
}


HOSTILE_TOOLS = {"model_prediction": ("--outfile", predict_params),
                 "ml_visualization_ex": ("--output", importances_params)}


@pytest.fixture(scope="module")
def hostile_runs(tmp_path_factory):
    """Every attack through each tool, one fresh Python per tool running its attacks one after the other
    (tests/fresh_python.py; a case that imports something is the first of its tool to report it):
    ``{(tool, case): (Run, its output path)}``, and the canary a payload or an imported canarymod writes."""
    folder = tmp_path_factory.mktemp("hostile")
    target = folder / "outside" / "pwned"
    target.parent.mkdir()
    (target.parent / "canarymod.py").write_text(f"open({str(target)!r}, 'w').write('imported')\npayload = 1\n")
    models = {case: hostile.sklearn_attack(folder / f"{case}.h5mlm", case, target) for case in sorted(ATTACKS)}
    found = {}
    for tool, (flag, params) in HOSTILE_TOOLS.items():
        runs, outs = [], []
        for case, model in models.items():
            inputs, out = folder / f"{tool}-{case}.json", folder / f"{tool}-{case}.out"
            inputs.write_text(json.dumps(params(model)))
            runs.append((tool + ".py", ["--inputs", inputs, flag, out]))
            outs.append(out)
        results = run_tools(runs, ["canarymod", "sklearn", "galaxy_ml", "tensorflow"], cwd=folder,
                            extra_path=[target.parent], env=WORK_IN_TOOL_PROCESS)
        found.update({(tool, case): (result, out) for case, result, out in zip(models, results, outs, strict=True)})
    return found, target


@pytest.mark.parametrize("case", sorted(ATTACKS))
@pytest.mark.parametrize("tool", sorted(HOSTILE_TOOLS))
def test_hostile_descriptions_are_refused_before_anything_is_imported(hostile_runs, case, tool):
    runs, target = hostile_runs
    run, out = runs[tool, case]
    errors = [line for line in run.stderr.splitlines() if line.startswith("Error:")]
    assert run.returncode == 1 and len(errors) == 1 and f"{case}.h5mlm): " in errors[0], run.stderr  # the input named
    assert ATTACKS[case] in errors[0].split(".h5mlm): ", 1)[1]
    assert run.imported == [] and not target.exists() and not out.exists()


def test_hostile_tree_nodes_are_refused(tmp_path):
    path = hostile.sklearn_tree_outside(tmp_path / "model.h5mlm")
    with pytest.raises(ModelRefused, match="decision tree's nodes"):
        check_h5mlm(path, MODEL)


def test_attribute_hiding_a_method_is_refused(tmp_path):
    path = hostile.sklearn_attack(tmp_path / "model.h5mlm", "callable_attribute", tmp_path / "pwned")
    with pytest.raises(ModelRefused, match="'predict'"):
        load_sklearn(path, MODEL)


def rewrite(tmp_path, change, source="sklearn_pipeline.h5mlm"):
    graph = hostile.sklearn_graph(source)
    change(graph)
    return hostile.write_sklearn(tmp_path / "model.h5mlm", graph, source)


@pytest.mark.parametrize("change, message", [
    (lambda g: g["-object-"]["-reduce-"]["-state-"].update(memory="cache"), "memory"),
    (lambda g: hostile.final_step_state(g).update(C={"-memo-": 999}), "-memo- 999"),
    (lambda g: hostile.final_step_state(g).update(coef_={"-np_ndarray-": 99}), "array 99"),
    (lambda g: hostile.final_step_state(g).update(C={"-keras_model-": 0}), "Keras model"),
    (lambda g: hostile.final_step_state(g).update(C={"-memo-": 0}), "copyreg._reconstructor"),
], ids=["pipeline_memory", "memo_forward", "missing_array", "keras_inside", "function_as_value"])
def test_malformed_descriptions_are_refused(tmp_path, change, message):
    with pytest.raises(ModelRefused, match=re.escape(message)):
        check_h5mlm(rewrite(tmp_path, change), MODEL)


def test_forest_members_must_have_the_forests_features(tmp_path):
    def change(graph):
        state = graph["-object-"]["-reduce-"]["-state-"]
        state["n_features_in_"] = 2
    with pytest.raises(ModelRefused, match="member of the RandomForestClassifier"):
        load_sklearn(rewrite(tmp_path, change, "sklearn_forest.h5mlm"), MODEL)


def test_string_arrays_of_numbers_only(tmp_path):
    """A text dtype array is accepted (class names); its values are plain."""
    from sklearn.naive_bayes import GaussianNB

    X = np.loadtxt(X_PATH, skiprows=1)
    y = np.where(np.loadtxt(TEST_DATA / "sklearn_y.tsv", skiprows=1) > 0, "pos", "neg").astype(object)
    path = dump(GaussianNB().fit(X, y), tmp_path / "nb.h5mlm")
    with h5py.File(path) as handle:
        assert "-np_ndarray_o_type-" in handle["-model_config-"][()].decode()
    assert load_sklearn(path, MODEL).classes_.tolist() == ["neg", "pos"]


# ---- hostile variants of the newly admitted classes ---------------------------------------------

@pytest.fixture(scope="module")
def admitted_files(tmp_path_factory):
    """Real galaxy-ml files: a 3-class SVC with probabilities; a SelectKBest + SGDClassifier pipeline; a RANSAC;
    an IsolationForest of 3 trees on 3 of the 4 columns; a 3-class KNeighborsClassifier (manhattan: its probabilities
    are summed in C), a LocalOutlierFactor and a NearestCentroid; SelectFromModel, RFE, KBinsDiscretizer."""
    from sklearn.feature_selection import RFE, SelectFromModel
    from sklearn.linear_model import Lasso, LinearRegression
    from sklearn.preprocessing import KBinsDiscretizer
    from sklearn.ensemble import IsolationForest
    from sklearn.neighbors import KNeighborsClassifier, LocalOutlierFactor, NearestCentroid
    from sklearn.feature_selection import SelectKBest, f_classif
    from sklearn.linear_model import RANSACRegressor, SGDClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC

    folder = tmp_path_factory.mktemp("admitted")
    X = np.random.RandomState(2).rand(30, 4)
    y = (X[:, 0] * 3).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        svc = SVC(probability=True).fit(X, y)
    pipeline = make_pipeline(SelectKBest(f_classif, k=2), SGDClassifier(random_state=0)).fit(X, y)
    ransac = RANSACRegressor(random_state=0).fit(X, X[:, 0] * 3 + X[:, 1])
    return {"svc": dump(svc, folder / "svc.h5mlm"), "pipeline": dump(pipeline, folder / "pipeline.h5mlm"),
            "ransac": dump(ransac, folder / "ransac.h5mlm"),
            "iforest": dump(IsolationForest(n_estimators=3, max_features=0.75, random_state=0).fit(X),
                            folder / "iforest.h5mlm"),
            "knn": dump(KNeighborsClassifier(3, algorithm="brute", metric="manhattan").fit(X, y), folder / "knn.h5mlm"),
            "lof": dump(LocalOutlierFactor(n_neighbors=5, algorithm="brute", novelty=True).fit(X), folder / "lof.h5mlm"),
            "centroid": dump(NearestCentroid().fit(X, y), folder / "centroid.h5mlm"),
            "sfm": dump(SelectFromModel(Lasso(alpha=0.01)).fit(X, X[:, 0]), folder / "sfm.h5mlm"),
            "rfe": dump(RFE(LinearRegression(), n_features_to_select=2).fit(X, X[:, 0]), folder / "rfe.h5mlm"),
            "kbins": dump(KBinsDiscretizer(n_bins=3).fit(X), folder / "kbins.h5mlm"),
            **later_steps(folder, X, y)}


def later_steps(folder, X, y):
    """Files of the steps admitted second: a KernelPCA (rbf, with its inverse), a Nystroem, a TransformedTargetRegressor
    without a transformer (it makes a FunctionTransformer), a SelectFpr, an RFECV, an NMF, a LatentDirichletAllocation (it keeps a RandomState), a skrebate ReliefF, galaxy-ml's BinarizeTargetClassifier and IRAPSClassifier."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.decomposition import NMF, KernelPCA, LatentDirichletAllocation
    from sklearn.feature_selection import RFECV, SelectFpr
    from sklearn.kernel_approximation import Nystroem
    from sklearn.linear_model import LinearRegression
    from galaxy_ml.binarize_target import BinarizeTargetClassifier
    from skrebate import ReliefF
    from sklearn.linear_model import LogisticRegression

    target = X[:, 0] * 3 + X[:, 1]
    return {"kpca": dump(KernelPCA(2, kernel="rbf", fit_inverse_transform=True).fit(X), folder / "kpca.h5mlm"),
            "nystroem": dump(Nystroem(n_components=5, random_state=0).fit(X), folder / "nystroem.h5mlm"),
            "ttr": dump(TransformedTargetRegressor(LinearRegression()).fit(X, target), folder / "ttr.h5mlm"),
            "fpr": dump(SelectFpr(alpha=0.5).fit(X, y), folder / "fpr.h5mlm"),
            "rfecv": dump(RFECV(LinearRegression(), cv=3).fit(X, target), folder / "rfecv.h5mlm"),
            "nmf": dump(NMF(2, max_iter=500).fit(X), folder / "nmf.h5mlm"),
            "lda": dump(LatentDirichletAllocation(2, random_state=0).fit(X), folder / "lda.h5mlm"),
            "relief": dump(ReliefF(n_features_to_select=2, n_neighbors=5).fit(X, target), folder / "relief.h5mlm"),
            "binarize": dump(BinarizeTargetClassifier(LogisticRegression()).fit(X, X[:, 0]), folder / "binarize.h5mlm"),
            "iraps": dump(make("galaxy_ml.binarize_target._iraps_classifier", "IRAPSClassifier").fit(
                np.random.RandomState(0).rand(60, 6), np.random.RandomState(1).rand(60)), folder / "iraps.h5mlm")}


def svc_state(graph):
    return graph["-object-"]["-reduce-"]["-state-"]


def step_state(graph, index):
    return graph["-object-"]["-reduce-"]["-state-"]["steps"][index]["-tuple-"][1]["-reduce-"]["-state-"]


def wrapped_class(graph, attribute, module, name):
    """The class of the estimator that the top-level object's ``attribute`` holds, renamed ``module.name``."""
    svc_state(graph)[attribute]["-reduce-"]["-args-"]["-tuple-"][0] = {"-global-": [module, name]}


def tuple_array(name, position, value):
    """A change replacing array ``position`` of the tuple of arrays ``name`` (top-level state) by ``value``."""
    def change(graph):
        index = svc_state(graph)[name]["-tuple-"][position]["-np_ndarray-"]
        return lambda weights: hostile.replace_array(weights, index, value)
    return change


def tuple_array_in(name, position, value):
    """A change replacing array ``position`` of the object array ``name`` (top-level state) by ``value``."""
    def change(graph):
        index = svc_state(graph)[name]["-np_ndarray_o_type-"]["-values-"][position]["-np_ndarray-"]
        return lambda weights: hostile.replace_array(weights, index, value)
    return change


def svc_array(name, value):
    """A change replacing the SVC's array ``name`` (its dataset found through the graph) by ``value``."""
    def change(graph):
        index = svc_state(graph)[name]["-np_ndarray-"]
        return lambda weights: hostile.replace_array(weights, index, value)
    return change


def graph_change(change):
    """A change of the description only (``change`` edits the graph in place; what it returns is dropped)."""
    def edit(graph):
        change(graph)
    return edit


def drop_entry(state, key):
    state["-keys-"].remove(key)
    del state[key]


def set_entry(state, key, value):
    if key not in state:
        state["-keys-"] = sorted([*state["-keys-"], key])
    state[key] = value


# (base file, change(graph) returning None or a change of the arrays, the attribute or name the refusal names): every
# one refused (ModelRefused) before anything is imported.
HOSTILE_VARIANTS = {
    "svm_n_support_sum": ("svc", svc_array("_n_support", np.array([1000, 1, 1], np.int32)), "_n_support"),
    "svm_n_support_negative": ("svc", svc_array("_n_support", np.array([-5, 0, 5], np.int32)), "_n_support"),
    "svm_more_classes": ("svc", svc_array("_n_support", np.array([1] * 30, np.int32)), "_n_support"),
    "svm_prob_a": ("svc", svc_array("_probA", np.zeros(0)), "_probA"),
    "svm_vectors": ("svc", svc_array("support_vectors_", np.zeros((3, 4))), "support_vectors_"),
    "svm_vector_dtype": ("svc", svc_array("support_", np.zeros(3)), "support_"),
    "svm_precomputed": ("svc", graph_change(lambda g: svc_state(g).update(kernel="precomputed", _gamma=0.0)), "support_"),
    "svm_kernel": ("svc", graph_change(lambda g: svc_state(g).update(kernel="os")), "kernel"),
    "svm_impl": ("svc", graph_change(lambda g: set_entry(svc_state(g), "_impl", "one_class")), "_impl"),
    "ransac_estimator_class": ("ransac", graph_change(lambda g: wrapped_class(
        g, "estimator_", "sklearn.neural_network._multilayer_perceptron", "MLPRegressor")), "MLPRegressor"),
    "ransac_estimator_os_system": ("ransac", graph_change(lambda g: wrapped_class(g, "estimator_", "os", "system")),
                                   "os.system"),
    "iforest_columns": ("iforest", graph_change(lambda g: svc_state(g).update(
        estimators_features_=[{"-np_ndarray-": 0}] * 3)),  # a depth array (floats) as column indices
        "estimators_features_"),
    "knn_labels": ("knn", svc_array("_y", np.full(30, 10 ** 12)),  # a segmentation fault in predict_proba, unchecked
                   "_y"),
    "knn_labels_short": ("knn", svc_array("_y", np.zeros(3, int)), "_y"),
    "knn_wide_samples": ("knn", svc_array("_fit_X", np.zeros((3, 2000))),  # distances read past the query, unchecked
                         "_fit_X"),
    "knn_sample_count": ("knn", graph_change(lambda g: svc_state(g).update(n_samples_fit_=10 ** 6)), "_fit_X"),
    "lof_distances": ("lof", svc_array("_distances_fit_X_", np.zeros((30, 2))), "_distances_fit_X_"),
    "lof_neighbours": ("lof", graph_change(lambda g: svc_state(g).update(n_neighbors_=31)), "n_neighbors_"),
    "centroid_wide": ("centroid", svc_array("centroids_", np.zeros((3, 2000))), "centroids_"),
    "select_from_model_getter": ("sfm", graph_change(lambda g: svc_state(g).update(
        importance_getter="__class__.__init__.__globals__")), "importance_getter"),
    "rfe_estimator_class": ("rfe", graph_change(lambda g: wrapped_class(
        g, "estimator_", "sklearn.neural_network._multilayer_perceptron", "MLPRegressor")), "MLPRegressor"),
    "kbins_edges": ("kbins", tuple_array_in("bin_edges_", 1, np.zeros(2)), "bin_edges_"),
    "kbins_edge_object": ("kbins", graph_change(lambda g: svc_state(g)["bin_edges_"]["-np_ndarray_o_type-"][
        "-values-"].append(hostile.call("os", "system", "touch pwned"))), "bin_edges_"),
    "kpca_kernel_callable": ("kpca", graph_change(lambda g: svc_state(g).update(
        kernel={"-global-": ["sklearn.metrics.pairwise", "rbf_kernel"]})), "rbf_kernel"),
    "kpca_kernel_name": ("kpca", graph_change(lambda g: svc_state(g).update(kernel="os.system")), "kernel"),
    "kpca_eigenvectors": ("kpca", svc_array("eigenvectors_", np.zeros((3, 2))), "eigenvectors_"),
    "kpca_samples_dropped": ("kpca", graph_change(lambda g: drop_entry(svc_state(g), "X_fit_")), "X_fit_"),
    "kpca_dual_coef": ("kpca", svc_array("dual_coef_", np.zeros((30, 2000))), "dual_coef_"),
    "relief_top_features": ("relief", svc_array("top_features_", np.array([0, 1, 2, 10**6])), "top_features_"),
    "relief_importances": ("relief", svc_array("feature_importances_", np.zeros(2)), "feature_importances_"),
    "relief_select_count": ("relief", graph_change(lambda g: svc_state(g).update(n_features_to_select=-1)),
                            "n_features_to_select"),
    "binarize_fitted_class": ("binarize", graph_change(lambda g: wrapped_class(
        g, "classifier_", "sklearn.neural_network._multilayer_perceptron", "MLPClassifier")), "MLPClassifier"),
    "binarize_threshold_text": ("binarize", graph_change(lambda g: svc_state(g).update(discretize_value="os.system")),
                                "discretize_value"),
    "binarize_threshold_infinite": ("binarize", graph_change(lambda g: svc_state(g).update(discretize_value=1e400)),
                                    "discretize_value"),
    "iraps_signature": ("iraps", svc_array("signature_", np.zeros((2, 10**4))), "signature_"),
    "iraps_mask": ("iraps", svc_array("mask_", np.ones(6)), "mask_"),
    "iraps_memory": ("iraps", graph_change(lambda g: svc_state(g).update(memory="/tmp/cache")), "memory"),
    "iraps_pre_dispatch": ("iraps", graph_change(lambda g: svc_state(g)["iraps_core"]["-reduce-"]["-state-"].update(
        pre_dispatch="__import__('os').system('id')")), "pre_dispatch"),
    "binarize_direction": ("binarize", graph_change(lambda g: svc_state(g).update(less_is_positive="yes")),
                           "less_is_positive"),
    "nystroem_kernel_name": ("nystroem", graph_change(lambda g: svc_state(g).update(kernel="precomputed")), "kernel"),
    "nystroem_normalization": ("nystroem", svc_array("normalization_", np.zeros((5, 2))), "normalization_"),
    "target_func_os_system": ("ttr", graph_change(lambda g: svc_state(g).update(func={"-global-": ["os", "system"]})),
                              "os.system"),
    # a text is remembered (-memo-) as pickle does: one text (the version) for another keeps the later references
    "target_func_text": ("ttr", graph_change(lambda g: (drop_entry(svc_state(g), "_sklearn_version"),
                                                        svc_state(g).update(inverse_func="os.system"))), "inverse_func"),
    "target_function_transformer": ("ttr", graph_change(lambda g: svc_state(g)["transformer_"]["-reduce-"][
        "-state-"].update(func="builtins.eval")), "func"),
    "target_regressor_class": ("ttr", graph_change(lambda g: wrapped_class(
        g, "regressor_", "sklearn.neural_network._multilayer_perceptron", "MLPRegressor")), "MLPRegressor"),
    "select_fpr_score_func": ("fpr", graph_change(lambda g: svc_state(g).update(score_func={"-global-": ["os", "system"]})),
                              "score_func"),
    "rfecv_importance_getter": ("rfecv", graph_change(lambda g: svc_state(g).update(importance_getter="__class__")),
                                "importance_getter"),
    "nmf_components": ("nmf", svc_array("components_", np.zeros((2, 2000))), "components_"),
    "lda_random_state_call": ("lda", graph_change(lambda g: svc_state(g).update(
        random_state_=hostile.call("os", "system", "touch pwned"))), "random_state_"),
    "lda_random_state_ctor": ("lda", graph_change(lambda g: svc_state(g)["random_state_"]["-reduce-"].update(
        {"--func-": {"-global-": ["os", "system"]}})), "random_state_"),
    "lda_random_state_key": ("lda", lambda g: (lambda weights: hostile.replace_array(
        weights, svc_state(g)["random_state_"]["-reduce-"]["-state-"]["state"]["key"]["-np_ndarray-"],
        np.zeros(10 ** 4, np.uint32))), "random_state_"),
    "lda_topics": ("lda", svc_array("exp_dirichlet_component_", np.ones((3, 4))), "exp_dirichlet_component_"),
    "score_func_os_system": ("pipeline", graph_change(lambda g: step_state(g, 0).update(
        score_func={"-global-": ["os", "system"]})), "score_func"),
    "score_func_other_function": ("pipeline", graph_change(lambda g: step_state(g, 0).update(
        score_func={"-global-": ["sklearn.feature_selection._univariate_selection", "r_regression"]})), "r_regression"),
    "score_func_call": ("pipeline", graph_change(lambda g: step_state(g, 0).update(
        score_func=hostile.call("os", "system", "touch pwned"))), "score_func"),
    "loss_os_system": ("pipeline", graph_change(lambda g: step_state(g, 1).update(
        _loss_function_=hostile.call("os", "system", "touch pwned"))), "_loss_function_"),
    "loss_other_class": ("pipeline", graph_change(lambda g: step_state(g, 1).update(
        _loss_function_=hostile.call("sklearn.linear_model._sgd_fast", "ModifiedHuber"))), "_loss_function_"),
    "loss_other_argument": ("pipeline", graph_change(lambda g: step_state(g, 1).update(
        _loss_function_=hostile.call("sklearn.linear_model._sgd_fast", "Hinge", 0.0))), "_loss_function_"),
    "loss_text_argument": ("pipeline", graph_change(lambda g: step_state(g, 1).update(
        _loss_function_=hostile.call("sklearn.linear_model._sgd_fast", "Hinge", "touch pwned"))), "_loss_function_"),
    "loss_name": ("pipeline", graph_change(lambda g: step_state(g, 1).update(loss="os.system")), "loss"),
}


def hostile_variant(tmp_path, files, case):
    source, change, _ = HOSTILE_VARIANTS[case]
    graph = hostile.sklearn_graph(files[source])
    change_arrays = change(graph)
    return hostile.write_sklearn(tmp_path / "model.h5mlm", graph, files[source], change_arrays)


def problem(error, path):
    """What a refusal says is wrong, without the input's label and path (which may hold any word)."""
    text = str(error)
    assert text.startswith(f"{MODEL} ({path}): "), text
    return text[len(f"{MODEL} ({path}): "):]


@pytest.mark.parametrize("case", sorted(HOSTILE_VARIANTS))
def test_hostile_variants_of_admitted_classes_are_refused(tmp_path, admitted_files, case):
    path = hostile_variant(tmp_path, admitted_files, case)
    with pytest.raises(ModelRefused) as caught:
        check_h5mlm(path, MODEL)
    assert HOSTILE_VARIANTS[case][2] in problem(caught.value, path)


FRESH_PYTHON_VARIANTS = ["svm_n_support_sum", "knn_labels", "ransac_estimator_class", "score_func_os_system", "loss_os_system",
                         "loss_other_class", "kpca_kernel_callable", "kpca_dual_coef", "target_func_os_system"]


@pytest.fixture(scope="module")
def hostile_variant_runs(tmp_path_factory, admitted_files):
    """Those variants through model_prediction, one after the other in one fresh Python
    (tests/fresh_python.py), in a folder where a payload's ``touch pwned`` would leave its file:
    ``{case: (Run, its output path)}`` and that folder."""
    runs, outs = [], []
    for case in FRESH_PYTHON_VARIANTS:
        folder = tmp_path_factory.mktemp(case)
        inputs, out = folder / "inputs.json", folder / "out"
        inputs.write_text(json.dumps(predict_params(hostile_variant(folder, admitted_files, case))))
        runs.append(("model_prediction.py", ["--inputs", inputs, "--outfile", out]))
        outs.append(out)
    cwd = tmp_path_factory.mktemp("runs")
    results = run_tools(runs, ["sklearn", "galaxy_ml", "tensorflow"], cwd=cwd, env=WORK_IN_TOOL_PROCESS)
    return dict(zip(FRESH_PYTHON_VARIANTS, zip(results, outs, strict=True), strict=True)), cwd


@pytest.mark.parametrize("case", FRESH_PYTHON_VARIANTS)
def test_hostile_variants_import_nothing(hostile_variant_runs, case):
    """Through the tool, in a fresh Python: one error line, no output, and scikit-learn never imported."""
    runs, cwd = hostile_variant_runs
    run, out = runs[case]
    errors = [line for line in run.stderr.splitlines() if line.startswith("Error:")]
    assert run.returncode == 1 and len(errors) == 1 and MODEL in errors[0], run.stderr
    assert HOSTILE_VARIANTS[case][2] in errors[0].split(".h5mlm): ", 1)[1]
    assert run.imported == [] and not out.exists() and not (cwd / "pwned").exists()


def test_untouched_admitted_files_load(admitted_files):
    """The hostile variants' sources themselves are accepted (the refusals come from the changes)."""
    assert type(load_sklearn(admitted_files["svc"], MODEL)).__name__ == "SVC"
    assert [type(step).__name__ for _, step in load_sklearn(admitted_files["pipeline"], MODEL).steps] == [
        "SelectKBest", "SGDClassifier"]
    assert type(load_sklearn(admitted_files["ransac"], MODEL).estimator_).__name__ == "LinearRegression"
    assert [type(load_sklearn(admitted_files[name], MODEL)).__name__ for name in ("knn", "lof", "centroid")] == [
        "KNeighborsClassifier", "LocalOutlierFactor", "NearestCentroid"]
    edges = load_sklearn(admitted_files["kbins"], MODEL).bin_edges_
    assert edges.dtype == object and [len(edge) for edge in edges] == [4] * 4
    assert load_sklearn(admitted_files["sfm"], MODEL).importance_getter == "auto"
    forest = load_sklearn(admitted_files["iforest"], MODEL)
    assert [tree.tree_.n_features for tree in forest.estimators_] == [3, 3, 3] and forest.n_features_in_ == 4


def test_kernel_names_are_sklearns():
    """The kernels a KernelPCA or Nystroem may name are scikit-learn's named kernels, no more."""
    from sklearn.metrics.pairwise import PAIRWISE_KERNEL_FUNCTIONS

    from gxkeras.modelfile.sklearn_loaders.steps import KERNELS

    assert sorted(KERNELS) == sorted(PAIRWISE_KERNEL_FUNCTIONS)


def test_untouched_later_steps_load(admitted_files):
    """The later steps' hostile sources load as what they are; the target regressor's transformer is the
    FunctionTransformer scikit-learn makes (no function applied)."""
    assert [type(load_sklearn(admitted_files[name], MODEL)).__name__ for name in (
        "kpca", "nystroem", "fpr", "rfecv", "nmf")] == ["KernelPCA", "Nystroem", "SelectFpr", "RFECV", "NMF"]
    ttr = load_sklearn(admitted_files["ttr"], MODEL)
    assert type(ttr.transformer_).__name__ == "FunctionTransformer" and ttr.transformer_.func is None


def test_fitted_random_state_keeps_its_state(tmp_path):
    """A LatentDirichletAllocation's and a MiniBatchDictionaryLearning's RandomState come back in the state
    they were saved in (a new numpy RandomState given the checked MT19937 state)."""
    from sklearn.decomposition import LatentDirichletAllocation, MiniBatchDictionaryLearning

    X = np.random.RandomState(3).rand(20, 4)
    for model, attribute in ((LatentDirichletAllocation(2, random_state=1), "random_state_"),
                             (MiniBatchDictionaryLearning(2, random_state=1), "_random_state")):
        model.fit(X)
        loaded = load_sklearn(dump(model, tmp_path / f"{attribute}.h5mlm"), MODEL)
        ours, theirs = getattr(loaded, attribute), getattr(model, attribute)
        assert type(ours) is np.random.RandomState and ours is not theirs
        np.testing.assert_array_equal(ours.rand(5), theirs.rand(5))
