"""Highlights follow the query's reading (issue 16, item 3), on the seeds and on a
sample of the baomoi-2017 crawl.

The sample is deterministic: the first articles of the crawl (in archive order) as
a background of everyday news, plus the first few holding each phrase a case
needs — "bóng đá", "giải phóng mặt bằng", "Quận ủy" (and "quán triệt" beside it),
"Đà Nẵng", "siêu bão" — and the articles that say "cháy nắng" without "Đà Nẵng",
which match ``da nang`` only after folding.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from search import store
from search.highlight import Snippet, find_matches, mark_all, snippets, typed_reading
from search.indexer import index_paths
from search.normalize import fold, fold_aligned, nfc, terms
from search.query import run
from search.results import Hit, get_article
from tests.conftest import write_baomoi_sample

#: Articles taken from the start of the crawl, whatever they say.
BACKGROUND = 150
#: Phrase → how many articles holding it join the sample (the first ones found).
NEEDED = {
    "bóng đá": 15, "Đà Nẵng": 15, "giải phóng mặt bằng": 12, "Quận ủy": 10,
    "quán triệt": 5, "siêu bão": 2, "cháy nắng": 4,
}

BONG_DA = ("bóng", "đá", "việt", "nam")
PHRASE = ("giai", "phong", "mat", "bang")


def marked(snippet: Snippet) -> list[str]:
    return [snippet.text[s:e] for s, e in snippet.matches]


def exact_marks(snippet: Snippet) -> list[str]:
    """The marked words as the index spells them (lowercase, canonical tones)."""
    return [t for m in marked(snippet) for t in terms(m)]


def all_marks(hit: Hit) -> list[str]:
    return exact_marks(hit.title_marks) + [w for s in hit.snippets for w in exact_marks(s)]


def holds(text: str, phrase: str) -> bool:
    """True when *text* writes *phrase* (case-insensitive, tones as the index has them)."""
    return f" {' '.join(terms(phrase))} " in f" {' '.join(terms(text))} "


def phrase_spans(text: str, words: tuple[str, ...]) -> list[tuple[int, int]]:
    """The word spans of every occurrence of folded *words* in a row: an oracle
    independent of the highlighter (one regex over the text's aligned fold)."""
    flat = fold_aligned(nfc(text))
    assert flat is not None
    pattern = re.compile(r"(?<![a-z0-9])" + r"[^a-z0-9]+".join(
        f"({w})" for w in words) + r"(?![a-z0-9])")
    return [m.span(g) for m in pattern.finditer(flat) for g in range(1, len(words) + 1)]


# --------------------------------------------------------------------------- the library


def test_bong_da_viet_nam_marks_the_reading_not_da_or_nam() -> None:
    text = "Năm nay bóng đá Việt Nam đã thắng lớn. Người hâm mộ bóng đá đã chờ năm năm."
    snip = snippets(text, set(), {"bong", "da", "viet", "nam"},
                    readings=[BONG_DA, ("bóng", "đã", "việt", "năm")])[0]
    assert marked(snip) == ["bóng", "đá", "Việt", "Nam", "bóng", "đá"]


def test_a_word_the_text_never_writes_in_the_reading_falls_back_to_its_fold() -> None:
    text = "Khắc phục làn da cháy nắng: da bạn nóng rát rồi sạm đen do nắng."
    result = mark_all(text, set(), {"da", "nang"}, readings=[("đà", "nẵng")])
    assert marked(result) == ["da", "nắng", "da", "nắng"]


def test_a_text_follows_the_reading_it_writes_in_a_row() -> None:
    text = "Bà Đinh Thị Hoa, 70 tuổi, sống cùng ba người con ở quê."
    readings = [("ba", "đình"), ("bà", "đinh")]
    assert marked(mark_all(text, set(), {"ba", "dinh"}, readings=readings)) == ["Bà", "Đinh"]


def test_tone_placement_and_case_follow_the_index() -> None:
    text = "HOÀ BÌNH và hoà bình, hòa bình; Hoa Bình không."
    result = mark_all(text, set(), {"hoa", "binh"}, readings=[("hòa", "bình")])
    assert marked(result) == ["HOÀ", "BÌNH", "hoà", "bình", "hòa", "bình", "Bình"]


def test_a_phrase_is_marked_where_it_stands_in_a_row_only() -> None:
    text = ("Phòng tài nguyên họp về giải phóng mặt bằng. Mặt trận, bằng khen, giải thưởng. "
            "Công tác giải phóng, mặt bằng sạch.")
    spans = find_matches(text, set(), set(), phrases=[PHRASE])
    assert [text[s:e] for s, e in spans] == ["giải", "phóng", "mặt", "bằng"] * 2
    # A word the query also wants alone is marked anywhere.
    alone = find_matches(text, set(), {"phong"}, phrases=[PHRASE])
    assert [text[s:e] for s, e in alone][0] == "Phòng"


def test_the_fragment_where_the_words_stand_together_comes_first() -> None:
    filler = "Các đơn vị khác tiếp tục làm việc như thường lệ trong tuần. " * 4
    scattered = "Phòng giải thưởng, mặt tiền và bằng khen được trao. "
    text = f"{scattered * 2}{filler}Dự án chậm vì giải phóng mặt bằng kéo dài. {filler}{scattered}"
    # As a phrase: its lone words are not even marked.
    first = snippets(text, set(), set(), phrases=[PHRASE])[0]
    assert marked(first) == ["giải", "phóng", "mặt", "bằng"]
    # As words typed together: all are marked, the fragment holding them in a row first.
    loose = snippets(text, set(), set(PHRASE), readings=[("giải", "phóng", "mặt", "bằng")])
    assert len(loose) == 3 and "giải phóng mặt bằng" in loose[0].text
    others = [text.index(s.text.strip("…")[:30]) for s in loose[1:]]
    assert others == sorted(others)  # the rest keep their text order


def test_nfd_text_gets_the_same_marks_as_its_nfc_form() -> None:
    text = "Bóng đá Việt Nam đã có năm thành công; giải phóng mặt bằng xong, phòng họp mới."
    nfd = unicodedata.normalize("NFD", text)
    for options in ({"readings": [BONG_DA]}, {"phrases": [PHRASE]}):
        folded = {"bong", "da", "viet", "nam"} if "readings" in options else set()
        assert find_matches(nfd, set(), folded, **options) == find_matches(
            text, set(), folded, **options)
        assert marked(snippets(nfd, set(), folded, **options)[0]) == marked(
            snippets(text, set(), folded, **options)[0])


def test_glued_words_keep_their_marks_under_a_reading() -> None:
    text = "Quận NamTừ Liêm tổng kết năm 2022"
    result = mark_all(text, set(), {"nam", "tu", "liem"}, readings=[("nam", "từ", "liêm")])
    assert marked(result) == ["NamTừ", "Liêm"]


# --------------------------------------------------------------------------- the seeds


@pytest.fixture(scope="module")
def seeds(seed_index: Path):
    with store.open_index(seed_index).searcher() as s:
        yield s


@pytest.mark.parametrize("typed", ["quan uy", "Quận ủy", "quan ủy"])
def test_quan_uy_on_the_seeds_marks_quan_uy_not_quan_triet_or_co_quan(seeds, typed) -> None:
    result = run(seeds, typed, limit=10)
    assert len(result.hits) == 5
    for hit in result.hits:
        marks = all_marks(hit)
        assert "ủy" in marks and set(marks) <= {"quận", "ủy"}, (hit.id, marks)


def test_typed_accents_on_the_seeds_mark_the_words_as_typed(seeds) -> None:
    for hit in run(seeds, "Ba Đình").hits:
        body = get_article(seeds, hit.id)["body"]
        if holds(body, "Ba Đình"):
            marks = {w for s in hit.snippets for w in exact_marks(s)}
            assert marks == {"ba", "đình"}, (hit.id, marks)


def test_the_http_answer_marks_the_reading(seed_index: Path) -> None:
    """Front ends get the same marks: ``<mark>`` in the JSON's HTML follows the reading."""
    from fastapi.testclient import TestClient

    from search.http import create_app

    with TestClient(create_app(seed_index, searchers=1)) as client:
        answer = client.get("/search", params={"q": "quan uy"}).json()
    assert len(answer["hits"]) == 5
    for hit in answer["hits"]:
        marks = {t for s in hit["snippets"] for m in re.findall(r"<mark>(.*?)</mark>", s["html"])
                 for t in terms(m)}
        assert marks and marks <= {"quận", "ủy"}, (hit["id"], marks)


# --------------------------------------------------------------------------- baomoi-2017


def _holds(text: str, phrase: str) -> bool:
    """A "cháy nắng" article that also says "Đà Nẵng" is not the decoy it is for."""
    return phrase in text and not (phrase == "cháy nắng" and "Đà Nẵng" in text)


@pytest.fixture(scope="module")
def baomoi(tmp_path_factory: pytest.TempPathFactory):
    """A searcher over ~230 baomoi-2017 articles chosen as the module docstring says."""
    root = tmp_path_factory.mktemp("baomoi-hl")
    _, taken = write_baomoi_sample(root / "txt", NEEDED, BACKGROUND, _holds)
    assert taken == NEEDED, taken
    summary = index_paths(root / "ix", [root / "txt"])
    assert summary.added and not summary.failed
    with store.open_index(root / "ix").searcher() as s:
        yield s


def _texts(searcher, hit: Hit) -> tuple[str, str]:
    article = get_article(searcher, hit.id)
    return article["title"], article["body"]


@pytest.mark.slow
def test_bong_da_viet_nam_marks_bong_da_never_da_or_nam(baomoi) -> None:
    result = run(baomoi, "bong da viet nam", limit=20)
    checked = 0
    for hit in result.hits:
        title, body = _texts(baomoi, hit)
        for text, marks in ((title, exact_marks(hit.title_marks)),
                            (body, [w for s in hit.snippets for w in exact_marks(s)])):
            if holds(text, "bóng đá") and holds(text, "Việt Nam"):
                checked += 1
                assert {"bóng", "đá", "việt", "nam"} <= set(marks), (hit.id, marks)
                assert not {"đã", "năm"} & set(marks), (hit.id, marks)
    assert checked >= 5


@pytest.mark.slow
def test_quan_uy_marks_quan_uy_not_quan_triet_or_co_quan(baomoi) -> None:
    result = run(baomoi, "quan uy", limit=20)
    beside = 0
    for hit in result.hits:
        _, body = _texts(baomoi, hit)
        if holds(body, "Quận ủy"):
            marks = [w for s in hit.snippets for w in exact_marks(s)]
            assert not {"quán", "quan", "quân"} & set(marks), (hit.id, marks)
            beside += holds(body, "quán triệt") or holds(body, "cơ quan")
    assert beside >= 1  # the decoys were there to be marked, and were not


@pytest.mark.slow
def test_a_quoted_phrase_is_marked_as_a_phrase_and_its_fragment_comes_first(baomoi) -> None:
    result = run(baomoi, '"giai phong mat bang"', limit=20)
    assert len(result.hits) >= 10
    for hit in result.hits:
        title, body = _texts(baomoi, hit)
        assert hit.title_marks.matches == phrase_spans(title, PHRASE), hit.id
        if phrase_spans(body, PHRASE):
            first = hit.snippets[0]
            assert "giai phong mat bang" in fold(first.text), (hit.id, first.text)
            assert [fold(m) for m in marked(first)][:4] == list(PHRASE), hit.id
        # No lone word of the phrase: every mark belongs to an occurrence in a row.
        for snippet in hit.snippets:
            inner = snippet.text.strip("…")
            spans = set(phrase_spans(inner, PHRASE))
            shift = snippet.text.index(inner)
            edges = (shift, shift + len(inner))
            for start, end in snippet.matches:
                cut = _near_edge(snippet.text, start, end, edges)
                assert (start - shift, end - shift) in spans or cut, (hit.id, snippet.text)


def _near_edge(text: str, start: int, end: int, edges: tuple[int, int]) -> bool:
    """True when a mark may belong to a phrase occurrence the fragment cut off:
    fewer than 4 words from either end of the fragment."""
    return len(text[edges[0]:start].split()) < 4 or len(text[end:edges[1]].split()) < 4


@pytest.mark.slow
def test_unquoted_words_typed_together_show_the_fragment_holding_them_first(baomoi) -> None:
    for hit in run(baomoi, "giai phong mat bang", limit=10).hits:
        _, body = _texts(baomoi, hit)
        if phrase_spans(body, PHRASE):
            assert "giai phong mat bang" in fold(hit.snippets[0].text), hit.id


@pytest.mark.slow
def test_an_article_matching_only_after_folding_keeps_its_marks(baomoi) -> None:
    first = run(baomoi, "da nang", limit=100)
    hits = [h for page in range(1, first.pages + 1)
            for h in run(baomoi, "da nang", limit=100, page=page).hits]
    sunburn = [h for h in hits if "cháy nắng" in _texts(baomoi, h)[1]
               and not holds(" ".join(_texts(baomoi, h)), "Đà Nẵng")]
    assert sunburn, "no article holding 'cháy nắng' without 'Đà Nẵng' matched"
    for hit in sunburn:  # their marks are the folded matches, as before
        marks = all_marks(hit)
        assert marks and {fold(m) for m in marks} <= {"da", "nang"}, (hit.id, marks)
    issue = [h for h in sunburn if h.title == "Khắc phục làn da cháy nắng"]
    assert issue and marked(issue[0].title_marks) == ["da", "nắng"]
    for hit in hits:
        _, body = _texts(baomoi, hit)
        if holds(body, "Đà Nẵng"):
            body_marks = {w for s in hit.snippets for w in exact_marks(s)}
            assert body_marks <= {"đà", "nẵng"}, (hit.id, body_marks)


@pytest.mark.slow
@pytest.mark.parametrize("typed", ["da nang", "bong da viet nam", "quan uy", "ba dinh",
                                   '"giai phong mat bang"', "siêu bão", "bao"])
def test_no_hit_loses_all_its_marks(baomoi, typed) -> None:
    result = run(baomoi, typed, limit=30)
    assert result.hits
    for hit in result.hits:
        assert all_marks(hit), (hit.id, hit.title)


@pytest.mark.slow
def test_a_query_typed_with_accents_marks_its_exact_words(baomoi) -> None:
    result = run(baomoi, "siêu bão", limit=50)
    holding = [h for h in result.hits if holds(_texts(baomoi, h)[1], "siêu bão")]
    assert len(holding) == NEEDED["siêu bão"]
    for hit in holding:
        marks = [w for s in hit.snippets for w in exact_marks(s)]
        assert set(marks) == {"siêu", "bão"}, (hit.id, marks)
        assert "siêu bão" in " ".join(terms(hit.snippets[0].text)), hit.id


@pytest.mark.slow
def test_nfd_articles_get_the_same_marks(baomoi) -> None:
    """The word-by-word path (NFD text) agrees with the fast one on real articles."""
    readings = [BONG_DA, ("bóng", "đã", "việt", "năm")]
    folded = {"bong", "da", "viet", "nam"}
    for hit in run(baomoi, "bong da viet nam", limit=10).hits:
        _, body = _texts(baomoi, hit)
        nfd = unicodedata.normalize("NFD", body)
        for options in ({"readings": readings}, {"phrases": [PHRASE, tuple(fold(w) for w in BONG_DA)]}):
            words = folded if "readings" in options else set()
            assert find_matches(nfd, set(), words, **options) == find_matches(
                body, set(), words, **options), hit.id


@pytest.mark.slow
def test_a_quoted_query_typed_with_accents_marks_its_exact_words(baomoi) -> None:
    """Quotes have no computed reading: the words typed with accents are it."""
    for hit in run(baomoi, '"siêu bão"', limit=10).hits:
        title, body = _texts(baomoi, hit)
        if holds(body, "siêu bão"):
            assert {w for s in hit.snippets for w in exact_marks(s)} == {"siêu", "bão"}, hit.id


def test_typed_reading_is_the_words_typed_with_accents() -> None:
    assert typed_reading('"Siêu bão" số 10 -hoà title:Đà nang') == ("siêu", "bão", "số", "hòa", "đà")


# --------------------------------------------------------------------------- properties

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from search.normalize import has_glued_words, tokens  # noqa: E402

_letters = st.sampled_from(list("abdđeghimnoôơtuưyàáãạằầấèéềìíòóồộờùúừýĐÂTBN"))
_seps = st.sampled_from([" ", ", ", "\n", " “", "” ", " - ", "."])
_random_texts = st.lists(st.tuples(st.text(_letters, min_size=1, max_size=5), _seps),
                  min_size=2, max_size=30).map(lambda pairs: "".join(w + s for w, s in pairs))


def _covered(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans)


@settings(max_examples=200, deadline=None)
@given(_random_texts, st.data())
def test_reading_and_phrases_only_narrow_the_folded_marks(text: str, data) -> None:
    text = nfc(text)
    toks = list(tokens(text))
    loose = set(data.draw(st.lists(st.sampled_from([t.folded for t in toks]), max_size=3)))
    reading = tuple(data.draw(st.lists(st.sampled_from([t.exact for t in toks]), max_size=3)))
    at = data.draw(st.integers(0, len(toks) - 1))
    phrase = tuple(t.folded for t in toks[at : at + data.draw(st.integers(2, 3))])
    options = {"phrases": [phrase], "readings": [reading]}
    spans = find_matches(text, set(), loose, **options)
    wider = find_matches(text, set(), loose | set(phrase))
    # Nothing is marked that plain folded matching would not mark.
    assert all(any(a <= s and e <= b for a, b in wider) for s, e in spans)
    # Every word wanted alone keeps at least one mark.
    for word in loose:
        assert any(_covered(spans, t.start, t.end) for t in toks if t.folded == word), word
    # NFD text is marked as its NFC form.
    assert find_matches(unicodedata.normalize("NFD", text), set(), loose, **options) == spans
    # A word wanted only in the phrase is marked only inside an occurrence of it
    # (tokens stand one after another here only when no word is glued).
    if has_glued_words(text):
        return
    only = set(phrase) - loose
    starts = [i for i in range(len(toks) - len(phrase) + 1)
              if tuple(t.folded for t in toks[i : i + len(phrase)]) == phrase]
    inside = [(toks[i].start, toks[i + len(phrase) - 1].end) for i in starts]
    for t in toks:
        if t.folded in only and _covered(spans, t.start, t.end):
            assert any(a <= t.start and t.end <= b for a, b in inside), (t, phrase)
