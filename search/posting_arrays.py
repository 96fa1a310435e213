"""The index's posting lists, word positions, field lengths and filters as numpy
arrays, held in one bounded cache.

The whole-list scorer (:mod:`search.bm25`), phrase checks (:mod:`search.proximity`),
bounded walks (:mod:`search.postings`) and the lexicon read a word's posting list
as arrays: sorted segment-local ids and the word's weight (frequency) in each;
positions only for the documents asked about. The arrays come from vnsearch's
codec (:func:`search.codec.vncodec.segment_arrays`, one per segment reader, kept
in :data:`search.generations.registry` and closed with its generation) through its
public methods; nothing here reads Whoosh's internals.

Whole lists are kept in a bounded cache, since the same everyday words recur in
query after query; every searcher on the same segments shares it (entries are
keyed on a segment and its deletions, so a changed segment never sees stale ones),
and it is registered with :data:`search.generations.registry`, which drops an
index's entries when it is replaced.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, NamedTuple, cast

import numpy as np
from whoosh import query as wq
from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from search import sorted_ids
from search.codec.vncodec import SegmentArrays, segment_arrays
from search.generations import PerReader, registry
from search.sorted_ids import EMPTY_IDS

#: What a cache entry is keyed by (a reader's token first) and what it holds: a tuple
#: of arrays (postings, positions, lengths, a filter's ids).
Key = tuple[Any, ...]
Entry = tuple[Any, ...]
Token = tuple[Any, ...]

#: Bytes of decoded arrays kept (the everyday words' postings and positions), at
#: least; the budget grows with the archive open, :data:`CACHE_PER_ARTICLE` bytes an
#: article, up to :data:`CACHE_MOST`. A fixed 256 MB held the query mix's lists at
#: 84k VNTC articles (226 MB) but not at 300k, where everyday words evicted each other
#: and the warm p50 / p95 doubled (42 / 90 ms against 22 / 47 ms with 1 GB).
CACHE_BYTES = 256 * 1024 * 1024
CACHE_PER_ARTICLE = 3 * 1024
CACHE_MOST = 1024 * 1024 * 1024
#: No weights (or scores): the arrays of a word the index does not hold.
EMPTY_WEIGHTS = np.empty(0, dtype=np.float64)


class _Cache:
    """Decoded arrays, least recently used dropped first once *budget* bytes are held."""

    def __init__(self, budget: int, most: int | None = None):
        self.budget = self.least = budget
        self.most = budget if most is None else most
        self.used = 0
        self.items: OrderedDict[Key, Entry] = OrderedDict()
        self.articles: dict[Any, int] = {}  # segment token → its articles, while open
        self.lock = threading.Lock()

    def count(self, token: Any, articles: int) -> None:
        """Size the budget for one more open segment of *articles* articles."""
        with self.lock:
            self.articles[token] = articles
            self._resize()

    def _resize(self) -> None:
        """:data:`CACHE_PER_ARTICLE` bytes an open article, between ``least`` and
        ``most`` (evicting down to it when it shrinks). Called with the lock held."""
        wanted = CACHE_PER_ARTICLE * sum(self.articles.values())
        self.budget = min(self.most, max(self.least, wanted))
        while self.used > self.budget:
            _, dropped = self.items.popitem(last=False)
            self.used -= _nbytes(dropped)

    def get(self, key: Key) -> Entry | None:
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key: Key, value: Entry) -> None:
        size = _nbytes(value)
        if size > self.budget:
            return
        with self.lock:
            if key in self.items:
                return
            self.items[key] = value
            self.used += size
            while self.used > self.budget:
                _, dropped = self.items.popitem(last=False)
                self.used -= _nbytes(dropped)

    def drop(self, tokens: set[Any]) -> int:
        """Drop the entries of readers with these tokens; how many went."""
        with self.lock:
            stale = [key for key in self.items if key[0] in tokens]
            for key in stale:
                self.used -= _nbytes(self.items.pop(key))
            for token in tokens & self.articles.keys():
                del self.articles[token]
            self._resize()
        return len(stale)

    def reset(self, budget: int, most: int | None = None) -> None:
        """Start afresh with *budget* bytes, growing up to *most* (fixed without)."""
        with self.lock:
            self.items.clear()
            self.used = 0
            self.least, self.most = budget, budget if most is None else most
            self._resize()

    def release(self, old: Searcher, keep: Searcher | None) -> int:
        """Drop the arrays of *old*'s segments (an index replaced or closed for good)
        except those *keep* still reads; how many entries went (the registry's call,
        see :mod:`search.generations`).

        The cache would evict them in time, but a full cache of a closed index's
        lists makes every new entry pay for an eviction first.
        """
        return self.drop(_stale_tokens(old, keep))

    def held(self, old: Searcher, keep: Searcher | None) -> int:
        stale = _stale_tokens(old, keep)
        with self.lock:
            return sum(1 for key in self.items if key[0] in stale)

    def __len__(self) -> int:
        return len(self.items)


def _nbytes(value: Entry) -> int:
    """Bytes held by a cached tuple of arrays and ``bytes``."""
    return sum(a.nbytes if isinstance(a, np.ndarray) else len(a)
               for a in value if a is not None)


def _stale_tokens(old: Searcher, keep: Searcher | None) -> set[Any]:
    return _tokens_of(old) - (_tokens_of(keep) if keep is not None else set())


#: One cache for the process: every searcher on the same segments shares it (the
#: HTTP server keeps a pool of searchers), and the budget bounds them all. Registered
#: before the tokens it is keyed by, so it is released while they are still known.
_CACHE = registry.register("posting arrays", _Cache(CACHE_BYTES, CACHE_MOST))
#: Each reader's segment state (see :func:`_token`).
_tokens: PerReader[Token] = registry.per_reader("posting array tokens")
#: Each segment reader's codec arrays (open files: closed when released).
_arrays: PerReader[SegmentArrays | None] = registry.per_reader(
    "segment arrays", close=lambda arrays: arrays.close() if arrays is not None else None)


def configure(budget: int, most: int | None = None) -> None:
    """Start afresh with a cache of *budget* bytes, whatever the archive's size; with
    *most*, one that grows with the archive open up to *most* bytes."""
    _CACHE.reset(budget, most)


def _tokens_of(searcher: Searcher) -> set[Any]:
    """The tokens of *searcher*'s readers: each segment's and, over several segments,
    the whole reader's (filter masks are kept under it). Worked out afresh, not
    remembered: the searcher may be on its way out."""
    leaves = tuple(_segment_state(leaf.reader()) for leaf, _ in searcher.leaf_searchers())
    return set(leaves) if searcher.reader().is_atomic() else {*leaves, leaves}


def cache_stats() -> dict[str, int]:
    """How full the cache is: ``{"bytes", "budget", "entries"}``."""
    return {"bytes": _CACHE.used, "budget": _CACHE.budget, "entries": len(_CACHE.items)}


def _token(reader: IndexReader) -> Token:
    """What a reader's arrays depend on: its segment, immutable once written, and
    which of its documents are deleted (a set that only grows). Readers of the same
    segment state share cache entries; a changed one never sees stale ones."""
    return _tokens.get(reader, lambda: _segment_state(reader))


def _segment_state(reader: IndexReader) -> Token:
    if reader.is_atomic() and hasattr(reader, "segment"):
        deleted = reader.deleted_docs_set
        return (reader.segment().segment_id(), len(deleted), hash(deleted))
    if reader.is_atomic():
        return ("reader", id(reader))  # an empty index: nothing to cache
    return tuple(_token(r) for r, _ in reader.leaf_readers())


class _Postings(NamedTuple):
    ids: np.ndarray  # sorted segment-local document numbers (int32: half the cache)
    #: The term's frequency in each: float32, as Whoosh stores it, or the smallest
    #: unsigned integers holding it exactly (:func:`_compact`; uint8, mostly).
    weights: np.ndarray


def _segment_arrays(reader: IndexReader) -> SegmentArrays:
    """The codec's arrays of a leaf reader's segment, opened once per reader and
    closed when its generation is released."""
    arrays = _arrays.get(reader, lambda: _opened(reader))
    if arrays is None:
        raise TypeError(
            f"segment {reader.segment().segment_id()} was not written by vnsearch's codec: "
            f"rebuild the index with `vnsearch index --rebuild`")
    return arrays


def _opened(reader: IndexReader) -> SegmentArrays | None:
    """A segment reader's codec arrays, newly opened; the cache budget counts its
    articles until its generation is released."""
    _CACHE.count(_token(reader), reader.doc_count_all())
    return segment_arrays(reader)


def _deleted(reader: IndexReader) -> np.ndarray:
    """The segment's deleted document numbers (none, mostly). Kept with the reader's
    arrays: its token fixes the deletions, and every posting list read from the
    segment filters by them (the codec builds them from a set, sorted, each call)."""
    if not reader.has_deletions():
        return EMPTY_IDS
    key = (_token(reader), "deleted")
    found = _CACHE.get(key)
    if found is None:
        found = (_segment_arrays(reader).deleted_docs(),)
        _CACHE.put(key, found)
    deleted: np.ndarray = found[0]
    return deleted


def postings(reader: IndexReader, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Sorted segment-local ids holding a term, and the term's weight (frequency) in each.

    Deleted documents are left out, as Whoosh's own matchers leave them out. The
    weights are exact but of the smallest type that holds them (:func:`_compact`):
    convert them before arithmetic that could overflow it.
    """
    return _entry(reader, fieldname, btext)


