"""keras_model_builder: "Create deep learning model" -- a model JSON plus compile and fit choices.

Reads the architecture written by ``keras_model_config`` (checked by
:func:`gxkeras.keras.estimators.parse_model_json`), adds the loss, the optimizer and its options, the
metrics, the fit parameters and callbacks chosen in the form, and writes the untrained galaxy-ml
estimator (``KerasGClassifier`` or ``KerasGRegressor``) as h5mlm for ``keras_train_and_eval``; or, in the
old tools' prefitted mode, the architecture with trained weights for ``model_prediction``
(:func:`gxkeras.modelfile.building.prefitted_estimator`).
"""
import sys
from collections.abc import Sequence
from typing import Any

from gxkeras.galaxy import output_paths, run_tool
from gxkeras.keras.compile_form import CLASSIFICATION_ONLY_METRICS, MODEL_LABEL  # noqa: F401 (tests use them)
from gxkeras.modelfile import build_and_save, build_estimator, write_built_model


def summary(estimator: Any) -> str:
    """One line on what was built (the Galaxy tests read it)."""
    if hasattr(estimator, "model_"):  # the prefitted mode: weights, no training settings
        return (f"{type(estimator).__name__}: {estimator.model_type} model with {len(estimator.config['layers'])} "
                f"layers and its {estimator.model_.count_params()} trained weights; predicts the network's outputs")
    return (f"{type(estimator).__name__}: {estimator.model_type} model with {len(estimator.config['layers'])} "
            f"layers; loss {estimator.loss}, optimizer {estimator.optimizer}, metrics {estimator.metrics or 'none'}, "
            f"epochs {estimator.epochs}, batch_size {estimator.batch_size}, seed {estimator.seed}"
            + "".join(f", callback {callback['callback_selection']}" for callback in estimator.callbacks or []))


def main(argv: Sequence[str] | None = None) -> None:
    write_built_model(None if argv is None else list(argv), (__doc__ or "").splitlines()[0], "keras_model_builder", build_and_describe)


def build_and_describe(params: dict[str, Any], paths: dict[str, str]) -> dict[str, Any]:
    """The contained work: the estimator built and written to ``paths["outfile"]``, and described."""
    return build_and_save(build_estimator, summary, params, paths["outfile"])


if __name__ == "__main__":
    run_tool(main, outputs=output_paths(sys.argv[1:], "--outfile"))
