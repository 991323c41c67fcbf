"""What the contained model process (gxkeras.modelfile.containment) costs model_prediction and keras_train_and_eval on IMDB.

The tutorial's architecture (Embedding(10000, 32) -> LSTM(100) -> Dense(1, sigmoid)) saved as an h5mlm.
``--tool predict``: after one epoch on 64 reviews (prediction runs at the same speed whatever the weights),
model_prediction.py on the 25,000 x 500 word indices of X_test. ``--tool train``: untrained (epochs 1, batch
128, seed 42), keras_train_and_eval.py on the first ``--train-rows`` reviews of X_train/y_train (a fifth held
out for validation). Each as Galaxy runs it (a fresh Python, an inputs JSON), with the containment on (the
default) and off (GXKERAS_CONTAINMENT=off), alternating, each ``--repeats`` times. Each run's wall time and CPU
seconds (its whole process tree, from os.wait4) and the 1-minute load average before it are printed as one
JSON line, then the medians and whether both modes wrote the same bytes (docs/performance.md, "The contained
model process").

    .venv-tools/bin/python research/containment_cost.py [--tool predict|train] [--data DIR] [--repeats 2]
        [--train-rows 5000] [--work DIR]
"""
import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "tools" / "scripts"
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "imdb"


def make_model(data, path, fitted=True):
    """The tutorial's IMDB model as galaxy-ml saves it (built here, in a child Python: Keras stays out of this one):
    fitted one epoch on 64 reviews, or untrained as keras_model_builder writes it."""
    fit = f"""clf.fit(np.loadtxt({str(data / 'X_train.tsv.gz')!r}, dtype="int64", max_rows=64),
        np.loadtxt({str(data / 'y_train.tsv.gz')!r}, dtype="int64", max_rows=64))""" if fitted else ""
    program = f"""
import json, sys
import numpy as np
from gxkeras.keras.environment import import_keras
keras = import_keras()
from galaxy_ml.keras_galaxy_models import KerasGClassifier
from gxkeras.modelfile import save_estimator
model = keras.Sequential([keras.Input(shape=(500,)), keras.layers.Embedding(10000, 32), keras.layers.LSTM(100),
                          keras.layers.Dense(1, activation="sigmoid")])
clf = KerasGClassifier(config=json.loads(model.to_json())["config"], loss="binary_crossentropy", optimizer="adam",
                       epochs=1, batch_size={32 if fitted else 128}, seed={0 if fitted else 42}, verbose=0)
{fit}
save_estimator(clf, {str(path)!r})
"""
    subprocess.run([sys.executable, "-c", program], check=True, env={**os.environ, "PYTHONPATH": str(SCRIPTS)})


def predict_job(work, mode):
    """model_prediction on X_test: ``(script, inputs, {flag: output path})``."""
    inputs = {"infile_estimator": str(work / "imdb.h5mlm"), "weights": [], "method": "predict",
              "input_options": {"selected_input": "tabular", "infile1": str(work / "X_test.tsv"), "header1": False,
                                "column_selector_options_1": {"selected_column_selector_option": "all_columns"}}}
    return "model_prediction.py", inputs, {"--outfile": work / f"predictions_{mode}.tsv"}


def train_job(work, mode):
    """keras_train_and_eval on the first rows of the training set: ``(script, inputs, {flag: output path})``."""
    all_columns = {"selected_column_selector_option": "all_columns"}
    inputs = {"experiment_schemes": {"selected_exp_scheme": "train_val", "infile_estimator": str(work / "untrained.h5mlm"),
                                     "test_split": {"split_algos": {"shuffle": "simple", "test_size": 0.2}}},
              "input_options": {"selected_input": "tabular", "infile1": str(work / "X_train.tsv"), "header1": False,
                                "column_selector_options_1": all_columns, "infile2": str(work / "y_train.tsv"),
                                "header2": False, "column_selector_options_2": {"selected_column_selector_option2": "all_columns"}}}
    return "keras_train_and_eval.py", inputs, {"--outfile_result": work / f"result_{mode}.tsv",
                                               "--outfile_object": work / f"model_{mode}.h5mlm"}


def measure(work, mode, job):
    """One run of the tool: ``{"mode", "wall_s", "cpu_s", "load_1min"}``, and the bytes of its first output."""
    script, params, outputs = job(work, mode)
    inputs = work / "inputs.json"
    inputs.write_text(json.dumps(params))
    env = {**os.environ, "GALAXY_SLOTS": "2"}
    env.pop("GXKERAS_CONTAINMENT", None)
    if mode == "off":
        env["GXKERAS_CONTAINMENT"] = "off"
    load = os.getloadavg()[0]
    start = time.monotonic()
    flags = [str(part) for flag, path in outputs.items() for part in (flag, path)]
    child = subprocess.Popen([sys.executable, str(SCRIPTS / script), "--inputs", str(inputs), *flags], cwd=work,
                             env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{script} failed ({mode})")
    return {"mode": mode, "wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "load_1min": round(load, 2)}, next(iter(outputs.values())).read_bytes()


def gunzip(source, target, rows=None):
    """The first ``rows`` lines (all: None) of a gzipped table, once."""
    if target.exists():
        return
    with gzip.open(source, "rt") as lines, open(target, "w") as out:
        for number, line in enumerate(lines):
            if rows is not None and number >= rows:
                break
            out.write(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", choices=("predict", "train"), default="predict")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--work", type=Path, default=Path("containment-cost"))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--train-rows", type=int, default=5000)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    work = args.work.resolve()
    if args.tool == "predict":
        gunzip(args.data / "X_test.tsv.gz", work / "X_test.tsv")
        if not (work / "imdb.h5mlm").exists():
            make_model(args.data, work / "imdb.h5mlm")
        job = predict_job
    else:
        for name in ("X_train", "y_train"):
            gunzip(args.data / f"{name}.tsv.gz", work / f"{name}.tsv", args.train_rows)
        if not (work / "untrained.h5mlm").exists():
            make_model(args.data, work / "untrained.h5mlm", fitted=False)
        job = train_job
    runs, written = [], {}
    for _ in range(args.repeats):
        for mode in ("on", "off"):
            run, written[mode] = measure(work, mode, job)
            runs.append(run)
            print(json.dumps(runs[-1]), flush=True)
    medians = {mode: {key: statistics.median(run[key] for run in runs if run["mode"] == mode)
                      for key in ("wall_s", "cpu_s")} for mode in ("on", "off")}
    print(json.dumps({"tool": args.tool, "medians": medians,
                      "on_over_off_wall": round(medians["on"]["wall_s"] / medians["off"]["wall_s"], 3),
                      "same_output": written["on"] == written["off"]}))


if __name__ == "__main__":
    main()
