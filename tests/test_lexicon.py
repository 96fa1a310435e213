"""The index's vocabulary: accent spellings, near words, word pairs."""

from __future__ import annotations

import pytest

from search import lexicon, store
from search.normalize import fold


@pytest.fixture(scope="module")
def searcher(seed_index):
    with store.open_index(seed_index).searcher() as s:
        yield s


def test_accent_forms_count_every_spelling(searcher) -> None:
    forms = dict(lexicon.accent_forms(searcher.reader(), "dinh"))
    assert forms["đình"] >= 2  # Ba Đình, in titles and bodies
    assert all(fold(w) == "dinh" for w in forms)
    assert lexicon.accent_forms(searcher.reader(), "xyzzy") == []


def test_unaccented_spelling_is_what_remains(searcher) -> None:
    reader = searcher.reader()
    forms = dict(lexicon.accent_forms(reader, "ba"))
    assert sum(forms.values()) == lexicon.frequency(reader, "ba")
    assert forms.get("ba", 0) > 0  # "Ba Đình" is written without a mark on "Ba"


def test_edits1() -> None:
    near = lexicon.edits1("hoa")
    assert {"hoat", "ho", "hao", "koa", "hoan"} <= near and "hoa" not in near
    assert len(lexicon.edits1("abcde")) == len(set(lexicon.edits1("abcde")))


def test_near_words_are_index_words(searcher) -> None:
    found = dict(lexicon.near_words(searcher.reader(), "nhiemm"))
    assert "nhiem" in found and found["nhiem"] == lexicon.frequency(searcher.reader(), "nhiem")
    assert all((lexicon.MATCH_FIELD, w) in searcher.reader() for w in found)


def test_pairs(searcher) -> None:
    assert lexicon.pair_count(searcher, ["ba", "dinh"]) >= 2
    assert lexicon.pair_count(searcher, ["dinh", "ba"]) < lexicon.pair_count(searcher, ["ba", "dinh"])
    spelled = lexicon.pair_surfaces(searcher, ["quan", "uy", "ba", "dinh"])
    assert spelled.most_common(1)[0][0] == ("Quận", "ủy", "Ba", "Đình")
    assert lexicon.pair_count(searcher, ["duc", "hoat"]) == 2
