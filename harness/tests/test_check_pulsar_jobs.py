"""check_pulsar_jobs: passes a job that ran on Pulsar on transferred files, and names each way one did not.

The staged job folder and access log below copy the shapes Pulsar 0.16 left for a real run of
`make test-pulsar` (tool_id as a JSON string, tool_files/scripts/, configs/, inputs/, gunicorn's log).
"""
import json
import shutil
from pathlib import Path

import pytest

import check_pulsar_jobs

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools"
JOB_CONF = ROOT / "env" / "job_conf_pulsar.yml"
TOKEN = "private_token=t"


def request(method, target):
    return f'127.0.0.1 - - [02/Dec/2026:06:43:39 +0000] "{method} {target}&{TOKEN} HTTP/1.1" 200 87 "-" "Python-urllib/3.11"'


@pytest.fixture
def run(tmp_path):
    """A staging directory with one finished keras_model_builder job (id 6), its log, and a one-step workflow."""
    job = tmp_path / "staging" / "6"
    (job / "tool_files" / "scripts").mkdir(parents=True)
    shutil.copy(TOOLS / "scripts" / "keras_model_builder.py", job / "tool_files" / "scripts")
    shutil.copytree(TOOLS / "scripts" / "gxkeras", job / "tool_files" / "scripts" / "gxkeras",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for folder in ("configs", "inputs", "outputs"):
        (job / folder).mkdir()
    (job / "tool_id").write_text(json.dumps("keras_model_builder"))
    (job / "final_status").write_text(json.dumps("complete"))
    (job / "return_code").write_text("0")
    (job / "inputs" / "dataset_1.dat").write_text("{}")
    (job / "configs" / "tmpinputs").write_text(json.dumps({"infile_json": f"{job}/inputs/dataset_1.dat"}))
    (job / "tool_script.sh").write_text(
        f"#!/bin/bash\nset -e\npython3 '{job}/tool_files/scripts'/keras_model_builder.py "
        f"--inputs '{job}/configs/tmpinputs' --outfile '{job}/outputs/dataset_2.dat'\n")
    log = tmp_path / "pulsar.log"
    log.write_text("\n".join([
        request("POST", "/jobs?job_id=6&tool_id=keras_model_builder&tool_version=0.11.0"),
        request("POST", "/jobs/6/files?job_id=6&name=scripts%2Fkeras_model_builder.py&type=tool"),
        request("POST", "/jobs/6/files?job_id=6&name=dataset_1.dat&type=input"),
        request("POST", "/jobs/6/files?job_id=6&name=tmpinputs&type=config"),
        request("POST", "/jobs/6/submit?command_line=%2Fbin%2Fbash&job_id=6"),
        request("GET", "/jobs/6/files?name=dataset_2.dat&job_id=6&type=output"),
    ]) + "\n")
    workflow = tmp_path / "wf.ga"
    workflow.write_text(json.dumps({"steps": {"0": {"type": "data_input", "tool_id": None},
                                              "1": {"type": "tool", "tool_id": "keras_model_builder"}}}))
    return {"job": job, "log": log, "workflow": workflow, "staging": tmp_path / "staging", "tmp": tmp_path}


def check(run, job_conf=JOB_CONF):
    return check_pulsar_jobs.main(["--staging", str(run["staging"]), "--log", str(run["log"]),
                                   "--job-conf", str(job_conf), "--workflow", str(run["workflow"]),
                                   "--tools", str(TOOLS)])


def test_a_job_that_ran_on_pulsar_on_transferred_files_passes(run, capsys):
    assert check(run) == 0
    assert "job   6 keras_model_builder" in capsys.readouterr().out


def test_an_input_read_from_galaxys_file_store_fails(run, capsys):
    (run["job"] / "configs" / "tmpinputs").write_text(json.dumps({"infile_json": "/srv/galaxy/files/dataset_1.dat"}))
    assert check(run) == 1
    assert "names paths outside the job's staging folder: /srv/galaxy/files/dataset_1.dat" in capsys.readouterr().err


def test_a_tool_script_not_staged_from_required_files_fails(run, capsys):
    (run["job"] / "tool_files" / "scripts" / "keras_model_builder.py").write_text("# another script\n")
    assert check(run) == 1
    assert "differs from tools/scripts/keras_model_builder.py" in capsys.readouterr().err


def test_a_failed_job_and_a_missing_transfer_fail(run, capsys):
    (run["job"] / "return_code").write_text("1")
    run["log"].write_text("".join(line + "\n" for line in run["log"].read_text().splitlines() if "type=input" not in line))
    assert check(run) == 1
    err = capsys.readouterr().err
    assert "exit code '1'" in err
    assert "1 files in inputs/ but 0 input uploads" in err


def test_a_workflow_step_that_never_reached_pulsar_fails(run, capsys):
    shutil.rmtree(run["job"])
    assert check(run) == 1
    assert "Pulsar ran {}, the workflow's tool steps are {'keras_model_builder': 1}" in capsys.readouterr().err


def test_a_suite_tool_not_routed_to_pulsar_fails(run, capsys):
    job_conf = run["tmp"] / "job_conf.yml"
    job_conf.write_text(JOB_CONF.read_text().replace("  - {id: model_prediction, environment: pulsar}\n", ""))
    assert check(run, job_conf) == 1
    assert "does not send model_prediction to Pulsar" in capsys.readouterr().err