def _entry(reader: IndexReader, fieldname: str, btext: bytes) -> _Postings:
    key = (_token(reader), fieldname, btext)
    found = _CACHE.get(key)
    if found is None:
        found = _read_postings(reader, fieldname, btext)
        _CACHE.put(key, found)
    return cast(_Postings, found)  # this key's kind of entry


def term_weights(reader: IndexReader, fieldname: str) -> Iterator[tuple[bytes, float]]:
    """Every term of a leaf reader's *fieldname*, with its weight (occurrences): from
    the codec's dictionary in one walk, or Whoosh's term infos for a segment another
    codec wrote."""
    codec = _arrays.get(reader, lambda: _opened(reader)) if hasattr(reader, "segment") else None
    if codec is not None:
        return codec.term_weights(fieldname)
    return ((text, float(info.weight())) for text, info in reader.iter_field(fieldname))


def common_postings(reader: IndexReader, fieldname: str, btexts: list[bytes]) -> np.ndarray:
    """Sorted segment-local ids of the documents holding every term of *btexts*
    (deleted ones left out).

    The likely reading (:mod:`search.readings`) and the did-you-mean
    (:mod:`search.spelling`) both ask whether the query's word pairs stand
    together, and each starts from the documents holding both words: for
    everyday words that intersection is most of the cost of asking, so the last
    few are kept (:data:`RECENT_COMMON`), for the rest of the query. Not in the
    lists' cache: there they pushed out lists the next queries read again.
    """
    key = (_token(reader), fieldname, *btexts)
    with _RECENT_LOCK:
        found = _RECENT.get(key)
        if found is not None:
            _RECENT.move_to_end(key)
    if found is None:
        found = sorted_ids.common_docs([_entry(reader, fieldname, b).ids for b in btexts])
        with _RECENT_LOCK:
            _RECENT[key] = found
            while len(_RECENT) > RECENT_COMMON:
                _RECENT.popitem(last=False)
    return found


