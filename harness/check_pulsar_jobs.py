"""Check that every tool job of a workflow test ran on the Pulsar server, on files transferred to it.

``make test-pulsar`` (harness/test_pulsar.sh) runs the IMDB workflow test with env/job_conf_pulsar.yml;
a green planemo run alone would also be green had the jobs quietly run on Galaxy's local runner, or
had they read their inputs straight from Galaxy's file store (on one machine both are reachable). So
this reads what Pulsar itself kept, and fails unless, for every tool step of the workflow:

- Pulsar's staging directory has one job folder for it (``tool_id``), finished ``complete`` with exit 0;
- the tool's scripts were staged from its ``<required_files>``: ``tool_files/scripts/TOOL.py`` equals
  tools/scripts/TOOL.py, and the job's command ran that copy;
- no absolute path in the job's command or config files (the inputs JSON with dataset paths) lies
  outside that job folder (system folders aside): its inputs came by transfer;
- Pulsar's access log shows the transfers: the job's setup, its tool files and inputs uploaded
  (``type=tool``, ``type=input``), its submission and its outputs downloaded (``type=output``).

It also checks that the job configuration routes every tool in tools/ to the Pulsar destination, so a
new tool cannot slip past this test onto the local runner.
"""

import argparse
import collections
import json
import re
import sys
import urllib.parse
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

# Absolute paths a job's command may name besides its own staging folder: the shell and system files.
SYSTEM_PREFIXES = ("/bin/", "/usr/", "/dev/", "/proc/", "/etc/")
ABSOLUTE_PATH = re.compile(r"(?<![\w.~-])/(?:[\w.@+-]+/)*[\w.@+-]+")
REQUEST = re.compile(r'"(GET|POST|PUT|DELETE) (/jobs[^ ]*) HTTP')


def suite_tool_ids(tools_dir: Path) -> set[str]:
    """Ids of the tools in tools/ (every XML whose root is <tool>)."""
    ids = set()
    for xml in tools_dir.glob("*.xml"):
        root = ET.parse(xml).getroot()  # noqa: S314 (the repository's own tool XML)
        if root.tag == "tool":
            ids.add(root.get("id"))
    return ids


def pulsar_routed_tool_ids(job_conf: Path) -> set[str]:
    """Tool ids the job configuration sends to an environment whose runner loads Pulsar."""
    conf = yaml.safe_load(job_conf.read_text())
    pulsar_runners = {name for name, runner in conf["runners"].items() if "runners.pulsar:" in runner["load"]}
    pulsar_envs = {name for name, env in conf["execution"]["environments"].items()
                   if env.get("runner") in pulsar_runners}
    return {entry["id"] for entry in conf.get("tools", []) if entry.get("environment") in pulsar_envs}


def workflow_tool_ids(workflow: Path) -> collections.Counter:
    """How many jobs of each tool one run of the workflow makes (one per tool step, no mapping here)."""
    steps = json.loads(workflow.read_text())["steps"].values()
    return collections.Counter(step["tool_id"] for step in steps if step["type"] == "tool")


def log_requests(log: Path) -> dict[str, list[tuple[str, str, dict]]]:
    """Pulsar's access log by job id: (method, path, query) of every /jobs request."""
    by_job = collections.defaultdict(list)
    for method, target in REQUEST.findall(log.read_text(errors="replace")):
        path, _, query = target.partition("?")
        params = {key: values[0] for key, values in urllib.parse.parse_qs(query).items()}
        job_id = params.get("job_id") or (path.split("/")[2] if path.count("/") >= 2 else None)
        if job_id:
            by_job[job_id].append((method, path, params))
    return by_job


def staged_tool_id(job_dir: Path) -> str:
    """The tool id Pulsar recorded for a job (a JSON string in its ``tool_id`` file)."""
    return json.loads((job_dir / "tool_id").read_text())


def outside_paths(text: str, job_dir: Path) -> list[str]:
    """Absolute paths in text that are neither in job_dir nor system paths.

    Quotes inside a path (the tools' ``'$__tool_directory__/scripts'/TOOL.py``) are dropped first."""
    inside = str(job_dir) + "/"
    text = re.sub(r"'(?=/)", "", text)
    return sorted({path for path in ABSOLUTE_PATH.findall(text)
                   if not (path + "/").startswith(inside) and not path.startswith(SYSTEM_PREFIXES)})


