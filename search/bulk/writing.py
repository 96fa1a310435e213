"""A builder's posting lists written through the codec, many terms a call.

Most terms of a segment have a few postings (one, for an article's id, path and
hash), and writing them one by one through the codec's Python encoder was most of
writing a segment. Here a field's terms go to the codec in one call
(:meth:`~search.codec.terms.VnFieldWriter.write_terms`): the one-block lists as
arrays, encoded together in numpy, the few longer ones as their columns. The bytes are those of the
codec's term-by-term writer: the same as Whoosh's writer passing each posting.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
from whoosh.fields import FieldType
from whoosh.system import unpack_uint

from search.bulk.grouped import GroupedPostings, ShortPostings
from search.codec.postings import (
    BLOCK_POSTINGS,
    EXISTENCE,
    FREQUENCY,
    PostingColumns,
    SmallLists,
    format_kind,
)
from search.codec.terms import VnFieldWriter


def write_words(writer: VnFieldWriter, grouped: GroupedPostings,
                lengths: npt.NDArray[np.int64]) -> None:
    """A text field's terms (*lengths*: each document's quantised length), in one
    call: the one-block lists as arrays, the longer ones each as its columns."""
    counts = np.diff(grouped.term_starts)
    small = counts <= BLOCK_POSTINGS
    in_small = np.repeat(small, counts)
    docs = grouped.docs[in_small].astype(np.int64)
    freqs = grouped.freqs[in_small].astype(np.int64)
    positions = grouped.positions[np.repeat(in_small, grouped.freqs)] \
        if len(grouped.positions) else grouped.positions
    writer.write_terms(grouped.terms, SmallLists(
        counts=counts[small], ids=docs, freqs=freqs, lengths=lengths[docs],
        positions=positions.astype(np.int64)),
        {t: _large(grouped, lengths, term=t) for t in np.flatnonzero(~small).tolist()})


def write_short(writer: VnFieldWriter, terms: ShortPostings, lengths: npt.NDArray[np.int64],
                *, fieldobj: FieldType) -> None:
    """A short field's terms. Whoosh's field API gave each posting's value bytes;
    where they only hold a frequency (or nothing) and the weights are those
    frequencies, the lists go as arrays (:func:`write_words`), else posting by
    posting through the codec's per-posting writer (Whoosh's own way)."""
    ordered = sorted(terms)
    grouped = _short_arrays(ordered, terms, format_kind(fieldobj.format))
    if grouped is not None:
        write_words(writer, grouped, lengths)
        return
    for btext in ordered:
        writer.start_term(btext)
        for docnum, weight, vbytes in terms[btext]:
            writer.add(docnum, weight, vbytes, int(lengths[docnum]))
        writer.finish_term()


def _short_arrays(ordered: list[bytes], terms: ShortPostings,
                  kind: int) -> GroupedPostings | None:
    """A short field's postings as arrays (no positions), or ``None`` when its
    values or weights are more than frequencies."""
    if kind not in (EXISTENCE, FREQUENCY):
        return None
    postings = list(itertools.chain.from_iterable(terms[t] for t in ordered))
    docs = np.fromiter((p[0] for p in postings), dtype=np.int32, count=len(postings))
    weights = np.fromiter((p[1] for p in postings), dtype=np.float64, count=len(postings))
    if kind == FREQUENCY:  # as the per-posting writer reads them
        freqs = np.array([unpack_uint(p[2])[0] if p[2] else 1 for p in postings],
                         dtype=np.int64)
    else:
        freqs = np.ones(len(postings), dtype=np.int64)
    if not np.array_equal(weights.astype(np.float32), freqs.astype(np.float32)):
        return None
    counts = np.fromiter((len(terms[t]) for t in ordered), dtype=np.int64, count=len(ordered))
    return GroupedPostings(terms=ordered, term_starts=np.concatenate(([0], np.cumsum(counts))),
                           docs=docs, freqs=freqs,
                           pos_starts=np.zeros(len(postings) + 1, dtype=np.int64),
                           positions=np.empty(0, dtype=np.int32))


def _large(grouped: GroupedPostings, lengths: npt.NDArray[np.int64], *,
           term: int) -> PostingColumns:
    """One term of *grouped* with a list of several blocks, as columns."""
    a, b = int(grouped.term_starts[term]), int(grouped.term_starts[term + 1])
    docs, freqs = grouped.docs[a:b], grouped.freqs[a:b]
    positions = grouped.positions[int(grouped.pos_starts[a]):int(grouped.pos_starts[b])]
    return PostingColumns(ids=docs, freqs=freqs, weights=freqs.astype(np.float64),
                          lengths=lengths[docs], positions=positions)
