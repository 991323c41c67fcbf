"""Reading the parameters Galaxy writes with ``<configfiles><inputs name="inputs"/></configfiles>``.

Passing the form as one JSON file (instead of Cheetah-built command-line flags) means no form value
ever reaches a shell, and the scripts see typed values (int, float, bool, None) and the form's own
nesting: conditionals and sections become dicts, repeats become lists of dicts.
"""
import json
import os
from typing import Any

from gxkeras.galaxy.errors import ToolInputError

# Bookkeeping keys Galaxy adds to conditionals and repeats; they are not parameters.
GALAXY_KEYS = ("__current_case__", "__index__")


def load_inputs(path: str) -> dict[str, Any]:
    """Return the parameter dict from Galaxy's inputs JSON file."""
    try:
        with open(path) as handle:
            params = json.load(handle)
    except (OSError, ValueError) as error:
        raise ToolInputError(f"cannot read the tool parameters file {path}: {error}") from None
    if not isinstance(params, dict):
        raise ToolInputError(f"tool parameters file {path}: expected a JSON object")
    return params


def without_galaxy_keys(params: dict[str, Any] | None) -> dict[str, Any]:
    """A conditional's or repeat item's parameters (``{}`` for None), minus Galaxy's bookkeeping keys."""
    return {key: value for key, value in (params or {}).items() if key not in GALAXY_KEYS}


def flatten_sections(params: dict[str, Any]) -> dict[str, Any]:
    """Merge nested sections (dicts) into one flat dict of parameters, minus Galaxy's bookkeeping.

    Forms put rarely used options in collapsed sections ("Advanced options"); to the script they
    are just more parameters. Names are unique across a layer's sections by construction.
    """
    flat: dict[str, Any] = {}
    for key, value in without_galaxy_keys(params).items():
        if isinstance(value, dict):
            flat.update(flatten_sections(value))
        else:
            flat[key] = value
    return flat


def dataset_path(params: dict[str, Any], key: str) -> str:
    """The path of the form's dataset ``key``; ``""`` when none was given, which every reader refuses with
    "no dataset given" (:func:`check_dataset_path`)."""
    value = params.get(key)
    return value if isinstance(value, str) else ""


def check_dataset_path(path: str | None, label: str) -> None:
    """A dataset path must name a readable regular file: say so, naming the input, if it does not.

    Galaxy passes files, but a path edited in a job script, a composite dataset's folder or a
    deleted file would otherwise end in IsADirectoryError or FileNotFoundError deep in a reader.
    """
    if not path:
        raise ToolInputError(f"{label}: no dataset given")
    if os.path.isdir(path):
        raise ToolInputError(f"{label} ({path}): is a directory, expected a dataset file")
    if not os.path.isfile(path):
        raise ToolInputError(f"{label} ({path}): no such file, expected a dataset file")
    if not os.access(path, os.R_OK):
        raise ToolInputError(f"{label} ({path}): the file cannot be read (permission denied)")


def with_absolute_datasets(params: Any, names: tuple[str, ...]) -> tuple[Any, list[str]]:
    """``params`` with the value of every parameter called one of ``names`` (the form's datasets,
    :func:`gxkeras.galaxy.forms.dataset_params`) made absolute, wherever it is nested, and those paths.

    For a process that runs in another working directory and may read only the job's datasets
    (:mod:`gxkeras.modelfile.containment`): the form's names say which values are datasets, not what a value
    looks like, so no text a user typed becomes a readable path.
    """
    found: list[str] = []

    def absolute(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: (_dataset(item) if key in names and isinstance(item, str) else absolute(item))
                    for key, item in value.items()}
        if isinstance(value, list):
            return [absolute(item) for item in value]
        return value

    def _dataset(path: str) -> str:
        if not path:
            return path
        found.append(os.path.abspath(path))
        return found[-1]

    return absolute(params), found
