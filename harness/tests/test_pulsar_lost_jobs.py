"""harness/pulsar_lost_jobs.py: jobs a dead Pulsar left `running` are marked lost, their orphans stopped."""
import json
import os
import subprocess

from pulsar_lost_jobs import mark_lost


def job(staging, job_id, **metadata):
    folder = staging / job_id
    (folder / "working").mkdir(parents=True)
    for name, value in metadata.items():
        (folder / name).write_text(json.dumps(value))
    return folder


def test_running_job_of_a_dead_server_is_marked_lost_and_its_orphan_stopped(tmp_path):
    folder = job(tmp_path, "7")
    # As Pulsar starts a job: its own process group, working directory inside the job folder.
    orphan = subprocess.Popen(["sleep", "60"], cwd=folder / "working", preexec_fn=os.setpgrp)
    (folder / "pid").write_text(json.dumps(str(orphan.pid)))

    assert mark_lost(tmp_path) == ["7"]

    assert json.loads((folder / "final_status").read_text()) == "lost"
    assert orphan.wait(timeout=10) == -9


def test_finished_and_queued_jobs_and_unrelated_pids_are_left_alone(tmp_path):
    finished = job(tmp_path, "1", pid="1", final_status="complete")
    queued = job(tmp_path, "2")  # no pid yet: Pulsar re-queues it from its saved command line
    bystander = subprocess.Popen(["sleep", "60"], preexec_fn=os.setpgrp)  # its working directory is elsewhere
    reused = job(tmp_path, "3", pid=str(bystander.pid))  # a pid that now belongs to another process
    try:
        assert mark_lost(tmp_path) == ["3"]
        assert json.loads((finished / "final_status").read_text()) == "complete"
        assert not (queued / "final_status").exists()
        assert json.loads((reused / "final_status").read_text()) == "lost"
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()
