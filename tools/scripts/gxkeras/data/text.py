"""Text -> word-index sequences with the conventions of ``keras.datasets.imdb`` and the old Keras Tokenizer.

Keras 3 dropped ``keras.preprocessing.text.Tokenizer``; its replacement, ``TextVectorization``, numbers
words differently (0 padding, 1 OOV, then by frequency) and cannot reproduce the IMDB dataset's
sequences. This module reimplements the documented behaviour in plain Python:

- tokens (``text_to_word_sequence``): lower-case, replace each separator character by a space, split on
  spaces, drop empty tokens;
- vocabulary (``Tokenizer.fit_on_texts``): words ranked by count, most frequent first, ties in order of
  first appearance; rank 1 is the most frequent word (the Keras IMDB word index uses the same ranks);
- indices (``keras.datasets.imdb.load_data``): each text becomes ``[start_char] + [rank + index_from]``;
  every value outside ``[skip_top, num_words)``, the start marker included, becomes ``oov_char``
  (or is dropped when there is no ``oov_char``); words missing from the vocabulary are dropped, or
  become ``oov_char`` if asked;
- length (``pad_sequences``): padded with 0 and truncated to ``maxlen``, at the front ("pre") or the
  end ("post").

Speed matters (25,000 reviews, 6 million tokens): the per-token work is C code (``str.translate``,
``str.split``, pandas' ``factorize`` hashing each token once, numpy for counts and placement), and each
word's final integer is computed once per distinct word, not once per occurrence.
"""
import dataclasses
import string
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from gxkeras.galaxy.errors import ToolInputError
from gxkeras.galaxy.memory import check_allocation
from gxkeras.galaxy.values import choice, parse_int

# Keras' Tokenizer / text_to_word_sequence default, without tab and newline: a tabular cell cannot hold
# them, and they are always separators here.
DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~'
ALWAYS_SEPARATORS = " \t\n"
# "unicode": str.lower, as Keras' Tokenizer. "ascii": only A-Z, which is how the Keras IMDB word index
# and its sequences were made (str.lower gives 24,985 of the 25,000 training rows; docs/results.md).
LOWER_OPTIONS = ("unicode", "ascii", "none")
UNKNOWN_OPTIONS = ("drop", "oov")
SIDES = ("pre", "post")
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
# Decode markers for the reserved indices (Keras' own IMDB decoding example uses "?" for all of them).
START_MARK, OOV_MARK = "<START>", "<OOV>"
# Word indices are int32, the type of the encoded rows and of an Embedding's input: a larger index (a
# rank, start_char, oov_char, index_from + rank) would wrap round into another, valid, word's index.
INDEX_MAX = 2 ** 31 - 1
# The form's labels of the options that size or number the output, for error lines.
LABELS = {"maxlen": "maxlen: word indices per text", "num_words": "num_words: indices kept",
          "skip_top": "skip_top: indices below this become oov_char", "start_char": "start_char",
          "oov_char": "oov_char", "index_from": "index_from: added to each word's rank"}


@dataclass(frozen=True)
class Settings:
    """The options of keras.datasets.imdb.load_data + pad_sequences + Tokenizer, with their defaults.

    ``num_words``/``start_char``/``oov_char`` None mean: no limit / no start marker / drop instead of
    marking. 0 is the padding value, so markers are at least 1.
    """
    lower: str = "unicode"
    filters: str = DEFAULT_FILTERS
    num_words: int | None = None
    skip_top: int = 0
    start_char: int = 1
    oov_char: int = 2
    index_from: int = 3
    unknown_words: str = "drop"
    maxlen: int = 500
    padding: str = "pre"
    truncating: str = "pre"

    def check(self) -> "Settings":
        """The settings with each number parsed (an old saved state may hold text) and in range; refuse
        settings Keras would refuse, that would silently produce nonsense, or wrap round in int32."""
        _choice("lower", self.lower, LOWER_OPTIONS)
        _choice("unknown_words", self.unknown_words, UNKNOWN_OPTIONS)
        _choice("padding", self.padding, SIDES)
        _choice("truncating", self.truncating, SIDES)
        # 0 is the padding value, so the markers and a limit on the indices are at least 1
        minimum = {"maxlen": 1, "num_words": 1, "skip_top": 0, "start_char": 1, "oov_char": 1, "index_from": 0}
        optional = ("num_words", "start_char", "oov_char")
        numbers: dict[str, Any] = {}
        for name, least in minimum.items():
            value = getattr(self, name)
            if value is None and name not in optional:
                raise ToolInputError(f"{LABELS[name]}: empty, expected a whole number from {least}")
            numbers[name] = None if value is None else parse_int(value, LABELS[name], least, INDEX_MAX)
        if self.unknown_words == "oov" and numbers["oov_char"] is None:
            raise ToolInputError("unknown words are to become oov_char, but oov_char is empty")
        return dataclasses.replace(self, **numbers)


def _choice(name: str, value: object, options: Collection[str]) -> None:
    choice(value, tuple(options), name)


def _separator_table(filters: str) -> dict[int, str]:
    return str.maketrans(dict.fromkeys(filters + ALWAYS_SEPARATORS, " "))


@dataclass(frozen=True)
class Tokens:
    """The tokens of many texts, factorized: each distinct word is hashed once, not once per use.

    ``codes``: one code per token, all texts one after the other; ``words``: the distinct words in order
    of first appearance (``words[code]``); ``counts``: the number of tokens of each text.
    """
    codes: np.ndarray
    words: np.ndarray
    counts: np.ndarray


