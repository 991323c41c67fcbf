"""A fitted numpy ``RandomState`` in a galaxy-ml file: read in the one place it is kept, never called.

MiniBatchDictionaryLearning (``_random_state``) and LatentDirichletAllocation (``random_state_``) keep
the generator they fitted with; neither uses it to transform. pickle writes it as calls of
``numpy.random._pickle.__randomstate_ctor`` and ``__bit_generator_ctor`` on ``MT19937``. Here that exact
shape is required (:func:`read_random_state`), its state checked to be MT19937's (624 uint32 key words,
a position, a cached Gaussian) and a new ``numpy.random.RandomState`` is given that state: the functions
the file names are never imported. Memo entries are taken in the order the rest of the reader takes them
(a call's function, its arguments, its state, then its result), so later references stay in place.
"""
from collections.abc import Callable
from typing import Any

import numpy as np

RANDOM_STATE_OWNERS = {("sklearn.decomposition._dict_learning", "MiniBatchDictionaryLearning"): "_random_state",
                       ("sklearn.decomposition._lda", "LatentDirichletAllocation"): "random_state_"}
_PICKLE = "numpy.random._pickle"
RANDOM_STATE_CTOR = (_PICKLE, "__randomstate_ctor")
BIT_GENERATOR_CTOR = (_PICKLE, "__bit_generator_ctor")
MT19937 = ("numpy.random._mt19937", "MT19937")


def _call(data: object) -> dict[str, Any] | None:
    reduce = data.get("-reduce-") if isinstance(data, dict) and set(data) == {"-reduce-"} else None
    args = reduce.get("-args-") if isinstance(reduce, dict) and set(reduce) == {"--func-", "-args-", "-state-"} else None
    ok = isinstance(args, dict) and set(args) == {"-tuple-"} and isinstance(args["-tuple-"], list) and len(args["-tuple-"]) == 1
    return reduce if ok else None


def _mt_state(state: object) -> tuple[np.ndarray, int] | None:
    """MT19937's ``{"key": 624 uint32 words, "pos": 0..624}``."""
    if not (isinstance(state, dict) and set(state) == {"key", "pos"}):
        return None
    key, pos = state["key"], state["pos"]
    if not (isinstance(key, np.ndarray) and key.dtype == np.uint32 and key.shape == (624,)
            and isinstance(pos, int) and not isinstance(pos, bool) and 0 <= pos <= 624):
        return None
    return key, pos


def read_random_state(reader: Any, what: str) -> Callable[[object], Any]:
    """The reader of a fitted RandomState attribute (``reader`` is sklearn_io's ``_Reader``)."""
    def read(data: object) -> Any:
        outer = _call(data)
        inner = _call(outer["-args-"]["-tuple-"][0]) if outer else None
        if not (outer and inner):
            return reader.fail(f"{what} is not a numpy RandomState")
        reader.named(outer["--func-"], {RANDOM_STATE_CTOR}, what)
        reader.named(inner["--func-"], {BIT_GENERATOR_CTOR}, what)
        reader.named(inner["-args-"]["-tuple-"][0], {MT19937}, what)
        bit_state = reader.value(inner["-state-"])
        reader.memo.append(None)  # the bit generator
        state = reader.value(outer["-state-"])
        if not (isinstance(bit_state, tuple) and len(bit_state) == 2 and bit_state[1] is None
                and isinstance(bit_state[0], dict) and bit_state[0].get("bit_generator") == "MT19937"
                and set(bit_state[0]) == {"bit_generator", "state"} and _mt_state(bit_state[0]["state"])
                and isinstance(state, dict) and set(state) == {"bit_generator", "gauss", "has_gauss", "state"}
                and state["bit_generator"] == "MT19937" and state["has_gauss"] in (0, 1)
                and isinstance(state["gauss"], float) and _mt_state(state["state"])):
            return reader.fail(f"{what} is not an MT19937 RandomState's state")
        found = None
        if reader.build:
            key, pos = _mt_state(state["state"])  # type: ignore[misc]
            found = np.random.RandomState()
            found.set_state(("MT19937", key, pos, state["has_gauss"], state["gauss"]))
        reader.memo.append(found)
        return found
    return read


def random_state_reader(attribute: str) -> Callable[[Any, Any], Callable[[object], Any]]:
    """The reader factory of a class's fitted RandomState ``attribute`` (a loader's ``readers`` entry)."""
    return lambda reader, cls: read_random_state(reader, f"the {cls.name}'s {attribute}")
