"""The engine seam: what the service asks of an index, and the local Whoosh index behind it.

:class:`Engine` is the small interface the service (:mod:`search.service`) talks
to, so that it never touches Whoosh. Two implementations are meant to exist:
:class:`LocalEngine`, the Whoosh index in one directory (today's only one), and
the distributed backend of issue 19 (a Sphinx/Manticore cluster), which will plug
in here by implementing the same methods over the network.

What the seam covers today, honestly:

* ``search`` takes the whole checked request (the "plan") and returns a result
  page; the local engine runs :func:`search.query.run`, which parses, ranks,
  relaxes, corrects and highlights in one go. A remote engine would have to do
  the same (or the service would grow the parts it cannot).
* ``index_batch`` delegates to :func:`search.indexer.index_paths`: indexing is
  incremental per archive file (hashes, deletion scopes, a staged rebuild), so a
  batch is a list of archive paths, not of articles (``vnsearch index`` indexes
  through it).
* ``delete`` removes articles by id in one committed write, under the writer lock.
  An incremental run that still finds their files adds them back.
* ``article``, ``complete``, ``did_you_mean``, ``readings``, ``marking``, ``documents``
  and ``stats`` read the index's stored fields and its own vocabulary
  (:mod:`search.lexicon`).

Which engine a front end talks to is chosen here too, in one place for the CLI and
the HTTP server (:func:`build_engine`, :func:`open_engine`): the local index in
``--index DIR``, or, given ``--engine sphinx://HOST:PORT`` (or :data:`ENGINE_ENV`),
the cluster whose coordinator answers there (:mod:`search.sphinx.engine`, imported
only then: its client library is an optional extra).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from whoosh.index import Index
from whoosh.searching import Searcher

from search import generations, lock, spelling, store
from search.bulk.merging import merge_small
from search.complete import Completion, complete
from search.highlight import Marking
from search.indexer import IndexSummary, Progress, index_paths
from search.query import query_marking, run
from search.readings import Reading
from search.readings import readings as probable_readings
from search.results import SearchResult, get_article
from search.safe_writer import open_writer
from search.schema import ID
from search.store import StrPath

if TYPE_CHECKING:
    from search.service import SearchRequest


@runtime_checkable
class Engine(Protocol):
    """What the service needs of an index, local or distributed (issue 19)."""

    def index_batch(self, paths: Sequence[Path], *, rebuild: bool = False,
                    progress: Progress | None = None, procs: int | None = None,
                    notice: Callable[[str], None] | None = None) -> IndexSummary:
        """Add, replace and remove the articles of the archives at *paths*."""
        ...

    def delete(self, ids: Iterable[str]) -> int:
        """Remove the articles with these ids; how many were removed."""
        ...

    def search(self, request: SearchRequest) -> SearchResult:
        """One page of ranked, highlighted hits for a request the service checked."""
        ...

    def article(self, doc_id: str) -> dict[str, Any] | None:
        """An article's stored fields (an id or a unique id prefix), or ``None``."""
        ...

    def complete(self, prefix: str, limit: int) -> list[Completion]:
        """Places, people and titles that what the user is typing may become."""
        ...

    def did_you_mean(self, text: str) -> spelling.Suggestion | None:
        """The query the user probably meant, from the index's vocabulary."""
        ...

    def readings(self, text: str) -> list[Reading]:
        """The probable accented readings of *text*, from the index's vocabulary."""
        ...

    def documents(self) -> int:
        """How many articles the index holds (cheap: for liveness checks)."""
        ...

    def stats(self) -> store.IndexStats:
        """What the index holds: articles, size, last run, archives, fields."""
        ...

    def marking(self, text: str) -> Marking:
        """What a result page marks for the query *text* (read and expanded as a search
        would), to mark a whole article opened from a result the same way."""
        ...


class SearcherSource(Protocol):
    """Where searchers come from: an open index, or a pool of them (``vnsearch serve``)."""

    def searcher(self) -> AbstractContextManager[Searcher]: ...


