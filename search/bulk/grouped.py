"""A batch's postings as the builder collects them, and grouped by term.

A text field's words arrive document by document as term ids and positions
(:class:`WordPostings`); :func:`group_postings` sorts the whole batch's words by
term with one numpy ``argsort`` and cuts them into posting lists
(:class:`GroupedPostings`), the shape the codec writes and a builder's runs
(:mod:`search.bulk.runs`) are kept in. Short fields (ids, keys, numbers, dates)
stay as Whoosh's field API gives them (:data:`ShortPostings`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.fields import FieldType

from search.bulk.forms import FieldTerms, Terms

#: One posting of a short field, as Whoosh's field API gives it: document number,
#: weight, value bytes.
ShortPosting = tuple[int, float, bytes]
#: A short field's postings: each term's, in document order.
ShortPostings = dict[bytes, list[ShortPosting]]
#: One term of a short field value, as Whoosh's ``FieldType.index`` yields it:
#: term bytes, frequency, weight, value bytes.
ShortTerm = tuple[bytes, int, float, bytes]
#: Values per field whose terms :class:`ShortTerms` remembers (it starts over when
#: a field holds more: an id or a hash never repeats, a root or a year always does).
SHORT_VALUES_REMEMBERED = 4096
#: The value types whose terms are remembered (hashable, and equal only to a
#: value of the same type that Whoosh indexes the same).
_REMEMBERED_TYPES = (str, int, datetime)


class ShortTerms:
    """A short field value's terms, as Whoosh's field API gives them, remembered
    for the values a batch repeats: the root, years, word counts, dates, places,
    sources. Asking the field for every document's every value was a fifth of the
    builder's time outside the word fields."""

    def __init__(self) -> None:
        self._known: dict[str, dict[tuple[type, Any], list[ShortTerm]]] = {}

    def of(self, fieldname: str, fieldobj: FieldType, value: Any) -> list[ShortTerm]:
        """The terms ``fieldobj.index(value)`` yields (*fieldobj* is the schema's
        *fieldname*)."""
        if type(value) not in _REMEMBERED_TYPES:
            return list(fieldobj.index(value))
        known = self._known.setdefault(fieldname, {})
        key = (type(value), value)
        found = known.get(key)
        if found is None:
            if len(known) >= SHORT_VALUES_REMEMBERED:
                known.clear()
            found = known[key] = list(fieldobj.index(value))
        return found


@dataclass
class WordPostings:
    """One text field's words over a batch: term ids (into *terms*) and positions,
    per document."""

    terms: Terms
    term_ids: list[npt.NDArray[np.int32]] = field(default_factory=list)
    positions: list[npt.NDArray[np.int32]] = field(default_factory=list)
    docnums: list[int] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    words: int = 0

    def add(self, docnum: int, found: FieldTerms) -> None:
        """Record one document's words (in position order)."""
        self.term_ids.append(found.ids)
        self.positions.append(found.positions)
        self.docnums.append(docnum)
        self.counts.append(len(found.ids))
        self.words += len(found.ids)


@dataclass
class GroupedPostings:
    """A text field's postings grouped by term, terms in byte order."""

    terms: list[bytes]
    term_starts: npt.NDArray[np.int64]  # into the postings, one more than terms
    docs: npt.NDArray[np.int32]  # per posting
    freqs: npt.NDArray[np.int64]  # per posting
    pos_starts: npt.NDArray[np.int64]  # into positions, one more than postings
    positions: npt.NDArray[np.int32]


def group_postings(words: WordPostings) -> GroupedPostings:
    """Sort a field's words by term (stable, so documents and positions stay in
    order) and cut them into postings: one numpy pass for the whole batch.

    The peak of a builder's memory: per word, 4 bytes of term id, document and
    position each (int32; a segment holds far fewer than 2**31 of any) and 8 of
    sort order; the per-document arrays are let go once joined.
    """
    ranks = np.concatenate(words.term_ids)
    words.term_ids.clear()
    # Only the terms this field uses are sorted: its table may be shared with a
    # field that uses many more (the folded title's with the folded body's).
    table = list(words.terms.ids)  # in id order
    used = np.flatnonzero(np.bincount(ranks, minlength=len(table)))
    encoded = [table[i].encode("utf-8") for i in used.tolist()]
    by_bytes = sorted(range(len(encoded)), key=encoded.__getitem__)
    rank = np.zeros(len(table), dtype=np.int32)
    rank[used[by_bytes]] = np.arange(len(encoded), dtype=np.int32)
    ranks = rank[ranks]
    order = np.argsort(ranks, kind="stable")
    ranks = ranks[order]
    docs = np.repeat(np.asarray(words.docnums, dtype=np.int32),
                     np.asarray(words.counts, dtype=np.int64))[order]
    positions = np.concatenate(words.positions)
    words.positions.clear()
    positions = positions[order]
    del order
    total = len(ranks)
    new_posting = np.ones(total, dtype=bool)
    new_posting[1:] = (ranks[1:] != ranks[:-1]) | (docs[1:] != docs[:-1])
    starts = np.flatnonzero(new_posting)
    pos_starts = np.append(starts, total)
    posting_ranks = ranks[starts]
    new_term = np.ones(len(starts), dtype=bool)
    new_term[1:] = posting_ranks[1:] != posting_ranks[:-1]
    term_starts = np.append(np.flatnonzero(new_term), len(starts))
    return GroupedPostings(
        terms=[encoded[by_bytes[r]] for r in posting_ranks[term_starts[:-1]].tolist()],
        term_starts=term_starts, docs=docs[starts], freqs=np.diff(pos_starts),
        pos_starts=pos_starts, positions=positions)
