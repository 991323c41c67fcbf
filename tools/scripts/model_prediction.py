"""model_prediction: predict on new data with a prefitted h5mlm model ("Model Prediction" tool).

The model is a galaxy-ml Keras estimator (Keras and TensorFlow are loaded) or a scikit-learn
estimator or pipeline that galaxy-ml saved (loaded under :mod:`gxkeras.modelfile.sklearn_loaders.reader`'s allow-list,
without TensorFlow), as the Galaxy-ML tool of the same id predicted every Galaxy-ML model.
Besides tables and sparse matrices it predicts sequences of a FASTA file and (``variant_effect``)
the variants of a VCF on a reference genome, encoded by galaxy-ml's ``GenomicVariantBatchGenerator``.

The model file is opened, audited, built and called, and the data read, in a contained process
(:mod:`gxkeras.modelfile.containment`: it can read only the installed software and this job's inputs, write no
file, start nothing, reach no network); this process stages the inputs that need writing first (:func:`run`).
The data are read, checked and predicted in chunks of rows, and the rows of predictions are
written as they come, so that 25,000 reviews x 500 word indices never need to be held as text at
once. The output is written to a temporary file next to the final one and moved into place only
when the contained process has predicted every row: a failed job leaves no output that looks valid.
"""
import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from typing import IO, Any

import numpy as np

from gxkeras.data import (
    FASTA_LABEL, GENOME_LABEL, VCF_LABEL, check_sequence_input, fasta_chunks, iter_tabular, matrix_chunks,
    quiet_generator_warning, read_matrix_market, sequence_lengths, sequence_names, stage_fasta, stage_vcf,
    variant_chunks,
)
from gxkeras.galaxy import (
    ToolInputError, as_bool, choice, first_line, forms, input_type, load_inputs, output_paths,
    parse_int, run_tool,
)
from gxkeras.keras import check_word_indices, embedding_input_dim
from gxkeras.keras import FASTA_GENERATORS, MAX_SEQ_LENGTH, make_generator
from gxkeras.modelfile import run_contained
from gxkeras.modelfile import ModelFile, keras_weights_name, load_weights_file
from gxkeras.modelfile.sklearn_loaders import PREDICTION_ROWS
from gxkeras.report import check_columns, prediction_cells, prediction_header, write_rows, write_variant_rows

TOOL = "model_prediction"
ESTIMATOR_LABEL = forms.label(TOOL, "infile_estimator")
WEIGHTS_LABEL = forms.label(TOOL, "infile_weights")
DATA_LABEL = forms.label(TOOL, "infile1", "tabular")
SPARSE_LABEL = forms.label(TOOL, "infile1", "sparse")
INPUT_TYPE_LABEL = forms.label(TOOL, "selected_input")
METHOD_LABEL = forms.label(TOOL, "method")
METHODS = forms.options(TOOL, "method")  # predict, predict_proba
SEQ_TYPE_LABEL = forms.label(TOOL, "seq_type")
SEQ_TYPES = tuple(kind for kind in forms.options(TOOL, "seq_type") if kind in FASTA_GENERATORS)
SEQ_LENGTH_LABEL = forms.label(TOOL, "seq_length")
BLACKLIST_LABEL = forms.label(TOOL, "blacklist_regions")
VARIANT_BLACKLISTS = forms.options(TOOL, "blacklist_regions")  # none, hg38, hg19
CHUNK_ROWS = PREDICTION_ROWS  # rows read, checked and predicted at a time (the loaders size outputs by it)
# Keras batch size for prediction: no gradients are kept, so a batch far larger than training's costs
# little memory (1,024 x 500 steps of LSTM state: tens of MB) and each of the LSTM's per-time-step ops
# then works on 8x more rows at once: about 1.15x faster than batch 128 (docs/performance.md).
PREDICT_BATCH_SIZE = 1024
Chunks = Iterator[tuple[np.ndarray, list[str]]]


def model_input_shape(estimator: Any) -> tuple[Any, ...]:
    """The Keras model's input shape without the batch axis, e.g. (100,)."""
    model = getattr(estimator, "model_", None)
    if model is None:
        raise ToolInputError(
            f"{ESTIMATOR_LABEL}: the model has not been trained (no weights): train it first, "
            f"or give its weights in '{WEIGHTS_LABEL}'"
        )
    shape = model.input_shape
    if isinstance(shape, list):
        if len(shape) != 1:
            raise ToolInputError(f"{ESTIMATOR_LABEL}: the model has {len(shape)} inputs; only one tabular input is supported")
        shape = shape[0]
    return tuple(shape[1:])


