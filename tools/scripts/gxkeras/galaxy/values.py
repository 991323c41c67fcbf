"""Parsing the small typed values users type into text fields, without evaluating anything.

Galaxy text fields arrive as strings. Shapes such as ``(500,)`` or ``3, 3`` and extra keyword
arguments are parsed here as data (regular expressions and ``ast`` literals), never with ``eval``,
so a hostile string can only ever produce an error message.
"""
import ast
import math
import numbers
import re
from typing import Any, TypeGuard

from gxkeras.galaxy.errors import ToolInputError

_SHAPE_ITEM = re.compile(r"^(None|[0-9]{1,18})$")
# A whole number as text: ASCII digits only ('\u00b2'.isdigit() and '\u0663'.isdigit() are true; int() fails
# on the first and reads the second as 3), an optional minus, no spaces, underscores or plus signs.
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,19}")


def parse_int(text: object, what: str, minimum: int, maximum: int,
              error: type[ToolInputError] = ToolInputError) -> int:
    """``text`` (a str, or an int that is not a bool) as an int from ``minimum`` to ``maximum``.

    The one parser for whole numbers read from text that every tool uses (a table's cell, a VCF's POS,
    a vocabulary's index, a booster's ``num_feature``): what it accepts, every later step accepts too,
    and a value outside the range is refused here rather than wrapping round in an int32 or overflowing
    an int64. ``error`` is the exception to raise (e.g. :class:`gxkeras.galaxy.errors.ModelRefused`).
    """
    value: int | None = None
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    elif isinstance(text, str) and _WHOLE_NUMBER.fullmatch(text):
        value = int(text)
    if value is None or not minimum <= value <= maximum:
        shown = repr(text)[:40] if isinstance(text, str) else type(text).__name__ if value is None else str(value)[:40]
        raise error(f"{what}: {shown} is not a whole number from {minimum:,} to {maximum:,}")
    return value


MAX_SHOWN_CHARS = 60  # how much of a value a message quotes: enough to recognise it, never a whole upload


def shown(value: object) -> str:
    """``value`` as a message quotes it: its repr, at most :data:`MAX_SHOWN_CHARS` characters."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN_CHARS else text[:MAX_SHOWN_CHARS - 3] + "..."


def choice(value: object, options: "tuple[str, ...] | list[str]", what: str,
           error: type[ToolInputError] = ToolInputError) -> str:
    """``value`` if it is one of ``options``; otherwise the one message every "unknown X" is:
    ``{what}: unknown {value}; expected one of a, b, c``, the value quoted by :func:`shown`."""
    if isinstance(value, str) and value in options:
        return value
    raise error(f"{what}: unknown {shown(value)}; expected one of {', '.join(options)}")


# A number in decimal notation as text: ASCII digits, an optional minus, a point and an exponent (float() also
# takes 'nan', 'inf', '1_0', ' 1' and non-ASCII digits); at most MAX_DECIMAL_CHARS characters.
_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,4})?")
MAX_DECIMAL_CHARS = 64


def parse_float(text: object, what: str, minimum: float, maximum: float,
                error: type[ToolInputError] = ToolInputError, above_minimum: bool = False) -> float:
    """``text`` (a str in decimal notation, or an int or float that is not a bool) as a finite float from
    ``minimum`` (excluded when ``above_minimum``) to ``maximum``.

    :func:`parse_int`'s companion for numbers with a fraction: NaN and infinities are refused whatever the
    range, so that no later comparison or ``json.dumps(allow_nan=False)`` meets one.
    """
    value: float | None = None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text) if not isinstance(text, int) or abs(text) < 2 ** 1023 else None
    elif isinstance(text, str) and len(text) <= MAX_DECIMAL_CHARS and _DECIMAL.fullmatch(text):
        value = float(text)
    if value is None or not math.isfinite(value) or not (minimum < value if above_minimum else minimum <= value) \
            or value > maximum:
        shown = repr(text)[:40] if isinstance(text, str) else type(text).__name__ if value is None else str(value)[:40]
        bounds = f"greater than {minimum:g} and at most" if above_minimum else f"from {minimum:g} to"
        raise error(f"{what}: {shown} is not a number {bounds} {maximum:g}")
    return value


def parse_shape(text: object, what: str, allow_none: bool = False) -> tuple[int | None, ...]:
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


def parse_int_or_shape(text: object, what: str) -> int | tuple[int | None, ...]:
    """``3`` -> 3, ``3,3`` or ``(3, 3)`` -> (3, 3): the form of kernel, stride and pool sizes."""
    shape = parse_shape(text, what)  # None items refused
    return shape[0] if len(shape) == 1 and shape[0] is not None and "," not in str(text) else shape


_INT_PAIRS_TEXT = re.compile(r"^[\d\s,()\[\]]{1,200}$")
INT_PAIRS_EXPECTED = "an integer, a tuple of integers or a tuple of (before, after) pairs such as 1, (1, 2) or ((1, 0), (2, 2))"


def parse_int_pairs(text: object, what: str) -> Any:
    """``1`` -> 1, ``(1, 2)`` -> (1, 2), ``((1, 0), (2, 2))`` -> ((1, 0), (2, 2)): the cropping and
    zero padding of the Galaxy-ML tools' Cropping and ZeroPadding layers (integers of at least 0; the
    layer checks how many it needs). Only digits, commas and brackets reach ``ast.literal_eval``."""
    body = str(text if text is not None else "").strip()
    value: object = None
    if _INT_PAIRS_TEXT.match(body):
        try:
            value = ast.literal_eval(body)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            value = None

    def plain(item: object, depth: int) -> object:
        if isinstance(item, int) and item >= 0:
            return item
        if depth < 2 and isinstance(item, (list, tuple)) and item:
            items = tuple(plain(part, depth + 1) for part in item)
            return None if None in items else items
        return None

    result = plain(value, 0)
    if result is None:
        raise ToolInputError(f"{what} '{text}' is malformed: expected {INT_PAIRS_EXPECTED}")
    return result


_NOT_PLAIN = object()


def _plain(value: object) -> object:
    """``value`` with tuples as lists, or ``_NOT_PLAIN`` for anything but numbers, strings,
    True/False/None and lists of those (no dict, set, bytes or complex)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        items = [_plain(item) for item in value]
        return _NOT_PLAIN if any(item is _NOT_PLAIN for item in items) else items
    return _NOT_PLAIN


