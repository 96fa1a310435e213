"""The service layer: request checks, notices, JSON, and the engine seam under it.

Through the public API only (:mod:`search.service`, :mod:`search.engine`), on the
bundled seeds and on a few hundred real VNTC articles.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from search import service
from search.complete import Completion
from search.engine import Engine, LocalEngine
from search.errors import QueryError
from search.filters import Filters
from search.highlight import Marking
from search.http import create_app
from search.indexer import IndexSummary, Progress, index_paths
from search.limits import MAX_DEPTH, MAX_PAGE, MAX_QUERY_CHARS
from search.readings import Reading
from search.results import SearchResult
from search.service import Notice, SearchRequest
from search.spelling import Suggestion
from tests.conftest import CORPUS, SEED_IDS, vntc_records

#: Every key a search answer had before notices existed: none may go.
RESULT_KEYS = {"query", "total", "page", "limit", "took_ms", "sort", "fallback", "relaxed",
               "partial", "suggestion", "corrected", "typos", "missing_one", "hits"}


@pytest.fixture(scope="module")
def seeds(seed_index: Path) -> LocalEngine:
    return LocalEngine.open(seed_index)


def kinds(result: SearchResult) -> list[str]:
    return [n.kind for n in result.notices]


def ask(engine: Engine, q: str, **options: Any) -> SearchResult:
    return service.search(engine, SearchRequest(q=q, **options))


# ------------------------------------------------------------------ request checks


@pytest.mark.parametrize(
    ("options", "param", "says"),
    [
        ({"sort": "size"}, "sort", "--sort must be 'relevance' or 'date', not 'size'"),
        ({"page": MAX_PAGE + 1}, "page", f"page must be between 1 and {MAX_PAGE}"),
        ({"page": 0}, "page", "page must be between"),
        ({"limit": 0}, "limit", "limit must be between"),
        ({"limit": 100, "page": MAX_DEPTH // 100 + 1}, "page", "page too deep"),
        ({"q": "x" * (MAX_QUERY_CHARS + 1)}, "q", "query too long"),
    ],
)
def test_bad_requests_name_the_parameter(seeds, options, param, says) -> None:
    request = SearchRequest(**{"q": "dang", **options})
    with pytest.raises(QueryError) as info:
        service.search(seeds, request)
    assert info.value.param == param and says in str(info.value)
    with pytest.raises(QueryError):  # the rule itself, without an engine
        service.check(request)


def test_requests_at_the_limits_run(seeds) -> None:
    assert ask(seeds, "dang", limit=10, page=MAX_DEPTH // 10).hits == []
    assert ask(seeds, "x" * MAX_QUERY_CHARS).total == 0


def test_the_page_moves_into_the_same_limits() -> None:
    assert service.deepest_page(10) == min(MAX_PAGE, MAX_DEPTH // 10)
    assert service.deepest_page(100) == MAX_DEPTH // 100
    assert service.deepest_page(1) == MAX_PAGE


def test_suggest_checks_its_limit_and_prefix(seeds) -> None:
    assert any(c.text == "Ba Đình" for c in service.suggest(seeds, "ba d"))
    with pytest.raises(QueryError) as info:
        service.suggest(seeds, "ba", limit=0)
    assert info.value.param == "limit"
    with pytest.raises(QueryError) as info:
        service.suggest(seeds, "x" * 1000)
    assert info.value.param == "q"


# ------------------------------------------------------------------ notices


def test_a_corrected_query_says_so(seeds) -> None:
    result = ask(seeds, "quaanj uyr")
    assert result.notices == (Notice(kind="corrected", query="Quận ủy"),)
    assert result.total and result.corrected


def test_a_suggestion_alone_keeps_the_hits(seeds) -> None:
    result = ask(seeds, "quan uy ba dinh")
    assert result.notices == (Notice(kind="suggestion", query="Quận ủy Ba Đình"),
                              Notice(kind="missing_one", count=2))
    assert not result.corrected and result.total == 4 and result.missing_one == 2


def test_exact_turns_the_correction_off(seeds) -> None:
    result = ask(seeds, "quaanj uyr", exact=True)
    assert "corrected" not in kinds(result) and "no_results" in kinds(result)


@pytest.mark.parametrize(("q", "relaxed"), [("quan uy xyzzyq ba dinh", "all_but_one"),
                                            ("xyzzyq dang", "any_word")])
def test_a_fallback_says_how_far_it_relaxed(seeds, q, relaxed) -> None:
    result = ask(seeds, q)
    assert Notice(kind="fallback", relaxed=relaxed) in result.notices
    assert kinds(result).index("suggestion") < kinds(result).index("fallback")


def test_typo_matches_are_counted(seeds) -> None:
    result = ask(seeds, "thuong")  # in three articles; "trường", one edit away, in two
    assert Notice(kind="typos", count=result.typos) in result.notices and result.typos == 2
    assert "typos" not in kinds(ask(seeds, "thuong", exact=True))


def test_words_in_no_article_are_corrected(seeds) -> None:
    result = ask(seeds, "khen thuongg")  # typo matches alone, so the correction shows
    assert Notice(kind="corrected", query="Khen thưởng") in result.notices
    assert result.total == 3 and "typos" not in kinds(result)


def test_a_page_past_the_last_names_the_last(seeds) -> None:
    result = ask(seeds, "dang", limit=2, page=9)
    assert result.total == 5 and result.hits == []
    assert Notice(kind="past_last_page", count=3) in result.notices
    assert "past_last_page" not in kinds(ask(seeds, "dang", limit=2, page=3))


def test_nothing_found_is_a_notice(seeds) -> None:
    assert ask(seeds, "zzzzqqq").notices == (Notice(kind="no_results"),)
    assert ask(seeds, "dang").notices == (Notice(kind="suggestion", query="Đảng"),)


def test_notices_come_from_the_result_alone() -> None:
    """Deciding notices needs no index: any engine's result page will do."""
    page = SearchResult(query="a b c", total=7, page=1, limit=5, took_ms=1.0, hits=[],
                        fallback=True, relaxed="any_word", suggestion="à b c", typos=2)
    assert [n.as_dict() for n in service.notices(page)] == [
        {"kind": "suggestion", "query": "à b c", "relaxed": None, "count": None},
        {"kind": "fallback", "query": None, "relaxed": "any_word", "count": None},
        {"kind": "past_last_page", "query": None, "relaxed": None, "count": 2},
        {"kind": "typos", "query": None, "relaxed": None, "count": 2},
    ]


