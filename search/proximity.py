"""Words in a row, checked on position arrays: phrases, proximity boosts, the likely
reading.

Word positions are the dearest part of a search (in Whoosh's format each posting's
positions are a pickle), so they are read last and least. :func:`in_a_row` checks a
phrase on documents that already hold all its words, rarest word first. A required
phrase is checked so while matching (:mod:`search.bm25`). An optional one — a
proximity boost, or the likely reading (a :class:`search.plan.Shared` "all of"
item, scaled per article by how its words are written: :func:`spelled`) — can only
add to a score, so it is left :class:`Pending` and checked lazily by :func:`settle`:
best candidates first, within a rescoring window (:data:`MAX_CHECK`), until the
top hits cannot change.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from whoosh import query as wq
from whoosh.reading import IndexReader

from search.plan import Shared
from search.posting_arrays import positions, postings, postings_of
from search.sorted_ids import EMPTY_IDS, found_at, in_sorted, sorted_unique

#: A phrase: its field and its words (as the index holds them), in order.
PhraseKey = tuple[str, tuple[bytes, ...]]
#: Word positions already read in one query, by ``(field, word, documents' bytes)``.
PositionsRead = dict[tuple[str, bytes, bytes], np.ndarray]


class Pending(NamedTuple):
    """An optional item not checked yet: the phrases it needs, and what it adds to
    each match that holds them."""

    phrases: list[tuple[str, list[bytes]]]  # (field, words) that must stand in a row
    bonus: np.ndarray  # per match: boost × BM25 of its words; 0 where a word is missing
    #: A :class:`~search.plan.Shared` item with a phrase: its bonus is scaled by the
    #: share of the phrase's occurrences that each match can write so, counted
    #: (:func:`spelled`) on the matches checked only, once their phrases are.
    shared: Shared | None = None


def spelled(reader: IndexReader, item: Shared,
            docs: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Per share of *item*: how many times each of *docs* writes the word that way
    (its parts, or for a *rest* share what is left of the whole); and the whole's
    count (of the last share).

    Word counts cannot tell which of an article's ``da`` stands in ``da nang``;
    they bound it: an article writing ``đà`` at least as often as the phrase occurs
    can say "Đà Nẵng" every time (however many ``đã`` it also has), one writing
    ``bà`` everywhere and ``ba`` nowhere cannot say "Ba Đình".
    """
    out: list[np.ndarray] = []
    whole = np.zeros(len(docs), dtype=np.float64)
    for share in item.shares:
        whole = _weights_in(reader, share.whole, docs)
        parts = sum((_weights_in(reader, t, docs) for t in share.parts),
                    np.zeros(len(docs), dtype=np.float64))
        out.append(np.maximum(0.0, whole - parts) if share.rest else parts)
    return tuple(out), whole


def _weights_in(reader: IndexReader, term: wq.Term, docs: np.ndarray) -> np.ndarray:
    """A term's weight (occurrences) in each of *docs* (0 where it is absent)."""
    ids, weights = postings_of(reader, term)
    out = np.zeros(len(docs), dtype=np.float64)
    at, here = found_at(ids, docs)
    out[here] = weights[at[here]]
    return out


#: Candidates whose optional phrases are checked in the first round (at least).
FIRST_CHECK = 64
#: Most candidates whose optional phrases are checked, per segment: a rescoring
#: window. Word positions are dear in Whoosh's format (each posting's a pickle);
#: past the window, matches keep their scores without the phrase boosts.
MAX_CHECK = 64


def settle(reader: IndexReader, ids: np.ndarray, scores: np.ndarray, *, pending: list[Pending],
           limit: int) -> tuple[np.ndarray, np.ndarray]:
    """The segment's best *limit* matches with their pending phrases checked.

    A phrase can only add its bonus, so ``score + every bonus`` bounds what a match
    can reach. Candidates are checked best bound first, in growing rounds, until
    the *limit*-th best settled score beats every unchecked bound: the same top
    *limit* as checking every match, for word positions read on a few hundred
    articles instead of thousands (``da nang`` matches a third of an archive).
    Returns the checked matches only (sorted ids), the top *limit* among them —
    or, once :data:`MAX_CHECK` are checked without settling, every match, those
    past the window without their phrase boosts.
    """
    if not pending or not len(ids):
        return ids, scores
    bound = scores + _summed([p.bonus for p in pending])
    step = max(FIRST_CHECK, 4 * limit)
    order = _best_first(ids, bound, max(step, MAX_CHECK) + 1)  # all the rounds can reach
    settled = scores.copy()
    done = 0
    while done < len(ids):
        batch = np.sort(order[done : done + step])
        together = _phrases_among(reader, ids, batch, pending=pending)
        for p in pending:
            hit = batch[p.bonus[batch] > 0]
            times = np.ones(len(hit), dtype=np.int64)
            for fieldname, btexts in p.phrases:
                if len(hit):
                    found, counts = together[(fieldname, tuple(btexts))]
                    docs = ids[hit]
                    keep = in_sorted(docs, found)
                    hit, times = hit[keep], counts[np.searchsorted(found, docs[keep])]
            gain = p.bonus[hit]
            if p.shared is not None and len(hit):
                for n in spelled(reader, p.shared, ids[hit])[0]:
                    gain = gain * np.minimum(1.0, n / times)  # the share written so
            settled[hit] += gain
        done += len(batch)
        if done >= len(ids) or done >= limit and _beats(
                settled[order[:done]], limit, bound[order[done]]):
            break
        if done >= MAX_CHECK:  # the rest keep their scores without the phrases
            return ids, settled
        step = min(step * 2, MAX_CHECK - done)
    checked = np.sort(order[:done])
    return ids[checked], settled[checked]


