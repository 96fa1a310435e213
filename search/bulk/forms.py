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
        self._form_ids = _Numbering()
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
        table = self.folded if mode == "folded" else self.exact
        if PART_SEPARATOR not in value:  # one part, as most fields: no copies
            return FieldTerms(table, *_mode_terms(self.text(value), mode))
        ids, positions, offset = [], [], 0
        for part in map(self.text, value.split(PART_SEPARATOR)):
            part_ids, part_positions = _mode_terms(part, mode)
            ids.append(part_ids)
            positions.append(part_positions + offset)
            if len(part.positions):
                offset += int(part.positions[-1]) + 1 + PART_GAP
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
        # one pass: a word not met before is numbered as the lookup meets it, and
        # its terms recorded after (a second pass over a body to tell its new
        # words apart, then a second lookup, cost more than the new words)
        forms = np.fromiter(map(self._form_ids.__getitem__, words), np.int32, len(words))
        if self._form_ids.new:
            self._add(self._form_ids.new)
            self._form_ids.new = []
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

    def _add(self, words: list[str]) -> None:
        """Record the terms of newly numbered forms, in their numbers' order (the
        columns grow once per call, not once per value)."""
        first, count = [], []
        folded_of, exact_of, accented_of, advance_of = [], [], [], []
        entry = len(self._advance_of)
        for word in words:
            plan = word_plan(word)
            first.append(entry)
            count.append(len(plan))
            entry += len(plan)
            for exact, folded, _, _, advance in plan:
                folded_of.append(self.folded.id(folded))
                exact_of.append(self.exact.id(exact))
                accented_of.append(exact != folded)
                advance_of.append(advance)
        self._first.extend(first)
        self._count.extend(count)
        self._folded_of.extend(folded_of)
        self._exact_of.extend(exact_of)
        self._accented_of.extend(accented_of)
        self._advance_of.extend(advance_of)


class _Numbering(dict[str, int]):
    """Word forms → numbers; a form looked up for the first time is numbered then
    (the next number) and listed in :attr:`new` until the caller records it. The
    lookup of a known form stays the dictionary's own, at C speed."""

    def __init__(self) -> None:
        super().__init__()
        self.new: list[str] = []

    def __missing__(self, word: str) -> int:
        number = self[word] = len(self)
        self.new.append(word)
        return number


def _mode_terms(found: TextTerms, mode: str) -> tuple[IdArray, IdArray]:
    """A text's term ids and positions as a tokenizer of *mode* yields them: the
    folded or exact terms, or only the exact terms that differ from their fold."""
    if mode == "folded":
        return found.folded, found.positions
    if mode == "accented":
        return found.exact[found.accented], found.positions[found.accented]
    return found.exact, found.positions


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

    def extend(self, values: list[int] | list[bool]) -> None:
        """Append *values* (doubling the array as often as they need)."""
        end = self._size + len(values)
        if end > len(self._array):
            grown = np.zeros(max(end, 2 * len(self._array)), dtype=self._array.dtype)
            grown[: self._size] = self.values
            self._array = grown
        self._array[self._size : end] = values
        self._size = end
