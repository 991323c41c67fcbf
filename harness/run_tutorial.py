"""`make run`: a GTN deep-learning tutorial's workflow in a local Galaxy, from its data to its result.

    python harness/run_tutorial.py [--tutorial rnn|fnn|cnn] [--quick | --data DIR|zenodo] [--results DIR]
                                   [--port 9500] [--set NAME=VALUE ...] [--recipe]

Starts a local Galaxy with the tools (harness/planemo.sh serve), uploads the tutorial's four tables
X_train, y_train, X_test and y_test (``NAME.tsv`` or ``NAME.tsv.gz``), runs the tutorial's workflow, shows
each step's progress and the training's epoch lines as they happen, downloads every output into the
results folder (default ``results/TUTORIAL``), prints our result next to the tutorial's own numbers
(harness/tutorial_report.py, harness/tutorials.py), and stops Galaxy.

Tutorials (harness/tutorials.py): ``rnn`` (default) IMDB sentiment, workflows/imdb_rnn.ga with the
tutorial's settings; ``fnn`` car purchase regression and ``cnn`` MNIST digits, the GTN's published
workflows in workflows/gtn/. Data: the full real data bundled in data/ (rnn: data/imdb, fnn:
data/car_purchase; cnn has none bundled and needs --data); ``--quick``: a small real slice (rnn:
data/imdb_slice; fnn, cnn: the workflow tests' slices in test-data/); ``--data DIR``: the four tables in
DIR; ``--data zenodo``: the tutorial's Zenodo record, downloaded into .cache/ and checked
(harness/fetch_zenodo.py). ``--set random_seed=7`` (or another integer parameter of the workflow)
changes one of the workflow's parameters for this run; ``--recipe`` (rnn only) runs
workflows/imdb_rnn_recipe.ga instead (issue 12: more accurate, not slower; docs/results.md).
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

import fetch_zenodo
import tutorial_report
import tutorials
from label_workflow_outputs import short_tool_id

ROOT = tutorials.ROOT
RECIPE = ROOT / "workflows" / "imdb_rnn_recipe.ga"
# Galaxy's datatype -> the file name ending of a downloaded output
EXTENSIONS = {"tabular": "tsv", "txt": "txt"}
# Tables are checked (header line, columns, values) on their first rows before Galaxy starts; a Zenodo
# download is checked whole when it arrives (harness/fetch_zenodo.py).
FIRST_ROWS_CHECKED = 20


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class UsageError(Exception):
    """A combination of options that does not make a run."""


def data_source(name, tutorial, data, quick):
    """``(folder, file name prefix)`` of the four tables, or ``("zenodo", "")``, from the options."""
    if quick and data:
        raise UsageError("QUICK=1 (--quick) runs the bundled slice; give DATA=... (--data) or QUICK=1, not both")
    if quick:
        return tutorial.quick
    if data == "zenodo":
        return "zenodo", ""
    if data:
        return Path(data), ""
    if tutorial.bundled is None:
        raise UsageError(f"TUTORIAL={name} has no data bundled: give DATA=DIR (its four tables, "
                         f"e.g. DATA=../shared/data/mnist), DATA=zenodo (record {tutorial.zenodo}) or QUICK=1")
    return tutorial.bundled, ""


def find_inputs(folder, prefix=""):
    """Paths of the four tables in ``folder``, each ``PREFIXNAME.tsv`` or ``PREFIXNAME.tsv.gz``."""
    paths = {}
    for name in tutorials.INPUTS:
        candidates = [Path(folder) / f"{prefix}{name}.tsv", Path(folder) / f"{prefix}{name}.tsv.gz"]
        found = [path for path in candidates if path.exists()]
        if not found:
            raise UsageError(f"{folder} has no {prefix}{name}.tsv or {prefix}{name}.tsv.gz")
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
            expected = f"expected one of {', '.join(known)}" if known else "this workflow has no parameters"
            raise UsageError(f"--set {setting}: unknown parameter {name!r}; {expected}")
        try:
            values[name] = int(value)
        except ValueError:
            raise UsageError(f"--set {setting}: {name} must be an integer") from None
    return values


def output_file_name(label, extension):
    return f"{label}.{EXTENSIONS.get(extension, extension)}"


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
            job_id = step.get("job_id")
            if not job_id:
                continue
            job = gi.jobs.show_job(job_id)
            label = step.get("workflow_step_label") or short_tool_id(job["tool_id"])
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
                # Galaxy reads a running job's stdout file from a byte offset; once the job has left
                # "running" it answers with the whole stdout instead, already printed.
                text = (output.get("stdout") or "") if output.get("state") == "running" else ""
                if text:
                    stdout_read[job_id] = position + len(text.encode())
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


def download_outputs(gi, invocation_id, results):
    """Every output into ``results``: a labelled workflow output as LABEL.EXT; a workflow that labels none
    (the published GTN ones) gives each step output as TOOL_OUTPUT.EXT (harness/label_workflow_outputs.py's
    names); each tool step's stdout and stderr as TOOL.log."""
    invocation = gi.invocations.show_invocation(invocation_id)
    outputs = {label: output["id"] for label, output in invocation["outputs"].items()}
    for step in invocation["steps"]:
        if not step.get("job_id"):
            continue
        job = gi.jobs.show_job(step["job_id"], full_details=True)
        tool = short_tool_id(job["tool_id"])
        (results / f"{tool}.log").write_text((job.get("tool_stdout") or job.get("stdout") or "")
                                             + (job.get("tool_stderr") or job.get("stderr") or ""))
        if not invocation["outputs"]:
            outputs.update({f"{tool}_{name}": output["id"] for name, output in job["outputs"].items()})
    files = {}
    for label, dataset_id in outputs.items():
        path = results / output_file_name(label, gi.datasets.show_dataset(dataset_id)["extension"])
        gi.datasets.download_dataset(dataset_id, file_path=str(path), use_default_filename=False)
        files[label] = path
    return files


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tutorial", choices=sorted(tutorials.TUTORIALS), default="rnn")
    parser.add_argument("--quick", action="store_true", help="a small real slice instead of the full data")
    parser.add_argument("--data", help="folder with the four TSVs, or 'zenodo' (default: the bundled full data)")
    parser.add_argument("--results", help="where the outputs go (default: results/TUTORIAL)")
    parser.add_argument("--port", type=int, default=9500)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a workflow parameter for this run (an integer input of the workflow, e.g. random_seed)")
    parser.add_argument("--recipe", action="store_true",
                        help=f"rnn only: run {RECIPE.name} instead of the tutorial's settings")
    args = parser.parse_args(argv)
    tutorial = tutorials.TUTORIALS[args.tutorial]
    try:
        if args.recipe and args.tutorial != "rnn":
            raise UsageError(f"RECIPE=1 (--recipe) is a recipe for the rnn tutorial, not for {args.tutorial}")
        args.workflow = RECIPE if args.recipe else tutorial.workflow
        args.parameters = parameter_values(args.set, workflow_parameters(args.workflow))
        args.source = data_source(args.tutorial, tutorial, args.data, args.quick)
    except UsageError as error:
        parser.error(str(error))
    args.results = Path(args.results or ROOT / "results" / args.tutorial)
    return args


