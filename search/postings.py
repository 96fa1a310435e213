"""Bounded walks over posting lists: which articles hold these words, together or in a row.

Autocomplete and did-you-mean ask small questions many times per keystroke or
query ("a few titles with these words", "does *ba dinh* occur as a phrase?").
Whoosh answers them with full queries, which for common words that seldom meet
walk every posting (seconds at 100k articles). These walks stop as soon as they
have what was asked for, or after a fixed number of leaps: a question that takes
longer than that gets the answer "not found so far", which for a suggestion
means "rare", the right reading.
"""

from __future__ import annotations

from collections.abc import Iterator

from whoosh.matching import UnionMatcher
from whoosh.searching import Searcher
from whoosh.util import make_binary_tree

#: Leaps a walk may take before it gives up (one leap moves every list once).
STEPS = 1000


def leapfrog(matchers: list, wanted: int, steps: int) -> tuple[list[int], int]:
    """Documents every matcher holds (up to *wanted*), and the leaps taken.

    Each matcher skips to the furthest one's document until they all agree; the
    matchers are left on the last document found, so a caller may read its
    postings before moving on.
    """
    found: list[int] = []
    used = 0
    while len(found) < wanted and used < steps and all(m.is_active() for m in matchers):
        if found:
            for m in matchers:
                m.next()
            if not all(m.is_active() for m in matchers):
                break
        used += 1
        target = max(m.id() for m in matchers)
        while True:
            for m in matchers:
                if m.id() < target:
                    m.skip_to(target)
            if not all(m.is_active() for m in matchers):
                return found, used
            furthest = max(m.id() for m in matchers)
            if furthest == target:
                break
            target = furthest
            used += 1
            if used >= steps:
                return found, used
        found.append(target)
    return found, used


def together(searcher: Searcher, field: str, groups: list[list[str]], wanted: int,
             steps: int = STEPS) -> list[int]:
    """Up to *wanted* documents (in index order) holding a word of every group."""
    found: list[int] = []
    for leaf, offset in searcher.leaf_searchers():
        matchers = _matchers(leaf, field, groups)
        if matchers is None:
            continue
        docnums, used = leapfrog(matchers, wanted - len(found), steps)
        found += [offset + d for d in docnums]
        steps -= used
        if len(found) >= wanted or steps <= 0:
            break
    return found


def in_a_row(searcher: Searcher, field: str, words: list[str], wanted: int,
             steps: int = STEPS) -> Iterator[tuple[Searcher, int, int]]:
    """Documents where *words* stand in a row: ``(leaf searcher, leaf docnum, times)``.

    At most *wanted* documents; each document the words share costs a leap too
    (its positions are read), so the walk is bounded by *steps* either way.
    """
    for leaf, _ in searcher.leaf_searchers():
        if wanted <= 0 or steps <= 0:
            return
        matchers = _matchers(leaf, field, [[w] for w in words])
        if matchers is None:
            continue
        while wanted > 0 and steps > 0:
            docnums, used = leapfrog(matchers, 1, steps)
            steps -= used + 1
            if not docnums:
                break
            times = _in_a_row([set(m.value_as("positions")) for m in matchers])
            if times:
                wanted -= 1
                yield leaf, docnums[0], times
            for m in matchers:
                m.next()
            if not all(m.is_active() for m in matchers):
                break


def _in_a_row(positions: list[set[int]]) -> int:
    """How many times the positions line up, one word after the other."""
    return sum(all(p + i in later for i, later in enumerate(positions[1:], 1))
               for p in positions[0])


def _matchers(leaf: Searcher, field: str, groups: list[list[str]]) -> list | None:
    """One matcher per group (a union of its words) in this segment; None if a
    group has no word here."""
    reader = leaf.reader()
    matchers = []
    for group in groups:
        postings = [reader.postings(field, w) for w in group if (field, w) in reader]
        if not postings:
            return None
        matchers.append(make_binary_tree(UnionMatcher, postings))
    return matchers
