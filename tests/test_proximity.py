"""Optional phrases checked lazily on the best candidates (:mod:`search.proximity`)."""

from __future__ import annotations

import pytest
from whoosh import query as wq

from search import plan, proximity, store
from search.query import parse
from tests.same_as_whoosh import same_ranking


@pytest.fixture(scope="module")
def searcher(segmented_index):
    with store.open_index(segmented_index).searcher() as s:
        assert len(s.leaf_searchers()) > 1  # checks must cross segments
        yield s


@pytest.mark.parametrize("limit", [1, 3, 10])
@pytest.mark.parametrize("text", ["ha noi", "nguoi dan", "kinh te viet nam", "cua cac",
                                  "thành phố hồ chí minh"])
def test_proximity_checked_on_the_best_candidates_only(searcher, monkeypatch, text,
                                                       limit) -> None:
    """Optional phrases (proximity boosts) are checked on a few candidates at a time,
    best bound first: the top hits and scores stay Whoosh's, round after round."""
    monkeypatch.setattr(proximity, "FIRST_CHECK", 1)
    q = parse(text)
    assert plan.plan(q) is not None and any(type(i) is wq.Phrase for i in plan.plan(q).optional)
    assert same_ranking(searcher, q, monkeypatch, limit=limit) > 50
