"""The migration tools (migrate/): parameter listing, old-vs-ours comparison, saved-state report, conversion.

They read tool XMLs with Galaxy's own parser, so they run with the Galaxy environment:
``.venv-galaxy/bin/python -m pytest migrate/tests/test_migration_tools.py`` (skipped elsewhere).
"""
import json
from pathlib import Path

import pytest

pytest.importorskip("galaxy.tool_util.parser")

import compare_old_tool_params  # noqa: E402
import report_saved_states  # noqa: E402
from list_tool_params import tool_params  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def test_listing_of_a_tool_with_a_conditional_and_argument_names():
    listing = tool_params(str(ROOT / "tools" / "sklearn_to_categorical.xml"))
    assert [(row["path"], row["type"]) for row in listing["params"]] == [
        ("infile", "data"), ("header0", "boolean"), ("num_classes", "integer")]
    assert listing["outputs"] == {"outfile": "tabular"}
    builder = {row["path"]: row for row in tool_params(str(ROOT / "tools" / "keras_model_builder.xml"))["params"]}
    optimizer = builder["mode_selection|compile_params|optimizer_selection|optimizer_type"]
    assert optimizer["type"] == "select" and optimizer["default"] in optimizer["options"]


def test_listing_of_a_select_with_dynamic_options(tmp_path):
    """A select filled from a data table or a dataset's columns lists no values (and no default)."""
    tool = tmp_path / "dynamic.xml"
    tool.write_text("""<tool id="dynamic" name="dynamic" version="1"><command>true</command><inputs>
        <param name="table" type="select" label="t"><options from_data_table="all_fasta"/></param>
        <param name="infile" type="data" format="tabular" label="i"/>
        <param name="column" type="data_column" data_ref="infile" label="c"/>
        <param name="fixed" type="select" label="f"><option value="a"/><option value="b" selected="true"/></param>
        </inputs><outputs><data name="out" format="txt"/></outputs></tool>""")
    rows = {row["path"]: row for row in tool_params(str(tool))["params"]}
    assert (rows["table"]["options"], rows["table"]["default"]) == ([], None)
    assert (rows["fixed"]["options"], rows["fixed"]["default"]) == (["a", "b"], "b")


def listing(*rows, version="1", outputs=None):
    return {"id": "t", "version": version, "outputs": outputs or {"out": "txt"},
            "params": [dict(zip(("path", "type", "when", "options"), row, strict=False)) for row in rows]}


def test_report_classifies_same_moved_missing_values_and_extras():
    old = listing(("opt|kind", "select", None, ["Adam", "SGD"]),
                  ("opt|options|lr", "float", "opt|kind=Adam", None),
                  ("opt|options|beta", "float", "opt|kind=Adam", None),
                  ("gone", "text", None, None))
    ours = listing(("opt|kind", "select", None, ["Adam"]),
                   ("opt|beta", "float", "opt|kind=Adam", None),
                   ("new", "boolean", None, None),
                   ("added[]|choice", "select", None, ["a"]))
    lines = "\n".join(compare_old_tool_params.report_tool("t", [old], ours))
    assert "| `opt\\|kind` | select | all | values missing: `SGD` |" in lines
    assert "| `opt\\|options\\|beta` | float | all | moved | `opt\\|beta` |" in lines
    assert "| `opt\\|options\\|lr` | float | all | missing |" in lines
    assert "| (top level) | `gone` | text | all | missing |" in lines
    assert "- `new` (boolean, (top level)): **upgrade message on old states**" in lines
    # a new repeat: Galaxy gives old states no entry and no message
    assert "- `added[]|choice` (select, (top level)): not reached by old states" in lines


def test_version_span_names_runs():
    versions = ["0.5.0", "1.0.10.0", "1.0.11.0", "1.0.11.1"]
    span = compare_old_tool_params.version_span({"0.5.0", "1.0.11.0", "1.0.11.1"}, versions)
    assert span == "0.5.0, 1.0.11.0-1.0.11.1"
    assert compare_old_tool_params.version_span(set(versions), versions) == "all"


