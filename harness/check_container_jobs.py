"""Check, from each tool job's own record, that every job of this suite ran in the tools' image.

`make test-container` (harness/test_container.sh) runs tool and workflow tests on a Galaxy whose job
configuration puts every tool of the suite in a container (env/job_conf_container.yml). A test passing proves
the tool worked, not where it ran; this reads, for every job of one of our tools that Galaxy ran:

- Galaxy's own job metrics (`/api/jobs/ID/metrics`, the core plugin): `container_type` docker and
  `container_id` the image that tools/macros.xml declares. Galaxy records them only when it wrapped the
  job's command in the container;
- the job's script (JOBS_DIR/.../ID/galaxy_ID.sh, kept by the destination's cleanup_job: never): the
  `podman run` command line Galaxy ran, with the image, the tool directory mounted read-only, no network, and
  no mount that holds the host's tool environment (.venv-tools): the `python3` the job ran can then only be the
  image's (`/usr/local`, as harness/test_container.sh's first step prints from a container started the same way).

It fails when a job of ours lacks either, when a tool of tools/ ran no job at all, or when no job ran.
It prints each job's record and one container command line in full, for the closing note of issue 26.

usage: check_container_jobs.py GALAXY_URL ADMIN_KEY IMAGE JOBS_DIR TOOL.xml...
"""
import glob
import os
import shlex
import sys

import requests
from test_tools import tool_ids

FINISHED = {"ok", "error", "failed"}
HOST_TOOL_ENVIRONMENT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".venv-tools"))


def galaxy_get(url: str, key: str, path: str, **params) -> object:
    response = requests.get(f"{url}/api/{path}", params=params, headers={"x-api-key": key}, timeout=60)
    response.raise_for_status()
    return response.json()


def database_id(url: str, key: str, encoded: str) -> int:
    """The database id of an encoded job id (an admin may decode ids)."""
    return int(galaxy_get(url, key, f"configuration/decode/{encoded}")["decoded_id"])  # type: ignore[index]


def container_command(jobs_dir: str, job_id: int) -> list[str] | None:
    """The `podman run` argv of the job's script, None when the script has none (or is absent)."""
    scripts = glob.glob(os.path.join(jobs_dir, "**", str(job_id), f"galaxy_{job_id}.sh"), recursive=True)
    for script in scripts:
        with open(script) as handle:
            for line in handle:
                if line.lstrip().startswith("podman run "):
                    return shlex.split(line, comments=False)[:-1]  # the last word is the job's own command
    return None


def problems_of(metrics: list[dict], argv: list[str] | None, image: str, tool_dir: str) -> list[str]:
    recorded = {m["name"]: m.get("raw_value") for m in metrics if m.get("plugin") == "core"}
    found = []
    if recorded.get("container_type") != "docker" or recorded.get("container_id") != image:
        found.append(f"Galaxy recorded container {recorded.get('container_type')!r} {recorded.get('container_id')!r}")
    if argv is None:
        found.append("its script has no `podman run` line")
    else:
        if image not in argv:
            found.append(f"its `podman run` names another image than {image}")
        if not any(arg.startswith(f"{tool_dir}:{tool_dir}:ro") for arg in argv):
            found.append("its `podman run` does not mount the tool directory read-only")
        if "--net" not in argv or argv[argv.index("--net") + 1] != "none":
            found.append("its `podman run` leaves the network on")
        mounted = [os.path.realpath(argv[i + 1].split(":")[0]) for i, arg in enumerate(argv) if arg == "-v"]
        if any(HOST_TOOL_ENVIRONMENT == m or HOST_TOOL_ENVIRONMENT.startswith(m + os.sep) for m in mounted):
            found.append(f"its `podman run` mounts the host's tool environment {HOST_TOOL_ENVIRONMENT}")
    return found


def main(url: str, key: str, image: str, jobs_dir: str, *xml_paths: str) -> int:
    ours = tool_ids(list(xml_paths))
    tool_dir = os.path.dirname(os.path.abspath(xml_paths[0]))
    jobs = [j for j in galaxy_get(url, key, "jobs", view="admin_job_list", limit=100000)  # type: ignore[union-attr]
            if j["tool_id"] in ours and j["state"] in FINISHED]
    failures, seen, quoted = [], set(), False
    for number, job in sorted((database_id(url, key, j["id"]), j) for j in jobs):
        job_id = job["id"]
        metrics = galaxy_get(url, key, f"jobs/{job_id}/metrics")
        argv = container_command(jobs_dir, number)  # its folder is named by its database id
        found = problems_of(metrics, argv, image, tool_dir)  # type: ignore[arg-type]
        seen.add(job["tool_id"])
        print(f"job {number} {job['tool_id']} {job['state']}: "
              + ("; ".join(found) if found else f"container_type docker, container_id {image}, `podman run` in its script"))
        if found:
            failures.append(job_id)
        elif not quoted and argv:
            print("  its container command line:", shlex.join(argv), "<the job's command>")
            quoted = True
    not_run = sorted(ours - seen)
    if not jobs or not_run:
        print(f"Error: no job in the image for {not_run or 'any tool'}")
        return 1
    if failures:
        print(f"Error: {len(failures)} of {len(jobs)} jobs of our tools did not run in {image}: {failures}")
        return 1
    print(f"all {len(jobs)} jobs of the suite's {len(seen)} tools ran in {image}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
