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

import numpy as np

from gxkeras.galaxy.errors import ModelRefused, ToolInputError, first_line, output_paths, run_tool
from gxkeras.data.fasta import (
    FASTA_LABEL, check_sequence_input, encode, one_hot_chunk_rows, quiet_generator_warning, sample_indices,
    sequence_lengths, sequence_names, stage_fasta,
)
from gxkeras.galaxy import forms
from gxkeras.galaxy.inputs import load_inputs
from gxkeras.modelfile.sklearn_loaders import PREDICTION_ROWS
from gxkeras.data.genomic import GENOME_LABEL, VCF_LABEL, stage_vcf
from gxkeras.galaxy.input_types import input_type
from gxkeras.data.matrix_market import read_matrix_market
from gxkeras.keras import FASTA_GENERATORS, MAX_SEQ_LENGTH, check_word_indices, embedding_input_dim, make_generator
from gxkeras.modelfile import ModelFile, keras_weights_name, load_weights_file, run_contained
from gxkeras.data.tabular import iter_tabular
from gxkeras.galaxy.values import as_bool

ESTIMATOR_LABEL = "Choose the dataset containing pipeline/estimator object"
WEIGHTS_LABEL = "Choose the dataset containing weights for the estimator above"
DATA_LABEL = "Training samples dataset"
SPARSE_LABEL = "Select a sparse matrix"
SEQ_TYPE_LABEL = "Sequence type"
SEQ_TYPES = forms.options("model_prediction", "seq_type")  # galaxy-ml's FASTA generators, by the form
METHODS = ("predict", "predict_proba")
SEQ_LENGTH_LABEL = "Encoding sequence length"  # the Galaxy-ML form's label (its typo "seqence" corrected)
VARIANT_BLACKLISTS = forms.options("model_prediction", "blacklist_regions")  # none, hg38, hg19
VARIANT_COLUMNS = ("chrom", "pos", "name", "ref", "alt", "strand")  # the Galaxy-ML tool's output columns
CHUNK_ROWS = PREDICTION_ROWS  # rows read, checked and predicted at a time (the loaders size outputs by it)
VARIANT_BYTES_PER_VALUE = 20  # an encoded variant's value: float64 from galaxy-ml, stacked (8), then float32 (4)
# Keras batch size for prediction: no gradients are kept, so a batch far larger than training's costs
# little memory (1,024 x 500 steps of LSTM state: tens of MB) and each of the LSTM's per-time-step ops
# then works on 8x more rows at once: about 1.15x faster than batch 128 (docs/performance.md).
PREDICT_BATCH_SIZE = 1024


def model_input_shape(estimator):
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


def check_columns(n_columns, shape, label=DATA_LABEL):
    """One clear error when the data's column count is not what the model takes."""
    if any(dim is None for dim in shape):
        if len(shape) == 1:
            return  # variable-length sequences: any number of columns
        raise ToolInputError(f"{ESTIMATOR_LABEL}: the model's input shape {shape} has an unknown dimension")
    expected = int(np.prod(shape))
    if n_columns != expected:
        raise ToolInputError(
            f"{label}: the selected data has {n_columns} columns, but the model expects {expected} "
            f"(input shape {shape}); check the columns selected and the header option"
        )


def format_values(values):
    """Text cells: integers as such, other numbers with 6 decimals; labels as they are (:func:`check_cells`)."""
    values = np.asarray(values)
    if values.dtype.kind in "iub":
        return values.astype(str)
    if values.dtype.kind == "f":
        return np.char.mod("%.6f", values)
    return check_cells(values.astype(str))


# What a cell of a tabular output cannot hold: a model's text label with one of them wrote other rows and columns
# than the model predicts (a class "b\nINJECTED" added a row).
CELL_BREAKS = ("\t", "\n", "\r")


def check_cells(cells):
    """Text cells (a model's class labels) that keep the table's rows and columns: no tab or line break."""
    for cell in np.ravel(cells):
        if any(mark in cell for mark in CELL_BREAKS):
            raise ModelRefused(f"{ESTIMATOR_LABEL}: the class label {cell[:40]!r} holds a tab or a line break, "
                                 "which a tabular output cannot hold; the file is refused")
    return cells


