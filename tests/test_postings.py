"""Bounded posting walks, checked against Whoosh's own queries on real articles."""

from __future__ import annotations

import pytest
from whoosh import query as wq

from search import postings, store
from search.indexer import index_paths
from search.schema import MATCH_FIELD, TITLE_FIELD


@pytest.fixture(scope="module")
def searcher(segmented_index):
    with store.open_index(segmented_index).searcher() as s:
        assert len(s.leaf_searchers()) > 1  # the walks must cross segments
        yield s


def whoosh_docs(searcher, q) -> list[int]:
    return sorted(searcher.docs_for_query(q))


def phrase_counts(searcher, words) -> dict[int, int]:
    """Whoosh's phrase matcher: global docnum → times the words stand in a row."""
    counts = {}
    for leaf, offset in searcher.leaf_searchers():
        m = wq.Phrase(MATCH_FIELD, words).matcher(leaf)
        while m.is_active():
            counts[offset + m.id()] = len(m.spans())
            m.next()
    return counts


@pytest.mark.parametrize("groups", [
    [["ha"], ["noi"]],
    [["nguoi"], ["dan", "dang", "doan"]],
    [["viet"], ["nam"], ["kinh", "te"]],
])
def test_together_is_whooshs_and(searcher, groups) -> None:
    q = wq.And([wq.Or([wq.Term(MATCH_FIELD, w) for w in g]) for g in groups])
    expected = whoosh_docs(searcher, q)
    assert len(expected) > 20
    assert postings.together(searcher, MATCH_FIELD, groups, wanted=10**6) == expected
    assert postings.together(searcher, MATCH_FIELD, groups, wanted=7) == expected[:7]


def test_together_missing_word(searcher) -> None:
    assert postings.together(searcher, TITLE_FIELD, [["ha"], ["xyzzyq"]], wanted=5) == []
    assert postings.together(searcher, TITLE_FIELD, [["ha"], []], wanted=5) == []


def test_a_short_budget_gives_a_prefix_of_the_answer(searcher) -> None:
    groups = [["tphcm"], ["nguoi"], ["nam"]]
    full = postings.together(searcher, MATCH_FIELD, groups, wanted=10**6)
    short = postings.together(searcher, MATCH_FIELD, groups, wanted=10**6, steps=20)
    assert len(short) < len(full) and short == full[: len(short)]


@pytest.mark.parametrize("words", [["ha", "noi"], ["uy", "ban", "nhan", "dan"], ["dan", "ha"]])
def test_in_a_row_is_whooshs_phrase(searcher, words) -> None:
    expected = phrase_counts(searcher, words)
    assert expected
    found = {}
    for leaf, docnum, times in postings.in_a_row(searcher, MATCH_FIELD, words, wanted=10**6,
                                                 steps=10**7):
        offset = dict((id(s), o) for s, o in searcher.leaf_searchers())[id(leaf)]
        found[offset + docnum] = times
    assert found == expected


def test_in_a_row_stops_at_wanted(searcher) -> None:
    got = list(postings.in_a_row(searcher, MATCH_FIELD, ["ha", "noi"], wanted=3))
    assert len(got) == 3 and all(times >= 1 for _, _, times in got)
    assert list(postings.in_a_row(searcher, MATCH_FIELD, ["ha", "xyzzyq"], wanted=3)) == []


def test_deleted_articles_are_not_walked(corpus_copy, tmp_path) -> None:
    index_dir = tmp_path / "ix"
    index_paths(index_dir, [corpus_copy])
    gone = sorted(corpus_copy.glob("*.txt"))[0]
    gone.unlink()
    assert index_paths(index_dir, [corpus_copy]).removed == 1
    with store.open_index(index_dir).searcher() as s:
        ids = [s.stored_fields(d)["id"] for d in
               postings.together(s, MATCH_FIELD, [["quan"]], wanted=10**6)]
        assert gone.name not in ids and len(ids) == s.doc_count()
