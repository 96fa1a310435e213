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
from typing import NamedTuple

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
    """Every word form a builder has met, and its terms as ids."""

    def __init__(self) -> None:
        self.folded = Terms()
        self.exact = Terms()
        self._form_ids: dict[str, int] = {}
        # Per form: its folded and exact term ids, accented, and whether it is one
        # term (a glued word is several: such texts take the word-by-word path).
        self._folded_of = np.zeros(1024, dtype=np.int32)
        self._exact_of = np.zeros(1024, dtype=np.int32)
        self._accented_of = np.zeros(1024, dtype=bool)
        self._single_of = np.zeros(1024, dtype=bool)
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
        known = self._form_ids
        ids = list(map(known.get, words))
        if None in ids:
            ids = [self._add(w) if i is None else i for w, i in zip(words, ids, strict=True)]
        forms = np.array(ids, dtype=np.int32)
        if not self._single_of[forms].all():
            return self._word_by_word(words)
        return TextTerms(self._folded_of[forms], self._exact_of[forms],
                         self._accented_of[forms], np.arange(len(forms), dtype=np.int32))

    def _add(self, word: str) -> int:
        """Number a new form and record its terms."""
        known = self._form_ids
        found = known.get(word)  # the same new word may occur twice in a text
        if found is not None:
            return found
        form = known[word] = len(known)
        if form == len(self._folded_of):
            for name in ("_folded_of", "_exact_of", "_accented_of", "_single_of"):
                array = getattr(self, name)
                setattr(self, name, np.concatenate([array, np.zeros_like(array)]))
        plan = word_plan(word)
        exact, folded = plan[0][0], plan[0][1]
        self._folded_of[form] = self.folded.id(folded)
        self._exact_of[form] = self.exact.id(exact)
        self._accented_of[form] = exact != folded
        self._single_of[form] = len(plan) == 1
        return form

    def _word_by_word(self, words: list[str]) -> TextTerms:
        """A text with a glued word (``NamTừ``): its whole and parts, as
        :func:`search.normalize.token_tuples` gives them."""
        folded: list[int] = []
        exact: list[int] = []
        accented: list[bool] = []
        positions: list[int] = []
        pos = 0
        for word in words:
            for exact_term, folded_term, _, _, advance in word_plan(word):
                folded.append(self.folded.id(folded_term))
                exact.append(self.exact.id(exact_term))
                accented.append(exact_term != folded_term)
                positions.append(pos)
                pos += advance
        return TextTerms(np.array(folded, dtype=np.int32), np.array(exact, dtype=np.int32),
                         np.array(accented, dtype=bool), np.array(positions, dtype=np.int32))