def check_method(estimator: Any, method: str) -> None:
    if method == "predict_proba" and not hasattr(estimator, "predict_proba") and hasattr(estimator, "classes_"):
        raise ToolInputError(  # e.g. an SVC fitted without probability=True, an SGDClassifier with hinge loss
            f"{METHOD_LABEL}: predict_proba: this {type(estimator).__name__} was fitted without "
            "probability estimates; choose predict"
        )
    if method == "predict_proba" and not hasattr(estimator, "predict_proba"):
        raise ToolInputError(
            f"{METHOD_LABEL}: predict_proba needs a classifier; "
            f"this model is a {type(estimator).__name__}"
        )


def sklearn_features(estimator: Any) -> tuple[int]:
    """The number of columns a scikit-learn estimator (a pipeline's first step) was fitted on."""
    first = estimator.steps[0][1] if hasattr(estimator, "steps") else estimator
    n_features = getattr(first, "n_features_in_", None)
    if not isinstance(n_features, (int, np.integer)):
        raise ToolInputError(f"{ESTIMATOR_LABEL}: the {type(estimator).__name__} has not been fitted")
    return (int(n_features),)


def predict_sklearn(estimator: Any, method: str, values: np.ndarray) -> Any:
    """``predict``/``predict_proba`` of a scikit-learn model; its own complaints become one error line."""
    try:
        return getattr(estimator, method)(values)
    except (ValueError, TypeError, AttributeError, IndexError) as error:
        raise ToolInputError(f"{ESTIMATOR_LABEL}: the {type(estimator).__name__} cannot {method} these data: "
                             f"{first_line(error)}") from None


def predict_chunks(estimator: Any, method: str, chunks: Chunks, handle: IO[str], header_line: bool = False,
                   label: str = DATA_LABEL) -> int:
    """Predict each chunk of rows and write the rows; return the number of rows written (``label``: the data's)."""
    shape: tuple[Any, ...] | None = None
    vocabulary = None
    sklearn = not hasattr(estimator, "config")  # galaxy-ml's Keras estimators keep their model config
    rows = 0
    for values, _names in chunks:
        if shape is None:
            shape = sklearn_features(estimator) if sklearn else model_input_shape(estimator)
            check_columns(values.shape[1], shape, label, ESTIMATOR_LABEL)
            check_method(estimator, method)
            handle.write("\t".join(prediction_header(estimator, method, ESTIMATOR_LABEL)) + "\n")
            vocabulary = None if sklearn else embedding_input_dim(estimator.config)
        if vocabulary:
            check_word_indices(values, vocabulary, label, rows + 1 + int(bool(header_line)))
        if len(shape) > 1:
            values = values.reshape((len(values),) + shape)
        if sklearn:
            predicted = predict_sklearn(estimator, method, values)
        else:
            batch_size = max(estimator.batch_size or 1, PREDICT_BATCH_SIZE)
            predicted = getattr(estimator, method)(values, batch_size=batch_size, verbose=0)
        cells = prediction_cells(predicted, ESTIMATOR_LABEL)
        write_rows(handle, cells)
        rows += len(cells)
    return rows


def sequence_generator(estimator: Any, seq_type: object, fasta: str) -> Any:
    """The chosen sequence type's generator on ``fasta``, with the model's seq_length (its stored generator's,
    else its input length), checked against the model's input shape."""
    seq_type = choice(seq_type, SEQ_TYPES, SEQ_TYPE_LABEL)
    stored = getattr(estimator, "data_batch_generator", None)
    shape = model_input_shape(estimator)
    length = stored.seq_length if stored is not None else (shape[0] if len(shape) == 2 else None)
    if not isinstance(length, int):
        raise ToolInputError(f"{ESTIMATOR_LABEL}: the model's input shape {shape} does not take encoded sequences "
                             "(seq_length, 4) or (seq_length, 20)")
    generator = make_generator({"generator_type": seq_type, "seq_length": length, "shuffle": False}, fasta)
    check_sequence_input(shape, generator, f"{SEQ_TYPE_LABEL}: {seq_type}")
    return generator