def tool_listing(name):
    return tool_params(str(ROOT / "tools" / f"{name}.xml"))


def test_state_check_finds_dropped_refused_and_missing():
    state = {"infile_input": {"__class__": "ConnectedValue"}, "infile_output": {"__class__": "ConnectedValue"},
             "plot_format": "png", "__page__": None}
    findings = report_saved_states.check_step(state, tool_listing("plotly_regression_performance_plots"))
    assert findings == [("dropped", "plot_format", '"png"', "no such parameter in this case")]
    findings = report_saved_states.check_step({"infile": {"__class__": "RuntimeValue"}, "num_classes": "10"},
                                               tool_listing("sklearn_to_categorical"))
    assert [(kind, path) for kind, path, _value, _effect in findings] == [("no value", "header0")]


def test_state_check_on_the_gtn_builder_state():
    """The GTN workflows' builder state loads unchanged; a value we do not offer on a conditional is refused."""
    step = json.loads((ROOT / "workflows" / "gtn" / "Intro_To_CNN_v1_0_11_0.ga").read_text())["steps"]["6"]
    state = json.loads(step["tool_state"])
    assert report_saved_states.check_step(state, tool_listing("keras_model_builder")) == []
    state["mode_selection"]["compile_params"]["optimizer_selection"]["optimizer_type"] = "adam"
    findings = report_saved_states.check_step(state, tool_listing("keras_model_builder"))
    refused = [f for f in findings if f[0] == "refused"]
    assert refused[0][1:] == ("mode_selection|compile_params|optimizer_selection|optimizer_type", '"adam"',
                              "no case matched: import fails")


def test_state_check_repeats_and_cases_of_the_same_path():
    """Per layer index; and a path in two cases (Dense in a Sequential and in a functional model) is
    checked against the case the state selects: only the functional Dense has inbound_nodes."""
    state = json.loads((ROOT / "workflows" / "gtn" / "Intro_To_CNN_v1_0_11_0.ga").read_text())["steps"]["4"]
    state = json.loads(state["tool_state"])
    assert report_saved_states.check_step(state, tool_listing("keras_model_config")) == []
    state["model_selection"]["layers"][5]["layer_selection"]["bogus"] = "1"
    findings = report_saved_states.check_step(state, tool_listing("keras_model_config"))
    assert [(kind, path) for kind, path, _v, _e in findings] == [
        ("dropped", "model_selection|layers[5]|layer_selection|bogus")]
    functional = {"model_selection": {"model_type": "functional", "input_layers": "[]", "output_layers": "[]", "layers": [
        {"layer_selection": {"layer_type": "Input", "shape": "(3,)", "name": "", "dtype": "float32", "sparse": False}},
        {"layer_selection": {"layer_type": "Dense", "units": "1", "activation": "linear", "kwargs": ""}}]}}
    findings = report_saved_states.check_step(functional, tool_listing("keras_model_config"))
    assert [(kind, path) for kind, path, _v, _e in findings] == [
        ("no value", "model_selection|layers[1]|layer_selection|inbound_nodes")]
    flat = report_saved_states.flatten({"callbacks": [], "a": {"b": [{"__index__": 0, "c": 1}]}})
    assert flat == {"callbacks": [], "a|b[0]|c": 1}


