"""The GTN deep-learning tutorials' FNN and CNN models on their full real data, through our tool scripts.

    python research/gtn_tutorials.py cars-tsv CARS_CSV OUT_DIR       # car purchase CSV -> the tutorial's TSVs
    python research/gtn_tutorials.py mnist-tsv PACKAGE_DIR OUT_DIR   # MNIST IDX files -> the tutorial's TSVs
    python research/gtn_tutorials.py fnn [--data DIR] [--seed N]     # car purchase regression (FNN tutorial)
    python research/gtn_tutorials.py cnn [--data DIR] [--seed N]     # MNIST digits (CNN tutorial)

Each model runs the steps of the published workflow (``workflows/gtn/Intro_To_FNN_latest.ga``,
``Intro_To_CNN_v1_0_11_0.ga``) with the workflow's settings, one tool script per step as Galaxy runs
it (inputs JSON + output paths, ``research/bench.py``'s ``run_tool``), and prints the numbers the
tutorial reports next to its own: R2 and RMSE for the FNN (from *Plot actual vs predicted curves
and residual plots*), the confusion matrix and the per-digit precision, recall and F1 for the CNN (from
*Machine Learning Visualization Extension*). Everything lands in ``--out`` (default
``gtn-results/NAME/``): the tools' outputs, their logs and ``result.json``. Results: ``docs/results.md``.

The inputs JSON have the layout and values of the published workflows' saved states (Galaxy-ML's
form: ``optimizer_type: Adam`` + ``optimizer_options``, ``test_split|split_algos``,
``metrics|scoring|primary_scoring``, ``save``; issue 13, docs/migration.md), typed as Galaxy's inputs
JSON types them; ``research/tests/test_gtn_tutorials.py`` checks them against the ``.ga`` files step by
step. Only the connections (the data and the earlier steps' outputs) and ``random_seed`` (``--seed``;
the workflows leave it empty) differ. Where the CNN workflow feeds the 10-column one-hot y of
*To categorical* to training, this script feeds the label column unless ``--onehot``: with categorical
cross-entropy the training tool one-hot encodes the labels itself, so the model sees the same targets.
(The saved states are not fed to the scripts as they are: a ``.ga`` holds every value as text, which
Galaxy converts by the tool's parameter types before it writes the inputs JSON.)

Data (not in the repository; provenance in each folder's README.md):
``../shared/data/car_purchase/`` (``X_train.tsv``, ``y_train.tsv``, ``X_test.tsv``, ``y_test.tsv``, with a
header line, as the tutorial's Zenodo record 4660497) and ``../shared/data/mnist/`` (the same four names,
gzipped, no header, as Zenodo record 4697906 is read by the CNN workflow).
"""
import argparse
import gzip
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import prepare_data, run_tool  # noqa: E402  (shared with the benchmark: plain TSVs, one tool run)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
ALL_COLUMNS = {"selected_column_selector_option": "all_columns"}

