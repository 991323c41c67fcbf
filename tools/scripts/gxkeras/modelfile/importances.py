"""Feature importances of an uploaded scikit-learn model, computed where the model is built: in the contained
process (:mod:`gxkeras.modelfile.containment`), which hands back only numbers and names for ml_visualization_ex to plot.
"""
from typing import Any

import numpy as np

from gxkeras.galaxy.errors import ToolInputError
from gxkeras.modelfile.h5mlm import ModelFile


def feature_importances(job: dict[str, Any], _out: None) -> dict[str, Any]:
    """The contained work: ``{"values", "names", "what", "estimator"}`` of the model file ``job["model"]``
    (form label ``job["model_label"]``) for the feature names ``job["names"]`` (``job["names_label"]``)."""
    label = job["model_label"]
    with ModelFile(job["model"], label) as model:
        if not model.sklearn:
            raise ToolInputError(f"{label}: a Keras model, which has neither coef_ nor feature_importances_; "
                                 "feature importances need a scikit-learn estimator or pipeline")
        estimator = model.build()
    estimator, names = final_estimator(estimator, job["names"], job["names_label"])
    values, what = importances_of(estimator, label)
    return {"values": values.tolist(), "names": names.tolist(), "what": what, "estimator": type(estimator).__name__}


def final_estimator(estimator: Any, names: list[str], names_label: str) -> tuple[Any, np.ndarray]:
    """``(estimator, names)``: a pipeline's last step, the names narrowed by its feature selectors' masks."""
    selected = np.asarray(names, dtype=object)
    if not hasattr(estimator, "steps"):
        return estimator, selected
    for step_name, step in estimator.steps[:-1]:
        if hasattr(step, "get_support"):
            mask = np.asarray(step.get_support(), dtype=bool)
            if len(mask) != len(selected):
                raise ToolInputError(f"{names_label}: {len(selected)} columns selected, but the pipeline's step "
                                     f"{step_name!r} was fitted on {len(mask)} features")
            selected = selected[mask]
    return estimator.steps[-1][1], selected


def importances_of(estimator: Any, label: str) -> tuple[np.ndarray, str]:
    """``(values, what)``: ``coef_`` (one row; the mean absolute value per feature for several classes) as the
    Galaxy-ML tool preferred it, else ``feature_importances_``."""
    coef = getattr(estimator, "coef_", None)
    if coef is not None:
        values, what = np.asarray(coef, dtype=float), "Coefficient"
        if values.ndim == 2:
            values, what = (values[0], what) if len(values) == 1 else (np.abs(values).mean(axis=0),
                                                                    "Mean absolute coefficient over classes")
        return values, what
    importances = getattr(estimator, "feature_importances_", None)
    if importances is None:
        raise ToolInputError(f"{label}: the {type(estimator).__name__} has neither coef_ nor "
                             "feature_importances_ (a linear model or a tree ensemble has one)")
    return np.asarray(importances, dtype=float), "Importance"
