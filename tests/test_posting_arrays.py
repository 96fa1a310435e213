"""Posting lists as cached numpy arrays (:mod:`search.posting_arrays`): the same
answers whatever the cache holds, shared by searchers, released on demand, and
deleted articles left out."""

from __future__ import annotations

import pytest
from whoosh import query as wq

from search import posting_arrays, store
from search.generations import registry
from search.indexer import index_paths
from search.query import parse, run
from search.schema import MATCH_FIELD
from tests.same_as_whoosh import QUERIES, ranked, same_ranking


@pytest.fixture(scope="module")
def index_dir(segmented_index):
    return segmented_index


@pytest.fixture(scope="module")
def searcher(index_dir):
    with store.open_index(index_dir).searcher() as s:
        assert len(s.leaf_searchers()) > 1  # arrays of several segments
        yield s


def test_a_small_cache_gives_the_same_answers(searcher, index_dir) -> None:
    expected = [ranked(searcher, parse(t)) for t in QUERIES]
    posting_arrays.configure(20_000)
    try:
        with store.open_index(index_dir).searcher() as s:
            assert [ranked(s, parse(t)) for t in QUERIES] == expected
            stats = posting_arrays.cache_stats()
            assert stats["budget"] == 20_000 and 0 < stats["bytes"] <= 20_000
    finally:
        posting_arrays.configure(posting_arrays.CACHE_BYTES, posting_arrays.CACHE_MOST)


def test_searchers_on_one_index_share_the_cache(index_dir) -> None:
    posting_arrays.configure(posting_arrays.CACHE_BYTES, posting_arrays.CACHE_MOST)
    with store.open_index(index_dir).searcher() as a, store.open_index(index_dir).searcher() as b:
        assert a.reader() is not b.reader()
        ranked(a, parse("kinh tế việt nam"))
        held = posting_arrays.cache_stats()["entries"]
        ranked(b, parse("kinh tế việt nam"))
        assert posting_arrays.cache_stats()["entries"] == held > 0


def test_release_drops_a_searchers_arrays(searcher) -> None:
    q = parse("kinh tế việt nam")
    before = ranked(searcher, q)
    used = posting_arrays.cache_stats()["bytes"]
    assert registry.release(searcher)["posting arrays"] > 0  # its segments' arrays were cached …
    assert registry.release(searcher)["posting arrays"] == 0  # … and none are left
    assert posting_arrays.cache_stats()["bytes"] < used
    assert ranked(searcher, q) == before  # decoded afresh, same answers


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


def test_cached_arrays_hold_whooshs_values(searcher) -> None:
    """Weights and positions are cached in the smallest integers that hold them
    (uint8, mostly), yet read back as exactly what Whoosh's own matchers report."""
    kinds = set()
    for leaf, _ in searcher.leaf_searchers():
        reader = leaf.reader()
        words = sorted(reader.lexicon("text_f"), key=lambda b: -reader.doc_frequency("text_f", b))
        for btext in words[:20] + words[-20:]:  # everyday words and rare ones
            ids, weights = posting_arrays.postings(reader, "text_f", btext)
            kinds.add(weights.dtype.name)
            matcher = reader.postings("text_f", btext)
            expected = []
            while matcher.is_active():
                expected.append((matcher.id(), matcher.weight(), matcher.value_as("positions")))
                matcher.next()
            assert ids.tolist() == [doc for doc, _, _ in expected]
            assert weights.astype(float).tolist() == [w for _, w, _ in expected]
            keys = posting_arrays.positions(reader, "text_f", btext, docs=ids)
            assert keys.tolist() == [doc << 32 | p for doc, _, ps in expected for p in ps]
    assert "uint8" in kinds


def test_the_budget_grows_with_the_archive_open(index_dir, monkeypatch) -> None:
    """The cache holds CACHE_PER_ARTICLE bytes an open article, between its least and
    most budget: a big archive's everyday lists do not evict each other (at 300k
    articles a fixed 256 MB doubled the warm p50), a small one keeps the least."""
    monkeypatch.setattr(posting_arrays, "CACHE_PER_ARTICLE", 100_000)
    posting_arrays.configure(1_000, 10**12)
    try:
        with store.open_index(index_dir).searcher() as s:
            run(s, "kinh tế việt nam", with_snippets=False)
            articles = s.doc_count_all()
            assert posting_arrays.cache_stats()["budget"] >= 100_000 * articles  # and other open ones
        posting_arrays.configure(1_000, 50_000)
        with store.open_index(index_dir).searcher() as s:
            run(s, "kinh tế việt nam", with_snippets=False)
            assert posting_arrays.cache_stats()["budget"] == 50_000  # the most
            assert posting_arrays.cache_stats()["bytes"] <= 50_000
    finally:
        posting_arrays.configure(posting_arrays.CACHE_BYTES, posting_arrays.CACHE_MOST)


@pytest.mark.parametrize("combine", [wq.And, wq.Or])
def test_filters_combine_as_whoosh_does(searcher, combine) -> None:
    words = ["kinh", "te", "viet", "nam", "ha", "noi"]
    for a, b, c in [words[0:3], words[2:5], words[3:6]]:
        flt = combine([wq.Term(MATCH_FIELD, a), wq.Term(MATCH_FIELD, b),
                       combine([wq.Term(MATCH_FIELD, c)])])
        expected = sorted(searcher.docs_for_query(flt))
        got = posting_arrays.allowed(searcher, flt)
        assert got.tolist() == expected and len(expected)


def test_term_weights_are_whooshs_term_statistics(searcher) -> None:
    """One walk over a field's dictionary gives every term with the weight Whoosh's
    own term info reports, in the same order, segment by segment."""
    for leaf, _ in searcher.leaf_searchers():
        reader = leaf.reader()
        for field in ("title", "body", MATCH_FIELD):
            expected = [(t, info.weight()) for t, info in reader.iter_field(field)]
            assert list(posting_arrays.term_weights(reader, field)) == expected
            assert expected
        assert list(posting_arrays.term_weights(reader, "no_such_field")) == []


def test_common_postings_are_the_documents_holding_every_word(searcher) -> None:
    for leaf, _ in searcher.leaf_searchers():
        reader = leaf.reader()
        for words in (["kinh", "te"], ["viet", "nam", "ha"], ["cua", "cac"]):
            btexts = [w.encode() for w in words]
            held = [set(posting_arrays.postings(reader, MATCH_FIELD, b)[0].tolist())
                    for b in btexts]
            got = posting_arrays.common_postings(reader, MATCH_FIELD, btexts)
            assert got.tolist() == sorted(set.intersection(*held))
            assert posting_arrays.common_postings(reader, MATCH_FIELD, btexts) is got  # cached
