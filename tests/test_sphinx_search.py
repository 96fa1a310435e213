"""Searching the cluster: the same articles, the same Vietnamese behaviour, the same JSON.

Real daemons on loopback (Debian's sphinxsearch), nothing mocked: one 2 shards x 2
replicas cluster for the module, and a local index, both filled with the same
VNTC articles (plus a few dated, placed and authored ones for the filters), through
the public seams: :class:`search.sphinx.engine.SphinxEngine` via the service, the CLI
(``--engine`` and ``VNSEARCH_ENGINE``) and the HTTP app. Skipped with the reason
when searchd or the shared corpora are absent.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bench.quality import build_items, query_forms
from search import service, store
from search.cli import app
from search.engine import ENGINE_ENV, Engine
from search.errors import QueryError
from search.filters import Filters
from search.http import create_app
from search.normalize import fold, nfc
from search.results import SearchResult, article_json
from search.schema import BODY, MATCH_FIELD, TITLE, TITLE_FIELD
from search.service import SearchRequest
from search.sphinx import daemons, rescore
from search.sphinx.topology import daemons as daemons_of
from tests.cluster_checks import sigkill
from tests.cluster_engines import Engines, same_articles

pytestmark = pytest.mark.slow

#: Known items whose top hit is compared (each typed in four forms).
KNOWN_ITEMS = 25


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engines]:
    """A local index and a 2 x 2 cluster with the same articles (stopped at the end)."""
    with same_articles(tmp_path_factory.mktemp("sxsearch")) as both:
        yield both


def _search(engine: Engine, q: str, **options: Any) -> SearchResult:
    return service.search(engine, SearchRequest(q=q, exact=True, **options))


def _all_ids(engine: Engine, q: str, **options: Any) -> set[str]:
    """Every matching article's id (page by page)."""
    first = _search(engine, q, limit=100, **options)
    ids = {h.id for h in first.hits}
    for page in range(2, first.pages + 1):
        ids |= {h.id for h in _search(engine, q, limit=100, page=page, **options).hits}
    assert len(ids) == first.total
    return ids


ALL_WORDS = ["chính phủ", "quan uy ba dinh", "bóng đá", "thanh pho ho chi minh", "giá vàng",
             "hoc sinh thi tot nghiep", "đà nẵng", "dich cum ga", "cong an bat giu"]


@pytest.mark.parametrize("q", ALL_WORDS)
def test_all_words_queries_find_the_same_articles(engines: Engines, q: str) -> None:
    assert _all_ids(engines.cluster, q) == _all_ids(engines.local, q)


@pytest.mark.parametrize(("typed", "same_as"), [
    ("da nang", "Đà Nẵng"),        # accents optional
    ("hoà bình", "hòa bình"),      # old and new tone placement
    ("dong nai", "Đồng Nai"),      # đ folds to d
])
def test_accents_tone_placement_and_d(engines: Engines, typed: str, same_as: str) -> None:
    ids = _all_ids(engines.cluster, typed)
    assert ids and ids == _all_ids(engines.cluster, same_as) == _all_ids(engines.local, typed)


def _text(engines: Engines, doc_id: str) -> str:
    article = engines.cluster.article(doc_id)
    assert article is not None
    return nfc(f"{article['title']}\n{article['body']}").lower()


def test_exact_accents_rank_first(engines: Engines) -> None:
    """``mưa`` ranks articles writing "mưa" above those with only "mua" (buy)."""
    hits = _search(engines.cluster, "mưa", limit=10).hits
    assert all("mưa" in _text(engines, h.id) for h in hits[:5])
    local_top = {h.id for h in _search(engines.local, "mưa", limit=10).hits}
    assert all("mưa" in _text(engines, i) for i in local_top)


def test_abbreviations_find_their_full_forms(engines: Engines) -> None:
    ids = _all_ids(engines.cluster, "UBND")
    assert ids == _all_ids(engines.local, "UBND")
    assert any("ubnd" not in _text(engines, i) and "ủy ban nhân dân" in _text(engines, i)
               for i in ids)


@pytest.mark.parametrize("q", ['"bóng đá"', '"thanh pho ho chi minh"', '"bóng đá" -world',
                               "cong an -bà", 'title:"bóng đá"', "bong da OR quan vot"])
def test_phrases_exclusions_fields_and_or(engines: Engines, q: str) -> None:
    assert _all_ids(engines.cluster, q) == _all_ids(engines.local, q)


@pytest.mark.parametrize(("q", "filters"), [
    ("thi đua", Filters(since="2022", until="2023-12")),
    ("thi đua date:2023", Filters()),
    ('place:"Ba Đình"', Filters()),
    ("thi dua", Filters(place="Hà Nội")),
    ("thi đua", Filters(author="Trần Hòa")),
    ("mưa", Filters(source="Tuổi Trẻ")),
])
def test_filters_as_locally(engines: Engines, q: str, filters: Filters) -> None:
    ids = _all_ids(engines.cluster, q, filters=filters)
    assert ids and ids == _all_ids(engines.local, q, filters=filters)


