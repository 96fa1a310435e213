"""Whole-list BM25F scoring, checked hit for hit against Whoosh's own collector."""

from __future__ import annotations

import pickle
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import query as wq
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.formats import Positions

from search import bm25, store
from search.filters import Filters, build_filter
from search.indexer import index_paths
from search.query import (
    _Searching,
    accents_of,
    parse,
    run,
    with_typos,
)
from search.spelling import readings
from search.syntax import split_filters

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


@pytest.fixture(scope="module")
def index_dir(segmented_index):
    return segmented_index


@pytest.fixture(scope="module")
def searcher(index_dir):
    with store.open_index(index_dir).searcher() as s:
        assert len(s.leaf_searchers()) > 1  # scoring must cross segments
        yield s


def ranked(searcher, q, flt=None, limit=30, fast=True, monkeypatch=None):
    """(total, [(score, docnum)…]) of one search, by this module or by Whoosh."""
    if not fast:
        monkeypatch.setattr(bm25, "usable", lambda s: False)
    found = _Searching(searcher, limit, 1, "relevance", flt, False, None).run(q)
    if not fast:
        monkeypatch.undo()
    hits = [(round(h.score, 9), h.docnum) for r in found.parts for h in r]
    # Equal scores may come in either order (Whoosh sums in a per-segment order).
    return found.total, sorted(hits, key=lambda sd: (-sd[0], sd[1]))


def same_ranking(searcher, q, monkeypatch, flt=None, limit=30):
    fast_total, fast = ranked(searcher, q, flt, limit)
    slow_total, slow = ranked(searcher, q, flt, limit, fast=False, monkeypatch=monkeypatch)
    assert fast_total == slow_total
    if len(fast) == limit:  # the last score may tie with documents left out
        last = fast[-1][0]
        fast = [h for h in fast if h[0] != last]
        slow = [h for h in slow if h[0] != last]
    assert fast == slow
    return fast_total


@pytest.mark.parametrize("text", QUERIES)
def test_same_hits_and_scores_as_whoosh(searcher, monkeypatch, text) -> None:
    q = parse(text)
    assert bm25.plan(q) is not None
    total = same_ranking(searcher, q, monkeypatch)
    assert (total == 0) == (text == "xyzzyq")


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
    assert q is not None and bm25.plan(q) is not None
    assert any(len(group) > 1 for group in bm25.plan(q).required)
    assert same_ranking(searcher, q, monkeypatch) > 0


@pytest.mark.parametrize("limit", [1, 3, 10])
@pytest.mark.parametrize("text", ["ha noi", "nguoi dan", "kinh te viet nam", "cua cac",
                                  "thành phố hồ chí minh"])
def test_proximity_checked_on_the_best_candidates_only(searcher, monkeypatch, text,
                                                       limit) -> None:
    """Optional phrases (proximity boosts) are checked on a few candidates at a time,
    best bound first: the top hits and scores stay Whoosh's, round after round."""
    monkeypatch.setattr(bm25, "FIRST_CHECK", 1)
    q = parse(text)
    assert bm25.plan(q) is not None and any(type(i) is wq.Phrase for i in bm25.plan(q).optional)
    assert same_ranking(searcher, q, monkeypatch, limit=limit) > 50


@pytest.mark.parametrize("text", ["ha noi", "bao", "kinh te", "kinh tế", "nguoi"])
def test_queries_with_reading_boosts_are_scored_here(searcher, text) -> None:
    """The likely reading's boosts keep a query on the fast path (one word too)."""
    likely = readings(searcher, text)
    q = parse(text, readings=likely, accents=accents_of(searcher, likely))
    assert likely and any(isinstance(b, bm25.Shared) for b in q.b.subqueries)
    assert bm25.plan(q) is not None


@pytest.mark.parametrize("text", ["ha -noi", "ha*", '"ha noi"~3', "ha OR noi NOT dan"])
def test_other_shapes_are_left_to_whoosh(text) -> None:
    assert bm25.plan(parse(text)) is None


def test_a_small_cache_gives_the_same_answers(searcher, index_dir) -> None:
    expected = [ranked(searcher, parse(t)) for t in QUERIES]
    bm25.configure(20_000)
    try:
        with store.open_index(index_dir).searcher() as s:
            assert [ranked(s, parse(t)) for t in QUERIES] == expected
            stats = bm25.cache_stats()
            assert stats["budget"] == 20_000 and 0 < stats["bytes"] <= 20_000
    finally:
        bm25.configure(bm25.CACHE_BYTES)


def test_searchers_on_one_index_share_the_cache(index_dir) -> None:
    bm25.configure(bm25.CACHE_BYTES)
    with store.open_index(index_dir).searcher() as a, store.open_index(index_dir).searcher() as b:
        assert a.reader() is not b.reader()
        ranked(a, parse("kinh tế việt nam"))
        held = bm25.cache_stats()["entries"]
        ranked(b, parse("kinh tế việt nam"))
        assert bm25.cache_stats()["entries"] == held > 0


