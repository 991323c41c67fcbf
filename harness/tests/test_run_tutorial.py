"""harness/run_tutorial.py: what `make run TUTORIAL=... QUICK=1 DATA=... SET=... RECIPE=1` asks of a run.

No Galaxy here: parse_args, the data folders and the workflow parameters only.
"""
import pytest

import run_tutorial
import tutorials

ROOT = tutorials.ROOT
TUTORIAL = ["epochs", "batch_size", "embedding_dim", "lstm_units", "random_seed"]


def test_the_workflows_integer_parameters_are_read_from_the_ga():
    assert run_tutorial.workflow_parameters(tutorials.TUTORIALS["rnn"].workflow) == TUTORIAL
    assert run_tutorial.workflow_parameters(run_tutorial.RECIPE) == [
        "epochs", "batch_size", "embedding_dim", "conv_filters", "lstm_units", "random_seed"]
    assert run_tutorial.workflow_parameters(tutorials.TUTORIALS["fnn"].workflow) == []


def test_settings_become_integer_workflow_parameters():
    assert run_tutorial.parameter_values(["random_seed=7", "epochs=3"], TUTORIAL) == {"random_seed": 7, "epochs": 3}
    assert run_tutorial.parameter_values([], TUTORIAL) == {}


@pytest.mark.parametrize("setting, known, message", [
    ("seed=7", TUTORIAL, "unknown parameter 'seed'; expected one of epochs, "),
    ("conv_filters=8", TUTORIAL, "unknown parameter 'conv_filters'"),
    ("epochs=two", TUTORIAL, "epochs must be an integer"),
    ("epochs=3", [], "unknown parameter 'epochs'; this workflow has no parameters"),
])
def test_bad_settings_are_refused(setting, known, message):
    with pytest.raises(run_tutorial.UsageError, match=message):
        run_tutorial.parameter_values([setting], known)


def test_make_run_is_the_rnn_tutorial_on_the_bundled_full_data():
    args = run_tutorial.parse_args([])
    assert (args.tutorial, args.workflow, args.parameters) == ("rnn", ROOT / "workflows" / "imdb_rnn.ga", {})
    assert args.source == (ROOT / "data" / "imdb", "")
    assert args.results == ROOT / "results" / "rnn"


@pytest.mark.parametrize("argv, source", [
    (["--quick"], (ROOT / "data" / "imdb_slice", "")),
    (["--tutorial", "fnn"], (ROOT / "data" / "car_purchase", "")),
    (["--tutorial", "fnn", "--quick"], (ROOT / "test-data", "gtn_cars_")),
    (["--tutorial", "cnn", "--quick"], (ROOT / "test-data", "gtn_mnist_")),
    (["--tutorial", "cnn", "--data", "../shared/data/mnist"], (run_tutorial.Path("../shared/data/mnist"), "")),
    (["--tutorial", "cnn", "--data", "zenodo"], ("zenodo", "")),
])
def test_where_the_data_comes_from(argv, source):
    assert run_tutorial.parse_args(argv).source == source


def test_each_tutorial_runs_its_own_workflow_and_recipe_is_rnn_only():
    assert run_tutorial.parse_args(["--tutorial", "cnn", "--quick"]).workflow == tutorials.TUTORIALS["cnn"].workflow
    assert run_tutorial.parse_args(["--recipe", "--set", "conv_filters=8"]).parameters == {"conv_filters": 8}


@pytest.mark.parametrize("argv, message", [
    (["--tutorial", "cnn"], "TUTORIAL=cnn has no data bundled: give DATA=DIR"),
    (["--quick", "--data", "zenodo"], "give DATA=... (--data) or QUICK=1, not both"),
    (["--tutorial", "fnn", "--recipe"], "RECIPE=1 (--recipe) is a recipe for the rnn tutorial, not for fnn"),
    (["--tutorial", "fnn", "--set", "epochs=3"], "this workflow has no parameters"),
    (["--tutorial", "svm"], "invalid choice: 'svm'"),
])
def test_runs_that_cannot_be_made_are_refused_in_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_tutorial.parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(tutorials.TUTORIALS))
def test_the_quick_slice_of_every_tutorial_is_there(name):
    paths = run_tutorial.find_inputs(*tutorials.TUTORIALS[name].quick)
    assert sorted(paths) == sorted(tutorials.INPUTS)


def test_a_folder_without_the_tables_is_named_in_the_error(tmp_path):
    (tmp_path / "X_train.tsv.gz").write_bytes(b"")
    with pytest.raises(run_tutorial.UsageError, match=f"{tmp_path} has no y_train.tsv or y_train.tsv.gz"):
        run_tutorial.find_inputs(tmp_path)


def test_downloaded_outputs_are_named_by_label_and_datatype():
    assert run_tutorial.output_file_name("confusion_metrics", "tabular") == "confusion_metrics.tsv"
    assert run_tutorial.output_file_name("ml_visualization_ex_output", "png") == "ml_visualization_ex_output.png"
