"""Building the model file of the two builders (``keras_model_builder``, ``keras_batch_models``) from their
forms (:mod:`gxkeras.keras.compile_form`), contained: the architecture and, in the prefitted mode, the
weights are uploads, which Keras and h5py read (:mod:`gxkeras.modelfile.containment`).
"""
import argparse
from collections.abc import Callable
from typing import Any

from gxkeras.galaxy import forms
from gxkeras.galaxy.errors import ToolInputError
from gxkeras.galaxy.inputs import load_inputs, with_absolute_datasets
from gxkeras.keras.compile_form import (
    MODEL_LABEL, PREFITTED, TRAIN, WEIGHTS_LABEL, compile_fit_params, read_model_json,
)
from gxkeras.keras.estimators import LEARNING_TYPES, make_estimator
from gxkeras.keras.options import keras_loss
from gxkeras.modelfile.containment import run_contained
from gxkeras.modelfile.h5mlm import save_estimator
from gxkeras.modelfile.keras_weights import load_weights_file


def build_estimator(params: dict[str, Any]) -> Any:
    """The estimator described by the form's parameters: untrained, or prefitted (weights loaded)."""
    mode = params.get("mode_selection") or {}
    config, model_type = read_model_json(mode, (TRAIN, PREFITTED))
    if mode.get("mode_type") == PREFITTED:
        return prefitted_estimator(mode, config, model_type)
    learning_type = mode.get("learning_type")
    if learning_type not in LEARNING_TYPES:
        raise ToolInputError(f"Do classification or regression?: unknown choice {learning_type!r}")
    options = compile_fit_params(mode, config, regression=learning_type == "KerasGRegressor")
    return make_estimator(learning_type, config, model_type, **options)


def prefitted_estimator(mode: dict[str, Any], config: dict[str, Any], model_type: str) -> Any:
    """The Galaxy-ML tools' "Load a pretrained model for prediction" (their 0.5.0 builder): the architecture
    with trained weights, for Model Prediction.

    Theirs was the bare Keras model, whose ``predict`` returns the network's outputs (probabilities
    for a sigmoid or softmax output) and which had no loss or training settings. A KerasGRegressor
    predicts exactly that, and is what an h5mlm can hold; its loss is mean squared error (a model file
    needs one) and its other compile and fit settings are galaxy-ml's defaults, never chosen in this mode.
    """
    path = mode.get("infile_weights")
    if not path:
        raise ToolInputError(f"{WEIGHTS_LABEL}: no dataset given")
    estimator = make_estimator("KerasGRegressor", config, model_type, loss=keras_loss("mean_squared_error"))
    load_weights_file(estimator, path, f"{WEIGHTS_LABEL} ({path})", MODEL_LABEL)
    return estimator


def write_built_model(argv: list[str] | None, description: str, tool: str, work: Callable[[Any, Any], Any]) -> None:
    """The command line of the tools that build a model (``keras_model_builder``, ``keras_batch_models``).

    The form's values (``--inputs``) are built into an estimator (untrained, or with the weights of the
    builder's prefitted mode) and written as h5mlm to ``--outfile`` in a contained process
    (:mod:`gxkeras.modelfile.containment`): the architecture and the weights are uploads, which Keras and h5py read.
    ``work`` is the tool's module-level function that does it (:func:`build_and_save`); what it says of the
    model is the job's record of it.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--inputs", required=True, help="Galaxy's inputs JSON (the form's values)")
    parser.add_argument("--outfile", required=True, help="where to write the model (h5mlm)")
    args = parser.parse_args(argv)
    params, datasets = with_absolute_datasets(load_inputs(args.inputs), forms.dataset_params(tool))
    architecture = (params.get("mode_selection") or {}).get("infile_json") or ""
    built = run_contained(work, params, f"{MODEL_LABEL} ({architecture})", readable=datasets,
                          outputs={"outfile": args.outfile})
    print(built["summary"])
    print(f"Wrote the {'' if built['trained'] else 'untrained '}model to {args.outfile}")


def build_and_save(build: Callable[[dict[str, Any]], Any], summary: Callable[[Any], str], params: dict[str, Any],
                   path: str) -> dict[str, Any]:
    """The contained part of :func:`write_built_model`: ``build(params)`` saved to ``path``, and
    ``{"summary": summary(estimator), "trained": whether it has weights}``."""
    estimator = build(params)
    save_estimator(estimator, path)
    return {"summary": summary(estimator), "trained": hasattr(estimator, "model_")}
