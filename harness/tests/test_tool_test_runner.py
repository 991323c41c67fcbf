"""harness/test_tools.py and its Galaxy client harness/tool_test_interactor.py: which errored tool tests are
run once more, how their entries are replaced, how often Galaxy is asked whether a job is done, and how
tests running side by side keep their uploads apart and share the same ones.

It imports Galaxy's tool test runner, so it runs with the Galaxy environment
(``.venv-galaxy/bin/python -m pytest harness/tests/test_tool_test_runner.py``; skipped elsewhere).
"""
import os
import threading

import pytest

pytest.importorskip("galaxy.tool_util.verify.script")

import tool_test_interactor  # noqa: E402
from galaxy.tool_util.verify.script import Results  # noqa: E402
from galaxy.tool_util.verify.wait import TimeoutAssertionError  # noqa: E402
from test_tools import galaxy_errors_before_a_job, rerun  # noqa: E402
from tool_test_interactor import poll_intervals, ToolTestInteractor, wait_politely  # noqa: E402


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
    monkeypatch.setattr(tool_test_interactor.time, "sleep", fake.sleep)
    monkeypatch.setattr(tool_test_interactor.time, "monotonic", lambda: fake.now)
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
    interactor = offline_interactor()
    states = iter([None] * 6 + [True])
    interactor._GalaxyInteractorApi__job_ready = lambda job_id, history_id: next(states)  # Galaxy's private name
    interactor.wait_for_job("job", "history", maxseconds=900)
    assert clock.pauses == first_intervals(6)


def offline_interactor() -> ToolTestInteractor:
    """A ToolTestInteractor that never asked Galaxy for its user's key (there is no Galaxy here)."""
    return ToolTestInteractor(galaxy_url="http://127.0.0.1:1", master_api_key="admin", api_key="user")


