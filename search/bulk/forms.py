"""A batch's words as term ids: each distinct word form normalised once, then arrays.

A batch of news articles holds millions of words but only a few hundred thousand
distinct forms (``Hà``, ``hà``, ``2017`` …). :class:`Forms` numbers each form the
first time a builder meets it and records its exact and folded terms as ids in
two term tables. A text's words then become term ids by one dictionary lookup per
word and numpy indexing: no tuple per word, no per-field dictionary of strings.
That was most of the builder's own time (tokenising for the index, 21% of
indexing, and the term ids of every field after it).

The terms and positions are exactly :func:`search.analysis.VietnameseTokenizer`'s
for the same value and mode: the same cuts (:func:`search.normalize.raw_words`),
the same normalisation (:func:`search.normalize.word_plan`, glued words as the
whole and its parts), the same gap between the parts of a multi-part value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from search.analysis import PART_GAP, PART_SEPARATOR
from search.normalize import nfc, raw_words, word_plan

#: Texts whose term ids a :class:`Forms` remembers: a document's fields repeat
#: its title and body (``text_f`` is title ⁋ body), each analysed once.
RECENT_TEXTS = 8

IdArray = npt.NDArray[np.int32]


@dataclass
class Terms:
    """A term table: each distinct term numbered in the order it was first seen."""

    ids: dict[str, int] = field(default_factory=dict)

    def id(self, term: str) -> int:
        """The term's number (a new one for a term not seen before)."""
        return self.ids.setdefault(term, len(self.ids))


class TextTerms(NamedTuple):
    """One text's words as term ids, with their positions."""

    folded: IdArray  # into Forms.folded
    exact: IdArray  # into Forms.exact
    accented: npt.NDArray[np.bool_]  # whether the exact term differs from the folded
    positions: IdArray


class FieldTerms(NamedTuple):
    """A field value's terms (ids into *table*) and their positions."""

    table: Terms
    ids: IdArray
    positions: IdArray


class Forms:
    """Every word form a builder has met, and its terms as ids.

    A form is one term (``Hà``) or, glued (``NamTừ``), several: the whole and its
    parts. Its terms are *entries*, numbered in a row per form; each entry records
    its folded and exact term ids, whether they differ, and how many positions it
    advances (the whole of a glued word shares its first part's position).
    """

    def __init__(self) -> None:
        self.folded = Terms()
        self.exact = Terms()
        self._form_ids: dict[str, int] = {}
        self._first = _Column(np.int32)  # per form: its first entry
        self._count = _Column(np.int32)  # per form: its entries
        self._folded_of = _Column(np.int32)  # per entry
        self._exact_of = _Column(np.int32)
        self._accented_of = _Column(np.bool_)
        self._advance_of = _Column(np.int32)
        self._recent: dict[str, TextTerms] = {}

    def field(self, value: str, mode: str) -> FieldTerms:
        """The terms a :class:`~search.analysis.VietnameseTokenizer` of *mode*
        (``exact``, ``folded`` or ``accented``) yields for *value*."""
        parts = [self.text(part) for part in value.split(PART_SEPARATOR)]
        offsets, offset = [], 0
        for part in parts:
            offsets.append(offset)
            if len(part.positions):
                offset += int(part.positions[-1]) + 1 + PART_GAP
        table = self.folded if mode == "folded" else self.exact
        ids = [p.folded if mode == "folded" else p.exact for p in parts]
        positions = [p.positions + o for p, o in zip(parts, offsets, strict=True)]
        if mode == "accented":
            ids = [i[p.accented] for i, p in zip(ids, parts, strict=True)]
            positions = [q[p.accented] for q, p in zip(positions, parts, strict=True)]
        if len(parts) == 1:
            return FieldTerms(table, ids[0], positions[0])
        return FieldTerms(table, np.concatenate(ids), np.concatenate(positions))

    def text(self, text: str) -> TextTerms:
        """A text's words as term ids (remembered for the last few texts)."""
        found = self._recent.get(text)
        if found is None:
            if len(self._recent) >= RECENT_TEXTS:
                del self._recent[next(iter(self._recent))]  # the oldest
            found = self._recent[text] = self._analyse(nfc(text))
        return found

    def _analyse(self, text: str) -> TextTerms:
        words = raw_words(text)
        try:
            forms = self._form_array(words)
        except KeyError:  # a word not met before
            for word in set(words).difference(self._form_ids):  # in no particular order:
                self._add(word)  # fine, a term's number only has to be unique
            forms = self._form_array(words)
        entries = self._first.values[forms]
        counts = self._count.values[forms]
        if (counts == 1).all():
            positions = np.arange(len(forms), dtype=np.int32)
        else:  # glued words: each form's entries in a row
            ends = np.cumsum(counts)
            entries = (np.repeat(entries - (ends - counts), counts)
                       + np.arange(int(ends[-1]), dtype=np.int32)).astype(np.int32)
            advances = self._advance_of.values[entries]
            positions = (np.cumsum(advances) - advances).astype(np.int32)
        return TextTerms(self._folded_of.values[entries], self._exact_of.values[entries],
                         self._accented_of.values[entries], positions)

    def _form_array(self, words: list[str]) -> IdArray:
        """The form numbers of *words* (a ``KeyError`` when one has none yet),
        straight into an array: no list of numbers in between."""
        return np.fromiter(map(self._form_ids.__getitem__, words), np.int32, len(words))

    def _add(self, word: str) -> None:
        """Number a new form and record its terms."""
        self._form_ids[word] = len(self._form_ids)
        plan = word_plan(word)
        self._first.append(len(self._advance_of))
        self._count.append(len(plan))
        for exact, folded, _, _, advance in plan:
            self._folded_of.append(self.folded.id(folded))
            self._exact_of.append(self.exact.id(exact))
            self._accented_of.append(exact != folded)
            self._advance_of.append(advance)


class _Column:
    """A growing numpy array (doubling), for per-form and per-entry values."""

    def __init__(self, dtype: type[np.generic]) -> None:
        self._array: npt.NDArray[Any] = np.zeros(1024, dtype=dtype)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def values(self) -> npt.NDArray[Any]:
        """The values so far (a view: read it before appending more)."""
        return self._array[: self._size]

    def append(self, value: int | bool) -> None:
        if self._size == len(self._array):
            self._array = np.concatenate([self._array, np.zeros_like(self._array)])
        self._array[self._size] = value
        self._size += 1
