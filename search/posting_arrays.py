"""The index's posting lists, word positions, field lengths and filters as numpy
arrays, held in one bounded cache.

The whole-list scorer (:mod:`search.bm25`), phrase checks (:mod:`search.proximity`),
bounded walks (:mod:`search.postings`) and the lexicon read a word's posting list
as arrays: sorted segment-local ids and the word's weight (frequency) in each;
positions only for the documents asked about. Lists are decoded block by block
(:mod:`search.whoosh3_blocks`) once and kept in a bounded cache, since the same
everyday words recur in query after query; every searcher on the same segments
shares it (entries are keyed on a segment and its deletions, so a changed segment
never sees stale ones), and it is registered with :data:`search.generations.registry`,
which drops an index's entries when it is replaced.

With :mod:`search.whoosh3_blocks`, this is the one place that reads Whoosh's
on-disk posting format: a codec of our own would replace it behind these functions.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from itertools import chain
from typing import NamedTuple, cast

import numpy as np
from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher
from whoosh.matching import Matcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import IndexReader
from whoosh.searching import Searcher
from whoosh.util.numeric import _length_byte_cache

from search.generations import PerReader, registry
from search.sorted_ids import EMPTY_IDS
from search.whoosh3_blocks import Gaps, ids_and_weights, raw_blocks, read_block

#: Bytes of decoded arrays kept (the everyday words' postings and positions).
CACHE_BYTES = 256 * 1024 * 1024
#: Whoosh's quantised field lengths: stored byte → length.
_BYTE_TO_LENGTH = np.asarray(_length_byte_cache, dtype=np.float64)
#: No weights (or scores): the arrays of a word the index does not hold.
EMPTY_WEIGHTS = np.empty(0, dtype=np.float64)

#: What a reader's arrays depend on (see :func:`_token`): hashable, nested for a
#: reader over several segments.
Token = tuple[Hashable, ...]
#: A cache key: the reader's token first, then what was decoded (a term, a kind).
Key = tuple[Hashable, ...]
#: Decoded positions of a whole list: ``starts`` (one per posting, plus the end) into ``flat``.
Whole = tuple[np.ndarray, np.ndarray]
#: One block's ids, offsets into its joined position values, and those values.
Block = tuple[np.ndarray, np.ndarray, bytes]
#: A cached value. The key says which kind (and readers ``cast`` to it): a term's key
#: holds its :class:`_Postings`, a ``"positions"`` key a :data:`Whole`, a ``"block"``
#: key a :data:`Block`, a ``"lengths"`` or ``"filter"`` key one array.
Cached = tuple[np.ndarray | bytes | None, ...]


class _Cache:
    """Decoded arrays, least recently used dropped first once *budget* bytes are held."""

    def __init__(self, budget: int):
        self.budget = budget
        self.used = 0
        self.items: OrderedDict[Key, Cached] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Key) -> Cached | None:
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key: Key, value: Cached) -> None:
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

    def drop(self, tokens: set[Hashable]) -> int:
        """Drop the entries of readers with these tokens; how many went."""
        with self.lock:
            stale = [key for key in self.items if key[0] in tokens]
            for key in stale:
                self.used -= _nbytes(self.items.pop(key))
        return len(stale)

    def reset(self, budget: int) -> None:
        """Start afresh with *budget* bytes."""
        with self.lock:
            self.items.clear()
            self.used, self.budget = 0, budget

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


def _nbytes(value: Cached) -> int:
    """Bytes held by a cached tuple of arrays and ``bytes``."""
    return sum(a.nbytes if isinstance(a, np.ndarray) else len(a)
               for a in value if a is not None)


def _stale_tokens(old: Searcher, keep: Searcher | None) -> set[Hashable]:
    return _tokens_of(old) - (_tokens_of(keep) if keep is not None else set())


#: One cache for the process: every searcher on the same segments shares it (the
#: HTTP server keeps a pool of searchers), and the budget bounds them all. Registered
#: before the tokens it is keyed by, so it is released while they are still known.
_CACHE = registry.register("posting arrays", _Cache(CACHE_BYTES))
#: Each reader's segment state (see :func:`_token`).
_tokens: PerReader[Token] = registry.per_reader("posting array tokens")


def configure(budget: int) -> None:
    """Start afresh with a cache of *budget* bytes."""
    _CACHE.reset(budget)


def _tokens_of(searcher: Searcher) -> set[Hashable]:
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
    weights: np.ndarray  # the term's frequency in each (float32, as Whoosh stores it)
    blocks: np.ndarray | None  # per block: last id, data offset, data end, compressed


def postings(reader: IndexReader, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Sorted segment-local ids holding a term, and the term's weight (frequency) in each.

    Deleted documents are left out, as Whoosh's own matchers leave them out.
    """
    return _entry(reader, fieldname, btext)[:2]


def _entry(reader: IndexReader, fieldname: str, btext: bytes) -> _Postings:
    key = (_token(reader), fieldname, btext)
    found = _CACHE.get(key)
    if found is None:
        found = _read_postings(reader, fieldname, btext)
        _CACHE.put(key, found)
    return cast(_Postings, found)  # see Cached: a term's key holds its postings


