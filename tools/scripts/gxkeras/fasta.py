"""FASTA sequences for the batch classifier (``KerasGBatchClassifier``, "sequences in a fasta file" input).

galaxy-ml's FASTA generators read a file through pyfaidx, which writes an index (``.fai``) next to
the file it reads. A dataset is never written to: the training and prediction tools read the FASTA
through a link in a new folder of the job's working directory, and only that path is given to
the generator (never one stored in a model file: :func:`gxkeras.estimators.check_generator`).
The samples are the sequences' positions in the file (galaxy-ml's ``X`` of shape ``(n, 1)``); the
generator one-hot encodes them batch by batch.
"""
import os
import tempfile
from typing import Any

import numpy as np

from gxkeras.errors import ToolInputError, first_line

FASTA_LABEL = "Dataset containing fasta genomic/protein sequences"


def quiet_generator_warning() -> None:
    """galaxy-ml's FASTA iterator is a Keras ``PyDataset`` that does not call its ``__init__`` (Keras warns
    once per fit); Keras' defaults are what it gets, so the warning says nothing to the user."""
    import warnings

    warnings.filterwarnings("ignore", message="Your `PyDataset` class should call", category=UserWarning)


def stage_fasta(path: str | None, label: str = FASTA_LABEL, name: str = "sequences.fasta") -> str:
    """A link ``name`` to the dataset ``path`` in a new folder of the working directory (pyfaidx indexes it there)."""
    if not path:
        raise ToolInputError(f"{label}: no dataset given")
    if not os.path.isfile(path):
        raise ToolInputError(f"{label} ({path}): not a readable file")
    quiet_generator_warning()
    folder = tempfile.mkdtemp(prefix="fasta_", dir=os.getcwd())
    staged = os.path.join(folder, name)
    os.symlink(os.path.abspath(path), staged)
    return staged


def sequence_lengths(path: str, label: str = FASTA_LABEL) -> dict[str, int]:
    """``{name: length}`` of the sequences of a staged FASTA file, in file order; one error line if pyfaidx
    cannot index it, or a sequence is empty."""
    import pyfaidx

    try:
        with pyfaidx.Fasta(path) as fasta:
            lengths = {name: len(fasta[name]) for name in fasta.keys()}
    except (pyfaidx.FastaIndexingError, ValueError, KeyError, OSError, UnicodeDecodeError) as error:
        raise ToolInputError(f"{label}: not a FASTA file of named sequences: {first_line(error)}") from None
    if not lengths:
        raise ToolInputError(f"{label}: no sequences (expected '>name' lines followed by sequence lines)")
    empty = [name for name, length in lengths.items() if length == 0]
    if empty:
        raise ToolInputError(f"{label}: the sequence {empty[0][:60]!r} is empty")
    return lengths


def sequence_names(path: str, label: str = FASTA_LABEL) -> list[str]:
    """The names of the sequences of a staged FASTA file, in file order (see :func:`sequence_lengths`)."""
    return list(sequence_lengths(path, label))


def sample_indices(n: int) -> np.ndarray:
    """galaxy-ml's samples of a FASTA file: each sequence's position, shape ``(n, 1)``."""
    return np.arange(n, dtype="int64")[:, None]


def check_sequence_input(config_shape: tuple[Any, ...] | None, generator: Any, label: str) -> None:
    """The model's input must take one encoded sequence: ``(seq_length, 4)`` (DNA, RNA) or ``(seq_length, 20)``."""
    expected = (generator.seq_length, generator.n_bases)
    if config_shape is not None and tuple(config_shape) != expected:
        raise ToolInputError(f"{label}: the model's input shape is {tuple(config_shape)}, but its "
                             f"{type(generator).__name__} (seq_length {generator.seq_length}) encodes each "
                             f"sequence as {expected}")


def encode(generator: Any, indices: np.ndarray) -> np.ndarray:
    """The one-hot arrays ``(n, seq_length, n_bases)`` of the sequences at ``indices`` (shape ``(n, 1)``)."""
    if not hasattr(generator, "fasta_file_"):
        generator.set_processing_attrs()
    return generator.sample(indices)[0]
