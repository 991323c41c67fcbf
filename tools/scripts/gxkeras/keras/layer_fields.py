"""Layer fields of the Galaxy-ML form whose names or values are not the Keras 3 arguments themselves.

The Galaxy-ML tools (keras_macros.xml) named a few fields after Keras 2 or their own syntax:
LeakyReLU's ``alpha`` (Keras 3: ``negative_slope``), ReLU's ``threshold_max_value``
(``threshold``), Dot's ``axis`` (``axes``), and PReLU's typed ``alpha_regularizer`` text
``(l1, l2)`` and ``alpha_constraint`` conditional. The names stay, so that saved workflows load
unchanged (docs/migration.md); this module turns them into the Keras arguments, checking each value.
"""
import sys
from typing import Any

from gxkeras.galaxy.errors import ToolInputError
from gxkeras.galaxy.values import as_bool, parse_float, parse_int, parse_shape

RENAMED = {"LeakyReLU": {"alpha": "negative_slope"}, "ReLU": {"threshold_max_value": "threshold"},
           "Dot": {"axis": "axes"}}
# PReLU's alpha_constraint conditional, flattened: its select and the constraint_options section.
CONSTRAINT_FIELDS = ("constraint_type", "max_value", "min_value", "rate_max_value", "axis")
AXIS_LIMIT = 2 ** 31


def keras_fields(keras: Any, layer_type: str, fields: dict[str, Any], label: str) -> dict[str, Any]:
    """``fields`` of one LAYER with the old form's names and values turned into Keras arguments."""
    fields = dict(fields)
    for old, new in RENAMED.get(layer_type, {}).items():
        if old in fields:
            fields[new] = fields.pop(old)
    if layer_type == "Dot":
        axes = integers(fields.get("axes"), f"{label}: axis", default=-1)
        if isinstance(axes, list) and len(axes) != 2:
            raise ToolInputError(f"{label}: axis '{fields['axes']}': expected one axis or two (one per input)")
        fields["axes"] = axes
        normalize = as_bool(fields.get("normalize", False))
        if not isinstance(normalize, bool):
            raise ToolInputError(f"{label}: normalize must be true or false, got {normalize!r}")
        fields["normalize"] = normalize
    if layer_type == "PReLU":
        fields = prelu_fields(keras, fields, label)
    return fields


def integers(text: object, what: str, default: int | None = None) -> int | list[int] | None:
    """``-1`` -> -1, ``[1, 2]`` or ``1, 2`` -> [1, 2] (axes may be negative); empty: ``default``. Each item
    in ASCII digits (``parse_int``: int('\u0663') is 3) and within int32, the type of a TensorFlow axis."""
    body = str(text if text is not None else "").strip()
    if not body.strip("[]() "):
        return default
    bracketed = body[:1] in "[(" and body[-1:] in "])"
    inner = body[1:-1] if bracketed else body
    items = [item.strip() for item in inner.split(",") if item.strip()]
    if not items:
        raise ToolInputError(f"{what} '{text}' is malformed: expected an integer or a list such as [1, 2]")
    numbers = [parse_int(item, what, -AXIS_LIMIT, AXIS_LIMIT - 1) for item in items]
    return numbers[0] if not bracketed and "," not in inner else numbers


def prelu_fields(keras: Any, fields: dict[str, Any], label: str) -> dict[str, Any]:
    """PReLU: ``alpha_initializer`` ``constant`` (0), ``alpha_regularizer`` ``(l1, l2)`` (both 0: none), the ``alpha_constraint``
    conditional, ``shared_axes`` ``[1, 2]`` (empty: a slope per input value)."""
    options = {name: fields.pop(name, None) for name in CONSTRAINT_FIELDS}
    if fields.get("alpha_initializer") == "constant":  # Keras 3 knows no default value for it by name
        fields["alpha_initializer"] = keras.initializers.Constant(0.0)
    penalties = regularizer_factors(fields.pop("alpha_regularizer", None), f"{label}: alpha_regularizer")
    if penalties:
        fields["alpha_regularizer"] = keras.regularizers.L1L2(*penalties)
    constraint = constraint_of(keras, options, f"{label}: alpha_constraint")
    if constraint is not None:
        fields["alpha_constraint"] = constraint
    shared = fields.pop("shared_axes", None)
    if str(shared or "").strip("[]() "):
        fields["shared_axes"] = list(parse_shape(shared, f"{label}: shared_axes"))
    return fields


def regularizer_factors(text: object, what: str) -> tuple[float, float] | None:
    """The old ``(l1, l2)`` text as two factors >= 0; None for ``(0., 0.)`` or empty (no penalty)."""
    body = str(text if text is not None else "").strip().strip("()[]")
    if not body.strip():
        return None
    items = [item.strip() for item in body.split(",")]
    if len(items) != 2:
        raise ToolInputError(f"{what} '{text}' is malformed: expected (l1, l2), two numbers such as (0.01, 0.)")
    l1 = parse_float(items[0], f"{what}: l1", 0, sys.float_info.max)
    l2 = parse_float(items[1], f"{what}: l2", 0, sys.float_info.max)
    return (l1, l2) if l1 or l2 else None


def constraint_of(keras: Any, options: dict[str, Any], what: str) -> Any:
    """The Keras constraint of the old conditional (``constraint_type`` and its options), or None."""
    kind = options.get("constraint_type") or "None"
    if kind == "None":
        return None
    if kind == "NonNeg":
        return keras.constraints.NonNeg()
    axis = integers(options.get("axis"), f"{what}: axis", default=0)
    numbers = {}
    for name in ("max_value", "min_value", "rate_max_value"):
        value = options.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
            raise ToolInputError(f"{what}: {name} must be a number of 0 or more, got {value!r}")
        numbers[name] = value
    if kind == "MaxNorm":
        return keras.constraints.MaxNorm(max_value=2.0 if numbers["max_value"] is None else numbers["max_value"],
                                         axis=axis)
    if kind == "UnitNorm":
        return keras.constraints.UnitNorm(axis=axis)
    if kind == "MinMaxNorm":
        given = {key: value for key, value in numbers.items() if value is not None}
        return keras.constraints.MinMaxNorm(min_value=given.get("min_value", 0.0), max_value=given.get("max_value", 1.0),
                                            rate=given.get("rate_max_value", 1.0), axis=axis)
    raise ToolInputError(f"{what}: unknown constraint_type {kind!r}; expected None, MaxNorm, NonNeg, UnitNorm or "
                         "MinMaxNorm")
