"""Mark the jobs that a dead Pulsar server left behind as lost, before Pulsar starts again.

Pulsar's `queued_python` manager says a job is `running` for as long as the job folder holds the `pid`
file that the server's monitor thread removes when the job ends. When the server dies mid-job (killed,
OOM, node reboot) nobody removes it: a restarted Pulsar cannot re-run the job (the manager deletes its
saved command line when it starts) and answers `running` for ever, so Galaxy polls for ever and the
dataset never ends (docs/admin.md, "When Pulsar dies mid-job").

Run before Pulsar starts (harness/pulsar.sh start; on a production node systemd's ExecStartPre), this
finds every job with a `pid` file and no `final_status`: its server is gone, so no one will collect
its outputs. It stops the orphaned process group if it still runs, and writes `final_status` =
`lost`, which Pulsar's status endpoint then reports; Galaxy's Pulsar runner fails a `lost` job with
"Remote job server could not determine this job's state." A job still queued (no `pid`) is left alone:
Pulsar re-queues it from its saved command line.

usage: pulsar_lost_jobs.py STAGING_DIRECTORY
"""
import json
import os
import signal
import sys
from pathlib import Path


def orphan_alive(pid: int, job_folder: Path) -> bool:
    """Whether PID still runs the job (its working directory is in the job's folder, so a reused pid
    of an unrelated process is never touched)."""
    try:
        return Path(os.readlink(f"/proc/{pid}/cwd")).is_relative_to(job_folder.resolve())
    except OSError:
        return False


def mark_lost(staging: Path) -> list[str]:
    """Mark each orphaned job lost (stopping its process group); return their ids."""
    lost = []
    for pid_file in sorted(staging.glob("*/pid")):
        job_folder = pid_file.parent
        if (job_folder / "final_status").exists():
            continue
        pid = int(json.loads(pid_file.read_text()))
        if orphan_alive(pid, job_folder):
            os.killpg(pid, signal.SIGKILL)  # Pulsar starts each job as its own process group
        (job_folder / "final_status").write_text(json.dumps("lost"))
        lost.append(job_folder.name)
    return lost


if __name__ == "__main__":
    for job_id in mark_lost(Path(sys.argv[1])):
        print(f"[pulsar] job {job_id} was running when the last Pulsar stopped: marked lost")
