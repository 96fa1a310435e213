"""Did you mean: accent restoration, typo correction, Telex/VNI — on the seeds and VNTC."""

from __future__ import annotations

from pathlib import Path

import pytest

from search import store
from search.accents import keeps_accents
from search.indexer import index_paths
from search.normalize import fold, has_accents, token_tuples
from search.spelling import one_edit, searched_form, suggest
from tests.conftest import CORPUS


def suggestion(index_dir: Path, text: str):
    with store.open_index(index_dir).searcher() as s:
        return suggest(s, text)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("quan uy ba dinh", "quận ủy ba đình"),
        ("dang vien", "đảng viên"),
        ("thi dua", "thi đua"),
        ("giai phong mat bang", "giải phóng mặt bằng"),
        ("tran duc hoat", "trần đức hoạt"),
        ("Quận ủy Ba Đinh", "quận ủy ba đình"),  # a wrong tone the archive never writes
    ],
)
def test_accents_restored_from_the_archive(seed_index, typed, expected) -> None:
    s = suggestion(seed_index, typed)
    assert s is not None and s.text.casefold() == expected and not s.corrected


def test_ba_dinh_keeps_the_archives_capitals(seed_index) -> None:
    assert "Ba Đình" in suggestion(seed_index, "quan uy ba dinh").text


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("daij hoi", "đại hội"),  # a Telex tone on a word missing its đ
        ("Trần Đức Hoạ", "trần đức hoạt"),  # a real word, but never next to "Đức"
        ("quaanj uyr", "quận ủy"),  # Telex with the keyboard tool off
        ("qua6n5 uy3", "quận ủy"),  # VNI
        ("ba ddinhf", "ba đình"),
        ("nhiemm vu", "nhiệm vụ"),  # an extra letter
    ],
)
def test_corrections(seed_index, typed, expected) -> None:
    s = suggestion(seed_index, typed)
    assert s is not None and s.text.casefold() == expected and s.corrected


@pytest.mark.parametrize(
    "text",
    [
        "quận ủy Ba Đình",  # already what the archive writes
        "giải phóng mặt bằng",
        "Ba Đình",
        "văn hoá",  # old tone placement: the archive writes "văn hóa", the same word
        '"ba dinh"',  # query syntax is left alone
        "title:ba",
        "ba -dinh",
        "xyzzyplugh",  # nothing better to offer
        "Bà",  # the seeds never write "bà", but "ba" would take the typed mark away
        "bà đình",  # … nor would "Ba Đình"
    ],
)
def test_no_suggestion_when_nothing_to_improve(seed_index, text) -> None:
    assert suggestion(seed_index, text) is None


def test_right_but_unaccented_query_is_not_corrected(seed_index) -> None:
    s = suggestion(seed_index, "giai phong mat bang")
    assert not s.corrected and s.text == "Giải phóng mặt bằng"  # first word capitalised


@pytest.fixture(scope="module")
def decoy_index(tmp_path_factory) -> Path:
    return build_decoy_index(tmp_path_factory.mktemp("decoy"))


def build_decoy_index(root: Path) -> Path:
    """The seeds plus an article full of "bà" and "đinh", never side by side (an
    index beside *root*, which holds the archive)."""
    for path in CORPUS.glob("*.txt"):
        (root / path.name).write_bytes(path.read_bytes())
    sentence = "Bà cụ kể rằng chiếc đinh sắt ấy do bà mua. "
    (root / "decoy.txt").write_text("Chuyện cái đinh\n\n" + sentence * 40, encoding="utf-8")
    index_dir = root.parent / (root.name + "-ix")
    index_paths(index_dir, [root])
    return index_dir


def test_word_pairs_beat_word_counts(decoy_index) -> None:
    with store.open_index(decoy_index).searcher() as s:
        from search.lexicon import accent_forms

        # Alone, "bà" and "đinh" are the archive's commonest spellings …
        assert accent_forms(s.reader(), "ba")[0][0] == "bà"
        assert accent_forms(s.reader(), "dinh")[0][0] == "đinh"
        # … but next to each other the archive writes "Ba Đình".
        assert suggest(s, "ba dinh").text == "Ba Đình"
        assert suggest(s, "dinh").text == "Đinh"
        # Pair by pair when the whole query never occurs as one span.
        assert suggest(s, "ba dinh xyzzy").text == "Ba Đình xyzzy"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ha noi", "hà nội"),
        ("chinh phu", "chính phủ"),
        ("bo truong", "bộ trưởng"),
        ("bong da", "bóng đá"),
        ("hoc sinh", "học sinh"),
        ("thanh pho ho chi minh", "thành phố hồ chí minh"),
        ("vieetj nam", "việt nam"),
    ],
)
def test_vntc_suggestions(vntc_index, typed, expected) -> None:
    s = suggestion(vntc_index, typed)
    assert s is not None and s.text.casefold() == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        # A slip that adds a mark (đ) is fixed, and the word typed right beside it
        # stays: before, "miễn" (next to a word the archive lacks) became "Tiễn".
        ("miễn thđế nhập khẩu", "Miễn thuế nhập khẩu"),
        ("bộ trưởng bộ tài chíh", "Bộ trưởng Bộ Tài chính"),
    ],
)
def test_vntc_typos_typed_with_accents(vntc_index, typed, expected) -> None:
    s = suggestion(vntc_index, typed)
    assert s is not None and (s.text, s.corrected) == (expected, True)


