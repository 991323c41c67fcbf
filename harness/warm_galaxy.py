"""Run one upload through a freshly started Galaxy before several tests use it at once.

Galaxy 26.1's Celery worker (two threads) configures its SQLAlchemy mappers lazily, on its first task.
When the first tasks arrive together (four tool tests uploading at once), two threads can configure them
at the same time and one task fails with ``RuntimeError: dictionary changed size during iteration``
(seen in a fresh-clone `make test` of 2026-12-03: a ``setup_fetch_data`` task died, so its upload job
never ran and its tool test waited until the run's time limit). One upload run alone first makes the
worker configure them once; every later task finds them configured.

usage: warm_galaxy.py GALAXY_URL ADMIN_KEY [SECONDS]   (exit 0 once the upload job is ``ok``)
"""
import sys
import time

from galaxy.tool_util.verify.interactor import GalaxyInteractorApi  # pinned with Galaxy


def warm(galaxy_url: str, admin_key: str, seconds: float = 300) -> str:
    """Upload a one-line text into a new history, wait for its job, delete the history; the job's state."""
    interactor = GalaxyInteractorApi(galaxy_url=galaxy_url, master_api_key=admin_key, api_key=None,
                                     keep_outputs_dir=None)
    history = interactor.new_history(history_name="warm-up upload")
    try:
        response = interactor._post("tools/fetch", {"history_id": history, "targets": [{
            "destination": {"type": "hdas"},
            "elements": [{"src": "pasted", "paste_content": "warm-up\n", "ext": "txt", "name": "warm-up"}]}]},
            json=True)
        response.raise_for_status()
        job_id = response.json()["jobs"][0]["id"]
        deadline = time.monotonic() + seconds
        state = "new"
        while time.monotonic() < deadline:
            state = interactor.get_job_stdio(job_id)["state"]
            if state in ("ok", "error", "failed", "deleted"):
                break
            time.sleep(1)
        return state
    finally:
        interactor.delete_history(history)


if __name__ == "__main__":
    final = warm(sys.argv[1], sys.argv[2], *(float(arg) for arg in sys.argv[3:4]))
    print(f"warm-up upload: job {final}")
    sys.exit(0 if final == "ok" else 1)
