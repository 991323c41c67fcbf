"""keras_train_and_eval: "Deep learning training and evaluation" of a galaxy-ml Keras estimator.

Loads the untrained model written by ``keras_model_builder``, sets the swapped hyperparameters,
reads X and y (one column, or a one-hot table) from tabular datasets, holds out a validation set
(and, in the "Train, Validate and Test" scheme, a test set first), trains on the rest with the
validation set as Keras' ``validation_data`` (so ``val_loss`` is available to callbacks), then scores
the model on the held-out data. Writes the metrics table and, as "Save the fitted model" asks, the
trained model (h5mlm) with its weights (Keras HDF5), the true and predicted values of the evaluation
set, and the per-epoch history. A ``KerasGBatchClassifier`` trains on sequences in a FASTA file
or on a reference genome with intervals and target features (``refseq_and_interval``), its generator
encoding the samples batch by batch.

This script only follows the form through :mod:`gxkeras.train`: the form read once (``train.form``), the
model loaded and its hyperparameters swapped (``train.swapping``), one input object per input type
(``train.inputs``: what differs between tabular data, a sparse matrix, fasta sequences and genomic
intervals), the holdouts (``train.splits``), class weights, the fit (``train.fit``) and the evaluation and
outputs (``train.evaluation``).

All of it runs in a contained process (:func:`run`, :mod:`gxkeras.modelfile.containment`): the model file is an
upload, and what no audit sees must not reach other users' files. The inputs JSON has the layout of the
Galaxy-ML tool (1.0.10/1.0.11), which saved workflows hold (docs/migration.md).
"""

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from gxkeras.galaxy import forms
from gxkeras.galaxy.errors import output_paths, run_tool
from gxkeras.galaxy.inputs import load_inputs, with_absolute_datasets
from gxkeras.keras import import_keras, is_classifier
from gxkeras.modelfile import run_contained
from gxkeras.train import (MODEL_LABEL, TrainerForm, class_weight_choice, input_kind, load_model, metric_names,
                           model_dataset, split, train, write_outputs)

OUTPUT_FLAGS = ("--outfile_result", "--outfile_object", "--outfile_weights", "--outfile_history",
                "--outfile_y_true", "--outfile_y_preds")
OUTPUTS = tuple(flag[2:] for flag in OUTPUT_FLAGS)


def run(params: dict[str, Any], outputs: dict[str, Any]) -> None:
    """Train and evaluate; write the outputs named in ``outputs`` (dict of paths, some None).

    The model file is opened, built and trained, and the data read, in a contained process
    (:func:`gxkeras.modelfile.containment.run_contained`) that may read only the installed software and this job's
    datasets, and write only in a private folder; the outputs are moved into place once it has succeeded.
    """
    params, datasets = with_absolute_datasets(params, forms.dataset_params("keras_train_and_eval"))
    return run_contained(train_and_evaluate, params, f"{MODEL_LABEL} ({model_dataset(params)})", readable=datasets,
                         outputs={name: outputs.get(name) for name in OUTPUTS})


def train_and_evaluate(params: dict[str, Any], outputs: dict[str, Any]) -> None:
    """The contained part of :func:`run`, writing the outputs named in ``outputs`` (dict of paths, some None)."""
    form = TrainerForm.read(params)  # the form's choices checked before TensorFlow loads
    import_keras()  # TensorFlow's settings (threads, quiet start-up) before galaxy-ml imports it
    estimator = load_model(form.model_path, form.swapping)
    classifier = is_classifier(estimator)
    names = metric_names(form.metrics, classifier)
    class_weight = class_weight_choice(form.class_weights, classifier)
    kind = input_kind(form, estimator)
    kind.check_form(form, class_weight)
    samples = kind.read(estimator)

    rows = split(samples.split_labels(), form.holdouts, estimator.seed, classifier)
    kind.check_sets(estimator, {name: samples.X[held] for name, held in rows.items()})
    history = train(estimator, *samples.subset(rows["train"]), *samples.subset(rows["validation"]), samples.n_onehot,
                    class_weight)

    sets = kind.evaluation_sets(estimator, {name: samples.subset(rows[name]) for name in ("validation", "test")
                                            if name in rows})
    evaluation = kind.evaluate(estimator, sets, names, samples.n_onehot)
    evaluation.report({name: len(y) for name, (_, y) in sets.items()})
    write_outputs(outputs, estimator, history, evaluation, kind.features)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--inputs", required=True, help="Galaxy's inputs JSON (the form's values)")
    parser.add_argument("--outfile_result", required=True, help="metrics table (tabular)")
    parser.add_argument("--outfile_object", help="trained model (h5mlm)")
    parser.add_argument("--outfile_weights", help="trained weights (Keras HDF5)")
    parser.add_argument("--outfile_history", help="per-epoch loss and metrics (tabular)")
    parser.add_argument("--outfile_y_true", help="true values of the evaluation set (tabular)")
    parser.add_argument("--outfile_y_preds", help="predicted values of the evaluation set (tabular)")
    args = parser.parse_args(argv)
    if bool(args.outfile_y_true) != bool(args.outfile_y_preds):
        parser.error("--outfile_y_true and --outfile_y_preds go together")
    run(load_inputs(args.inputs), vars(args))


if __name__ == "__main__":
    run_tool(main, outputs=output_paths(sys.argv[1:], *OUTPUT_FLAGS))
