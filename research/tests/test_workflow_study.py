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
    conv = [layer["layer_selection"] for layer in config["model_selection"]["layers"]
            if layer["layer_selection"]["layer_type"] == "Conv1D"]
    assert [layer["filters"] for layer in conv] == [16]
    training = json.loads((tmp_path / "train_and_evaluate.inputs.json").read_text())
    assert training["experiment_schemes"]["infile_estimator"] == outputs["compile_model"]["outfile"]
    assert training["input_options"]["infile1"] == "/data/X_train.tsv"
    assert commands[2][-2:] == ["--outfile_history", outputs["train_and_evaluate"]["outfile_history"]]


def test_save_asks_for_the_training_outputs_as_the_tool_filters_them():
    """Galaxy-ML's ``save`` multiple select (a list, or a comma-separated string) picks the optional outputs."""
    outputs = workflow_study.tool_outputs("keras_train_and_eval", {"save": ["save_estimator", "save_csvlogger"]})
    assert list(outputs) == ["outfile_result", "outfile_object", "outfile_weights", "outfile_history"]
    outputs = workflow_study.tool_outputs("keras_train_and_eval", {"save": "save_prediction"})
    assert list(outputs) == ["outfile_result", "outfile_y_true", "outfile_y_preds"]
    assert list(workflow_study.tool_outputs("keras_train_and_eval", {"save": None})) == ["outfile_result"]


def test_the_plot_is_one_output_in_its_plot_format_with_metrics_for_confusion_matrices():
    state = {"plotting_selection": {"plot_type": "classification_confusion_matrix", "plot_format": "png"}}
    assert workflow_study.tool_outputs("ml_visualization_ex", state) == {
        "output": "--output", "output_metrics": "--output_metrics"}
    assert workflow_study.output_suffix("output", state) == ".png"
    state = {"plotting_selection": {"plot_type": "learning_curve", "plot_format": "html"}}
    assert workflow_study.tool_outputs("ml_visualization_ex", state) == {"output": "--output"}
    assert workflow_study.output_suffix("output", state) == ".html"


@pytest.mark.parametrize("name", ["imdb_rnn.gxwf.yml", "imdb_rnn_recipe.gxwf.yml"])
def test_each_imdb_workflow_gives_every_step_its_outputs(name, tmp_path, monkeypatch):
    workflow = yaml.safe_load((workflow_study.ROOT / "workflows" / name).read_text())
    monkeypatch.setattr(workflow_study.subprocess, "run", lambda command, **kwargs: type("Done", (), {"returncode": 0}))
    data = {name: f"/data/{name}.tsv" for name in workflow_study.DATA_INPUTS}
    outputs, _ = workflow_study.run_workflow(workflow, workflow_study.parameter_values(workflow, {}), data, tmp_path)
    for output in workflow["outputs"].values():  # every workflow output is a file some step writes
        step, _, produced = output["outputSource"].partition("/")
        assert produced in outputs[step]
