"""The "Select input type" of the Galaxy-ML tools: tabular data, or a sparse matrix (MatrixMarket).

The Galaxy-ML tools also read fasta sequences and genomic intervals or variants (with Keras 2 batch
generators that Keras 3 galaxy-ml no longer has). Our forms keep those values so that saved
workflows load; a job that chose one stops with one line instead of running something else.
The sparse matrix is read by :mod:`gxkeras.matrix_market`.
"""
from gxkeras.errors import ToolInputError

INPUT_TYPES = ("tabular", "sparse")
RETIRED_INPUTS = {
    "seq_fasta": "sequences in a fasta file",
    "refseq_and_interval": "reference genome and intervals",
    "variant_effect": "reference genome and variant call file",
}


def input_type(selected: str | None, label: str) -> str:
    """``selected`` (the form's input type, ``label`` its label): ``tabular`` or ``sparse``, else one error."""
    selected = selected or "tabular"
    if selected in RETIRED_INPUTS:
        raise ToolInputError(f"{label}: '{RETIRED_INPUTS[selected]}' input was a Galaxy-ML 1.0 feature that this "
                             "Keras 3 tool does not have; give the samples as tabular data or a sparse matrix")
    if selected not in INPUT_TYPES:
        raise ToolInputError(f"{label}: unknown input type {str(selected)[:60]!r}")
    return selected
