"""keras_train_and_eval: "Deep learning training and evaluation" of a galaxy-ml Keras estimator.

Loads the untrained model written by ``keras_model_builder``, sets the swapped hyperparameters,
reads X and y (one column, or a one-hot table) from tabular datasets, holds out a validation set
(and, in the "Train, Validate and Test" scheme, a test set first), trains on the rest with the
validation set as Keras' ``validation_data`` (so ``val_loss`` is available to callbacks), then scores
the model on the held-out data. Writes the metrics table and, as "Save the fitted model" asks, the
trained model (h5mlm) with its weights (Keras HDF5), the true and predicted values of the evaluation
set, and the per-epoch history. A ``KerasGBatchClassifier`` trains on sequences in a FASTA file
(:mod:`gxkeras.data.fasta`) or on a reference genome with intervals and target features
(``refseq_and_interval``, :mod:`gxkeras.data.genomic`), its generator encoding the samples batch by batch.

All of it runs in a contained process (:func:`run`, :mod:`gxkeras.modelfile.containment`): the model file is an upload,
and what no audit sees must not reach other users' files.

The inputs JSON has the layout of the Galaxy-ML tool (1.0.10/1.0.11), which saved workflows hold:
``experiment_schemes|test_split|split_algos|...``, ``metrics|scoring|primary_scoring``, the y selector
``selected_column_selector_option2``, ``save`` (docs/migration.md).
"""
import argparse
import ast
import csv
import os
import shutil
import sys
import tempfile

import numpy as np
import pandas as pd

from gxkeras.keras.allowlist import safe_mode
from gxkeras.keras.embedding import check_word_indices, embedding_input_dim
from gxkeras.train.epoch_shuffle import reshuffle_every_epoch
from gxkeras.galaxy.errors import ToolInputError, first_line, output_paths, run_tool
from gxkeras.data.fasta import (FASTA_LABEL, check_one_hot, check_sequence_input, encode, sample_indices, sequence_names,
                           stage_fasta)
from gxkeras.galaxy import forms
from gxkeras.keras.estimators import (
    BATCH_CLASSIFIER, GENOMIC_GENERATOR, build_callbacks, check_estimator, check_stored_params, galaxy_ml_callbacks_off, is_classifier,
    model_input_shape, output_layer, restore_checkpoint, stored_params,
)
from gxkeras.galaxy.inputs import load_inputs, with_absolute_datasets
from gxkeras.data.genomic import FEATURES_LABEL, check_sets_can_be_sampled, encode_intervals, stage_interval_inputs
from gxkeras.galaxy.input_types import input_type
from gxkeras.keras.environment import import_keras
from gxkeras.modelfile import load_estimator, run_contained, save_estimator
from gxkeras.train.scoring import Prediction, check_names as scoring_check_names, compute as compute_score
from gxkeras.data.matrix_market import read_matrix_market
from gxkeras.galaxy.memory import check_allocation
from gxkeras.report.metrics import one_hot
from gxkeras.train.sparse_updates import correct_sparse_updates
from gxkeras.data.tabular import as_whole_numbers, check_row_lengths, read_tabular_input, select_columns
from gxkeras.galaxy.values import check_layer_names, check_seed

MODEL_LABEL = "Choose the dataset containing pipeline/estimator object"
X_LABEL = "Training samples dataset"
Y_LABEL = "Dataset containing class labels or target values"
SPARSE_LABEL = "Select a sparse matrix"
OUTPUT_FLAGS = ("--outfile_result", "--outfile_object", "--outfile_weights", "--outfile_history",
                "--outfile_y_true", "--outfile_y_preds")
OUTPUTS = tuple(flag[2:] for flag in OUTPUT_FLAGS)


# ---- inputs ------------------------------------------------------------------------------------

GENOMIC_INPUT = "refseq_and_interval"
BATCH_INPUTS = {"seq_fasta": "sequences in a fasta file", GENOMIC_INPUT: "reference genome and intervals"}


def check_input_type(params):
    """The input type (checked before TensorFlow loads): see :mod:`gxkeras.galaxy.input_types`."""
    return input_type((params.get("input_options") or {}).get("selected_input"), "Select input type",
                      "keras_train_and_eval")


def is_genomic(estimator):
    """Whether the model is a batch classifier whose generator samples a reference genome in intervals."""
    return type(getattr(estimator, "data_batch_generator", None)).__name__ == GENOMIC_GENERATOR


