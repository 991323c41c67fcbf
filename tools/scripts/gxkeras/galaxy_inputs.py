"""Reading the parameters Galaxy writes with ``<configfiles><inputs name="inputs"/></configfiles>``.

Passing the form as one JSON file (instead of Cheetah-built command-line flags) means no form value
ever reaches a shell, and the scripts see typed values (int, float, bool, None) and the form's own
nesting: conditionals and sections become dicts, repeats become lists of dicts.
"""
import json

from gxkeras.errors import ToolInputError

# Bookkeeping keys Galaxy adds to conditionals and repeats; they are not parameters.
GALAXY_KEYS = ("__current_case__", "__index__")


def load_inputs(path):
    """Return the parameter dict from Galaxy's inputs JSON file."""
    try:
        with open(path) as handle:
            params = json.load(handle)
    except (OSError, ValueError) as error:
        raise ToolInputError(f"cannot read the tool parameters file {path}: {error}") from None
    if not isinstance(params, dict):
        raise ToolInputError(f"tool parameters file {path}: expected a JSON object")
    return params


def flatten_sections(params):
    """Merge nested sections (dicts) into one flat dict of parameters, minus Galaxy's bookkeeping.

    Forms put rarely used options in collapsed sections ("Advanced options"); to the script they
    are just more parameters. Names are unique across a layer's sections by construction.
    """
    flat = {}
    for key, value in params.items():
        if key in GALAXY_KEYS:
            continue
        if isinstance(value, dict):
            flat.update(flatten_sections(value))
        else:
            flat[key] = value
    return flat
