"""Import workflows into a running Galaxy through its API and report what Galaxy says about them.

    PORT=9137 bash harness/planemo.sh serve &      # a Galaxy with our tools (master API key test_key)
    .venv-galaxy/bin/python harness/workflow_import_check.py --url http://127.0.0.1:9137 workflows/gtn/*.ga

For each workflow: the HTTP status of ``POST /api/workflows`` and every step's upgrade messages
(``GET /api/workflows/{id}/download?style=editor``), as JSON lines. Exits 1 if any import fails or
any step has an upgrade message: the bar of issue 13 (a saved workflow keeps its meaning). Not part of
``make test`` yet; docs/migration.md records its findings.
"""
import argparse
import json
import re
import sys
import urllib.error
import urllib.request


class Galaxy:
    def __init__(self, url, key):
        self.url, self.key = url.rstrip("/"), key

    def call(self, method, path, payload=None, key=None):
        """(HTTP status, decoded JSON or error text)."""
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"x-api-key": key or self.key, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=600) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def user_key(self):
        """An API key of a (created if needed) regular user: workflows belong to users, not to the master key."""
        _status, users = self.call("GET", "/api/users")
        if not users:
            _status, user = self.call("POST", "/api/users", {"username": "workflow-check", "email": "check@example.org",
                                                             "password": "workflow-check-1"})
            users = [user]
        _status, key = self.call("POST", f"/api/users/{users[0]['id']}/api_key")
        return key


def error_line(body):
    """The first exception line of Galaxy's error traceback (the root cause), or the message."""
    try:
        error = json.loads(body)
    except (TypeError, ValueError):
        return str(body)[-300:]
    lines = [line.strip() for line in str(error.get("traceback") or "").splitlines() if line.strip()]
    causes = [line for line in lines if re.match(r"[\w.]+(Error|Exception)\b", line)]
    return (causes or lines or [error.get("err_msg")])[0]


def check(galaxy, key, path):
    with open(path) as handle:
        workflow = json.load(handle)
    status, result = galaxy.call("POST", "/api/workflows", {"workflow": workflow}, key=key)
    if status != 200:
        return {"workflow": path, "import_status": status, "error": error_line(result)}
    _status, editor = galaxy.call("GET", f"/api/workflows/{result['id']}/download?style=editor", key=key)
    messages = editor.get("upgrade_messages") or {}
    tools = {step_id: step.get("content_id") for step_id, step in editor.get("steps", {}).items()}
    return {"workflow": path, "import_status": status,
            "upgrade_messages": {f"{step} {tools.get(step)}": text for step, text in messages.items()}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workflows", nargs="+", help="native Galaxy workflows (.ga)")
    parser.add_argument("--url", default="http://127.0.0.1:9090", help="Galaxy's address")
    parser.add_argument("--master-key", default="test_key", help="Galaxy's master API key (planemo's default)")
    args = parser.parse_args(argv)
    galaxy = Galaxy(args.url, args.master_key)
    key = galaxy.user_key()
    clean = True
    for path in args.workflows:
        report = check(galaxy, key, path)
        clean = clean and report["import_status"] == 200 and not report.get("upgrade_messages")
        print(json.dumps(report))
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