# ------------------------------------------------------------------ JSON and the front ends


def test_as_dict_keeps_every_key_and_adds_notices(seeds) -> None:
    data = ask(seeds, "quaanj uyr", facets=True).as_dict()
    assert RESULT_KEYS | {"notices", "facets"} == set(data)
    assert data["notices"] == [{"kind": "corrected", "query": "Quận ủy", "relaxed": None,
                                "count": None}]
    json.dumps(data, ensure_ascii=False)  # JSON-ready as it is
    assert "facets" not in ask(seeds, "dang").as_dict()


def test_results_are_keyword_only_values() -> None:
    with pytest.raises(TypeError):
        SearchResult("q", 0, 1, 10, 0.0, [])  # type: ignore[misc]
    with pytest.raises(TypeError):
        SearchRequest("q")  # type: ignore[misc]


def test_both_front_ends_answer_with_the_services_notices(seeds, seed_index, cli) -> None:
    expected = ask(seeds, "khen thuongg").as_dict()["notices"]
    shell = json.loads(cli("search", "khen thuongg", "--json", "--index", seed_index).stdout)
    with TestClient(create_app(seed_index)) as client:
        served = client.get("/search", params={"q": "khen thuongg"}).json()
    assert shell["notices"] == served["notices"] == expected


def test_articles_and_stats(seeds) -> None:
    article = service.get_article(seeds, SEED_IDS[0].removesuffix(".txt"))  # a unique prefix
    assert article is not None and article["id"] == SEED_IDS[0] and article["body"]
    assert service.get_article(seeds, "no-such-article") is None
    stats = service.stats(seeds)
    assert stats["documents"] == len(SEED_IDS) and "text_f" in stats["fields"]
    assert service.health(seeds) == {"status": "ok", "documents": len(SEED_IDS)}


def test_extract_file_shows_what_indexing_would_store() -> None:
    found = service.extract_file(CORPUS / SEED_IDS[1])
    assert found.failures == [] and len(found.articles) == 1
    article = found.articles[0]
    assert article["id"] == SEED_IDS[1] and article["places"] and article["word_count"] > 100
    with pytest.raises(QueryError) as info:
        service.extract_file(CORPUS / "no-such-file.txt")
    assert info.value.param == "file"


