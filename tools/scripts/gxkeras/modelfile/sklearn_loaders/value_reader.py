"""The values of a galaxy-ml object graph other than objects: plain values, texts, containers, references to
classes (each checked against the allow-list), the memo that pickle refers back to, and the numeric arrays
(``-model_weights-``), object arrays and numpy scalars the graph points to, all read against the job's memory.

:class:`ValueReader` is the base of :mod:`gxkeras.modelfile.sklearn_loaders.reader`'s walk, which adds objects
(``-reduce-``): apart so that what a value may be, and how much of the file it may take, is read in one place.
"""
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import h5py
import numpy as np

from gxkeras.galaxy.errors import ModelRefused
from gxkeras.galaxy.memory import NO_LIMIT, available_memory, format_bytes
from gxkeras.modelfile.sklearn_loaders.classes import CLASSES, NUMPY_SCALARS
from gxkeras.modelfile.sklearn_loaders.ensembles import SAMPLER_PARTS
from gxkeras.modelfile.sklearn_loaders.linear import LossSpec
from gxkeras.modelfile.sklearn_loaders.loader import key_of
from gxkeras.modelfile.sklearn_loaders.structures import NODE_DTYPE, STRUCTURE

ARRAY_KINDS = "biuf"
OBJECT_ARRAY_ITEMS = 10 ** 6
INT64 = (-2 ** 63, 2 ** 63 - 1)  # a whole number beyond these overflows in numpy (OverflowError)


