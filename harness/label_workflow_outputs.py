"""Give planemo a workflow it can test: label every step output of a workflow that marks none.

    python harness/label_workflow_outputs.py OUT_DIR WORKFLOW.ga ...

planemo's workflow tests can only assert on *labelled* workflow outputs. The published GTN workflows
(workflows/gtn/, kept byte for byte as published except tool ids and versions) mark no workflow output
at all, so a test of them could check nothing but that the invocation ran. For each such workflow this
writes a copy to OUT_DIR in which every output a tool step declares (the step's saved ``outputs``) is a
workflow output labelled ``<tool id>_<output name>`` (e.g. ``model_prediction_outfile_predict``), together
with a copy of its ``NAME-tests.yml`` whose input paths are made absolute. Nothing else changes: steps,
connections and tool states are the published ones (the upgrade-message check runs on the published
file itself: harness/check_upgrade_messages.py).

Prints, one per line and in order, the workflow planemo should test for each argument: the copy, or the
workflow itself when it already marks outputs (ours: workflows/*.ga).
"""
import json
import sys
from pathlib import Path

import yaml


def marks_outputs(workflow):
    return any(step.get("workflow_outputs") for step in workflow["steps"].values())


def short_tool_id(tool_id):
    """``keras_model_config`` for both that id and a Tool Shed one (``HOST/repos/OWNER/REPO/TOOL/VERSION``)."""
    return tool_id.split("/")[-2] if "/" in tool_id else tool_id


def label_outputs(workflow):
    """Mark each tool step's saved outputs as workflow outputs labelled ``<tool id>_<output name>``."""
    labels = set()
    for step in workflow["steps"].values():
        if step.get("type") != "tool":
            continue
        step["workflow_outputs"] = []
        for output in step.get("outputs") or []:
            label = f"{short_tool_id(step['tool_id'])}_{output['name']}"
            if label in labels:
                raise SystemExit(f"{workflow.get('name')}: two step outputs would be labelled {label!r}")
            labels.add(label)
            step["workflow_outputs"].append({"label": label, "output_name": output["name"]})
    if not labels:
        raise SystemExit(f"{workflow.get('name')}: its tool steps save no outputs to label")
    return workflow


def absolute_paths(node, base):
    """The tests' ``path:`` entries, made absolute against the folder of the original tests file."""
    if isinstance(node, dict):
        return {key: str((base / value).resolve()) if key == "path" and isinstance(value, str)
                else absolute_paths(value, base) for key, value in node.items()}
    if isinstance(node, list):
        return [absolute_paths(item, base) for item in node]
    return node


def testable_copy(path, out_dir):
    """The workflow planemo should test for ``path`` (see the module docstring)."""
    path = Path(path)
    workflow = json.loads(path.read_text())
    if marks_outputs(workflow):
        return path
    out_dir.mkdir(parents=True, exist_ok=True)
    copy = out_dir / path.name
    copy.write_text(json.dumps(label_outputs(workflow), indent=4))
    tests = path.with_name(f"{path.stem}-tests.yml")
    if tests.exists():
        job_tests = absolute_paths(yaml.safe_load(tests.read_text()), tests.parent.resolve())
        copy.with_name(tests.name).write_text(yaml.safe_dump(job_tests, sort_keys=False))
    return copy


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    out_dir = Path(argv[0])
    for path in argv[1:]:
        print(testable_copy(path, out_dir))


if __name__ == "__main__":
    main(sys.argv[1:])