def test_extract_file_stops_at_the_limit(tmp_path: Path) -> None:
    archive = tmp_path / "five.jsonl"
    archive.write_text("".join(vntc_records(5)), encoding="utf-8")
    assert len(service.extract_file(archive, limit=2).articles) == 2


# ------------------------------------------------------------------ the engine seam


def test_the_local_index_is_an_engine(seeds) -> None:
    assert isinstance(seeds, Engine)
    assert isinstance(LocalEngine(Path("not-opened-yet")), Engine)  # opening waits for use
    assert not isinstance(object(), Engine)


class CannedEngine:
    """An engine with no index at all: what a remote backend looks like to the service."""

    def __init__(self, result: SearchResult) -> None:
        self.result = result
        self.asked: list[SearchRequest] = []

    def index_batch(self, paths: Sequence[Path], *, rebuild: bool = False,
                    progress: Progress | None = None, procs: int | None = None,
                    notice: Callable[[str], None] | None = None) -> IndexSummary:
        return IndexSummary()

    def delete(self, ids: Iterable[str]) -> int:
        return 0

    def search(self, request: SearchRequest) -> SearchResult:
        self.asked.append(request)
        return self.result

    def article(self, doc_id: str) -> dict[str, Any] | None:
        return None

    def complete(self, prefix: str, limit: int) -> list[Completion]:
        return []

    def did_you_mean(self, text: str) -> Suggestion | None:
        return None

    def readings(self, text: str) -> list[Reading]:
        return []

    def documents(self) -> int:
        return 0

    def stats(self) -> dict[str, Any]:
        return {"documents": 0}

    def marking(self, text: str) -> Marking:
        return Marking(set(), set())


def test_the_service_runs_on_any_engine() -> None:
    canned = SearchResult(query="x", total=0, page=1, limit=10, took_ms=0.1, hits=[])
    engine = CannedEngine(canned)
    assert isinstance(engine, Engine)
    result = service.search(engine, SearchRequest(q="x", filters=Filters(place="Huế")))
    assert result.notices == (Notice(kind="no_results"),) and len(engine.asked) == 1
    with pytest.raises(QueryError):
        service.search(engine, SearchRequest(q="x", sort="size"))  # type: ignore[arg-type]
    assert len(engine.asked) == 1  # a bad request never reaches the engine


def test_delete_removes_articles_in_one_commit(tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    archive = tmp_path / "archive"
    shutil.copytree(CORPUS, archive)
    engine = LocalEngine(index_dir)
    assert engine.index_batch([archive]).added == len(SEED_IDS)
    assert engine.delete([SEED_IDS[0], SEED_IDS[1], "no-such-id"]) == 2
    assert service.stats(engine)["documents"] == len(SEED_IDS) - 2
    assert service.get_article(engine, SEED_IDS[0]) is None
    assert engine.index_batch([archive]).added == 2  # their files bring them back


def test_vocabulary_reads_the_index(seeds) -> None:
    suggestion = seeds.did_you_mean("quaanj uyr")
    assert suggestion is not None and suggestion.text == "Quận ủy" and suggestion.corrected
    assert seeds.readings("quan uy")[0].words == ("quận", "ủy")


# ------------------------------------------------------------------ real articles


@pytest.fixture(scope="module")
def vntc_engine(tmp_path_factory: pytest.TempPathFactory) -> LocalEngine:
    """300 real VNTC articles."""
    root = tmp_path_factory.mktemp("svc-vntc")
    archive = root / "vntc-300.jsonl"
    archive.write_text("".join(vntc_records(300)), encoding="utf-8")
    summary = index_paths(root / "ix", [archive])
    assert summary.added == 300 and not summary.failed
    return LocalEngine.open(root / "ix")


def test_real_articles_page_and_notice_alike(vntc_engine) -> None:
    first = ask(vntc_engine, "chinh phu", limit=5)
    assert first.total > 10 and len(first.hits) == 5
    last = first.pages
    assert ask(vntc_engine, "chinh phu", limit=5, page=last).hits
    beyond = ask(vntc_engine, "chinh phu", limit=5, page=last + 1)
    assert Notice(kind="past_last_page", count=last) in beyond.notices
    assert beyond.total == first.total


def test_real_typos_and_corrections(vntc_engine) -> None:
    typo = ask(vntc_engine, "chinh phuu")  # one letter too many
    assert set(kinds(typo)) & {"corrected", "typos"}, kinds(typo)
    assert typo.total
    hit = typo.hits[0]
    article = service.get_article(vntc_engine, hit.id)
    assert article is not None and article["title"] == hit.title
