"""Ranking what the user meant, on a real archive: a sample of the baomoi-2017 crawl.

The sample is the first articles of the crawl (everyday news as background) plus
the first few that hold each phrase a case needs and its decoys — "làn da cháy
nắng" next to Đà Nẵng, "bà Đinh" next to Ba Đình, "siêu giàu" next to "siêu bão" —
so each query meets the competition it meets in the whole crawl.
"""

from __future__ import annotations

import pytest
from whoosh import query as wq

from search import store
from search.indexer import index_paths
from search.normalize import nfc, token_tuples
from search.query import parse, run
from search.readings import Reading, readings
from tests.conftest import write_baomoi_sample

pytestmark = pytest.mark.slow

#: Articles taken from the start of the crawl, whatever they say.
BACKGROUND = 300
#: Phrase → how many articles holding it join the sample (the first ones found).
NEEDED = {
    "Đà Nẵng": 15, "cháy nắng": 3, "đa năng": 3, "Ba Đình": 15, "bà Đinh": 5, "Bà Đinh": 5,
    "siêu bão": 2, "siêu giàu": 5, "bóng đá": 15, "tai nạn": 10,
}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory):
    """(searcher, file name → text) over the sampled articles."""
    root = tmp_path_factory.mktemp("baomoi-rank")
    texts, taken = write_baomoi_sample(root / "txt", NEEDED, BACKGROUND)
    assert taken["cháy nắng"] and taken["siêu bão"] and taken["bà Đinh"], taken
    summary = index_paths(root / "ix", [root / "txt"])
    assert summary.added == len(texts) and not summary.failed
    with store.open_index(root / "ix").searcher() as s:
        yield s, texts


@pytest.fixture(scope="module")
def searcher(sample):
    return sample[0]


@pytest.fixture(scope="module")
def texts(sample) -> dict[str, str]:
    return sample[1]


def _says(text: str, phrase: str) -> bool:
    """Does *text* hold the words of *phrase* side by side, accents as written?"""
    words, want = _exact_words(text), _exact_words(phrase)
    return any(words[i : i + len(want)] == want for i in range(len(words) - len(want) + 1))


def _exact_words(text: str) -> list[str]:
    """The exact term at each word position (a glued word: its last part)."""
    at = {pos: exact for exact, _folded, _start, _end, pos in token_tuples(nfc(text))}
    return [at[p] for p in sorted(at)]


def _top(searcher, query: str, texts: dict[str, str], n: int) -> list[str]:
    return [texts[h.id] for h in run(searcher, query, limit=n, with_snippets=False).hits]


#: The exact fields have no positions: whether an article's "ba" and "đình" stand in
#: its "ba dinh" is bounded from word counts, so an article saying "bà Đinh" twice,
#: "gia đình" eleven times and "ba" elsewhere can look like one saying "Ba Đình".
@pytest.mark.parametrize(("typed", "meant", "share"), [
    ("da nang", "Đà Nẵng", 1.0),  # not "làn da cháy nắng", not "tàu ngầm … đa năng"
    ("ba dinh", "Ba Đình", 0.9),  # not "bà Đinh", not "đàn bà … dính"
    ("bong da", "bóng đá", 1.0),
    ("tai nan", "tai nạn", 1.0),
])
def test_the_likely_reading_ranks_first(searcher, texts, typed, meant, share) -> None:
    top = _top(searcher, typed, texts, 10)
    assert len(top) == 10 and sum(_says(t, meant) for t in top) >= share * 10
    assert _says(top[0], meant)


def test_a_rarer_reading_still_ranks_lower_and_nothing_is_lost(searcher, texts) -> None:
    result = run(searcher, "da nang", limit=100, with_snippets=False)
    ranked = [texts[h.id] for h in result.hits]
    sunburn = [k for k, t in enumerate(ranked) if _says(t, "cháy nắng") and not _says(t, "Đà Nẵng")]
    meant = [k for k, t in enumerate(ranked) if _says(t, "Đà Nẵng")]
    assert sunburn and meant and max(meant) < min(sunburn)
    everything = sum(1 for t in texts.values() if _says(t, "Đà Nẵng") or _says(t, "cháy nắng"))
    assert result.total >= everything  # ranking only: every folded match is still there


def test_a_query_typed_with_accents_ranks_those_exact_words_first(searcher, texts) -> None:
    holding = sum(_says(t, "siêu bão") for t in texts.values())
    assert holding >= 1
    assert all(_says(t, "siêu bão") for t in _top(searcher, "siêu bão", texts, holding))


def test_readings_follow_the_archive(searcher) -> None:
    assert readings(searcher, "da nang")[0].words == ("đà", "nẵng")
    assert readings(searcher, "siêu bão") == [Reading(("siêu", "bão"), 1.0)]  # typed accents stand


def test_reading_boosts_are_in_proportion_to_the_readings() -> None:
    likely, rare = Reading(("đà", "nẵng"), 0.8), Reading(("da", "nắng"), 0.2)
    q = parse("da nang", readings=[likely, rare])
    boosts = [b for b in q.b.subqueries if isinstance(b, wq.And)]
    weights = sorted({leaf.boost for b in boosts for leaf in b.subqueries}, reverse=True)
    assert len(weights) == 2 and weights[0] == pytest.approx(4 * weights[1])
    # The likeliest reading written without marks: no accented reading may overtake it.
    q = parse("ba", readings=[Reading(("ba",), 0.8), Reading(("bà",), 0.2)])
    assert "bà" not in {t.text for t in q.b.subqueries if isinstance(t, wq.Term)}
