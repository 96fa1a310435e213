"""A batch's words as term ids (:mod:`search.bulk.forms`) are the tokenizer's words.

The bulk builder indexes what :class:`search.analysis.VietnameseTokenizer` would
give Whoosh's writer; :class:`Forms` gets there by numbering word forms. Both must
agree term for term and position for position, in every mode, for multi-part
values, glued words (``NamTừ``), NFD text and real articles.
"""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.analysis import PART_SEPARATOR, VietnameseTokenizer
from search.bulk.forms import Forms
from search.extract import extract
from search.normalize import nfc
from tests.conftest import vntc_records

MODES = VietnameseTokenizer.MODES


def tokenizer_words(value: str, mode: str) -> list[tuple[str, int]]:
    return [(t.text, t.pos) for t in VietnameseTokenizer(mode)(value, positions=True)]


def forms_words(forms: Forms, value: str, mode: str) -> list[tuple[str, int]]:
    found = forms.field(value, mode)
    terms = list(found.table.ids)
    return [(terms[i], p) for i, p in
            zip(found.ids.tolist(), found.positions.tolist(), strict=True)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("value", [
    "Quận ủy Ba Đình họp",
    f"Đà Nẵng{PART_SEPARATOR}Khắc phục làn da cháy nắng ở Đà Nẵng",
    "Việt NamTừ TPHồ Chí Minh đến HàNội",  # glued words: the whole and its parts
    unicodedata.normalize("NFD", "Thành phố Hồ Chí Minh hoà bình"),
    f"{PART_SEPARATOR}thân bài",  # an empty first part
    "",
    "… — 2017!",
])
def test_the_forms_are_the_tokenizers_words(value: str, mode: str) -> None:
    forms = Forms()
    assert forms_words(forms, value, mode) == tokenizer_words(value, mode)
    assert forms_words(forms, value, mode) == tokenizer_words(value, mode)  # remembered


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="aàảãáạăằđĐeêềNnHhTtừỪ _.,\u2029", max_size=30),
                max_size=5))
def test_random_texts_in_one_table(values: list[str]) -> None:
    forms = Forms()  # one table for all, as in a builder
    for value in values:
        for mode in MODES:
            assert forms_words(forms, value, mode) == tokenizer_words(value, mode)


def test_real_articles() -> None:
    forms = Forms()
    for line in vntc_records(300):
        article = extract(nfc(json.loads(line)["text"]))
        for value in (article.body, f"{article.title}{PART_SEPARATOR}{article.body}"):
            for mode in MODES:
                assert forms_words(forms, value, mode) == tokenizer_words(value, mode)