MAX_KWARGS_CHARS = 2000  # far more than a layer's arguments need; keeps the parser's work small
KWARGS_EXPECTED = "key=value pairs such as padding='same', strides=(2, 2), use_bias=False"


def parse_kwargs(text: str | None, what: str) -> dict[str, Any]:
    """Parse extra keyword arguments in the Galaxy-ML tools' syntax: ``key=value, key2=(1, 2)``.

    The text is parsed as the argument list of a call (``ast``, never evaluated) and each value
    with ``ast.literal_eval``: numbers, strings, True/False/None and tuples or lists of those.
    Dicts are refused: Keras would deserialize a ``{"class_name": ..., "module": ...}`` dict into
    an object, which is a way to reach code the form does not offer.
    """
    if text is None or not str(text).strip():
        return {}
    body = str(text).strip().rstrip(",")
    if len(body) > MAX_KWARGS_CHARS:
        raise ToolInputError(f"{what}: longer than {MAX_KWARGS_CHARS} characters; expected {KWARGS_EXPECTED}")
    try:
        call = ast.parse(f"f({body})", mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        call = None
    if (not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name) or call.func.id != "f"
            or call.args or any(keyword.arg is None for keyword in call.keywords)):
        raise ToolInputError(f"{what}: {body[:80]!r} is malformed: expected {KWARGS_EXPECTED}")  # repr: one line
    kwargs: dict[str, Any] = {}
    for keyword in call.keywords:
        name = str(keyword.arg)  # never None: refused above
        if name in kwargs:
            raise ToolInputError(f"{what}: '{name}' is given twice")
        try:
            plain = _plain(ast.literal_eval(keyword.value))
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            plain = _NOT_PLAIN
        if plain is _NOT_PLAIN:
            raise ToolInputError(f"{what}: the value of '{keyword.arg}' must be a number, 'string', True, False, None "
                                 "or a tuple or list of those")
        kwargs[name] = plain
    return kwargs


def is_count(value: object, minimum: int = 0, maximum: int | None = None) -> TypeGuard[int]:
    """Whether ``value`` is a whole number (a Python or numpy integer, not a bool) from ``minimum`` to ``maximum``
    (no upper bound when None): the one test of a stored count, size or index that is not text (text goes through
    :func:`parse_int`, which says what was wrong)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and minimum <= int(value) and (
        maximum is None or int(value) <= maximum)


def is_number(value: object) -> TypeGuard[int | float]:
    """Whether ``value`` is a finite number (a Python or numpy integer or float, not a bool): the one test of a
    stored number that is not text (text goes through :func:`parse_float`)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


# Booleans as the Galaxy-ML tools' forms wrote them (truevalue "booltrue") and as text.
BOOLEAN_TEXT = {"true": True, "booltrue": True, "false": False, "boolfalse": False}


def as_bool(value: object) -> object:
    """A form boolean: JSON true/false, or the text an older saved state holds ("booltrue", "false")."""
    return BOOLEAN_TEXT.get(value.lower(), value) if isinstance(value, str) else value


# Seeds go to NumPy and scikit-learn (``train_test_split``), which take 0 .. 2**32 - 1, and to
# TensorFlow and Keras, which take any of those: one range for every seed a form or model holds.
SEED_MAX = 2 ** 32 - 1


def check_seed(value: object, what: str) -> int | None:
    """``value`` as a seed (None when unset); refuse what NumPy or scikit-learn would refuse later.

    A negative or huge seed passes Keras but ends in a traceback from ``train_test_split`` after
    the data has been read; here it is one line naming the field.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= SEED_MAX:
        raise ToolInputError(f"{what} must be an integer from 0 to {SEED_MAX}, got {value!r}")
    return value


# Layer names become HDF5 group names when a model is saved and TensorFlow name scopes when it runs:
# ".", "" or a name longer than HDF5's attribute limit breaks saving, a space or "é" breaks training.
LAYER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def check_layer_name(name: object, what: str) -> None:
    if not isinstance(name, str) or not LAYER_NAME.fullmatch(name):
        raise ToolInputError(f"{what}: the layer name {str(name)[:40]!r} is not allowed: expected up to 100 "
                             "letters, digits, '_', '.' or '-', starting with a letter or digit")


def check_layer_names(config: dict[str, Any], label: str) -> None:
    """Every layer name of a Keras model config valid and used once (wrapped layers included)."""
    seen = set()
    for index, layer in enumerate(config.get("layers") or [], start=1):
        layer_config = layer.get("config") if isinstance(layer, dict) else None
        if not isinstance(layer_config, dict):
            continue
        name = layer_config.get("name")
        check_layer_name(name, f"{label}: layer {index}")
        if name in seen:
            raise ToolInputError(f"{label}: layer {index}: the name {name!r} is used by an earlier layer; "
                                 "layer names must be unique")
        seen.add(name)
        inner = layer_config.get("layer")
        if isinstance(inner, dict) and isinstance(inner.get("config"), dict) and "name" in inner["config"]:
            check_layer_name(inner["config"]["name"], f"{label}: layer {index} (the wrapped layer)")
