"""harness/test_tools.py: which errored tool tests are run once more, and how their entries are replaced.

It imports Galaxy's tool test runner, so it runs with the Galaxy environment
(``.venv-galaxy/bin/python -m pytest harness/tests/test_tool_test_runner.py``; skipped elsewhere).
"""
import pytest

pytest.importorskip("galaxy.tool_util.verify.script")

from galaxy.tool_util.verify.script import Results  # noqa: E402
from test_tools import galaxy_errors_before_a_job, rerun  # noqa: E402


def entry(test_id: str, **data) -> dict:
    return {"id": test_id, "has_data": True, "data": data}


def results_of(*entries: dict) -> Results:
    results = Results("tools", "-")
    for one in entries:
        results.register_result(one)
    return results


def test_only_galaxy_errors_before_a_job_are_rerun():
    results = results_of(
        entry("a-0", status="success", job={"state": "ok"}),
        entry("a-1", status="error", execution_problem="History not found"),
        # the tool's job ran and failed: its own error, never rerun
        entry("a-2", status="error", execution_problem="History not found", job={"state": "error"}),
        # outputs differed
        entry("a-3", status="failure", job={"state": "ok"}, output_problems=["differs"]),
        # a request the tool's form refused: a real error of the test
        entry("a-4", status="error", execution_problem="parameter 'x': an integer is required"),
        # an upload of the test's inputs that failed or never finished
        entry("a-5", status="error", execution_problem="Input staging problem: Traceback ... Job in error state."),
    )
    assert galaxy_errors_before_a_job(results) == ["a-1", "a-5"]


def test_a_rerun_replaces_the_entry_and_keeps_its_outcome(tmp_path):
    results = results_of(entry("a-0", status="success", job={}),
                         entry("a-1", status="error", execution_problem="History not found"))
    rerun(results, ["a-1"], lambda again: again.register_result(
        entry("a-1", status="failure", job={}, output_problems=["differs"])), str(tmp_path / "rerun.json"))
    by_id = {test["id"]: test["data"] for test in results.test_results}
    assert {test_id: data["status"] for test_id, data in by_id.items()} == {"a-0": "success", "a-1": "failure"}
    assert by_id["a-1"]["rerun_after"] == "History not found" and "rerun_after" not in by_id["a-0"]
