"""Run the Galaxy tests of our tools against a running Galaxy, several tests at a time.

`planemo test --engine external_galaxy` runs one test after the other; each test mostly waits (upload
jobs, the tool job's start-up, metadata), so on a 2-core machine the tests left the CPU half idle and
took 26 minutes. Galaxy's own tool test runner (galaxy.tool_util.verify.script, `galaxy-tool-test`,
the one planemo calls per test) has a thread pool: here it runs PARALLEL tests at once against the one
Galaxy, each in a history of its own, and writes the same JSON report as planemo (read by
harness/summarize_tests.py and `planemo test_reports`); its log, with each failure's traceback, goes
beside it (REPORT.log).

A test that fails before Galaxy gave it a job (an upload that failed, a tool that is not loaded) would
leave no entry in that report; such tests are added as `error` with the exception, so that a test that
never ran cannot look green.

Two errors are Galaxy's, not the tool's, and a test that ends with one is run once more, in a new
history (its report entry keeps the first error as `rerun_after`, shown by summarize_tests.py):
- a Galaxy API "not found" before any job existed: with tests running side by side, Galaxy 26.1 once
  answered a test's `POST /api/tools` with 404 "History not found" for the history that test had created
  and uploaded into seconds before (1 test in 4 fresh-clone runs, 2026-12-03; no traceback in its log);
- an input staging problem (an upload of our own test data that failed or did not finish): Galaxy's
  Celery worker once failed an upload's task (a race on its first tasks, now avoided by
  harness/warm_galaxy.py), and the test waited for that upload until the run's time limit. Each test now
  waits at most MAX_SECONDS for a job, so such a test errors instead of hanging the run.
A test whose job ran, or whose outputs differed, is never rerun.

The tests talk to Galaxy through harness/tool_test_interactor.py: Galaxy's interactor with each test's
uploads its own, each distinct input uploaded once, and fewer questions to Galaxy while a job runs.

usage: test_tools.py GALAXY_URL ADMIN_KEY REPORT.json PARALLEL TOOL.xml...
TESTS_PER_TOOL=N in the environment: only each tool's first N tests (`make test-container` runs one per tool).
"""
import json
import logging
import os
import sys
import xml.etree.ElementTree as ET

from galaxy.tool_util.verify.script import (  # pinned with Galaxy in env/galaxy-requirements.txt
    _test_id_for_reference,
    build_case_references,
    Results,
    test_tools,
)
from tool_test_interactor import MAX_SECONDS, ToolTestInteractor


def tool_ids(xml_paths: list[str]) -> set[str]:
    """The ids of the tools whose XML files are given (macro files have no id and are skipped)."""
    ids = set()
    for path in xml_paths:
        root = ET.parse(path).getroot()  # noqa: S314 (the repository's own tool XML)
        if root.tag == "tool":
            ids.add(root.get("id"))
    return ids


def add_unrecorded(results: Results, references) -> None:
    """Record every test that ended without a report entry as an error carrying its exception."""
    recorded = {test["id"] for test in results.test_results}
    for reference in references:
        test_id = _test_id_for_reference(reference)  # the id the runner gives the test's report entry
        if test_id in recorded:
            continue
        problems = [str(e.exception) for e in results.test_exceptions
                    if e.tool_id == reference.tool_id and not e.was_recorded]
        results.register_result({"id": test_id, "has_data": True, "data": {
            "status": "error", "tool_id": reference.tool_id, "test_index": reference.test_index,
            "problem_log": "\n".join(problems) or "the test ended without a result"}})


def galaxy_errors_before_a_job(results: Results) -> list[str]:
    """The ids of the tests that errored before Galaxy created their tool's job, on a Galaxy API "not found"
    or while their inputs were uploaded."""
    def galaxys(problem: str) -> bool:
        return problem.endswith("not found") or problem.startswith("Input staging problem")

    return [test["id"] for test in results.test_results
            if test["data"].get("status") == "error" and "job" not in test["data"]
            and galaxys(str(test["data"].get("execution_problem", "")))]


def rerun(results: Results, test_ids: list[str], run, rerun_report: str) -> None:
    """Replace the entries of TEST_IDS in RESULTS by those of RUN(a fresh Results for their rerun, whose
    own report the runner writes to RERUN_REPORT)."""
    first_errors = {t["id"]: t["data"].get("execution_problem") for t in results.test_results if t["id"] in test_ids}
    again = Results("rerun", rerun_report)
    run(again)
    for test in again.test_results:
        test["data"]["rerun_after"] = first_errors.get(test["id"])
    results.test_results = [t for t in results.test_results if t["id"] not in test_ids] + again.test_results
    results.test_exceptions += again.test_exceptions


class ShortFailures(logging.Formatter):
    """On the console, a failed test is its exception's message, not the runner's full traceback.

    The message holds what failed (the output that differed, the job's stderr); the traceback through
    requests and urllib3 would bury it, 53 times over when Galaxy itself went away. The log file beside
    the report keeps the tracebacks.
    """

    def format(self, record: logging.LogRecord) -> str:
        line = f"{self.formatTime(record)} {record.levelname} - {record.getMessage()}"
        error = record.exc_info[1] if record.exc_info else None
        return f"{line}: {type(error).__name__}: {error}" if error is not None else line


def runner_logger(log_file: str) -> logging.Logger:
    """The runner's logger: everything, with tracebacks, in LOG_FILE; short lines on the console."""
    log = logging.getLogger("tool-tests")
    log.setLevel(logging.INFO)
    full = logging.FileHandler(log_file, mode="w")
    full.setFormatter(logging.Formatter("%(asctime)s %(levelname)s - %(message)s"))
    console = logging.StreamHandler()
    console.setFormatter(ShortFailures())
    log.addHandler(full)
    log.addHandler(console)
    return log


def main(galaxy_url: str, admin_key: str, report: str, parallel: str, *xml_paths: str) -> int:
    ids = tool_ids(list(xml_paths))
    log = runner_logger(report.removesuffix(".json") + ".log")
    interactor = ToolTestInteractor(galaxy_url=galaxy_url, master_api_key=admin_key, api_key=None,
                                    keep_outputs_dir=None)
    per_tool = int(os.environ.get("TESTS_PER_TOOL") or 10**6)
    references = build_case_references(interactor, log=log, test_filters=[
        lambda ref: ref.tool_id not in ids or ref.test_index >= per_tool])
    missing = ids - {ref.tool_id for ref in references}
    if missing:
        print(f"tool tests: Galaxy lists no tests for {sorted(missing)} (tool not loaded?)")
        return 1
    results = Results("Galaxy tool tests", report, galaxy_url=galaxy_url)

    def run(into: Results, selected: list) -> None:
        test_tools(interactor, selected, into, log=log, parallel_tests=int(parallel),
                   history_per_test_case=True, verify_kwds={"quiet": True, "maxseconds": MAX_SECONDS})

    run(results, references)
    flaked = galaxy_errors_before_a_job(results)
    if flaked:
        log.warning("Galaxy error before the tool's job existed, running once more: %s", flaked)
        rerun(results, flaked, lambda again: run(again, [ref for ref in references
                                                         if _test_id_for_reference(ref) in flaked]),
              report.removesuffix(".json") + ".rerun.json")
    add_unrecorded(results, references)
    results.write()
    log.info("Inputs: %d upload requests served by copies of %d uploads", interactor.upload_requests,
             interactor.uploads_made)
    interactor.delete_inputs_history()  # after the report is written: a Galaxy error here loses nothing
    with open(report) as handle:
        return 0 if json.load(handle)["tests"] else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
