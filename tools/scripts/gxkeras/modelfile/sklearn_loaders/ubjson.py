"""UBJSON, as XGBoost serialises a booster, parsed by us with every length bounded: XGBoost's own parser never
sees an uploaded booster's bytes (:mod:`gxkeras.modelfile.sklearn_loaders.xgboost`).

Bounded: every length is checked against the bytes left before anything is read or allocated, and the nesting
depth is limited (a 5,000-deep document would exhaust Python's stack). Only what XGBoost writes is accepted:
objects, arrays (typed arrays of numbers among them), strings, numbers, booleans and null.
"""
import struct
from typing import Any

MAX_DEPTH = 16  # XGBoost's model is 6 levels deep
# UBJSON scalar markers XGBoost writes: struct format (big-endian) of each.
_NUMBERS = {b"i": ">b", b"U": ">B", b"I": ">h", b"l": ">i", b"L": ">q", b"d": ">f", b"D": ">d"}


class UBJSONError(ValueError):
    """The bytes are not the UBJSON XGBoost writes."""


def parse_ubjson(data: bytes) -> Any:
    """The value UBJSON ``data`` holds (objects, arrays, typed arrays, strings, numbers, booleans)."""
    value, end = _value(data, 0, 0)
    if end != len(data):
        raise UBJSONError(f"{len(data) - end} bytes after the model")
    return value


def _take(data: bytes, position: int, size: int) -> tuple[bytes, int]:
    if size < 0 or position + size > len(data):
        raise UBJSONError("a length runs past the end of the data")
    return data[position:position + size], position + size


def _number(data: bytes, position: int, marker: bytes) -> tuple[Any, int]:
    fmt = _NUMBERS[marker]
    raw, position = _take(data, position, struct.calcsize(fmt))
    return struct.unpack(fmt, raw)[0], position


def _length(data: bytes, position: int) -> tuple[int, int]:
    marker, position = _take(data, position, 1)
    if marker not in (b"i", b"U", b"I", b"l", b"L"):
        raise UBJSONError("a length is not an integer")
    return _number(data, position, marker)


def _value(data: bytes, position: int, depth: int, marker: bytes | None = None) -> tuple[Any, int]:
    if depth > MAX_DEPTH:
        raise UBJSONError("nested too deeply")
    if marker is None:
        marker, position = _take(data, position, 1)
    if marker in _NUMBERS:
        return _number(data, position, marker)
    if marker in (b"T", b"F"):
        return marker == b"T", position
    if marker == b"Z":
        return None, position
    if marker == b"S":
        size, position = _length(data, position)
        raw, position = _take(data, position, size)
        return raw.decode("utf-8"), position
    if marker == b"[":
        return _array(data, position, depth)
    if marker == b"{":
        found: dict[str, Any] = {}
        while True:
            if data[position:position + 1] == b"}":
                return found, position + 1
            size, position = _length(data, position)
            raw, position = _take(data, position, size)
            found[raw.decode("utf-8")], position = _value(data, position, depth + 1)
    raise UBJSONError(f"unknown marker {marker!r}")


def _array(data: bytes, position: int, depth: int) -> tuple[list[Any], int]:
    if data[position:position + 1] == b"$":  # a typed array: [$type#count values...
        marker, position = _take(data, position + 1, 1)
        hash_mark, position = _take(data, position, 1)
        if marker not in _NUMBERS or hash_mark != b"#":
            raise UBJSONError("a typed array of other than numbers")
        count, position = _length(data, position)
        fmt = _NUMBERS[marker]
        raw, position = _take(data, position, count * struct.calcsize(fmt))
        return list(struct.unpack(f">{count}{fmt[1]}", raw)), position
    found = []
    if data[position:position + 1] == b"#":  # [#count values... (no end marker)
        count, position = _length(data, position + 1)
        if count < 0 or count > len(data) - position:
            raise UBJSONError("an array counts more values than there are bytes")
        for _ in range(count):
            item, position = _value(data, position, depth + 1)
            found.append(item)
        return found, position
    while True:
        if data[position:position + 1] == b"]":
            return found, position + 1
        if position >= len(data):
            raise UBJSONError("an array runs past the end of the data")
        item, position = _value(data, position, depth + 1)
        found.append(item)
