"""The service: what every front end asks of the library, checked and decided once.

The CLI (:mod:`search.cli`) and the HTTP server (:mod:`search.http`) are shells
around this module: they parse their inputs, call one function here and render
what it returns. Whatever must be the same for both lives here:

* the checks of every parameter against the limits (:mod:`search.limits`), each
  error a :class:`~search.errors.QueryError` naming the parameter at fault;
* which notices a result carries (a correction, a suggestion, a fallback, typo
  matches, a page past the last, no results), so no front end decides them;
* what ``vnsearch extract`` shows of one archive file.

The service talks to an :class:`~search.engine.Engine` (the local Whoosh index
today, a cluster later), never to Whoosh itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from search.archive import Failure, archive_root, read_file
from search.complete import MAX_LIMIT as COMPLETE_MAX
from search.complete import MAX_PREFIX, Completion
from search.documents import analyse, article_fields
from search.errors import QueryError
from search.filters import Filters
from search.highlight import Marking
from search.limits import MAX_DEPTH, MAX_LIMIT, MAX_PAGE, MAX_QUERY_CHARS, SORTS, Sort
from search.results import SearchResult
from search.store import IndexStats

if TYPE_CHECKING:
    from search.engine import Engine

NoticeKind = Literal["corrected", "suggestion", "fallback", "typos", "missing_one",
                     "past_last_page", "no_results", "partial"]


@dataclass(frozen=True, kw_only=True)
class Notice:
    """Something the user should be told about a result, decided once for every front end."""

    kind: NoticeKind
    #: corrected/suggestion: the suggested query (front ends link or bold it)
    query: str | None = None
    relaxed: str | None = None  # fallback: "all_but_one" or "any_word"
    #: typos: hits one typo away; missing_one: hits lacking a word; past_last_page: the last page
    count: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "query": self.query, "relaxed": self.relaxed,
                "count": self.count}


@dataclass(frozen=True, kw_only=True)
class SearchRequest:
    """One search as a front end asks for it (checked by :func:`check`).

    *q* may carry query syntax, ``place:`` and ``date:`` included; *filters* are
    the options beside it. *time_limit* (seconds) makes a long search answer
    with what it found so far (``partial``).
    """

    q: str = ""
    limit: int = 10
    page: int = 1
    sort: Sort = "relevance"
    filters: Filters = field(default_factory=Filters)
    facets: bool = False
    exact: bool = False  # no typo tolerance, no automatic correction
    time_limit: float | None = None


def check(request: SearchRequest) -> None:
    """Refuse a request outside the limits, naming the parameter at fault.

    The HTTP API also declares these ranges in its OpenAPI document and the CLI
    in its option ranges (both from :mod:`search.limits`), so most bad values
    stop there; this is the rule itself, for every caller.
    """
    if len(request.q.strip()) > MAX_QUERY_CHARS:
        raise QueryError(f"query too long ({len(request.q.strip())} characters; "
                         f"the limit is {MAX_QUERY_CHARS})", "q")
    if not 1 <= request.limit <= MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT} (got {request.limit})",
                         "limit")
    if not 1 <= request.page <= MAX_PAGE:
        raise QueryError(f"page must be between 1 and {MAX_PAGE} (got {request.page})", "page")
    if request.page * request.limit > MAX_DEPTH:
        raise QueryError(f"page too deep: page × limit may be at most {MAX_DEPTH:,} "
                         f"(got {request.page * request.limit:,})", "page")
    if request.sort not in SORTS:
        raise QueryError(f"--sort must be 'relevance' or 'date', not {request.sort!r}", "sort")


def deepest_page(limit: int) -> int:
    """The last page number a request with *limit* hits per page may ask for.

    For front ends that move an out-of-range page number into range rather than
    refuse it (the search page, where page numbers come from hand-edited links).
    """
    return max(1, min(MAX_PAGE, MAX_DEPTH // max(1, limit)))


def search(engine: Engine, request: SearchRequest) -> SearchResult:
    """Check *request*, run it on *engine*, and decide the result's notices."""
    check(request)
    result = engine.search(request)
    return replace(result, notices=notices(result))