def check_method(estimator, method):
    if method == "predict_proba" and not hasattr(estimator, "predict_proba") and hasattr(estimator, "classes_"):
        raise ToolInputError(  # e.g. an SVC fitted without probability=True, an SGDClassifier with hinge loss
            f"Select invocation method: predict_proba: this {type(estimator).__name__} was fitted without "
            "probability estimates; choose predict"
        )
    if method == "predict_proba" and not hasattr(estimator, "predict_proba"):
        raise ToolInputError(
            f"Select invocation method: predict_proba needs a classifier; "
            f"this model is a {type(estimator).__name__}"
        )


def sklearn_features(estimator):
    """The number of columns a scikit-learn estimator (a pipeline's first step) was fitted on."""
    first = estimator.steps[0][1] if hasattr(estimator, "steps") else estimator
    n_features = getattr(first, "n_features_in_", None)
    if not isinstance(n_features, (int, np.integer)):
        raise ToolInputError(f"{ESTIMATOR_LABEL}: the {type(estimator).__name__} has not been fitted")
    return (int(n_features),)


def predict_sklearn(estimator, method, values):
    """``predict``/``predict_proba`` of a scikit-learn model; its own complaints become one error line."""
    try:
        return getattr(estimator, method)(values)
    except (ValueError, TypeError, AttributeError, IndexError) as error:
        raise ToolInputError(f"{ESTIMATOR_LABEL}: the {type(estimator).__name__} cannot {method} these data: "
                             f"{first_line(error)}") from None


def predict_chunks(estimator, method, chunks, handle, header_line=False, label=DATA_LABEL):
    """Predict each chunk of rows and write the rows; return the number of rows written (``label``: the data's)."""
    shape = vocabulary = None
    sklearn = not hasattr(estimator, "config")  # galaxy-ml's Keras estimators keep their model config
    rows = 0
    for values, _names in chunks:
        if shape is None:
            shape = sklearn_features(estimator) if sklearn else model_input_shape(estimator)
            check_columns(values.shape[1], shape, label)
            check_method(estimator, method)
            handle.write("\t".join(header(estimator, method)) + "\n")
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
        predicted = np.asarray(predicted)
        if predicted.ndim == 1:
            predicted = predicted[:, None]
        predicted = predicted.reshape(len(predicted), -1)
        cells = format_values(predicted)
        handle.write("".join("\t".join(row) + "\n" for row in cells))
        rows += len(predicted)
    return rows


def header(estimator, method):
    """Column names: ``Predicted`` for labels, the class labels for probabilities."""
    if method == "predict_proba":
        return list(check_cells([str(name) for name in estimator.classes_]))
    units = estimator.model_.output_shape[-1] if hasattr(estimator, "model_") else 1  # scikit-learn: 1
    if hasattr(estimator, "classes_") or units == 1:
        return ["Predicted"]  # one label (or one value) per row; multi-label models give one column each
    return [f"Predicted_{index}" for index in range(units)]


def matrix_chunks(values, chunk_rows):
    """A dense matrix's rows in chunks, as :func:`iter_tabular` gives a table's (no column names)."""
    for start in range(0, len(values), chunk_rows):
        yield values[start:start + chunk_rows], []


def fasta_chunks(generator, n_sequences, chunk_rows):
    """The sequences one-hot encoded by ``generator``, ``chunk_rows`` at a time (fewer for long sequences),
    each row flattened."""
    indices = sample_indices(n_sequences)
    chunk_rows = one_hot_chunk_rows(chunk_rows, generator.seq_length, generator.n_bases)
    for start in range(0, n_sequences, chunk_rows):
        encoded = encode(generator, indices[start:start + chunk_rows])
        yield encoded.reshape(len(encoded), -1), []


def sequence_generator(estimator, seq_type, fasta):
    """The chosen sequence type's generator on ``fasta``, with the model's seq_length (its stored generator's,
    else its input length), checked against the model's input shape."""
    if seq_type not in SEQ_TYPES or seq_type not in FASTA_GENERATORS:
        raise ToolInputError(f"{SEQ_TYPE_LABEL}: unknown sequence type {str(seq_type)[:60]!r}; expected one of "
                             f"{', '.join(SEQ_TYPES)}")
    stored = getattr(estimator, "data_batch_generator", None)
    shape = model_input_shape(estimator)
    length = stored.seq_length if stored is not None else (shape[0] if len(shape) == 2 else None)
    if not isinstance(length, int):
        raise ToolInputError(f"{ESTIMATOR_LABEL}: the model's input shape {shape} does not take encoded sequences "
                             "(seq_length, 4) or (seq_length, 20)")
    generator = make_generator({"generator_type": seq_type, "seq_length": length, "shuffle": False}, fasta)
    check_sequence_input(shape, generator, f"{SEQ_TYPE_LABEL}: {seq_type}")
    return generator


