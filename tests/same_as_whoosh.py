"""The whole-list scorer checked against Whoosh's own collector, hit for hit.

The scoring, proximity and posting-array tests (``test_bm25.py``,
``test_proximity.py``, ``test_posting_arrays.py``) all ask the same question of a
query: does the fast path (:mod:`search.bm25`) find the same total, hits and scores
as Whoosh walking its matchers? This module holds the queries and that comparison.
"""

from __future__ import annotations

import pytest
from whoosh import query as wq
from whoosh.searching import Searcher

from search import bm25
from search.searching import Searching

QUERIES = [
    "hà nội",  # everyday words, accented
    "ha noi",  # the same unaccented: matches more, no exact-accent boosts
    "kinh tế việt nam",
    "nguoi dan",
    '"uy ban nhan dan"',  # a phrase
    '"thành phố" hồ chí minh',  # a phrase and words
    "tp hcm",  # an abbreviation: an OR of phrases
    '"vùng sâu vùng xa"',  # a repeated word; the rarest words come last
    "vn",  # an abbreviation: a word or a phrase
    "title:hà",  # title only
    "bóng đá",
    "xyzzyq",  # no such word
]


def ranked(searcher: Searcher, q: wq.Query, flt: wq.Query | None = None, limit: int = 30,
           fast: bool = True,
           monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[int, list[tuple[float, int]]]:
    """(total, [(score, docnum)…]) of one search, by the fast path or by Whoosh."""
    if not fast:
        assert monkeypatch is not None
        monkeypatch.setattr(bm25, "usable", lambda s: False)
    found = Searching(searcher=searcher, limit=limit, page=1, sort="relevance", flt=flt,
                      facets=False, time_limit=None).run(q)
    if not fast:
        assert monkeypatch is not None
        monkeypatch.undo()
    hits = [(round(h.score, 9), h.docnum) for r in found.parts for h in r]
    # Equal scores may come in either order (Whoosh sums in a per-segment order).
    return found.total, sorted(hits, key=lambda sd: (-sd[0], sd[1]))


def same_ranking(searcher: Searcher, q: wq.Query, monkeypatch: pytest.MonkeyPatch,
                 flt: wq.Query | None = None, limit: int = 30) -> int:
    """Assert both paths rank *q* alike; the total it matches."""
    fast_total, fast = ranked(searcher, q, flt, limit)
    slow_total, slow = ranked(searcher, q, flt, limit, fast=False, monkeypatch=monkeypatch)
    assert fast_total == slow_total
    if len(fast) == limit:  # the last score may tie with documents left out
        last = fast[-1][0]
        fast = [h for h in fast if h[0] != last]
        slow = [h for h in slow if h[0] != last]
    assert fast == slow
    return fast_total
