"""The cluster's lexicon: did-you-mean, typo matches and readings as the local engine's.

Real daemons on loopback, nothing mocked: a 2 shards x 2 replicas cluster and a
local index over the same VNTC articles (:func:`tests.cluster_engines.same_articles`),
compared through the public seams: :class:`search.sphinx.engine.SphinxEngine` (its
lexicon, ``did_you_mean``, ``readings``, searches via the service) and the CLI.
Skipped with the reason when searchd or the shared corpora are absent.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from bench.quality import build_items, query_forms
from search import lexicon, service, store
from search.cli import app
from search.results import SearchResult
from search.service import SearchRequest
from search.sphinx import sphinxql
from search.sphinx.engine import Page
from search.sphinx.lexicon import ClusterLexicon
from search.sphinx.vocabulary import Vocabulary
from tests.cluster_engines import Engines, same_articles

pytestmark = pytest.mark.slow

#: Known items typed with one typo (bench/quality.py's "typo" form) whose results
#: are compared; and the share whose top hit and what the result says about typos
#: and corrections must be the local engine's (ranking among typo matches differs a
#: little: the local engine weighs a word one edit away at half a typed one).
TYPO_ITEMS = 12
MIN_TYPO_AGREEMENT = 0.85


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engines]:
    with same_articles(tmp_path_factory.mktemp("sxlexicon")) as both:
        yield both


@pytest.mark.parametrize(("typed", "expected"), [
    ("nguyen tan dng", "Nguyễn Tấn Dũng"),      # a name with a dropped letter
    ("ngyen xuan phuc", "Nguyễn Xuân Phúc"),    # … and an archive's own typo passed over
    ("chinh phuu", "Chính phủ"),                # an extra letter
    ("vieetj nam", "Việt Nam"),                 # Telex with the keyboard tool off
    ("quan uy ba dinh", "Quận ủy Ba Đình"),     # accents and capitals as the archive writes
    ("bo giao duc", "Bộ Giáo dục"),
    ("thanh pho ho chi minh", "Thành phố Hồ Chí Minh"),
    ("da nang", "Đà Nẵng"),
    ("hoa ky", "Hoa Kỳ"),
    ("Nguyễn Tấn Dũng", None),                  # accented and right: not "corrected"
    ("giá vàng", None),
    ("Hà Nội", None),
    ("bóng đá", None),
])
def test_did_you_mean_as_locally(engines: Engines, typed: str, expected: str | None) -> None:
    local = engines.local.did_you_mean(typed)
    cluster = engines.cluster.did_you_mean(typed)
    assert (cluster and cluster.as_dict()) == (local and local.as_dict())
    assert (cluster.text if cluster else None) == expected


def test_the_lexicon_answers_as_the_local_index(engines: Engines) -> None:
    cluster = engines.cluster.lexicon()
    with store.open_index(engines.directory.parent / "index").searcher() as searcher:
        local = lexicon.LocalLexicon(searcher)
        assert cluster.total_words() == local.total_words()
        for word in ("ha", "dinh", "nguyen", "tuong", "xyzzy"):
            assert cluster.frequency(word) == local.frequency(word)
            assert dict(cluster.accent_forms(word)) == dict(local.accent_forms(word))
            assert cluster.near_words(word) == local.near_words(word)
        for pair in (["ha", "noi"], ["ba", "dinh"], ["dinh", "ba"], ["chinh", "phu"],
                     ["nguyen", "tan", "dung"], ["xyzzy", "noi"]):
            assert cluster.pair_seen(pair) == local.pair_seen(pair)
            # the cluster counts every occurrence; the local index reads all of a sample
            found, _ = lexicon.span_docs(searcher, pair, sample=10**6)
            every = sum(times for _, _, times in found)
            assert abs(cluster.pair_count(pair) - every) <= max(1, every // 50)
        assert cluster.pair_surfaces(["ba", "dinh"]).most_common(1)[0][0] == ("Ba", "Đình")


def test_readings_rank_as_locally(engines: Engines) -> None:
    for typed in ("da nang", "bong da", "quan uy ba dinh"):
        local = engines.local.readings(typed)
        cluster = engines.cluster.readings(typed)
        assert cluster[0].words == local[0].words
        assert cluster[0].probability == pytest.approx(local[0].probability, abs=0.15)
    assert engines.cluster.readings("siêu bão")[0].words == ("siêu", "bão")


def _search(engine: object, q: str) -> SearchResult:
    return service.search(engine, SearchRequest(q=q, limit=3))  # type: ignore[arg-type]


def test_one_typo_finds_what_the_local_engine_finds(engines: Engines) -> None:
    """Known items typed with one typo: typo matches (after the exact ones) and
    corrections as locally, the same top hit for nearly all."""
    rng = random.Random(11)
    same_top = same_story = total = 0
    for item in build_items(engines.records, TYPO_ITEMS):
        q = query_forms(item.words, rng)["typo"]
        local, cluster = _search(engines.local, q), _search(engines.cluster, q)
        total += 1
        same_top += [h.id for h in local.hits[:1]] == [h.id for h in cluster.hits[:1]]
        same_story += ((local.total, local.typos, local.suggestion, local.corrected)
                       == (cluster.total, cluster.typos, cluster.suggestion, cluster.corrected))
    assert same_top / total >= MIN_TYPO_AGREEMENT, f"top-1 {same_top}/{total}"
    assert same_story / total >= MIN_TYPO_AGREEMENT, f"totals/typos/suggestion {same_story}/{total}"


def test_typo_matches_follow_the_exact_ones(engines: Engines) -> None:
    q = "nguyen tan dungg"  # "dungg" is no word: the correction's matches, then typo ones
    local, cluster = _search(engines.local, q), _search(engines.cluster, q)
    assert cluster.corrected and local.corrected and cluster.suggestion == local.suggestion
    assert cluster.typos and (cluster.total, cluster.typos) == (local.total, local.typos)
    deeper = service.search(engines.cluster, SearchRequest(q=q, limit=3, page=2))
    assert not {h.id for h in deeper.hits} & {h.id for h in cluster.hits}
    exact = service.search(engines.cluster, SearchRequest(q=q, limit=3, exact=True))
    assert not exact.typos and exact.relaxed == "all_but_one"  # --exact: no typo tolerance
    assert exact.total == service.search(engines.local, SearchRequest(q=q, exact=True)).total


@pytest.mark.parametrize("q", [
    "cay tnhh phuong nam",  # "cty": the slip makes a real word
    "nha uong ruouu vuot",  # a typo ("ruouu") and a slip ("vuot" for "suot") at once
])
def test_articles_lacking_one_word_follow_as_locally(engines: Engines, q: str) -> None:
    local, cluster = _search(engines.local, q), _search(engines.cluster, q)
    assert local.missing_one and (cluster.total, cluster.typos, cluster.missing_one) == (
        local.total, local.typos, local.missing_one)
    whole, local_whole = _every_hit(engines.cluster, q), _every_hit(engines.local, q)
    first_missing = cluster.total - cluster.missing_one
    assert set(whole[first_missing:]) == set(local_whole[first_missing:])
    paged = [h.id for page in range(1, -(-cluster.total // 7) + 1)
             for h in service.search(engines.cluster, SearchRequest(q=q, limit=7, page=page)).hits]
    assert paged == whole  # every tier paged once, in order
    assert "missing_one" in [n.kind for n in cluster.notices]


def _every_hit(engine: object, q: str) -> list[str]:
    """Every hit's id, in order, page by page of 100."""
    first = service.search(engine, SearchRequest(q=q, limit=100))  # type: ignore[arg-type]
    return [h.id for page in range(1, first.pages + 1) for h in service.search(
        engine, SearchRequest(q=q, limit=100, page=page)).hits]  # type: ignore[arg-type]