@dataclass(frozen=True)
class Global:
    """A class or function the description names (checked, not imported)."""
    module: str
    name: str

    @property
    def path(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(frozen=True)
class Planned:
    """An object the description would build (check pass), with its ``n_features_in_`` (None if unset) and,
    for an XGBoost booster, its number of classes."""
    what: Global
    n_features: object = None
    classes: int = 0


@dataclass(frozen=True)
class Owned:
    """A memo entry no other place may refer to again (an XGBoost booster and its bytes)."""


@dataclass(frozen=True)
class Discarded:
    """A memo entry for an object inside an attribute that is recomputed or dropped: checked, never built, and
    never to be referred to again (the object the file describes there is not the one the model uses)."""


# Memo entries that are the same whether a value is checked or built (texts, names, dtypes): still referable
# after an attribute that is never built was read.
PLAIN_MEMO = (str, bytes, frozenset, np.dtype)


@dataclass(frozen=True)
class SamplerPart:
    """A memo entry that only a sampler's own state may refer to again (a KMeans it keeps)."""
    found: Any


class ValueReader(ABC):
    """One walk over the description; ``build`` False checks, True makes the objects (:meth:`reduce`)."""

    def __init__(self, weights: h5py.Group | None, what: str, build: bool) -> None:
        self.weights, self.what, self.build = weights, what, build
        self.memo: list[Any] = []
        self.bytes_read = 0
        self.in_sampler = 0  # > 0 while a sampler's state is read (SAMPLER_PARTS are admitted there only)

    def fail(self, problem: str) -> Any:
        raise ModelRefused(f"{self.what}: {problem}; the file is refused unread")

    # ---- values -----------------------------------------------------------------------------
    def value(self, data: Any) -> Any:
        if isinstance(data, int) and not isinstance(data, bool) and not INT64[0] <= data <= INT64[1]:
            return self.fail(f"the number {str(data)[:40]} is outside the 64-bit range that numpy and scikit-learn use")
        if data is None or isinstance(data, (bool, int, float)):
            return data
        if isinstance(data, str):
            if not _encodable(data):
                return self.fail(f"the text {data[:40]!r} is not Unicode text (a lone surrogate), which no file "
                                 "galaxy-ml writes holds")
            self.memo.append(data)
            return data
        if isinstance(data, list):
            return [self.value(item) for item in data]
        if not isinstance(data, dict):
            return self.fail(f"unexpected value {str(data)[:60]!r} in the model's description")
        tags = [key for key in data if isinstance(key, str) and key.startswith("-") and key != "-keys-"]
        if not tags:
            return self.mapping(data)
        if len(data) != 1:
            return self.fail(f"a {tags[0][:40]} entry with other keys ({', '.join(sorted(map(str, data)))[:80]})")
        tag, inner = tags[0], data[tags[0]]
        if tag == "-memo-":
            found = self.memo_item(inner)
            if isinstance(found, LossSpec):
                return self.fail("a loss object is referred to a second time")
            return self.data_type(found) if isinstance(found, Global) else found
        if tag == "-bytes-" and isinstance(inner, str):
            found = inner.encode("utf-8")
            self.memo.append(found)
            return found
        if tag in ("-tuple-", "-set-") and isinstance(inner, list):
            return tuple(self.value(inner))  # galaxy-ml loads a set as a tuple too
        if tag == "-frozenset-" and isinstance(inner, list):
            found = frozenset(self.value(inner))
            self.memo.append(found)
            return found
        if tag == "-reduce-":
            return self.reduce(inner)
        if tag == "-np_ndarray-":
            return self.array(inner)
        if tag == "-np_ndarray_o_type-":
            return self.object_array(inner)
        if tag == "-np_datatype-":
            return self.scalar(inner)
        if tag == "-global-":
            return self.data_type(self.global_(inner))
        if tag == "-keras_model-":
            return self.fail("a Keras model is accepted only as the last step of a pipeline")
        return self.fail(f"{tag[:40]} entries (XGBoost models inside a scikit-learn object) are not accepted")

    def data_type(self, found: Global) -> Any:
        """A numpy scalar type as a value (e.g. OneHotEncoder's ``dtype``); no other class or function."""
        if key_of(found) not in NUMPY_SCALARS:
            self.fail(f"an attribute refers to {found.path}: classes and functions are not accepted as values")
        return getattr(np, found.name) if self.build else found

    def mapping(self, data: dict[str, Any], special: dict[str, Any] | None = None) -> dict[Any, Any]:
        """A dictionary; ``special`` reads the named entries its own way (a loader's ``readers``)."""
        special = special or {}
        keys = data.get("-keys-", [])
        if not isinstance(keys, list) or not all(isinstance(key, (str, int)) and not isinstance(key, bool)
                                                 for key in keys):
            return self.fail("a dictionary's -keys- is not a list of names")
        if set(data) - {"-keys-"} != {str(key) for key in keys} or len(set(map(str, keys))) != len(keys):
            return self.fail("a dictionary's entries do not match its -keys-")
        return {key: special.get(key, self.value)(data[str(key)]) for key in keys}

    def memo_item(self, index: object) -> Any:
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(self.memo):
            return self.fail(f"-memo- {str(index)[:20]} refers to nothing read before it")
        found = self.memo[index]
        if isinstance(found, Discarded):
            return self.fail("a -memo- refers to an object inside an attribute that is recomputed or dropped")
        if isinstance(found, Owned):
            return self.fail("an XGBoost booster is referred to a second time")
        if isinstance(found, SamplerPart):
            if not self.in_sampler:
                return self.fail("a part of a sampler (its KMeans) is referred to outside the sampler")
            return found.found
        return found

    def global_(self, data: object) -> Global:
        if not (isinstance(data, list) and len(data) == 2 and all(isinstance(part, str) for part in data)):
            self.fail("a -global- is not a [module, name] pair")
        found = Global(*data)  # type: ignore[misc]
        key = (found.module, found.name)
        if key not in CLASSES | NUMPY_SCALARS | STRUCTURE and not (self.in_sampler and key in SAMPLER_PARTS):
            self.fail(f"the model names {found.path[:120]}, which is not one of the scikit-learn classes "
                      "this tool accepts (see its help)")
        self.memo.append(found)
        return found

    def named(self, data: object, allowed: Any, what: str) -> Global:
        """A class or function allowed in one place only (a loss class, a score_func), never elsewhere."""
        if isinstance(data, dict) and set(data) == {"-global-"} and isinstance(data["-global-"], list) \
                and len(data["-global-"]) == 2 and all(isinstance(part, str) for part in data["-global-"]):
            found = Global(*data["-global-"])
            if key_of(found) not in allowed:
                self.fail(f"{what} names {found.path[:120]}, expected one of "
                          f"{', '.join(sorted(name for _, name in allowed))}")
            self.memo.append(found)
            return found
        if isinstance(data, dict) and set(data) == {"-memo-"}:
            found = self.memo_item(data["-memo-"])
            if isinstance(found, Global) and key_of(found) in allowed:
                return found
        return self.fail(f"{what} is not one of {', '.join(sorted(name for _, name in allowed))}")

    def reference(self, data: object) -> Global:
        """A class or function in one of pickle's own places: a -global- or a -memo- of one."""
        if isinstance(data, dict) and set(data) == {"-global-"}:
            return self.global_(data["-global-"])
        if isinstance(data, dict) and set(data) == {"-memo-"}:
            found = self.memo_item(data["-memo-"])
            if isinstance(found, Global):
                return found
        return self.fail("a -reduce- calls something that is not a named class")
    @abstractmethod
    def reduce(self, data: object) -> Any:
        """An object (``-reduce-``): checked, or made (the graph reader's)."""

    # ---- arrays -----------------------------------------------------------------------------
    def array(self, index: object) -> np.ndarray:
        dataset = self.weights.get(str(index)) if self.weights is not None and isinstance(index, int) else None
        if not isinstance(dataset, h5py.Dataset):
            return self.fail(f"array {str(index)[:20]} is missing from -model_weights-")
        if not (dataset.dtype.kind in ARRAY_KINDS and dataset.dtype.itemsize <= 8 or dataset.dtype == NODE_DTYPE):
            return self.fail(f"array {index} holds {str(dataset.dtype)[:80]}, expected numbers")
        self.count_bytes(int(np.prod(dataset.shape, dtype=np.int64)) * dataset.dtype.itemsize)
        return dataset[()]

    def count_bytes(self, size: int) -> None:
        """``size`` more bytes of arrays made from the file: all of them together must fit the job's memory."""
        self.bytes_read += size
        if self.bytes_read > (available_memory() or NO_LIMIT) // 2:
            self.fail(f"its arrays hold more than {format_bytes(self.bytes_read)}, more than the job's memory allows")

    def object_array(self, data: object) -> np.ndarray:
        """Labels or categories saved as text (numpy's U or O dtypes): plain values only, never objects."""
        if not (isinstance(data, dict) and set(data) == {"-dtype-", "-values-"}):
            return self.fail("an object array is not (dtype, values)")
        dtype = self.value(data["-dtype-"])
        if not isinstance(dtype, np.dtype):
            return self.fail("an object array's dtype is not a numpy dtype")
        count = _plain_count(data["-values-"])
        if count is None or count > OBJECT_ARRAY_ITEMS:
            return self.fail("an object array holds something other than numbers and texts")
        # a text dtype of n characters takes 4n bytes an item whatever the texts are: 3,000 one-letter texts as
        # U999999 asked for 11 GB
        self.count_bytes(count * dtype.itemsize)
        values = self.value(data["-values-"])
        return np.array(values, dtype=dtype)

    def scalar(self, data: object) -> Any:
        if not (isinstance(data, dict) and set(data) == {"-datatype-", "-value-"}):
            return self.fail("a numpy scalar is not (datatype, value)")
        kind = self.reference(data["-datatype-"])
        value = data["-value-"]
        if (kind.module, kind.name) not in NUMPY_SCALARS or not isinstance(value, (bool, int, float)):
            return self.fail(f"a numpy scalar of {kind.path[:80]} is not a plain number")
        dtype = np.dtype(getattr(np, kind.name))
        if not _fits(value, dtype):
            return self.fail(f"a numpy {kind.name} holds {str(value)[:40]}, which that type cannot hold")
        return getattr(np, kind.name)(value) if self.build else value


def _encodable(text: str) -> bool:
    """Whether a text is Unicode text (JSON's ``\\ud800`` escapes give lone surrogates, which no output can write)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _fits(value: bool | int | float, dtype: np.dtype) -> bool:
    """Whether numpy's ``dtype`` holds ``value`` as it is (no overflow, no float made infinite)."""
    if dtype.kind in "iu":
        return not isinstance(value, float) and np.iinfo(dtype).min <= value <= np.iinfo(dtype).max
    if dtype.kind == "f":
        return not np.isfinite(value) or abs(value) <= np.finfo(dtype).max
    return isinstance(value, bool) or value in (0, 1)


def _plain_count(values: object) -> int | None:
    """How many plain values (numbers, texts, None) a nested list holds; None if anything else."""
    count, stack = 0, [values]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif item is None or isinstance(item, (bool, int, float, str)):
            count += 1
        else:
            return None
    return count
