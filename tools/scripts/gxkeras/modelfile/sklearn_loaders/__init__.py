"""scikit-learn, imbalanced-learn and XGBoost objects in galaxy-ml's h5mlm files, rebuilt from a checked
description and never unpickled (issue 25: "reconstruct, don't trust").

Modules: classes (the allow-list), reader (the walk over the object graph: objects) on value_reader (plain
values, references, arrays) and structures (a tree's nodes, a dtype), loader (what every class's loader may
say), one module per family of classes (encoders, ensembles, linear, neighbors, random_state, steps, svm), and
XGBoost's booster (xgboost, on ubjson, xgboost_parameters and xgboost_trees).
"""
from gxkeras.modelfile.sklearn_loaders.classes import CLASSES
from gxkeras.modelfile.sklearn_loaders.loader import PREDICTION_ROWS
from gxkeras.modelfile.sklearn_loaders.reader import is_sklearn_graph, read_sklearn

__all__ = ["CLASSES", "PREDICTION_ROWS", "is_sklearn_graph", "read_sklearn"]
