"""`make bench`: how fast our Keras tools train and predict on the real IMDB data, against galaxy-ml used directly.

    python research/bench.py [--data DIR] [--quick] [--out bench-results]   # the benchmark (`make bench`)
    python research/bench.py levers [--data DIR] [--rows 5000]              # one targeted run per speed lever
    python research/bench.py report                                         # table of the last full run, again

The benchmark runs, in one process tree:

1. the *reference* path: galaxy-ml 0.11's KerasGClassifier with stock TensorFlow settings, fitting the
   tutorial's model on X_train and predicting X_test, the way a straightforward wrapper script would
   (pandas' default ``read_csv``, ``fit``, ``predict``). It gets the same 20 % validation holdout as our
   train tool (same ``train_test_split``, same seed), so both train on the same rows and validate on the
   same rows each epoch: seconds per epoch compare directly;
2. *our* path: the tool scripts as Galaxy runs them (one subprocess each, inputs JSON with dataset
   paths): keras_model_config -> keras_model_builder -> keras_train_and_eval -> model_prediction, then
   ml_visualization_ex on the predictions.

Every measured step runs in its own child process, so its peak RSS (``os.wait4``) and its threads are its
own. Seconds per epoch come from Keras' own ``verbose=2`` epoch lines, parsed the same way for both paths.
The LSTM's FLOPs per epoch are divided by that time and compared with a float32 GEMM at the LSTM's shapes
measured in the same run (the "matmul bound"). Results: a table on stdout and ``OUT/bench.json``.

Child roles (``reference``, ``read``) are subcommands of this file, so the whole benchmark is one script.
"""
import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "tools" / "scripts"
PYTHON = sys.executable
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "imdb"

# The tutorial's model and training settings.
SEQUENCE, VOCABULARY, EMBEDDING, UNITS = 500, 10000, 32, 100
EPOCHS, BATCH, VALIDATION, SEED = 2, 128, 0.2, 42
# LSTM multiply-adds per sample and time step: 4 gates x (input + hidden) x units; x2 for FLOPs.
LSTM_FORWARD_FLOPS = 2 * 4 * (EMBEDDING + UNITS) * UNITS * SEQUENCE  # per sample, all 500 steps
TRAIN_FLOPS_FACTOR = 3  # forward + backward (about twice the forward)
QUICK_ROWS = (640, 320)  # train, test rows for --quick: a smoke test, not a measurement
RESULT_TAG = "BENCH_RESULT "  # children print one line "BENCH_RESULT {json}" last
EPOCH_LINE = re.compile(r"^\s*(\d+)/(\d+) - (\d+)s - (\d+)(us|ms|s)/step")
ONEDNN_ON = "oneDNN custom operations are on"


# ---- running children --------------------------------------------------------------------------

def run_child(command, log_path, env=None, prefix=""):
    """Run ``command``, streaming its output (stdout+stderr) to ``log_path`` and, prefixed, to ours.

    Returns wall seconds, the child's own peak RSS and CPU seconds (``os.wait4``, so children measured
    earlier don't count), the 1-minute load average at its end (other jobs on the machine inflate wall
    times; CPU seconds much less) and its output. Raises on a non-zero exit with the output's tail.
    """
    start = time.perf_counter()
    process = subprocess.Popen([str(part) for part in command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env={**os.environ, **(env or {})}, cwd=ROOT)
    lines = []
    with open(log_path, "w") as log:
        for line in process.stdout:
            lines.append(line)
            log.write(line)
            if prefix and (EPOCH_LINE.match(line) or line.startswith("Epoch")):
                print(f"    {prefix} | {line.rstrip()}", flush=True)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    output = "".join(lines)
    if process.returncode:
        raise RuntimeError(f"{' '.join(map(str, command))} exited {process.returncode}:\n{output[-3000:]}")
    return {"wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024, "cpu_s": usage.ru_utime + usage.ru_stime,
            "load_1m": os.getloadavg()[0], "output": output}


def child_result(output):
    """The JSON a child role printed on its ``BENCH_RESULT`` line."""
    for line in reversed(output.splitlines()):
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG):])
    raise RuntimeError("child printed no result line:\n" + output[-2000:])