def test_a_query_that_finds_nothing_is_corrected_as_locally(engines: Engines) -> None:
    local, cluster = _search(engines.local, "chinh phuu"), _search(engines.cluster, "chinh phuu")
    assert cluster.corrected and cluster.suggestion == local.suggestion == "Chính phủ"
    assert cluster.total == local.total


def test_typo_alternatives_are_their_own_group() -> None:
    """searchd binds ``|`` tighter than ``-``: the typo-only MATCH is parenthesised."""
    exact = sphinxql.compile_query("nguyen dungg", [])
    widened = sphinxql.compile_query("nguyen dungg", [], near=lambda w: ["dung"] if w == "dungg"
                                     else [])
    assert widened.widened and "dung" in widened.folded
    assert "(@(title,body) dungg | @(title,body) dung)" in widened.match
    assert sphinxql.typo_only(widened, exact).startswith(
        f"(({widened.required}) -({exact.required}))")
    negated = sphinxql.compile_query("nguyen -dungg", [], near=lambda w: ["dung"])
    assert "dung |" not in negated.match  # excluded words are not widened


def test_cli_json_shows_the_suggestion(engines: Engines) -> None:
    got = CliRunner().invoke(app, ["search", "ngyen xuan phuc", "--json", "--engine",
                                   engines.url])
    assert got.exit_code == 0, got.output
    data = json.loads(got.stdout)
    assert data["suggestion"] == engines.local.did_you_mean("ngyen xuan phuc").text  # type: ignore[union-attr]
    assert data["suggestion"] == "Nguyễn Xuân Phúc"


def test_the_lexicon_follows_indexing(engines: Engines, tmp_path) -> None:
    """Articles indexed through the engine reach its lexicon (the vocabulary is reloaded)."""
    before = engines.cluster.lexicon()
    archive = tmp_path / "more"
    archive.mkdir()
    (archive / "more.jsonl").write_text(json.dumps(
        {"id": "more-1", "title": "Đèo Khâuphạc", "text": "Đèo Khâuphạc nối Nghĩa Lộ."},
        ensure_ascii=False) + "\n", encoding="utf-8")
    engines.cluster.index_batch([archive])
    after = engines.cluster.lexicon()
    assert after is not before and after.frequency("khauphac") == 2
    assert engines.cluster.did_you_mean("deo khauphc").text == "Đèo Khâuphạc"  # type: ignore[union-attr]


def test_answers_missing_a_shard_are_not_remembered() -> None:
    """A pair count from an answer a dead shard left out is used once: the next
    query asks again (and remembers a whole answer). No daemon: the statements
    are answered here, as the engine's ``_run`` would."""
    answers = [Page([{"id": 1, "hits": 4}], 1, partial=True),
               Page([{"id": 1, "hits": 4}, {"id": 2, "hits": 2}], 2, partial=False)]
    asked: list[str] = []

    def run(sql: str) -> Page:
        asked.append(sql)
        return answers[min(len(asked), len(answers)) - 1]

    words = ClusterLexicon(Vocabulary({"ha": {"hà": 9}, "noi": {"nội": 9}}, 18), run)
    assert words.pair_count(["ha", "noi"]) == 2  # 4 hits of 2 words: 2 occurrences
    assert words.pair_count(["ha", "noi"]) == 3
    assert words.pair_count(["ha", "noi"]) == 3 and len(asked) == 2
    assert "sum(hit_count)" in asked[0] and '"ha noi"' in asked[0]
    assert words.pair_count(["ha", "xyzzy"]) == 0 and len(asked) == 2  # a word no row holds
