"""keras_model_builder: "Create deep learning model" -- a model JSON plus compile and fit choices.

Reads the architecture written by ``keras_model_config`` (checked by
:func:`gxkeras.estimators.parse_model_json`), adds the loss, the optimizer and its options, the
metrics, the fit parameters and callbacks chosen in the form, and writes the untrained galaxy-ml
estimator (``KerasGClassifier`` or ``KerasGRegressor``) as h5mlm for ``keras_train_and_eval``.
"""
import argparse
import sys

from gxkeras.builder_form import CLASSIFICATION_ONLY_METRICS, MODEL_LABEL, build_estimator  # noqa: F401 (tests use them)
from gxkeras.errors import output_paths, run_tool
from gxkeras.galaxy_inputs import load_inputs
from gxkeras.model_io import save_estimator


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", required=True, help="Galaxy's inputs JSON (the form's values)")
    parser.add_argument("--outfile", required=True, help="where to write the untrained model (h5mlm)")
    args = parser.parse_args(argv)
    estimator = build_estimator(load_inputs(args.inputs))
    save_estimator(estimator, args.outfile)
    print(f"{type(estimator).__name__}: {estimator.model_type} model with {len(estimator.config['layers'])} "
          f"layers; loss {estimator.loss}, optimizer {estimator.optimizer}, metrics {estimator.metrics or 'none'}, "
          f"epochs {estimator.epochs}, batch_size {estimator.batch_size}, seed {estimator.seed}"
          + "".join(f", callback {callback['callback_selection']}" for callback in estimator.callbacks or []))
    print(f"Wrote the untrained model to {args.outfile}")


if __name__ == "__main__":
    run_tool(main, outputs=output_paths(sys.argv[1:], "--outfile"))
