"""FASTA sequences for the batch classifier (``KerasGBatchClassifier``, "sequences in a fasta file" input).

galaxy-ml's FASTA generators read a file through pyfaidx, which writes an index (``.fai``) next to
the file it reads. A dataset is never written to: the training and prediction tools read the FASTA
through a link in a new folder of the job's working directory, and only that path is given to
the generator (never one stored in a model file: :func:`gxkeras.keras.estimators.check_generator`).
The samples are the sequences' positions in the file (galaxy-ml's ``X`` of shape ``(n, 1)``); the
generator one-hot encodes them batch by batch.

What a file or a form sizes is checked against the job's memory before it is allocated: the longest
line (pyfaidx reads each line whole while indexing: an unwrapped chromosome is hundreds of MB), the
longest sample sequence (galaxy-ml reads each sample whole, then cuts it to seq_length), and every
one-hot table, ``sequences x seq_length x alphabet`` float32 values (a batch, a set to evaluate, a
chunk to predict).
"""
import os
import tempfile
from collections.abc import Iterator
from typing import Any

import numpy as np

from gxkeras.galaxy import forms
from gxkeras.galaxy.errors import ToolInputError, first_line
from gxkeras.data.lines import check_line_lengths
from gxkeras.galaxy.memory import ALLOCATION_SHARE, check_allocation, format_bytes, memory_budget

FASTA_LABEL = forms.label("model_prediction", "fasta_path")  # the training tool's form shows the same
# galaxy-ml's generators encode float32 values, one per base (or amino acid) and letter of the alphabet.
ONE_HOT_BYTES = 4
# Rows one-hot encoded at a time when predicting: at most this many bytes (seq_length 1000 of DNA: 16,384
# sequences; the form's largest, 100,000 amino acids: 32).
ONE_HOT_CHUNK_BYTES = 256 * 1024 * 1024
# Memory per byte of the longest line while pyfaidx indexes (the bytes, their decoded text, a stripped
# copy), and per base of a sample sequence read whole (measured: 2.0 bytes a base with pyfaidx 0.9; its
# cut to seq_length adds a copy).
LINE_COPIES = 3
SEQUENCE_READ_BYTES = 4


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


def check_one_hot(n_sequences: int, seq_length: int, n_bases: int, what: str, purpose: str,
                  bytes_per_value: int = ONE_HOT_BYTES) -> None:
    """Refuse a one-hot table of ``n_sequences x seq_length x n_bases`` values that would not fit in the job's
    memory (``what``: the input that sized it; ``purpose``: e.g. "one training batch")."""
    check_allocation(n_sequences * seq_length * n_bases * bytes_per_value, what,
                     f"{purpose}, {n_sequences:,} sequences of {seq_length:,} x {n_bases} one-hot values,",
                     "use fewer sequences at a time (batch_size) or a shorter seq_length")


def one_hot_chunk_rows(chunk_rows: int, seq_length: int, n_bases: int, bytes_per_value: int = ONE_HOT_BYTES) -> int:
    """``chunk_rows``, or fewer so that a chunk's one-hot table stays within :data:`ONE_HOT_CHUNK_BYTES`."""
    return max(1, min(chunk_rows, ONE_HOT_CHUNK_BYTES // (seq_length * n_bases * bytes_per_value)))


def sequence_lengths(path: str, label: str = FASTA_LABEL) -> dict[str, int]:
    """``{name: length}`` of the sequences of a staged FASTA file, in file order; one error line if a line is
    too long to index within the job's memory, pyfaidx cannot index it, or a sequence is empty."""
    import pyfaidx

    budget = memory_budget()
    check_line_lengths(path, label, budget // ALLOCATION_SHARE // LINE_COPIES,
                       f"which pyfaidx reads whole while indexing: {LINE_COPIES} copies of it would take more than half "
                       f"of the {format_bytes(budget)} of memory this job may use; wrap the sequences (e.g. 60 or 80 "
                       "letters a line)")
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
    """The names of the sample sequences of a staged FASTA file, in file order (see :func:`sequence_lengths`);
    galaxy-ml reads each sample whole, so the longest must fit in the job's memory."""
    lengths = sequence_lengths(path, label)
    longest = max(lengths, key=lengths.__getitem__)
    check_allocation(lengths[longest] * SEQUENCE_READ_BYTES, label,
                     f"reading its longest sequence, {longest[:40]!r} ({lengths[longest]:,} letters), whole as "
                     "galaxy-ml reads each sample", "give the job more memory, or cut the sequences to seq_length")
    return list(lengths)


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
    """The one-hot arrays ``(n, seq_length, n_bases)`` of the sequences at ``indices`` (shape ``(n, 1)``), their
    size checked against the job's memory first."""
    check_one_hot(len(indices), generator.seq_length, generator.n_bases, FASTA_LABEL, "encoding")
    if not hasattr(generator, "fasta_file_"):
        generator.set_processing_attrs()
    return generator.sample(indices)[0]


def fasta_chunks(generator: Any, n_sequences: int, chunk_rows: int) -> Iterator[tuple[np.ndarray, list[str]]]:
    """The sequences one-hot encoded by ``generator``, ``chunk_rows`` at a time (fewer for long sequences), each
    row flattened: a table's chunks as :func:`gxkeras.data.tabular.iter_tabular` gives them (no column names)."""
    indices = sample_indices(n_sequences)
    chunk_rows = one_hot_chunk_rows(chunk_rows, generator.seq_length, generator.n_bases)
    for start in range(0, n_sequences, chunk_rows):
        encoded = encode(generator, indices[start:start + chunk_rows])
        yield encoded.reshape(len(encoded), -1), []
