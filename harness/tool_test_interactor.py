"""The Galaxy API client of harness/test_tools.py: Galaxy's tool test interactor, fit for running several
tests at once against one Galaxy.

Galaxy's tool test runner (galaxy.tool_util.verify.script) gives all its test threads one
``GalaxyInteractorApi``. ToolTestInteractor differs from it in three ways, each measured in `make test`
(docs/performance.md):

1. **Its own uploads per test.** Galaxy's interactor keeps the datasets a test staged in one attribute,
   ``uploads``, which the test's tool request then reads; with tests side by side, one test's staging
   replaced another's between the two steps, so a test could run its tool on another test's datasets, or
   miss its own. Here ``uploads`` is kept per thread (a test runs in one thread from staging to checks).
2. **Each distinct input uploaded once.** The tool tests upload 133 inputs, 71 of them distinct; every
   upload is a Galaxy job (Celery tasks, a job handler round, a history to poll) that made a test wait
   about 5 s. The first test that needs an input uploads it into one history of shared inputs and waits
   for it; every test (that one included) gets a copy of that dataset in its own history: same content,
   datatype, metadata and name, made at once and without a job. A failed upload is not kept: the next
   test that needs it uploads it again.
3. **Polite waits.** Galaxy's interactor asks for a job's state every 0.25 s for as long as the job
   runs (about 6,300 requests in one `make test`, 5-7 ms of Galaxy's CPU each); here the pause grows
   from 0.25 s to 2 s (poll_intervals).
"""
import hashlib
import io
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

from galaxy.tool_util.verify.interactor import GalaxyInteractorApi  # pinned with Galaxy in env/galaxy-requirements.txt
from galaxy.tool_util.verify.wait import TimeoutAssertionError

MAX_SECONDS = 900  # a test's wait for one job (upload or tool); the slowest test takes about 3 minutes
FIRST_POLL, POLL_GROWTH, LONGEST_POLL = 0.25, 1.5, 2.0  # seconds, factor, seconds


def poll_intervals() -> Iterator[float]:
    """The pauses between two questions to Galaxy: 0.25 s first (an upload is often ready by then),
    growing by half each time up to 2 s, so a job is seen at most 2 s after it ended."""
    interval = FIRST_POLL
    while True:
        yield interval
        interval = min(interval * POLL_GROWTH, LONGEST_POLL)


def wait_politely(ready: Callable[[], Any], what: str, max_seconds: float) -> Any:
    """READY()'s first value that is not None, asked at poll_intervals(); Galaxy's TimeoutAssertionError
    (what its own wait raises) once MAX_SECONDS would pass."""
    deadline = time.monotonic() + max_seconds
    for interval in poll_intervals():
        value = ready()
        if value is not None:
            return value
        if time.monotonic() + interval > deadline:
            raise TimeoutAssertionError(f"Timed out after {max_seconds} seconds waiting on {what}.")
        time.sleep(interval)


def upload_key(payload: dict[str, Any]) -> str:
    """What makes two upload requests (Galaxy's fetch payloads) the same upload: everything but the
    history they go to, with each attached file known by its content (the runner downloads a test's
    inputs from Galaxy into a new temporary folder each time, so paths differ; the dataset's name, the
    file's base name, is in the payload)."""
    request = {name: value for name, value in payload.items() if name not in ("history_id", "__files")}
    return json.dumps([request, {name: content_digest(handle) for name, handle in payload.get("__files", {}).items()}],
                      sort_keys=True)


def content_digest(handle: io.BufferedReader) -> str:
    """SHA-256 of an open file's content; the file is left at its start, ready to upload."""
    digest = hashlib.file_digest(handle, "sha256").hexdigest()
    handle.seek(0)
    return digest


class CopiedUpload:
    """The answer to an upload request that was served by a copy: what Galaxy's staging reads of an
    upload's response (status, text, and JSON with the new dataset and the jobs to wait for: none)."""

    status_code = 200

    def __init__(self, dataset: dict[str, Any]):
        self.body = {"outputs": [dataset], "jobs": []}
        self.text = json.dumps(self.body)

    def json(self) -> dict[str, Any]:
        return self.body


