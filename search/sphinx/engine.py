"""The cluster engine: :class:`search.engine.Engine` over a Sphinx/Manticore cluster.

:class:`SphinxEngine` answers the service (:mod:`search.service`) as the local
engine does, with the same :class:`~search.results.SearchResult` and article
shapes, so every front end (CLI, JSON, HTTP, the page) works unchanged on
``--engine sphinx://HOST:PORT``. vnsearch stays the analyser: the query is parsed
and written as SphinxQL by :mod:`search.sphinx.sphinxql`, the coordinator fans it
out to the shards, and the page's snippets are marked by vnsearch's own
highlighter (:mod:`search.highlight`) over the stored text each row carries.

What the cluster does differently, said rather than faked:

* a shard with no live replica makes the answer ``partial`` (the coordinator's
  warnings say an agent failed), never silently incomplete;
* relaxation (``fallback``) uses searchd's quorum over the folded words;
* typo matches, did-you-mean, accent readings and autocomplete need the
  vocabulary kept beside the cluster; without it a result has no suggestion and
  no typo matches, and autocomplete says it is not available;
* patterns (``word*``), fuzzy terms, ranges and ``author:``-style query fields
  are refused with an error naming them; ``--author``/``--source`` compare the
  whole name as the article gives it, not words inside it; ``show`` takes whole ids only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pymysql

from search import spelling
from search.complete import Completion
from search.errors import QueryError
from search.filters import FACET_SIZE, Filters
from search.highlight import Marking, mark_all, snippets, typed_reading
from search.indexer import IndexSummary, Progress
from search.normalize import nfc
from search.places import gazetteer
from search.readings import Reading
from search.results import Hit, SearchResult, extra_fields
from search.schema import SCHEMA_VERSION
from search.sphinx import failover, ingest, rows, rtindex, sphinxql
from search.sphinx.connection import quote
from search.sphinx.topology import Node, Topology, connect, discover
from search.store import IndexStats
from search.syntax import split_filters

if TYPE_CHECKING:
    from search.service import SearchRequest

#: Relaxation as locally: all words but one for 3 to this many words, then any word.
MAX_RELAX_WORDS = 8


class Unavailable(QueryError):
    """Something the cluster engine cannot do (named in the message)."""


@dataclass(frozen=True)
class Page:
    """What searchd answered for one statement: rows, their total, whether complete."""

    rows: list[dict[str, Any]]
    total: int
    partial: bool


class SphinxEngine:
    """The cluster whose coordinator answers SphinxQL at engine URL *url*
    (``sphinx://HOST:PORT``); its topology is read from the coordinator on first use."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._topology: Topology | None = None

    @property
    def topology(self) -> Topology:
        """The cluster's shape, read from its coordinator on first use; an unreachable
        coordinator, or one that is not a vnsearch cluster's, is a :class:`ConnectionError`."""
        if self._topology is None:
            try:
                self._topology = discover(self.url)
            except ValueError as exc:  # answered, but holds no vnsearch cluster
                raise ConnectionError(str(exc)) from None
        return self._topology

    @contextmanager
    def _cursor(self) -> Iterator[pymysql.cursors.DictCursor]:
        """A cursor on the coordinator, for one call (connections are cheap on a LAN,
        and a call's own connection is safe in the server's threads)."""
        conn = connect(self.topology.coordinator)
        try:
            with conn.cursor(pymysql.cursors.DictCursor) as cur:
                yield cur
        finally:
            conn.close()

    def _run(self, sql: str) -> Page:
        """One SELECT: its rows (by column name), searchd's total, and whether a shard
        had no live replica to answer (:mod:`search.sphinx.failover` retries while the
        coordinator learns which mirror died)."""
        with self._cursor() as cur:
            try:
                answer = failover.select(cur, sql)
            except pymysql.err.ProgrammingError as exc:
                raise Unavailable(f"the cluster cannot run this search: {_reason(exc)}") from None
            except pymysql.err.MySQLError as exc:
                raise ConnectionError(f"the cluster at {self.url} failed: {_reason(exc)}") from None
        rows = [dict(row) for row in answer.rows]
        return Page(rows, int(answer.meta.get("total_found", len(rows))), answer.partial)

    # ------------------------------------------------------------------ indexing

    def index_batch(self, paths: Sequence[Path], *, rebuild: bool = False,
                    progress: Progress | None = None, procs: int | None = None,
                    notice: Callable[[str], None] | None = None) -> IndexSummary:
        """Index the archives at *paths* into the cluster (see :mod:`search.sphinx.ingest`)."""
        return ingest.index_paths(self.topology, list(paths), rebuild=rebuild,
                                  progress=progress, procs=procs, notice=notice)

    def delete(self, ids: Iterable[str]) -> int:
        """Remove articles by id from every replica of their shards."""
        return ingest.delete(self.topology, list(ids))

    # ------------------------------------------------------------------ searching

    def search(self, request: SearchRequest) -> SearchResult:
        """One page of ranked, highlighted hits, found by the cluster."""
        started = time.perf_counter()
        words, filters = split_filters(request.q, request.filters)
        where = sphinxql.conditions(filters)
        compiled = self._compiled(words, filters)
        match = compiled.match if compiled else None
        page = self._page(request, match, where)
        relaxed = None
        if compiled and not page.total and not page.partial:
            for mode, keep in _relaxations(compiled.plain):
                wider = sphinxql.relaxed_match(compiled.plain, keep)
                more = self._page(request, wider, where)
                if more.total or more.partial:
                    page, relaxed, match = more, mode, wider
                    break
        facets = self._facets(match, where) if request.facets else None
        stored, complete = self._stored([int(row["id"]) for row in page.rows])
        marking = _marking(compiled, words)
        return SearchResult(
            query=request.q, total=page.total, page=request.page, limit=request.limit,
            took_ms=(time.perf_counter() - started) * 1000,
            hits=[_hit(row, stored[int(row["id"])], marking) for row in page.rows
                  if int(row["id"]) in stored],
            sort=request.sort, fallback=relaxed is not None, relaxed=relaxed, facets=facets,
            partial=page.partial or not complete,
        )

    def _stored(self, ids: list[int]) -> tuple[dict[int, object], bool]:
        """The stored JSON of the rows *ids* (searchd ids), and whether all came."""
        if not ids:
            return {}, True
        page = self._run(sphinxql.stored_statement(ids))
        found = {int(row["id"]): row["stored"] for row in page.rows}
        return found, len(found) == len(set(ids)) and not page.partial

    def _compiled(self, words: str, filters: Filters) -> sphinxql.Compiled | None:
        """The query's MATCH (``None`` for a query of filters only)."""
        if words.strip():
            return sphinxql.compile_query(words, self.readings(words))
        if filters == Filters():
            raise QueryError("empty query: type some words to search for")
        return None

    def _page(self, request: SearchRequest, match: str | None, where: sphinxql.Where) -> Page:
        select = sphinxql.Select(match=match, where=where, sort=request.sort,
                                 offset=(request.page - 1) * request.limit, limit=request.limit)
        return self._run(select.sql())

    def _facets(self, match: str | None, where: sphinxql.Where) -> dict[str, dict[str, int]]:
        """The top values of each facet over every match, most frequent first."""
        out: dict[str, dict[str, int]] = {}
        for name in sphinxql.FACET_ATTRIBUTES:
            page = self._run(sphinxql.facet_statement(name, match, where))
            counts: dict[str, int] = {}
            for row in page.rows:
                value = _facet_value(name, row)
                if value:
                    counts[value] = counts.get(value, 0) + int(row["n"])
            top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:FACET_SIZE]
            out[name] = dict(top)
        return out

    # ------------------------------------------------------------------ articles

    def article(self, doc_id: str) -> dict[str, Any] | None:
        """An article's stored fields by its whole id (searchd cannot match id prefixes)."""
        sql = (f"SELECT stored FROM {rtindex.DISTRIBUTED_INDEX} "
               f"WHERE doc_id = {quote(nfc(doc_id))} LIMIT 1")
        page = self._run(sql)
        return rows.article(page.rows[0]["stored"]) if page.rows else None

    def documents(self) -> int:
        """How many articles the cluster holds (every shard's)."""
        return self._run(f"SELECT id FROM {rtindex.DISTRIBUTED_INDEX} LIMIT 1").total

    def stats(self) -> IndexStats:
        """What the cluster holds: its articles, and the shards' size on disk."""
        return {
            "index": self.url,
            "documents": self.documents(),
            "size_bytes": self._size_bytes(),
            "last_indexed": None,
            "roots": [],
            "schema_version": SCHEMA_VERSION,
            "fields": sorted([*rtindex.FIELDS, *(name for name, _ in rtindex.ATTRIBUTES)]),
        }

    def _size_bytes(self) -> int:
        """Disk bytes of one live replica of each shard (mirrors hold the same)."""
        total = 0
        for shard in self.topology.shards:
            for node in shard.replicas:
                size = _shard_bytes(node, shard.number)
                if size is not None:
                    total += size
                    break
        return total

    # ------------------------------------------------------------------ vocabulary

    def complete(self, prefix: str, limit: int) -> list[Completion]:
        raise Unavailable("autocomplete is not available on the cluster engine")

    def did_you_mean(self, text: str) -> spelling.Suggestion | None:
        """No suggestion: the cluster engine keeps no vocabulary to suggest from."""
        return None

    def readings(self, text: str) -> list[Reading]:
        """No readings: the cluster engine keeps no vocabulary to read accents from."""
        return []

    def marking(self, text: str) -> Marking:
        """What a result page marks for *text* (as :meth:`search` marks it)."""
        words, _ = split_filters(text, Filters())
        if not words.strip():
            return Marking(set(), set())
        return _marking(sphinxql.compile_query(words, self.readings(words)), words)


