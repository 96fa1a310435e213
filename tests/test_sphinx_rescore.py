"""Re-scoring as the local engine scores: the same numbers, from stored text alone.

No daemons: :mod:`search.sphinx.rescore` gets an article's title and body (what the
cluster's stored JSON holds) and the archive's statistics; here both come from a
local index of real VNTC articles, so every score it computes must be the local
engine's own score for that article, to rounding.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from whoosh import query as wq
from whoosh.searching import Searcher

from bench.quality import build_items, query_forms
from search import lexicon, plan, service, store
from search.boosts import accents_of, ranks_by_reading
from search.engine import LocalEngine
from search.indexer import index_paths
from search.query import parse
from search.readings import readings
from search.results import Hit
from search.schema import MATCH_FIELD
from search.service import SearchRequest
from search.sphinx import rescore
from tests.conftest import vntc_records

#: VNTC articles in the local index the scores are compared on.
ARTICLES = 600
#: Known items whose queries (four forms each) are compared.
ITEMS = 12


@dataclass(frozen=True)
class Local:
    """The local engine, a searcher for its statistics, and the records it holds."""

    engine: LocalEngine
    searcher: Searcher
    records: list[dict[str, str]]


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    """A local index of the first VNTC articles, its engine and a searcher on it."""
    base = tmp_path_factory.mktemp("rescore")
    lines = vntc_records(ARTICLES)
    (base / "archive").mkdir()
    (base / "archive" / "vntc.jsonl").write_text("".join(lines), encoding="utf-8")
    index_paths(base / "index", [base / "archive"])
    searcher = store.open_index(base / "index").searcher()
    try:
        yield Local(LocalEngine.open(base / "index"), searcher,
                    [json.loads(line) for line in lines])
    finally:
        searcher.close()


def _statistics(searcher: Searcher, terms: set[rescore.TermKey]) -> rescore.Statistics:
    """The local index's own statistics, as the cluster's stand in for them."""
    return rescore.Statistics(
        searcher.doc_count_all(),
        {(f, w): searcher.doc_frequency(f, w) for f, w in terms},
        {f: searcher.avg_field_length(f) for f in rescore.COUNTED_IN})


def _local_plan(searcher: Searcher, words: str) -> plan.Plan:
    """The plan of *words* as the local engine builds its query (with its readings)."""
    vocabulary = lexicon.of(searcher)
    likely = readings(vocabulary, words) if ranks_by_reading(words) else None
    the_plan = plan.plan(parse(words, readings=likely or (),
                               accents=accents_of(vocabulary, likely or ())))
    assert the_plan is not None
    return the_plan


def _queries(records: list[dict[str, str]]) -> list[str]:
    rng = random.Random(11)
    known = [query_forms(item.words, rng) for item in build_items(records, ITEMS)]
    return ["quan uy ba dinh", "đà nẵng", "UBND", '"bóng đá"', "bong da OR quan vot",
            *(forms[f] for forms in known for f in ("as_written", "unaccented", "shuffled"))]


def _analysed(local: Local, q: str, hits: list[Hit]
              ) -> tuple[plan.Plan, set[rescore.TermKey], list[rescore.Analysed]]:
    """The local plan of *q*, its terms, and each hit's article analysed for them."""
    the_plan = _local_plan(local.searcher, q)
    terms = rescore.plan_terms(the_plan)
    articles = []
    for hit in hits:
        article = local.engine.article(hit.id)
        assert article is not None
        articles.append(rescore.analyse(article["title"] or "", article["body"] or "", terms))
    return the_plan, terms, articles


def test_scores_are_the_local_engines(local: Local) -> None:
    """Every hit of the local engine's first page, re-scored from its title and body,
    gets the score the local engine gave it."""
    compared = 0
    for q in _queries(local.records):
        hits = service.search(local.engine, SearchRequest(q=q, exact=True, limit=10)).hits
        the_plan, terms, articles = _analysed(local, q, hits)
        got = rescore.scores(the_plan, articles, _statistics(local.searcher, terms))
        assert got == pytest.approx([h.score for h in hits], rel=1e-9), q
        compared += len(hits)
    assert compared > 200


def test_order_is_the_local_engines(local: Local) -> None:
    """Shuffled candidates come back in the local engine's order."""
    q = "quan uy ba dinh"
    hits = service.search(local.engine, SearchRequest(q=q, exact=True, limit=10)).hits
    assert len({h.score for h in hits}) == len(hits) > 3  # no ties to order arbitrarily
    shuffled = list(reversed(hits))
    the_plan, terms, articles = _analysed(local, q, shuffled)
    ranked = rescore.order(the_plan, articles, _statistics(local.searcher, terms))
    assert [shuffled[i].id for i, _ in ranked] == [h.id for h in hits]


def test_an_article_the_query_does_not_match_scores_nothing(local: Local) -> None:
    the_plan = _local_plan(local.searcher, "quan uy ba dinh")
    article = rescore.analyse("Giá vàng tăng", "Giá vàng hôm nay tăng mạnh.",
                              rescore.plan_terms(the_plan))
    stats = _statistics(local.searcher, rescore.plan_terms(the_plan))
    assert rescore.scores(the_plan, [article], stats) == [0.0]


def test_only_the_local_text_fields_are_scorable() -> None:
    """A plan over a metadata field (or no plan: another query shape) keeps searchd's order."""
    assert rescore.scorable(plan.plan(parse("quan uy ba dinh")))
    assert not rescore.scorable(plan.plan(wq.Term("author", "hoa")))
    assert not rescore.scorable(None)


def test_length_ratios_of_a_sample(local: Local) -> None:
    """A field's share of the folded words, from a sample, as the index's averages
    give it (the sample here is the whole archive: equal)."""
    articles = [rescore.analyse(a["title"] or "", a["body"] or "")
                for a in (local.engine.article(r["id"]) for r in local.records) if a]
    ratios = rescore.length_ratios(articles)
    whole = local.searcher.avg_field_length(MATCH_FIELD)
    for name in rescore.COUNTED_IN:
        assert ratios[name] * whole == pytest.approx(local.searcher.avg_field_length(name))


def test_positions_kept_for_the_plans_words_only() -> None:
    """Every word counts in a field's length; positions are kept for the asked ones."""
    article = rescore.analyse("Đà Nẵng mưa lớn", "Mưa lớn ở Đà Nẵng.", {(MATCH_FIELD, "mua")})
    assert article.frequency(MATCH_FIELD, "mua") == 2
    assert article.frequency(MATCH_FIELD, "da") == 0  # not asked for
    assert article.words[MATCH_FIELD] == 9  # title 4 + body 5