def notices(result: SearchResult) -> tuple[Notice, ...]:
    """The notices of *result*, in the order front ends show them.

    A correction (the query found nothing; these hits are for the suggestion) or
    else a plain suggestion; a fallback (not every word matched); then no
    results at all or a page past the last; how many hits match only a word
    one typo away; and that the results are incomplete (``partial``).
    """
    found: list[Notice] = []
    if result.corrected:
        found.append(Notice(kind="corrected", query=result.suggestion))
    elif result.suggestion:
        found.append(Notice(kind="suggestion", query=result.suggestion))
    if result.fallback:
        found.append(Notice(kind="fallback", relaxed=result.relaxed))
    if not result.total:
        found.append(Notice(kind="no_results"))
    elif not result.hits:
        found.append(Notice(kind="past_last_page", count=result.pages))
    if result.typos:
        found.append(Notice(kind="typos", count=result.typos))
    if result.missing_one:
        found.append(Notice(kind="missing_one", count=result.missing_one))
    if result.partial:  # the time limit, or a cluster shard with no live replica
        found.append(Notice(kind="partial"))
    return tuple(found)


def get_article(engine: Engine, doc_id: str) -> dict[str, Any] | None:
    """One article's stored fields by id (or a unique id prefix), or ``None``.

    Front ends render it as text, or as JSON with :func:`search.results.article_json`.
    """
    return engine.article(doc_id)


def article_marking(engine: Engine, q: str) -> Marking | None:
    """The words of query *q* to mark on an article opened from its results, as the
    results marked them; ``None`` for no query, or one that cannot run (the article
    is then shown unmarked rather than refused)."""
    if not q.strip() or len(q) > MAX_QUERY_CHARS:
        return None
    try:
        return engine.marking(q)
    except QueryError:
        return None


def suggest(engine: Engine, prefix: str, limit: int = 10) -> list[Completion]:
    """Autocomplete for *prefix*: places, people and titles, accents optional."""
    if len(prefix) > MAX_PREFIX:
        raise QueryError(f"prefix too long ({len(prefix)} characters; "
                         f"the limit is {MAX_PREFIX})", "q")
    if not 1 <= limit <= COMPLETE_MAX:
        raise QueryError(f"limit must be between 1 and {COMPLETE_MAX} (got {limit})", "limit")
    return engine.complete(prefix, limit)


def health(engine: Engine) -> dict[str, Any]:
    """Liveness: the index answers, and how many articles it holds (cheap)."""
    return {"status": "ok", "documents": engine.documents()}


def stats(engine: Engine) -> IndexStats:
    """What the index holds: articles, size on disk, last run, archives, fields."""
    return engine.stats()


@dataclass(frozen=True, kw_only=True)
class Extracted:
    """What the extractor finds in one archive file: its first articles' fields
    (JSON-ready, ``id`` first) and the records it could not read."""

    articles: list[dict[str, Any]]
    failures: list[str]


def extract_file(path: Path, limit: int = 3) -> Extracted:
    """The metadata the extractor finds in the file at *path*, nothing indexed.

    For checking a new archive before indexing it: the first *limit* articles
    (a JSON file holds many), with every field the index would get, and the
    records that failed, read exactly as ``vnsearch index`` reads them.
    """
    if not path.is_file():
        raise QueryError(f"no such file: {path}", "file")
    shown: list[dict[str, Any]] = []
    failures: list[str] = []
    for item in read_file(path, archive_root(path)):
        if isinstance(item, Failure):
            failures.append(str(item))
            continue
        shown.append({"id": item.id, **article_fields(analyse(item))})
        if len(shown) == limit:
            break
    return Extracted(articles=shown, failures=failures)
