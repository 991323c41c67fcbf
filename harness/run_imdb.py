"""`make run`: the IMDB tutorial workflow in a local Galaxy, from data to confusion matrix.

    python harness/run_imdb.py [--data DIR|zenodo] [--results results] [--port 9500] [--set NAME=VALUE ...]
                               [--recipe]

Starts a local Galaxy with the tools (harness/planemo.sh serve), uploads X_train, y_train, X_test and
y_test (``.tsv`` or ``.tsv.gz``) from DIR (default: the real IMDB slice bundled in data/imdb_slice;
``zenodo``: the tutorial's Zenodo record, downloaded and checked by harness/fetch_imdb.py), runs
workflows/imdb_rnn.ga with the tutorial's settings, shows each step's progress and the training's epoch
lines as they happen, downloads the outputs into the results folder, prints the confusion matrix and
scores, and stops Galaxy. ``--set random_seed=7`` (or epochs, batch_size, embedding_dim, lstm_units)
changes one of the workflow's parameters for this run; the defaults are the tutorial's settings.
``--recipe`` runs workflows/imdb_rnn_recipe.ga instead (issue 12: more accurate, not slower; its
parameters add conv_filters; docs/results.md).
"""
import argparse
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import fetch_imdb

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = {"tutorial": ROOT / "workflows" / "imdb_rnn.ga", "recipe": ROOT / "workflows" / "imdb_rnn_recipe.ga"}
INPUTS = ("X_train", "y_train", "X_test", "y_test")
# workflow output label -> file name in the results folder
OUTPUT_FILES = {
    "model_config": "model_config.json",
    "training_metrics": "training_metrics.tsv",
    "training_history": "training_history.tsv",
    "trained_model": "trained_model.h5mlm",
    "model_weights": "model_weights.h5",
    "predictions": "predictions.tsv",
    "confusion_matrix_plot": "confusion_matrix.png",
    "confusion_metrics": "confusion_metrics.tsv",
}


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def find_inputs(folder):
    """Paths of the four tutorial files in ``folder``, each ``NAME.tsv`` or ``NAME.tsv.gz``."""
    paths = {}
    for name in INPUTS:
        candidates = [Path(folder) / f"{name}.tsv", Path(folder) / f"{name}.tsv.gz"]
        found = [path for path in candidates if path.exists()]
        if not found:
            sys.exit(f"Error: {folder} has no {name}.tsv or {name}.tsv.gz")
        paths[name] = found[0]
    return paths


def plain_copy(path, workdir):
    """Galaxy gets plain TSV: decompress ``.gz`` files into ``workdir``."""
    if path.suffix != ".gz":
        return path
    target = Path(workdir) / path.stem
    with gzip.open(path, "rb") as source, open(target, "wb") as out:
        shutil.copyfileobj(source, out)
    return target


class LocalGalaxy:
    """A Galaxy started with planemo serve in its own process group, stopped on exit."""

    def __init__(self, port, log_path):
        self.url = f"http://127.0.0.1:{port}"
        self.log_file = open(log_path, "w")
        self.process = subprocess.Popen(
            ["bash", str(ROOT / "harness" / "planemo.sh"), "serve", "--host", "127.0.0.1"],
            cwd=ROOT, stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PORT": str(port)},
        )

    def wait(self, timeout=600):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"Error: Galaxy stopped while starting; see {self.log_file.name}")
            try:
                urllib.request.urlopen(f"{self.url}/api/version", timeout=5)  # noqa: S310 (http://127.0.0.1)
                return
            except OSError:
                time.sleep(2)
        sys.exit(f"Error: Galaxy did not start in {timeout} s; see {self.log_file.name}")

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def follow_invocation(gi, invocation_id, poll=3):
    """Print step states and running jobs' new stdout lines until the invocation is done."""
    seen_states, stdout_read, job_times = {}, {}, {}
    while True:
        invocation = gi.invocations.show_invocation(invocation_id)
        steps = invocation["steps"]
        for step in steps:
            label = step.get("workflow_step_label") or f"step {step['order_index']}"
            job_id = step.get("job_id")
            if not job_id:
                continue
            job = gi.jobs.show_job(job_id)
            if seen_states.get(job_id) != job["state"]:
                seen_states[job_id] = job["state"]
                log(f"{label}: {job['state']}")
                if job["state"] == "running":
                    job_times[label] = [time.time(), None]
                if job["state"] in ("ok", "error") and label in job_times:
                    job_times[label][1] = time.time()
            if job["state"] == "running":
                position = stdout_read.get(job_id, 0)
                output = gi.make_get_request(
                    f"{gi.url}/jobs/{job_id}/console_output",
                    params={"stdout_position": position, "stdout_length": 100000,
                            "stderr_position": 0, "stderr_length": 0},
                ).json()
                text = output.get("stdout") or ""
                if text:
                    stdout_read[job_id] = position + len(text)
                    for line in text.splitlines():
                        print(f"    {label} | {line}", flush=True)
            if job["state"] == "error":
                full = gi.jobs.show_job(job_id, full_details=True)
                sys.exit(f"Error: step {label} failed:\n{full.get('stderr', '').strip()}")
        states = [seen_states.get(step.get("job_id")) for step in steps if step.get("job_id")]
        # "scheduled": every step has its jobs; Galaxy >= 24 moves it on to "completed" once they are done.
        if invocation["state"] in ("scheduled", "completed") and states and all(state == "ok" for state in states):
            return {label: end - start for label, (start, end) in job_times.items() if end}
        if invocation["state"] in ("failed", "cancelled"):
            sys.exit(f"Error: the workflow invocation {invocation['state']}")
        time.sleep(poll)


