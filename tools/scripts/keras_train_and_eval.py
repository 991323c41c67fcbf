"""keras_train_and_eval: "Deep learning training and evaluation" of a galaxy-ml Keras estimator.

Loads the untrained model written by ``keras_model_builder``, reads X and y from tabular
datasets, holds out a validation set (and, in the "Train, Validate and Test" scheme, a test set
first), trains on the rest with the validation set as Keras' ``validation_data`` (so ``val_loss``
is available to callbacks), then scores the model on the held-out data. Writes the metrics table,
the trained model (h5mlm), its weights (Keras HDF5) and, when asked, the per-epoch history and the
true and predicted values of the evaluation set.
"""
import argparse
import os
import shutil
import sys
import tempfile

import numpy as np

from gxkeras.errors import ToolInputError, output_paths, run_tool
from gxkeras.allowlist import safe_mode
from gxkeras.estimators import build_callbacks, check_estimator, is_classifier, output_layer
from gxkeras.galaxy_inputs import load_inputs
from gxkeras.keras_env import import_keras
from gxkeras.model_io import load_estimator, save_estimator
from gxkeras.sparse_updates import correct_sparse_updates
from gxkeras.tabular import read_tabular_input
from gxkeras.values import check_layer_names, check_seed

MODEL_LABEL = "Choose the dataset containing pipeline/estimator object"
X_LABEL = "Training samples dataset"
Y_LABEL = "Dataset containing class labels or target values"
OUTPUT_FLAGS = ("--outfile_result", "--outfile_object", "--outfile_weights", "--outfile_history",
                "--outfile_y_true", "--outfile_y_preds")

CLASSIFIER_METRICS = ("accuracy", "balanced_accuracy", "f1", "precision", "recall", "roc_auc", "average_precision")
REGRESSOR_METRICS = ("r2", "explained_variance", "mean_absolute_error", "mean_squared_error",
                     "root_mean_squared_error", "median_absolute_error")


# ---- inputs ------------------------------------------------------------------------------------

def read_data(params):
    """X and y (1-D) from the "tabular data" inputs, with their sizes checked against each other."""
    options = params.get("input_options") or {}
    if options.get("selected_input", "tabular") != "tabular":
        raise ToolInputError(f"Select input type: unknown input type {options.get('selected_input')!r}")
    X, _ = read_tabular_input(options, "infile1", "header1", "column_selector_options_1", "col1", X_LABEL)
    y, names = read_tabular_input(options, "infile2", "header2", "column_selector_options_2", "col2", Y_LABEL)
    if y.shape[1] != 1:
        raise ToolInputError(f"{Y_LABEL}: {y.shape[1]} columns selected ({', '.join(names)}); select the one "
                             "column of class labels or target values")
    if X.shape[0] != y.shape[0]:
        raise ToolInputError(f"{X_LABEL} has {X.shape[0]} rows but {Y_LABEL} has {y.shape[0]}: they must have "
                             "one row per sample, in the same order (check the header options)")
    return X, y[:, 0]


def model_input_shape(config):
    """Shape of one sample (no batch axis) the model expects, from its first InputLayer."""
    for layer in config.get("layers") or []:
        if layer.get("class_name") == "InputLayer":
            shape = layer.get("config", {}).get("batch_shape")
            return tuple(shape[1:]) if shape else None
    build = config.get("build_input_shape")
    return tuple(build[1:]) if build else None


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
    layers = [layer for layer in config.get("layers") or [] if layer.get("class_name") != "InputLayer"]
    if layers and layers[0].get("class_name") == "Embedding":
        input_dim = layers[0]["config"].get("input_dim")
        flat = X.reshape(X.shape[0], -1)
        bad = (flat != np.round(flat)) | (flat < 0) | (flat >= input_dim)
        if bad.any():
            row, column = np.argwhere(bad)[0]
            value = flat[row, column]
            shown = f"{int(value)}" if value == np.round(value) else f"{value:g}"
            raise ToolInputError(f"{X_LABEL}: line {row + 1 + header_offset}, column {column + 1} is "
                                 f"{shown}; the model starts with an Embedding of input_dim "
                                 f"{input_dim}, so every value must be a word index 0..{input_dim - 1}")
        X = X.astype("int64", copy=False)  # already int64 when read from whole numbers: no second copy
    return X


def check_y(y, estimator, header_offset):
    """Class labels must suit the output layer; regression targets must be numbers (already checked)."""
    if not is_classifier(estimator):
        return y.astype("float64")
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
    return y.astype("int64") if np.all(y == np.round(y)) else y


# ---- splitting ---------------------------------------------------------------------------------

