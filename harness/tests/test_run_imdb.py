"""harness/run_imdb.py: the workflow parameters `make run SET=...` passes to the invocation."""
import pytest

import run_imdb

TUTORIAL = ["epochs", "batch_size", "embedding_dim", "lstm_units", "random_seed"]


def test_the_workflows_integer_parameters_are_read_from_the_ga():
    assert run_imdb.workflow_parameters(run_imdb.WORKFLOWS["tutorial"]) == TUTORIAL
    assert run_imdb.workflow_parameters(run_imdb.WORKFLOWS["recipe"]) == [
        "epochs", "batch_size", "embedding_dim", "conv_filters", "lstm_units", "random_seed"]


def test_settings_become_integer_workflow_parameters():
    assert run_imdb.parameter_values(["random_seed=7", "epochs=3"], TUTORIAL) == {"random_seed": 7, "epochs": 3}
    assert run_imdb.parameter_values([], TUTORIAL) == {}


@pytest.mark.parametrize("setting, message", [("seed=7", "unknown parameter 'seed'"),
                                              ("conv_filters=8", "unknown parameter 'conv_filters'"),
                                              ("epochs=two", "epochs must be an integer")])
def test_bad_settings_are_refused(setting, message):
    with pytest.raises(ValueError, match=message):
        run_imdb.parameter_values([setting], TUTORIAL)
