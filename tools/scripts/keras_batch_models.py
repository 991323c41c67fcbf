"""keras_batch_models: "Build Deep learning Batch Training Models" -- a classifier trained by a batch generator.

The model JSON, compile and fit sections are read as "Create deep learning model" reads them
(:mod:`gxkeras.keras.compile_form`); the batch data generator (DNA, RNA or protein one-hot encoding of a
FASTA file, or sequences sampled from a reference genome in intervals with their target features,
batch by batch) is checked as a model file's is (:func:`gxkeras.keras.estimators.check_generator`) and
stored without any file: the FASTA, or the genome, intervals and targets, are the training job's
inputs. Writes the untrained ``KerasGBatchClassifier`` as h5mlm.
"""
import sys
from collections.abc import Sequence
from typing import Any

from gxkeras.data import check_sequence_input
from gxkeras.galaxy import ToolInputError, as_bool, choice, forms, output_paths, run_tool, without_galaxy_keys
from gxkeras.keras import (
    BATCH_CLASSIFIER, CLASSIFIER_LOSSES, GENERATOR_ARGS, GENOMIC_GENERATOR, NOT_SUPPORTED_GENERATORS, RUNNING_GENERATORS,
    check_batch_params, check_generator, compile_fit_params, make_estimator, make_generator, model_input_shape,
    read_model_json,
)
from gxkeras.modelfile import build_and_save, write_built_model

TOOL = "keras_batch_models"
GENERATOR_LABEL = forms.label(TOOL, "generator_type")
LEARNING_TYPE_LABEL = forms.label(TOOL, "learning_type")
LOSS_LABEL = forms.label(TOOL, "loss")
# The form's (and galaxy-ml's) defaults of an empty field that galaxy-ml cannot take empty.
DEFAULTS = {"seq_length": 1000, "center_bin_to_predict": 200, "blacklist_regions": "hg38"}


def generator_params(selection: dict[str, Any] | None) -> dict[str, Any]:
    """``{"generator_type": ..., seq_length, shuffle, seed[, the genomic fields]}`` from the generator conditional."""
    selection = without_galaxy_keys(selection)
    kind = selection.get("generator_type")
    if kind in NOT_SUPPORTED_GENERATORS:
        raise ToolInputError(f"{GENERATOR_LABEL}: {kind} ({NOT_SUPPORTED_GENERATORS[kind]}) is not supported by "
                             f"these Keras 3 tools: a model needs a generator to train; choose one of "
                             f"{', '.join(RUNNING_GENERATORS)}")
    kind = choice(kind, tuple(RUNNING_GENERATORS), GENERATOR_LABEL)
    spec: dict[str, Any] = {"generator_type": kind}
    for key in GENERATOR_ARGS[kind]:
        value = as_bool(selection.get(key))
        spec[key] = DEFAULTS.get(key) if value in ("", None) else value
    if isinstance(spec.get("feature_thresholds"), int) and not isinstance(spec["feature_thresholds"], bool):
        spec["feature_thresholds"] = float(spec["feature_thresholds"])  # a float field Galaxy gave as 1
    return check_generator(spec, GENERATOR_LABEL) or spec  # never None: spec names a generator


def build_estimator(params: dict[str, Any]) -> Any:
    """The untrained ``KerasGBatchClassifier`` described by the form."""
    mode = params.get("mode_selection") or {}
    config, model_type = read_model_json(mode)
    choice(mode.get("learning_type", BATCH_CLASSIFIER), (BATCH_CLASSIFIER,), LEARNING_TYPE_LABEL)
    spec = generator_params(mode.get("generator_selection"))
    check_sequence_input(model_input_shape(config), make_generator(spec), GENERATOR_LABEL)
    loss = (mode.get("compile_params") or {}).get("loss")
    if loss not in CLASSIFIER_LOSSES:
        raise ToolInputError(f"{LOSS_LABEL}: {loss} is a regression loss; a {BATCH_CLASSIFIER} is a "
                             "classifier (e.g. binary_crossentropy)")
    options = compile_fit_params(mode, config, regression=False)
    factor = mode.get("class_positive_factor")
    batch = {"data_batch_generator": spec, "prediction_steps": mode.get("prediction_steps") or None,
             "class_positive_factor": 1 if factor in (None, "") else factor}
    check_batch_params(batch, "Build Deep learning Batch Training Models")
    return make_estimator(BATCH_CLASSIFIER, config, model_type, **options, **batch)


def summary(estimator: Any) -> str:
    """One line on what was built, the generator included (the Galaxy tests read it)."""
    generator = estimator.data_batch_generator
    fields = "".join(f", {key} {getattr(generator, key)}" for key in GENERATOR_ARGS[GENOMIC_GENERATOR][3:]
                     if type(generator).__name__ == GENOMIC_GENERATOR)
    return (f"{type(estimator).__name__}: {estimator.model_type} model with {len(estimator.config['layers'])} layers; "
            f"generator {type(generator).__name__} (seq_length {generator.seq_length}, shuffle {generator.shuffle}, "
            f"seed {generator.seed}{fields}); loss {estimator.loss}, optimizer {estimator.optimizer}, "
            f"metrics {estimator.metrics or 'none'}, epochs {estimator.epochs}, batch_size {estimator.batch_size}, "
            f"class_positive_factor {estimator.class_positive_factor}, seed {estimator.seed}")


def main(argv: Sequence[str] | None = None) -> None:
    write_built_model(None if argv is None else list(argv), (__doc__ or "").splitlines()[0], "keras_batch_models", build_and_describe)


def build_and_describe(params: dict[str, Any], paths: dict[str, str]) -> dict[str, Any]:
    """The contained work: the estimator built and written to ``paths["outfile"]``, and described."""
    return build_and_save(build_estimator, summary, params, paths["outfile"])


if __name__ == "__main__":
    run_tool(main, outputs=output_paths(sys.argv[1:], "--outfile"))