def _leaf_matcher(reader: IndexReader, fieldname: str,
                  btext: bytes) -> tuple[Matcher, set[int] | None]:
    """The term's own posting matcher, and the deleted documents Whoosh's wrapper
    around it would skip (``None`` when none are)."""
    matcher = reader.postings(fieldname, btext)
    if isinstance(matcher, FilterMatcher):
        return matcher.child, matcher._ids
    return matcher, None


def _read_postings(reader: IndexReader, fieldname: str, btext: bytes) -> _Postings:
    matcher, deleted = _leaf_matcher(reader, fieldname, btext)
    if isinstance(matcher, W3LeafMatcher):
        found = _read_blocks(matcher)
    else:  # short lists stored inline in the term's entry
        pairs = []
        while matcher.is_active():
            pairs.append((matcher.id(), matcher.weight()))
            matcher.next()
        ids = np.fromiter((p[0] for p in pairs), dtype=np.int32, count=len(pairs))
        weights = np.fromiter((p[1] for p in pairs), dtype=np.float32, count=len(pairs))
        found = _Postings(ids, weights, None)
    if deleted:
        keep = ~np.isin(found.ids, np.fromiter(deleted, dtype=np.int64, count=len(deleted)))
        found = _Postings(found.ids[keep], found.weights[keep], found.blocks)
    return found


def _read_blocks(m: W3LeafMatcher) -> _Postings:
    """Decode every block of a whoosh3 posting list without per-posting Python,
    noting where each block lies so positions can be read block by block later."""
    if m._byteids:
        raise TypeError("byte ids are not document postings")
    gap_parts: list[Sequence[int]] = []
    weight_parts: list[Sequence[float]] = []
    lengths: list[int] = []
    blocks: list[tuple[int, int, int, int]] = []
    for block in raw_blocks(m):
        length = block.length
        blocks.append((block.last_id, block.start, block.end, 1 if block.compressed else 0))
        gaps, weights, _ = ids_and_weights(block.data, block.compressed, length)
        gap_parts.append(gaps)
        lengths.append(length)
        if weights is None:
            weights = (1.0,) * length
        elif isinstance(weights, int | float):
            weights = (float(weights),) * length
        weight_parts.append(weights)
    # One conversion for the whole list: each block's ids are gaps from 0, so the
    # running sum restarts at every block.
    total = sum(lengths)
    ids = np.cumsum(np.fromiter(chain.from_iterable(gap_parts), dtype=np.int64, count=total))
    counts = np.asarray(lengths, dtype=np.int64)
    before = np.concatenate(([0], ids[np.cumsum(counts)[:-1] - 1]))
    ids -= np.repeat(before, counts)
    every = np.fromiter(chain.from_iterable(weight_parts), dtype=np.float32, count=total)
    return _Postings(ids.astype(np.int32), every, np.asarray(blocks, dtype=np.int64))


def positions(reader: IndexReader, fieldname: str, btext: bytes, *,
              docs: np.ndarray) -> np.ndarray:
    """``doc << 32 | position`` of every occurrence of a term in *docs* (sorted ids
    that all hold it).

    When *docs* are a good share of the term's list (an everyday word in a phrase),
    the positions of the whole list are decoded once and cached; otherwise only
    the blocks holding *docs* are decoded, and cached block by block (the first
    blocks of an everyday word serve query after query).
    """
    entry = _entry(reader, fieldname, btext)
    key = (_token(reader), "positions", fieldname, btext)
    whole = cast("Whole | None", _CACHE.get(key))
    blocks = entry.blocks
    if whole is None and blocks is not None and _touched(blocks, docs) * _WHOLE_SHARE >= len(
            blocks):
        whole = _all_positions(reader, fieldname, btext, kept_ids=entry.ids, blocks=blocks)
        _CACHE.put(key, whole)
    if whole is not None:
        return _gather(entry.ids, whole, docs)
    return _some_positions(reader, fieldname, btext, docs=docs, entry=entry)


def _gather(ids: np.ndarray, whole: Whole, docs: np.ndarray) -> np.ndarray:
    """``doc << 32 | position`` for *docs* (a sorted subset of *ids*) from decoded
    positions (*whole*): ``flat[starts[i]:starts[i + 1]]`` belong to ``ids[i]``."""
    starts, flat = whole
    at = np.searchsorted(ids, docs)
    counts = starts[at + 1] - starts[at]
    # Index of every wanted position in *flat*: each doc's run, back to back.
    first = np.repeat(starts[at] - np.cumsum(counts) + counts, counts)
    gather = first + np.arange(int(counts.sum()))
    out: np.ndarray = (np.repeat(docs.astype(np.int64), counts) << 32) | flat[gather]
    return out


#: Decode a term's whole position list when the documents asked for lie in at least
#: this share (1/N) of its blocks: reading those blocks costs most of the whole anyway.
_WHOLE_SHARE = 4


