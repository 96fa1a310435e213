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
    already, and phrases and proximity boosts ask this for every match.
    """
    return found_at(sorted_ids, values)[1]


def found_at(sorted_ids: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of *values* is in *sorted_ids*, and whether it is there
    (where it is not, the index is meaningless)."""
    if not len(sorted_ids):
        return np.zeros(len(values), dtype=np.int64), np.zeros(len(values), dtype=bool)
    at = np.searchsorted(sorted_ids, values)
    at[at == len(sorted_ids)] = 0
    return at, sorted_ids[at] == values


def sorted_unique(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of a sorted array, and how often each occurs."""
    if not len(values):
        return values, EMPTY_IDS
    change = np.empty(len(values), dtype=bool)
    change[0] = True
    np.not_equal(values[1:], values[:-1], out=change[1:])
    starts = np.flatnonzero(change)
    return values[starts], np.diff(starts, append=len(values))


def common_docs(id_lists: list[np.ndarray], within: np.ndarray | None = None) -> np.ndarray:
    """The documents in every one of *id_lists* (sorted ids), and in *within* if
    given: intersected shortest first, stopping once none are left."""
    candidates = within
    for ids in sorted(id_lists, key=len):
        candidates = ids if candidates is None else np.intersect1d(
            candidates, ids, assume_unique=True)
        if not len(candidates):
            return EMPTY_IDS
    return EMPTY_IDS if candidates is None else candidates