def tokenize(texts: Iterable[str], settings: Settings) -> Tokens:
    """:class:`Tokens` of the texts (Keras' text_to_word_sequence with split=" ")."""
    table = _separator_table(settings.filters)
    lowers: dict[str, Callable[[str], str]] = {"unicode": str.lower, "none": str,
                                                 "ascii": lambda text: text.translate(_ASCII_LOWER)}
    lower = lowers[settings.lower]
    lists = [list(filter(None, lower(text).translate(table).split(" "))) for text in texts]
    counts = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    flat = np.empty(int(counts.sum()), dtype=object)
    flat[:] = list(chain.from_iterable(lists))
    codes, words = pd.factorize(flat)  # C hashing; codes number the words in order of first appearance
    return Tokens(codes, np.asarray(words, dtype=object), counts)


def fit_vocabulary(tokens: Tokens) -> list[tuple[str, int]]:
    """``[(word, count), ...]`` in rank order: count descending, ties by first appearance (Tokenizer)."""
    counts = np.bincount(tokens.codes, minlength=len(tokens.words))
    order = np.argsort(-counts, kind="stable")
    return list(zip(tokens.words[order].tolist(), counts[order].tolist(), strict=True))


# Marks a word that encodes to nothing (dropped) in the flat integer array encode() builds.
_DROPPED = -1


def word_values(ranks: Mapping[str, int], settings: Settings, label: str = "Vocabulary") -> dict[str, int | None]:
    """``{word: the integer it becomes}`` (None: dropped) from ``{word: rank}``, once per word; a value
    beyond :data:`INDEX_MAX` is refused (``label``: the vocabulary's), not wrapped round in int32."""
    values = {word: _limit(rank + settings.index_from, settings) for word, rank in ranks.items()}
    largest = max((value for value in values.values() if value is not None), default=0)
    if largest > INDEX_MAX:
        word = next(word for word, value in values.items() if value == largest)
        raise ToolInputError(f"{label}: the word {word[:40]!r} has index {ranks[word]:,}, which with index_from "
                             f"{settings.index_from:,} becomes {largest:,}: more than the largest word index, "
                             f"{INDEX_MAX:,} (int32); set num_words to keep fewer indices")
    return values


def _limit(value: int, settings: Settings) -> int | None:
    """keras.datasets.imdb: a value outside [skip_top, num_words) becomes oov_char (None: dropped)."""
    if value < settings.skip_top or (settings.num_words is not None and value >= settings.num_words):
        return settings.oov_char
    return value


def encode(tokens: Tokens, ranks: Mapping[str, int], settings: Settings, label: str = "Vocabulary") -> np.ndarray:
    """A ``(number of texts, maxlen)`` int32 array of word indices, padded/truncated as set.

    Each distinct word is looked up once; numpy then gives every token its value and places it in its
    row and column (no per-token Python work after tokenizing). The array's size (texts x maxlen) is
    compared with the job's memory first; ``label`` names the vocabulary in errors.
    """
    n_rows = len(tokens.counts)
    check_allocation(n_rows * settings.maxlen * np.dtype(np.int32).itemsize, LABELS["maxlen"],
                     f"{n_rows:,} texts of {settings.maxlen:,} word indices", "choose a smaller maxlen")
    values = word_values(ranks, settings, label)
    unknown = settings.oov_char if settings.unknown_words == "oov" else None
    per_word = [values.get(word, unknown) for word in tokens.words.tolist()]  # once per distinct word
    per_word = np.array([_DROPPED if value is None else value for value in per_word], dtype=np.int64)
    flat = per_word[tokens.codes]
    rows = np.repeat(np.arange(n_rows), tokens.counts)
    kept = flat != _DROPPED
    flat, rows = flat[kept], rows[kept]
    start = None if settings.start_char is None else _limit(settings.start_char, settings)
    if start is not None:  # one start marker before each text's first value
        firsts = np.searchsorted(rows, np.arange(n_rows))
        flat = np.insert(flat, firsts, start)
        rows = np.insert(rows, firsts, np.arange(n_rows))
    return _place(flat, rows, n_rows, settings)


def _place(flat: np.ndarray, rows: np.ndarray, n_rows: int, settings: Settings) -> np.ndarray:
    """pad_sequences on a flat array of values and their row numbers (rows ascending)."""
    maxlen = settings.maxlen
    lengths = np.bincount(rows, minlength=n_rows)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    position = np.arange(len(flat)) - offsets[rows]  # index of each value within its sequence
    first_kept = np.maximum(lengths - maxlen, 0) if settings.truncating == "pre" else np.zeros_like(lengths)
    column = position - first_kept[rows]
    keep = (column >= 0) & (column < maxlen)
    if settings.padding == "pre":
        column = column + (maxlen - np.minimum(lengths, maxlen))[rows]
    out = np.zeros((n_rows, maxlen), dtype=np.int32)
    out[rows[keep], column[keep]] = flat[keep]
    return out


def decode(rows: np.ndarray, ranks: Mapping[str, int], settings: Settings) -> list[str]:
    """Words for each row of indices: what the model sees (padding left out, markers for start/OOV).

    ``start_char`` and ``oov_char`` are shown as <START> and <OOV>; an index that belongs to no word
    (e.g. beyond the vocabulary) as <OOV> too.
    """
    words = {rank + settings.index_from: word for word, rank in ranks.items()}
    if settings.oov_char is not None:
        words[settings.oov_char] = OOV_MARK
    if settings.start_char is not None:
        words[settings.start_char] = START_MARK
    return [" ".join(words.get(value, OOV_MARK) for value in row if value != 0) for row in rows.tolist()]
