"""What an article becomes in the index: its extracted fields, as Whoosh documents.

An archive record is read by :mod:`search.archive`, its metadata and clean text
extracted by :mod:`search.extract`; this module holds the last step, which field of
:mod:`search.schema` each extracted value fills (exact and folded twins, place keys,
metadata kept as stored JSON), and the same fields as JSON for ``vnsearch
extract``. The indexing run itself (incremental, failure-safe) is
:mod:`search.indexer`'s.
"""

from __future__ import annotations

from typing import Any

from search.archive import Record
from search.extract import Article, extract
from search.normalize import nfc, place_key
from search.schema import (
    AUTHOR,
    AUTHOR_NAME,
    BODY,
    BODY_Z,
    DATE,
    HASH,
    ID,
    MATCH_FIELD,
    META,
    PATH,
    PEOPLE,
    PEOPLE_NAME,
    PLACE,
    PLACE_NAME,
    PLACES,
    PROVINCE,
    ROOT,
    SOURCE,
    SOURCE_NAME,
    TITLE,
    TITLE_FIELD,
    WORD_COUNT,
    YEAR,
    match_text,
    pack_body,
)

#: JSON record keys that become index fields rather than stored metadata.
EXTRACTED_KEYS = frozenset({"title", "date", "author", "source"})


def analyse(record: Record) -> Article:
    """Extract an article's metadata and clean text (NFC throughout)."""
    return extract(nfc(record.text), record.fields or None)


def to_document(record: Record, root: str, article: Article) -> dict[str, Any]:
    """The Whoosh fields of one article (fields with no value are left out)."""
    doc: dict[str, Any] = {
        ID: record.id,
        PATH: record.path,
        ROOT: root,
        HASH: record.hash,
        TITLE: article.title,
        TITLE_FIELD: article.title,
        BODY: article.body,
        BODY_Z: pack_body(article.body, article.summary),
        MATCH_FIELD: match_text(article.title, article.body),
        WORD_COUNT: article.word_count,
        PLACES: list(article.places),
    }
    if article.author:
        doc[AUTHOR] = doc[AUTHOR_NAME] = article.author
    if article.source:
        doc[SOURCE] = doc[SOURCE_NAME] = article.source
    if article.people:
        doc[PEOPLE] = ", ".join(article.people)
        doc[PEOPLE_NAME] = ",".join(p.replace(",", " ") for p in article.people)
    if article.places:
        doc[PLACE] = ",".join(place_key(p) for p in article.places)
        doc[PLACE_NAME] = ",".join(article.places)
    if article.provinces_2025:
        doc[PROVINCE] = ",".join(place_key(p) for p in article.provinces_2025)
    if article.date:
        doc[DATE] = article.date
        doc[YEAR] = article.date.year
    doc[META] = stored_meta(record, article)
    return doc


def stored_meta(record: Record, article: Article) -> dict[str, Any]:
    """The metadata kept as stored JSON beside the fields (a record's own extra JSON
    keys, whether the date has a time, the 2025 provinces): shown, not searched.
    The cluster's rows (:mod:`search.sphinx.rows`) store the same."""
    meta = {k: v for k, v in record.fields.items() if k not in EXTRACTED_KEYS}
    meta["has_time"] = article.has_time
    if article.provinces_2025:
        meta["provinces_2025"] = list(article.provinces_2025)
    return meta


def article_fields(article: Article) -> dict[str, Any]:
    """Every extracted field of an article, JSON-ready (for ``vnsearch extract``)."""
    return {
        "title": article.title,
        "date": article.date.isoformat() if article.date else None,
        "has_time": article.has_time,
        "author": article.author,
        "source": article.source,
        "places": list(article.places),
        "provinces_2025": list(article.provinces_2025),
        "people": list(article.people),
        "summary": article.summary,
        "word_count": article.word_count,
        "body": article.body,
    }
