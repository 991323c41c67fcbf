"""Print one line per Galaxy tool/workflow test from planemo's JSON report, and a total.

planemo's own console output is long; CI logs need a short, greppable account of what ran.
Exits non-zero when the report is missing, holds no test, or any test did not pass, so a run
that silently tested nothing cannot look green.
"""
import json
import sys


def main(paths):
    """Summarise the reports at ``paths`` (one per planemo run) as one list and one total."""
    tests = []
    for path in paths:
        try:
            with open(path) as handle:
                tests += json.load(handle).get("tests", [])
        except (OSError, ValueError) as error:
            print(f"no test report at {path}: {error}")
            return 1
    counts = {}
    for test in tests:
        data = test.get("data", {})
        status = data.get("status", "unknown")
        counts[status] = counts.get(status, 0) + 1
        seconds = data.get("time_seconds")
        duration = f"{seconds:.0f}s" if isinstance(seconds, (int, float)) else "?"
        rerun = f"  (run twice; first: {data['rerun_after']})" if data.get("rerun_after") else ""
        print(f"  {status.upper():7} {test.get('id', '?')}  ({duration}){rerun}")
    passed = counts.get("success", 0)
    failed = len(tests) - passed
    print(f"galaxy tests: {passed} passed, {failed} failed")
    return 0 if tests and failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