def holdout(X, y, options, seed, classifier, what):
    """Split off ``test_size`` of the samples as a holdout: simple, stratified or no shuffling."""
    from sklearn.model_selection import train_test_split

    options = options or {}
    shuffle = options.get("shuffle", "simple")
    test_size = options.get("test_size", 0.2)
    random_state = check_seed(options.get("random_state"), f"{what}: Random seed of the split")
    if random_state is None:
        random_state = seed if seed is not None else 0
    if not isinstance(test_size, (int, float)) or not 0 < test_size < 1:
        raise ToolInputError(f"{what}: test_size must be a fraction in (0, 1), got {test_size!r}")
    n_holdout = int(np.ceil(test_size * len(y)))
    if n_holdout < 1 or len(y) - n_holdout < 1:
        raise ToolInputError(f"{what}: test_size {test_size} of {len(y)} samples leaves an empty set")
    if shuffle == "stratified":
        if not classifier:
            raise ToolInputError(f"{what}: stratified splitting needs class labels; this is a regression model, "
                                 "choose simple shuffling")
        classes, counts = np.unique(y, return_counts=True)
        if counts.min() < 2:
            raise ToolInputError(f"{what}: class {classes[counts.argmin()]:g} has only one sample; stratified "
                                 "splitting needs at least two per class (choose simple shuffling)")
        try:
            return train_test_split(X, y, test_size=test_size, random_state=random_state, stratify=y)
        except ValueError as error:
            raise ToolInputError(f"{what}: cannot stratify: {error}") from None
    if shuffle == "simple":
        return train_test_split(X, y, test_size=test_size, random_state=random_state, shuffle=True)
    if shuffle == "None":
        return train_test_split(X, y, test_size=test_size, shuffle=False)
    raise ToolInputError(f"{what}: unknown shuffle option {shuffle!r}")


# ---- scoring -----------------------------------------------------------------------------------

def metric_names(scoring, classifier):
    """The primary metric ("default": accuracy or r2) then the secondary ones, checked for the task."""
    scoring = scoring or {}
    primary = scoring.get("primary_scoring") or "default"
    if primary == "default":
        primary = "accuracy" if classifier else "r2"
    secondary = scoring.get("secondary_scoring") or []
    if isinstance(secondary, str):
        secondary = [item.strip() for item in secondary.split(",") if item.strip()]
    allowed = CLASSIFIER_METRICS if classifier else REGRESSOR_METRICS
    kind = "a classification" if classifier else "a regression"
    for name in [primary, *secondary]:
        if name not in allowed:
            raise ToolInputError(f"Scoring: {name} does not apply to {kind} model; choose one of {', '.join(allowed)}")
    return list(dict.fromkeys([primary, *secondary]))


def score(name, estimator, X, y):
    """One metric of the trained estimator on (X, y); NaN where it is undefined (e.g. one class)."""
    from sklearn import metrics

    if not is_classifier(estimator):
        pred = estimator.predict(X, verbose=0)
        if name == "root_mean_squared_error":
            return float(np.sqrt(metrics.mean_squared_error(y, pred)))
        return float(getattr(metrics, f"{name}_score" if name in ("r2", "explained_variance") else name)(y, pred))
    classes = estimator.classes_
    binary = len(classes) == 2
    if name in ("roc_auc", "average_precision"):
        if len(np.unique(y)) < 2:
            return float("nan")
        proba = estimator.predict_proba(X, verbose=0)
        if binary:
            function = metrics.roc_auc_score if name == "roc_auc" else metrics.average_precision_score
            return float(function(y == classes[1], proba[:, 1]))
        if name == "average_precision":
            return float("nan")
        return float(metrics.roc_auc_score(y, proba, multi_class="ovr", labels=classes))
    pred = np.ravel(estimator.predict(X, verbose=0))
    if name in ("accuracy", "balanced_accuracy"):
        return float(getattr(metrics, f"{name}_score")(y, pred))
    function = getattr(metrics, f"{name}_score")
    if binary:
        return float(function(y, pred, pos_label=classes[1], zero_division=0))
    return float(function(y, pred, average="macro", zero_division=0))


def encode_y(estimator, y):
    """y as the Keras model sees it (galaxy-ml's class indices, one-hot for categorical_crossentropy)."""
    if not is_classifier(estimator):
        return y
    classes = estimator.classes_
    index = np.searchsorted(classes, y)
    if estimator.loss == "categorical_crossentropy":
        import keras

        return keras.utils.to_categorical(index, len(classes))
    return index


def keras_loss(estimator, X, y):
    return float(estimator.model_.evaluate(X, encode_y(estimator, y), verbose=0, return_dict=True)["loss"])


# ---- training ----------------------------------------------------------------------------------

def train(estimator, X_train, y_train, X_val, y_val):
    """Fit with the validation set as validation_data, with correct sparse updates; return Keras' History."""
    keras = import_keras()
    if estimator.seed is not None:
        keras.utils.set_random_seed(estimator.seed)
    if is_classifier(estimator):
        unseen = np.setdiff1d(np.unique(y_val), np.unique(y_train))
        if unseen.size:
            raise ToolInputError(f"{Y_LABEL}: class {unseen[0]:g} is only in the validation set; use stratified "
                                 "splitting or more samples")
        # galaxy-ml encodes y itself but not validation_data: encode it the same way
        estimator.classes_ = np.unique(y_train)
        validation = (X_val, encode_y(estimator, y_val))
    else:
        validation = (X_val, y_val)
    print(f"Training a {type(estimator).__name__} on {len(y_train)} samples, validating on {len(y_val)}: "
          f"{estimator.epochs} epochs, batch_size {estimator.batch_size}, seed {estimator.seed}", flush=True)
    # The callbacks are built here from the checked list, not by galaxy-ml (which would build any
    # keras.callbacks class named in the file); the saved parameter itself is kept unchanged.
    callbacks, stored = build_callbacks(estimator.callbacks, MODEL_LABEL), estimator.callbacks
    estimator.callbacks = None
    try:
        # safe_mode: galaxy-ml rebuilds the Keras model from its config inside fit;
        # correct_sparse_updates: Keras 3 mis-updates Embeddings otherwise (see gxkeras.sparse_updates)
        with safe_mode(), correct_sparse_updates():
            return estimator.fit(X_train, y_train, validation_data=validation, callbacks=callbacks)
    except (ValueError, TypeError) as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ToolInputError(f"Keras could not train the model on this data: {message}") from None
    finally:
        estimator.callbacks = stored


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


