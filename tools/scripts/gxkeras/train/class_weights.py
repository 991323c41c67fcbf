"""Class weights: the trainer's "Class weights" repeat, checked, then indexed as Keras' ``class_weight``.

Keras' class_weight is an argument of fit (galaxy-ml's KerasGClassifier.fit takes it and does not store
it in the model file), and "balanced" needs the labels: so it is chosen here, not in the builder.
"""
import ast
from typing import Any

import numpy as np

from gxkeras.galaxy import forms
from gxkeras.galaxy.errors import ToolInputError
from gxkeras.galaxy.values import choice, shown
from gxkeras.train.form import TOOL, section

CLASS_WEIGHT_LABEL = "Class weights"
CLASS_WEIGHT_TYPES = forms.options(TOOL, "class_weight_type")
# A weight multiplies each sample's float32 loss: a larger one is infinite there.
MAX_CLASS_WEIGHT = float(np.finfo("float32").max)
MAX_MAPPING_CHARS = 2000

# What class_weight_choice gives: None (no weighting), "balanced", or {label: weight}.
WeightChoice = str | dict[float, float] | None


def class_weight_choice(repeat: list[Any], classifier: bool) -> WeightChoice:
    """None, "balanced", or ``{label: weight}`` from the "Class weights" repeat (checked, not yet indexed).

    The repeat holds at most one entry; none (an old saved state, or none inserted) is no weighting.
    """
    if not repeat:
        return None
    if len(repeat) > 1:
        raise ToolInputError(f"{CLASS_WEIGHT_LABEL}: {len(repeat)} entries; give the class weights once")
    selection = section(repeat[0], "class_weight_selection")
    kind = choice(selection.get("class_weight_type"), CLASS_WEIGHT_TYPES, CLASS_WEIGHT_LABEL)
    if not classifier:
        raise ToolInputError(f"{CLASS_WEIGHT_LABEL}: {kind} weights classes, and this is a regression model; "
                             "remove the Class weights entry")
    if kind == "balanced":
        return kind
    text = str(selection.get("class_weight") or "").strip()
    where = f"{CLASS_WEIGHT_LABEL}: {shown(text)}"
    if len(text) > MAX_MAPPING_CHARS:
        raise ToolInputError(f"{CLASS_WEIGHT_LABEL}: longer than {MAX_MAPPING_CHARS} characters")
    try:
        mapping = ast.literal_eval(text if text.startswith("{") else "{" + text + "}")
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        mapping = None
    if not isinstance(mapping, dict) or not mapping or any(_finite(key) is None for key in mapping):
        raise ToolInputError(f"{where} is not a mapping of class labels to weights such as {{0: 1, 1: 5}}")
    weights: dict[float, float] = {}
    for key, value in mapping.items():
        weight = _finite(value)
        if weight is None or not 0 <= weight <= MAX_CLASS_WEIGHT:
            raise ToolInputError(f"{where}: the weights must be numbers from 0 to {MAX_CLASS_WEIGHT:.3g} (Keras "
                                 "weighs the float32 loss by them)")
        weights[float(key)] = weight
    return weights


def _finite(value: object) -> float | None:
    """``value`` as a finite float, or None for what is not a number (a bool, text, an int too large for a float)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if np.isfinite(number) else None


def class_weight_indices(weights: WeightChoice, classes: Any, y_train: Any) -> dict[int, float] | None:
    """Keras' ``{class index: weight}`` for the model's ``classes`` (labels not named weigh 1)."""
    if weights is None:
        return None
    if isinstance(weights, str):  # "balanced", as scikit-learn computes it: n_samples / (n_classes * class samples)
        from sklearn.utils.class_weight import compute_class_weight

        labels = np.unique(y_train)
        weights = dict(zip(labels.tolist(), compute_class_weight("balanced", classes=labels, y=y_train).tolist(),
                           strict=True))
    unknown = [label for label in weights if label not in set(np.asarray(classes, dtype=float).tolist())]
    if unknown:
        raise ToolInputError(f"{CLASS_WEIGHT_LABEL}: {unknown[0]:g} is not a class of the training set "
                             f"({', '.join(f'{label:g}' for label in classes)})")
    return {index: weights.get(float(label), 1.0) for index, label in enumerate(classes)}
