"""The "Select input type" of the Galaxy-ML tools: tabular data, a sparse matrix, or FASTA sequences.

The sparse matrix (MatrixMarket) is read by :mod:`gxkeras.matrix_market`; sequences in a fasta file
are read by a ``KerasGBatchClassifier``'s generator (:mod:`gxkeras.fasta`). The Galaxy-ML tools also
read genomic intervals or variants (selene's genome readers, with a reference genome and tabix
files). Our forms keep those values so that saved workflows load; a job that chose one stops with
one line instead of running something else.
"""
from gxkeras.errors import ToolInputError

INPUT_TYPES = ("tabular", "sparse", "seq_fasta")
RETIRED_INPUTS = {
    "refseq_and_interval": "reference genome and intervals",
    "variant_effect": "reference genome and variant call file",
}


def input_type(selected: str | None, label: str) -> str:
    """``selected`` (the form's input type, ``label`` its label): one of INPUT_TYPES, else one error."""
    selected = selected or "tabular"
    if selected in RETIRED_INPUTS:
        raise ToolInputError(f"{label}: '{RETIRED_INPUTS[selected]}' input was a Galaxy-ML 1.0 feature that this "
                             "Keras 3 tool does not have; give the samples as tabular data, a sparse matrix or sequences in a fasta file")
    if selected not in INPUT_TYPES:
        raise ToolInputError(f"{label}: unknown input type {str(selected)[:60]!r}")
    return selected
