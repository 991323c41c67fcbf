"""harness/run_imdb.py: the workflow parameters `make run SET=...` passes to the invocation."""
import pytest

import run_imdb


def test_settings_become_integer_workflow_parameters():
    assert run_imdb.parameter_values(["random_seed=7", "epochs=3"]) == {"random_seed": 7, "epochs": 3}
    assert run_imdb.parameter_values([]) == {}


@pytest.mark.parametrize("setting, message", [("seed=7", "unknown parameter 'seed'"),
                                              ("epochs=two", "epochs must be an integer")])
def test_bad_settings_are_refused(setting, message):
    with pytest.raises(ValueError, match=message):
        run_imdb.parameter_values([setting])