def main(argv=None):
    args = parse_args(argv)
    tutorial = tutorials.TUTORIALS[args.tutorial]
    folder, prefix = args.source
    if folder == "zenodo":
        folder = ROOT / ".cache" / f"zenodo-{tutorial.zenodo}"
        try:
            fetch_zenodo.fetch_tutorial(args.tutorial, str(folder), log=log)
        except fetch_zenodo.DataError as error:
            sys.exit(f"Error: {error}")
    try:
        inputs = find_inputs(folder, prefix)
        for name, path in inputs.items():
            fetch_zenodo.check_table(str(path), tutorial.tables[name], first_rows=FIRST_ROWS_CHECKED)
    except (UsageError, fetch_zenodo.DataError) as error:
        sys.exit(f"Error: {error} (TUTORIAL={args.tutorial}: {tutorial.title})")
    # `timeout` and CI stop a run with SIGTERM: exit through the `finally` below so Galaxy is stopped too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    from planemo.galaxy.api import gi as galaxy_instance  # the Galaxy venv's API client (bioblend)
    from planemo.galaxy.api import user_api_key

    results = args.results
    results.mkdir(parents=True, exist_ok=True)
    started = time.time()
    log(f"{tutorial.title}")
    log(f"data: {folder}{'/' + prefix + '*' if prefix else ''}; workflow: {args.workflow.relative_to(ROOT)}")
    log(f"starting Galaxy (about 1-2 minutes; log: {results / 'galaxy.log'})")
    galaxy = LocalGalaxy(args.port, results / "galaxy.log")
    try:
        galaxy.wait()
        log(f"Galaxy is up at {galaxy.url}")
        gi = galaxy_instance(url=galaxy.url, key=user_api_key(galaxy_instance(url=galaxy.url)))
        history = gi.histories.create_history(f"{args.tutorial.upper()} tutorial" + (" recipe" if args.recipe else ""))
        with tempfile.TemporaryDirectory() as workdir:
            datasets = {}
            for name, path in inputs.items():
                log(f"uploading {name} ({path.name})")
                upload = gi.tools.upload_file(str(plain_copy(path, workdir)), history["id"],
                                              file_type="tabular", file_name=name)
                datasets[name] = upload["outputs"][0]["id"]
            for dataset_id in datasets.values():
                gi.datasets.wait_for_dataset(dataset_id, maxwait=1800)
        workflow = gi.workflows.import_workflow_from_local_path(str(args.workflow))
        invocation = gi.workflows.invoke_workflow(
            workflow["id"], inputs={**{name: {"src": "hda", "id": dataset_id} for name, dataset_id in datasets.items()},
                                    **args.parameters},
            history_id=history["id"], inputs_by="name", allow_tool_state_corrections=True,
        )
        log("workflow invoked" + (f" ({', '.join(f'{name}={value}' for name, value in args.parameters.items())})"
                                  if args.parameters else ""))
        step_times = follow_invocation(gi, invocation["id"])
        files = download_outputs(gi, invocation["id"], results)
        log("step wall times: " + ", ".join(f"{label} {seconds:.0f} s" for label, seconds in step_times.items()))
        log(f"done in {time.time() - started:.0f} s (Galaxy's start included)")
    finally:
        galaxy.stop()
    print()
    try:
        lines = tutorial_report.REPORTS[args.tutorial](results, tutorial.reported)
    except tutorial_report.ReportError as error:
        sys.exit(f"Error: {error}")
    print("\n".join(lines))
    if args.quick:
        print("\n(QUICK=1: a small slice, so ours is not comparable with the tutorial's full-data numbers)")
    print(f"\nthe tutorial: {tutorial.url} ({tutorial.source})")
    print(f"outputs in {results}/: " + ", ".join(sorted(path.name for path in files.values())))


if __name__ == "__main__":
    main()
