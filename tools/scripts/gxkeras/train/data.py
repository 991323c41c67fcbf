"""Reading the trainer's X and y, and checking them against the model before anything is trained.

X must fit the model's input (its width; word indices for an Embedding first layer); y is one column of
labels or values, or a one-hot table (what 'To categorical' makes) read as class indices. Which inputs
are read for which kind of input is :mod:`gxkeras.train.inputs`' concern.
"""
import csv
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gxkeras.data.tabular import as_whole_numbers, check_row_lengths, read_tabular_input, select_columns
from gxkeras.galaxy.errors import ToolInputError
from gxkeras.keras.embedding import check_word_indices, embedding_input_dim
from gxkeras.keras.estimators import is_classifier, model_input_shape, output_layer
from gxkeras.train.form import X_LABEL, Y_LABEL


@dataclass
class Samples:
    """X, and y as the model is trained on it (None where the batch generator gives the targets);
    ``n_onehot``: the number of classes of a one-hot y (then y holds the class indices)."""

    X: Any
    y: Any | None
    n_onehot: int | None = None

    def split_labels(self) -> Any:
        """What the holdouts split on: the labels, or (no y) nothing to stratify by."""
        return np.zeros(len(self.X)) if self.y is None else self.y

    def subset(self, rows: Any) -> tuple[Any, Any | None]:
        """``(X, y)`` of the samples at ``rows``."""
        return self.X[rows], None if self.y is None else self.y[rows]


def header_offset(options: dict[str, Any], header: str) -> int:
    """1 when the dataset's first line is a header (the form's ``header``): line numbers count it."""
    return int(bool(options.get(header)))


def read_text_columns(path: str | None, header: bool, selector: dict[str, Any], option: str, columns: str,
                      label: str, empty: str) -> pd.DataFrame:
    """The selected columns of a tabular dataset as text (the features of a feature list, a groups column).

    ``selector``, ``option`` and ``columns``: the form's column selector, its select and its column list.
    ``empty``: what to tell the user to put in an empty dataset.
    """
    if not path:
        raise ToolInputError(f"{label}: no dataset given")
    check_row_lengths(path, label)
    try:
        frame = pd.read_csv(path, sep="\t", header=0 if header else None, dtype=str, keep_default_na=False,
                            quoting=csv.QUOTE_NONE)
    except pd.errors.EmptyDataError:
        raise ToolInputError(f"{label}: the dataset is empty; {empty}") from None
    chosen = select_columns([str(name) for name in frame.columns], selector.get(option), selector.get(columns), label,
                            header)
    return frame.iloc[:, chosen]


def read_y(options: dict[str, Any], n_samples: int, X_label: str, unit: str) -> Any:
    """y as read (one column, or several: a one-hot table), one row per sample of X."""
    y, _ = read_tabular_input(options, "infile2", "header2", "column_selector_options_2", "col2", Y_LABEL,
                              selector_param="selected_column_selector_option2")
    if n_samples != y.shape[0]:
        raise ToolInputError(f"{X_label} has {n_samples} {unit} but {Y_LABEL} has {y.shape[0]} rows: they must have "
                             "one row per sample, in the same order (check the header options)")
    return y


def check_X(X: Any, estimator: Any, header_offset: int) -> Any:
    """X must fit the model's input: its width, and word indices for an Embedding first layer."""
    config = estimator.config
    shape = model_input_shape(config)
    if shape and None not in shape:
        if int(np.prod(shape)) != X.shape[1]:
            raise ToolInputError(f"{X_LABEL}: {X.shape[1]} columns, but the model's input shape is "
                                 f"{shape}, {int(np.prod(shape))} values per sample")
        if len(shape) > 1:
            X = X.reshape((X.shape[0],) + shape)
    input_dim = embedding_input_dim(config)
    if input_dim:
        check_word_indices(X, input_dim, X_LABEL, 1 + header_offset)
        X = X.astype("int64", copy=False)  # already int64 when read from whole numbers: no second copy
    return X


def one_hot_labels(y: Any, estimator: Any, header_offset: int) -> Any:
    """The class index of each row of a one-hot table (what 'To categorical' makes): one 1 per row."""
    if not is_classifier(estimator):
        raise ToolInputError(f"{Y_LABEL}: {y.shape[1]} columns selected; several columns are read as one-hot "
                             "classes, which needs a classification model: select the one column of target values")
    bad = np.flatnonzero(((y != 0) & (y != 1)).any(axis=1) | ((y == 1).sum(axis=1) != 1))
    if bad.size:
        raise ToolInputError(f"{Y_LABEL}: line {bad[0] + 1 + header_offset} is not one-hot (one 1, the rest 0); "
                             f"with {y.shape[1]} columns selected each row must mark its one class")
    units, _ = output_layer(estimator.config)
    if units and units != y.shape[1]:
        raise ToolInputError(f"{Y_LABEL}: {y.shape[1]} one-hot columns, but the model's last layer has {units} "
                             "units: it needs one unit per class")
    return y.argmax(axis=1)


def check_y(y: Any, estimator: Any, header_offset: int) -> tuple[Any, int | None]:
    """Labels (1-D) and the number of one-hot classes (None for one column of labels or values)."""
    if y.shape[1] > 1:
        return one_hot_labels(y, estimator, header_offset), y.shape[1]
    y = y[:, 0]
    if not is_classifier(estimator):
        return y.astype("float64"), None
    units, activation = output_layer(estimator.config)
    classes = np.unique(y)
    if len(classes) < 2:
        raise ToolInputError(f"{Y_LABEL}: every sample has the label {classes[0]:g}; a classifier needs "
                             "at least two classes")
    if units == 1 and activation == "sigmoid":
        bad = np.flatnonzero((y != 0) & (y != 1))
        if bad.size:
            raise ToolInputError(f"{Y_LABEL}: line {bad[0] + 1 + header_offset} is {y[bad[0]]:g}, but the model "
                                 "ends in one sigmoid unit (binary classification): labels must be 0 or 1")
    elif units and units > 1 and len(classes) > units:
        raise ToolInputError(f"{Y_LABEL}: {len(classes)} classes, but the model's last layer has only "
                             f"{units} units: it needs one unit per class")
    return as_whole_numbers(y), None

