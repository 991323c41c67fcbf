"""The Keras layer's public face: what the tool scripts use of configs, estimators and the compile form.

Modules (one concern each): environment (TensorFlow's settings, then Keras), allowlist (what a model
config may hold), layer_shapes / layer_weights / config_size (a config's shapes, weights and memory,
estimated without Keras), options (the compile and fit options the form offers, each value's check),
callbacks, generators (galaxy-ml's batch generators), stored_params (a model file's parameters checked),
estimators (model JSON checked and built, estimators made), layer_fields, embedding, compile_form.

The names are imported when first used (PEP 562), not with the package: the contained child imports
:mod:`gxkeras.keras.environment` before it locks itself down, which it may do only while it runs one
thread, and numpy (:mod:`gxkeras.keras.embedding`) starts its thread pool when imported.
"""
import importlib
from typing import Any

# Each public name and the module that defines it.
_FACE = {
    "check_layer_count": "allowlist", "check_model_config": "allowlist",
    "compile_fit_params": "compile_form", "read_model_json": "compile_form",
    "check_output_size": "config_size", "check_parameters": "config_size",
    "check_word_indices": "embedding", "embedding_input_dim": "embedding",
    "import_keras": "environment",
    "BATCH_CLASSIFIER": "estimators", "KERAS_BUILD_ERRORS": "estimators", "is_classifier": "estimators",
    "make_estimator": "estimators", "model_input_shape": "estimators",
    "FASTA_GENERATORS": "generators", "GENERATOR_ARGS": "generators", "GENOMIC_GENERATOR": "generators",
    "MAX_SEQ_LENGTH": "generators", "NOT_SUPPORTED_GENERATORS": "generators", "RUNNING_GENERATORS": "generators",
    "check_batch_params": "generators", "check_generator": "generators", "make_generator": "generators",
    "keras_fields": "layer_fields",
    "RNN_CELLS": "layer_shapes",
    "input_width": "layer_weights", "layer_parameters": "layer_weights",
    "CLASSIFIER_LOSSES": "options",
}
__all__ = sorted(_FACE)


def __getattr__(name: str) -> Any:
    if name not in _FACE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_FACE[name]}"), name)


def __dir__() -> list[str]:
    return __all__
