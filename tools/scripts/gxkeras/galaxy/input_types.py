"""The "Select input type" of the Galaxy-ML tools, per tool, with the old forms' values.

Both tools read tabular data, a sparse matrix (MatrixMarket, :mod:`gxkeras.data.matrix_market`) and
sequences in a fasta file (a ``KerasGBatchClassifier``'s generator, :mod:`gxkeras.data.fasta`). Training
also reads a reference genome with intervals and target features (``refseq_and_interval``, a
``GenomicIntervalBatchGenerator``, :mod:`gxkeras.data.genomic`); prediction a reference genome with a
variant call file (``variant_effect``, galaxy-ml's ``GenomicVariantBatchGenerator``).
"""
from gxkeras.galaxy.values import choice

COMMON_INPUTS = ("tabular", "sparse", "seq_fasta")
INPUT_TYPES = {
    "keras_train_and_eval": (*COMMON_INPUTS, "refseq_and_interval"),
    "model_prediction": (*COMMON_INPUTS, "variant_effect"),
}


def input_type(selected: str | None, label: str, tool: str) -> str:
    """``selected`` (the form's input type, ``label`` its label): one of ``tool``'s INPUT_TYPES, else one error."""
    return choice(selected or "tabular", INPUT_TYPES[tool], label)