def parse_epochs(output):
    """Keras' verbose=2 epoch lines ("157/157 - 45s - 287ms/step - ...") -> [{epoch_s, step_s}].

    ``epoch_s`` is Keras' elapsed time for the epoch (whole seconds; includes the first step's tracing
    and the validation pass); ``step_s`` its steady-state seconds per training step (first step excluded).
    """
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0}
    return [{"epoch_s": float(match[3]), "step_s": int(match[4]) * scale[match[5]], "steps": int(match[2])}
            for match in map(EPOCH_LINE.match, output.splitlines()) if match]


def training_rates(epochs, n_train, n_val):
    """s/epoch, samples/s and LSTM GFLOP/s of the fastest epoch.

    On a shared machine other jobs slow some epochs down; the fastest one is the least disturbed. (The
    first epoch also includes a few seconds of graph tracing, so picking it is conservative.)
    """
    last = min(epochs, key=lambda epoch: epoch["epoch_s"])
    flops = TRAIN_FLOPS_FACTOR * LSTM_FORWARD_FLOPS * n_train + LSTM_FORWARD_FLOPS * n_val
    return {"epoch_s": [epoch["epoch_s"] for epoch in epochs], "step_s": last["step_s"],
            "best_epoch_s": last["epoch_s"], "samples_per_s": n_train / last["epoch_s"],
            "lstm_gflops": flops / last["epoch_s"] / 1e9,
            "lstm_gflops_steady": TRAIN_FLOPS_FACTOR * LSTM_FORWARD_FLOPS * BATCH / last["step_s"] / 1e9}


# ---- data --------------------------------------------------------------------------------------

def find(folder, name):
    for candidate in (Path(folder) / f"{name}.tsv", Path(folder) / f"{name}.tsv.gz"):
        if candidate.exists():
            return candidate
    sys.exit(f"Error: {folder} has no {name}.tsv or {name}.tsv.gz")


def prepare_data(source, work, train_rows=None, test_rows=None):
    """Plain TSV copies (as Galaxy datasets are stored), optionally only the first rows."""
    paths = {}
    for name, rows in (("X_train", train_rows), ("y_train", train_rows), ("X_test", test_rows), ("y_test", test_rows)):
        path = find(source, name)
        target = Path(work) / f"{name}.tsv"
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt") as handle, open(target, "w") as out:
            for index, line in enumerate(handle):
                if rows is not None and index >= rows:
                    break
                out.write(line)
        paths[name] = target
    return paths


def read_labels(path):
    import numpy as np

    return np.loadtxt(path, dtype="float64", ndmin=1)


def scores(y_true, y_pred):
    """Accuracy and F1 of class 1, without scikit-learn (the orchestrator stays light)."""
    import numpy as np

    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    tp = float(((y_true == 1) & (y_pred == 1)).sum())
    precision_denominator, recall_denominator = float((y_pred == 1).sum()), float((y_true == 1).sum())
    f1 = 2 * tp / (precision_denominator + recall_denominator) if precision_denominator + recall_denominator else 0.0
    return {"accuracy": float((y_true == y_pred).mean()), "f1": f1}


# ---- the matmul bound --------------------------------------------------------------------------

