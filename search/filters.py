"""Filters and facets: restricting a search by place, date, author and source, and
counting what the matches hold.

A :class:`Filters` value gathers the restrictions a request asks for, from the
front ends' options (``--place``, ``since``…) and from the query's own
``place:``/``date:`` terms (:func:`search.syntax.split_filters`). It is immutable:
adding the query's filters makes a new value, so one set of options can serve many
queries. :func:`build_filter` turns it into the Whoosh filter query that the search
applies; facets are counted from the index's columns (:data:`FACETS`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial

import numpy as np
from whoosh import query as wq
from whoosh.searching import Results, Searcher
from whoosh.sorting import Categorizer, FacetMap, FieldFacet, MultiFacet, TranslateFacet
from whoosh.util.times import datetime_to_long

from search.dates import date_bounds
from search.errors import QueryError
from search.generations import PerReader, registry
from search.normalize import place_key, terms
from search.schema import (
    AUTHOR,
    AUTHOR_NAME,
    DATE,
    PLACE,
    PLACE_NAME,
    PROVINCE,
    SOURCE,
    SOURCE_NAME,
    YEAR,
)
from search.sorted_ids import segment_span

#: A date range a filter keeps (either end open: ``None``).
DateRange = tuple[datetime | None, datetime | None]



@dataclass(frozen=True, kw_only=True)
class Filters:
    """Restrictions on metadata, from CLI/HTTP options or ``place:``/``date:`` syntax.

    *place*, *since*, *until*, *author* and *source* are the options as typed
    (*since*/*until* in any form :func:`search.dates.date_bounds` accepts);
    *places* and *date_ranges* come from the query text.
    """

    place: str | None = None
    since: str | None = None
    until: str | None = None
    author: str | None = None
    source: str | None = None
    date_ranges: tuple[DateRange, ...] = ()
    places: tuple[str, ...] = ()

    def adding(self, *, places: Iterable[str] = (),
               date_ranges: Iterable[DateRange] = ()) -> Filters:
        """A new value with these places and date ranges too (this one is unchanged)."""
        return replace(self, places=self.places + tuple(places),
                       date_ranges=self.date_ranges + tuple(date_ranges))


def resolve_place(name: str) -> list[str]:
    """Filter keys for a place typed by a user, aliases resolved (``TPHCM`` → ``tp hcm``)."""
    from search.places import canonical_places  # the gazetteer loads on first use

    names = canonical_places(name) or [name]
    return [k for k in (place_key(n) for n in names) if k]


def build_filter(filters: Filters) -> wq.Query | None:
    """The Whoosh filter for *filters*, or ``None`` when nothing is restricted.

    Raises :class:`QueryError` for a place, date, author or source that cannot
    restrict anything (rather than silently matching nothing or everything).
    """
    parts = _place_parts(filters) + _date_parts(filters) + _name_parts(filters)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else wq.And(parts)


def _place_parts(filters: Filters) -> list[wq.Query]:
    """One part per place: the article mentions it (as a unit or as its province)."""
    parts: list[wq.Query] = []
    for place in ([filters.place] if filters.place else []) + list(filters.places):
        keys = resolve_place(place)
        if not keys:
            raise QueryError(
                f"bad place {place!r}: give a place name such as \"Ba Đình\"", "place"
            )
        parts.append(wq.Or([wq.Term(f, k) for k in keys for f in (PLACE, PROVINCE)]))
    return parts


def date_ranges_of(filters: Filters) -> list[DateRange]:
    """One date range per ``date:`` term, and one for the since/until options (checked:
    a bad date or ``--since`` after ``--until`` is a :class:`QueryError`); every engine
    turns these into its own range tests."""
    ranges = list(filters.date_ranges)
    if filters.since or filters.until:
        start = _bound(filters.since, "since", 0) if filters.since else None
        end = _bound(filters.until, "until", 1) if filters.until else None
        if start and end and start > end:
            raise QueryError("--since is after --until", "since")
        ranges.append((start, end))
    return ranges


def _date_parts(filters: Filters) -> list[wq.Query]:
    """Whoosh's date ranges for :func:`date_ranges_of`."""
    return [wq.DateRange(DATE, start, end) for start, end in date_ranges_of(filters)]


def _bound(value: str, param: str, end: int) -> datetime:
    """The first (*end* 0) or last (*end* 1) instant of an option's date."""
    try:
        return date_bounds(value)[end]
    except ValueError as exc:
        raise QueryError(str(exc), param) from None


def _name_parts(filters: Filters) -> list[wq.Query]:
    """Every word of the author and source options, in their folded fields."""
    parts: list[wq.Query] = []
    for fieldname, value in ((AUTHOR, filters.author), (SOURCE, filters.source)):
        if value:
            words = terms(value, folded=True)
            if not words:
                raise QueryError(f"bad {fieldname} {value!r}", fieldname)
            parts.append(wq.And([wq.Term(fieldname, w) for w in words]))
    return parts


# --------------------------------------------------------------------------- facets

#: Facet name → the index column it counts.
FACETS = {
    "place": FieldFacet(PLACE_NAME, allow_overlap=True),
    "year": FieldFacet(YEAR),
    "source": FieldFacet(SOURCE_NAME),
    "author": FieldFacet(AUTHOR_NAME),
}
#: How many values of each facet to report.
FACET_SIZE = 20

#: The largest key a real date has in the ``date`` column (larger ones mean "no date").
_LATEST_DATE = datetime_to_long(datetime.max)


def _dated_first(key: int) -> int:
    """A ``date`` column key for newest-first order that puts undated articles last:
    the column fills them with its largest value, which would sort them first."""
    return key if key <= _LATEST_DATE else -1


#: ``sort="date"``: newest first, articles without a date after every dated one.
DATE_ORDER = TranslateFacet(_dated_first, FieldFacet(DATE))


class Counts(FacetMap):
    """Group sizes, as Whoosh's ``Count`` keeps them, that can also grow by many
    documents at once (:func:`facet_maps`)."""

    def __init__(self) -> None:
        self.sizes: dict[object, int] = {}

    def add(self, groupname: object, docid: int, sortkey: object) -> None:
        self.grow(groupname, 1)

    def grow(self, groupname: object, n: int) -> None:
        self.sizes[groupname] = self.sizes.get(groupname, 0) + n

    def as_dict(self) -> dict[object, int]:
        return dict(self.sizes)


#: Per segment reader and facet name: every document's groups, as parallel arrays
#: (document, group number) and the group names, read once through Whoosh's own
#: categorizer (:func:`_segment_groups`).
Groups = tuple[np.ndarray, np.ndarray, list[object]]
_GROUPS: PerReader[dict[str, Groups]] = registry.per_reader("facet groups")


def facet_maps(searcher: Searcher, ids: np.ndarray) -> dict[str, FacetMap] | None:
    """The :data:`FACETS` counted over the documents *ids* (sorted global numbers)
    as Whoosh's faceting collector counts them: for matches the whole-list scorer
    found, which no collector walked (Whoosh would walk and score every match again:
    seconds on an everyday word at 84k). Each segment's groups are read once,
    through the collector's own categorizers, and counted with numpy after.
    ``None`` when a facet needs the matcher at hand (none of ours does)."""
    maps: dict[str, FacetMap] = {}
    for name, facet in FACETS.items():
        categorizer = facet.categorizer(searcher)
        if categorizer.needs_current:
            return None
        counts = maps[name] = Counts()
        for leaf, offset in searcher.leaf_searchers():
            lo, hi = segment_span(ids, offset, leaf.doc_count_all())
            if lo == hi:
                continue
            known = _GROUPS.get(leaf.reader(), dict)
            if name not in known:
                categorizer.set_searcher(leaf, offset)
                known[name] = _segment_groups(categorizer, leaf.doc_count_all())
            docs, groups, names = known[name]
            held = groups[np.isin(docs, ids[lo:hi] - offset, assume_unique=False)]
            for group, n in enumerate(np.bincount(held, minlength=len(names)).tolist()):
                if n:
                    counts.grow(names[group], n)
    return maps


def _segment_groups(categorizer: Categorizer, doc_count: int) -> Groups:
    """Every document's groups in one segment, as the faceting collector reads
    them: ``(documents, group numbers, group names)``."""
    numbers: dict[object, int] = {}
    docs: list[int] = []
    groups: list[int] = []
    for docnum in range(doc_count):
        keys = (categorizer.keys_for(None, docnum) if categorizer.allow_overlap
                else [categorizer.key_for(None, docnum)])
        for key in keys:
            docs.append(docnum)
            groups.append(numbers.setdefault(categorizer.key_to_name(key), len(numbers)))
    return (np.array(docs, dtype=np.int64), np.array(groups, dtype=np.int64),
            list(numbers))


#: Per segment reader: every document's ``sort="date"`` key (``None`` when a key
#: is not a plain integer), read once through Whoosh's own categorizer.
_DATE_KEYS: PerReader[np.ndarray | None] = registry.per_reader("date keys")


def newest_first(searcher: Searcher, ids: np.ndarray, limit: int) -> list[tuple[int, int]] | None:
    """The *limit* newest of the documents *ids* (sorted global numbers), as Whoosh's
    sorting collector orders them by :data:`DATE_ORDER` reversed: ``(key, docnum)``,
    largest key first, then larger number. For matches the whole-list scorer found:
    the collector would walk and score every match again. ``None`` when the keys
    cannot be read so."""
    categorizer = MultiFacet.from_sortedby(DATE_ORDER).categorizer(searcher)
    if categorizer.needs_current:
        return None
    keys = np.empty(len(ids), dtype=np.int64)
    for leaf, offset in searcher.leaf_searchers():
        lo, hi = segment_span(ids, offset, leaf.doc_count_all())
        if lo == hi:
            continue
        known = _DATE_KEYS.get(leaf.reader(), partial(_segment_keys, categorizer, leaf, offset))
        if known is None:
            return None
        keys[lo:hi] = known[ids[lo:hi] - offset]
    order = np.lexsort((ids, keys))[::-1][:limit]
    return [(int(keys[i]), int(ids[i])) for i in order]


def _segment_keys(categorizer: Categorizer, leaf: Searcher, offset: int) -> np.ndarray | None:
    """Every document's date key in one segment, or ``None`` if one is no integer."""
    categorizer.set_searcher(leaf, offset)
    keys = [categorizer.key_for(None, docnum) for docnum in range(leaf.doc_count_all())]
    if not all(type(k) is int and -(2**63) <= k < 2**63 for k in keys):
        return None
    return np.array(keys, dtype=np.int64)


def facet_counts(results: Results) -> dict[str, dict[str, int]]:
    """The top values of each facet over all the query's matches, most frequent first."""
    out: dict[str, dict[str, int]] = {}
    counted = set(results.facet_names())
    for name in FACETS:
        pairs = []
        for key, count in (results.groups(name) if name in counted else {}).items():
            if isinstance(key, bytes):
                key = key.decode("utf-8")
            if key in (None, "", 0):
                continue
            if name == "year" and not 1000 <= int(key) <= 9999:
                continue  # the column's fill value for articles with no date
            pairs.append((str(key), int(count)))
        pairs.sort(key=lambda kv: (-kv[1], kv[0]))
        out[name] = dict(pairs[:FACET_SIZE])
    return out
