"""The "Select input type" of the Galaxy-ML tools: tabular data only, here.

The Galaxy-ML tools also read sparse matrices, fasta sequences and genomic intervals or variants
(with Keras 2 batch generators that Keras 3 galaxy-ml no longer has). Our forms keep those values
so that saved workflows load; a job that chose one stops with one line instead of running
something else.
"""
from gxkeras.errors import ToolInputError

RETIRED_INPUTS = {
    "sparse": "sparse matrix",
    "seq_fasta": "sequences in a fasta file",
    "refseq_and_interval": "reference genome and intervals",
    "variant_effect": "reference genome and variant call file",
}


def check_tabular(selected: str | None, label: str) -> None:
    """``selected`` (the form's input type, ``label`` its label) must be ``tabular``."""
    selected = selected or "tabular"
    if selected in RETIRED_INPUTS:
        raise ToolInputError(f"{label}: '{RETIRED_INPUTS[selected]}' input was a Galaxy-ML 1.0 feature that this "
                             "Keras 3 tool does not have; give the samples as tabular data")
    if selected != "tabular":
        raise ToolInputError(f"{label}: unknown input type {str(selected)[:60]!r}")