def gemm_bound(shapes=((BATCH, EMBEDDING + UNITS, 4 * UNITS), (1024, 1024, 1024)), seconds=1.0):
    """Best-of-N float32 GEMM GFLOP/s with numpy's OpenBLAS for (m, k, n) shapes, on 1 thread and all cores.

    The first shape is the LSTM's fused gate product per time step, [x_t, h] (128 x 132) @ W (132 x 400):
    the biggest matmul the LSTM ever does, so no implementation of this model beats it per FLOP. The big
    square GEMM is the machine's float32 peak, for context. Many short trials, best one kept: on a shared
    machine some land in quiet moments. The bound used for ratios is ``cores x 1-thread`` at the LSTM
    shape: OpenBLAS' multi-threaded small GEMM collapses when another process holds a core, the
    single-thread figure does not, and the ideal parallel LSTM scales it by the cores.
    """
    import numpy as np
    from threadpoolctl import threadpool_limits

    results = {}
    rng = np.random.default_rng(0)
    for threads in (1, os.cpu_count()):
        for m, k, n in shapes:
            a, b = rng.standard_normal((m, k), dtype="float32"), rng.standard_normal((k, n), dtype="float32")
            out = np.empty((m, n), dtype="float32")
            repeats = max(1, int(1e8 / (2 * m * k * n)))  # trials of a few milliseconds
            best, deadline = float("inf"), time.perf_counter() + seconds
            with threadpool_limits(threads, user_api="blas"):
                while time.perf_counter() < deadline:
                    begin = time.perf_counter()
                    for _ in range(repeats):
                        np.matmul(a, b, out=out)
                    best = min(best, (time.perf_counter() - begin) / repeats)
            results[f"{m}x{k}@{k}x{n} {threads} thread(s)"] = 2 * m * k * n / best / 1e9
    m, k, n = shapes[0]
    results["bound"] = os.cpu_count() * results[f"{m}x{k}@{k}x{n} 1 thread(s)"]
    return results


# ---- child role: the reference path ------------------------------------------------------------

def epoch_clock(keras):
    """A callback recording each epoch's wall and CPU seconds (this process), to the millisecond.

    CPU seconds tell how much of the wall time the job really computed: on a machine shared with other
    jobs, CPU/wall well under the thread count means it waited for a core.
    """
    import resource

    def now():
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return time.perf_counter(), usage.ru_utime + usage.ru_stime

    class EpochClock(keras.callbacks.Callback):
        epochs = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = now()

        def on_epoch_end(self, epoch, logs=None):
            end = now()
            self.epochs.append({"wall_s": end[0] - self.start[0], "cpu_s": end[1] - self.start[1]})

    return EpochClock()


def reference_main(argv):
    """Reference path in this process: pandas default read_csv, KerasGClassifier fit, predict.

    Lever options change one thing each (threads, XLA, input dtype, prediction batch size); environment
    levers (TF_ENABLE_ONEDNN_OPTS) are set by the parent. Prints the BENCH_RESULT line.
    """
    parser = argparse.ArgumentParser(prog="bench.py reference")
    parser.add_argument("--data", required=True, help="folder with the plain TSVs")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--intra", type=int, help="intra-op threads (default: TensorFlow's, all cores)")
    parser.add_argument("--inter", type=int, help="inter-op threads")
    parser.add_argument("--jit", action="store_true", help="compile with jit_compile=True (XLA)")
    parser.add_argument("--int32", action="store_true", help="read X as int32 instead of pandas' int64")
    parser.add_argument("--predict-batches", default=str(BATCH), help="comma-separated batch sizes to time")
    parser.add_argument("--chunk-rows", type=int, help="also time predicting in chunks of this many rows")
    args = parser.parse_args(argv)
    data = Path(args.data)
    result = {}

    start = time.perf_counter()
    import keras
    import pandas as pd
    import tensorflow as tf
    from galaxy_ml.keras_galaxy_models import KerasGClassifier
    from sklearn.model_selection import train_test_split

    result["import_s"] = time.perf_counter() - start
    if args.intra:
        tf.config.threading.set_intra_op_parallelism_threads(args.intra)
    if args.inter:
        tf.config.threading.set_inter_op_parallelism_threads(args.inter)
    if args.jit:  # galaxy-ml compiles the model inside fit() and has no jit_compile parameter
        compile_model = keras.Model.compile
        keras.Model.compile = lambda self, *a, **k: compile_model(self, *a, **{**k, "jit_compile": True})

    def read(name, **options):
        begin = time.perf_counter()
        values = pd.read_csv(data / f"{name}.tsv", sep="\t", header=None, **options).values
        result[f"read_{name}_s"] = time.perf_counter() - begin
        return values

    X = read("X_train", **({"dtype": "int32"} if args.int32 else {}))
    y = read("y_train").ravel()
    result["X_dtype"] = str(X.dtype)
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=VALIDATION, random_state=SEED, shuffle=True)
    model = keras.Sequential([keras.Input((SEQUENCE,)), keras.layers.Embedding(VOCABULARY, EMBEDDING),
                              keras.layers.LSTM(UNITS), keras.layers.Dense(1, activation="sigmoid")])
    estimator = KerasGClassifier(config=model.get_config(), model_type="sequential", optimizer="adam",
                                 loss="binary_crossentropy", metrics=["acc"], epochs=args.epochs, batch_size=BATCH,
                                 verbose=2, seed=SEED)
    clock = epoch_clock(keras)
    begin = time.perf_counter()
    estimator.fit(X_train, y_train, validation_data=(X_val, y_val), callbacks=[clock])
    result["epoch_clock"] = clock.epochs
    result["fit_s"] = time.perf_counter() - begin
    result["jit_compile"] = bool(estimator.model_.jit_compile)
    result["n_train"], result["n_val"] = len(y_train), len(y_val)

    X_test = read("X_test", **({"dtype": "int32"} if args.int32 else {}))
    y_test = read("y_test").ravel()
    for batch in map(int, args.predict_batches.split(",")):
        begin = time.perf_counter()
        y_pred = estimator.predict(X_test, batch_size=batch, verbose=0)
        result[f"predict_s_batch{batch}"] = time.perf_counter() - begin
    result["predict_s"] = result[f"predict_s_batch{args.predict_batches.split(',')[0]}"]
    if args.chunk_rows:  # as model_prediction does: one predict call per chunk of rows
        begin = time.perf_counter()
        for first in range(0, len(X_test), args.chunk_rows):
            estimator.predict(X_test[first:first + args.chunk_rows], batch_size=BATCH, verbose=0)
        result[f"predict_s_chunks{args.chunk_rows}"] = time.perf_counter() - begin
    result.update(scores(y_test, y_pred))
    print(RESULT_TAG + json.dumps(result), flush=True)