def variant_generator(estimator: Any, data: dict[str, Any], genome: str, vcf: str) -> Any:
    """galaxy-ml's GenomicVariantBatchGenerator on the staged genome and VCF, its variants read.

    The model must take one encoded sequence of the form's seq_length, ``(seq_length, 4)``.
    """
    from galaxy_ml.preprocessors import GenomicVariantBatchGenerator

    seq_length = parse_int(data.get("seq_length"), SEQ_LENGTH_LABEL, 1, MAX_SEQ_LENGTH)
    blacklist = choice(data.get("blacklist_regions") or "none", VARIANT_BLACKLISTS, BLACKLIST_LABEL)
    shape = model_input_shape(estimator)
    if tuple(shape) != (seq_length, 4):
        raise ToolInputError(f"{SEQ_LENGTH_LABEL}: {seq_length}: each variant is encoded as ({seq_length}, 4), but "
                             f"the model's input shape is {tuple(shape)}")
    generator = GenomicVariantBatchGenerator(ref_genome_path=genome, vcf_path=vcf, seq_length=seq_length,
                                             blacklist_regions=None if blacklist == "none" else blacklist,
                                             output_reference=as_bool(data.get("output_reference")) is True)
    generator.set_processing_attrs()
    return generator


def predict_variants(estimator: Any, method: str, generator: Any, handle: IO[str], chunk_rows: int) -> int:
    """Encode each variant allele (or its reference), predict, and write its VCF fields and the predictions."""
    check_method(estimator, method)
    batch_size = max(estimator.batch_size or 1, PREDICT_BATCH_SIZE)
    for indices, encoded in variant_chunks(generator, chunk_rows):
        predicted = getattr(estimator, method)(encoded, batch_size=batch_size, verbose=0)
        write_variant_rows(handle, generator.variants, indices, prediction_cells(predicted, ESTIMATOR_LABEL))
    return len(generator.variants)


def weights_path(params: dict[str, Any]) -> str | None:
    """The dataset of the optional "Weights to load instead of the model's own" (a repeat of at most one)."""
    rows = params.get("weights") or []
    if len(rows) > 1:
        raise ToolInputError(f"{WEIGHTS_LABEL}: {len(rows)} weights datasets given; give at most one")
    return rows[0].get("infile_weights") if rows else None


def stage_inputs(data: dict[str, Any], selected: str) -> tuple[dict[str, Any], list[str | None]]:
    """What must be written before the model's process starts, which can write nothing: a FASTA or a genome
    linked into the working directory and indexed there, a VCF checked and copied next to its genome.

    Returns ``(staged paths for :func:`predict`, the files and folders the model's process may read)``.
    """
    if selected == "variant_effect":
        genome = stage_fasta(data.get("ref_genome_file"), GENOME_LABEL, "genome.fasta")
        sequence_lengths(genome, GENOME_LABEL)  # indexed (and checked) before the model is loaded
        vcf, n_lines = stage_vcf(data.get("vcf_file"), os.path.dirname(genome))
        return {"genome": genome, "vcf": vcf, "vcf_lines": n_lines}, [os.path.dirname(genome),
                                                                       data.get("ref_genome_file")]
    if selected == "seq_fasta":  # encoded once the model is loaded
        fasta = stage_fasta(data.get("fasta_path"), FASTA_LABEL)
        return {"fasta": fasta, "n_sequences": len(sequence_names(fasta, FASTA_LABEL))}, [os.path.dirname(fasta),
                                                                                          data.get("fasta_path")]
    return {}, [data.get("infile1")]


def run(params: dict[str, Any], outfile: str, chunk_rows: int = CHUNK_ROWS) -> int:
    """Predict with the form's parameters and write ``outfile``; return the number of rows.

    This process only stages the inputs: the model is opened, audited, built and called, and the data read,
    in a contained process (:func:`predict`, :mod:`gxkeras.modelfile.containment`), and ``outfile`` appears only once
    that process has succeeded.
    """
    estimator_path = params.get("infile_estimator")
    if not estimator_path:
        raise ToolInputError(f"{ESTIMATOR_LABEL}: no dataset given")
    data = params.get("input_options") or {}
    selected = input_type(data.get("selected_input"), INPUT_TYPE_LABEL, TOOL)
    staged, readable = stage_inputs(data, selected)
    weights = weights_path(params)
    with keras_weights_name(weights) if weights else contextlib.nullcontext() as named:  # Keras reads it by name
        job = {"params": params, "selected": selected, "staged": staged, "chunk_rows": chunk_rows, "weights": named}
        return int(run_contained(predict, job, f"{ESTIMATOR_LABEL} ({estimator_path})",
                                 readable=[path for path in (estimator_path, weights, *readable) if path],
                                 output=outfile))


def predict(job: dict[str, Any], handle: IO[str]) -> int:
    """The contained part of :func:`run`: the model file opened, audited and built once, the data read and
    checked, the predictions written to ``handle``; the number of rows."""
    params = job["params"]
    with ModelFile(params["infile_estimator"], ESTIMATOR_LABEL) as model:
        method = choice(params.get("method") or "predict", METHODS, METHOD_LABEL)
        if job["selected"] == "variant_effect":
            return predict_variants_job(model, method, job, handle)
        return predict_rows_job(model, method, job, handle)


