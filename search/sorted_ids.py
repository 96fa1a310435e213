"""Set operations on sorted arrays of document numbers.

Posting lists, filters and matches are all sorted integer arrays; these helpers
answer membership, intersection and run counts with binary searches and one pass,
without ``np.isin`` sorting (or hashing) arrays again that are sorted already:
phrases and proximity boosts ask them for every match.
"""

from __future__ import annotations

import numpy as np

#: No documents: what a lookup that finds none returns.
EMPTY_IDS = np.empty(0, dtype=np.int64)


def in_sorted(values: np.ndarray, sorted_ids: np.ndarray) -> np.ndarray:
    """Which of *values* are in *sorted_ids* (a mask): one binary search each.

    ``np.isin`` sorts (or hashes) both arrays again on every call; ours are sorted
    already, and phrases and proximity boosts ask this for every match. Many values
    are looked up in a table of flags over the ids' span, as in :func:`found_at`
    (one byte per id, no positions to keep).
    """
    if len(sorted_ids) and len(values):
        span = int(sorted_ids[-1]) + 1
        if SEARCH_STEPS * len(values) > span + len(sorted_ids):
            table = np.zeros(span + 1, dtype=bool)  # the last slot: any value past the span
            table[sorted_ids] = True
            inside = (np.minimum(values, span) if values.min() >= 0
                      else np.where((values >= 0) & (values < span), values, span))
            held: np.ndarray = table[inside]
            return held
    return found_at(sorted_ids, values)[1]


#: A binary search costs about this many times a step of a table lookup's setup
#: (one pass over the ids' span): past it, :func:`found_at` builds the table.
SEARCH_STEPS = 16


def found_at(sorted_ids: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of *values* is in *sorted_ids*, and whether it is there
    (where it is not, the index is meaningless).

    Many values (a common word's matches scored against each term's posting list)
    are looked up in a table of the ids' span, one pass each, rather than by a
    binary search per value: several times faster at tens of thousands of values.
    """
    if not len(sorted_ids):
        return np.zeros(len(values), dtype=np.int64), np.zeros(len(values), dtype=bool)
    span = int(sorted_ids[-1]) + 1
    if len(values) and SEARCH_STEPS * len(values) > span + len(sorted_ids):
        return _looked_up(sorted_ids, values, span)
    at = np.searchsorted(sorted_ids, values)
    at[at == len(sorted_ids)] = 0
    return at, sorted_ids[at] == values


def _looked_up(sorted_ids: np.ndarray, values: np.ndarray,
               span: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`found_at` by a table: index in *sorted_ids* per id up to *span*."""
    table = np.full(span + 1, -1, dtype=np.int32)  # the last slot: any value past the span
    table[sorted_ids] = np.arange(len(sorted_ids), dtype=np.int32)
    inside = (np.minimum(values, span) if values.min() >= 0
              else np.where((values >= 0) & (values < span), values, span))
    at = table[inside]
    here = at >= 0
    at[~here] = 0
    return at, here


def sorted_unique(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of a sorted array, and how often each occurs."""
    if not len(values):
        return values, EMPTY_IDS
    change = np.empty(len(values), dtype=bool)
    change[0] = True
    np.not_equal(values[1:], values[:-1], out=change[1:])
    starts = change.nonzero()[0]
    counts = np.empty(len(starts), dtype=np.int64)  # np.diff(append=…) costs more, called
    np.subtract(starts[1:], starts[:-1], out=counts[:-1])  # per phrase word
    counts[-1] = len(values) - starts[-1]
    return values[starts], counts


def common(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The ids in both *a* and *b* (sorted, distinct), in order.

    ``np.intersect1d`` concatenates and sorts both again; the shorter one looked up
    in the longer (:func:`found_at`) is one pass over each at most.
    """
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    found: np.ndarray = shorter[in_sorted(shorter, longer)]
    return found


def union(id_lists: list[np.ndarray]) -> np.ndarray:
    """The ids in any of *id_lists* (each sorted, distinct), in order, once each.

    Many ids (a typo's alternatives: a dozen everyday words) are flagged in a table
    over their span and read back in order, rather than concatenated and sorted.
    """
    total = sum(len(ids) for ids in id_lists)
    if not total:
        return EMPTY_IDS
    span = max(int(ids[-1]) for ids in id_lists if len(ids)) + 1
    if SEARCH_STEPS * total <= span:
        merged: np.ndarray = np.unique(np.concatenate(id_lists))
        return merged
    table = np.zeros(span, dtype=bool)
    for ids in id_lists:
        table[ids] = True
    return table.nonzero()[0]


def common_docs(id_lists: list[np.ndarray], within: np.ndarray | None = None) -> np.ndarray:
    """The documents in every one of *id_lists* (sorted ids), and in *within* if
    given: intersected shortest first, stopping once none are left."""
    candidates = within
    for ids in sorted(id_lists, key=len):
        candidates = ids if candidates is None else common(candidates, ids)
        if not len(candidates):
            return EMPTY_IDS
    return EMPTY_IDS if candidates is None else candidates


def segment_span(ids: np.ndarray, offset: int, size: int) -> tuple[int, int]:
    """Where the documents of the segment of *size* documents starting at *offset*
    stand in *ids* (sorted global document numbers): ``ids[lo:hi]``."""
    lo, hi = np.searchsorted(ids, (offset, offset + size))
    return int(lo), int(hi)
