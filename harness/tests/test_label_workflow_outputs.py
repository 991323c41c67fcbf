"""The labelled test copies of workflows that mark no outputs (the published GTN ones)."""
import json
from pathlib import Path

import pytest
import yaml

import label_workflow_outputs as labeller

ROOT = Path(__file__).resolve().parents[2]
GTN = sorted((ROOT / "workflows" / "gtn").glob("*.ga"))


def labels(workflow):
    return [output["label"] for step in workflow["steps"].values() for output in step.get("workflow_outputs") or []]


def test_gtn_copies_label_every_saved_tool_output_and_change_nothing_else(tmp_path):
    assert len(GTN) == 3
    for path in GTN:
        original = json.loads(path.read_text())
        assert not labeller.marks_outputs(original)  # why the copies exist
        copy_path = labeller.testable_copy(path, tmp_path)
        assert copy_path == tmp_path / path.name
        copy = json.loads(copy_path.read_text())
        saved = [f"{step['tool_id']}_{output['name']}" for step in original["steps"].values()
                 if step["type"] == "tool" for output in step["outputs"]]
        assert labels(copy) == saved
        for step in copy["steps"].values():
            step.pop("workflow_outputs")
        for step in original["steps"].values():
            step.pop("workflow_outputs")
        assert copy == original  # tool states, connections, inputs: as published


def test_tests_file_is_copied_with_absolute_input_paths(tmp_path):
    path = ROOT / "workflows" / "gtn" / "Intro_To_FNN_latest.ga"
    labeller.testable_copy(path, tmp_path)
    original = yaml.safe_load(path.with_name("Intro_To_FNN_latest-tests.yml").read_text())
    copied = yaml.safe_load((tmp_path / "Intro_To_FNN_latest-tests.yml").read_text())
    assert copied[0]["outputs"] == original[0]["outputs"]
    for name, dataset in copied[0]["job"].items():
        assert Path(dataset["path"]).is_absolute() and Path(dataset["path"]).is_file(), name
        assert Path(dataset["path"]).name == Path(original[0]["job"][name]["path"]).name
    # every output the tests assert on is one the copy labels
    labelled = set(labels(json.loads((tmp_path / path.name).read_text())))
    assert set(copied[0]["outputs"]) <= labelled


def test_every_gtn_tests_file_asserts_only_on_labelled_outputs_and_feeds_every_input(tmp_path):
    for path in GTN:
        tests = yaml.safe_load(path.with_name(f"{path.stem}-tests.yml").read_text())
        workflow = json.loads(labeller.testable_copy(path, tmp_path).read_text())
        inputs = {step["label"] for step in workflow["steps"].values() if step["type"] == "data_input"}
        for case in tests:
            assert set(case["job"]) == inputs, path.name
            assert case["outputs"] and set(case["outputs"]) <= set(labels(workflow)), path.name


def test_workflow_that_marks_outputs_is_tested_as_it_is(tmp_path):
    path = ROOT / "workflows" / "imdb_rnn.ga"
    assert labeller.testable_copy(path, tmp_path) == path
    assert not list(tmp_path.iterdir())


def test_two_outputs_with_one_label_are_refused():
    step = {"type": "tool", "tool_id": "model_prediction", "outputs": [{"name": "outfile_predict"}]}
    workflow = {"name": "twice", "steps": {"0": dict(step), "1": dict(step)}}
    with pytest.raises(SystemExit, match="model_prediction_outfile_predict"):
        labeller.label_outputs(workflow)


def test_tool_shed_ids_are_shortened():
    assert labeller.short_tool_id("toolshed.g2.bx.psu.edu/repos/bgruening/keras_model_config/"
                                  "keras_model_config/1.0.10.0") == "keras_model_config"
    assert labeller.short_tool_id("keras_model_config") == "keras_model_config"


def test_a_workflow_whose_steps_save_no_outputs_is_refused():
    workflow = {"name": "bare", "steps": {"0": {"type": "tool", "tool_id": "model_prediction", "outputs": []}}}
    with pytest.raises(SystemExit, match="save no outputs"):
        labeller.label_outputs(workflow)
