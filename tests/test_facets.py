"""Facet counts on archives where some, most or all matches lack a place, date, author
or source (the crash that broke every results page of the baomoi crawl)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from search import bm25, store
from search.filters import Filters
from search.indexer import index_paths
from search.query import run
from tests.conftest import vntc_records
from tests.test_query import search

WITH_PLACE = "Giá vàng tăng ở Hà Nội\n\nGiá vàng hôm nay tại Hà Nội tăng mạnh theo thế giới.\n"
WITHOUT_PLACE = "Giá vàng giảm\n\nGiá vàng thế giới giảm sâu trong phiên đêm qua.\n"
WITH_EVERYTHING = {
    "id": "full-1",
    "title": "Giá vàng ở Đà Nẵng",
    "body": "Giá vàng tại Đà Nẵng đi ngang trong tuần.",
    "date": "2023-05-04",
    "author": "Trần Hòa",
    "source": "Tuổi Trẻ",
}


def _build(root: Path, files: dict[str, str], procs: int = 1) -> Path:
    archive = root / "archive"
    archive.mkdir()
    for name, text in files.items():
        (archive / name).write_text(text, encoding="utf-8")
    index_dir = root / "ix"
    summary = index_paths(index_dir, [archive], procs=procs)
    assert not summary.failed
    return index_dir


def _facets(index_dir: Path, query: str, filters: Filters | None = None) -> dict:
    with store.open_index(index_dir).searcher() as searcher:
        result = run(searcher, query, facets=True, filters=filters)
    assert result.facets is not None
    return result.facets


def test_two_files_one_without_a_place(tmp_path: Path) -> None:
    index_dir = _build(tmp_path, {"a.txt": WITH_PLACE, "b.txt": WITHOUT_PLACE})
    facets = _facets(index_dir, "gia vang")
    assert facets["place"] == {"Hà Nội": 1}
    assert facets["year"] == {} and facets["author"] == {} and facets["source"] == {}


def test_no_match_has_any_metadata(tmp_path: Path) -> None:
    index_dir = _build(tmp_path, {"b.txt": WITHOUT_PLACE, "c.txt": WITHOUT_PLACE + "Thêm."})
    assert _facets(index_dir, "gia vang") == {"place": {}, "year": {}, "source": {}, "author": {}}


def test_mixed_metadata(tmp_path: Path) -> None:
    index_dir = _build(tmp_path, {
        "a.txt": WITH_PLACE,
        "b.txt": WITHOUT_PLACE,
        "c.jsonl": json.dumps(WITH_EVERYTHING, ensure_ascii=False) + "\n",
    })
    facets = _facets(index_dir, "gia vang")
    assert facets["place"] == {"Hà Nội": 1, "Đà Nẵng": 1}
    assert facets["year"] == {"2023": 1}
    assert facets["author"] == {"Trần Hòa": 1}
    assert facets["source"] == {"Tuổi Trẻ": 1}
    # Filtered to the one full article, every facet counts it once.
    only = _facets(index_dir, "gia vang", Filters(place="Đà Nẵng"))
    assert only["place"] == {"Đà Nẵng": 1} and only["year"] == {"2023": 1}


def test_a_later_run_that_adds_no_place_keeps_facets_working(tmp_path: Path) -> None:
    """An incremental run whose new articles name no place writes a segment with no
    place column: counting facets over both segments once raised AttributeError in
    Whoosh (and the search page, which always counts facets, answered 500)."""
    index_dir = _build(tmp_path, {"a.txt": WITH_PLACE})
    (tmp_path / "archive" / "b.txt").write_text(WITHOUT_PLACE, encoding="utf-8")
    assert not index_paths(index_dir, [tmp_path / "archive"]).failed
    with store.open_index(index_dir).searcher() as searcher:
        assert len(searcher.reader().leaf_readers()) == 2  # the case: two segments
    facets = _facets(index_dir, "gia vang")
    assert facets["place"] == {"Hà Nội": 1} and facets["year"] == {}
    assert _facets(index_dir, "giam sau")["place"] == {}


def test_a_real_later_run_without_places(tmp_path: Path) -> None:
    """The same on real articles: VNTC texts first, then articles with no place."""
    files = {f"{i}.txt": json.loads(line)["text"] for i, line in enumerate(vntc_records(60))}
    index_dir = _build(tmp_path, files)
    before = _facets(index_dir, "nguoi")
    (tmp_path / "archive" / "later.txt").write_text(WITHOUT_PLACE, encoding="utf-8")
    assert not index_paths(index_dir, [tmp_path / "archive"]).failed
    assert _facets(index_dir, "nguoi")["place"] == before["place"]


@pytest.mark.slow
def test_real_archive_in_several_segments(tmp_path: Path) -> None:
    """VNTC articles (no dates, authors; places in some) written by two processes:
    place counts agree with filtering by that place."""
    files = {f"{i}.txt": json.loads(line)["text"] for i, line in enumerate(vntc_records(400))}
    files["nothing.txt"] = WITHOUT_PLACE
    index_dir = _build(tmp_path, files, procs=2)
    with store.open_index(index_dir).searcher() as searcher:
        result = run(searcher, "nguoi", facets=True, limit=100)
        assert result.facets is not None and result.facets["place"]
        assert result.total > sum(result.facets["place"].values()) / 10
        for place, count in list(result.facets["place"].items())[:3]:
            narrowed = run(searcher, "nguoi", filters=Filters(place=place), limit=1)
            assert narrowed.total >= count  # the filter also matches the place's districts


def test_cli_facets_json(tmp_path: Path, cli) -> None:
    index_dir = _build(tmp_path, {"a.txt": WITH_PLACE, "b.txt": WITHOUT_PLACE})
    result = cli("search", "gia vang", "--facets", "--json", "--index", index_dir)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["facets"]["place"] == {"Hà Nội": 1}
    text = cli("search", "gia vang", "--facets", "--index", index_dir)
    assert text.exit_code == 0 and "Hà Nội 1" in text.output


def _found(index_dir: Path, query: str, *, fast: bool, monkeypatch: pytest.MonkeyPatch,
           **options: object) -> tuple[dict, list[str], int]:
    """Facets, hit ids and total of one search, by the whole-list scorer or (not
    *fast*) by Whoosh's faceting collector."""
    if not fast:
        monkeypatch.setattr(bm25, "usable", lambda s: False)
    try:
        r = search(index_dir, query, facets=True, limit=30, **options)
    finally:
        monkeypatch.undo()
    return r.facets, [h.id for h in r.hits], r.total


