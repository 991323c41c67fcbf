"""Parsing the small typed values users type into text fields, without evaluating anything.

Galaxy text fields arrive as strings. Shapes such as ``(500,)`` or ``3, 3`` and extra keyword
arguments are parsed here as data (regular expressions and ``json``), never with ``eval``, so a
hostile string can only ever produce an error message.
"""
import json
import re

from gxkeras.errors import ToolInputError

_SHAPE_ITEM = re.compile(r"^(None|\d+)$")


def parse_shape(text, what, allow_none=False):
    """Parse ``(500,)``, ``500``, ``28, 28, 1`` or ``[28, 28]`` into a tuple of positive ints.

    ``allow_none`` admits ``None`` items, for a variable-length dimension of an input.
    """
    expected = "a tuple of positive integers such as (500,) or (28, 28, 1)"
    if text is None or not str(text).strip():
        raise ToolInputError(f"{what} is empty: expected {expected}")
    body = str(text).strip()
    if body[:1] in "([" and body[-1:] in ")]":
        body = body[1:-1]
    items = [item.strip() for item in body.split(",")]
    if items and items[-1] == "":
        items.pop()  # the trailing comma of a one-element tuple
    if not items or not all(_SHAPE_ITEM.match(item) for item in items):
        raise ToolInputError(f"{what} '{text}' is malformed: expected {expected}")
    shape = tuple(None if item == "None" else int(item) for item in items)
    if any(dim is None for dim in shape) and not allow_none:
        raise ToolInputError(f"{what} '{text}': None is not allowed here, expected {expected}")
    if any(dim is not None and dim < 1 for dim in shape):
        raise ToolInputError(f"{what} '{text}': dimensions must be positive, expected {expected}")
    return shape


def parse_int_or_shape(text, what):
    """``3`` -> 3, ``3,3`` or ``(3, 3)`` -> (3, 3): the form of kernel, stride and pool sizes."""
    shape = parse_shape(text, what)
    return shape[0] if len(shape) == 1 and "," not in str(text) else shape


def _is_plain_json_value(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return True
    return isinstance(value, list) and all(_is_plain_json_value(item) for item in value)


def parse_kwargs(text, what):
    """Parse extra keyword arguments given as a JSON object of plain values.

    Nested objects are refused: Keras would deserialize a ``{"class_name": ..., "module": ...}``
    dict into an object, which is a way to reach code the form does not offer.
    """
    if text is None or not str(text).strip():
        return {}
    try:
        kwargs = json.loads(text)
    except ValueError as error:
        raise ToolInputError(
            f"{what} is not valid JSON ({error.msg} at character {error.pos}): "
            'expected an object such as {"use_bias": false}'
        ) from None
    if not isinstance(kwargs, dict):
        raise ToolInputError(f'{what}: expected a JSON object such as {{"use_bias": false}}')
    for key, value in kwargs.items():
        if not _is_plain_json_value(value):
            raise ToolInputError(
                f"{what}: the value of '{key}' must be a number, string, true/false, null "
                "or a list of those"
            )
    return kwargs