def test_words_typed_as_the_archive_writes_them_are_not_typo_fixed(vntc_index) -> None:
    # "giữa" and "sân" never stand together in these 1,500 articles, yet each is
    # typed exactly as the archive writes it: it was "corrected" to "Giữa bẩn".
    assert suggestion(vntc_index, "giữa sân") is None


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("thđế", "thuế", True),  # substitution
        ("chíh", "chính", True),  # insertion
        ("cíhnh", "chính", True),  # neighbours swapped
        ("ùng", "vùng", True),
        ("gữa", "giữa", True),
        ("thuế", "thuế", False),  # no edit
        ("thue", "thuế", True),  # an accented letter is a letter of its own
        ("tdhe", "thuế", False),  # two edits
    ],
)
def test_one_edit(a, b, expected) -> None:
    assert one_edit(a, b) is expected
    assert one_edit(b, a) is expected


def _seed_words() -> list[str]:
    words = []
    for path in sorted(CORPUS.glob("*.txt")):
        words += [t[0] for t in token_tuples(path.read_text(encoding="utf-8"))]
    return words


def test_typed_accents_are_never_taken_away_on_the_seeds(seed_index) -> None:
    """Property: a word typed with the accents the archive writes keeps every one of
    them in the suggestion (spans of the seeds, every other word folded)."""
    words = _seed_words()
    checked = 0
    with store.open_index(seed_index).searcher() as s:
        for n in range(0, len(words) - 4, 7):
            span = words[n : n + 1 + n % 4]
            typed = [w if (n + k) % 2 else fold(w) for k, w in enumerate(span)]
            checked += typed_accents_kept(s, typed)
    assert checked > 50


def typed_accents_kept(searcher, typed: list[str]) -> int:
    """Assert that the suggestion for *typed* keeps every accent typed; the number of
    accented words it checked (0 when there is no suggestion)."""
    got = suggest(searcher, " ".join(typed))
    if got is None:
        return 0
    out = [t[0] for t in token_tuples(got.text)]
    assert len(out) == len(typed), (typed, got.text)
    for word, spelled in zip(typed, out, strict=True):
        assert not has_accents(word) or keeps_accents(word, spelled), (typed, got.text)
    return sum(has_accents(word) for word in typed)


def test_the_first_word_is_capitalised_and_names_as_the_archive_writes_them(decoy_index) -> None:
    with store.open_index(decoy_index).searcher() as s:
        assert suggest(s, "quan uy ba dinh").text == "Quận ủy Ba Đình"
        assert suggest(s, "dang vien").text == "Đảng viên"


@pytest.mark.parametrize(
    ("capitalised", "plain", "expected"),
    [(3, 4, "Ủy ban nhân dân"), (4, 3, "Ủy ban nhân dân"), (6, 1, "Ủy ban Nhân dân")],
)
def test_a_word_is_capitalised_only_when_the_archive_clearly_does(
    tmp_path, capitalised, plain, expected
) -> None:
    """Mid-sentence, "Nhân" needs two thirds of the votes; near ties read lowercase."""
    body = "Ông đến họp ở Ủy ban Nhân dân xã. " * capitalised + "Bà đến họp ở Ủy ban nhân dân xã. " * plain
    (tmp_path / "a.txt").write_text("Tin ngắn\n\n" + body, encoding="utf-8")
    index_paths(tmp_path / "ix", [tmp_path / "a.txt"])
    assert suggestion(tmp_path / "ix", "uy ban nhan dan").text == expected


@pytest.mark.parametrize(("typed", "suggestion", "searched"), [
    ("hàm ếch ngori", "Hàm ếch ngồi", "Hàm ếch ngoi"),  # the guessed marks go (and case)
    ("nguy co vurus h5n1", "Nguy cơ virus H5N1", "nguy co virus h5n1"),
    ("câhu âu", "Châu Âu", "Châu Âu"),  # marks typed stay
    ("quaanj uyr", "Quận ủy", "quan uy"),  # Telex keys are no marks typed
    ("tp.hcm xyz", "TP HCM", "TP HCM"),  # words that do not pair up: as suggested
])
def test_a_correction_is_searched_with_the_marks_typed(typed, suggestion, searched) -> None:
    assert searched_form(typed, suggestion) == searched
