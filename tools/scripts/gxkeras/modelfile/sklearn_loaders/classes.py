"""The allow-list: every scikit-learn, imbalanced-learn and XGBoost class a galaxy-ml file may name, and the numpy
scalar types it may hold (:data:`CLASSES`, :data:`NUMPY_SCALARS`).

A class outside it is refused by name before anything is imported (:mod:`gxkeras.modelfile.sklearn_loaders.reader`);
each class in it has a loader (:data:`gxkeras.modelfile.sklearn_loaders.reader.LOADERS`) that says which of its
attributes are read, checked, recomputed or dropped. The module of each concern (encoders, ensembles, linear,
neighbors, steps, svm, xgboost) names its own classes; this is their union.
"""
from gxkeras.modelfile.sklearn_loaders.encoders import KBINS, LABEL_BINARIZER, LABEL_ENCODER, ONE_HOT, POLYNOMIAL, TREES_EMBEDDING
from gxkeras.modelfile.sklearn_loaders.ensembles import ENSEMBLES, FORESTS, IMBLEARN_PIPELINE, SAMPLERS, TREES
from gxkeras.modelfile.sklearn_loaders.neighbors import NEIGHBORS
from gxkeras.modelfile.sklearn_loaders.steps import STEPS
from gxkeras.modelfile.sklearn_loaders.svm import LIBSVM_CLASSES
from gxkeras.modelfile.sklearn_loaders.xgboost import XGB_CLASSES

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
