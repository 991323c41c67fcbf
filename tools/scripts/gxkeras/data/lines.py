"""Reading text datasets line by line, with a bound on the length of one line, enforced while reading.

Python's ``for line in handle`` and ``readline()`` read a line whole, however long: a 100 MB "line" without
a newline (or a 10 GB one) is held in memory, decoded and split before anything can look at it, and
pandas' C parser buffers it the same way. Every tool reads its tables, texts, vocabularies and VCFs
through :func:`bounded_lines` instead, which never reads more than :data:`MAX_LINE_BYTES` + 1 bytes of a
line: a longer one is one ``Error:`` line naming the dataset, the line and the bound.

The bound is one constant for every text format: 16 MiB. The widest rows the tools take are images as
tables: a fruit360 image (100 x 100 x 3) is 30,000 values, about 0.75 MB written as full-precision floats
(``%.18e``, 25 characters with its tab); a 224 x 224 x 3 image, 150,528 values, about 3.8 MB. 16 MiB is four
times that, and a thousand times the longest IMDB review (14 kB). A table's width is bounded separately,
by the memory its columns take (:func:`gxkeras.data.tabular.check_row_lengths`).

FASTA files are read line by line by pyfaidx, not here, and an unwrapped chromosome is a legitimate line
of hundreds of MB: :func:`check_line_lengths` scans such a file in blocks (at ``memchr`` speed) for a line
longer than a bound derived from the job's memory, before pyfaidx reads it.
"""
from collections.abc import Iterator
from typing import BinaryIO

from gxkeras.galaxy.errors import ToolInputError
from gxkeras.galaxy.memory import format_bytes

MAX_LINE_BYTES = 16 * 1024 * 1024
SCAN_BLOCK_BYTES = 1 << 20


def too_long(label: str, number: int, limit: int, why: str = "") -> ToolInputError:
    """The one message for a line over its bound (``why``: what the bound protects, when not the default)."""
    size = format_bytes(limit)
    bound = size if size.endswith("bytes") else f"{size} ({limit:,} bytes)"
    return ToolInputError(f"{label}: line {number:,} is longer than {bound}, "
                          f"{why or 'the longest line a tool reads; is it a text table with one sample per line?'}")


def bounded_lines(handle: BinaryIO, label: str, limit: int | None = None) -> Iterator[bytes]:
    """The lines of a file opened in binary mode, each with its line end, as ``for line in handle`` gives them.

    At most ``limit + 1`` bytes of a line are read (default :data:`MAX_LINE_BYTES`): a line of more than
    ``limit`` bytes (its newline not counted) raises :class:`ToolInputError` naming ``label``, the line
    number and the bound.
    """
    limit = MAX_LINE_BYTES if limit is None else limit
    number = 0
    while True:
        line = handle.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith(b"\n"):
            raise too_long(label, number, limit)
        yield line


def check_line_lengths(path: str, label: str, limit: int, why: str) -> None:
    """Refuse a file with a line longer than ``limit`` bytes (at least :data:`SCAN_BLOCK_BYTES`), for files
    that another library reads line by line; read in blocks, so a 3 GB genome takes seconds.

    A line shorter than a block lies within one or two blocks; only the run of bytes since the last
    newline is tracked across blocks.
    """
    limit = max(limit, SCAN_BLOCK_BYTES)
    run, lines = 0, 0  # bytes since the last newline; newlines before this block
    with open(path, "rb") as handle:
        while block := handle.read(SCAN_BLOCK_BYTES):
            first = block.find(b"\n")
            if first < 0:
                run += len(block)
            else:
                run += first
                if run <= limit:
                    lines += block.count(b"\n")
                    run = len(block) - block.rfind(b"\n") - 1
            if run > limit:
                raise too_long(label, lines + 1, limit, why)
