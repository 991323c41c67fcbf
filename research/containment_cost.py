"""What the contained model process (gxkeras.containment) costs model_prediction on the IMDB test set.

The tutorial's architecture (Embedding(10000, 32) -> LSTM(100) -> Dense(1, sigmoid)) saved as an h5mlm after
one epoch on 64 reviews (prediction runs at the same speed whatever the weights), then model_prediction.py
on the 25,000 x 500 word indices of X_test, as Galaxy runs it (a fresh Python, an inputs JSON), with the
containment on (the default) and off (GXKERAS_CONTAINMENT=off), alternating, each ``--repeats`` times. Each
run's wall time and CPU seconds (its whole process tree, from os.wait4) and the 1-minute load average
before it are printed as one JSON line, then the medians (docs/performance.md, "The contained model
process").

    .venv-tools/bin/python research/containment_cost.py [--data DIR] [--repeats 2] [--work DIR]
"""
import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "tools" / "scripts"
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "imdb"


def make_model(data, path):
    """The tutorial's IMDB model as galaxy-ml saves it (built here, in a child Python: Keras stays out of this one)."""
    program = f"""
import json, sys
import numpy as np
from gxkeras.keras_env import import_keras
keras = import_keras()
from galaxy_ml.keras_galaxy_models import KerasGClassifier
from gxkeras.model_io import save_estimator
model = keras.Sequential([keras.Input(shape=(500,)), keras.layers.Embedding(10000, 32), keras.layers.LSTM(100),
                          keras.layers.Dense(1, activation="sigmoid")])
clf = KerasGClassifier(config=json.loads(model.to_json())["config"], loss="binary_crossentropy", optimizer="adam",
                       epochs=1, batch_size=32, seed=0, verbose=0)
clf.fit(np.loadtxt({str(data / 'X_train.tsv.gz')!r}, dtype="int64", max_rows=64),
        np.loadtxt({str(data / 'y_train.tsv.gz')!r}, dtype="int64", max_rows=64))
save_estimator(clf, {str(path)!r})
"""
    subprocess.run([sys.executable, "-c", program], check=True, env={**os.environ, "PYTHONPATH": str(SCRIPTS)})


def predict(work, mode):
    """One model_prediction run: ``{"mode", "wall_s", "cpu_s", "load_1min", "rows"}``."""
    inputs = work / "inputs.json"
    inputs.write_text(json.dumps({
        "infile_estimator": str(work / "imdb.h5mlm"), "weights": [], "method": "predict",
        "input_options": {"selected_input": "tabular", "infile1": str(work / "X_test.tsv"), "header1": False,
                          "column_selector_options_1": {"selected_column_selector_option": "all_columns"}}}))
    env = {**os.environ, "GALAXY_SLOTS": "2"}
    env.pop("GXKERAS_CONTAINMENT", None)
    if mode == "off":
        env["GXKERAS_CONTAINMENT"] = "off"
    load = os.getloadavg()[0]
    start = time.monotonic()
    child = subprocess.Popen([sys.executable, str(SCRIPTS / "model_prediction.py"), "--inputs", str(inputs),
                              "--outfile", str(work / f"predictions_{mode}.tsv")], cwd=work, env=env,
                             stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"model_prediction failed ({mode})")
    rows = sum(1 for _ in open(work / f"predictions_{mode}.tsv")) - 1
    return {"mode": mode, "wall_s": round(wall, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "load_1min": round(load, 2), "rows": rows}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--work", type=Path, default=Path("containment-cost"))
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    work = args.work.resolve()
    if not (work / "X_test.tsv").exists():
        with gzip.open(args.data / "X_test.tsv.gz", "rb") as source, open(work / "X_test.tsv", "wb") as target:
            shutil.copyfileobj(source, target)
    if not (work / "imdb.h5mlm").exists():
        make_model(args.data, work / "imdb.h5mlm")
    runs = []
    for _ in range(args.repeats):
        for mode in ("on", "off"):
            runs.append(predict(work, mode))
            print(json.dumps(runs[-1]), flush=True)
    same = (work / "predictions_on.tsv").read_bytes() == (work / "predictions_off.tsv").read_bytes()
    medians = {mode: {key: statistics.median(run[key] for run in runs if run["mode"] == mode)
                      for key in ("wall_s", "cpu_s")} for mode in ("on", "off")}
    print(json.dumps({"medians": medians, "on_over_off_wall": round(medians["on"]["wall_s"] / medians["off"]["wall_s"], 3),
                      "same_predictions": same}))


if __name__ == "__main__":
    main()