# ---- child role: reading a TSV -----------------------------------------------------------------

def read_main(argv):
    """Read one TSV one way (``default``, ``int32`` or ``tools``); print time, dtype, bytes of the array."""
    method, path = argv
    start = time.perf_counter()
    if method == "tools":
        sys.path.insert(0, str(SCRIPTS))
        from gxkeras.data.tabular import read_tabular

        values, _ = read_tabular(path, "X")
    else:
        import pandas as pd

        values = pd.read_csv(path, sep="\t", header=None, **({"dtype": "int32"} if method == "int32" else {})).values
    print(RESULT_TAG + json.dumps({"read_s": time.perf_counter() - start, "dtype": str(values.dtype),
                                   "array_mb": values.nbytes / 2**20, "shape": list(values.shape)}), flush=True)


# ---- our tools' path ---------------------------------------------------------------------------

def tool_inputs():
    """The Galaxy inputs JSON of each tool for the tutorial's workflow (see tools/*.xml and their tests)."""
    all_columns = {"selected_column_selector_option": "all_columns"}

    def layer(layer_type, **fields):
        return {"__index__": 0, "layer_selection": {"layer_type": layer_type, **fields, "kwargs": ""}}

    def table(number, path):
        return {f"infile{number}": str(path), f"header{number}": False,
                f"column_selector_options_{number}": all_columns}

    return {
        "config": lambda: {"model_selection": {
            "model_type": "sequential", "input_shape": f"({SEQUENCE},)",
            "layers": [layer("Embedding", input_dim=VOCABULARY, output_dim=EMBEDDING), layer("LSTM", units=UNITS),
                       layer("Dense", units=1, activation="sigmoid")]}},
        "builder": lambda model_json: {"mode_selection": {
            "__current_case__": 0, "mode_type": "train_model", "infile_json": str(model_json),
            "learning_type": "KerasGClassifier",
            "compile_params": {"loss": "binary_crossentropy", "metrics": ["acc"], "optimizer_selection": {
                "__current_case__": 4, "optimizer_type": "Adam", "optimizer_options": {
                    "learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}}},
            "fit_params": {"epochs": EPOCHS, "batch_size": BATCH, "validation_split": 0.1, "verbose": 2,
                           "callbacks": []},
            "random_seed": SEED}},
        "train": lambda model, X, y: {
            "experiment_schemes": {
                "__current_case__": 0, "selected_exp_scheme": "train_val", "infile_estimator": str(model),
                "hyperparams_swapping": {"param_set": [{"sp_name": None, "sp_value": ""}]},
                "test_split": {"split_algos": {"shuffle": "simple", "test_size": VALIDATION, "random_state": None}},
                "metrics": {"scoring": {"primary_scoring": "default"}}},
            "input_options": {"selected_input": "tabular", **table(1, X), "infile2": str(y), "header2": False,
                              "column_selector_options_2": {"selected_column_selector_option2": "all_columns"}},
            "save": ["save_estimator", "save_csvlogger"]},
        "predict": lambda model, X: {"infile_estimator": str(model), "method": "predict",
                                     "input_options": {"selected_input": "tabular", **table(1, X)}},
        "visualize": lambda y_true, y_pred: {"plotting_selection": {
            "plot_type": "classification_confusion_matrix", "plot_color": "Blues", "title": None, "plot_format": "png",
            "infile_true": str(y_true), "header_true": False, "column_selector_options_true": all_columns,
            "infile_predicted": str(y_pred), "header_predicted": True}},
    }


def run_tool(work, name, script, params, outputs, env, prefix=""):
    """One tool as Galaxy runs it: ``python tools/scripts/SCRIPT.py --inputs inputs.json --OUTPUT path ...``."""
    inputs = Path(work) / f"{name}_inputs.json"
    inputs.write_text(json.dumps(params, indent=1))
    command = [PYTHON, SCRIPTS / f"{script}.py", "--inputs", inputs]
    for flag, path in outputs.items():
        command += [f"--{flag}", path]
    return run_child(command, Path(work) / f"{name}.log", env=env, prefix=prefix)


def ours(work, paths, env):
    """The tutorial's workflow through our tool scripts; times, RSS and scores of each step."""
    work = Path(work)
    inputs, steps = tool_inputs(), {}
    steps["config"] = run_tool(work, "config", "keras_model_config", inputs["config"](),
                               {"outfile": work / "model.json"}, env)
    steps["builder"] = run_tool(work, "builder", "keras_model_builder", inputs["builder"](work / "model.json"),
                                {"outfile": work / "model.h5mlm"}, env)
    steps["train"] = run_tool(work, "train", "keras_train_and_eval",
                              inputs["train"](work / "model.h5mlm", paths["X_train"], paths["y_train"]),
                              {name: work / f"{name}.out" for name in
                               ("outfile_result", "outfile_object", "outfile_weights", "outfile_history")},
                              env, prefix="ours")
    steps["predict"] = run_tool(work, "predict", "model_prediction",
                                inputs["predict"](work / "outfile_object.out", paths["X_test"]),
                                {"outfile": work / "predictions.tsv"}, env)
    steps["visualize"] = run_tool(work, "visualize", "ml_visualization_ex",
                                  inputs["visualize"](paths["y_test"], work / "predictions.tsv"),
                                  {"output": work / "confusion.png", "output_metrics": work / "confusion.tsv"},
                                  env)
    n_rows = len(read_labels(paths["y_train"]))
    n_val = -(-n_rows * 2 // 10)  # the train tool's holdout: ceil(0.2 * n)
    result = {name: {key: value for key, value in step.items() if key != "output"} for name, step in steps.items()}
    result["train"].update(training_rates(parse_epochs(steps["train"]["output"]), n_rows - n_val, n_val))
    import numpy as np

    predicted = np.loadtxt(work / "predictions.tsv", skiprows=1, ndmin=1)
    result.update(scores(read_labels(paths["y_test"]), predicted))
    result["onednn_on"] = ONEDNN_ON in steps["train"]["output"]
    return result


# ---- start-up and reading ----------------------------------------------------------------------

IMPORTS = {  # label -> (module, extra environment)
    "numpy": ("numpy", {}), "pandas": ("pandas", {}), "tensorflow": ("tensorflow", {}),
    "keras (tensorflow backend)": ("keras", {"KERAS_BACKEND": "tensorflow"}),
    "keras_model_config (module)": ("keras_model_config", {}),
    "ml_visualization_ex (module)": ("ml_visualization_ex", {}),
}


def startup(work, env, best_of):
    """Best-of-N cold ``python -c 'import MODULE'`` (tools/scripts/ on the path): where the tools' start-up goes.

    The tools' end-to-end times (config, visualize: their whole job is start-up) are in ``ours``.
    """
    results = {}
    for label, (module, extra) in IMPORTS.items():
        command = [PYTHON, "-c", f"import sys; sys.path.insert(0, {str(SCRIPTS)!r}); import {module}"]
        results[label] = min(run_child(command, Path(work) / "import.log", env={**env, **extra})["wall_s"]
                             for _ in range(best_of))
    return results


def reading(work, path):
    """X_test read three ways, each in its own process: time, dtype, array size, peak RSS."""
    results = {}
    for method in ("default", "int32", "tools"):
        child = run_child([PYTHON, __file__, "read", method, path], Path(work) / f"read_{method}.log")
        results[method] = {**child_result(child["output"]), "peak_rss_mb": child["peak_rss_mb"]}
    return results


# ---- the benchmark -----------------------------------------------------------------------------

def machine():
    info = {"cores": os.cpu_count()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        info["cpu"] = re.search(r"Model name:\s*(.+)", lscpu)[1].strip()
    except (OSError, TypeError):
        pass
    import numpy as np
    import pandas as pd

    info["numpy"], info["pandas"] = np.__version__, pd.__version__
    git = ["git", "-C", str(ROOT)]
    info["commit"] = subprocess.run([*git, "rev-parse", "--short", "HEAD"],
                                    capture_output=True, text=True).stdout.strip()
    info["tools_modified"] = bool(subprocess.run([*git, "status", "--porcelain", "tools"],
                                                 capture_output=True, text=True).stdout.strip())
    return info


def reference(work, data, env, extra=(), prefix="ref"):
    """The reference child: its BENCH_RESULT plus wall time, peak RSS and parsed epochs."""
    child = run_child([PYTHON, __file__, "reference", "--data", data, *extra], Path(work) / f"{prefix}.log",
                      env=env, prefix=prefix)
    result = {**child_result(child["output"]), **{key: value for key, value in child.items() if key != "output"}}
    result.update(training_rates(parse_epochs(child["output"]), result["n_train"], result["n_val"]))
    result["onednn_on"] = ONEDNN_ON in child["output"]
    return result


def benchmark(args):
    out = Path(args.out)
    work = out / ("work-quick" if args.quick else "work")
    work.mkdir(parents=True, exist_ok=True)
    slots = str(os.cpu_count())
    tools_env = {"GALAXY_SLOTS": os.environ.get("GALAXY_SLOTS", slots)}  # what a job given every core sees
    print(f"bench: data {args.data}{' (QUICK: first rows only)' if args.quick else ''}; work in {work}", flush=True)
    paths = prepare_data(args.data, work, *(QUICK_ROWS if args.quick else (None, None)))
    results = {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "quick": args.quick, "machine": machine(),
               "galaxy_slots": tools_env["GALAXY_SLOTS"]}
    print("bench: matmul bound", flush=True)
    results["gemm_gflops"] = gemm_bound()
    print("bench: reference path (galaxy-ml, stock TensorFlow)", flush=True)
    results["reference"] = reference(work, work, {})
    print(f"bench: our tools (GALAXY_SLOTS={tools_env['GALAXY_SLOTS']})", flush=True)
    results["ours"] = ours(work, paths, tools_env)
    print("bench: start-up and TSV reading", flush=True)
    results["imports_s"] = startup(work, tools_env, best_of=1 if args.quick else 3)
    results["read_X_test"] = reading(work, paths["X_test"])
    results["ratios"] = ratios(results)
    (out / ("bench-quick.json" if args.quick else "bench.json")).write_text(json.dumps(results, indent=1))
    print_table(results)
    print(f"bench: results in {out / ('bench-quick.json' if args.quick else 'bench.json')}")


def reference_jobs(ref):
    """The reference's seconds for what each of our jobs does: start-up, reading, then fit or predict.

    Our jobs also score the validation set and write outputs; the reference's predict call alone is
    reported too.
    """
    return {"train": ref["import_s"] + ref["read_X_train_s"] + ref["read_y_train_s"] + ref["fit_s"],
            "predict": ref["import_s"] + ref["read_X_test_s"] + ref["predict_s"]}


def ratios(results):
    """Reference time / our time (>1: we are faster), and our share of the matmul bound."""
    ref, our = results["reference"], results["ours"]
    bound = results["gemm_gflops"]["bound"]
    return {"epoch_speedup": ref["best_epoch_s"] / our["train"]["best_epoch_s"],
            "train_job_speedup": reference_jobs(ref)["train"] / our["train"]["wall_s"],
            "predict_job_speedup": reference_jobs(ref)["predict"] / our["predict"]["wall_s"],
            "ours_of_matmul_bound": our["train"]["lstm_gflops"] / bound,
            "reference_of_matmul_bound": ref["lstm_gflops"] / bound}


def print_table(results):
    ref, our, ratio = results["reference"], results["ours"], results["ratios"]
    rows = [
        ("", "reference", "ours", "ref/ours"),
        ("s/epoch (fastest)", f"{ref['best_epoch_s']:.0f}", f"{our['train']['best_epoch_s']:.0f}",
         f"{ratio['epoch_speedup']:.2f}x"),
        ("s/epoch (all)", " ".join(f"{s:.0f}" for s in ref["epoch_s"]),
         " ".join(f"{s:.0f}" for s in our["train"]["epoch_s"]), ""),
        ("train samples/s", f"{ref['samples_per_s']:.0f}", f"{our['train']['samples_per_s']:.0f}", ""),
        ("LSTM GFLOP/s (epoch)", f"{ref['lstm_gflops']:.1f}", f"{our['train']['lstm_gflops']:.1f}", ""),
        ("  of matmul bound", f"{ratio['reference_of_matmul_bound']:.0%}", f"{ratio['ours_of_matmul_bound']:.0%}", ""),
        ("train job s", f"{reference_jobs(ref)['train']:.0f}",
         f"{our['train']['wall_s']:.0f}", f"{ratio['train_job_speedup']:.2f}x"),
        ("predict s (call / job)", f"{ref['predict_s']:.1f} / {reference_jobs(ref)['predict']:.1f}",
         f"- / {our['predict']['wall_s']:.1f}", f"{ratio['predict_job_speedup']:.2f}x"),
        ("peak RSS MB (train)", f"{ref['peak_rss_mb']:.0f} (whole run)", f"{our['train']['peak_rss_mb']:.0f}", ""),
        ("peak RSS MB (predict)", "", f"{our['predict']['peak_rss_mb']:.0f}", ""),
        ("test accuracy / F1", f"{ref['accuracy']:.4f} / {ref['f1']:.4f}",
         f"{our['accuracy']:.4f} / {our['f1']:.4f}", ""),
        ("CPU s / wall s", f"{ref['cpu_s']:.0f} / {ref['wall_s']:.0f}",
         f"{our['train']['cpu_s'] + our['predict']['cpu_s']:.0f} / "
         f"{our['train']['wall_s'] + our['predict']['wall_s']:.0f}", ""),
        ("load avg at end", f"{ref['load_1m']:.1f}", f"{our['train']['load_1m']:.1f}", ""),
        ("oneDNN log line", str(ref["onednn_on"]), str(our["onednn_on"]), ""),
    ]
    print()
    for row in rows:
        print(f"{row[0]:<24}{row[1]:>22}{row[2]:>16}{row[3]:>10}")
    print("\nmatmul bound (numpy float32, GFLOP/s): "
          + ", ".join(f"{k} {v:.1f}" for k, v in results["gemm_gflops"].items()))
    print("tool runs (wall s / peak RSS MB): " + ", ".join(
        f"{name} {our[name]['wall_s']:.1f}/{our[name]['peak_rss_mb']:.0f}"
        for name in ("config", "builder", "train", "predict", "visualize")))
    print("imports (s): " + ", ".join(f"{k} {v:.2f}" for k, v in results["imports_s"].items()))
    print("read X_test: " + ", ".join(f"{k} {v['read_s']:.2f} s {v['dtype']} {v['array_mb']:.0f} MB array, "
                                      f"{v['peak_rss_mb']:.0f} MB peak" for k, v in results["read_X_test"].items()))


# ---- the levers --------------------------------------------------------------------------------

LEVERS = {  # name -> (environment, reference options); each changes one thing against "stock"
    "stock": ({}, []),
    "onednn=0": ({"TF_ENABLE_ONEDNN_OPTS": "0"}, []),
    "onednn=1": ({"TF_ENABLE_ONEDNN_OPTS": "1"}, []),
    "jit_compile": ({}, ["--jit"]),
    "threads 1/1": ({}, ["--intra", "1", "--inter", "1"]),
    "threads 2/1": ({}, ["--intra", "2", "--inter", "1"]),
    "int32 input": ({}, ["--int32"]),
    "stock (repeat)": ({}, []),  # how much the machine's other jobs move the numbers
}


def report(args):
    """Re-derive rates and ratios of the last full run from its saved logs, and print its table."""
    out = Path(args.out)
    results = json.loads((out / "bench.json").read_text())
    work = out / "work"
    ref = results["reference"]
    ref.update(training_rates(parse_epochs((work / "ref.log").read_text()), ref["n_train"], ref["n_val"]))
    n_train, n_val = ref["n_train"], ref["n_val"]
    results["ours"]["train"].update(training_rates(parse_epochs((work / "train.log").read_text()), n_train, n_val))
    results["ratios"] = ratios(results)
    (out / "bench.json").write_text(json.dumps(results, indent=1))
    print_table(results)


def levers(args):
    """One reference run per lever on the first ``--rows`` training rows (2 epochs: the 2nd is steady)."""
    out = Path(args.out)
    work = out / "work-levers"
    work.mkdir(parents=True, exist_ok=True)
    prepare_data(args.data, work, args.rows, args.rows)
    results = {"rows": args.rows, "machine": machine()}
    for name, (env, extra) in LEVERS.items():
        if args.only and name not in args.only.split(","):
            continue
        print(f"levers: {name}", flush=True)
        batches = ["--predict-batches", "128,128,1024,5000", "--chunk-rows", "2000"] if name == "stock" else []
        results[name] = reference(work, work, env, [*extra, *batches], prefix=re.sub(r"\W", "_", name))
        run = results[name]
        clock = " ".join(f"{e['wall_s']:.1f}/{e['cpu_s']:.1f}" for e in run["epoch_clock"])
        print(f"    epochs (wall/CPU s) {clock}, steady {run['step_s'] * 1000:.0f} ms/step, "
              f"predict {run['predict_s']:.1f} s, RSS {run['peak_rss_mb']:.0f} MB, CPU {run['cpu_s']:.0f} s, "
              f"load {run['load_1m']:.1f}, jit {run['jit_compile']}, oneDNN {run['onednn_on']}", flush=True)
    path = out / "levers.json"
    path.write_text(json.dumps(results, indent=1))
    print(f"levers: results in {path}")


def main():
    if len(sys.argv) > 1 and sys.argv[1] in ("reference", "read"):
        return {"reference": reference_main, "read": read_main}[sys.argv[1]](sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", default="bench", choices=("bench", "levers", "report"))
    parser.add_argument("--data", default=str(DEFAULT_DATA),
                        help="folder with X_train, y_train, X_test, y_test (.tsv or .tsv.gz)")
    parser.add_argument("--out", default=str(ROOT / "bench-results"))
    parser.add_argument("--quick", action="store_true", help=f"first {QUICK_ROWS[0]} train / {QUICK_ROWS[1]} test rows")
    parser.add_argument("--rows", type=int, default=5000, help="levers: training (and test) rows")
    parser.add_argument("--only", help="levers: comma-separated names to run")
    args = parser.parse_args()
    {"bench": benchmark, "levers": levers, "report": report}[args.command](args)


if __name__ == "__main__":
    main()
