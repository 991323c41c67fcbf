"""Run a workflow's tool chain on the full IMDB data over several seeds, as Galaxy runs each step.

    .venv-tools/bin/python research/workflow_study.py --workflow workflows/imdb_rnn_recipe.gxwf.yml \\
        --seeds 42,0,1,2,3,4 [--set NAME=VALUE ...] [--label TEXT] [--data DIR] [--out FILE]
    .venv-tools/bin/python research/workflow_study.py --report [--out FILE]

The settings come from the workflow's source itself (one source of truth: what is measured is what the
workflow ships). Each step runs its tool's script (tools/scripts/TOOL.py) with the inputs JSON Galaxy
would write from the step's saved state: connections become the paths of earlier steps' outputs or of
the data files (``X_train.tsv`` ... in --data, plain or gzipped), workflow parameters their defaults,
or the values given with ``--set`` (``random_seed`` is set from --seeds). Galaxy itself (job staging,
uploads) is left out, so the times are the tools' own.

One JSON line per run goes to stdout and to ``--out`` (appended): the confusion counts, accuracy and F1
of class 1 from the workflow's own confusion-matrix step, the training step's wall time, every step's
wall time, the load average around the training step (the machine is shared: a timing means little
without it) and the training history. ``--report`` prints markdown tables (docs/results.md).
"""
import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "imdb"
DATA_INPUTS = ("X_train", "y_train", "X_test", "y_test")
TRAINING_TOOL = "keras_train_and_eval"


def chosen(state, key, option):
    """Whether a multiple select (Galaxy-ML's ``save``: a list, or a comma-separated string) holds ``option``."""
    value = state.get(key) or []
    return option in (value.split(",") if isinstance(value, str) else value)


# keras_train_and_eval's optional outputs by the ``save`` option that asks for them (its <outputs> filters).
SAVED_OUTPUTS = {"save_estimator": ("outfile_object", "outfile_weights"), "save_csvlogger": ("outfile_history",),
                 "save_prediction": ("outfile_y_true", "outfile_y_preds")}
# ml_visualization_ex writes ``output_metrics`` only for these plot types (its <command> and <outputs>).
METRIC_PLOTS = ("classification_confusion_matrix", "roc_curve", "pr_curve")


def tool_outputs(tool_id, state):
    """The command-line flag of each output the tool's <command> writes, given the step's state.

    Mirrors the <command> blocks and <outputs> filters of tools/*.xml (output name -> flag) for the tools
    these workflows use.
    """
    if tool_id in ("keras_model_config", "keras_model_builder"):
        return {"outfile": "--outfile"}
    if tool_id == "model_prediction":
        return {"outfile_predict": "--outfile"}
    if tool_id == "ml_visualization_ex":
        outputs = {"output": "--output"}
        if state["plotting_selection"]["plot_type"] in METRIC_PLOTS:
            outputs["output_metrics"] = "--output_metrics"
        return outputs
    if tool_id == TRAINING_TOOL:
        outputs = {"outfile_result": "--outfile_result"}
        for option, names in SAVED_OUTPUTS.items():
            if chosen(state, "save", option):
                outputs.update({name: "--" + name for name in names})
        return outputs
    raise SystemExit(f"Error: workflow step tool {tool_id!r} is not known to {Path(__file__).name}")


OUTPUT_SUFFIX = {"outfile_object": ".h5mlm", "outfile_weights": ".weights.h5"}
# ml_visualization_ex's ``output`` is html unless plot_format asks for an image (its <change_format>).
PLOT_SUFFIX = {"png": ".png", "svg": ".svg", "matplotlib_svg": ".svg"}


def output_suffix(name, state):
    """The file suffix of output ``name`` of a step with ``state`` (Galaxy's datatype of that output)."""
    if name == "output":
        return PLOT_SUFFIX.get(state["plotting_selection"].get("plot_format"), ".html")
    return OUTPUT_SUFFIX.get(name, ".tsv")


