"""Fail when a running Galaxy has to upgrade the saved tool state of a workflow.

    python harness/check_upgrade_messages.py GALAXY_URL ADMIN_KEY WORKFLOW.ga ...

A workflow whose saved step state lacks a parameter the tool now has (a new section, an optional input)
still runs, but Galaxy silently fills in the tool's default and shows "upgrade messages" in the editor.
The workflow test cannot see that (planemo invokes with ``allow_tool_state_corrections``), so this
imports each workflow (as planemo's test user) and checks both faces of it:

1. Galaxy's editor view lists no upgrade messages (any message is a failure, printed per step);
2. Galaxy accepts an invocation *without* ``allow_tool_state_corrections``, as a user's or a script's
   plain run request (the API refuses such a request, "Workflow step has upgrade messages", when the
   saved state needs corrections). Every data input gets one small uploaded table; the accepted
   invocation is cancelled at once and its history purged: this checks the request, not the run.
"""
import json
import re
import sys

from bioblend import ConnectionError as GalaxyError
from bioblend.galaxy import GalaxyInstance
from planemo.galaxy.api import user_api_key

PLANEMO_USER = "planemo@galaxyproject.org"  # the user planemo's tests and the served Galaxy's UI use


def test_user_key(admin):
    """The API key of planemo's test user, without replacing a key another test client holds."""
    for user in admin.users.get_users():
        if user["email"] == PLANEMO_USER:
            return admin.users.get_or_create_user_apikey(user["id"])
    return user_api_key(admin)  # creates the user


def upgrade_messages(gi, workflow_id):
    """{step label or index: message} of the imported workflow, from Galaxy's editor view."""
    # The editor's view lists, per step, the parameters Galaxy had to add or fix and tool version changes.
    editor = gi.workflows._get(f"{workflow_id}/download", params={"style": "editor"})
    messages = {}
    for index, message in (editor.get("upgrade_messages") or {}).items():
        step = editor["steps"].get(str(index), {})
        messages[step.get("label") or f"step {index}"] = message
    return messages


def error_summary(error):
    """Galaxy's reason in one line: the last exception line of the server's traceback when it sent one."""
    try:
        body = json.loads(error.body)
    except (TypeError, ValueError):
        return str(error.body)[:500]
    lines = [line.strip() for line in str(body.get("traceback") or "").splitlines() if line.strip()]
    raised = [line for line in lines if re.match(r"[\w.]+(Error|Exception): ", line)]
    reason = (raised or lines or [body.get("err_msg")])[-1]
    data = body.get("err_data")
    return f"{reason}{f' {json.dumps(data)[:500]}' if data else ''}"


def plain_invocation_refused(gi, workflow_id, workflow_dict, history_id, dataset_id):
    """Why Galaxy refuses to run the workflow without allow_tool_state_corrections; None when it accepts.

    Every data input gets ``dataset_id``; parameter inputs keep their defaults. An accepted invocation
    is cancelled at once: only the request is checked (Galaxy refuses before scheduling anything).
    """
    inputs = {index: {"src": "hda", "id": dataset_id} for index, step in workflow_dict["steps"].items()
              if step.get("type") == "data_input"}
    try:
        invocation = gi.workflows.invoke_workflow(workflow_id, inputs=inputs, inputs_by="step_index",
                                                  history_id=history_id, allow_tool_state_corrections=False)
    except GalaxyError as error:
        return f"HTTP {error.status_code}: {error_summary(error)}"
    gi.invocations.cancel_invocation(invocation["id"])
    return None


def check(gi, path, history_id, dataset_id):
    """Failure lines for one workflow file (empty: it passes both checks)."""
    with open(path) as handle:
        workflow_dict = json.load(handle)
    try:
        workflow_id = gi.workflows.import_workflow_dict(workflow_dict)["id"]
    except GalaxyError as error:  # e.g. HTTP 500 when a conditional's saved value matches no case
        return [f"Galaxy cannot import it (HTTP {error.status_code}): {error_summary(error)} (the Galaxy log has "
                "the first error, e.g. 'No case matched value')"]
    try:
        failures = [f"Galaxy upgrades its saved state at {step}: {json.dumps(message)}"
                    for step, message in upgrade_messages(gi, workflow_id).items()]
        refusal = plain_invocation_refused(gi, workflow_id, workflow_dict, history_id, dataset_id)
        if refusal:
            failures.append(f"Galaxy refuses to run it without allow_tool_state_corrections: {refusal}")
    finally:
        gi.workflows.delete_workflow(workflow_id)
    return failures


def main(url, admin_key, paths):
    admin = GalaxyInstance(url=url, key=admin_key)
    user = GalaxyInstance(url=url, key=test_user_key(admin))
    history_id = user.histories.create_history(name="check_upgrade_messages (purged at the end)")["id"]
    failed = 0
    try:
        upload = user.tools.paste_content("1\t0\n", history_id, file_type="tabular")
        dataset_id = upload["outputs"][0]["id"]
        for path in paths:
            failures = check(user, path, history_id, dataset_id)
            failed += bool(failures)
            if failures:
                print(f"  FAIL {path}:")
                for failure in failures:
                    print(f"    {failure}")
            else:
                print(f"  PASS {path}: Galaxy loads it without upgrade messages and runs it without corrections")
    finally:
        user.histories.delete_history(history_id, purge=True)
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3:]))