class LocalEngine:
    """The Whoosh index in *index_dir*, searched through *searchers*.

    The HTTP server passes its searcher pool (which follows new index
    generations); without one, the index's current generation is opened on first
    use, and each call takes a searcher of its own, retired when the call ends (what
    it cached leaves with it: :mod:`search.generations`). Opening raises
    :class:`search.store.IndexError_` (no index, a foreign or corrupt one);
    :meth:`open` does so at once.
    """

    def __init__(self, index_dir: StrPath, searchers: SearcherSource | None = None) -> None:
        self.index_dir = Path(index_dir)
        self._searchers = searchers

    @classmethod
    def open(cls, index_dir: StrPath) -> LocalEngine:
        """An engine on the index at *index_dir*, opened now (so errors show now)."""
        return cls(index_dir, generations.open_generation(Path(index_dir)))

    def _source(self) -> SearcherSource:
        if self._searchers is None:
            self._searchers = generations.open_generation(self.index_dir)
        return self._searchers

    def index_batch(self, paths: Sequence[Path], *, rebuild: bool = False,
                    progress: Progress | None = None, procs: int | None = None,
                    notice: Callable[[str], None] | None = None) -> IndexSummary:
        """Index the archives at *paths* incrementally (see :func:`index_paths`)."""
        return index_paths(self.index_dir, list(paths), rebuild=rebuild, progress=progress,
                           procs=procs, notice=notice)

    def delete(self, ids: Iterable[str]) -> int:
        """Remove articles by id in one commit, holding the writer lock (so no
        indexing run writes meanwhile); the manifest is rewritten, which tells a
        running server that a new generation is there."""
        held = lock.acquire(self.index_dir)
        try:
            ix: Index = store.open_index(self.index_dir)
            writer = open_writer(ix, self.index_dir)  # the indexer's writer: the codec
            try:
                removed = sum(int(writer.delete_by_term(ID, doc_id)) for doc_id in set(ids))
            except BaseException:
                writer.cancel()
                raise
            writer.commit(mergetype=merge_small())  # merges without Whoosh's posting pool
            roots = store.read_manifest(self.index_dir).get("roots") or []
            store.write_manifest(self.index_dir, roots, ix.doc_count())
        finally:
            held.release()
        return removed

    def search(self, request: SearchRequest) -> SearchResult:
        with self._source().searcher() as searcher:
            return run(
                searcher, request.q, limit=request.limit, page=request.page,
                sort=request.sort, filters=request.filters, facets=request.facets,
                time_limit=request.time_limit, exact=request.exact,
            )

    def article(self, doc_id: str) -> dict[str, Any] | None:
        with self._source().searcher() as searcher:
            return get_article(searcher, doc_id)

    def complete(self, prefix: str, limit: int) -> list[Completion]:
        with self._source().searcher() as searcher:
            return complete(searcher, prefix, limit)

    def did_you_mean(self, text: str) -> spelling.Suggestion | None:
        with self._source().searcher() as searcher:
            return spelling.suggest(searcher, text)

    def readings(self, text: str) -> list[Reading]:
        with self._source().searcher() as searcher:
            return probable_readings(searcher, text)

    def documents(self) -> int:
        with self._source().searcher() as searcher:
            return int(searcher.doc_count())

    def stats(self) -> store.IndexStats:
        with self._source().searcher() as searcher:
            return store.index_stats(self.index_dir, searcher)

    def marking(self, text: str) -> Marking:
        with self._source().searcher() as searcher:
            return query_marking(searcher, text)


# --------------------------------------------------------------------------- choosing one

#: The environment variable naming the engine URL when ``--engine`` is not given.
ENGINE_ENV = "VNSEARCH_ENGINE"


def build_engine(index_dir: StrPath, url: str | None = None,
                 searchers: SearcherSource | None = None) -> Engine:
    """The engine for *url* (a cluster), else the local index at *index_dir*
    (searched through *searchers* when given). Nothing is opened yet; a bad URL
    raises :class:`ValueError` naming the problem."""
    if not url:
        return LocalEngine(index_dir, searchers)
    from search.sphinx.engine import SphinxEngine  # the cluster client: an optional extra
    from search.sphinx.topology import parse_url

    parse_url(url)
    return SphinxEngine(url)


def open_engine(index_dir: StrPath, url: str | None = None) -> Engine:
    """Like :func:`build_engine`, opened now so that errors show now: the local
    index's (:class:`search.store.IndexError_`) or an unreachable cluster's
    (:class:`ConnectionError`)."""
    if not url:
        return LocalEngine.open(index_dir)
    engine = build_engine(index_dir, url)
    engine.documents()
    return engine