#: Intersections :func:`common_postings` keeps, the most recent (one query asks
#: about a few spans; the keys name segment states, so none is ever stale).
RECENT_COMMON = 8
_RECENT: OrderedDict[Key, np.ndarray] = OrderedDict()
_RECENT_LOCK = threading.Lock()


def _compact(values: np.ndarray, exact: np.dtype[Any]) -> np.ndarray:
    """*values* as the smallest unsigned integers that hold every one exactly (whole
    numbers from 0 up), else as *exact*: a cached everyday word's weights and
    positions take a quarter or half the bytes, so more of them stay cached.
    Unsigned values at most 16 bits wide are taken as they are: the codec gives
    them at the narrowest width that holds them."""
    if values.dtype.kind == "u" and values.dtype.itemsize <= 2:
        return values
    if len(values) and values.min() >= 0:
        top = values.max()
        for small in (np.uint8, np.uint16):
            if top <= np.iinfo(small).max:
                narrow = values.astype(small)
                if (narrow == values).all():
                    return narrow
                break
    return values.astype(exact)


def _read_postings(reader: IndexReader, fieldname: str, btext: bytes) -> _Postings:
    ids, weights = _segment_arrays(reader).postings_arrays(fieldname, btext)
    deleted = _deleted(reader)
    if len(deleted):
        keep = ~np.isin(ids, deleted)
        ids, weights = ids[keep], weights[keep]
    return _Postings(ids.astype(np.int32), _compact(weights, np.dtype(np.float32)))