@pytest.mark.parametrize("q", ["bóng đá", "thi đua", "ha noi"])
def test_facets_as_locally(engines: Engines, q: str) -> None:
    cluster = _search(engines.cluster, q, facets=True).facets
    local = _search(engines.local, q, facets=True).facets
    assert cluster == local and cluster and any(cluster.values())


def test_date_order_as_locally(engines: Engines) -> None:
    cluster = [h.id for h in _search(engines.cluster, "thi đua", sort="date").hits]
    local = [h.id for h in _search(engines.local, "thi đua", sort="date").hits]
    assert cluster[:2] == local[:2] == ["dated-0", "dated-2"]


def test_the_same_json_shape(engines: Engines) -> None:
    cluster = _search(engines.cluster, "quan uy ba dinh", facets=True).as_dict()
    local = _search(engines.local, "quan uy ba dinh", facets=True).as_dict()
    assert set(cluster) == set(local)
    assert set(cluster["hits"][0]) == set(local["hits"][0])
    assert set(cluster["hits"][0]["snippets"][0]) == set(local["hits"][0]["snippets"][0])
    doc_id = local["hits"][0]["id"]
    cluster_article, local_article = engines.cluster.article(doc_id), engines.local.article(doc_id)
    assert cluster_article is not None and local_article is not None
    assert article_json(cluster_article) == article_json(local_article)


def test_snippets_marked_by_vnsearchs_highlighter(engines: Engines) -> None:
    hit = _search(engines.cluster, "quan uy ba dinh").hits[0]
    marked = [fold(s.text[a:b]).lower() for s in hit.snippets for a, b in s.matches]
    assert {"quan", "uy", "ba", "dinh"} <= set(marked)


def test_relaxed_when_all_words_find_nothing(engines: Engines) -> None:
    q = "bóng đá xyzzyqwv"
    cluster, local = _search(engines.cluster, q), _search(engines.local, q)
    assert cluster.fallback and cluster.relaxed == local.relaxed == "all_but_one"
    assert {h.id for h in cluster.hits} <= _all_ids(engines.local, "bóng đá")
    assert "fallback" in [n.kind for n in cluster.notices]


@pytest.mark.parametrize(("q", "named"), [
    ("bong*", "prefix"), ("author:hoa", "author:"), ("-bóng", "exclusions"),
])
def test_what_the_cluster_cannot_run_is_said(engines: Engines, q: str, named: str) -> None:
    with pytest.raises(QueryError, match=named):
        _search(engines.cluster, q)


#: The known-item top-1 agreement this module holds the cluster to. The issue asks for
#: 90%. With searchd's ranker alone (search.sphinx.sphinxql.RANKER) it was 94.4% here
#: (2,000 VNTC articles, 25 items x 4 forms: 185/196), 88.4% at 3,000 and 87.9% at
#: 10,000 (bench/cluster.py, 100 items x 4 forms), 77.3% at 84,132: its BM25 has no
#: field lengths on real-time indexes and each shard weighs words by its own counts.
#: Since searchd's best 30 are re-scored by the local BM25F over the archive's
#: statistics (search.sphinx.rescore): 196/196 here, 740/740 at 3,000 and 776/776 at
#: 10,000. What could still differ: equal scores (duplicate articles: the local index
#: puts the one indexed first, the cluster searchd's order) and near-ties moved by the
#: sampled field averages (search.sphinx.statistics). Never above what was measured.
MIN_AGREEMENT = 0.97


def test_known_item_top1_agrees_with_the_local_engine(engines: Engines) -> None:
    """Known items as bench/quality.py cuts them (a distinctive span, in four forms):
    the cluster's top hit is the local engine's on at least :data:`MIN_AGREEMENT`
    of the queries (the issue's 90%)."""
    items = build_items(engines.records, KNOWN_ITEMS)
    rng = random.Random(11)
    agree = total = 0
    for item in items:
        forms = query_forms(item.words, rng)
        for form in ("as_written", "unaccented", "tone_swapped", "shuffled"):
            local = _search(engines.local, forms[form], limit=1).hits
            cluster = _search(engines.cluster, forms[form], limit=1).hits
            total += 1
            agree += [h.id for h in local] == [h.id for h in cluster]
    assert agree / total >= MIN_AGREEMENT, f"top-1 agreement {agree}/{total}"