def set_connected(state, key, value, step):
    """Put ``value`` at Galaxy's connection key (``a|layers_1|b``: repeat ``layers``, item 1) of ``state``."""
    parts = key.split("|")
    node = state
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        repeat = re.fullmatch(r"(.+)_(\d+)", part)
        if part not in node and repeat and isinstance(node.get(repeat.group(1)), list):
            container, index = node[repeat.group(1)], int(repeat.group(2))
        else:
            container, index = node, part
        if last:
            if container[index] != {"__class__": "ConnectedValue"}:
                raise SystemExit(f"Error: step {step}: {key} is connected but its state is {container[index]!r}")
            container[index] = value
        else:
            node = container[index]


def unconnected(node, path=""):
    """Paths of ConnectedValue placeholders left in a state (a connection the workflow lacks)."""
    if node == {"__class__": "ConnectedValue"}:
        return [path]
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    return [found for key, child in children for found in unconnected(child, f"{path}|{key}".lstrip("|"))]


def parameter_values(workflow, overrides):
    """Workflow parameter (non-data input) -> value: its default, or the --set value."""
    values = {name: spec.get("default") for name, spec in workflow["inputs"].items() if spec.get("type") != "data"}
    for name, text in overrides.items():
        if name not in values:
            raise SystemExit(f"Error: --set {name}: the workflow has no such parameter ({', '.join(values)})")
        kind = workflow["inputs"][name].get("type")
        values[name] = int(text) if kind == "int" else float(text) if kind == "float" else text
    return values


def plain_data(folder, workdir):
    """The four data files as plain TSV (the tools read tabular files), decompressed into ``workdir`` once."""
    paths = {}
    for name in DATA_INPUTS:
        plain, packed = Path(folder) / f"{name}.tsv", Path(folder) / f"{name}.tsv.gz"
        if plain.exists():
            paths[name] = str(plain)
            continue
        target = Path(workdir) / f"{name}.tsv"
        if not target.exists():
            with gzip.open(packed, "rb") as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out)
        paths[name] = str(target)
    return paths


def run_workflow(workflow, parameters, data, workdir, python=sys.executable):
    """Run every step in order; return {step: {output: path}} and {step: wall seconds, load averages}."""
    outputs, timings = {}, {}
    for step, spec in workflow["steps"].items():
        state = json.loads(json.dumps(spec["state"]))
        for key, source in (spec.get("in") or {}).items():
            if source in parameters:
                value = parameters[source]
            elif source in data:
                value = data[source]
            else:
                producer, _, output = source.partition("/")
                value = outputs[producer][output]
            set_connected(state, key, value, step)
        left = unconnected(state)
        if left:
            raise SystemExit(f"Error: step {step}: no connection for {', '.join(left)}")
        inputs_path = Path(workdir) / f"{step}.inputs.json"
        inputs_path.write_text(json.dumps(state, indent=1))
        flags = tool_outputs(spec["tool_id"], state)
        outputs[step] = {name: str(Path(workdir) / f"{step}.{name}{output_suffix(name, state)}") for name in flags}
        command = [python, str(ROOT / "tools" / "scripts" / f"{spec['tool_id']}.py"), "--inputs", str(inputs_path)]
        for name, flag in flags.items():
            command += [flag, outputs[step][name]]
        load_before, start = os.getloadavg()[0], time.time()
        with open(Path(workdir) / f"{step}.log", "w") as log:
            status = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, cwd=workdir).returncode
        timings[step] = {"s": round(time.time() - start, 1), "load": [round(load_before, 1), round(os.getloadavg()[0], 1)]}
        print(f"[{time.strftime('%H:%M:%S')}] {step} ({spec['tool_id']}): {timings[step]['s']} s", file=sys.stderr, flush=True)
        if status:
            raise SystemExit(f"Error: step {step} failed (exit {status}); see {workdir}/{step}.log")
    return outputs, timings


def read_table(path):
    """A tabular output with a header line, as a list of dicts (strings)."""
    lines = Path(path).read_text().splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:] if line]