def _touched(blocks: np.ndarray, docs: np.ndarray) -> int:
    """How many of the term's *blocks* hold some of *docs*."""
    return len(np.unique(np.searchsorted(blocks[:, 0], docs)))


def _all_positions(reader: IndexReader, fieldname: str, btext: bytes, *, kept_ids: np.ndarray,
                   blocks: np.ndarray) -> Whole:
    """Every position of a term (its postings *kept_ids*, stored in *blocks*):
    ``starts`` (one per posting, plus the end) into ``flat``, the positions of each
    posting in turn."""
    postfile = _leaf_matcher(reader, fieldname, btext)[0]._postfile
    gaps = Gaps()
    ids = []
    for _, start, end, compressed in blocks.tolist():
        block_ids, _, values = read_block(postfile, start, end, compressed=compressed)
        ids.append(block_ids)
        gaps.add(values)
    starts, flat = gaps.positions()
    counts = np.diff(starts)
    if len(counts) != len(kept_ids):  # deleted documents were left out of the ids
        keep = np.isin(np.concatenate(ids), kept_ids, assume_unique=True)
        kept = counts[keep]
        flat = flat[np.repeat(keep, counts)]
        starts = np.zeros(len(kept) + 1, dtype=np.int64)
        np.cumsum(kept, out=starts[1:])
    return starts.astype(np.int32), flat.astype(np.int32)  # halves the cache's share


def _some_positions(reader: IndexReader, fieldname: str, btext: bytes, *, docs: np.ndarray,
                    entry: _Postings) -> np.ndarray:
    """:func:`positions` for a few documents: decode just the blocks holding them."""
    matcher = _leaf_matcher(reader, fieldname, btext)[0]
    if entry.blocks is None or not isinstance(matcher, W3LeafMatcher):  # an inline list
        out: list[int] = []
        wanted = set(docs.tolist())
        while matcher.is_active():
            doc = matcher.id()
            if doc in wanted:
                out.extend((doc << 32) | p for p in matcher.value_as("positions"))
            matcher.next()
        return np.asarray(sorted(out), dtype=np.int64)
    which = np.searchsorted(entry.blocks[:, 0], docs)
    chosen: list[bytes] = []  # the position values of *docs*, in order
    for b in np.unique(which).tolist():
        key = (_token(reader), "block", fieldname, btext, b)
        block = cast("Block | None", _CACHE.get(key))
        if block is None:
            _, start, end, compressed = entry.blocks[b].tolist()
            block_ids, _, values = read_block(matcher._postfile, start, end, compressed=compressed)
            # Kept as one bytes object and offsets: a tuple of small bytes costs 3× more.
            offsets = np.zeros(len(values) + 1, dtype=np.int64)
            np.cumsum(np.fromiter(map(len, values), dtype=np.int64, count=len(values)),
                      out=offsets[1:])
            block = (block_ids.astype(np.int32), offsets, b"".join(values))
            _CACHE.put(key, block)
        ids, offsets, joined = block
        for i in np.searchsorted(ids, docs[which == b]).tolist():
            chosen.append(joined[offsets[i]:offsets[i + 1]])
    gaps = Gaps()
    gaps.add(chosen)
    starts, positions = gaps.positions()
    found: np.ndarray = (np.repeat(docs.astype(np.int64), np.diff(starts)) << 32) | positions
    return found


def field_lengths(reader: IndexReader, fieldname: str) -> np.ndarray:
    """Every document's (quantised) length in *fieldname*, as Whoosh scores with it."""
    key = (_token(reader), "lengths", fieldname)
    found = cast("tuple[np.ndarray] | None", _CACHE.get(key))
    if found is None:
        count = reader.doc_count_all()
        # Whoosh keeps lengths in a per-field byte column; it has no public bulk read.
        column = reader._perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
        if column is None:
            raw = np.zeros(count, dtype=np.uint8)
        else:
            raw = np.fromiter((column[i] for i in range(count)), dtype=np.uint8, count=count)
        found = (_BYTE_TO_LENGTH[raw],)
        _CACHE.put(key, found)
    return found[0]


def _btext(reader: IndexReader, term: wq.Term) -> bytes | None:
    if term.fieldname not in reader.schema:
        return None
    try:
        btext: bytes = reader.schema[term.fieldname].to_bytes(term.text)
        return btext
    except ValueError:
        return None


def postings_of(reader: IndexReader, term: wq.Term) -> tuple[np.ndarray, np.ndarray]:
    btext = _btext(reader, term)
    if btext is None or (term.fieldname, btext) not in reader:
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
        sets = [allowed(searcher, s) for s in flt.subqueries]
        out = sets[0]
        for other in sets[1:]:
            if type(flt) is wq.And:
                out = np.intersect1d(out, other, assume_unique=True)
            else:
                out = np.union1d(out, other)
        return out
    key = (_token(searcher.reader()), "filter", repr(flt))
    found = cast("tuple[np.ndarray] | None", _CACHE.get(key))
    if found is None:
        found = (np.unique(np.fromiter(searcher.docs_for_query(flt), dtype=np.int64)),)
        _CACHE.put(key, found)
    return found[0]
