"""A filter only drops articles: the hits it keeps score as they do unfiltered."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from search import proximity, store
from search.filters import Filters
from search.query import run
from search.schema import PLACES

#: Unaccented queries whose likely reading is a phrase (its spelling shares count).
QUERIES = ["tai ha noi", "khai thac", "tuong voi", "thanh pho ho chi minh"]


@pytest.mark.slow
def test_a_place_filter_keeps_each_hits_score(vntc_index: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Every match is checked (no rescoring window), so scores are exact: a hit of
    a place-filtered search has the score it has in the unfiltered one. (The
    reading's spelling counts once stayed aligned with the unfiltered matches, so a
    filtered hit took another article's counts.)"""
    monkeypatch.setattr(proximity, "MAX_CHECK", 10**9)
    with store.open_index(vntc_index).searcher() as searcher:
        places = Counter(p for d in searcher.all_stored_fields() for p in d.get(PLACES) or [])
        checked = 0
        for text in QUERIES:
            unfiltered = {h.id: h.score for h in run(searcher, text, limit=100_000,
                                                     suggest=False, with_snippets=False).hits}
            for place, _ in places.most_common(6):
                for hit in run(searcher, text, suggest=False, with_snippets=False,
                               filters=Filters(place=place)).hits:
                    assert hit.score == pytest.approx(unfiltered[hit.id], rel=1e-9), (text, place)
                    checked += 1
        assert checked > 40