def positions(reader: IndexReader, fieldname: str, btext: bytes, *,
              docs: np.ndarray) -> np.ndarray:
    """``doc << 32 | position`` of every occurrence of a term in *docs* (sorted ids
    that all hold it).

    The positions of the term's whole list are decoded once and cached: with the
    codec that costs about as much as decoding the blocks of a few documents (the
    codec's column setup dominates both), and the everyday words of phrases and
    proximity checks come back query after query.
    """
    entry = _entry(reader, fieldname, btext)
    key = (_token(reader), "positions", fieldname, btext)
    whole = _CACHE.get(key)
    if whole is None:
        _, starts, flat = _segment_arrays(reader).positions_arrays(fieldname, btext, entry.ids)
        whole = (starts.astype(np.int32), _compact(flat, np.dtype(np.int32)))  # cache's share
        _CACHE.put(key, whole)
    starts, flat = whole
    return _gather(entry.ids, starts, flat, docs=docs)


def _gather(ids: np.ndarray, starts: np.ndarray, flat: np.ndarray, *,
            docs: np.ndarray) -> np.ndarray:
    """``doc << 32 | position`` for *docs* (a sorted subset of *ids*) from decoded
    positions: ``flat[starts[i]:starts[i + 1]]`` belong to ``ids[i]``."""
    at = np.searchsorted(ids, docs)
    counts = starts[at + 1] - starts[at]
    # Index of every wanted position in *flat*: each doc's run, back to back.
    first = np.repeat(starts[at] - np.cumsum(counts) + counts, counts)
    gather = first + np.arange(int(counts.sum()))
    found: np.ndarray = (np.repeat(docs.astype(np.int64), counts) << 32) | flat[gather]
    return found


def field_lengths(reader: IndexReader, fieldname: str) -> np.ndarray:
    """Every document's (quantised) length in *fieldname*, as Whoosh scores with it."""
    if reader.doc_count_all() == 0:
        return EMPTY_WEIGHTS
    key = (_token(reader), "lengths", fieldname)
    found = _CACHE.get(key)
    if found is None:
        found = (_segment_arrays(reader).field_lengths(fieldname),)
        _CACHE.put(key, found)
    lengths: np.ndarray = found[0]
    return lengths


def _btext(reader: IndexReader, term: wq.Term) -> bytes | None:
    if term.fieldname not in reader.schema:
        return None
    try:
        btext: bytes = reader.schema[term.fieldname].to_bytes(term.text)
        return btext
    except ValueError:
        return None


def postings_of(reader: IndexReader, term: wq.Term) -> tuple[np.ndarray, np.ndarray]:
    """:func:`postings` of a term (none for a word the segment lacks). A cached list
    is taken as it is, without looking the word up in the segment's dictionary."""
    btext = _btext(reader, term)
    if btext is None:
        return EMPTY_IDS, EMPTY_WEIGHTS
    found = _CACHE.get((_token(reader), term.fieldname, btext))
    if found is not None:
        return cast(_Postings, found)
    if (term.fieldname, btext) not in reader:
        return EMPTY_IDS, EMPTY_WEIGHTS
    return postings(reader, term.fieldname, btext)


# --------------------------------------------------------------------------- filters

def allowed(searcher: Searcher, flt: wq.Query) -> np.ndarray:
    """Sorted global document numbers that pass the filter *flt*.

    Terms and their And/Or come from the cached posting arrays; anything else
    (date ranges …) is walked once by Whoosh and remembered, as the same filters
    (a source, a place, a year) come back request after request.
    """
    if type(flt) is wq.Term:
        parts = []
        for sub, offset in searcher.leaf_searchers():
            reader = sub.reader()
            btext = _btext(reader, flt)
            if btext is not None and (flt.fieldname, btext) in reader:
                parts.append(postings(reader, flt.fieldname, btext)[0] + offset)
        return np.concatenate(parts) if parts else EMPTY_IDS
    if type(flt) in (wq.And, wq.Or) and flt.subqueries:
        # Each set is sorted and distinct already: intersected and merged as such,
        # not sorted again (np.intersect1d did, 3 ms a filter at 84k articles).
        sets = [allowed(searcher, s) for s in flt.subqueries]
        return sorted_ids.union(sets) if type(flt) is wq.Or else sorted_ids.common_docs(sets)
    key = (_token(searcher.reader()), "filter", repr(flt))
    found = _CACHE.get(key)
    if found is None:
        found = (np.unique(np.fromiter(searcher.docs_for_query(flt), dtype=np.int64)),)
        _CACHE.put(key, found)
    ids: np.ndarray = found[0]
    return ids