def test_converter_moves_0_5_0_optimizer_options_to_our_layout():
    import convert_old_builder_states

    old = {"mode_selection": {"mode_type": "train_model", "learning_type": "KerasGClassifier", "compile_params": {
        "loss": "binary_crossentropy", "metrics": ["acc"], "optimizer_selection": {
            "optimizer_type": "Adam", "optimizer_options": {"lr": "0.002", "beta_1": "0.9", "beta_2": "0.999",
                                                            "decay": "0.0", "amsgrad": False}}}}}
    changes, problems = convert_old_builder_states.convert_builder_state(old, "5")
    assert problems == []
    options = old["mode_selection"]["compile_params"]["optimizer_selection"]["optimizer_options"]
    assert options == {"learning_rate": "0.002", "beta_1": "0.9", "beta_2": "0.999", "amsgrad": False, "epsilon": None}
    assert changes[0] == "step 5: optimizer_options|lr -> learning_rate (0.002)"
    # the converted state loads into our form without a finding
    assert report_saved_states.check_step(
        {**old, "mode_selection": {**old["mode_selection"], "infile_json": {"__class__": "ConnectedValue"},
                                   "fit_params": {"epochs": "1", "batch_size": "32", "steps_per_epoch": None,
                                                  "validation_split": "0.1", "validation_steps": None,
                                                  "callbacks": [], "verbose": "1"}, "random_seed": None}},
        tool_listing("keras_model_builder")) == []
    nadam = {"mode_selection": {"compile_params": {"optimizer_selection": {
        "optimizer_type": "Nadam", "optimizer_options": {"lr": "0.002", "decay": "0.01", "schedule_decay": "0.004"}}}}}
    _changes, problems = convert_old_builder_states.convert_builder_state(nadam, "6")
    assert problems == [
        "step 6: optimizer_options|decay 0.01 (lr / (1 + decay * iterations)) cannot be carried to Keras 3 by this suite",
        "step 6: Nadam's schedule_decay 0.004 cannot be carried: Keras 3's Nadam has a fixed momentum schedule"]


CONNECTED = {"__class__": "ConnectedValue"}
# Full states of the Galaxy-ML ml_visualization_ex (1.0.8.1 - 1.0.11.x), one per plot type, as Galaxy
# saves them for the old tool's own tests (its defaults), with every colormap of its form.
OLD_VIZ_STATES = [
    {"plot_type": "roc_curve", "infile1": CONNECTED, "infile2": CONNECTED, "pos_label": "", "drop_intermediate": True,
     "title": "", "report_minimum_n_positives": "", "plot_format": "plotly_html"},
    {"plot_type": "pr_curve", "infile1": CONNECTED, "infile2": CONNECTED, "pos_label": "1", "title": "",
     "report_minimum_n_positives": "2", "plot_format": "matplotlib_svg"},
    {"plot_type": "feature_importances", "infile_estimator": CONNECTED, "infile1": CONNECTED,
     "column_selector_options": {"selected_column_selector_option": "by_header_name", "col1": "a,b"},
     "threshold": "", "title": "", "plot_format": "html"},
    {"plot_type": "learning_curve", "infile1": CONNECTED, "plot_std_err": False, "title": "", "plot_format": "html"},
    {"plot_type": "rfecv_gridscores", "infile1": CONNECTED, "steps": "", "title": "", "plot_format": "html"},
    {"plot_type": "keras_plot_model", "infile_model_config": CONNECTED, "title": "", "plot_format": "png"},
] + [
    {"plot_type": "classification_confusion_matrix", "infile_true": CONNECTED, "header_true": False,
     "column_selector_options_true": {"selected_column_selector_option": "by_index_number", "col1": "1"},
     "infile_predicted": CONNECTED, "header_predicted": False, "title": "Confusion matrix", "plot_format": "png",
     "plot_color": color}
    for color in ("Greys", "Purples", "Blues", "Greens", "Oranges", "Reds", "Summer", "Autumn", "RdYlGn", "Spectral",
                  "winter")
]


@pytest.mark.parametrize("state", OLD_VIZ_STATES, ids=lambda state: state["plot_type"] + state.get("plot_color", ""))
def test_old_ml_visualization_states_load_unchanged(state):
    """Every plot type, parameter and colormap of the old form loads with no finding (issue 13)."""
    findings = report_saved_states.check_step({"plotting_selection": state}, tool_listing("ml_visualization_ex"))
    assert findings == []
    findings = report_saved_states.check_step({"plotting_selection": dict(state, plot_type="learning_curves")},
                                               tool_listing("ml_visualization_ex"))
    assert findings and findings[0][0] == "refused"  # the check can fail: our former name is no case
