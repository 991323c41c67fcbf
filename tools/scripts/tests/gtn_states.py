"""The tool states the GTN deep-learning workflows (``workflows/gtn/``) saved with the Galaxy-ML tools.

The tests run our scripts on exactly these states, to show they keep their meaning. A saved state
holds numbers as text ("0.001", "10"); Galaxy hands a job typed values, so numbers are converted the
way Galaxy's integer and float parameters would.
"""
import json
import re

from repo_paths import ROOT

GTN = ROOT / "workflows" / "gtn"
WORKFLOWS = {"FNN": "Intro_To_FNN_latest.ga", "RNN": "Intro_To_RNN_v1_0_10_0.ga", "CNN": "Intro_To_CNN_v1_0_11_0.ga"}
_NUMBER = re.compile(r"^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def _typed(value):
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    if isinstance(value, str) and _NUMBER.match(value):
        return int(value) if re.fullmatch(r"-?\d+", value) else float(value)
    return value


def saved_state(tutorial, tool_id):
    """The typed tool state of the (only) step of ``tool_id`` in the tutorial's workflow."""
    workflow = json.loads((GTN / WORKFLOWS[tutorial]).read_text())
    steps = [step for step in workflow["steps"].values() if (step.get("tool_id") or "").endswith(tool_id)]
    assert len(steps) == 1, (tutorial, tool_id)
    state = steps[0]["tool_state"]
    return _typed(json.loads(state) if isinstance(state, str) else state)
