"""Parsing JSON from a user's dataset or model file with its nesting depth bounded.

Python's ``json`` (and Keras' deserializer after it) recurse once per level of nesting: a file of
100,000 ``[`` ends in a RecursionError traceback instead of an error line. The depth is counted
first with one linear scan (strings skipped), and JSON deeper than any model our tools write is
refused before it is parsed.
"""
import json
import re
from typing import Any

from gxkeras.galaxy.errors import ToolInputError

# A Keras 3 functional model is about 12 levels deep (model, layers, layer, inbound nodes, tensor,
# history); a Bidirectional wrapper adds 4. Keras' deserializer recurses several frames per level.
MAX_DEPTH = 64
_TOKENS = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]')


def depth(text: str) -> int:
    """The deepest nesting of ``[`` and ``{`` in ``text``, outside strings."""
    level = deepest = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":  # noqa: S105 (a JSON token, not a password)
            level += 1
            deepest = max(deepest, level)
        elif token in "]}":  # noqa: S105
            level -= 1
    return deepest


def loads(text: str | bytes | bytearray, what: str, expected: str = "valid JSON") -> Any:
    """``json.loads(text)``, refusing invalid or too deeply nested JSON with one line naming ``what``."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ToolInputError(f"{what}: not UTF-8 text, expected {expected}") from None
    found = depth(text)
    if found > MAX_DEPTH:
        raise ToolInputError(f"{what}: JSON nested {found} levels deep, more than the {MAX_DEPTH} a model can "
                             f"need; expected {expected}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ToolInputError(f"{what}: not valid JSON ({error.msg} at line {error.lineno}); "
                             f"expected {expected}") from None
    except ValueError as error:  # e.g. an integer of more than 4,300 digits
        raise ToolInputError(f"{what}: not valid JSON ({error}); expected {expected}") from None