def check_job(job_dir: Path, requests: list, scripts_dir: Path) -> list[str]:
    """Problems with one staged job (empty when it ran on Pulsar on transferred files)."""
    tool_id = staged_tool_id(job_dir)
    problems = []
    final_status = json.loads((job_dir / "final_status").read_text()) if (job_dir / "final_status").exists() else None
    return_code = (job_dir / "return_code").read_text().strip() if (job_dir / "return_code").exists() else None
    if final_status != "complete" or return_code != "0":
        problems.append(f"finished {final_status!r} with exit code {return_code!r}, expected 'complete' and 0")
    staged_script = job_dir / "tool_files" / "scripts" / f"{tool_id}.py"
    if not staged_script.is_file() or staged_script.read_bytes() != (scripts_dir / f"{tool_id}.py").read_bytes():
        problems.append(f"{staged_script} is missing or differs from tools/scripts/{tool_id}.py")
    if not (job_dir / "tool_files" / "scripts" / "gxkeras" / "__init__.py").is_file():
        problems.append("the gxkeras package was not staged into tool_files/scripts/gxkeras")
    tool_script = (job_dir / "tool_script.sh").read_text()
    if f"{job_dir}/tool_files/scripts'/{tool_id}.py" not in tool_script:
        problems.append(f"tool_script.sh does not run the staged tool_files/scripts/{tool_id}.py")
    for name in ["tool_script.sh", *sorted(p.name for p in (job_dir / "configs").iterdir())]:
        text = (job_dir / name if name == "tool_script.sh" else job_dir / "configs" / name).read_text(errors="replace")
        stray = outside_paths(text, job_dir)
        if stray:
            problems.append(f"{name} names paths outside the job's staging folder: {', '.join(stray)}")
    kinds = collections.Counter(params.get("type", method + " " + path.rsplit("/", 1)[-1]) for method, path, params in requests)
    setup = [params for method, path, params in requests if method == "POST" and path == "/jobs"]
    if not setup or setup[0].get("tool_id") != tool_id:
        problems.append(f"no setup request for {tool_id} in Pulsar's log")
    staged_inputs = sorted(p.name for p in (job_dir / "inputs").iterdir())
    if kinds["input"] != len(staged_inputs):
        problems.append(f"{len(staged_inputs)} files in inputs/ but {kinds['input']} input uploads in Pulsar's log")
    for kind in ("tool", "output", "POST submit"):
        if not kinds[kind]:
            problems.append(f"no {kind!r} request in Pulsar's log")
    print(f"  job {job_dir.name:>3} {tool_id:<22} complete; uploaded {kinds['tool']} tool files, "
          f"{kinds['input']} inputs, {kinds['config']} config files; downloaded {kinds['output']} outputs")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--staging", type=Path, required=True, help="Pulsar's staging directory")
    parser.add_argument("--log", type=Path, required=True, help="Pulsar's log (with gunicorn's access log)")
    parser.add_argument("--job-conf", type=Path, required=True, help="Galaxy job configuration of the run")
    parser.add_argument("--workflow", type=Path, required=True, help="the workflow (.ga) that was run")
    parser.add_argument("--tools", type=Path, required=True, help="the tools/ folder")
    args = parser.parse_args(argv)
    failures = []

    unrouted = suite_tool_ids(args.tools) - pulsar_routed_tool_ids(args.job_conf)
    if unrouted:
        failures.append(f"{args.job_conf} does not send {', '.join(sorted(unrouted))} to Pulsar")

    staging = args.staging.resolve()
    job_dirs = sorted((d for d in staging.iterdir() if (d / "tool_id").is_file()), key=lambda d: int(d.name))
    ran = collections.Counter(staged_tool_id(d) for d in job_dirs)
    expected = workflow_tool_ids(args.workflow)
    if ran != expected:
        failures.append(f"Pulsar ran {dict(ran)}, the workflow's tool steps are {dict(expected)}")

    requests = log_requests(args.log)
    print(f"Pulsar staging directory {staging}:")
    for job_dir in job_dirs:
        failures += [f"job {job_dir.name}: {problem}"
                     for problem in check_job(job_dir, requests.get(job_dir.name, []), args.tools / "scripts")]
    if failures:
        print("check_pulsar_jobs: FAILED\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print(f"check_pulsar_jobs: all {sum(expected.values())} tool jobs of {args.workflow.name} ran in Pulsar's "
          "staging directory, on files transferred over HTTP")
    return 0


if __name__ == "__main__":
    sys.exit(main())