class ToolTestInteractor(GalaxyInteractorApi):
    """Galaxy's test interactor with per-test uploads, each distinct input uploaded once, and polite
    waits (module docstring)."""

    INPUTS_HISTORY = "shared tool test inputs"

    def __init__(self, **kwds):
        self._per_test = threading.local()
        self._lock = threading.Lock()
        self._uploaded: dict[str, Future] = {}  # upload_key -> the id of the dataset in the inputs history
        self._inputs_history: str | None = None
        self.upload_requests = 0  # the tests' upload requests, each served by a copy
        super().__init__(**kwds)

    @property
    def uploads(self) -> dict:  # type: ignore[override]  # an attribute in Galaxy's class
        """The datasets the current test staged (Galaxy's runner sets it after staging, reads it when it
        builds the tool request)."""
        return getattr(self._per_test, "uploads", {})

    @uploads.setter
    def uploads(self, value: dict) -> None:
        self._per_test.uploads = value

    def wait_for(self, func: Callable, what: str = "tool test run", **kwd) -> None:
        return wait_politely(func, what, float(kwd.get("maxseconds", MAX_SECONDS)))

    def _post(self, path, data=None, files=None, key=None, headers=None, admin=False, anon=False, json=False):
        # The one seam: Galaxy's staging (stage_data_in_history) builds its uploads inside and sends each
        # with this call, as the test user's JSON request; anything else goes to Galaxy unchanged.
        if path == "tools/fetch" and data and not files and json and key is None and not admin:
            return self._shared_upload(data)
        return super()._post(path, data=data, files=files, key=key, headers=headers, admin=admin, anon=anon,
                             json=json)

    @property
    def uploads_made(self) -> int:
        """How many distinct inputs were uploaded (and kept) so far."""
        return len(self._uploaded)

    def delete_inputs_history(self) -> None:
        """Delete the history of shared inputs, if one was made (at the end of the run)."""
        if self._inputs_history is not None:
            self.delete_history(self._inputs_history)

    def _shared_upload(self, payload: dict[str, Any]) -> CopiedUpload:
        """Answer a test's upload request with a copy, in the test's history, of the same upload made
        once into the inputs history."""
        history_id, key = payload["history_id"], upload_key(payload)
        with self._lock:
            self.upload_requests += 1
            first = key not in self._uploaded
            if first:
                self._uploaded[key] = Future()
            uploaded = self._uploaded[key]
        if first:
            try:
                uploaded.set_result(self._upload_and_wait(payload))
            except BaseException as error:
                with self._lock:
                    del self._uploaded[key]  # not kept: the next test that needs it tries again
                uploaded.set_exception(error)
        else:
            for handle in payload.get("__files", {}).values():
                handle.close()
        return CopiedUpload(self._copy_dataset(uploaded.result(), history_id))

    def _upload_and_wait(self, payload: dict[str, Any]) -> str:
        """Upload PAYLOAD into the inputs history, wait until its job ended well; the new dataset's id."""
        payload = {**payload, "history_id": self._inputs_history_id()}
        response = super()._post("tools/fetch", data=payload, json=True)
        if response.status_code != 200:
            raise RuntimeError(f"Staging failed: {response.text}")
        body = response.json()
        for job in body.get("jobs", []):
            self.wait_for_job(job["id"], payload["history_id"], maxseconds=MAX_SECONDS)
        return body["outputs"][0]["id"]

    def _copy_dataset(self, dataset_id: str, history_id: str) -> dict[str, Any]:
        response = super()._post(f"histories/{history_id}/contents",
                                 data={"source": "hda", "content": dataset_id, "type": "dataset"}, json=True)
        if response.status_code != 200:
            raise RuntimeError(f"Staging failed: copying dataset {dataset_id}: {response.text}")
        return response.json()

    def _inputs_history_id(self) -> str:
        with self._lock:
            if self._inputs_history is None:
                self._inputs_history = self.new_history(history_name=self.INPUTS_HISTORY)
            return self._inputs_history