def summarize(results):
    """Print the confusion matrix and scores from the confusion metrics table."""
    rows = [line.split("\t") for line in (results / "confusion_metrics.tsv").read_text().splitlines()]
    header = rows[0]
    table = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    positive = table["1"]
    tn, fp, fn, tp = (int(positive[key]) for key in ("TN", "FP", "FN", "TP"))
    print()
    print("Confusion matrix (rows: true label, columns: predicted label)")
    print(f"{'':>14}{'predicted 0':>14}{'predicted 1':>14}")
    print(f"{'true 0':>14}{tn:>14,}{fp:>14,}")
    print(f"{'true 1':>14}{fn:>14,}{tp:>14,}")
    print()
    print(f"accuracy  {float(positive['accuracy']):.4f}")
    print(f"precision {float(positive['precision']):.4f}   (positive reviews, class 1)")
    print(f"recall    {float(positive['recall']):.4f}")
    print(f"F1        {float(positive['f1']):.4f}")
    print()
    print(f"confusion matrix plot: {results / 'confusion_matrix.png'}")
    print(f"trained model:         {results / 'trained_model.h5mlm'}")
    print(f"all outputs:           {results}/")


def workflow_parameters(path):
    """Labels of the workflow's integer parameter inputs, read from the .ga itself (its one source)."""
    steps = json.loads(Path(path).read_text())["steps"].values()
    return [step["label"] for step in steps if step["type"] == "parameter_input"
            and json.loads(step["tool_state"]).get("parameter_type") == "integer"]


def parameter_values(settings, known):
    """``["random_seed=7", ...]`` -> ``{"random_seed": 7}``, refusing names not in ``known`` and non-integers."""
    values = {}
    for setting in settings:
        name, _, value = setting.partition("=")
        if name not in known:
            raise ValueError(f"--set {setting}: unknown parameter {name!r}; expected one of {', '.join(known)}")
        try:
            values[name] = int(value)
        except ValueError:
            raise ValueError(f"--set {setting}: {name} must be an integer") from None
    return values


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "data" / "imdb_slice"),
                        help="folder with the four TSVs, or 'zenodo' (default: the bundled slice)")
    parser.add_argument("--results", default=str(ROOT / "results"))
    parser.add_argument("--port", type=int, default=9500)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a workflow parameter for this run (an integer input of the workflow, e.g. random_seed)")
    parser.add_argument("--recipe", action="store_true",
                        help=f"run {WORKFLOWS['recipe'].name} instead of the tutorial's {WORKFLOWS['tutorial'].name}")
    args = parser.parse_args(argv)
    workflow_path = WORKFLOWS["recipe" if args.recipe else "tutorial"]
    try:
        parameters = parameter_values(args.set, workflow_parameters(workflow_path))
    except ValueError as error:
        parser.error(str(error))

    if args.data == "zenodo":
        cache = ROOT / ".cache" / "zenodo-4477881"
        try:
            fetch_imdb.fetch_all(str(cache), log=log)
        except fetch_imdb.DataError as error:
            sys.exit(f"Error: {error}")
        args.data = str(cache)
    # `timeout` and CI stop a run with SIGTERM: exit through the `finally` below so Galaxy is stopped too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    from planemo.galaxy.api import gi as galaxy_instance  # the Galaxy venv's API client (bioblend)
    from planemo.galaxy.api import user_api_key

    inputs = find_inputs(args.data)
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    started = time.time()
    log(f"data: {args.data}; starting Galaxy (about 1-2 minutes; log: {results / 'galaxy.log'})")
    galaxy = LocalGalaxy(args.port, results / "galaxy.log")
    try:
        galaxy.wait()
        log(f"Galaxy is up at {galaxy.url}")
        gi = galaxy_instance(url=galaxy.url, key=user_api_key(galaxy_instance(url=galaxy.url)))
        history = gi.histories.create_history("IMDB RNN recipe" if args.recipe else "IMDB RNN tutorial")
        with tempfile.TemporaryDirectory() as workdir:
            datasets = {}
            for name, path in inputs.items():
                log(f"uploading {name} ({path.name})")
                upload = gi.tools.upload_file(str(plain_copy(path, workdir)), history["id"],
                                              file_type="tabular", file_name=name)
                datasets[name] = upload["outputs"][0]["id"]
            for dataset_id in datasets.values():
                gi.datasets.wait_for_dataset(dataset_id, maxwait=1800)
        workflow = gi.workflows.import_workflow_from_local_path(str(workflow_path))
        invocation = gi.workflows.invoke_workflow(
            workflow["id"], inputs={**{name: {"src": "hda", "id": dataset_id} for name, dataset_id in datasets.items()},
                                    **parameters},
            history_id=history["id"], inputs_by="name", allow_tool_state_corrections=True,
        )
        log("workflow invoked: model architecture -> compile -> train -> predict -> confusion matrix"
            + (f" ({', '.join(f'{name}={value}' for name, value in parameters.items())})" if parameters else ""))
        step_times = follow_invocation(gi, invocation["id"])
        outputs = gi.invocations.show_invocation(invocation["id"])["outputs"]
        for label, file_name in OUTPUT_FILES.items():
            gi.datasets.download_dataset(outputs[label]["id"], file_path=str(results / file_name),
                                         use_default_filename=False)
        log("step wall times: " + ", ".join(f"{label} {seconds:.0f} s" for label, seconds in step_times.items()))
        log(f"done in {time.time() - started:.0f} s")
        summarize(results)
    finally:
        galaxy.stop()


if __name__ == "__main__":
    main()