@pytest.mark.parametrize("query", ["dang", "quan uy ba dinh", "ha noi", "chinh phu",
                                   "cong an bat giu doi tuong", "xyzzyq"])
def test_facets_counted_from_the_scorers_matches_are_whooshs(
        vntc_index: Path, seed_index: Path, query: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path counts facets over the matches it scored, through Whoosh's own
    categorizers: the same counts as the faceting collector (places, years,
    authors, sources; on the seeds and 1,500 VNTC articles), the same hits, also
    for the articles lacking one word, and under a filter."""
    for index_dir in (seed_index, vntc_index):
        for options in ({}, {"filters": Filters(place="Hà Nội")}):
            fast = _found(index_dir, query, fast=True, monkeypatch=monkeypatch, **options)
            slow = _found(index_dir, query, fast=False, monkeypatch=monkeypatch, **options)
            assert fast[0] == slow[0] and fast[2] == slow[2]
            assert set(fast[1]) == set(slow[1]) or len(fast[1]) == 30  # ties at the cut


@pytest.mark.parametrize("query", ["dang", "quan uy ba dinh", "chinh phu", "xyzzyq",
                                   "nha uong ruou vuot", "cong an xyzzyq bat giu"])
def test_newest_first_from_the_scorers_matches_is_whooshs_order(
        seed_index: Path, vntc_index: Path, query: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``sort="date"`` from the fast scorer's matches orders them as Whoosh's sorting
    collector does (newest first, undated last, ties by larger number), with the
    same keys, totals and facets (on the dated seeds and the undated VNTC articles)."""
    for index_dir in (seed_index, vntc_index):
        for page in (1, 2):
            got = _dated(index_dir, query, page, fast=True, monkeypatch=monkeypatch)
            want = _dated(index_dir, query, page, fast=False, monkeypatch=monkeypatch)
            assert got == want


def _dated(index_dir: Path, query: str, page: int, *, fast: bool,
           monkeypatch: pytest.MonkeyPatch) -> tuple[object, ...]:
    if not fast:
        monkeypatch.setattr(bm25, "usable", lambda s: False)
    try:
        r = search(index_dir, query, sort="date", facets=True, limit=7, page=page)
    finally:
        monkeypatch.undo()
    return r.total, r.facets, [(h.id, h.score) for h in r.hits]
