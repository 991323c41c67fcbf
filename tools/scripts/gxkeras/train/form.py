"""The form of "Deep learning training and evaluation", read once: each nested section of Galaxy's inputs
JSON is dug out here and nowhere else, and the choices every later step relies on (the scheme, the model
dataset, the input type) are checked before TensorFlow loads.

The layout is the Galaxy-ML tool's (1.0.10/1.0.11), which saved workflows hold:
``experiment_schemes|test_split|split_algos|...``, ``metrics|scoring|primary_scoring``, ``input_options``,
``class_weights`` (docs/migration.md).
"""
from dataclasses import dataclass
from typing import Any

from gxkeras.galaxy import forms
from gxkeras.galaxy.errors import ToolInputError
from gxkeras.galaxy.input_types import input_type
from gxkeras.galaxy.values import choice

TOOL = "keras_train_and_eval"
# The form's labels, as the messages name the inputs.
MODEL_LABEL = "Choose the dataset containing pipeline/estimator object"
X_LABEL = "Training samples dataset"
Y_LABEL = "Dataset containing class labels or target values"
SPARSE_LABEL = "Select a sparse matrix"
INPUT_TYPE_LABEL = "Select input type"
SCHEMES = forms.options(TOOL, "selected_exp_scheme")


def section(parent: dict[str, Any] | None, name: str) -> dict[str, Any]:
    """A nested section of the inputs JSON; an absent one (an older saved state) is empty."""
    return (parent or {}).get(name) or {}


@dataclass(frozen=True)
class Holdout:
    """One held-out set: its name ("test" or "validation"), the label of its section and the chosen
    splitting (``split_algos``)."""

    name: str
    label: str
    algos: dict[str, Any]


@dataclass(frozen=True)
class TrainerForm:
    """The form's values as the trainer uses them."""

    scheme: str
    model_path: str
    input_type: str
    input_options: dict[str, Any]
    holdouts: tuple[Holdout, ...]  # in the order they are taken: the test set first, then the validation set
    swapping: dict[str, Any]
    metrics: dict[str, Any]
    class_weights: list[Any]

    @classmethod
    def read(cls, params: dict[str, Any]) -> "TrainerForm":
        schemes = section(params, "experiment_schemes")
        scheme = choice(schemes.get("selected_exp_scheme"), SCHEMES, "Select a scheme")
        model_path = model_dataset(params)
        if not model_path:
            raise ToolInputError(f"{MODEL_LABEL}: no dataset given")
        options = section(params, "input_options")
        test_algos = section(section(schemes, "test_split"), "split_algos")
        if scheme == "train_val":
            holdouts: tuple[Holdout, ...] = (Holdout("validation", "Validation holdout", test_algos),)
        else:
            holdouts = (Holdout("test", "Test holdout", test_algos),
                        Holdout("validation", "Validation holdout", section(section(schemes, "val_split"), "split_algos")))
        return cls(scheme=scheme, model_path=model_path,
                   input_type=input_type(options.get("selected_input"), INPUT_TYPE_LABEL, TOOL),
                   input_options=options, holdouts=holdouts, swapping=section(schemes, "hyperparams_swapping"),
                   metrics=section(schemes, "metrics"), class_weights=params.get("class_weights") or [])


def model_dataset(params: dict[str, Any]) -> str:
    """The path of the model dataset ("" when none is given)."""
    return section(params, "experiment_schemes").get("infile_estimator") or ""