# The official MNIST files (LeCun, Cortes, Burges), uncompressed: sha256 and (magic, count).
MNIST_FILES = {
    "train-images.idx3-ubyte": ("ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 60000),
    "train-labels.idx1-ubyte": ("65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 60000),
    "t10k-images.idx3-ubyte": ("0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 10000),
    "t10k-labels.idx1-ubyte": ("ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 10000),
}


# ---- car purchase data: CSV -> the tutorial's tables ------------------------------------------------

CARS_SHA256 = "d3eefa11756674f91ff736f9f9124669e9424c0f583ede6fa63d22550cf6fe73"
CARS_COLUMNS = ["age", "gender", "miles", "debt", "income", "sales"]


def cars_tsv(csv_path, out, seed):
    """The FNN tutorial's tables from Grogan's cars.csv, the way its source article made them.

    Every column (the five features and the target ``sales``) min-max scaled to 0..1 over all 963 rows,
    then ``train_test_split(test_size=0.25)``: 722 training and 241 test rows, which with their header
    line are the "723 training examples" and "242 test examples" the tutorial counts. The article did
    not fix the split's seed, so the Zenodo record's rows cannot be reproduced exactly; ``seed`` fixes ours.
    """
    from sklearn.model_selection import train_test_split

    csv_path, out = Path(csv_path), Path(out)
    digest = hashlib.sha256(csv_path.read_bytes()).hexdigest()
    if digest != CARS_SHA256:
        raise SystemExit(f"{csv_path}: sha256 {digest}, expected {CARS_SHA256} (MGCodesandStats/datasets cars.csv)")
    lines = csv_path.read_text().split()
    if lines[0].split(",") != CARS_COLUMNS:
        raise SystemExit(f"{csv_path}: header {lines[0]!r}, expected {','.join(CARS_COLUMNS)}")
    values = np.array([[float(cell) for cell in line.split(",")] for line in lines[1:]])
    scaled = (values - values.min(axis=0)) / (values.max(axis=0) - values.min(axis=0))
    train_rows, test_rows = train_test_split(scaled, test_size=0.25, random_state=seed)
    out.mkdir(parents=True, exist_ok=True)
    for split, rows in (("train", train_rows), ("test", test_rows)):
        for prefix, columns in (("X", slice(0, 5)), ("y", slice(5, 6))):
            path = out / f"{prefix}_{split}.tsv"
            np.savetxt(path, rows[:, columns], delimiter="\t", fmt="%.6g", comments="",
                       header="\t".join(CARS_COLUMNS[columns]))
            print(f"{path}: {len(rows)} rows + header, columns {CARS_COLUMNS[columns]}")


# ---- MNIST: IDX files -> the tutorial's tables ----------------------------------------------------

def read_idx(path, count):
    """An IDX file (big-endian header: magic, dimensions) as a uint8 array of ``count`` rows."""
    raw = Path(path).read_bytes()
    dims = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims))
    if raw[:3] != b"\x00\x00\x08" or shape[0] != count:
        raise SystemExit(f"{path}: not an IDX file of {count} unsigned bytes rows (shape {shape})")
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape[0], -1)


def write_tsv_gz(path, array):
    """Tab-separated integers, one row per line, no header; gzip with no timestamp (reproducible bytes)."""
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
        for row in array:
            handle.write(("\t".join(map(str, row.tolist())) + "\n").encode())


def mnist_tsv(package_dir, out):
    """Check the four IDX files against the official checksums and write X/y train/test TSVs (gzipped)."""
    package_dir, out = Path(package_dir), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for name, (sha256, count) in MNIST_FILES.items():
        path = package_dir / name
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != sha256:
            raise SystemExit(f"{path}: sha256 {digest}, expected the official {sha256}")
        arrays[name] = read_idx(path, count)
    tables = {"X_train": arrays["train-images.idx3-ubyte"], "y_train": arrays["train-labels.idx1-ubyte"],
              "X_test": arrays["t10k-images.idx3-ubyte"], "y_test": arrays["t10k-labels.idx1-ubyte"]}
    for name, array in tables.items():
        write_tsv_gz(out / f"{name}.tsv.gz", array)
        print(f"{out / name}.tsv.gz: {array.shape[0]} x {array.shape[1]}")


# ---- the tutorials' workflows, step by step -------------------------------------------------------

def table(number, path, header):
    return {f"infile{number}": str(path), f"header{number}": header,
            f"column_selector_options_{number}": ALL_COLUMNS}


def layer(layer_type, **fields):
    return {"layer_selection": {"layer_type": layer_type, **fields}}


def builder(model_json, learning_type, loss, metrics, epochs, batch_size, seed):
    """keras_model_builder's inputs: Adam with the workflows' (Keras default) settings, no callback."""
    return {"mode_selection": {
        "mode_type": "train_model", "infile_json": str(model_json), "learning_type": learning_type,
        "compile_params": {"loss": loss, "optimizer_selection": {"optimizer_type": "Adam", "optimizer_options": {
            "learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}},
            "metrics": metrics},
        "fit_params": {"epochs": epochs, "batch_size": batch_size, "steps_per_epoch": None, "validation_split": 0.1,
                       "validation_steps": None, "callbacks": [{"callback_selection": {"callback_type": "None"}}],
                       "verbose": 1},
        "random_seed": seed}}


def train(model, X, y, header, scoring):
    """keras_train_and_eval's inputs: "Train and Validate", 20 % held out, the trained model saved."""
    return {"experiment_schemes": {
        "selected_exp_scheme": "train_val", "infile_estimator": str(model),
        "hyperparams_swapping": {"param_set": [{"sp_name": None, "sp_value": ""}]},
        "test_split": {"split_algos": {"shuffle": "simple", "test_size": 0.2, "random_state": None}},
        "metrics": {"scoring": {"primary_scoring": scoring, "secondary_scoring": None}}},
        "input_options": {"selected_input": "tabular", **table(1, X, header), "infile2": str(y), "header2": header,
                          "column_selector_options_2": {"selected_column_selector_option2": "all_columns"}},
        "save": ["save_estimator"]}


def predict(model, X, header):
    return {"infile_estimator": str(model), "input_options": {"selected_input": "tabular", **table(1, X, header)},
            "method": "predict"}


# What keras_train_and_eval writes with ``save: [save_estimator]`` (its <outputs> filters).
TRAIN_OUTPUTS = ("outfile_result", "outfile_object", "outfile_weights")


def run_steps(work, steps):
    """Run (name, script, inputs, outputs) in order; return each step's wall seconds and peak RSS."""
    times = {}
    for name, script, params, outputs in steps:
        print(f"[{time.strftime('%H:%M:%S')}] {name} ({script})", flush=True)
        step = run_tool(work, name, script, params, outputs, env=None, prefix=name)
        times[name] = {"wall_s": round(step["wall_s"], 1), "cpu_s": round(step["cpu_s"], 1),
                       "peak_rss_mb": round(step["peak_rss_mb"]), "load_1m": round(step["load_1m"], 2)}
    return times


def fnn(data, work, seed):
    """FNN tutorial: Dense(12, relu) -> Dense(8, relu) -> Dense(1, linear), MSE, Adam, 150 epochs, batch 50."""
    data = prepare_data(data, work)
    config = {"model_selection": {"model_type": "sequential", "input_shape": "(5, )", "layers": [
        layer("Dense", units=12, activation="relu", kwargs=""), layer("Dense", units=8, activation="relu", kwargs=""),
        layer("Dense", units=1, activation="linear", kwargs="")]}}
    plots = {name: work / f"{name}.html" for name in
             ("output_actual_vs_pred", "output_scatter_plot", "output_residual_plot")}
    times = run_steps(work, [
        ("config", "keras_model_config", config, {"outfile": work / "model.json"}),
        ("builder", "keras_model_builder",
         builder(work / "model.json", "KerasGRegressor", "mean_squared_error", ["mse"], 150, 50, seed),
         {"outfile": work / "model.h5mlm"}),
        ("train", "keras_train_and_eval",
         train(work / "model.h5mlm", data["X_train"], data["y_train"], True, "neg_mean_squared_error"),
         {name: work / f"{name}.out" for name in TRAIN_OUTPUTS}),
        ("predict", "model_prediction", predict(work / "outfile_object.out", data["X_test"], True),
         {"outfile": work / "predictions.tsv"}),
        ("plots", "plotly_regression_performance_plots",
         {"infile_input": str(data["y_test"]), "infile_output": str(work / "predictions.tsv")}, plots),
    ])
    true = np.loadtxt(data["y_test"], skiprows=1, ndmin=1)
    predicted = np.loadtxt(work / "predictions.tsv", skiprows=1, ndmin=1)
    residual = predicted - true
    r2 = 1 - np.sum(residual ** 2) / np.sum((true - true.mean()) ** 2)
    return {"r2": round(float(r2), 4), "rmse": round(float(np.sqrt(np.mean(residual ** 2))), 4),
            "n_test": int(true.size), "steps": times}


def cnn(data, work, seed, onehot):
    """CNN workflow: Reshape(28,28,1) -> Conv2D(64,3) -> MaxPool(2,2) -> Conv2D(32,3) -> MaxPool -> Flatten
    -> Dense(10, softmax); categorical cross-entropy, Adam, 10 epochs, batch 500 (the workflow's values)."""
    data = prepare_data(data, work)
    config = {"model_selection": {"model_type": "sequential", "input_shape": "(784, )", "layers": [
        layer("Reshape", target_shape="(28,28,1)"),
        layer("Conv2D", filters=64, kernel_size="3", activation="relu", kwargs=""),
        layer("MaxPooling2D", pool_size="(2, 2)", strides="", kwargs=""),
        layer("Conv2D", filters=32, kernel_size="3", activation="relu", kwargs=""),
        layer("MaxPooling2D", pool_size="(2, 2)", strides="", kwargs=""),
        layer("Flatten", data_format="channels_last"),
        layer("Dense", units=10, activation="softmax", kwargs="")]}}
    y_train = work / "y_train_onehot.tsv" if onehot else data["y_train"]
    times = run_steps(work, [
        ("config", "keras_model_config", config, {"outfile": work / "model.json"}),
        ("to_categorical", "sklearn_to_categorical",
         {"infile": str(data["y_train"]), "header0": False, "num_classes": 10},
         {"outfile": work / "y_train_onehot.tsv"}),
        ("builder", "keras_model_builder",
         builder(work / "model.json", "KerasGClassifier", "categorical_crossentropy", ["categorical_accuracy"],
                 10, 500, seed),
         {"outfile": work / "model.h5mlm"}),
        ("train", "keras_train_and_eval",
         train(work / "model.h5mlm", data["X_train"], y_train, False, "accuracy"),
         {name: work / f"{name}.out" for name in TRAIN_OUTPUTS}),
        ("predict", "model_prediction", predict(work / "outfile_object.out", data["X_test"], False),
         {"outfile": work / "predictions.tsv"}),
        ("confusion_matrix", "ml_visualization_ex", {"plotting_selection": {
            "plot_type": "classification_confusion_matrix",
            "infile_true": str(data["y_test"]), "header_true": False, "column_selector_options_true": ALL_COLUMNS,
            "infile_predicted": str(work / "predictions.tsv"), "header_predicted": True,
            "title": "Confusion matrix between true and predicted labels", "plot_format": "png",
            "plot_color": "Greens"}},
         {"output": work / "confusion.png", "output_metrics": work / "confusion.tsv"}),
    ])
    true = np.loadtxt(data["y_test"], dtype=int, ndmin=1)
    predicted = np.loadtxt(work / "predictions.tsv", skiprows=1, dtype=float, ndmin=1).astype(int)
    matrix = np.zeros((10, 10), dtype=int)
    np.add.at(matrix, (true, predicted), 1)
    diagonal = np.diag(matrix)
    with np.errstate(divide="ignore", invalid="ignore"):  # a digit never predicted (small data): NaN
        precision, recall = diagonal / matrix.sum(axis=0), diagonal / matrix.sum(axis=1)
        f1 = 2 * precision * recall / (precision + recall)
    return {"accuracy": round(float(diagonal.sum() / matrix.sum()), 4), "confusion_matrix": matrix.tolist(),
            "precision": np.round(precision, 3).tolist(), "recall": np.round(recall, 3).tolist(),
            "f1": np.round(f1, 3).tolist(),
            "n_test": int(true.size), "steps": times}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    cars = commands.add_parser("cars-tsv", help="car purchase cars.csv -> scaled X/y train/test TSVs")
    cars.add_argument("csv", help="cars.csv of MGCodesandStats/datasets")
    cars.add_argument("out", help="where to write X_train.tsv, y_train.tsv, X_test.tsv, y_test.tsv")
    cars.add_argument("--seed", type=int, default=0, help="seed of the train/test split")
    convert = commands.add_parser("mnist-tsv", help="MNIST IDX files -> X/y train/test TSVs (gzipped)")
    convert.add_argument("package_dir", help="folder with the four uncompressed IDX files")
    convert.add_argument("out", help="where to write X_train.tsv.gz, y_train.tsv.gz, X_test.tsv.gz, y_test.tsv.gz")
    for name, folder in (("fnn", "car_purchase"), ("cnn", "mnist")):
        run = commands.add_parser(name, help=f"the {name.upper()} tutorial's workflow on the full data")
        run.add_argument("--data", type=Path, default=SHARED / folder)
        run.add_argument("--out", type=Path, default=ROOT / "gtn-results" / name)
        run.add_argument("--seed", type=lambda text: None if text == "none" else int(text), default=42,
                         help="model seed; 'none' as in the workflows, which leave it empty (default: 42)")
        if name == "cnn":
            run.add_argument("--onehot", action="store_true",
                             help="train on To categorical's one-hot y, as the workflow does")
    args = parser.parse_args(argv)
    if args.command == "cars-tsv":
        cars_tsv(args.csv, args.out, args.seed)
        return
    if args.command == "mnist-tsv":
        mnist_tsv(args.package_dir, args.out)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if args.command == "fnn":
        result = fnn(args.data.resolve(), args.out.resolve(), args.seed)
    else:
        result = cnn(args.data.resolve(), args.out.resolve(), args.seed, args.onehot)
    result.update(command=" ".join(["python research/gtn_tutorials.py", *(argv or sys.argv[1:])]),
                  data=str(args.data), seed=args.seed, total_wall_s=round(time.perf_counter() - start, 1))
    (args.out / "result.json").write_text(json.dumps(result, indent=1))
    print(json.dumps({key: value for key, value in result.items() if key != "confusion_matrix"}, indent=1))


if __name__ == "__main__":
    main()
