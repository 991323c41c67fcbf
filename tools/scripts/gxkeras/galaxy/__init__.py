"""Galaxy's contract, the bottom layer: a job's inputs and form, the values typed into it, its memory and its outputs.

What the tool scripts use is re-exported here (``from gxkeras.galaxy import ToolInputError, choice``); ``forms``
and ``safe_json`` are used as modules. This layer imports nothing else of gxkeras (tests/test_layers.py), and no
numpy when imported: the contained process (gxkeras.modelfile.containment) locks itself down before any thread starts.
"""
from gxkeras.galaxy import forms, safe_json
from gxkeras.galaxy.errors import ModelRefused, ToolInputError, first_line, output_paths, run_tool
from gxkeras.galaxy.input_types import input_type
from gxkeras.galaxy.inputs import check_dataset_path, dataset_path, flatten_sections, load_inputs, without_galaxy_keys
from gxkeras.galaxy.memory import check_allocation, format_bytes
from gxkeras.galaxy.outputs import atomic_output, move_into_place, number_cells, number_text
from gxkeras.galaxy.values import (
    as_bool, check_layer_name, check_seed, choice, is_count, is_number, parse_float, parse_int, parse_int_or_shape,
    parse_int_pairs, parse_kwargs, parse_shape, shown,
)

__all__ = [
    "ModelRefused", "ToolInputError", "as_bool", "atomic_output", "check_allocation", "check_dataset_path",
    "check_layer_name", "check_seed", "choice", "dataset_path", "first_line", "flatten_sections", "format_bytes", "forms",
    "input_type", "is_count", "is_number", "load_inputs", "move_into_place", "number_cells", "number_text",
    "output_paths", "parse_float", "parse_int", "parse_int_or_shape", "parse_int_pairs", "parse_kwargs",
    "parse_shape", "run_tool", "safe_json", "shown", "without_galaxy_keys",
]
