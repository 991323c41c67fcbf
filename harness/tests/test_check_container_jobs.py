"""harness/check_container_jobs.py: a job counts as run in the image only when Galaxy recorded the image and its
script ran `podman run` with it, the tool directory read-only, no network and no host tool environment.

It imports harness/test_tools.py (Galaxy's tool test runner), so it runs with the Galaxy environment
(``.venv-galaxy/bin/python -m pytest harness/tests/test_check_container_jobs.py``; skipped elsewhere).
"""
import pytest

pytest.importorskip("galaxy.tool_util.verify.script")

from check_container_jobs import container_command, HOST_TOOL_ENVIRONMENT, problems_of  # noqa: E402

IMAGE = "ghcr.io/galaxy-keras/keras-galaxy-tools:0.11.0"
TOOLS = "/srv/tools"
RECORDED = [{"plugin": "core", "name": "container_type", "raw_value": "docker"},
            {"plugin": "core", "name": "container_id", "raw_value": IMAGE}]


def podman_line(*extra: str, net: str = "none", image: str = IMAGE) -> str:
    return (f'podman run -e "GALAXY_SLOTS=$GALAXY_SLOTS" -v {TOOLS}:{TOOLS}:ro -v /jobs/000/7:/jobs/000/7:ro '
            f"{' '.join(extra)} --net {net} --rm --user 0:0 {image} /bin/sh /jobs/000/7/tool_script.sh > out; ec=$?\n")


def job_folder(tmp_path, script: str, job_id: int = 7) -> str:
    folder = tmp_path / "jobs" / "000" / str(job_id)
    folder.mkdir(parents=True)
    (folder / f"galaxy_{job_id}.sh").write_text(f"#!/bin/bash\ncd working\n{script}echo done\n")
    return str(tmp_path / "jobs")


def test_a_job_galaxy_ran_in_the_image_passes(tmp_path):
    argv = container_command(job_folder(tmp_path, podman_line()), 7)
    assert argv is not None and argv[:2] == ["podman", "run"] and IMAGE in argv
    assert problems_of(RECORDED, argv, IMAGE, TOOLS) == []


@pytest.mark.parametrize(("script", "recorded", "problem"), [
    ("/bin/sh tool_script.sh\n", RECORDED, "no `podman run` line"),  # ran on the host
    (podman_line(), [], "Galaxy recorded container None None"),  # no container in Galaxy's record
    (podman_line(image="python:3.12"), RECORDED, "names another image"),
    (podman_line(net="bridge"), RECORDED, "leaves the network on"),
    (podman_line(f"-v {HOST_TOOL_ENVIRONMENT}:/env:ro"), RECORDED, "mounts the host's tool environment"),
])
def test_a_job_outside_the_image_is_named(tmp_path, script, recorded, problem):
    argv = container_command(job_folder(tmp_path, script), 7)
    found = problems_of(recorded, argv, IMAGE, TOOLS)
    assert any(problem in one for one in found), found


def test_the_tool_directory_must_be_read_only(tmp_path):
    argv = container_command(job_folder(tmp_path, podman_line().replace(f"{TOOLS}:ro", f"{TOOLS}:rw")), 7)
    assert problems_of(RECORDED, argv, IMAGE, TOOLS) == ["its `podman run` does not mount the tool directory read-only"]