def variant_generator(estimator, data, genome, vcf):
    """galaxy-ml's GenomicVariantBatchGenerator on the staged genome and VCF, its variants read.

    The model must take one encoded sequence of the form's seq_length, ``(seq_length, 4)``.
    """
    from galaxy_ml.preprocessors import GenomicVariantBatchGenerator

    seq_length = data.get("seq_length")
    if isinstance(seq_length, bool) or not isinstance(seq_length, int) or not 1 <= seq_length <= MAX_SEQ_LENGTH:
        raise ToolInputError(f"{SEQ_LENGTH_LABEL}: must be an integer from 1 to {MAX_SEQ_LENGTH}, got "
                             f"{str(seq_length)[:30]!r}")
    blacklist = data.get("blacklist_regions") or "none"
    if blacklist not in VARIANT_BLACKLISTS:
        raise ToolInputError(f"blacklist regions: unknown choice {str(blacklist)[:60]!r}; expected one of "
                             f"{', '.join(VARIANT_BLACKLISTS)}")
    shape = model_input_shape(estimator)
    if tuple(shape) != (seq_length, 4):
        raise ToolInputError(f"{SEQ_LENGTH_LABEL}: {seq_length}: each variant is encoded as ({seq_length}, 4), but "
                             f"the model's input shape is {tuple(shape)}")
    generator = GenomicVariantBatchGenerator(ref_genome_path=genome, vcf_path=vcf, seq_length=seq_length,
                                             blacklist_regions=None if blacklist == "none" else blacklist,
                                             output_reference=as_bool(data.get("output_reference")) is True)
    generator.set_processing_attrs()
    return generator


def predict_variants(estimator, method, generator, handle, chunk_rows):
    """Encode each variant allele (or its reference), predict, and write its VCF fields and the predictions."""
    check_method(estimator, method)
    variants = generator.variants
    batch_size = max(estimator.batch_size or 1, PREDICT_BATCH_SIZE)
    # each variant: galaxy-ml's float64 encoding, its stacked copy and the float32 one
    chunk_rows = one_hot_chunk_rows(chunk_rows, generator.seq_length, 4, VARIANT_BYTES_PER_VALUE)
    for start in range(0, len(variants), chunk_rows):
        indices = range(start, min(start + chunk_rows, len(variants)))
        encoded = [generator.apply_transform(index) for index in indices]
        for index, array in zip(indices, encoded, strict=True):
            if array.shape != (generator.seq_length, 4):
                chrom, pos, _, ref, alt, _ = variants[index]
                raise ToolInputError(f"{VCF_LABEL}: the variant {chrom}:{pos} {ref[:20]}>{alt[:20]} is encoded as "
                                     f"{array.shape[0]} bases, not {generator.seq_length}")
        predicted = np.asarray(getattr(estimator, method)(np.stack(encoded).astype("float32"),
                                                          batch_size=batch_size, verbose=0))
        predicted = predicted.reshape(len(encoded), -1)
        if start == 0:
            handle.write("\t".join([*VARIANT_COLUMNS, *map(str, range(predicted.shape[1]))]) + "\n")
        for index, row in zip(indices, format_values(predicted), strict=True):
            handle.write("\t".join([*map(str, variants[index]), *row]) + "\n")
    return len(variants)


def weights_path(params):
    """The dataset of the optional "Weights to load instead of the model's own" (a repeat of at most one)."""
    rows = params.get("weights") or []
    if len(rows) > 1:
        raise ToolInputError(f"{WEIGHTS_LABEL}: {len(rows)} weights datasets given; give at most one")
    return rows[0].get("infile_weights") if rows else None


def stage_inputs(data, selected):
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


