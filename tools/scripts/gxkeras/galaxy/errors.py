"""One clear error line and a non-zero exit for bad input, instead of a Python traceback.

Galaxy shows a failed job's stderr to the user. A traceback from deep inside TensorFlow tells a
biologist nothing, so tools raise :class:`ToolInputError` with a message that names the input,
the place (row/column, layer) and what was expected, and :func:`run_tool` turns it into a single
``Error: ...`` line, removes outputs that were partly written, and exits with status 1.
"""
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence


class ToolInputError(Exception):
    """Input the user can fix: the message is shown to them as it is."""


class ModelRefused(ToolInputError):
    """A model, weights or vocabulary file refused by the audit: it holds what the tools never write, or
    sizes, indices or parameters outside what the model itself allows. Raised before the refused part
    is built or called; tests assert this type, not the wording."""


# Running out of memory is the job's size, not a bug: one line, never a traceback. TensorFlow's
# ResourceExhaustedError is recognised by name, so that a tool which never imported TensorFlow need not.
OUT_OF_MEMORY_TYPES = ("MemoryError", "ResourceExhaustedError")
OUT_OF_MEMORY = ("the job ran out of memory ({kind}: {detail}); give the job more memory (its destination's "
                 "memory, or GALAXY_MEMORY_MB) or use smaller inputs or a smaller model")


def out_of_memory(error: BaseException) -> bool:
    return any(kind.__name__ in OUT_OF_MEMORY_TYPES for kind in type(error).__mro__)


# Terminal colour codes, which Keras puts around names in some messages.
ANSI_CODES = re.compile(r"\x1b\[[0-9;]*m")
KERAS_CALL_PREAMBLE = "Exception encountered when calling"


def first_line(error: BaseException, limit: int = 300) -> str:
    """The line of ``error``'s message that says what is wrong (at most ``limit`` characters), or its
    type's name if the message is empty.

    For quoting a library's error inside a :class:`ToolInputError`: Keras and h5py messages often run
    over many lines (a dump of the config or the layer's call), and the user must get one line. Keras'
    preamble "Exception encountered when calling X.call()." says only where: the line after it is joined.
    """
    lines = [line.strip() for line in ANSI_CODES.sub("", str(error)).splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    if len(lines) > 1 and lines[0].startswith(KERAS_CALL_PREAMBLE):
        return f"{lines[0].rstrip('.')}: {lines[1]}"[:limit]
    return lines[0][:limit]


def run_tool(main: Callable[[Sequence[str] | None], object], argv: Sequence[str] | None = None,
             outputs: Iterable[str | None] = ()) -> None:
    """Run ``main(argv)``; on :class:`ToolInputError` or running out of memory print one line, drop
    ``outputs``, exit 1.

    ``outputs`` are the paths the tool writes: a failed job must not leave behind a file that
    looks like a valid result.
    """
    try:
        main(argv)
    except ToolInputError as error:
        _remove(outputs)
        print(f"Error: {error}", file=sys.stderr)
        sys.exit(1)
    except Exception as error:
        _remove(outputs)
        if not out_of_memory(error):
            raise
        print("Error: " + OUT_OF_MEMORY.format(kind=type(error).__name__, detail=first_line(error, 120)),
              file=sys.stderr)
        sys.exit(1)
    except BaseException:
        # An unexpected failure (a bug, the job being interrupted):
        # its traceback is kept for the report, but no partial output may pass for a result.
        _remove(outputs)
        raise


def _remove(paths: Iterable[str | None]) -> None:
    for path in paths:
        try:
            if path and os.path.exists(path):
                os.remove(path)
        except OSError:
            pass


def output_paths(argv: Sequence[str], *flags: str) -> list[str]:
    """The values of the output flags (e.g. ``--outfile``) in ``argv``, for ``run_tool(outputs=...)``.

    Read before argument parsing, so that a failed job removes the outputs whatever went wrong.
    """
    argv = list(argv)
    return [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg in flags]
