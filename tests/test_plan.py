"""Which query shapes the whole-list scorer takes (:mod:`search.plan`)."""

from __future__ import annotations

import pytest

from search import plan, store
from search.boosts import accents_of
from search.query import parse
from search.readings import readings


@pytest.fixture(scope="module")
def searcher(segmented_index):
    with store.open_index(segmented_index).searcher() as s:
        yield s


@pytest.mark.parametrize("text", ["ha noi", "bao", "kinh te", "kinh tế", "nguoi"])
def test_queries_with_reading_boosts_are_scored_here(searcher, text) -> None:
    """The likely reading's boosts keep a query on the fast path (one word too)."""
    likely = readings(searcher, text)
    q = parse(text, readings=likely, accents=accents_of(searcher, likely))
    assert likely and any(isinstance(b, plan.Shared) for b in q.b.subqueries)
    assert plan.plan(q) is not None


@pytest.mark.parametrize("text", ["ha -noi", "ha*", '"ha noi"~3', "ha OR noi NOT dan"])
def test_other_shapes_are_left_to_whoosh(text) -> None:
    assert plan.plan(parse(text)) is None