def _relaxations(plain: Sequence[str]) -> list[tuple[str, int]]:
    """The quorums to try when all words find nothing, as the local relaxation."""
    steps = []
    if 3 <= len(plain) <= MAX_RELAX_WORDS:
        steps.append(("all_but_one", len(plain) - 1))
    if len(plain) >= 2:
        steps.append(("any_word", 1))
    return steps


def _reason(exc: pymysql.err.MySQLError) -> str:
    args = exc.args
    return str(args[1] if len(args) > 1 else exc).rstrip("\x00")


def _shard_bytes(node: Node, shard: int) -> int | None:
    """The disk bytes searchd reports for one shard replica, or ``None`` if down."""
    try:
        conn = connect(node)
    except ConnectionError:
        return None
    try:
        with conn.cursor() as cur:
            cur.execute(f"SHOW INDEX {rtindex.SHARD_INDEX.format(shard=shard)} STATUS")
            status = {str(k): v for k, v in cur.fetchall()}
        return int(status.get("disk_bytes", 0)) + int(status.get("ram_bytes", 0))
    except pymysql.err.MySQLError:
        return None
    finally:
        conn.close()


def _marking(compiled: sphinxql.Compiled | None, words: str) -> Marking:
    if compiled is None:
        return Marking(set(), set())
    as_typed = typed_reading(words)
    return Marking(compiled.exact, compiled.folded, tuple(compiled.phrases),
                   (as_typed,) if as_typed else ())


