"""research/workflow_study.py: a workflow source becomes the inputs JSON Galaxy would give each tool."""
import json

import pytest
import yaml

import workflow_study

RECIPE = workflow_study.ROOT / "workflows" / "imdb_rnn_recipe.gxwf.yml"


def test_connections_fill_repeats_sections_and_conditionals():
    state = {"model_selection": {"layers": [{"layer_selection": {"units": {"__class__": "ConnectedValue"}}},
                                            {"layer_selection": {"units": {"__class__": "ConnectedValue"}}}]}}
    workflow_study.set_connected(state, "model_selection|layers_1|layer_selection|units", 7, "step")
    assert state["model_selection"]["layers"][1]["layer_selection"]["units"] == 7
    assert workflow_study.unconnected(state) == ["model_selection|layers|0|layer_selection|units"]


def test_a_connection_to_a_saved_value_is_refused():
    with pytest.raises(SystemExit, match="is connected but its state is 3"):
        workflow_study.set_connected({"units": 3}, "units", 7, "step")


def test_parameters_are_the_defaults_or_the_set_values():
    workflow = yaml.safe_load(RECIPE.read_text())
    values = workflow_study.parameter_values(workflow, {"random_seed": "3"})
    assert values["random_seed"] == 3 and values["epochs"] == 4
    with pytest.raises(SystemExit, match="no such parameter"):
        workflow_study.parameter_values(workflow, {"seed": "3"})


def test_the_recipe_runs_step_by_step_with_every_connection_filled(tmp_path, monkeypatch):
    """Each step gets a complete inputs JSON and the outputs of the steps before it (scripts not run)."""
    workflow = yaml.safe_load(RECIPE.read_text())
    commands = []
    monkeypatch.setattr(workflow_study.subprocess, "run",
                        lambda command, **kwargs: commands.append(command) or type("Done", (), {"returncode": 0}))
    data = {name: f"/data/{name}.tsv" for name in workflow_study.DATA_INPUTS}
    parameters = workflow_study.parameter_values(workflow, {"conv_filters": "16"})
    outputs, timings = workflow_study.run_workflow(workflow, parameters, data, tmp_path, python="python")
    assert list(timings) == list(workflow["steps"])
    config = json.loads((tmp_path / "model_architecture.inputs.json").read_text())
    assert config["model_selection"]["layers"][1]["layer_selection"]["filters"] == 16
    training = json.loads((tmp_path / "train_and_evaluate.inputs.json").read_text())
    assert training["experiment_schemes"]["infile_estimator"] == outputs["compile_model"]["outfile"]
    assert training["input_options"]["infile1"] == "/data/X_train.tsv"
    assert commands[2][-2:] == ["--outfile_history", outputs["train_and_evaluate"]["outfile_history"]]
