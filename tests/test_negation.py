"""``a -b`` leaves out every article holding ``b``, whichever path runs the query."""

from __future__ import annotations

from pathlib import Path

import pytest

from search import store
from search.indexer import index_paths
from search.negation import Without
from search.query import run


@pytest.fixture(scope="module")
def excluded_first(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index where the excluded word's first article comes before the wanted words'
    first, and that article holds both: what Whoosh's own ANDNOT let through."""
    root = tmp_path_factory.mktemp("negation")
    archive = root / "archive"
    archive.mkdir()
    (archive / "a.txt").write_text("Công tác tuyên truyền\n\nBài chỉ có tuyên truyền.",
                                   encoding="utf-8")
    (archive / "b.txt").write_text("Chính phủ và tuyên truyền\n\nChính phủ chỉ đạo tuyên truyền.",
                                   encoding="utf-8")
    (archive / "c.txt").write_text("Chính phủ họp\n\nChính phủ họp phiên thường kỳ.",
                                   encoding="utf-8")
    index_paths(root / "ix", [archive])
    return root / "ix"


@pytest.mark.parametrize("how", [{"sort": "relevance"}, {"sort": "date"}, {"facets": True}])
def test_an_excluded_word_leaves_out_the_first_match_too(excluded_first, how) -> None:
    with store.open_index(excluded_first).searcher() as searcher:
        result = run(searcher, "chinh phu -tuyen", exact=True, **how)
        assert [h.id for h in result.hits] == ["c.txt"] and result.total == 1


def test_without_is_an_andnot_to_whoosh(excluded_first) -> None:
    from whoosh import query as wq

    q = Without(wq.Term("text_f", "chinh"), wq.Term("text_f", "tuyen"))
    assert isinstance(q, wq.AndNot) and isinstance(q.with_boost(2.0), Without)
    with store.open_index(excluded_first).searcher() as searcher:
        assert [searcher.stored_fields(d)["id"] for d in q.docs(searcher)] == ["c.txt"]