def _hit(row: dict[str, Any], stored: object, marking: Marking) -> Hit:
    """One hit of the page: its *stored* article, snippets and title marked."""
    article = rows.article(stored)
    title = str(article.get("title") or "")
    body = str(article.get("body") or "")
    return Hit(
        id=str(article.get("id") or row["doc_id"]), path=str(article.get("path") or ""),
        title=title, date=article.get("date"), author=article.get("author"),
        source=article.get("source"), score=float(row["score"] or 0),
        snippets=snippets(body, marking.exact, marking.folded, phrases=marking.phrases,
                          readings=marking.readings),
        title_marks=mark_all(title, marking.exact, marking.folded, phrases=marking.phrases,
                             readings=marking.readings),
        fields={**extra_fields(article), "summary": str(article.get("summary") or "")},
    )


def _facet_value(name: str, row: dict[str, Any]) -> str | None:
    """The value a facet group stands for, as the local facets name it (a place by
    the gazetteer name whose hash the group is)."""
    value = row["value"]
    if name == "year":
        return str(value) if 1000 <= int(value) <= 9999 else None
    if name == "place":
        return place_names().get(int(value))
    return str(value) if value else None


@lru_cache(maxsize=1)
def place_names() -> dict[int, str]:
    """The gazetteer's place names by the hash the rows store them as."""
    return {rows.place_hash(name): name for name in gazetteer().by_name}