def test_each_test_thread_sees_only_the_uploads_it_staged():
    """Galaxy's runner sets `uploads` after a test's staging and reads it for the test's tool request; with
    one attribute for all threads, a test running beside it replaced it in between."""
    interactor = offline_interactor()
    staged, seen = threading.Barrier(2), {}

    def one_test(name: str) -> None:
        interactor.uploads = {"input.tsv": {"src": "hda", "id": name}}
        staged.wait()  # both tests have staged before either reads
        seen[name] = interactor.uploads["input.tsv"]["id"]

    threads = [threading.Thread(target=one_test, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"a": "a", "b": "b"}


class FakeGalaxy:
    """The three requests of a shared upload, answered as Galaxy does: the upload (a job and its dataset),
    the upload's job state, and the copy of a dataset into a history."""

    def __init__(self, fail_uploads: int = 0, refuse: str = ""):
        self.uploads, self.copies, self.fail_uploads = [], [], fail_uploads
        self.refuse = refuse  # "fetch" or "copy": that request answered with HTTP 500 (once)

    def post(self, path, data=None, json=False, **_):
        if self.refuse and self.refuse == ("fetch" if path == "tools/fetch" else "copy" if "contents" in path else ""):
            self.refuse = ""
            return Answer({"err_msg": "boom"}, status_code=500, text="boom")
        if path == "tools/fetch":
            self.uploads.append(data["history_id"])
            return Answer({"outputs": [{"id": f"upload{len(self.uploads)}"}], "jobs": [{"id": f"job{len(self.uploads)}"}]})
        if path == "histories":
            return Answer({"id": "inputs-history"})
        history = path.split("/")[1]
        self.copies.append((data["content"], history))
        return Answer({"id": f"copy of {data['content']} in {history}"})

    def job_ready(self, job_id, history_id):
        if self.fail_uploads:
            self.fail_uploads -= 1
            raise Exception("Job in error state.")
        return True


class Answer:
    def __init__(self, body, status_code: int = 200, text: str = ""):
        self.body, self.status_code, self.text = body, status_code, text

    def json(self):
        return self.body

    def raise_for_status(self):
        pass


def fetch(history: str, path, ext: str = "tabular") -> dict:
    """An upload request as Galaxy's staging makes it: the dataset named by the file's base name."""
    return {"history_id": history, "targets": [{"destination": {"type": "hdas"}, "elements": [
        {"src": "files", "ext": ext, "name": os.path.basename(path)}]}],
        "__files": {"files_0|file_data": open(path, "rb")}}


def downloaded(tmp_path, folder: str, content: str = "1\t2\n"):
    """x.tsv as the runner stages it: downloaded from Galaxy into a folder of its own."""
    (tmp_path / folder).mkdir()
    path = tmp_path / folder / "x.tsv"
    path.write_text(content)
    return path


def test_each_distinct_input_is_uploaded_once_and_copied_into_each_test(monkeypatch, tmp_path):
    galaxy = FakeGalaxy()
    monkeypatch.setattr(tool_test_interactor.GalaxyInteractorApi, "_post", lambda self, path, **kw: galaxy.post(path, **kw))
    interactor = offline_interactor()
    interactor._GalaxyInteractorApi__job_ready = galaxy.job_ready
    first = interactor._post("tools/fetch", fetch("h1", downloaded(tmp_path, "a")), json=True).json()
    again = interactor._post("tools/fetch", fetch("h2", downloaded(tmp_path, "b")), json=True).json()
    as_text = interactor._post("tools/fetch", fetch("h3", downloaded(tmp_path, "c"), ext="txt"), json=True).json()
    other = interactor._post("tools/fetch", fetch("h4", downloaded(tmp_path, "d", "3\t4\n")), json=True).json()
    # x.tsv as tabular once (two downloads, same content), as txt once, with other content once
    assert galaxy.uploads == ["inputs-history"] * 3
    assert galaxy.copies == [("upload1", "h1"), ("upload1", "h2"), ("upload2", "h3"), ("upload3", "h4")]
    assert [answer["outputs"][0]["id"] for answer in (first, again, as_text, other)] == [
        "copy of upload1 in h1", "copy of upload1 in h2", "copy of upload2 in h3", "copy of upload3 in h4"]
    assert first["jobs"] == []  # the test has nothing left to wait for
    assert (interactor.upload_requests, interactor.uploads_made) == (4, 3)


def test_a_failed_upload_is_not_kept(monkeypatch, tmp_path):
    galaxy = FakeGalaxy(fail_uploads=1)
    monkeypatch.setattr(tool_test_interactor.GalaxyInteractorApi, "_post", lambda self, path, **kw: galaxy.post(path, **kw))
    interactor = offline_interactor()
    interactor._GalaxyInteractorApi__job_ready = galaxy.job_ready
    with pytest.raises(Exception, match="Job in error state"):
        interactor._post("tools/fetch", fetch("h1", downloaded(tmp_path, "a")), json=True)
    assert interactor._post("tools/fetch", fetch("h2", downloaded(tmp_path, "b")), json=True).json()["outputs"][0]["id"] == (
        "copy of upload2 in h2")
    assert len(galaxy.uploads) == 2 and interactor.uploads_made == 1


@pytest.mark.parametrize("refuse, message", [("fetch", "Staging failed: boom"),
                                             ("copy", "Staging failed: copying dataset upload1: boom")])
def test_an_upload_or_copy_galaxy_refuses_fails_the_test_and_is_tried_again(monkeypatch, tmp_path, refuse, message):
    galaxy = FakeGalaxy(refuse=refuse)
    monkeypatch.setattr(tool_test_interactor.GalaxyInteractorApi, "_post", lambda self, path, **kw: galaxy.post(path, **kw))
    interactor = offline_interactor()
    interactor._GalaxyInteractorApi__job_ready = galaxy.job_ready
    with pytest.raises(RuntimeError, match=f"^{message}$"):
        interactor._post("tools/fetch", fetch("h1", downloaded(tmp_path, "a")), json=True)
    answer = interactor._post("tools/fetch", fetch("h2", downloaded(tmp_path, "b")), json=True).json()
    # a refused upload is made again by the next test; after a refused copy the upload is kept and copied
    assert answer["outputs"][0]["id"] == "copy of upload1 in h2"
    assert (len(galaxy.uploads), interactor.uploads_made) == (1, 1)


def test_the_inputs_history_is_deleted_at_the_end_if_one_was_made(monkeypatch, tmp_path):
    galaxy = FakeGalaxy()
    monkeypatch.setattr(tool_test_interactor.GalaxyInteractorApi, "_post", lambda self, path, **kw: galaxy.post(path, **kw))
    deleted = []
    monkeypatch.setattr(tool_test_interactor.GalaxyInteractorApi, "delete_history", lambda self, history: deleted.append(history))
    interactor = offline_interactor()
    interactor._GalaxyInteractorApi__job_ready = galaxy.job_ready
    interactor.delete_inputs_history()
    assert deleted == []  # no test uploaded anything
    interactor._post("tools/fetch", fetch("h1", downloaded(tmp_path, "a")), json=True)
    interactor.delete_inputs_history()
    assert deleted == ["inputs-history"]