def _summed(arrays: list[np.ndarray]) -> np.ndarray:
    """The elementwise sum of *arrays*, added in order (as ``np.sum(axis=0)`` adds
    rows), without first copying them into one 2-D array."""
    total = arrays[0].copy()
    for more in arrays[1:]:
        total += more
    return total


def _best_first(ids: np.ndarray, bound: np.ndarray, wanted: int) -> np.ndarray:
    """The first *wanted* indexes of ``np.lexsort((ids, -bound))`` (*ids* sorted): a
    partition finds the *wanted*-th best bound, and only the matches at or above it
    are sorted — a few dozen rather than tens of thousands."""
    if len(bound) <= wanted:
        return np.lexsort((ids, -bound))
    cut = np.partition(bound, len(bound) - wanted)[len(bound) - wanted]
    candidates = np.flatnonzero(bound >= cut)  # ascending, as *ids* are
    return candidates[np.argsort(-bound[candidates], kind="stable")][:wanted]


def _phrases_among(reader: IndexReader, ids: np.ndarray, batch: np.ndarray, *,
                   pending: list[Pending]) -> dict[PhraseKey, tuple[np.ndarray, np.ndarray]]:
    """Each distinct phrase of *pending*, checked once on every candidate of *batch*
    that some item needs it for: ``(field, words)`` → (documents, times). The
    proximity boost and the likely reading ask about the same words in a row."""
    wanted: dict[PhraseKey, list[np.ndarray]] = {}
    for p in pending:
        candidates = batch[p.bonus[batch] > 0]
        for fieldname, btexts in p.phrases:
            wanted.setdefault((fieldname, tuple(btexts)), []).append(candidates)
    read: PositionsRead = {}  # a word's positions, shared by the phrases
    out: dict[PhraseKey, tuple[np.ndarray, np.ndarray]] = {}
    for phrase, parts in wanted.items():
        fieldname, words = phrase
        docs = ids[parts[0] if len(parts) == 1 else np.unique(np.concatenate(parts))]
        out[phrase] = (in_a_row(reader, fieldname, list(words), docs=docs, read=read)
                       if len(docs) else (EMPTY_IDS, EMPTY_IDS))
    return out


def _read_once(read: PositionsRead, reader: IndexReader, fieldname: str, *, btext: bytes,
               docs: np.ndarray) -> np.ndarray:
    """:func:`positions`, read once per word and set of documents: the whole-query
    phrase and the neighbour pairs of a proximity boost share their words."""
    key = (fieldname, btext, docs.tobytes())
    if key not in read:
        read[key] = positions(reader, fieldname, btext, docs=docs)
    return read[key]


def _beats(settled: np.ndarray, limit: int, bound: float) -> bool:
    """Whether the *limit*-th best of *settled* is above *bound* (with a margin for
    the rounding of sums taken in another order)."""
    kth = np.partition(settled, len(settled) - limit)[len(settled) - limit]
    return bool(kth > bound + 1e-9 * max(1.0, abs(bound)))


def in_a_row(reader: IndexReader, fieldname: str, btexts: list[bytes], *, docs: np.ndarray,
             read: PositionsRead | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Which of *docs* (sorted segment-local ids holding every word) have the words
    in a row, and how many times each.

    The rarest words are checked first: once two words must stand together, few
    documents remain, and an everyday word's positions are read for those only.
    *read* (a dict kept by the caller) shares positions read between calls: the
    proximity phrases of one query start from the same rarest word.
    """
    last = len(btexts) - 1
    rarest_first = sorted(range(len(btexts)),
                          key=lambda k: len(postings(reader, fieldname, btexts[k])[0]))
    keys = None  # doc << 32 | where the last word would stand
    for k in rarest_first:
        if keys is not None:  # the next word is read in the documents still left only
            docs = sorted_unique(keys >> 32)[0]
        at = (positions(reader, fieldname, btexts[k], docs=docs) if read is None
              else _read_once(read, reader, fieldname, btext=btexts[k], docs=docs)) + (last - k)
        keys = at if keys is None else keys[in_sorted(keys, at)]
        if not len(keys):
            return EMPTY_IDS, EMPTY_IDS
    assert keys is not None
    return sorted_unique(keys >> 32)
