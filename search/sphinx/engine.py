"""The cluster engine: :class:`search.engine.Engine` over a Sphinx/Manticore cluster.

:class:`SphinxEngine` answers the service (:mod:`search.service`) as the local
engine does, with the same :class:`~search.results.SearchResult` and article
shapes, so every front end (CLI, JSON, HTTP, the page) works unchanged on
``--engine sphinx://HOST:PORT``. vnsearch stays the analyser: the query is parsed
and written as SphinxQL by :mod:`search.sphinx.sphinxql`, the coordinator fans it
out to the shards, and the page's snippets are marked by vnsearch's own
highlighter (:mod:`search.highlight`) over the stored text each row carries.

The did-you-mean (:func:`search.spelling.suggest`), the probable accent readings
(:func:`search.readings.readings`) and typo tolerance
(:func:`search.relax.typo_alternatives`) are the local engine's own code, run over
the cluster's lexicon (:class:`search.sphinx.lexicon.ClusterLexicon`: the
vocabulary kept beside the cluster, and phrase queries to it), kept per engine
and reloaded after indexing or when the vocabulary's word total changes
(:meth:`SphinxEngine.lexicon`). A search then goes as :func:`search.query.run`
goes: when the words match fewer than :data:`~search.relax.TYPO_WHEN_FEWER`
articles, words one edit away join the MATCH and their articles follow the exact
ones (``typos``); the result carries the suggestion; a query whose words as typed
are in no article shows its correction's results first (``corrected``, unless
``exact``); then relaxation.

What the cluster does differently, said rather than faked:

* a shard with no live replica makes the answer ``partial`` (the coordinator's
  warnings say an agent failed), never silently incomplete;
* relaxation (``fallback``) uses searchd's quorum over the folded words;
* ranking: searchd's expression ranker (:data:`search.sphinx.sphinxql.RANKER`)
  chooses the best :data:`~search.sphinx.rescore.WINDOW` matches, which are then
  scored by the local BM25F with its boosts (:mod:`search.sphinx.rescore`, over
  their stored text and the archive's statistics counted by the cluster,
  :mod:`search.sphinx.statistics`) and shown in that order; matches past the
  window keep searchd's order and its weights as their ``score`` (another scale),
  in which only the likeliest accent reading ranks (its exact words as
  alternatives that add weight, whatever its probability).
  Typo matches and relaxed queries keep searchd's order (among typo matches a
  word one edit away weighs as much as the typed one; locally half), and equal
  scores (duplicate articles) keep searchd's order (by row id, a hash) where the
  local index puts the one indexed first;
* the lexicon reads how a span is spelled from up to
  :data:`~search.lexicons.SPAN_ARTICLES` articles holding it, the
  first by row id (a hash) rather than an even spread in index order, and counts
  word pairs exactly rather than from a sample: on the same articles a suggestion
  can differ on a borderline case (a capital read from a different sample);
* autocomplete is not available (it would need the title words and names kept
  beside the cluster too); it says so;
* patterns (``word*``), fuzzy terms, ranges and ``author:``-style query fields
  are refused with an error naming them; ``--author``/``--source`` compare the
  whole name as the article gives it, not words inside it; ``show`` takes whole ids only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pymysql

from search import plan, spelling
from search.boosts import accents_of, ranks_by_reading
from search.complete import Completion
from search.errors import QueryError
from search.filters import FACET_SIZE, Filters
from search.highlight import Marking, mark_all, snippets, typed_reading
from search.indexer import IndexSummary, Progress
from search.normalize import nfc
from search.places import gazetteer
from search.query import parse as local_query
from search.readings import Reading
from search.readings import readings as probable_readings
from search.relax import TYPO_WHEN_FEWER, may_leave_one_out, typo_alternatives
from search.results import Hit, SearchResult, extra_fields
from search.schema import SCHEMA_VERSION
from search.sphinx import failover, ingest, rescore, rows, rtindex, sphinxql, vocabulary
from search.sphinx.connection import quote
from search.sphinx.lexicon import ClusterLexicon
from search.sphinx.statistics import ClusterStatistics
from search.sphinx.topology import Node, Topology, connect, discover
from search.store import IndexStats
from search.syntax import split_filters

if TYPE_CHECKING:
    from search.service import SearchRequest

#: Seconds a loaded vocabulary is used before asking whether it changed (one read).
VOCABULARY_CHECK = 5.0


class Unavailable(QueryError):
    """Something the cluster engine cannot do (named in the message)."""


@dataclass(frozen=True)
class Page:
    """What searchd answered for one statement: rows, their total, whether complete."""

    rows: list[dict[str, Any]]
    total: int
    partial: bool


@dataclass(frozen=True)
class Found:
    """A page of matches: its rows, how many match in all, whether complete, the
    MATCH they answer (what facets count over), how many of them only typo
    alternatives find (the last ones, as locally), and the stored articles already
    read for them (by searchd id: those of the re-ranked window)."""

    rows: list[dict[str, Any]]
    total: int
    partial: bool
    match: str | None
    typos: int = 0
    missing_one: int = 0  # the very last: they lack one of the words
    stored: dict[int, object] = field(default_factory=dict)

    def then(self, rows: list[dict[str, Any]], more: Page, *, match: str | None) -> Found:
        """The page's *rows* once the matches *more* counts, typo matches, follow
        these (:meth:`search.searching.Found.then`); facets count over *match*."""
        return Found(rows, self.total + more.total, self.partial or more.partial, match,
                     typos=more.total, stored=self.stored)

    def then_missing_one(self, rows: list[dict[str, Any]], more: Page) -> Found:
        """The page's *rows* once the matches *more* counts, which lack one of the
        words, follow these (:meth:`search.searching.Found.then_missing_one`)."""
        return Found(rows, self.total + more.total, self.partial or more.partial, self.match,
                     typos=self.typos, missing_one=more.total, stored=self.stored)


@dataclass(frozen=True)
class Ranking:
    """What the local engine would rank a query's matches by: its words and the
    readings that rank them (:func:`search.query.parse`'s)."""

    words: str
    readings: Sequence[Reading] = ()


class SphinxEngine:
    """The cluster whose coordinator answers SphinxQL at engine URL *url*
    (``sphinx://HOST:PORT``); its topology is read from the coordinator on first use."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._topology: Topology | None = None
        self._lexicon: ClusterLexicon | None = None
        self._statistics: ClusterStatistics | None = None
        self._checked = 0.0

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
        self._lexicon = self._statistics = None  # its vocabulary is about to change
        return ingest.index_paths(self.topology, list(paths), rebuild=rebuild,
                                  progress=progress, procs=procs, notice=notice)

    def delete(self, ids: Iterable[str]) -> int:
        """Remove articles by id from every replica of their shards."""
        self._lexicon = self._statistics = None
        return ingest.delete(self.topology, list(ids))

    # ------------------------------------------------------------------ searching

    def search(self, request: SearchRequest) -> SearchResult:
        """One page of ranked, highlighted hits, found by the cluster, as
        :func:`search.query.run` finds them locally: typo matches after the exact
        ones when these are few, the did-you-mean (and its results when the query
        finds nothing), then relaxation."""
        started = time.perf_counter()
        words, filters = split_filters(request.q, request.filters)
        where = sphinxql.conditions(filters)
        likely = self._ranking_readings(words)
        compiled = self._compiled(words, filters, likely or ())
        found = self._found(request, compiled.match if compiled else None, where,
                            ranking=Ranking(words, likely or ()) if compiled else None)
        widened = None
        if compiled and not request.exact:
            found, widened = self._with_typo_matches(request, found, where=where, words=words,
                                                     likely=likely or (), exact=compiled)
            found = self._with_missing_one(request, found, where=where,
                                           held=widened or compiled, plain=compiled.plain)
        suggestion = self.did_you_mean(words) if words.strip() else None
        corrected, typed = False, words
        if (suggestion and suggestion.corrected and not request.exact
                and not found.partial and found.total == found.typos + found.missing_one):
            searched = spelling.searched_form(words, suggestion.text)
            fixed = self._corrected(request, searched, filters, where=where,
                                    typed=(compiled, widened), found=found)
            if fixed is not None:
                found, compiled, likely = fixed
                corrected, typed = True, searched
        relaxed = None
        if compiled and not found.total and not found.partial:
            found, relaxed = self._relaxed(request, found, plain=compiled.plain, where=where)
            widened = None
        facets = self._facets(found.match, where) if request.facets else None
        stored, complete = self._stored([int(row["id"]) for row in found.rows], found.stored)
        hits = self._hits(request, found, stored, exact=compiled, widened=widened,
                          typed=typed, likely=likely)
        return SearchResult(
            query=request.q, total=found.total, page=request.page, limit=request.limit,
            took_ms=(time.perf_counter() - started) * 1000, hits=hits,
            sort=request.sort, fallback=relaxed is not None, relaxed=relaxed, facets=facets,
            partial=found.partial or not complete,
            suggestion=suggestion.text if suggestion else None,
            corrected=corrected, typos=found.typos, missing_one=found.missing_one,
        )

    def _found(self, request: SearchRequest, match: str | None, where: sphinxql.Where, *,
               ranking: Ranking | None = None) -> Found:
        """A page of *match*'s matches; by relevance with a *ranking*, searchd's best
        :data:`~search.sphinx.rescore.WINDOW` in the local engine's order
        (:meth:`_reranked`), the rest in searchd's."""
        offset = (request.page - 1) * request.limit
        if ranking is None or request.sort != "relevance" or offset >= rescore.WINDOW:
            page = self._page(request, match, where, offset=offset, limit=request.limit)
            return Found(page.rows, page.total, page.partial, match)
        page = self._page(request, match, where, offset=0,
                          limit=max(rescore.WINDOW, offset + request.limit))
        window, stored = self._reranked(page.rows[: rescore.WINDOW], ranking,
                                        partial=page.partial)
        rows = (window + page.rows[rescore.WINDOW :])[offset : offset + request.limit]
        return Found(rows, page.total, page.partial, match, stored=stored)

    def _reranked(self, window: list[dict[str, Any]], ranking: Ranking, *,
                  partial: bool) -> tuple[list[dict[str, Any]], dict[int, object]]:
        """The *window* rows in the local engine's order, each scored as locally
        (:mod:`search.sphinx.rescore`), and their stored articles; in searchd's order
        when the query's shape cannot be scored so or an article did not come."""
        stored, complete = self._stored([int(row["id"]) for row in window])
        if not window:
            return window, stored
        try:
            the_plan = plan.plan(local_query(ranking.words, readings=ranking.readings,
                                             accents=accents_of(self.lexicon(),
                                                                ranking.readings)))
        except QueryError:
            return window, stored
        if the_plan is None or not rescore.scorable(the_plan) or not complete:
            return window, stored
        terms = rescore.plan_terms(the_plan)
        articles = [rows.article(stored[int(row["id"])]) for row in window]
        analysed = [rescore.analyse(str(a.get("title") or ""), str(a.get("body") or ""), terms)
                    for a in articles]
        stats = self.statistics().of(terms, remember=not partial)
        return [{**window[i], "score": score}
                for i, score in rescore.order(the_plan, analysed, stats)], stored

    def _corrected(  # noqa: PLR0913 - the request, and what it already found, keyword-only
        self, request: SearchRequest, text: str, filters: Filters, *, where: sphinxql.Where,
        typed: tuple[sphinxql.Compiled | None, sphinxql.Compiled | None], found: Found,
    ) -> tuple[Found, sphinxql.Compiled, list[Reading] | None] | None:
        """What the did-you-mean *text* finds, then what the *typed* query (as typed,
        and widened by typos) *found*, without it: its typo matches, then the articles
        lacking one of its words; the correction's compiled query and readings
        (``None`` when it finds nothing), as locally (:func:`search.query.run`)."""
        likely = self._ranking_readings(text)
        fixed = self._compiled(text, filters, likely or ())
        if fixed is None:
            return None
        first = self._found(request, fixed.match, where, ranking=Ranking(text, likely or ()))
        if not first.total and not first.partial:
            return None
        exact, widened = typed
        if widened is not None and found.typos:
            rows, more = self._following(request, first, sphinxql.typo_only(widened, fixed),
                                         where=where)
            first = first.then(rows, more, match=fixed.match)
        if found.missing_one and exact is not None:
            rows, more = self._following(
                request, first, sphinxql.missing_one(exact.plain, widened or exact, fixed),
                where=where)
            first = first.then_missing_one(rows, more)
        return first, fixed, likely

    def _relaxed(self, request: SearchRequest, found: Found, *, plain: list[str],
                 where: sphinxql.Where) -> tuple[Found, str | None]:
        """What the first relaxation that finds something finds, and its name (as
        locally: all words but one, then any word); *found* and ``None`` if none does."""
        for mode, keep in _relaxations(plain):
            more = self._found(request, sphinxql.relaxed_match(plain, keep), where)
            if more.total or more.partial:
                return more, mode
        return found, None

    def _with_typo_matches(  # noqa: PLR0913 - the query three ways, keyword-only
        self, request: SearchRequest, found: Found, *, where: sphinxql.Where, words: str,
        likely: Sequence[Reading], exact: sphinxql.Compiled,
    ) -> tuple[Found, sphinxql.Compiled | None]:
        """*found* followed by the articles only words one edit away match, when the
        exact words match fewer than :data:`~search.relax.TYPO_WHEN_FEWER` (as
        locally); and the widened query (``None`` when not widened)."""
        if found.total >= TYPO_WHEN_FEWER or found.partial:
            return found, None
        lexicon = self.lexicon()
        widened = sphinxql.compile_query(
            words, likely, near=lambda word: typo_alternatives(lexicon, word))
        if not widened.widened:
            return found, None
        rows, more = self._following(request, found, sphinxql.typo_only(widened, exact),
                                     where=where)
        return found.then(rows, more, match=widened.match), widened

    def _with_missing_one(self, request: SearchRequest, found: Found, *,
                          where: sphinxql.Where, held: sphinxql.Compiled,
                          plain: list[str]) -> Found:
        """*found* followed by the articles holding all the words but one, when the
        words (exact or one typo away, *held*) match fewer than
        :data:`~search.relax.TYPO_WHEN_FEWER` (as locally)."""
        if (not found.total or found.total >= TYPO_WHEN_FEWER or found.partial
                or not may_leave_one_out(len(plain))):
            return found
        rows, more = self._following(request, found, sphinxql.missing_one(plain, held),
                                     where=where)
        return found.then_missing_one(rows, more)

    def _following(self, request: SearchRequest, found: Found, match: str, *,
                   where: sphinxql.Where) -> tuple[list[dict[str, Any]], Page]:
        """The page's rows once the matches of *match*, which rank after all of
        *found*, follow them; and the page of those that was read (its total
        counts them all)."""
        skip = max(0, (request.page - 1) * request.limit - found.total)  # before this page
        more = self._page(request, match, where, offset=skip, limit=request.limit)
        return (found.rows + more.rows)[: request.limit], more

    def _stored(self, ids: list[int],
                known: dict[int, object] | None = None) -> tuple[dict[int, object], bool]:
        """The stored JSON of the rows *ids* (searchd ids), and whether all came;
        those *known* already are not read again."""
        found = {i: known[i] for i in ids if known and i in known}
        missing = [i for i in ids if i not in found]
        if not missing:
            return found, True
        page = self._run(sphinxql.stored_statement(missing))
        found.update({int(row["id"]): row["stored"] for row in page.rows})
        return found, len(found) == len(set(ids)) and not page.partial

    def _ranking_readings(self, words: str) -> list[Reading] | None:
        """The readings that rank *words* (``None`` for a query too long for them to
        rank, as locally: :func:`search.boosts.ranks_by_reading`)."""
        if not words.strip():
            return []
        return self.readings(words) if ranks_by_reading(words) else None

    def _compiled(self, words: str, filters: Filters,
                  readings: Sequence[Reading]) -> sphinxql.Compiled | None:
        """The query's MATCH (``None`` for a query of filters only)."""
        if words.strip():
            return sphinxql.compile_query(words, readings)
        if filters == Filters():
            raise QueryError("empty query: type some words to search for")
        return None

    def _page(self, request: SearchRequest, match: str | None, where: sphinxql.Where, *,
              offset: int, limit: int) -> Page:
        select = sphinxql.Select(match=match, where=where, sort=request.sort,
                                 offset=offset, limit=limit)
        return self._run(select.sql())

    def _hits(self, request: SearchRequest, found: Found,  # noqa: PLR0913 - keyword-only
              stored: dict[int, object], *, exact: sphinxql.Compiled | None,
              widened: sphinxql.Compiled | None, typed: str,
              likely: Sequence[Reading] | None) -> list[Hit]:
        """The page's hits, their *stored* articles marked: an exact match with the
        query's words, a typo match also with the words one edit away; both under
        the probable readings of the *typed* words (*likely*, else read here, only
        for a page with hits), as :func:`search.marking.page_hits` marks them."""
        if not found.rows:
            return []
        readings = list(likely) if likely is not None else self.readings(typed)
        marks = _marking(exact, typed, readings)
        typo_marks = _marking(widened, typed, readings) if widened is not None else marks
        first_missing = found.total - found.missing_one - (request.page - 1) * request.limit
        first_typo = first_missing - found.typos
        return [_hit(row, stored[int(row["id"])],
                     typo_marks if first_typo <= n < first_missing else marks)
                for n, row in enumerate(found.rows) if int(row["id"]) in stored]

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

    def lexicon(self) -> ClusterLexicon:
        """The cluster's lexicon: the vocabulary kept beside it, loaded on first use and
        again when it has changed (its word total, checked at most every
        :data:`VOCABULARY_CHECK` seconds) or this engine indexed; with the answers it
        remembers (pair counts, spellings read), which go with it."""
        now = time.monotonic()
        if self._lexicon is not None and now - self._checked < VOCABULARY_CHECK:
            return self._lexicon
        conn = connect(self.topology.coordinator)
        try:
            total = vocabulary.stored_total(conn)
        finally:
            conn.close()
        if self._lexicon is None or self._lexicon.vocabulary.total != total:
            self._lexicon = ClusterLexicon(vocabulary.load(self.topology), self._run)
            self._statistics = None
        self._checked = now
        return self._lexicon

    def statistics(self) -> ClusterStatistics:
        """The archive statistics the re-ranking reads, for the current vocabulary
        (:mod:`search.sphinx.statistics`: counted anew when it changes)."""
        lexicon = self.lexicon()
        if self._statistics is None:
            self._statistics = ClusterStatistics(self.topology.coordinator,
                                                 lexicon.vocabulary, self._run)
        return self._statistics

    def did_you_mean(self, text: str) -> spelling.Suggestion | None:
        """The query the user probably meant, from the cluster's lexicon
        (:func:`search.spelling.suggest`, as the local engine suggests it)."""
        return spelling.suggest(self.lexicon(), text)

    def readings(self, text: str) -> list[Reading]:
        """The probable accented readings of *text*, from the cluster's lexicon."""
        return probable_readings(self.lexicon(), text)

    def marking(self, text: str) -> Marking:
        """What a result page marks for *text* (as :meth:`search` marks it)."""
        words, _ = split_filters(text, Filters())
        if not words.strip():
            return Marking(set(), set())
        likely = self._ranking_readings(words)
        compiled = sphinxql.compile_query(words, likely or ())
        return _marking(compiled, words, likely if likely is not None else self.readings(words))


def _relaxations(plain: Sequence[str]) -> list[tuple[str, int]]:
    """The quorums to try when all words find nothing, as the local relaxation."""
    steps = []
    if may_leave_one_out(len(plain)):
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


def _marking(compiled: sphinxql.Compiled | None, words: str,
             readings: Sequence[Reading]) -> Marking:
    """What to mark for *compiled*, under the *readings* of the typed *words*, else
    the words typed with accents (as :func:`search.marking.marking_of`)."""
    if compiled is None:
        return Marking(set(), set())
    under = tuple(r.words for r in readings)
    as_typed = typed_reading(words)
    if not under and as_typed:
        under = (as_typed,)
    return Marking(compiled.exact, compiled.folded, tuple(compiled.phrases), under)


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
