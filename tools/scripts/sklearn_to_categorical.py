"""sklearn_to_categorical: class labels (0, 1, 2, ...) -> one-hot matrix ("To categorical").

The companion tool of the Galaxy Training Network CNN tutorial: it turns the MNIST digit labels into
the 10-column one-hot table that a softmax model with categorical cross-entropy trains on. Same
tool id, parameters (``infile``, ``header0``, ``num_classes``) and output (``outfile``: tab-separated
0/1 integers, no header) as the Galaxy-ML tool, so saved workflows load unchanged; the result equals
``keras.utils.to_categorical(labels, num_classes)``. Plain numpy: the tool never imports Keras or
TensorFlow, so it starts in a second.
"""
import argparse
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from gxkeras.data import read_tabular
from gxkeras.galaxy import ToolInputError, atomic_output, forms, load_inputs, output_paths, parse_int, run_tool
from gxkeras.report import one_hot as metrics_one_hot

TOOL = "sklearn_to_categorical"
LABEL = forms.label(TOOL, "infile")
NUM_CLASSES_LABEL = forms.label(TOOL, "num_classes")
HEADER_LABEL = forms.label(TOOL, "header0")
# Class indices are int32 (Keras' class labels); a larger label is refused before an int64 cast could wrap it.
MAX_CLASSES = 2 ** 31 - 1


def check_header_is_a_name(name: object) -> None:
    """A label as "header" is a sample lost: the form's header option (default: set) is wrong then."""
    try:
        float(str(name))
    except ValueError:
        return
    raise ToolInputError(
        f"{LABEL}: '{HEADER_LABEL}' is set, but line 1 ({name}) is a label, not a column "
        "name: unset the header option so that this sample is not dropped"
    )


def class_indices(values: np.ndarray, header: bool) -> np.ndarray:
    """The one column of ``values`` as non-negative integer class indices; errors name the file line."""
    if values.shape[1] != 1:
        raise ToolInputError(
            f"{LABEL}: expected one column of class labels (0, 1, 2, ...), got {values.shape[1]} columns"
        )
    column = values[:, 0]
    bad = (column < 0) | (column != np.round(column)) | (column >= MAX_CLASSES)
    if bad.any():
        row = int(np.argmax(bad))
        raise ToolInputError(
            f"{LABEL}: line {row + 1 + int(header)} is {column[row]:g}, expected a class label: "
            f"a whole number 0, 1, 2, ... below {MAX_CLASSES:,} (encode text labels as numbers first)"
        )
    return column.astype("int64")


def number_of_classes(labels: np.ndarray, num_classes: object, header: bool) -> int:
    """``num_classes`` from the form, checked against the labels; empty: largest label + 1, as Keras does."""
    largest = int(labels.max())
    if num_classes in (None, ""):
        return largest + 1
    num_classes = parse_int(num_classes, NUM_CLASSES_LABEL, 1, MAX_CLASSES)
    if largest >= num_classes:
        row = int(np.argmax(labels >= num_classes))
        raise ToolInputError(
            f"{LABEL}: line {row + 1 + int(header)} has label {labels[row]}, but '{NUM_CLASSES_LABEL}' is "
            f"{num_classes} (labels 0 to {num_classes - 1}); raise it or leave it empty"
        )
    return num_classes


def one_hot(labels: np.ndarray, num_classes: int, what: str = LABEL) -> np.ndarray:
    """Row i has a 1 in column ``labels[i]`` and 0 elsewhere (one byte a cell), checked against the job's memory
    first (``what``: the input that gave the number of classes)."""
    return metrics_one_hot(labels, num_classes, "uint8", what, "check the number of classes")


def to_categorical(params: dict[str, Any], outfile: str) -> tuple[int, int]:
    """Read the labels named in ``params``, write their one-hot matrix to ``outfile``; return its shape."""
    header = bool(params.get("header0"))
    path = params.get("infile")
    if not path:
        raise ToolInputError(f"{LABEL}: no dataset given")
    values, names = read_tabular(path, LABEL, header=header)
    if header:
        check_header_is_a_name(names[0])
    labels = class_indices(values, header)
    num_classes = params.get("num_classes")
    matrix = one_hot(labels, number_of_classes(labels, num_classes, header),
                     LABEL if num_classes in (None, "") else NUM_CLASSES_LABEL)
    with atomic_output(outfile) as handle:
        np.savetxt(handle, matrix, fmt="%d", delimiter="\t")
    return matrix.shape[0], matrix.shape[1]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--inputs", required=True, help="Galaxy's inputs JSON (the form's values, dataset paths)")
    parser.add_argument("--outfile", required=True, help="where to write the one-hot matrix (tabular)")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    rows, columns = to_categorical(load_inputs(args.inputs), args.outfile)
    print(f"{rows} labels -> one-hot matrix of {columns} classes")


if __name__ == "__main__":
    run_tool(main, outputs=output_paths(sys.argv[1:], "--outfile"))