def run(params, outfile, chunk_rows=CHUNK_ROWS):
    """Predict with the form's parameters and write ``outfile``; return the number of rows.

    This process only stages the inputs: the model is opened, audited, built and called, and the data read,
    in a contained process (:func:`predict`, :mod:`gxkeras.modelfile.containment`), and ``outfile`` appears only once
    that process has succeeded.
    """
    estimator_path = params.get("infile_estimator")
    if not estimator_path:
        raise ToolInputError(f"{ESTIMATOR_LABEL}: no dataset given")
    data = params.get("input_options") or {}
    selected = input_type(data.get("selected_input"), "Select input data type for prediction", "model_prediction")
    staged, readable = stage_inputs(data, selected)
    weights = weights_path(params)
    with keras_weights_name(weights) if weights else contextlib.nullcontext() as named:  # Keras reads it by name
        job = {"params": params, "selected": selected, "staged": staged, "chunk_rows": chunk_rows, "weights": named}
        return run_contained(predict, job, f"{ESTIMATOR_LABEL} ({estimator_path})",
                             readable=[estimator_path, weights, *readable], output=outfile)


def predict(job, handle):
    """The contained part of :func:`run`: the model file opened, audited and built once, the data read and
    checked, the predictions written to ``handle``; the number of rows."""
    params = job["params"]
    with ModelFile(params["infile_estimator"], ESTIMATOR_LABEL) as model:
        method = params.get("method") or "predict"
        if method not in METHODS:
            raise ToolInputError(f"Select invocation method: unknown method '{method}', expected one of "
                                 f"{', '.join(METHODS)}")
        if job["selected"] == "variant_effect":
            return predict_variants_job(model, method, job, handle)
        return predict_rows_job(model, method, job, handle)


def built_keras_model(model, job):
    """The Keras estimator of ``model``, with the form's weights (linked as ``job["weights"]``) if given."""
    estimator = model.build()
    if job["weights"]:
        load_weights_file(estimator, job["weights"], f"{WEIGHTS_LABEL} ({weights_path(job['params'])})",
                          ESTIMATOR_LABEL)
    return estimator


def predict_rows_job(model, method, job, handle):
    """Tables, sparse matrices and FASTA sequences: one row of predictions per row or sequence."""
    data, selected, chunk_rows = job["params"].get("input_options") or {}, job["selected"], job["chunk_rows"]
    sparse, fasta = selected == "sparse", selected == "seq_fasta"
    label = SPARSE_LABEL if sparse else FASTA_LABEL if fasta else DATA_LABEL
    if fasta:
        quiet_generator_warning()
        chunks = first = None
    elif not data.get("infile1"):
        raise ToolInputError(f"{label}: no dataset given")
    elif sparse:  # the old tools' sparse matrix (MatrixMarket): one row per sample, made dense
        chunks = matrix_chunks(read_matrix_market(data["infile1"], SPARSE_LABEL), chunk_rows)
    else:
        selection = data.get("column_selector_options_1") or {}
        chunks = iter_tabular(
            data["infile1"], DATA_LABEL, header=bool(data.get("header1")),
            column_option=selection.get("selected_column_selector_option", "all_columns"),
            columns=selection.get("col1"), chunk_rows=chunk_rows,
        )
    if not fasta:
        first = next(chunks)  # reads and checks the first rows before the model is built

    if model.sklearn and fasta:
        raise ToolInputError(f"{FASTA_LABEL}: sequences are predicted by a Keras model (a KerasGBatchClassifier); "
                             "this is a scikit-learn model")
    if model.sklearn and job["weights"]:
        raise ToolInputError(f"{WEIGHTS_LABEL}: Keras weights cannot be loaded into a scikit-learn model; "
                             "leave this empty")
    estimator = model.build() if model.sklearn else built_keras_model(model, job)  # scikit-learn: no TensorFlow
    if fasta:
        generator = sequence_generator(estimator, data.get("seq_type"), job["staged"]["fasta"])
        chunks = fasta_chunks(generator, job["staged"]["n_sequences"], chunk_rows)
        first = next(chunks)

    def all_chunks():
        yield first
        yield from chunks

    return predict_chunks(estimator, method, all_chunks(), handle, bool(data.get("header1")) and selected == "tabular",
                          label)


def predict_variants_job(model, method, job, handle):
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


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", required=True, help="Galaxy's inputs JSON (the form's values, dataset paths)")
    parser.add_argument("--outfile", required=True, help="where to write the predictions (tabular)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    params = load_inputs(args.inputs)
    rows = run(params, args.outfile)
    print(f"Predicted {rows} rows with {params.get('method') or 'predict'}")


if __name__ == "__main__":
    run_tool(main, outputs=output_paths(sys.argv[1:], "--outfile"))
