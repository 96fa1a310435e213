"""Vietnamese normalisation: NFC, tone placement, case, separators, glued words, folding."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unidecode import unidecode

from search.normalize import (
    canonical_tone,
    fold,
    fold_aligned,
    fold_aligned_with_seams,
    folded_words,
    glued_seams,
    nfc,
    normalize_term,
    raw_words,
    terms,
    tokens,
)

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@pytest.mark.parametrize(
    ("new_style", "old_style"),
    [
        ("hoà", "hòa"),
        ("thuỷ", "thủy"),
        ("khoẻ", "khỏe"),
        ("hoá", "hóa"),
        ("loà", "lòa"),
        ("xoè", "xòe"),
        ("tuý", "túy"),
        ("uỷ", "ủy"),
        ("HOÀ", "HÒA"),
        ("THUỶ", "THỦY"),
        ("Khoẻ", "Khỏe"),
        ("Hoá", "Hóa"),
    ],
)
def test_old_and_new_tone_placement_are_one_term(new_style: str, old_style: str) -> None:
    assert canonical_tone(new_style) == old_style
    assert canonical_tone(old_style) == old_style
    assert normalize_term(new_style) == normalize_term(old_style)


@pytest.mark.parametrize(
    "word",
    ["hoàn", "toàn", "quý", "quốc", "quỳnh", "hoạch", "khuyến", "thuyền", "người", "giữa", "mùa"],
)
def test_unambiguous_syllables_are_unchanged(word: str) -> None:
    assert canonical_tone(word) == word
    assert canonical_tone(word.upper()) == word.upper()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Quận ủy Ba Đình", ["quận", "ủy", "ba", "đình"]),
        ("Hòa bình và hoà bình", ["hòa", "bình", "và", "hòa", "bình"]),
        ("Thuỷ lợi, THỦY LỢI", ["thủy", "lợi", "thủy", "lợi"]),
        ("TP.HCM", ["tp", "hcm"]),
        ("a\u00a0b", ["a", "b"]),  # NBSP
        ("đảng\u200bviên", ["đảng", "viên"]),  # zero-width space
        ("đảng\u200dviên", ["đảng", "viên"]),  # zero-width joiner
        ("\ufeffQuận", ["quận"]),  # stray BOM
        ("“Toàn dân” «x»", ["toàn", "dân", "x"]),  # smart quotes
        ("under_score", ["under", "score"]),
        ("17/18 chỉ tiêu", ["17", "18", "chỉ", "tiêu"]),
        ("", []),
        ("  ...  ", []),
    ],
)
def test_exact_terms(text: str, expected: list[str]) -> None:
    assert terms(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Quận ủy Ba Đình", "quan uy ba dinh"),
        ("ĐẢNG VIÊN", "dang vien"),
        ("Gò Vấp", "go vap"),
        ("Nguyễn Thị Tuyến", "nguyen thi tuyen"),
        ("thuở ấy ưu đãi", "thuo ay uu dai"),
        ("Đắk Lắk", "dak lak"),
    ],
)
def test_folded_terms(text: str, expected: str) -> None:
    assert " ".join(terms(text, folded=True)) == expected


def test_fold_is_ascii_and_drops_transliteration_punctuation() -> None:
    # unidecode("½") is " 1/2": per-token folding must not leak spaces or slashes.
    assert fold("½") == "12"
    assert fold("Đà") == "da"
    assert fold("ß") == "ss"


def test_nfd_input_gives_the_same_tokens_as_nfc() -> None:
    text = "Quận ủy Ba Đình khoẻ hoà thuỷ"
    nfd = unicodedata.normalize("NFD", text)
    assert terms(nfd) == terms(text)
    assert terms(nfd, folded=True) == terms(text, folded=True)
    assert terms(nfd)[0] == "quận"  # Whoosh's \w+ was seen to cut this to "qua"


def test_mixed_nfc_and_nfd_input() -> None:
    mixed = "Quận " + unicodedata.normalize("NFD", "Ba Đình")
    assert terms(mixed) == ["quận", "ba", "đình"]


def test_offsets_point_into_the_nfc_text() -> None:
    text = unicodedata.normalize("NFD", "Bí thư Quận ủy Vũ Hà")
    base = nfc(text)
    for tok in tokens(text):
        assert base[tok.start : tok.end].lower() == tok.exact or tok.exact == canonical_tone(
            base[tok.start : tok.end]
        ).lower()


def test_glued_camel_case_words_also_yield_their_parts() -> None:
    toks = list(tokens("Quận NamTừ Liêm"))
    exact = [t.exact for t in toks]
    assert exact == ["quận", "namtừ", "nam", "từ", "liêm"]
    positions = {t.exact: t.pos for t in toks}
    # The parts take consecutive positions so that the phrase "nam từ liêm" matches.
    assert positions["nam"] + 1 == positions["từ"] and positions["từ"] + 1 == positions["liêm"]
    assert positions["namtừ"] == positions["nam"]


@pytest.mark.parametrize("word", ["HĐND", "UBND", "TPHCM", "Quận", "quận", "Đình"])
def test_ordinary_words_are_not_split(word: str) -> None:
    assert len(list(tokens(word))) == 1


def test_seed_title_with_glued_words() -> None:
    title = (CORPUS / "002_7f5c0ff51dbfc99e.txt").read_text(encoding="utf-8").splitlines()[2]
    assert {"nam", "từ", "liêm"} <= set(terms(title))


# ------------------------------------------------------------------ properties

vietnamese_letters = st.sampled_from(
    list("aăâbcdđeêghiklmnoôơpqrstuưvxy")
    + list("àáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ")
    + list("ABCĐÊÔƠƯ")
)
words = st.text(vietnamese_letters, min_size=1, max_size=8)
separators = st.sampled_from([" ", "\u00a0", "\u200b", ", ", "\n", "“", "”", " - "])
texts = st.lists(st.tuples(words, separators), max_size=12).map(
    lambda pairs: "".join(w + s for w, s in pairs)
)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_nfd_and_nfc_forms_always_tokenize_alike(text: str) -> None:
    nfd = unicodedata.normalize("NFD", text)
    assert terms(nfd) == terms(unicodedata.normalize("NFC", text))


@settings(max_examples=300, deadline=None)
@given(texts)
def test_folded_terms_are_lowercase_ascii_alphanumerics(text: str) -> None:
    for term in terms(text, folded=True):
        assert term.isascii() and term.isalnum() and term == term.lower()


@settings(max_examples=300, deadline=None)
@given(words)
def test_folding_agrees_with_unidecode(word: str) -> None:
    expected = "".join(c for c in unidecode(nfc(word)).lower() if c.isalnum())
    assert fold(nfc(word)) == expected


@settings(max_examples=300, deadline=None)
@given(words)
def test_tone_canonicalisation_is_idempotent_and_keeps_the_fold(word: str) -> None:
    once = canonical_tone(word)
    assert canonical_tone(once) == once
    assert fold(once) == fold(nfc(word))


@settings(max_examples=200, deadline=None)
@given(texts)
def test_token_offsets_slice_the_nfc_text(text: str) -> None:
    base = nfc(text)
    for tok in tokens(text):
        piece = base[tok.start : tok.end]
        assert normalize_term(piece)[0] == tok.exact


def _long_texts() -> list[str]:
    seeds = [nfc(p.read_text(encoding="utf-8")) for p in sorted(CORPUS.glob("*.txt"))]
    return seeds + [
        "Quận NamTừ Liêm, TPHồChíMinh, iPhone và ÂÂa. " * 4,  # glued words
        "Tin “nóng” – 50% ½ ß… " * 8,  # punctuation, and letters folding to 0 or 2
        "Hà Nội 北京 Tokyo 😀 " * 8,  # beyond the arrays: the table path
    ]


@pytest.mark.parametrize("text", _long_texts())
def test_long_text_folds_and_splits_as_the_tables_say(text: str) -> None:
    """The array lookup for long text gives what ``str.translate`` gives."""
    assert len(text) >= 64
    # One character at a time goes through the translate table (short text).
    assert fold_aligned(text) == "".join(fold_aligned(ch) or "?" for ch in text)
    # The seams as documented: a lower-case letter then a capital ("NamTừ"), or the
    # last capital of a run that starts a lower-case word ("TPHồ"), one character in.
    case = "".join("U" if ch.isupper() else "l" if ch.islower() else " " for ch in text)
    assert glued_seams(text) == [m.start() + 1 for m in re.finditer("(?=lU|UUl)", case)]
    assert fold_aligned_with_seams(text) == (fold_aligned(text), glued_seams(text))


@pytest.mark.parametrize("text", _long_texts())
def test_long_text_raw_words_are_the_regex_words(text: str) -> None:
    """Raw words cut through the lookup array are the letter-and-digit runs."""
    assert raw_words(text) == re.findall(r"[^\W_]+", text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="aàĐ0²½_ .,\u00a0\u200b\u0301\u2029\u2160北😀", min_size=60, max_size=200))
def test_raw_words_of_any_text_are_the_regex_words(text: str) -> None:
    assert raw_words(text) == re.findall(r"[^\W_]+", text)


@pytest.mark.parametrize("text", ["NamTừ", "Quận Ba Đình", "", "Hà Nội 北京 TPHồ"])
def test_fold_with_seams_of_short_text_is_both(text: str) -> None:
    assert fold_aligned_with_seams(text) == (fold_aligned(text), glued_seams(text))


def test_fold_with_seams_of_nfd_text_is_none() -> None:
    assert fold_aligned_with_seams(unicodedata.normalize("NFD", "Quận NamTừ " * 10)) is None


def test_glued_seams_of_a_long_text() -> None:
    text = "Quận NamTừ Liêm và TPHồChíMinh, " * 3
    assert glued_seams(text)[:4] == [8, 21, 23, 26]  # NamTừ; TP·Hồ·Chí·Minh


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="aàảãáạăằđĐeêềNnHhTtừỪ0189 _.,-\n\u00a0×²ß", min_size=0, max_size=200))
def test_folded_words_are_the_tokens_words(text: str) -> None:
    """The metadata scans' folded words (short texts by regex, long ones through the
    lookup arrays) are the tokenizer's, glued words as their parts, at the same starts."""
    toks = list(tokens(text))
    kept = [t for i, t in enumerate(toks) if i + 1 == len(toks) or toks[i + 1].pos != t.pos]
    assert folded_words(text) == ([t.folded for t in kept], [t.start for t in kept])
