"""The index schema: which fields an article has and how each is analysed.

Every searchable text exists twice: an *exact* form (accents kept, normalised) and a
*folded* form (ASCII). A query word typed with accents searches both, with the exact
form boosted, so ``bà`` ranks articles saying ``bà`` above those saying only ``ba``;
a word typed without accents searches the folded form only.

The article text itself is stored once (``body``), for snippets and ``vnsearch show``.
``id``, ``hash`` and ``root`` are columns so the indexer can read them for every
document without unpickling stored bodies. ``*_name`` fields and ``year`` exist for
facet counts: columns (or term vectors, for the many-valued places) are what Whoosh
counts groups from.
"""

from __future__ import annotations

from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from search.analysis import EXACT, FOLDED

#: Bump when the schema changes in a way an old index cannot serve.
SCHEMA_VERSION = 1

#: Searchable text fields, and for each its folded twin.
TEXT_FIELDS = ("title", "body")
FOLDED_SUFFIX = "_f"

#: Relative weight of a title match against a body match (BM25F field weighting).
FIELD_BOOSTS = {"title": 3.0, "body": 1.0}

#: Weight of an exact-accent match on top of its folded match.
EXACT_BOOST = 2.0


def folded_name(field: str) -> str:
    """The name of the accent-folded twin of a text field."""
    return field + FOLDED_SUFFIX


def build_schema() -> Schema:
    """Return a fresh :class:`whoosh.fields.Schema` for an article index."""
    return Schema(
        id=ID(unique=True, stored=True, sortable=True),
        path=ID(stored=True),
        root=ID(stored=True, sortable=True),
        hash=ID(stored=True, sortable=True),
        title=TEXT(analyzer=EXACT, stored=True, phrase=True),
        title_f=TEXT(analyzer=FOLDED, phrase=True),
        body=TEXT(analyzer=EXACT, stored=True, phrase=True),
        body_f=TEXT(analyzer=FOLDED, phrase=True),
        author=TEXT(analyzer=FOLDED, stored=True, phrase=True),
        source=TEXT(analyzer=FOLDED, stored=True),
        people=TEXT(analyzer=FOLDED, stored=True, phrase=True),
        # Places: folded keys to filter on (pre- and post-2025 units), and the
        # canonical names, with term vectors, to count as facets.
        place=KEYWORD(commas=True, lowercase=True, scorable=False),
        province=KEYWORD(commas=True, lowercase=True, scorable=False),
        place_name=KEYWORD(commas=True, scorable=False, vector=True),
        places=STORED,
        author_name=ID(sortable=True),
        source_name=ID(sortable=True),
        date=DATETIME(stored=True, sortable=True),
        year=NUMERIC(int, sortable=True),
        summary=STORED,
        word_count=NUMERIC(int, stored=True),
        meta=STORED,
    )
