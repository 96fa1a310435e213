"""Index generations: opening one, a pool of searchers on it, and releasing what
belonged to it once the next one lands.

A *generation* is one committed state of an index directory. Every committed
``vnsearch index`` run (incremental or ``--rebuild``) rewrites the manifest
(:data:`search.store.MANIFEST`), so the manifest's stat (:func:`stamp`) names the
generation. The HTTP server (:class:`Searchers`) and the CLI
(:meth:`Generation.reading`) both get their searchers here.

Some caches hold what was read from one generation's segments — its term lists,
postings and word pairs — and are worth nothing once no searcher reads them. They
register with :data:`registry`, the one place that drops them: when a searcher of
an old generation is retired, :meth:`Registry.release` asks every registered cache
to let go of what it holds for that searcher, keeping what the current generation
still reads. The per-generation caches are:

* ``posting arrays`` — decoded posting lists, positions, field lengths and filter
  masks, keyed by a segment's state (id and deletions), so the segments an
  incremental run kept are shared by both generations and kept; ``posting array
  tokens`` — each reader's segment state; ``segment arrays`` — each segment
  reader's :class:`~search.codec.vncodec.SegmentArrays` (open files, closed when
  released) (:mod:`search.posting_arrays`);
* ``complete names`` and ``complete titles`` — the sorted names and title words
  autocomplete searches (:mod:`search.complete`);
* ``lexicon accents``, ``lexicon words``, ``lexicon answers`` — the accent map,
  the folded vocabulary and the memo of answers, how often query words stand
  together among them (:mod:`search.lexicon`, read by :mod:`search.spelling`).

Per-reader caches (:class:`PerReader`) hold readers weakly too, so a searcher
opened outside this module (a test, a benchmark) frees its entries when it is
collected.

The other caches stay where they are and are not registered: each is a pure
function of its inputs, or of a file it names with its version, and gives the same
answer whatever index is open. They are ``normalize``'s term and plan memos and
table arrays, ``analysis``' last few tokenised texts, ``encodings``' syllable
tables, ``accents.ime_decode``, ``highlight``'s word regexes, the packaged
gazetteer (``places.gazetteer``) and page assets (``http_assets``), and
abbreviation files (``abbrev.load``, keyed on the file's modification time and
size).
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from whoosh.index import Index
from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from search import store

log = logging.getLogger("vnsearch.generations")

#: Searches running at once; more wait for a free searcher. One by default: every
#: searcher opens its own reader, and Whoosh copies each compound segment file a reader
#: opens into memory (≈ 200 MB per searcher on the 35k-article baomoi index), while the
#: GIL lets extra searchers add little speed (measured at 16 clients on 2 cores: 1
#: searcher 12.6 req/s at 0.78 GB RSS, 4 searchers 9.8 req/s at 2.5 GB).
POOL_SIZE = 1
#: How long a request waits for a free searcher before :class:`Busy`. Long enough for
#: a queue of 16 clients behind one searcher while ``vnsearch index`` shares the CPU
#: (at 10 s the baomoi soak saw 24 of 3,011 requests answered 503).
POOL_WAIT = 30.0

V = TypeVar("V")
C = TypeVar("C", bound="GenerationCache")


class GenerationCache(Protocol):
    """What a cache registered with :data:`registry` offers."""

    def release(self, old: Searcher, keep: Searcher | None) -> int:
        """Drop the entries of *old* that *keep* does not read; how many went."""
        ...

    def held(self, old: Searcher, keep: Searcher | None) -> int:
        """How many entries :meth:`release` would drop."""
        ...

    def __len__(self) -> int:
        """Entries held, for every reader."""
        ...


class Registry:
    """Every per-generation cache, by name: one place to release a retired searcher.

    Caches are released in the order they registered, so one may use another that
    registered after it while it lets go (``posting arrays`` reads ``posting array
    tokens``).
    """

    def __init__(self) -> None:
        self._caches: dict[str, GenerationCache] = {}

    def register(self, name: str, cache: C) -> C:
        """Add *cache* under *name* (a module's declaration); returns it."""
        if name in self._caches:
            raise ValueError(f"a cache named {name!r} is already registered")
        self._caches[name] = cache
        return cache

    def per_reader(self, name: str, *,
                   close: Callable[[Any], None] | None = None) -> PerReader[Any]:
        """A new :class:`PerReader`, registered under *name* (*close*, if given, is
        called on each value the registry releases: a value holding open files)."""
        return self.register(name, PerReader(close))

    def release(self, old: Searcher, keep: Searcher | None = None) -> dict[str, int]:
        """Drop what every cache holds for *old* and *keep* does not read; how many
        entries went, per cache."""
        return {name: cache.release(old, keep) for name, cache in self._caches.items()}

    def held(self, old: Searcher, keep: Searcher | None = None) -> dict[str, int]:
        """Entries each cache holds for *old* that *keep* does not read (all zero once
        *old* has been released)."""
        return {name: cache.held(old, keep) for name, cache in self._caches.items()}

    def stats(self) -> dict[str, int]:
        """Entries each cache holds, for every reader."""
        return {name: len(cache) for name, cache in self._caches.items()}


#: The process's one registry of per-generation caches.
registry = Registry()


def readers_of(searcher: Searcher) -> list[IndexReader]:
    """The reader of *searcher* and, for a multi-segment index, each segment's."""
    top = searcher.reader()
    return [top, *(r for r, _ in top.leaf_readers() if r is not top)]


class PerReader(Generic[V]):
    """A value per index reader, built once and kept while the reader lives or until
    its generation is released (a reader type that cannot be weakly referenced gets
    a fresh value each time). *close*, if given, is called on each value released."""

    def __init__(self, close: Callable[[V], None] | None = None) -> None:
        self._table: weakref.WeakKeyDictionary[IndexReader, V] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        self._close = close

    def get(self, reader: IndexReader, build: Callable[[], V]) -> V:
        """``build()`` for *reader*, the first time; what it built, after."""
        try:
            with self._lock:
                value = self._table.get(reader)
        except TypeError:
            return build()
        if value is None:
            value = build()  # outside the lock: a build may look up other readers
            with self._lock:
                value = self._table.setdefault(reader, value)
        return value

    def release(self, old: Searcher, keep: Searcher | None) -> int:
        with self._lock:
            stale = [r for r in self._stale(old, keep) if r in self._table]
            dropped = [self._table.pop(reader) for reader in stale]
        if self._close is not None:
            for value in dropped:
                self._close(value)
        return len(stale)

    def held(self, old: Searcher, keep: Searcher | None) -> int:
        with self._lock:
            return sum(1 for r in self._stale(old, keep) if r in self._table)

    def __len__(self) -> int:
        with self._lock:
            return len(self._table)

    @staticmethod
    def _stale(old: Searcher, keep: Searcher | None) -> list[IndexReader]:
        kept = {id(r) for r in readers_of(keep)} if keep is not None else set()
        return [r for r in readers_of(old) if id(r) not in kept]


def retire(searcher: Searcher, keep: Searcher | None = None) -> None:
    """Close *searcher* and drop every cache entry that only it needed (those *keep*,
    a searcher of the current generation, still reads stay)."""
    registry.release(searcher, keep)
    searcher.close()


# --------------------------------------------------------------------------- opening


def stamp(index_dir: Path) -> object:
    """What names the committed generation at *index_dir*: the manifest's stat
    (``None`` without one)."""
    try:
        stat = (index_dir / store.MANIFEST).stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


@dataclass(frozen=True)
class Generation:
    """One committed state of an index directory, open for reading."""

    index_dir: Path
    stamp: object
    index: Index

    def open_searcher(self) -> Searcher:
        """A new searcher on this generation (the caller retires it: :func:`retire`)."""
        return self.index.searcher()

    @contextmanager
    def searcher(self) -> Iterator[Searcher]:
        """A searcher for one task (a CLI command), retired on exit: what it cached
        leaves the caches with it."""
        searcher = self.open_searcher()
        try:
            yield searcher
        finally:
            retire(searcher)


def open_generation(index_dir: Path) -> Generation:
    """The generation committed at *index_dir* now; raises
    :class:`search.store.IndexError_` when there is no usable index.

    The stamp is taken before opening, so a commit landing in between is noticed
    as a new generation next time rather than missed.
    """
    current = stamp(index_dir)
    return Generation(index_dir, current, store.open_index(index_dir))


# --------------------------------------------------------------------------- the pool


class Busy(Exception):
    """No searcher became free in time."""


class Searchers:
    """A small pool of searchers on the current index generation.

    When the generation changes, new requests get searchers on the new index;
    searchers of the old one are retired (closed, their cache entries released)
    at once when idle, and as their requests finish when not.
    """

    def __init__(self, index_dir: Path, size: int = POOL_SIZE) -> None:
        self.index_dir = index_dir
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(size)
        self._current: Generation | None = None
        #: The first searcher opened on the current generation: what a retiring
        #: searcher's release keeps. Open as long as its generation is current.
        self._anchor: Searcher | None = None
        self._idle: list[Searcher] = []

    @property
    def generation(self) -> Generation | None:
        """The generation new requests are served from (``None`` before the first)."""
        return self._current

    def _refresh(self) -> Generation:
        """The current generation, opened afresh when a commit has landed."""
        if self._current is not None and stamp(self.index_dir) == self._current.stamp:
            return self._current
        fresh = open_generation(self.index_dir)  # raises IndexError_ when unusable
        anchor = fresh.open_searcher()
        for searcher in self._idle:  # segments the new generation no longer reads go
            retire(searcher, keep=anchor)
        self._idle = [anchor]
        self._current, self._anchor = fresh, anchor
        log.info("opened index %s (generation %s)", self.index_dir, fresh.stamp)
        return fresh

    @contextmanager
    def searcher(self) -> Iterator[Searcher]:
        """A searcher for the duration of one request; :class:`Busy` when none
        becomes free within :data:`POOL_WAIT` seconds."""
        if not self._slots.acquire(timeout=POOL_WAIT):
            raise Busy("the server is busy; try again in a moment")
        try:
            with self._lock:
                generation = self._refresh()
                searcher = self._idle.pop() if self._idle else generation.open_searcher()
            try:
                yield searcher
            finally:
                self._give_back(searcher, generation)
        finally:
            self._slots.release()

    def _give_back(self, searcher: Searcher, generation: Generation) -> None:
        with self._lock:
            if generation is self._current:
                self._idle.append(searcher)
            else:  # its index was replaced meanwhile
                retire(searcher, keep=self._anchor)

    def close(self) -> None:
        """Retire the idle searchers (the server is stopping)."""
        with self._lock:
            for searcher in self._idle:
                retire(searcher)
            self._idle = []
            self._current = self._anchor = None
