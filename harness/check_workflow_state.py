"""Fail when a running Galaxy has to upgrade the saved tool state of a workflow.

    python harness/check_workflow_state.py GALAXY_URL ADMIN_KEY WORKFLOW.ga ...

A workflow whose saved step state lacks a parameter the tool now has (a new section, an optional input)
still runs, but Galaxy silently fills in the tool's default and shows "upgrade messages" in the editor.
The workflow test cannot see that, so this imports each workflow (as planemo's test user) and asks
Galaxy's editor view for its upgrade messages: any message is a failure, printed per step.
"""
import json
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


def upgrade_messages(gi, workflow_dict):
    """{step label or index: message} of the workflow once Galaxy has loaded it."""
    workflow_id = gi.workflows.import_workflow_dict(workflow_dict)["id"]
    try:
        # The editor's view lists, per step, the parameters Galaxy had to add or fix and tool version changes.
        editor = gi.workflows._get(f"{workflow_id}/download", params={"style": "editor"})
    finally:
        gi.workflows.delete_workflow(workflow_id)
    messages = {}
    for index, message in (editor.get("upgrade_messages") or {}).items():
        step = editor["steps"].get(str(index), {})
        messages[step.get("label") or f"step {index}"] = message
    return messages


def main(url, admin_key, paths):
    admin = GalaxyInstance(url=url, key=admin_key)
    user = GalaxyInstance(url=url, key=test_user_key(admin))
    failed = 0
    for path in paths:
        with open(path) as handle:
            try:
                messages = upgrade_messages(user, json.load(handle))
            except GalaxyError as error:  # e.g. HTTP 500 when a conditional's saved value matches no case
                failed += 1
                print(f"  FAIL {path}: Galaxy cannot import it (HTTP {error.status_code}): {str(error.body)[:300]}")
                continue
        if messages:
            failed += 1
            print(f"  FAIL {path}: Galaxy upgrades its saved state:")
            for step, message in messages.items():
                print(f"    {step}: {json.dumps(message)}")
        else:
            print(f"  PASS {path}: Galaxy loads it without upgrade messages")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3:]))