def summarise(workflow, outputs, timings):
    """The run's record: class-1 confusion counts and scores, the training step's time and history."""
    steps = workflow["steps"]
    by_tool = {spec["tool_id"]: step for step, spec in steps.items()}
    metrics = {row["class"]: row for row in read_table(outputs[by_tool["ml_visualization_ex"]]["output_metrics"])}
    positive = metrics["1"]
    training = by_tool[TRAINING_TOOL]
    history = {}
    if "outfile_history" in outputs[training]:
        for row in read_table(outputs[training]["outfile_history"]):
            for key, value in row.items():
                if key != "epoch":
                    history.setdefault(key, []).append(round(float(value), 4))
    return {"tp": int(positive["TP"]), "fp": int(positive["FP"]), "tn": int(positive["TN"]), "fn": int(positive["FN"]),
            "accuracy": round(float(metrics["overall"]["accuracy"]), 4), "f1": round(float(positive["f1"]), 4),
            "train_s": timings[training]["s"], "train_load": timings[training]["load"],
            "step_s": {step: timing["s"] for step, timing in timings.items()}, "history": history}


def report(path):
    """Markdown: a summary row per (workflow, label), then every run."""
    runs = [json.loads(line) for line in open(path) if line.strip()]
    groups = list(dict.fromkeys((run["workflow"], run["label"]) for run in runs))
    lines = ["| workflow | settings | runs | accuracy: min / median / max | F1: min / median / max | training step, s: median |",
             "| --- | --- | ---: | --- | --- | ---: |"]
    for workflow, label in groups:
        group = [run for run in runs if (run["workflow"], run["label"]) == (workflow, label)]
        acc, f1 = sorted(run["accuracy"] for run in group), sorted(run["f1"] for run in group)
        lines.append(f"| {workflow} | {label} | {len(group)} | {acc[0]:.4f} / {np.median(acc):.4f} / {acc[-1]:.4f} | "
                     f"{f1[0]:.4f} / {np.median(f1):.4f} / {f1[-1]:.4f} | "
                     f"{np.median([run['train_s'] for run in group]):.0f} |")
    lines += ["", "| workflow | settings | seed | TN | FP | FN | TP | accuracy | F1 | training step, s (load) | val_acc after each epoch |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for run in runs:
        val = ", ".join(f"{value:.3f}" for value in run["history"].get("val_acc", []))
        load = "-".join(f"{value:g}" for value in run["train_load"])
        lines.append(f"| {run['workflow']} | {run['label']} | {run['seed']} | {run['tn']:,} | {run['fp']:,} | "
                     f"{run['fn']:,} | {run['tp']:,} | {run['accuracy']:.4f} | {run['f1']:.4f} | "
                     f"{run['train_s']:.0f} ({load}) | {val} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflow", type=Path, default=ROOT / "workflows" / "imdb_rnn_recipe.gxwf.yml")
    parser.add_argument("--seeds", default="42", help="comma-separated integers (the random_seed parameter)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a workflow parameter")
    parser.add_argument("--label", help="names these settings in the records (default: the --set values)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with the four tutorial TSVs")
    parser.add_argument("--work", type=Path, default=ROOT / "results" / "workflow_study", help="step files of the last run")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "workflow_study.jsonl")
    parser.add_argument("--report", action="store_true", help="print the tables of the runs in --out and stop")
    args = parser.parse_args(argv)
    if args.report:
        print(report(args.out))
        return 0
    overrides = dict(item.split("=", 1) for item in args.set)
    workflow = yaml.safe_load(args.workflow.read_text())
    args.work = args.work.resolve()  # the steps run with the work folder as cwd: a relative path would break
    args.work.mkdir(parents=True, exist_ok=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    data = plain_data(args.data, args.work)
    for seed in (int(seed) for seed in args.seeds.split(",")):
        parameters = parameter_values(workflow, {**overrides, "random_seed": str(seed)})
        outputs, timings = run_workflow(workflow, parameters, data, args.work)
        record = {"workflow": args.workflow.name.removesuffix(".gxwf.yml"), "label": args.label or
                  (" ".join(args.set) or "defaults"), "seed": seed, "parameters": parameters,
                  **summarise(workflow, outputs, timings), "date": time.strftime("%Y-%m-%d %H:%M")}
        line = json.dumps(record)
        print(line, flush=True)
        with open(args.out, "a") as handle:
            handle.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
