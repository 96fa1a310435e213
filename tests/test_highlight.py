"""Snippets: fragments, offsets, accent-insensitive marking, HTML escaping."""

from __future__ import annotations

import json
import unicodedata

import pytest

from search.highlight import Snippet, find_matches, mark_all, snippets
from search.normalize import fold
from tests.conftest import vntc_records


def marked(snippet: Snippet) -> list[str]:
    return [snippet.text[s:e] for s, e in snippet.matches]


def test_unaccented_terms_mark_the_accented_words() -> None:
    text = "Bí thư Quận ủy Ba Đình gặp mặt đảng viên."
    folded = {fold(w) for w in ["quan", "uy", "ba", "dinh"]}
    snip = snippets(text, set(), folded)[0]
    assert marked(snip) == ["Quận", "ủy", "Ba", "Đình"]


def test_exact_terms_mark_only_exact_words() -> None:
    text = "Bà Ba bán bánh ở bà Bá."
    assert marked(mark_all(text, {"bà"}, set())) == ["Bà", "bà"]


def test_tone_placement_variants_are_marked() -> None:
    text = "Giữ gìn hoà bình, hòa bình bền vững"
    assert marked(mark_all(text, {"hòa"}, set())) == ["hoà", "hòa"]


def test_glued_word_is_marked_once() -> None:
    text = "Quận NamTừ Liêm"
    assert find_matches(text, set(), {"nam", "tu"}) == [(5, 10)]


def test_at_most_three_fragments_in_text_order() -> None:
    filler = "không liên quan gì cả. " * 30
    text = f"đầu thuỷ lợi. {filler} giữa thuỷ lợi. {filler} cuối thuỷ lợi. {filler} thêm thuỷ lợi."
    result = snippets(text, set(), {"thuy", "loi"})
    assert 1 <= len(result) <= 3
    starts = [text.find(s.text.strip("…")[:20]) for s in result]
    assert starts == sorted(starts)
    for snip in result:
        assert marked(snip) and all(m.lower() in ("thuỷ", "lợi") for m in marked(snip))


def test_fragments_collapse_line_breaks_and_keep_offsets_right() -> None:
    text = "Dòng một.\n\nDòng hai có  đảng viên\nở giữa.\n\nDòng ba."
    snip = snippets(text, set(), {"dang", "vien"})[0]
    assert "\n" not in snip.text and "  " not in snip.text
    assert marked(snip) == ["đảng", "viên"]


def test_no_match_gives_the_opening_unmarked() -> None:
    text = "Đoạn mở đầu của bài báo. " * 20
    result = snippets(text, set(), {"xyz"})
    assert len(result) == 1 and result[0].matches == [] and result[0].text.startswith("Đoạn")
    assert snippets("", set(), {"x"}) == []


def test_html_escapes_everything_and_marks_matches() -> None:
    text = 'Bài có <script>alert("x")</script> & đảng viên'
    html = mark_all(text, set(), {"dang"}).html()
    assert "<script>" not in html and "&lt;script&gt;" in html and "&amp;" in html
    assert "<mark>đảng</mark>" in html


def test_nfd_text_is_marked_on_its_nfc_form() -> None:
    text = unicodedata.normalize("NFC", unicodedata.normalize("NFD", "Quận Gò Vấp"))
    assert marked(mark_all(text, set(), {"go", "vap"})) == ["Gò", "Vấp"]


# ------------------------------------------------------------------ fast path = token path

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from search.normalize import fold_aligned, has_glued_words, nfc, terms, tokens  # noqa: E402

_letters = st.sampled_from(list("abcdđeghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵĐÂÔƯTHN"))
_seps = st.sampled_from([" ", ", ", "\n\n", " “", "” ", " - ", "\u00a0", "/", "."])
_texts = st.lists(st.tuples(st.text(_letters, min_size=1, max_size=7), _seps), min_size=1, max_size=40).map(
    lambda pairs: "".join(w + s for w, s in pairs)
)


@settings(max_examples=300, deadline=None)
@given(_texts, st.data())
def test_fast_matching_agrees_with_token_matching(text: str, data) -> None:
    words = sorted(set(terms(text, folded=True)))
    wanted = set(data.draw(st.lists(st.sampled_from(words), max_size=4))) if words else set()
    wanted |= {"xyz"}
    assert find_matches(text, set(), wanted) == _token_marks(text, wanted)


@settings(max_examples=300, deadline=None)
@given(_texts, st.data())
def test_fast_matching_of_many_words_and_joined_parts_agrees_with_token_matching(
        text: str, data) -> None:
    """Past a handful of words the fast path scans for all at once; words that join
    two neighbours (a glued word's parts, spelled across its seam) are no part."""
    words = terms(text, folded=True)
    pool = sorted(set(words) | {a + b for a, b in zip(words, words[1:], strict=False)})
    wanted = set(data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=14)))
    assert find_matches(text, set(), wanted) == _token_marks(text, wanted)


@pytest.mark.parametrize("odd", ["ñ", "NAM"])
def test_words_beyond_plain_letters_still_match_as_tokens_do(odd: str) -> None:
    text = "Quận NamTừ Liêm, ñ n-a NAM " * 5
    wanted = {"nam", "liem", odd}
    assert find_matches(text, set(), wanted) == _token_marks(text, wanted)


def test_fast_matching_agrees_with_token_matching_on_real_articles() -> None:
    """VNTC articles (glued words, line breaks, long bodies): a few of each one's
    words, then many (one pattern for all), mark what the tokens say."""
    for n, line in enumerate(vntc_records(150)):
        text = nfc(json.loads(line)["text"])
        words = sorted(set(terms(text, folded=True)))
        for size in (3, 12):
            wanted = set(words[n % 7 :: max(1, len(words) // size)][:size])
            assert find_matches(text, set(), wanted) == _token_marks(text, wanted), (n, wanted)


def _token_marks(text: str, folded: set[str]) -> list[tuple[int, int]]:
    """What the highlighter marks, word by word: every token (a glued word and its
    parts) whose folded form is wanted, with touching or overlapping marks merged."""
    marks: list[tuple[int, int]] = []
    for t in tokens(nfc(text)):
        if t.folded not in folded:
            continue
        if marks and t.start <= marks[-1][1]:
            marks[-1] = (marks[-1][0], max(marks[-1][1], t.end))
        else:
            marks.append((t.start, t.end))
    return marks


def test_fold_aligned_keeps_offsets() -> None:
    text = "Quận ủy “hoà” – ß ½ Đình"
    flat = fold_aligned(text)
    assert len(flat) == len(text) and flat.startswith("quan uy  hoa")
    assert fold_aligned(unicodedata.normalize("NFD", "Quận")) is None


@pytest.mark.parametrize(("text", "glued"), [("Quận NamTừ Liêm", True), ("iPhone", True), ("TPHồChíMinh", True), ("ÂÂa", True),
                                             ("Quận Ba Đình", False), ("HĐND TPHCM", False)])
def test_glued_word_detection(text: str, glued: bool) -> None:
    assert has_glued_words(text) is glued


@settings(max_examples=200, deadline=None)
@given(_texts, st.data())
def test_snippet_marks_land_on_the_matched_words(text: str, data) -> None:
    """Fragments collapse line breaks and spaces; the marks must still cover the words."""
    words = sorted(set(terms(text, folded=True)))
    wanted = set(data.draw(st.lists(st.sampled_from(words), min_size=1, max_size=3)))
    for snippet in snippets(text, set(), wanted, width=40):
        for start, end in snippet.matches:
            mark = snippet.text[start:end]
            assert mark == mark.strip() and set(terms(mark, folded=True)) & wanted
