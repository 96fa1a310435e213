"""The real-archive index itself: every article of every origin is there, once, clean.

What ``test_real_cli.py`` and ``test_real_http.py`` search rests on: the samples of
baomoi (raw UTF-8 ``.txt``), VNTC (JSONL, NFD texts, exact duplicates), the raw
UTF-16 files (BOM, CRLF, NFD, space-laden names), the seeds and the made-up JSON
articles all come out of the indexer as clean, NFC articles under their own ids.
"""

from __future__ import annotations

import unicodedata

import pytest

from search import store
from search.results import article_json, get_article
from tests.conftest import REAL_SAMPLE

pytestmark = pytest.mark.slow


def test_every_article_is_indexed_once_under_its_own_id(real_archive) -> None:
    expected = {i for ids in real_archive.groups.values() for i in ids}
    assert len(expected) == sum(len(ids) for ids in real_archive.groups.values())
    with store.open_index(real_archive.index).searcher() as searcher:
        assert searcher.doc_count() == len(expected)
        indexed = {searcher.stored_fields(n)["id"] for n in searcher.reader().all_doc_ids()}
    assert indexed == expected
    for group in ("baomoi", "utf16", "vntc"):
        assert len(real_archive.groups[group]) >= REAL_SAMPLE, group


@pytest.mark.parametrize("group", ["seeds", "baomoi", "utf16", "vntc", "madeup"])
def test_every_article_is_stored_clean(real_archive, group) -> None:
    """NFC, no byte-order mark, no carriage return, a title, a body, a word count."""
    with store.open_index(real_archive.index).searcher() as searcher:
        for doc_id in real_archive.groups[group]:
            data = article_json(get_article(searcher, doc_id))
            text = data["title"] + data["body"] + data["summary"]
            assert unicodedata.is_normalized("NFC", text), doc_id
            assert "\ufeff" not in text and "\r" not in text, doc_id
            assert data["title"].strip() and data["body"].strip() and data["word_count"], doc_id


def test_duplicate_texts_are_two_articles_with_one_body(real_archive) -> None:
    with store.open_index(real_archive.index).searcher() as searcher:
        for first, second in real_archive.duplicates:
            a, b = (article_json(get_article(searcher, i)) for i in (first, second))
            assert a["id"] != b["id"] and (a["title"], a["body"]) == (b["title"], b["body"])