def write_predictions(estimator, X, y, true_path, preds_path):
    write_table(true_path, ["y_true"], [[value] for value in y])
    pred = np.ravel(estimator.predict(X, verbose=0))
    if is_classifier(estimator):
        proba = estimator.predict_proba(X, verbose=0)
        header = ["y_preds", *(f"probability_{format_value(label)}" for label in estimator.classes_)]
        write_table(preds_path, header, [[label, *row] for label, row in zip(pred, proba, strict=True)])
    else:
        write_table(preds_path, ["y_preds"], [[value] for value in pred])


def run(params, outputs):
    """Train and evaluate; write the outputs named in ``outputs`` (dict of paths, some None)."""
    scheme = params.get("experiment_schemes") or {}
    selected = scheme.get("selected_exp_scheme")
    if selected not in ("train_val", "train_val_test"):
        raise ToolInputError(f"Select a scheme: unknown scheme {selected!r}")
    if not scheme.get("infile_estimator"):
        raise ToolInputError(f"{MODEL_LABEL}: no dataset given")
    import_keras()  # TensorFlow's settings (threads, quiet start-up) before galaxy-ml imports it
    estimator = check_estimator(load_estimator(scheme["infile_estimator"], MODEL_LABEL), MODEL_LABEL)
    check_layer_names(estimator.config, MODEL_LABEL)  # they become HDF5 groups when the model is saved
    check_seed(estimator.seed, f"{MODEL_LABEL}: the model's random seed")
    classifier = is_classifier(estimator)
    names = metric_names(scheme.get("metrics"), classifier)

    X, y = read_data(params)
    options = params.get("input_options") or {}
    X = check_X(X, estimator, int(bool(options.get("header1"))))
    y = check_y(y, estimator, int(bool(options.get("header2"))))

    seed = estimator.seed
    sets = {}
    if selected == "train_val_test":
        X, X_test, y, y_test = holdout(X, y, scheme.get("test_split"), seed, classifier, "Test holdout")
        sets["test"] = (X_test, y_test)
    X_train, X_val, y_train, y_val = holdout(X, y, scheme.get("val_split"), seed, classifier, "Validation holdout")
    sets = {"validation": (X_val, y_val), **sets}

    history = train(estimator, X_train, y_train, X_val, y_val)

    header = ["metric", *sets]
    rows = [[name, *(score(name, estimator, *data) for data in sets.values())] for name in names]
    rows.append(["loss", *(keras_loss(estimator, *data) for data in sets.values())])
    write_table(outputs["outfile_result"], header, rows)
    print("Evaluation (" + ", ".join(f"{name}: {len(data[1])} samples" for name, data in sets.items()) + "):")
    for row in [header, *rows]:
        print("  " + "\t".join(format_value(value) for value in row))

    save_estimator(estimator, outputs["outfile_object"])
    save_weights(estimator, outputs["outfile_weights"])
    if outputs.get("outfile_history"):
        write_history(outputs["outfile_history"], history)
    if outputs.get("outfile_y_true") or outputs.get("outfile_y_preds"):
        X_eval, y_eval = sets["test" if "test" in sets else "validation"]
        write_predictions(estimator, X_eval, y_eval, outputs["outfile_y_true"], outputs["outfile_y_preds"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", required=True, help="Galaxy's inputs JSON (the form's values)")
    parser.add_argument("--outfile_result", required=True, help="metrics table (tabular)")
    parser.add_argument("--outfile_object", required=True, help="trained model (h5mlm)")
    parser.add_argument("--outfile_weights", required=True, help="trained weights (Keras HDF5)")
    parser.add_argument("--outfile_history", help="per-epoch loss and metrics (tabular)")
    parser.add_argument("--outfile_y_true", help="true values of the evaluation set (tabular)")
    parser.add_argument("--outfile_y_preds", help="predicted values of the evaluation set (tabular)")
    args = parser.parse_args(argv)
    if bool(args.outfile_y_true) != bool(args.outfile_y_preds):
        parser.error("--outfile_y_true and --outfile_y_preds go together")
    run(load_inputs(args.inputs), vars(args))


if __name__ == "__main__":
    run_tool(main, outputs=output_paths(sys.argv[1:], *OUTPUT_FLAGS))
