"""Rewrite keras_model_builder steps saved with the Galaxy-ML 0.5.0 form (1.0.8.x) into our layout.

    .venv-galaxy/bin/python migrate/convert_old_builder_states.py OLD.ga NEW.ga

keras_model_builder 0.5.0 saved the optimizer's options as ``optimizer_options|lr`` and ``decay``
(``schedule_decay`` for Nadam); 1.0.10 and ours (the layout of the GTN workflows) have
``learning_rate`` and further options (``epsilon``, ``centered`` ...). On import Galaxy would drop
``lr`` and ``decay`` and report "No value found" for the rest. This moves ``lr`` to ``learning_rate``
and gives the options 0.5.0 did not have the value that means "the optimizer's default" (empty;
false for a boolean), which is what the old tool ran with. What cannot be carried is said, one line
each, and then nothing is written (exit 1), unless ``--drop-uncarried``:

- a non-zero ``decay`` (Keras 2: lr / (1 + decay * iterations)): Keras 3 calls it an
  InverseTimeDecay schedule, which galaxy-ml 0.11's estimators cannot store;
- Nadam's ``schedule_decay``: Keras 3's Nadam has a fixed momentum schedule;
- ``get_params`` set (0.5.0 only; no such output here). ``mode_type: prefitted`` loads as it is.

Every other step and key is copied as it is.
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools" / "scripts"))
from gxkeras.galaxy import forms# noqa: E402 (the scripts' package: the form is the one source of its options)

BOOLEAN_OPTIONS = {"centered", "nesterov", "amsgrad"}


def convert_builder_state(state, step):
    """Convert one keras_model_builder tool state in place; return (changes, problems) as text lines."""
    changes, problems = [], []
    mode = state.get("mode_selection") or {}
    if mode.pop("get_params", False) in (True, "true", "True"):
        problems.append(f"step {step}: get_params (0.5.0: an extra parameters output) is not offered")
    selection = (mode.get("compile_params") or {}).get("optimizer_selection") or {}
    options = selection.get("optimizer_options")
    if not isinstance(options, dict) or "lr" not in options:
        return changes, problems  # not a 0.5.0 optimizer state
    options["learning_rate"] = options.pop("lr")
    changes.append(f"step {step}: optimizer_options|lr -> learning_rate ({options['learning_rate']})")
    decay = options.pop("decay", None)
    if decay not in (None, "", 0, "0", "0.0", 0.0):
        problems.append(f"step {step}: optimizer_options|decay {decay} (lr / (1 + decay * iterations)) cannot be "
                        "carried to Keras 3 by this suite")
    if "schedule_decay" in options:
        problems.append(f"step {step}: Nadam's schedule_decay {options.pop('schedule_decay')} cannot be carried: "
                        "Keras 3's Nadam has a fixed momentum schedule")
    name = str(selection.get("optimizer_type", "")).lower()
    ours = {key.lower(): args for key, args in forms.when_params("keras_model_builder", "optimizer_type").items()}
    for arg in ours.get(name, ()):
        if arg not in options:
            options[arg] = False if arg in BOOLEAN_OPTIONS else None
            changes.append(f"step {step}: optimizer_options|{arg} added as the optimizer's default")
    return changes, problems


def convert_workflow(workflow):
    """Convert every keras_model_builder step of a workflow dict in place; return (changes, problems)."""
    changes, problems = [], []
    for step, item in workflow.get("steps", {}).items():
        if not str(item.get("tool_id") or "").endswith("keras_model_builder"):
            continue
        raw = item.get("tool_state")
        state = json.loads(raw) if isinstance(raw, str) else raw
        more_changes, more_problems = convert_builder_state(state, step)
        changes += more_changes
        problems += more_problems
        item["tool_state"] = json.dumps(state) if isinstance(raw, str) else state
    return changes, problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", help="a workflow (.ga) saved with the Galaxy-ML tools")
    parser.add_argument("new", help="where to write the converted workflow")
    parser.add_argument("--drop-uncarried", action="store_true",
                        help="write the workflow even if some old settings cannot be carried (they are dropped)")
    args = parser.parse_args(argv)
    workflow = json.loads(Path(args.old).read_text())
    changes, problems = convert_workflow(workflow)
    for line in changes:
        print(line)
    for line in problems:
        print(f"cannot carry: {line}", file=sys.stderr)
    if problems and not args.drop_uncarried:
        print("nothing written (use --drop-uncarried to write it without those settings)", file=sys.stderr)
        return 1
    Path(args.new).write_text(json.dumps(workflow, indent=4) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
