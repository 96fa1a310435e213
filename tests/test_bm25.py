"""Whole-list BM25F scoring, checked hit for hit against Whoosh's own collector."""

from __future__ import annotations

import pytest
from whoosh import query as wq
from whoosh.scoring import BM25F

from search import bm25, plan, store
from search.filters import Filters, build_filter
from search.indexer import index_paths
from search.query import parse
from search.relax import with_typos
from search.schema import MATCH_FIELD, TITLE_FIELD
from search.syntax import split_filters
from tests.conftest import vntc_records
from tests.same_as_whoosh import QUERIES, same_ranking


@pytest.fixture(scope="module")
def searcher(segmented_index):
    with store.open_index(segmented_index).searcher() as s:
        assert len(s.leaf_searchers()) > 1  # scoring must cross segments
        yield s


@pytest.mark.parametrize("text", QUERIES)
def test_same_hits_and_scores_as_whoosh(searcher, monkeypatch, text) -> None:
    q = parse(text)
    assert plan.plan(q) is not None
    total = same_ranking(searcher, q, monkeypatch)
    assert (total == 0) == (text == "xyzzyq")


def test_same_hits_with_other_bm25_parameters(segmented_index, monkeypatch) -> None:
    """B and K1, per field too, come from the scorer Whoosh would use."""
    weighting = BM25F(B=0.6, K1=1.6, **{f"{MATCH_FIELD}_B": 0.3, f"{TITLE_FIELD}_B": 0.9})
    with store.open_index(segmented_index).searcher(weighting=weighting) as s:
        assert bm25.usable(s)  # the fast path takes it
        for text in ("kinh tế việt nam", '"thành phố" hồ chí minh', "title:hà"):
            assert same_ranking(s, parse(text), monkeypatch) > 0


@pytest.mark.parametrize(("text", "filters"), [
    ("kinh tế", Filters(place="Hà Nội")),  # terms: from the posting arrays
    ("nguoi dan", Filters(place="TP.HCM", author="")),
    ("nam date:[2000 TO 2010]", Filters()),  # a date range: walked by Whoosh
])
def test_same_hits_with_a_filter(searcher, monkeypatch, text, filters) -> None:
    words, filters = split_filters(text, filters)
    flt = build_filter(filters)
    q = parse(words)
    assert 0 < same_ranking(searcher, q, monkeypatch, flt) < same_ranking(searcher, q, monkeypatch)


def test_same_hits_for_typo_alternatives(searcher, monkeypatch) -> None:
    q = with_typos(parse("kinh doanh"), searcher.reader())  # doanh → doan, danh …
    assert q is not None and plan.plan(q) is not None
    assert any(len(group) > 1 for group in plan.plan(q).required)
    assert same_ranking(searcher, q, monkeypatch) > 0


def test_typo_matches_exclude_the_exact_ones(searcher, monkeypatch) -> None:
    q = parse("kinh doanh")
    typo_q = with_typos(q, searcher.reader())
    only_typos = wq.AndNot(typo_q, q.a)  # as search.query.run asks for them
    the_plan = plan.plan(only_typos)
    assert the_plan is not None and the_plan.excluded is not None
    total = same_ranking(searcher, only_typos, monkeypatch)
    assert 0 < total < same_ranking(searcher, typo_q, monkeypatch)


def test_same_hits_on_a_searcher_refreshed_after_a_commit(tmp_path, monkeypatch) -> None:
    """A refreshed searcher keeps the unchanged segment's reader, whose field lengths'
    average has changed with the commit: its BM25 length norms are worked out anew."""
    archive = tmp_path / "first.jsonl"
    archive.write_text("".join(vntc_records(150)), encoding="utf-8")
    index_paths(tmp_path / "ix", [archive])
    s = store.open_index(tmp_path / "ix").searcher()
    for text in ("kinh tế việt nam", "nguoi dan"):
        assert same_ranking(s, parse(text), monkeypatch) > 0
    more = tmp_path / "more.jsonl"
    more.write_text("".join(vntc_records(400)[150:]), encoding="utf-8")
    index_paths(tmp_path / "ix", [archive, more])
    kept = {id(r) for r, _ in s.reader().leaf_readers()}
    s = s.refresh()  # Whoosh's way: the old searcher's readers live on in the new one
    try:
        assert len(s.leaf_searchers()) > 1
        assert any(id(r) in kept for r, _ in s.reader().leaf_readers())
        for text in ("kinh tế việt nam", "nguoi dan"):
            assert same_ranking(s, parse(text), monkeypatch) > 0
    finally:
        s.close()
