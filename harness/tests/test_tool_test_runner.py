"""harness/test_tools.py: which errored tool tests are run once more, how their entries are replaced, and
how often it asks Galaxy whether a job is done.

It imports Galaxy's tool test runner, so it runs with the Galaxy environment
(``.venv-galaxy/bin/python -m pytest harness/tests/test_tool_test_runner.py``; skipped elsewhere).
"""
import pytest

pytest.importorskip("galaxy.tool_util.verify.script")

import test_tools  # noqa: E402
from galaxy.tool_util.verify.script import Results  # noqa: E402
from galaxy.tool_util.verify.wait import TimeoutAssertionError  # noqa: E402
from test_tools import galaxy_errors_before_a_job, PoliteInteractor, poll_intervals, rerun, wait_politely  # noqa: E402


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



@pytest.fixture
def clock(monkeypatch):
    """Time that moves only when the waiting code sleeps; .pauses: each pause, in seconds."""
    class Clock:
        def __init__(self):
            self.now, self.pauses = 0.0, []

        def sleep(self, seconds: float) -> None:
            self.pauses.append(seconds)
            self.now += seconds

    fake = Clock()
    monkeypatch.setattr(test_tools.time, "sleep", fake.sleep)
    monkeypatch.setattr(test_tools.time, "monotonic", lambda: fake.now)
    return fake


def first_intervals(count: int) -> list[float]:
    intervals = poll_intervals()
    return [next(intervals) for _ in range(count)]


def test_polls_grow_from_a_quarter_second_to_two_seconds(clock):
    assert first_intervals(4) == [0.25, 0.375, 0.5625, 0.84375]
    assert first_intervals(12)[-4:] == [2.0] * 4
    # a job that runs 60 s is asked about 35 times, not 240 times as at Galaxy's fixed 0.25 s
    with pytest.raises(TimeoutAssertionError):
        wait_politely(lambda: None, "job", 60)
    assert 30 < len(clock.pauses) < 40


def test_wait_returns_the_first_answer_and_times_out_with_galaxys_error(clock):
    answers = iter([None, None, None, {"state": "ok"}])
    assert wait_politely(lambda: next(answers), "job", 900) == {"state": "ok"}
    assert clock.pauses == first_intervals(3)
    clock.now = 0.0
    with pytest.raises(TimeoutAssertionError, match="Timed out after 30 seconds waiting on job"):
        wait_politely(lambda: None, "job", 30)
    assert 28 <= clock.now <= 30


def test_galaxys_job_wait_goes_through_the_polite_wait(clock):
    """If a Galaxy upgrade stopped routing wait_for_job through wait_for, the tests would poll every
    0.25 s again: this fails then."""
    interactor = PoliteInteractor.__new__(PoliteInteractor)  # no Galaxy to connect to
    states = iter([None] * 6 + [True])
    interactor._GalaxyInteractorApi__job_ready = lambda job_id, history_id: next(states)  # Galaxy's private name
    interactor.wait_for_job("job", "history", maxseconds=900)
    assert clock.pauses == first_intervals(6)
