"""harness/tutorials.py: the tutorials' numbers agree with themselves, the bundled data is what the table
says, and the Tool Shed upload leaves the data out."""
import json

import pytest
import yaml

import fetch_zenodo
import run_tutorial
import tutorials

ROOT = tutorials.ROOT
RNN, FNN, CNN = (tutorials.TUTORIALS[name].reported for name in ("rnn", "fnn", "cnn"))


def truncated(value):
    """The tutorials' scores are cut, not rounded, to 2 decimals (RNN recall 0.8975 -> 0.89)."""
    return int(value * 100) / 100


def test_the_rnn_numbers_are_the_tutorials_confusion_matrix():
    """12,500 reviews of each class, and the scores the text states follow from the counts."""
    assert RNN["TN"] + RNN["FP"] == 12500 and RNN["FN"] + RNN["TP"] == 12500
    assert round((RNN["TN"] + RNN["TP"]) / 25000, 3) == RNN["accuracy"]
    assert truncated(RNN["TP"] / (RNN["TP"] + RNN["FP"])) == RNN["precision"]
    assert truncated(RNN["TP"] / (RNN["TP"] + RNN["FN"])) == RNN["recall"]
    # the text's F score is computed from its 2-decimal precision and recall
    assert truncated(2 * RNN["precision"] * RNN["recall"] / (RNN["precision"] + RNN["recall"])) == RNN["f1"]


def test_the_cnn_numbers_are_the_tutorials_digits_0_and_1():
    zero, one = CNN["classes"]["0"], CNN["classes"]["1"]
    assert zero["TP"] + zero["FN"] == 980 and zero["TP"] + zero["FP"] == 990  # MNIST has 980 test zeros
    assert truncated(zero["TP"] / (zero["TP"] + zero["FP"])) == zero["precision"]
    assert truncated(zero["TP"] / (zero["TP"] + zero["FN"])) == zero["recall"]
    assert truncated(2 * zero["precision"] * zero["recall"] / (zero["precision"] + zero["recall"])) == zero["f1"]
    assert one["TP"] + one["FN"] == 1135 and one["TP"] + one["FP"] == 1162


def test_the_fnn_numbers():
    assert FNN == {"r2": 0.87, "rmse": 0.11}


@pytest.mark.parametrize("name", sorted(tutorials.TUTORIALS))
def test_each_tutorial_has_its_workflow_and_four_tables(name):
    tutorial = tutorials.TUTORIALS[name]
    assert tutorial.workflow.exists()
    assert tuple(tutorial.tables) == tutorials.INPUTS
    assert tutorial.tables["X_train"].rows == tutorial.tables["y_train"].rows


@pytest.mark.parametrize("name", [name for name, tutorial in tutorials.TUTORIALS.items() if tutorial.bundled])
def test_the_bundled_data_is_the_tutorials_full_data(name):
    """The same check a Zenodo download gets: every row, column and cell of data/imdb and data/car_purchase."""
    tutorial = tutorials.TUTORIALS[name]
    for table_name, path in run_tutorial.find_inputs(tutorial.bundled).items():
        fetch_zenodo.check_table(str(path), tutorial.tables[table_name])
    assert (tutorial.bundled / "README.md").exists()  # provenance, checksums and licence


def shed_files():
    """The files `planemo shed_upload` would take: those .shed.yml's include patterns (globs) match."""
    include = yaml.safe_load((ROOT / ".shed.yml").read_text())["include"]
    return {str(path.relative_to(ROOT)) for pattern in include for path in ROOT.glob(pattern) if path.is_file()}


def test_the_tool_shed_upload_leaves_the_data_out():
    uploaded = shed_files()
    assert "tools/keras_train_and_eval.xml" in uploaded  # the matching works
    assert not {path for path in uploaded if path.startswith("data/")}


def training_header_states(workflow_path):
    """(header1, header2) of the workflow's saved *Deep learning training and evaluation* step: does it read
    X and y with a header line?"""
    steps = json.loads(workflow_path.read_text())["steps"].values()
    (state,) = [json.loads(step["tool_state"]) for step in steps if "keras_train_and_eval" in (step.get("tool_id") or "")]
    options = state["input_options"]
    options = json.loads(options) if isinstance(options, str) else options
    return options["header1"], options["header2"]


@pytest.mark.parametrize("name", sorted(tutorials.TUTORIALS))
def test_the_tables_header_lines_are_what_the_workflow_reads(name):
    """A table said to have a header line (FNN) is read with one by the tutorial's own workflow; the others not."""
    tutorial = tutorials.TUTORIALS[name]
    assert training_header_states(tutorial.workflow) == (tutorial.tables["X_train"].header,
                                                         tutorial.tables["y_train"].header)