def read_feature_list(options):
    """The feature names of the selected columns of the feature list (text), row by row."""
    path = options.get("infile2")
    if not path:
        raise ToolInputError(f"{FEATURES_LABEL}: no dataset given")
    check_row_lengths(path, FEATURES_LABEL)
    header = bool(options.get("header2"))
    try:
        frame = pd.read_csv(path, sep="\t", header=0 if header else None, dtype=str, keep_default_na=False,
                            quoting=csv.QUOTE_NONE)
    except pd.errors.EmptyDataError:
        raise ToolInputError(f"{FEATURES_LABEL}: the dataset is empty; list the features to predict, one per "
                             "line") from None
    selector = options.get("column_selector_options_2") or {}
    chosen = select_columns([str(name) for name in frame.columns], selector.get("selected_column_selector_option2"),
                            selector.get("col2"), FEATURES_LABEL, header)
    return frame.iloc[:, chosen].to_numpy().ravel().tolist()


def read_genomic(options, estimator):
    """X (the intervals' positions) of a genomic-interval model; its generator reads the job's files.

    The targets are not read here: galaxy-ml's generator looks them up in the (indexed) target file
    around each sampled position, for the features of the feature list.
    """
    generator = estimator.data_batch_generator
    staged = stage_interval_inputs(options, generator.seq_length, generator.center_bin_to_predict,
                                   read_feature_list(options))
    units, _ = output_layer(estimator.config)
    if units and units != len(staged["features"]):
        raise ToolInputError(f"{FEATURES_LABEL}: {len(staged['features'])} features, but the model's last layer has "
                             f"{units} units: it needs one (sigmoid) unit per feature")
    generator.set_params(ref_genome_path=staged["ref_genome_path"], intervals_path=staged["intervals_path"],
                         target_path=staged["target_path"], features=staged["features"])
    print(f"Reference genome and intervals: {staged['n_intervals']} intervals, features "
          f"{', '.join(staged['features'])}")
    return sample_indices(staged["n_intervals"])


def read_data(params, estimator):
    """X, and y as read (one column, or several: a one-hot table), with their sizes checked.

    Sequences in a fasta file: X holds each sequence's position (galaxy-ml's batch samples), and the
    model's generator reads the FASTA, linked into the working directory, batch by batch. Reference
    genome and intervals: X holds each interval's position and y is None (:func:`read_genomic`).
    """
    selected = check_input_type(params)
    sparse = selected == "sparse"
    options = params.get("input_options") or {}
    batch = type(estimator).__name__ == BATCH_CLASSIFIER
    if batch != (selected in BATCH_INPUTS):
        raise ToolInputError(f"Select input type: {selected}, but the model is a {type(estimator).__name__}: "
                             f"a {BATCH_CLASSIFIER} ('Build Deep learning Batch Training Models') trains on sequences "
                             "in a fasta file or a reference genome and intervals, other models on tabular data or a "
                             "sparse matrix")
    if batch:
        X_label = FASTA_LABEL
        if estimator.data_batch_generator is None:
            raise ToolInputError(f"{MODEL_LABEL}: the {BATCH_CLASSIFIER} has no batch data generator; build it with "
                                 "'Build Deep learning Batch Training Models' and a generator")
        wanted = GENOMIC_INPUT if is_genomic(estimator) else "seq_fasta"
        if selected != wanted:
            raise ToolInputError(f"Select input type: {selected}, but the model's generator is a "
                                 f"{type(estimator.data_batch_generator).__name__}, which trains on "
                                 f"'{BATCH_INPUTS[wanted]}' ({wanted})")
        generator = estimator.data_batch_generator
        check_sequence_input(model_input_shape(estimator.config), generator, MODEL_LABEL)
        if wanted == GENOMIC_INPUT:
            X = read_genomic(options, estimator)
        else:
            fasta = stage_fasta(options.get("fasta_path"))
            X = sample_indices(len(sequence_names(fasta)))
            generator.fasta_path = fasta
        check_one_hot(min(estimator.batch_size, len(X)), generator.seq_length, generator.n_bases, MODEL_LABEL,
                      f"one training batch (batch_size {estimator.batch_size:,})")
        if wanted == GENOMIC_INPUT:
            return X, None
    elif sparse:  # the old tools' sparse matrix (MatrixMarket), one row per sample, made dense
        X_label = SPARSE_LABEL
        X = read_matrix_market(options.get("infile1"), SPARSE_LABEL)
    else:
        X_label = X_LABEL
        X, _ = read_tabular_input(options, "infile1", "header1", "column_selector_options_1", "col1", X_LABEL)
    y, _ = read_tabular_input(options, "infile2", "header2", "column_selector_options_2", "col2", Y_LABEL,
                              selector_param="selected_column_selector_option2")
    if X.shape[0] != y.shape[0]:
        unit = "sequences" if batch else "rows"
        raise ToolInputError(f"{X_label} has {X.shape[0]} {unit} but {Y_LABEL} has {y.shape[0]} rows: they must have "
                             "one row per sample, in the same order (check the header options)")
    return X, y


