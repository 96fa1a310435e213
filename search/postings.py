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

from whoosh.matching import Matcher, UnionMatcher
from whoosh.searching import Searcher
from whoosh.util import make_binary_tree

from search import posting_arrays, proximity

#: Leaps a walk may take before it gives up (one leap moves every list once).
STEPS = 1000


def leapfrog(matchers: list[Matcher], wanted: int, steps: int) -> tuple[list[int], int]:
    """Documents every matcher holds (up to *wanted*), and the leaps taken.

    Each matcher skips to the furthest one's document until they all agree; the
    matchers are left on the last document found, so a caller may read its
    postings before moving on.
    """
    found: list[int] = []
    used = 0
    while len(found) < wanted and used < steps and all(m.is_active() for m in matchers):
        if found and not _advance(matchers):
            break
        target, used = _agree(matchers, used + 1, steps)
        if target is None:
            break
        found.append(target)
    return found, used


def _advance(matchers: list[Matcher]) -> bool:
    """Move every matcher past the document found last; whether all still have more."""
    for m in matchers:
        m.next()
    return all(m.is_active() for m in matchers)


def _agree(matchers: list[Matcher], used: int, steps: int) -> tuple[int | None, int]:
    """Skip the matchers forward until they stand on one document: that document
    (``None`` when a list or the *steps* run out first), and the leaps used by then."""
    target = max(m.id() for m in matchers)
    while True:
        for m in matchers:
            if m.id() < target:
                m.skip_to(target)
        if not all(m.is_active() for m in matchers):
            return None, used
        furthest = max(m.id() for m in matchers)
        if furthest == target:
            return target, used
        target = furthest
        used += 1
        if used >= steps:
            return None, used


def together(searcher: Searcher, field: str, groups: list[list[str]], *, wanted: int,
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


def in_a_row(searcher: Searcher, field: str, words: list[str], *, wanted: int,
             steps: int = STEPS) -> Iterator[tuple[Searcher, int, int]]:
    """Documents where *words* stand in a row: ``(leaf searcher, leaf docnum, times)``.

    At most *wanted* documents, in index order. The documents holding every word
    come from the cached posting arrays (:mod:`search.posting_arrays`); their positions are
    read a few dozen documents at a time, and at most *steps* documents are looked
    at, so common words that seldom stand together cost a glance, not a walk.
    """
    for leaf, _ in searcher.leaf_searchers():
        if wanted <= 0 or steps <= 0:
            return
        reader = leaf.reader()
        btexts = [reader.schema[field].to_bytes(w) for w in words]
        if not all((field, b) in reader for b in btexts):
            continue
        candidates = posting_arrays.common_postings(reader, field, btexts)
        candidates = candidates[:steps]
        steps -= len(candidates)
        start, chunk = 0, _FIRST_CHUNK
        while start < len(candidates):
            docs, times = proximity.in_a_row(reader, field, btexts,
                                              docs=candidates[start:start + chunk])
            start, chunk = start + chunk, chunk * 2
            for docnum, count in zip(docs.tolist(), times.tolist(), strict=True):
                yield leaf, docnum, count
                wanted -= 1
                if wanted <= 0:
                    return


#: Documents whose positions are read first; each further round reads twice as many
#: (a pair that is rare among many candidates soon gets its whole lists decoded, once).
_FIRST_CHUNK = 32


def _matchers(leaf: Searcher, field: str, groups: list[list[str]]) -> list[Matcher] | None:
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