def built_keras_model(model: Any, job: dict[str, Any]) -> Any:
    """The Keras estimator of ``model``, with the form's weights (linked as ``job["weights"]``) if given."""
    estimator = model.build()
    if job["weights"]:
        load_weights_file(estimator, job["weights"], f"{WEIGHTS_LABEL} ({weights_path(job['params'])})",
                          ESTIMATOR_LABEL)
    return estimator


def data_chunks(data: dict[str, Any], selected: str, chunk_rows: int) -> tuple[Chunks, str]:
    """The chunks of a table or a sparse matrix (the first read and checked before the model is built), and
    the input's label."""
    label = SPARSE_LABEL if selected == "sparse" else DATA_LABEL
    if not data.get("infile1"):
        raise ToolInputError(f"{label}: no dataset given")
    if selected == "sparse":  # the old tools' sparse matrix (MatrixMarket): one row per sample, made dense
        chunks = matrix_chunks(read_matrix_market(data["infile1"], SPARSE_LABEL), chunk_rows)
    else:
        selection = data.get("column_selector_options_1") or {}
        chunks = iter_tabular(
            data["infile1"], DATA_LABEL, header=bool(data.get("header1")),
            column_option=selection.get("selected_column_selector_option", "all_columns"),
            columns=selection.get("col1"), chunk_rows=chunk_rows,
        )
    return with_first(chunks), label


def with_first(chunks: Chunks) -> Chunks:
    """``chunks`` with its first chunk read now (its errors before the model is built), then the rest lazily."""
    first = next(chunks)

    def again() -> Chunks:
        yield first
        yield from chunks
    return again()


def predict_rows_job(model: Any, method: str, job: dict[str, Any], handle: IO[str]) -> int:
    """Tables, sparse matrices and FASTA sequences: one row of predictions per row or sequence."""
    data, selected, chunk_rows = job["params"].get("input_options") or {}, job["selected"], job["chunk_rows"]
    fasta = selected == "seq_fasta"
    if fasta:
        quiet_generator_warning()
        label = FASTA_LABEL
    else:
        chunks, label = data_chunks(data, selected, chunk_rows)
    if model.sklearn and fasta:
        raise ToolInputError(f"{FASTA_LABEL}: sequences are predicted by a Keras model (a KerasGBatchClassifier); "
                             "this is a scikit-learn model")
    if model.sklearn and job["weights"]:
        raise ToolInputError(f"{WEIGHTS_LABEL}: Keras weights cannot be loaded into a scikit-learn model; "
                             "leave this empty")
    estimator = model.build() if model.sklearn else built_keras_model(model, job)  # scikit-learn: no TensorFlow
    if fasta:
        generator = sequence_generator(estimator, data.get("seq_type"), job["staged"]["fasta"])
        chunks = with_first(fasta_chunks(generator, job["staged"]["n_sequences"], chunk_rows))
    return predict_chunks(estimator, method, chunks, handle, bool(data.get("header1")) and selected == "tabular",
                          label)


def predict_variants_job(model: Any, method: str, job: dict[str, Any], handle: IO[str]) -> int:
    """The "reference genome and variant call file" input: one row per variant allele the genome holds."""
    data, staged = job["params"]["input_options"], job["staged"]
    if model.sklearn:
        raise ToolInputError(f"{VCF_LABEL}: variants are predicted by a Keras model of encoded sequences; this is a "
                             "scikit-learn model")
    estimator = built_keras_model(model, job)
    generator = variant_generator(estimator, data, staged["genome"], staged["vcf"])
    try:
        if not generator.variants:
            raise ToolInputError(f"{VCF_LABEL}: none of its {staged['vcf_lines']} variants lies on the reference "
                                 f"genome with {generator.seq_length} bases around it outside the blacklist "
                                 "(galaxy-ml names chromosomes with 'chr': chr1, not 1)")
        rows = predict_variants(estimator, method, generator, handle, job["chunk_rows"])
    finally:
        generator.close()
    print(f"{rows} variant alleles from {staged['vcf_lines']} VCF lines "
          f"({'reference' if generator.output_reference else 'variant'} sequences)")
    return rows


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--inputs", required=True, help="Galaxy's inputs JSON (the form's values, dataset paths)")
    parser.add_argument("--outfile", required=True, help="where to write the predictions (tabular)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    params = load_inputs(args.inputs)
    rows = run(params, args.outfile)
    print(f"Predicted {rows} rows with {params.get('method') or 'predict'}")


if __name__ == "__main__":
    run_tool(main, outputs=output_paths(sys.argv[1:], "--outfile"))