def test_deleted_articles_are_not_found(corpus_copy, tmp_path, monkeypatch) -> None:
    index_dir = tmp_path / "ix"
    index_paths(index_dir, [corpus_copy])
    gone = sorted(corpus_copy.glob("*.txt"))[0]
    with store.open_index(index_dir).searcher() as s:  # the segment's arrays get cached
        assert gone.name in [h.id for h in run(s, "dang", limit=100).hits]
    gone.unlink()
    assert index_paths(index_dir, [corpus_copy]).removed == 1
    with store.open_index(index_dir).searcher() as s:
        for text in ("quan uy", '"quan uy"', "dang"):
            same_ranking(s, parse(text), monkeypatch)
            result = run(s, text, limit=100)
            assert gone.name not in [h.id for h in result.hits]


def test_typo_matches_exclude_the_exact_ones(searcher, monkeypatch) -> None:
    q = parse("kinh doanh")
    typo_q = with_typos(q, searcher.reader())
    only_typos = wq.AndNot(typo_q, q.a)  # as search.query.run asks for them
    the_plan = bm25.plan(only_typos)
    assert the_plan is not None and the_plan.excluded is not None
    total = same_ranking(searcher, only_typos, monkeypatch)
    assert 0 < total < same_ranking(searcher, typo_q, monkeypatch)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 70_000),
                          st.lists(st.integers(1, 300), max_size=1200)),
                min_size=0, max_size=12))
def test_positions_read_without_unpickling_are_whooshs(lists) -> None:
    """Whoosh's own encoding of positions, decoded in bulk, gives them back.

    Each posting is a first position and gaps: small gaps pickle as ``K``, bigger
    as ``M`` or ``J``, 1,000+ positions in batches; all must come back the same.
    """
    fmt = Positions()
    positions = [[first + sum(gaps[:i]) for i in range(len(gaps) + 1)] for first, gaps in lists]
    values = [fmt.encode(p) for p in positions]
    gaps = bm25._Gaps()
    gaps.add(values)
    starts, flat = gaps.positions()
    got = [flat[starts[i]:starts[i + 1]].tolist() for i in range(len(values))]
    assert got == [fmt.decode_positions(v) for v in values]


def test_everyday_positions_skip_the_unpickler() -> None:
    fmt = Positions()
    gaps = bm25._Gaps()
    gaps.add([fmt.encode([3]), fmt.encode([5, 9, 200]), fmt.encode([400, 410, 415])])
    gaps.positions()
    assert gaps.other == 0  # a big absolute first position is read without the unpickler


def test_block_heads_decode_as_whoosh_does(searcher) -> None:
    """Ids and weights read from a block's head equal the whole block's unpickling."""
    fast = 0
    for leaf, _ in searcher.leaf_searchers():
        reader = leaf.reader()
        for fieldname in ("text_f", "title_f", "body"):
            for btext in list(reader.lexicon(fieldname))[::7]:
                m = reader.postings(fieldname, btext)
                m = getattr(m, "child", m)
                if not isinstance(m, W3LeafMatcher):
                    continue
                while True:
                    data = m._postfile.get(m._dataoffset, m._nextoffset - m._dataoffset)
                    whole = pickle.loads(zlib.decompress(data) if m._compression else data)
                    head = bm25._ids_and_weights(data, bool(m._compression), m._blocklength)
                    assert head[:2] == whole[:2]
                    fast += head[2] is None and whole[2] is not None
                    if m._lastblock:
                        break
                    m._goto(m._nextoffset)
    assert fast > 100  # the values were skipped, not just read again


@pytest.mark.parametrize("block", [
    ((1, 2), None, (b"ab", b"cd")),  # three values or fewer pickle without a MARK
    ((1, 2, 3, 4), (1.0, 2.0, 1.0, 3.0), None),  # no values at all
    ((5, 1, 1, 1), None, (b"(c_codecs\nencode\n", b"x", b"y", b"z")),  # a value spelling the marker
])
def test_unusual_blocks_are_read_whole(block) -> None:
    data = pickle.dumps(block, 2)
    for compressed, raw in ((False, data), (True, zlib.compress(data))):
        got = bm25._ids_and_weights(raw, compressed, len(block[0]))
        assert got[:2] == block[:2]


def test_release_drops_a_searchers_arrays(searcher, monkeypatch) -> None:
    q = parse("kinh tế việt nam")
    before = ranked(searcher, q)
    tokens = {bm25._token(leaf.reader()) for leaf, _ in searcher.leaf_searchers()}
    assert any(key[0] in tokens for key in bm25._CACHE.items)
    used = bm25.cache_stats()["bytes"]
    assert bm25.release(searcher) > 0
    assert not any(key[0] in tokens for key in bm25._CACHE.items)
    assert bm25.cache_stats()["bytes"] < used
    assert ranked(searcher, q) == before  # decoded afresh, same answers