def test_pages_past_the_rescored_window_continue_it(engines: Engines) -> None:
    """The re-ranked window (searchd's best 30, in the local order) and the pages past
    it (searchd's order) together list searchd's best matches once each."""
    q = "chính phủ"
    paged = [h.id for page in range(1, 6)
             for h in _search(engines.cluster, q, limit=10, page=page).hits]
    whole = [h.id for h in _search(engines.cluster, q, limit=50).hits]
    assert len(paged) == len(set(paged)) == 50
    assert paged == whole
    assert set(whole[: rescore.WINDOW]) == {h.id for h in _search(
        engines.cluster, q, limit=rescore.WINDOW).hits}


def test_the_rescored_window_scores_as_the_local_engine(engines: Engines) -> None:
    """The top hits' scores are the local engine's (to the estimate of the fields'
    average lengths: :mod:`search.sphinx.statistics`)."""
    for q in ("quan uy ba dinh", "đà nẵng", "giá vàng"):
        local = _search(engines.local, q, limit=5).hits
        cluster = _search(engines.cluster, q, limit=5).hits
        assert [h.id for h in cluster][:3] == [h.id for h in local][:3], q
        assert [h.score for h in cluster] == pytest.approx([h.score for h in local], rel=0.05)


def test_statistics_are_the_archives(engines: Engines) -> None:
    """What the cluster counts for the re-ranking is what the local index holds: its
    articles, each term's document frequency per field, the folded text's average
    length; the other fields' averages are estimated from a sample."""
    # the local index beside the cluster (tests.cluster_engines.same_articles)
    searcher = store.open_index(engines.directory.parent / "index").searcher()
    try:
        terms = {(MATCH_FIELD, "dinh"), (TITLE_FIELD, "dinh"), (TITLE, "đình"), (BODY, "đình"),
                 (MATCH_FIELD, "nang"), (BODY, "nẵng"), (MATCH_FIELD, "xyzzyq")}
        stats = engines.cluster.statistics().of(terms)
        assert stats.documents == searcher.doc_count_all()
        assert stats.frequencies == {t: searcher.doc_frequency(*t) for t in terms}
        assert stats.average_lengths[MATCH_FIELD] == pytest.approx(
            searcher.avg_field_length(MATCH_FIELD))
        for name in rescore.COUNTED_IN:
            assert stats.average_lengths[name] == pytest.approx(
                searcher.avg_field_length(name), rel=0.15)
    finally:
        searcher.close()


def test_cli_and_env_use_the_cluster(engines: Engines, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    got = runner.invoke(app, ["search", "quan uy ba dinh", "--exact", "--json",
                              "--engine", engines.url])
    assert got.exit_code == 0, got.output
    expected = _search(engines.cluster, "quan uy ba dinh").as_dict()
    data = json.loads(got.stdout)
    assert [h["id"] for h in data["hits"]] == [h["id"] for h in expected["hits"]]
    monkeypatch.setenv(ENGINE_ENV, engines.url)
    shown = runner.invoke(app, ["show", data["hits"][0]["id"], "--json"])
    assert shown.exit_code == 0 and json.loads(shown.stdout)["id"] == data["hits"][0]["id"]
    stats = runner.invoke(app, ["stats", "--json"])
    assert json.loads(stats.stdout)["documents"] == engines.cluster.documents()
    refused = runner.invoke(app, ["search", "bong*"])
    assert refused.exit_code == 2 and "cannot run prefix" in refused.output


def test_http_serves_the_cluster(engines: Engines, tmp_path: Path) -> None:
    client = TestClient(create_app(tmp_path / "no-index", engine_url=engines.url))
    answer = client.get("/search", params={"q": "quan uy ba dinh", "exact": "true"})
    assert answer.status_code == 200
    total = _search(engines.local, "quan uy ba dinh").total
    assert answer.json()["total"] == total
    page = client.get("/", params={"q": "quan uy ba dinh"})  # and those lacking a word
    shown = service.search(engines.local, SearchRequest(q="quan uy ba dinh")).total
    assert page.status_code == 200 and f"{shown} kết quả" in page.text
    assert "<mark>Quận</mark> <mark>ủy</mark>" in page.text
    assert client.get("/health").json()["documents"] == engines.cluster.documents()


def test_a_shard_down_marks_the_results_partial(engines: Engines) -> None:
    """Both replicas of shard 0 killed: the answer is marked partial (never silently
    incomplete) and says so; after ``up`` the results are whole again."""
    whole = _search(engines.cluster, "chính phủ")
    for daemon in daemons_of(engines.topology):
        if daemon.shard == 0:
            sigkill(engines.directory, daemon)
    try:
        cut = _search(engines.cluster, "chính phủ")
        assert cut.partial and cut.total < whole.total
        assert "partial" in [n.kind for n in cut.notices]
        got = CliRunner().invoke(app, ["search", "chính phủ", "--exact", "--engine", engines.url])
        assert got.exit_code == 0 and "incomplete" in got.output
    finally:
        daemons.up(engines.directory, shards=2, replicas=2)
    again = _search(engines.cluster, "chính phủ")
    assert not again.partial and again.total == whole.total
