"""The index schema: which fields an article has and how each is analysed.

Matching happens in one folded field, ``text_f`` (title ⁋ body, ASCII-folded, with
positions): every query word must be there, so an all-words query is a plain
intersection that Whoosh can skip through quickly. Everything else that shapes the
ranking is an optional boost, scored only on documents that already match:

* ``title_f`` — the folded title, so title matches weigh more (and ``title:``);
* ``title`` / ``body`` — the *accented* words in their exact form (no positions),
  so a query typed with accents ranks ``bà`` above ``ba``, and ``-bà`` can exclude
  exactly ``bà``.

The article text and its lede are stored once, compressed together (``body_z``,
:mod:`search.compression`), for snippets and ``vnsearch show``; the stored title is
plain.
``id``, ``path``, ``hash`` and ``root`` are columns so the indexer can read them for
every document without unpickling stored fields. ``*_name`` fields and ``year`` exist for
facet counts: columns are what Whoosh counts groups from, and a column has a value
(empty when the article has none) for *every* document, which term vectors do not:
counting places from vectors crashed on the first matching article without a place.
``people_name`` and ``place_name`` also feed autocomplete.
"""

from __future__ import annotations

from collections.abc import Mapping

from whoosh.columns import VarBytesListColumn
from whoosh.fields import DATETIME, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.fields import ID as ID_TYPE

from search.analysis import ACCENTED, FOLDED, PART_SEPARATOR
from search.compression import compress, decompress

#: Bump when the schema changes in a way an old index cannot serve.
SCHEMA_VERSION = 6

#: Field names, one constant each: every module names a field through these.
ID = "id"
PATH = "path"
ROOT = "root"
HASH = "hash"
#: The folded field every query matches, and the folded title.
MATCH_FIELD = "text_f"
TITLE_FIELD = "title_f"
#: The accented words of the title (also the stored title) and of the body.
TITLE = "title"
BODY = "body"
#: The compressed lede and body (:func:`pack_body`).
BODY_Z = "body_z"
AUTHOR = "author"
SOURCE = "source"
PEOPLE = "people"
#: Folded place keys to filter on: the unit as written, and its province.
PLACE = "place"
PROVINCE = "province"
#: Canonical place names (a list column, for facets) and the stored list.
PLACE_NAME = "place_name"
PLACES = "places"
PEOPLE_NAME = "people_name"
AUTHOR_NAME = "author_name"
SOURCE_NAME = "source_name"
DATE = "date"
YEAR = "year"
WORD_COUNT = "word_count"
META = "meta"
#: Fields holding exact (accented) forms, by the part of the article they cover.
EXACT_FIELDS = (TITLE, BODY)

#: Extra weight of a title match (on top of its match in ``text_f``).
TITLE_BOOST = 2.0
#: Extra weight of an exact-accent match (per field it occurs in).
EXACT_BOOST = 1.5


def match_text(title: str, body: str) -> str:
    """The value indexed in ``text_f``: title and body as two parts."""
    return f"{title}{PART_SEPARATOR}{body}"


#: Separates the summary from the body inside ``body_z`` (a control character that
#: cleaned article text never contains).
_PACK_SEPARATOR = "\x1f"


def pack_body(body: str, summary: str = "") -> bytes:
    """Compress an article's summary and body together for storage.

    Vietnamese UTF-8 shrinks ~3×, and the summary (the lede, a copy of the body's
    first paragraph) costs almost nothing next to the body it repeats.
    """
    return compress(f"{summary}{_PACK_SEPARATOR}{body}".encode())


def stored_texts(stored: Mapping[str, object]) -> tuple[str, str]:
    """The article's lede and body from a document's stored fields: both come out
    of one compressed value, so a caller that needs both asks once."""
    packed = stored.get(BODY_Z)
    if not packed or not isinstance(packed, bytes):
        return "", ""
    summary, _, body = decompress(packed).decode("utf-8").partition(_PACK_SEPARATOR)
    return summary, body


def stored_body(stored: Mapping[str, object]) -> str:
    """The article body from a document's stored fields."""
    return stored_texts(stored)[1]


def stored_summary(stored: Mapping[str, object]) -> str:
    """The article's lede from a document's stored fields."""
    return stored_texts(stored)[0]


class NamesColumn(VarBytesListColumn):
    """Whoosh's list-of-bytes column, with the default value it lacks: an empty list.

    A segment where no article names a place has no column file for the field, and
    Whoosh then reads every row as the column type's :meth:`default_value`, which
    ``VarBytesListColumn`` does not define (an ``AttributeError`` on every facet
    count over such an index: an incremental run that added only articles without
    places broke every results page).
    """

    def default_value(self, reverse: bool = False) -> list[bytes]:
        return []


class NAMES(KEYWORD):
    """Comma-separated names (places an article mentions): searchable terms, and a
    list column holding each document's names for facet counts.

    Whoosh's overlapping facets read a column that stores lists; a document without
    names gets an empty list, so it simply counts nowhere.
    """

    def __init__(self) -> None:
        super().__init__(commas=True, scorable=False, sortable=True)

    @property
    def column_type(self) -> NamesColumn:
        """Always :class:`NamesColumn`, also for an index whose schema was saved
        with the plain Whoosh column before it existed (the file format is the same)."""
        return NamesColumn()

    @column_type.setter
    def column_type(self, value: object) -> None:
        """Whoosh's field constructor sets the column; this field's is fixed."""

    def default_column(self) -> NamesColumn:
        return NamesColumn()

    def to_column_value(self, value: str | list[str]) -> list[bytes]:
        names = value.split(",") if isinstance(value, str) else value
        return [n.strip().encode("utf-8") for n in names if n.strip()]

    def from_column_value(self, value: list[bytes]) -> list[str]:
        return [v.decode("utf-8") for v in value]


def build_schema() -> Schema:
    """Return a fresh :class:`whoosh.fields.Schema` for an article index."""
    return Schema(**{
        ID: ID_TYPE(unique=True, stored=True, sortable=True),
        PATH: ID_TYPE(stored=True, sortable=True),
        ROOT: ID_TYPE(stored=True, sortable=True),
        HASH: ID_TYPE(stored=True, sortable=True),
        MATCH_FIELD: TEXT(analyzer=FOLDED, phrase=True),
        TITLE_FIELD: TEXT(analyzer=FOLDED, phrase=True),
        TITLE: TEXT(analyzer=ACCENTED, stored=True, phrase=False),
        BODY: TEXT(analyzer=ACCENTED, phrase=False),
        BODY_Z: STORED,
        AUTHOR: TEXT(analyzer=FOLDED, stored=True, phrase=True),
        SOURCE: TEXT(analyzer=FOLDED, stored=True),
        PEOPLE: TEXT(analyzer=FOLDED, stored=True, phrase=True),
        # Places: folded keys to filter on (pre- and post-2025 units), and the
        # canonical names, in a list column, to count as facets.
        PLACE: KEYWORD(commas=True, lowercase=True, scorable=False),
        PROVINCE: KEYWORD(commas=True, lowercase=True, scorable=False),
        PLACE_NAME: NAMES(),
        PLACES: STORED,
        # Whole names of the people an article mentions, for autocomplete.
        PEOPLE_NAME: KEYWORD(commas=True, scorable=False),
        AUTHOR_NAME: ID_TYPE(sortable=True),
        SOURCE_NAME: ID_TYPE(sortable=True),
        DATE: DATETIME(stored=True, sortable=True),
        YEAR: NUMERIC(int, sortable=True),
        WORD_COUNT: NUMERIC(int, stored=True),
        META: STORED,
    })