def check_X(X, estimator, header_offset):
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


def one_hot_labels(y, estimator, header_offset):
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


def check_y(y, estimator, header_offset):
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


# ---- hyperparameter swapping -------------------------------------------------------------------

# Parameters the Galaxy-ML tool never swapped (it skipped them with a warning): refused here with one line.
NOT_SWAPPABLE = ("n_jobs", "pre_dispatch", "memory", "_path", "_dir", "nthread", "callbacks")


def swapped_parameters(section):
    """``{name: value}`` of the "Hyperparameter Swapping" rows that set a value; values parsed as literals."""
    swaps = {}
    for number, row in enumerate((section or {}).get("param_set") or [], start=1):
        where = f"Hyperparameter Swapping, setting {number}"
        text = str(row.get("sp_value") or "").strip()
        name = row.get("sp_name")
        if not text:
            continue  # an empty value keeps the parameter as it is (the Galaxy-ML tool's meaning)
        if not name:
            raise ToolInputError(f"{where}: a new value ({text[:60]}) but no parameter name chosen")
        if text.startswith(":"):
            raise ToolInputError(f"{where}: '{text[:60]}' builds a scikit-learn object, which only the Galaxy-ML "
                                 "tool's non-Keras estimators took; give a number, True/False, or a quoted string")
        try:
            swaps[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise ToolInputError(f"{where}: {name} = {text[:60]} is not a literal: give a number, True/False/None, "
                                 "a quoted string such as 'adamax', or a list of those") from None
    return swaps


def swap_hyperparameters(estimator, section):
    """Set the swapped parameters on the estimator, then check it again as a model file is checked."""
    swaps = swapped_parameters(section)
    if not swaps:
        return estimator
    known = estimator.get_params()
    for name in swaps:
        if name.lower().endswith(NOT_SWAPPABLE):
            raise ToolInputError(f"Hyperparameter Swapping: {name} cannot be swapped; set it in 'Create deep "
                                 "learning model'")
        if name not in known:
            raise ToolInputError(f"Hyperparameter Swapping: the model has no parameter {str(name)[:80]!r}")
    print("Hyperparameters swapped: " + ", ".join(f"{name} = {value!r}" for name, value in swaps.items()))
    try:
        estimator.set_params(**swaps)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise ToolInputError(f"Hyperparameter Swapping: {first_line(error)}") from None
    if any(name == "config" or name.startswith("layers_") for name in swaps):
        # Keras 3 records each layer's input shape (build_config), which a new number of units or filters
        # upstream makes wrong: the model is rebuilt from its input instead.
        for layer in estimator.config.get("layers") or []:
            layer.pop("build_config", None)
    where = "Hyperparameter Swapping: the model with the new values"
    check_stored_params(type(estimator).__name__, stored_params(estimator), where)
    return estimator


# ---- splitting ---------------------------------------------------------------------------------

def holdout_count(test_size, n_samples, what):
    """The number of samples to hold out: a fraction below 1, a whole number of samples from 1 on."""
    if isinstance(test_size, bool) or not isinstance(test_size, (int, float)) or not test_size > 0:
        raise ToolInputError(f"{what}: Holdout size must be a fraction in (0, 1) or a number of samples, "
                             f"got {test_size!r}")
    if test_size < 1:
        count = int(np.ceil(test_size * n_samples))
    elif test_size != int(test_size):
        raise ToolInputError(f"{what}: Holdout size {test_size:g} is more than 1 but not a whole number of samples")
    else:
        count = int(test_size)
    if count < 1 or n_samples - count < 1:
        raise ToolInputError(f"{what}: Holdout size {test_size:g} of {n_samples} samples leaves an empty set")
    return count


def split_indices(y, algos, seed, classifier, what, groups=None):
    """``(kept, held_out)`` row indices of one holdout: no shuffle, shuffle, stratified or by groups."""
    from sklearn.model_selection import GroupShuffleSplit, train_test_split

    algos = algos or {}
    shuffle = algos.get("shuffle", "simple")
    random_state = check_seed(algos.get("random_state"), f"{what}: Random seed number")
    if random_state is None:
        random_state = seed if seed is not None else 0
    rows = np.arange(len(y))
    if shuffle == "group":
        if groups is None:
            raise ToolInputError(f"{what}: splitting by groups needs the groups column, chosen in the "
                                 "'Groups column selector' of the first holdout's group method")
        names = [name.strip() for name in str(algos.get("group_names") or "").split(",") if name.strip()]
        if names:
            held = np.isin(groups, names)
            if not held.any() or held.all():
                raise ToolInputError(f"{what}: the groups {', '.join(names)} hold {held.sum()} of {len(y)} "
                                     "samples; the holdout and the rest must both have samples")
            return rows[~held], rows[held]
        test_size = algos.get("test_size")
        count = holdout_count(0.2 if test_size is None else test_size, len(np.unique(groups)), what + " (groups)")
        splitter = GroupShuffleSplit(n_splits=1, test_size=count, random_state=random_state)
        return next(splitter.split(rows, groups=groups))
    count = holdout_count(algos.get("test_size", 0.2), len(y), what)
    if shuffle == "stratified":
        if not classifier:
            raise ToolInputError(f"{what}: stratified splitting needs class labels; this is a regression model, "
                                 "choose simple shuffling")
        classes, counts = np.unique(y, return_counts=True)
        if counts.min() < 2:
            raise ToolInputError(f"{what}: class {classes[counts.argmin()]:g} has only one sample; stratified "
                                 "splitting needs at least two per class (choose simple shuffling)")
        try:
            return train_test_split(rows, test_size=count, random_state=random_state, stratify=y)
        except ValueError as error:
            raise ToolInputError(f"{what}: cannot stratify: {error}") from None
    if shuffle == "simple":
        return train_test_split(rows, test_size=count, random_state=random_state, shuffle=True)
    if shuffle == "None":
        return rows[:-count], rows[-count:]
    raise ToolInputError(f"{what}: unknown splitting method {shuffle!r}")


def read_groups(algos, n_samples):
    """The group of every sample (as text) from the "Groups column selector", or None without one."""
    if (algos or {}).get("shuffle") != "group":
        return None
    selector = algos.get("groups_selector") or {}
    path = selector.get("infile_g")
    label = "Choose dataset containing groups info"
    if not path:
        raise ToolInputError(f"{label}: no dataset given")
    check_row_lengths(path, label)
    header = bool(selector.get("header_g"))
    frame = pd.read_csv(path, sep="\t", header=0 if header else None, dtype=str, keep_default_na=False,
                        quoting=csv.QUOTE_NONE)
    options = selector.get("column_selector_options_g") or {}
    chosen = select_columns([str(name) for name in frame.columns], options.get("selected_column_selector_option_g"),
                            options.get("col_g"), label, header)
    if len(chosen) != 1:
        raise ToolInputError(f"{label}: {len(chosen)} columns selected; select the one column of groups")
    if len(frame) != n_samples:
        raise ToolInputError(f"{label} has {len(frame)} rows but {X_LABEL} has {n_samples}: one group per sample")
    return frame.iloc[:, chosen[0]].str.strip().to_numpy()


def check_genomic_split(scheme):
    """Stratified holdouts need a label per sample, which genomic intervals do not have before sampling."""
    holdouts = {"test_split": "Validation holdout"} if scheme.get("selected_exp_scheme") == "train_val" else {
        "test_split": "Test holdout", "val_split": "Validation holdout"}
    for section, what in holdouts.items():
        if ((scheme.get(section) or {}).get("split_algos") or {}).get("shuffle") == "stratified":
            raise ToolInputError(f"{what}: stratified splitting needs a class label per sample; the targets of a "
                                 "reference genome and intervals are looked up while sampling: choose simple "
                                 "shuffling, no shuffling or groups")


def genomic_sets(generator, sets):
    """``{name: (sequences, targets)}`` of each evaluated set of interval positions (at their middles; each set
    has one at least: :func:`gxkeras.data.genomic.check_sets_can_be_sampled`)."""
    encoded = {}
    for name, (X_set, _) in sets.items():
        sequences, targets, skipped = encode_intervals(generator, X_set)
        if skipped:
            print(f"{name}: {skipped} of {len(X_set)} intervals left out (blacklisted at their middle)")
        encoded[name] = (sequences, targets)
    return encoded


def split(X, y, scheme, seed, classifier):
    """``{"train": rows, "validation": rows[, "test": rows]}`` as the scheme's holdouts make them."""
    test_algos = (scheme.get("test_split") or {}).get("split_algos")
    groups = read_groups(test_algos, len(y))
    if scheme.get("selected_exp_scheme") == "train_val":
        train, validation = split_indices(y, test_algos, seed, classifier, "Validation holdout", groups)
        return {"train": train, "validation": validation}
    rest, test = split_indices(y, test_algos, seed, classifier, "Test holdout", groups)
    val_algos = (scheme.get("val_split") or {}).get("split_algos")
    train, validation = split_indices(y[rest], val_algos, seed, classifier, "Validation holdout",
                                      None if groups is None else groups[rest])
    return {"train": rest[train], "validation": rest[validation], "test": test}


# ---- scoring -----------------------------------------------------------------------------------

def metric_names(metrics, classifier):
    """The primary metric ("default": accuracy or r2) then the secondary ones, checked for the task."""
    scoring = (metrics or {}).get("scoring") or {}
    primary = scoring.get("primary_scoring") or "default"
    if primary == "default":
        primary = "accuracy" if classifier else "r2"
    secondary = scoring.get("secondary_scoring") or []
    if isinstance(secondary, str):  # saved as a comma-separated string by older Galaxy releases
        secondary = [item.strip() for item in secondary.split(",") if item.strip()]
    names = list(dict.fromkeys([primary, *secondary]))
    return scoring_check_names(names, classifier, "Metrics for evaluation")


def predict(estimator, X, y):
    """One prediction of an evaluated set, from which every metric is computed."""
    if not is_classifier(estimator):
        return Prediction(y=y, values=np.ravel(estimator.predict(X, verbose=0)))
    proba = estimator.predict_proba(X, verbose=0)
    # the class of the highest probability: galaxy-ml's predict for softmax and one sigmoid unit,
    # and the one label per sample of a one-hot y for other multi-unit outputs
    return Prediction(y=y, labels=estimator.classes_[proba.argmax(axis=1)], proba=proba, classes=estimator.classes_)


def predict_features(estimator, X, targets):
    """One prediction of a genomic-interval set: one sigmoid output per feature (0/1 targets).

    One feature is a binary classification (the class 1 probability is the output); several are
    multi-label (:mod:`gxkeras.train.scoring` scores indicator rows).
    """
    proba = np.asarray(estimator.model_.predict(X, verbose=0), dtype="float64").reshape(len(X), -1)
    labels = (proba > 0.5).astype("int64")
    if targets.shape[1] == 1:
        return Prediction(y=targets[:, 0].astype("int64"), labels=labels[:, 0],
                          proba=np.column_stack([1 - proba[:, 0], proba[:, 0]]), classes=np.arange(2))
    return Prediction(y=targets.astype("int64"), labels=labels, proba=proba, classes=np.arange(targets.shape[1]))


def encode_y(estimator, y, n_onehot=None):
    """y as the Keras model sees it: class indices, or one-hot rows (float32) where the loss needs them, their
    size checked against the job's memory first."""
    if not is_classifier(estimator):
        return y
    classes = estimator.classes_
    index = np.searchsorted(classes, y)
    onehot = estimator.loss == "categorical_crossentropy" or (
        n_onehot is not None and estimator.loss != "sparse_categorical_crossentropy")
    if not onehot:
        return index
    return one_hot(index, len(classes), "float32", Y_LABEL, ONE_HOT_ADVICE)


ONE_HOT_ADVICE = "a model with this many classes needs sparse_categorical_crossentropy (class indices)"


def keras_loss(estimator, X, y, n_onehot):
    return float(estimator.model_.evaluate(X, encode_y(estimator, y, n_onehot), verbose=0,
                                           return_dict=True)["loss"])


# ---- class weights -----------------------------------------------------------------------------

# Keras' class_weight is an argument of fit (galaxy-ml's KerasGClassifier.fit takes it and does not
# store it in the model file), and "balanced" needs the labels: so it is chosen here, not in the builder.
CLASS_WEIGHT_LABEL = "Class weights"
CLASS_WEIGHT_TYPES = forms.options("keras_train_and_eval", "class_weight_type")


def class_weight_choice(repeat, classifier):
    """None, "balanced", or ``{label: weight}`` from the "Class weights" repeat (checked, not yet indexed).

    The repeat holds at most one entry; none (an old saved state, or none inserted) is no weighting.
    """
    if not repeat:
        return None
    if len(repeat) > 1:
        raise ToolInputError(f"{CLASS_WEIGHT_LABEL}: {len(repeat)} entries; give the class weights once")
    selection = repeat[0].get("class_weight_selection") or {}
    kind = selection.get("class_weight_type")
    if kind not in CLASS_WEIGHT_TYPES:
        raise ToolInputError(f"{CLASS_WEIGHT_LABEL}: unknown choice {str(kind)[:60]!r}; expected one of "
                             f"{', '.join(CLASS_WEIGHT_TYPES)}")
    if not classifier:
        raise ToolInputError(f"{CLASS_WEIGHT_LABEL}: {kind} weights classes, and this is a regression model; "
                             "remove the Class weights entry")
    if kind == "balanced":
        return kind
    text = str(selection.get("class_weight") or "").strip()
    where = f"{CLASS_WEIGHT_LABEL}: '{text[:60]}'"
    if len(text) > 2000:
        raise ToolInputError(f"{CLASS_WEIGHT_LABEL}: longer than 2000 characters")
    try:
        mapping = ast.literal_eval(text if text.startswith("{") else "{" + text + "}")
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        mapping = None
    if not isinstance(mapping, dict) or not mapping or any(_finite(key) is None for key in mapping):
        raise ToolInputError(f"{where} is not a mapping of class labels to weights such as {{0: 1, 1: 5}}")
    weights = {_finite(key): _finite(value) for key, value in mapping.items()}
    if not all(weight is not None and 0 <= weight <= MAX_CLASS_WEIGHT for weight in weights.values()):
        raise ToolInputError(f"{where}: the weights must be numbers from 0 to {MAX_CLASS_WEIGHT:.3g} (Keras weighs "
                             "the float32 loss by them)")
    return weights


# A weight multiplies each sample's float32 loss: a larger one is infinite there.
MAX_CLASS_WEIGHT = float(np.finfo("float32").max)


def _finite(value):
    """``value`` as a finite float, or None for what is not a number (a bool, text, an int too large for a float)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        value = float(value)
    except OverflowError:
        return None
    return value if np.isfinite(value) else None


def class_weight_indices(choice, classes, y_train):
    """Keras' ``{class index: weight}`` for the model's ``classes`` (labels not named weigh 1)."""
    if choice is None:
        return None
    if choice == "balanced":  # as scikit-learn computes it: n_samples / (n_classes * samples of the class)
        from sklearn.utils.class_weight import compute_class_weight

        labels = np.unique(y_train)
        choice = dict(zip(labels.tolist(), compute_class_weight("balanced", classes=labels, y=y_train).tolist(),
                          strict=True))
    unknown = [label for label in choice if label not in set(np.asarray(classes, dtype=float).tolist())]
    if unknown:
        raise ToolInputError(f"{CLASS_WEIGHT_LABEL}: {unknown[0]:g} is not a class of the training set "
                             f"({', '.join(f'{label:g}' for label in classes)})")
    return {index: choice.get(float(label), 1.0) for index, label in enumerate(classes)}


# ---- training ----------------------------------------------------------------------------------

def train(estimator, X_train, y_train, X_val, y_val, n_onehot=None, class_weight=None):
    """Fit with the validation set as validation_data, with correct sparse updates; return Keras' History.

    ``n_onehot``: the number of classes of a one-hot y (then ``y_*`` are the class indices 0..n-1).
    ``class_weight``: :func:`class_weight_choice`'s result. A ModelCheckpoint's weights are restored
    into the model after training.
    """
    keras = import_keras()
    if estimator.seed is not None:
        keras.utils.set_random_seed(estimator.seed)
    target = y_train
    if y_train is None:  # genomic intervals: galaxy-ml's generator gives the targets, batch by batch
        if class_weight is not None:
            raise ToolInputError(f"{CLASS_WEIGHT_LABEL}: not for a reference genome and intervals, whose targets are "
                                 "one 0/1 value per feature; remove the entry (class_positive_factor of 'Build Deep "
                                 "learning Batch Training Models' weighs a single feature's positives)")
        validation, weights = (X_val,), None
    elif is_classifier(estimator):
        if n_onehot is not None:
            estimator.classes_ = np.arange(n_onehot)
            target = encode_y(estimator, y_train, n_onehot)
            missing = np.setdiff1d(estimator.classes_, y_train)
            if target.ndim == 1 and missing.size:  # galaxy-ml takes the classes of 1-D labels from the data
                raise ToolInputError(f"{Y_LABEL}: class {missing[0]} is not in the training set, which a "
                                     "sparse_categorical_crossentropy model needs; use stratified splitting")
        else:
            unseen = np.setdiff1d(np.unique(y_val), np.unique(y_train))
            if unseen.size:
                raise ToolInputError(f"{Y_LABEL}: class {unseen[0]:g} is only in the validation set; use "
                                     "stratified splitting or more samples")
            # galaxy-ml encodes y itself but not validation_data: encode it the same way
            estimator.classes_ = np.unique(y_train)
        validation = (X_val, encode_y(estimator, y_val, n_onehot))
        if target.ndim == 1 and estimator.loss == "categorical_crossentropy":
            # galaxy-ml one-hot encodes 1-D labels itself (Keras' to_categorical: float64), then Keras a float32 copy
            check_allocation(len(target) * len(estimator.classes_) * 12, Y_LABEL,
                             f"the one-hot targets of {len(target):,} training samples x {len(estimator.classes_):,} "
                             "classes", ONE_HOT_ADVICE)
        weights = class_weight_indices(class_weight, estimator.classes_, y_train)
        if weights:
            print("Class weights (class: weight): " + ", ".join(
                f"{format_value(estimator.classes_[index])}: {weight:.6g}" for index, weight in sorted(weights.items())))
    else:
        validation, weights = (X_val, y_val), None
    print(f"Training a {type(estimator).__name__} on {len(X_train)} samples, validating on {len(X_val)}: "
          f"{estimator.epochs} epochs, batch_size {estimator.batch_size}, seed {estimator.seed}", flush=True)
    # The callbacks are built here from the checked list, not by galaxy-ml (which would build any
    # keras.callbacks class named in the file); the saved parameter itself is kept unchanged.
    callbacks, stored = build_callbacks(estimator.callbacks, MODEL_LABEL), estimator.callbacks
    estimator.callbacks = None
    try:
        # safe_mode: galaxy-ml rebuilds the Keras model from its config inside fit;
        # correct_sparse_updates: Keras 3 mis-updates Embeddings otherwise (see gxkeras.train.sparse_updates);
        # reshuffle_every_epoch: seeded Keras 3 on TensorFlow repeats epoch 1's order (gxkeras.train.epoch_shuffle)
        with safe_mode(), correct_sparse_updates(), reshuffle_every_epoch(estimator.seed):
            fit_args = {"class_weight": weights} if weights else {}  # galaxy-ml's regressor takes no class_weight
            history = estimator.fit(X_train, target, validation_data=validation, callbacks=callbacks, **fit_args)
    except (ValueError, TypeError) as error:
        raise ToolInputError(f"Keras could not train the model on this data: {first_line(error)}") from None
    finally:
        estimator.callbacks = stored
    restored = restore_checkpoint(estimator.model_, callbacks, history, MODEL_LABEL)
    if restored:
        print(restored)
    return history


# ---- outputs -----------------------------------------------------------------------------------

def write_table(path, header, rows):
    with open(path, "w") as handle:
        handle.write("\t".join(header) + "\n")
        for row in rows:
            handle.write("\t".join(format_value(value) for value in row) + "\n")


def format_value(value):
    if isinstance(value, (float, np.floating)):
        return "nan" if np.isnan(value) else f"{float(value):.6g}"
    if isinstance(value, (np.integer, int)):
        return str(int(value))
    return str(value)


def save_weights(estimator, path):
    """Keras 3 save_weights insists on a ``.weights.h5`` name: write one, then move it to ``path``."""
    folder = tempfile.mkdtemp(prefix="weights_", dir=os.path.dirname(os.path.abspath(path)))
    try:
        temporary = os.path.join(folder, "model.weights.h5")
        estimator.model_.save_weights(temporary)
        shutil.move(temporary, path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_history(path, history):
    logs = history.history
    keys = list(logs)
    n_epochs = len(logs[keys[0]]) if keys else 0
    write_table(path, ["epoch", *keys], [[epoch + 1, *(logs[key][epoch] for key in keys)] for epoch in range(n_epochs)])


def write_predictions(prediction, true_path, preds_path, features=None):
    """The evaluation set's true values, and the predictions (with each class' probability).

    Several target features (genomic intervals): one column per feature, then each feature's probability.
    """
    if np.ndim(prediction.y) == 2:
        write_table(true_path, features, prediction.y)
        write_table(preds_path, [*features, *(f"probability_{name}" for name in features)],
                    [[*labels, *proba] for labels, proba in zip(prediction.labels, prediction.proba, strict=True)])
        return
    write_table(true_path, ["y_true"], [[value] for value in prediction.y])
    if prediction.proba is not None:
        header = ["y_preds", *(f"probability_{format_value(label)}" for label in prediction.classes)]
        write_table(preds_path, header, [[label, *row] for label, row in
                                         zip(prediction.labels, prediction.proba, strict=True)])
    else:
        write_table(preds_path, ["y_preds"], [[value] for value in prediction.values])


def run(params, outputs):
    """Train and evaluate; write the outputs named in ``outputs`` (dict of paths, some None).

    The model file is opened, built and trained, and the data read, in a contained process
    (:func:`gxkeras.modelfile.containment.run_contained`) that may read only the installed software and this job's
    datasets, and write only in a private folder; the outputs are moved into place once it has succeeded.
    """
    params, datasets = with_absolute_datasets(params, forms.dataset_params("keras_train_and_eval"))
    model = ((params.get("experiment_schemes") or {}).get("infile_estimator")) or ""
    return run_contained(train_and_evaluate, params, f"{MODEL_LABEL} ({model})", readable=datasets,
                         outputs={name: outputs.get(name) for name in OUTPUTS})


def train_and_evaluate(params, outputs):
    """The contained part of :func:`run`, writing the outputs named in ``outputs`` (dict of paths, some None)."""
    scheme = params.get("experiment_schemes") or {}
    selected = scheme.get("selected_exp_scheme")
    if selected not in ("train_val", "train_val_test"):
        raise ToolInputError(f"Select a scheme: unknown scheme {selected!r}")
    if not scheme.get("infile_estimator"):
        raise ToolInputError(f"{MODEL_LABEL}: no dataset given")
    check_input_type(params)
    import_keras()  # TensorFlow's settings (threads, quiet start-up) before galaxy-ml imports it
    estimator = check_estimator(load_estimator(scheme["infile_estimator"], MODEL_LABEL), MODEL_LABEL)
    estimator = swap_hyperparameters(estimator, scheme.get("hyperparams_swapping"))
    check_layer_names(estimator.config, MODEL_LABEL)  # they become HDF5 groups when the model is saved
    check_seed(estimator.seed, f"{MODEL_LABEL}: the model's random seed")
    classifier = is_classifier(estimator)
    names = metric_names(scheme.get("metrics"), classifier)
    weight_choice = class_weight_choice(params.get("class_weights"), classifier)

    genomic = is_genomic(estimator)
    if genomic:
        check_genomic_split(scheme)
    X, y = read_data(params, estimator)
    options = params.get("input_options") or {}
    batch = type(estimator).__name__ == BATCH_CLASSIFIER
    if not batch:
        X = check_X(X, estimator, int(bool(options.get("header1"))))
    n_onehot = None
    if not genomic:
        y, n_onehot = check_y(y, estimator, int(bool(options.get("header2"))))

    rows = split(X, np.zeros(len(X)) if genomic else y, scheme, estimator.seed, classifier)
    sets = {name: (X[rows[name]], None if genomic else y[rows[name]]) for name in ("validation", "test") if name in rows}
    if genomic:
        check_sets_can_be_sampled(estimator.data_batch_generator, {name: X[rows_of] for name, rows_of in rows.items()})
    history = train(estimator, X[rows["train"]], None if genomic else y[rows["train"]], *sets["validation"], n_onehot,
                    weight_choice)
    features = None
    if genomic:  # evaluated on each interval's middle; the model file keeps no path and no feature list
        features = list(estimator.data_batch_generator.features)
        sets = genomic_sets(estimator.data_generator_, sets)
        estimator.data_generator_.close()
        estimator.data_batch_generator.set_params(ref_genome_path=None, intervals_path=None, target_path=None,
                                                  features="infer")
    elif batch:  # evaluated on the encoded sequences; the model file keeps no path
        sets = {name: (encode(estimator.data_generator_, X_set), y_set) for name, (X_set, y_set) in sets.items()}
        estimator.data_generator_.close()
        estimator.data_batch_generator.fasta_path = None

    predictions = {name: (predict_features(estimator, *data) if genomic else predict(estimator, *data))
                   for name, data in sets.items()}
    header = ["metric", *sets]
    table = [[name, *(compute_score(name, prediction) for prediction in predictions.values())] for name in names]
    table.append(["loss", *((float(estimator.model_.evaluate(*data, verbose=0, return_dict=True)["loss"]) if genomic
                             else keras_loss(estimator, *data, n_onehot)) for data in sets.values())])
    write_table(outputs["outfile_result"], header, table)
    print("Evaluation (" + ", ".join(f"{name}: {len(data[1])} samples" for name, data in sets.items()) + "):")
    for row in [header, *table]:
        print("  " + "\t".join(format_value(value) for value in row))

    if outputs.get("outfile_object"):
        with galaxy_ml_callbacks_off():
            save_estimator(estimator, outputs["outfile_object"])
    if outputs.get("outfile_weights"):
        save_weights(estimator, outputs["outfile_weights"])
    if outputs.get("outfile_history"):
        write_history(outputs["outfile_history"], history)
    if outputs.get("outfile_y_true") or outputs.get("outfile_y_preds"):
        evaluated = predictions["test" if "test" in predictions else "validation"]
        write_predictions(evaluated, outputs["outfile_y_true"], outputs["outfile_y_preds"], features)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", required=True, help="Galaxy's inputs JSON (the form's values)")
    parser.add_argument("--outfile_result", required=True, help="metrics table (tabular)")
    parser.add_argument("--outfile_object", help="trained model (h5mlm)")
    parser.add_argument("--outfile_weights", help="trained weights (Keras HDF5)")
    parser.add_argument("--outfile_history", help="per-epoch loss and metrics (tabular)")
    parser.add_argument("--outfile_y_true", help="true values of the evaluation set (tabular)")
    parser.add_argument("--outfile_y_preds", help="predicted values of the evaluation set (tabular)")
    args = parser.parse_args(argv)
    if bool(args.outfile_y_true) != bool(args.outfile_y_preds):
        parser.error("--outfile_y_true and --outfile_y_preds go together")
    run(load_inputs(args.inputs), vars(args))


if __name__ == "__main__":
    run_tool(main, outputs=output_paths(sys.argv[1:], *OUTPUT_FLAGS))
