"""Writing a tool's outputs so that a failed job never leaves one that looks valid.

Every output is written to ``<path>.part`` and renamed onto ``path`` only when it is complete
(:func:`atomic_output`); :func:`gxkeras.galaxy.errors.run_tool` removes the outputs of a job that failed.
"""
import contextlib
import os
import shutil
from collections.abc import Iterator
from typing import IO, Any


@contextlib.contextmanager
def atomic_output(path: str, binary: bool = False) -> Iterator[IO[Any]]:
    """An open ``<path>.part`` (text in UTF-8, or ``binary``), renamed onto ``path`` when the block ends
    without an exception, removed when it raises."""
    partial = f"{path}.part"
    try:
        with open(partial, "wb") if binary else open(partial, "w", encoding="utf-8") as handle:
            yield handle
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def move_into_place(source: str, path: str) -> None:
    """A finished file (written elsewhere, e.g. by the contained process) moved onto ``path`` through
    ``<path>.part``: across file systems it is copied first, so ``path`` never holds half of it."""
    shutil.move(source, f"{path}.part")
    os.replace(f"{path}.part", path)
