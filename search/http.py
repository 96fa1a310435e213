"""``vnsearch serve``: a JSON API and a small search page over the same library.

Like the CLI, this is a shell over the service (:mod:`search.service`): each endpoint
parses its parameters, calls one service function on a :class:`~search.engine.LocalEngine`
and renders the result (the page words the notices the service decided). Errors are
JSON naming the parameter at fault (:attr:`QueryError.param`), never a traceback.

Searchers come from :class:`search.generations.Searchers`, which notices when
``vnsearch index`` has committed again (or swapped in a rebuild) and opens the new
index for the next request, while requests already running finish on the searcher
they started with.

The page is server-rendered HTML from templates (:mod:`search.pages`): the routes
``/`` and ``/a/{id}`` only gather what the library found and hand it over; every
piece of article text is escaped there, so an article containing ``<script>`` shows
it as text. Its CSS and scripts, and the Swagger UI of ``/docs``, are files shipped
with the package and sent
from a fixed table; every answer carries a strict Content-Security-Policy and no CORS
header (see :mod:`search.http_assets`). The OpenAPI document declares each answer's
shape (:mod:`search.http_models`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from search import __version__, pages, service, store
from search.complete import MAX_LIMIT as COMPLETE_MAX
from search.complete import MAX_PREFIX
from search.engine import Engine, build_engine
from search.errors import QueryError
from search.filters import Filters
from search.generations import POOL_SIZE, Busy, Searchers
from search.http_assets import STATIC_MAX_AGE, SecurityHeaders, asset, docs_page
from search.http_models import (
    ArticleAnswer,
    HealthAnswer,
    SearchAnswer,
    StatsAnswer,
    SuggestAnswer,
    answers,
)
from search.limits import MAX_LIMIT, MAX_PAGE, MAX_QUERY_CHARS, QUERY_TIME_LIMIT, SORTS
from search.pages import PageQuery
from search.results import article_json
from search.service import SearchRequest

log = logging.getLogger("vnsearch.http")

#: Seconds a client told "busy" should wait before trying again (Retry-After).
RETRY_AFTER = 2


def error(status: int, param: str | None, message: str) -> JSONResponse:
    """The one shape of every error answer."""
    return JSONResponse(status_code=status, content={"error": {"param": param, "message": message}})


def create_app(index_dir: Path, searchers: int = POOL_SIZE,
               engine_url: str | None = None) -> FastAPI:
    """The ASGI application serving the index at *index_dir* with *searchers* at once,
    or the cluster at *engine_url* (:mod:`search.engine_url`)."""
    pool = None if engine_url else Searchers(index_dir, searchers)
    engine = build_engine(index_dir, engine_url, pool)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if pool is not None:
            pool.close()

    app = FastAPI(
        title="vnsearch",
        version=__version__,
        description="Search an archive of Vietnamese news articles, with or without accents.",
        lifespan=lifespan,
        docs_url=None,  # served below from files shipped with the package, not a CDN
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.searchers = pool
    app.add_middleware(SecurityHeaders)
    _add_error_handlers(app)
    _add_static_routes(app)

    @app.get("/health", summary="Liveness and index availability",
             responses=answers(HealthAnswer))
    def health() -> JSONResponse:
        return JSONResponse(service.health(engine))

    @app.get("/stats", summary="What the index holds", responses=answers(StatsAnswer))
    def stats() -> JSONResponse:
        return JSONResponse(service.stats(engine))

    @app.get("/search", summary="Ranked hits with highlighted snippets",
             responses=answers(SearchAnswer, 400, 422))
    def search_api(
        q: Annotated[
            str, Query(max_length=MAX_QUERY_CHARS, description="Query; accents optional")
        ] = "",
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
        page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
        sort: Annotated[str, Query(pattern=f"^({'|'.join(SORTS)})$")] = "relevance",
        place: str | None = None,
        since: str | None = None,
        until: str | None = None,
        author: str | None = None,
        source: str | None = None,
        facets: bool = False,
        exact: Annotated[bool, Query(
            description="No typo tolerance, no articles lacking a word, no correction")] = False,
    ) -> JSONResponse:
        filters = Filters(place=place, since=since, until=until, author=author, source=source)
        request = SearchRequest(q=q, limit=limit, page=page, sort=sort,  # type: ignore[arg-type]
                                filters=filters, facets=facets, exact=exact,
                                time_limit=QUERY_TIME_LIMIT)
        return JSONResponse(service.search(engine, request).as_dict())

    @app.get("/suggest", summary="Autocomplete: places, people and titles for a prefix",
             responses=answers(SuggestAnswer, 422))
    def suggest_api(
        q: Annotated[str, Query(max_length=MAX_PREFIX, description="What the user has typed")],
        limit: Annotated[int, Query(ge=1, le=COMPLETE_MAX)] = 10,
    ) -> JSONResponse:
        found = service.suggest(engine, q, limit)
        return JSONResponse({"prefix": q, "suggestions": [c.as_dict() for c in found]})

    @app.get("/articles/{doc_id:path}", summary="One article with every extracted field",
             responses=answers(ArticleAnswer, 404, 422))
    def article_api(doc_id: str) -> JSONResponse:
        article = service.get_article(engine, doc_id)
        if article is None:
            return error(404, "id", f"no article with id {doc_id!r}")
        return JSONResponse(article_json(article))

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page(
        q: str = "",
        page: int = 1,
        place: str | None = None,
        year: str | None = None,
        since: str | None = None,
        until: str | None = None,
        sort: str = "relevance",
    ) -> HTMLResponse:
        asked = PageQuery(q=q, page=page, place=place or None, year=year or None,
                          since=since or None, until=until or None, sort=sort)
        return HTMLResponse(_search_page(engine, asked))

    @app.get("/a/{doc_id:path}", response_class=HTMLResponse, include_in_schema=False)
    def article_page(
        doc_id: str, q: Annotated[str, Query(max_length=MAX_QUERY_CHARS)] = ""
    ) -> HTMLResponse:
        """The article; with ``q`` (the result links carry it), its words marked."""
        article = service.get_article(engine, doc_id)
        if article is None:
            return HTMLResponse(pages.not_found_page(), 404)
        marking = service.article_marking(engine, q)
        return HTMLResponse(pages.article_page(article_json(article), query=q, marking=marking))

    return app


def _add_static_routes(app: FastAPI) -> None:
    """``/docs`` and ``/static/{name}``: fixed files only (see :mod:`search.http_assets`)."""

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(docs_page())

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        found = asset(name)
        if found is None:
            return error(404, "name", f"no static file {name!r}")
        content, media_type = found
        return Response(content, media_type=media_type,
                        headers={"Cache-Control": f"max-age={STATIC_MAX_AGE}"})

    @app.get("/complete.js", include_in_schema=False)
    def complete_js() -> Response:
        """Where pages rendered before /static/ existed still look for it."""
        return static("complete.js")


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(QueryError)
    def query_error(request: Request, exc: QueryError) -> JSONResponse:
        return error(400, exc.param, str(exc))

    @app.exception_handler(RequestValidationError)
    def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(part) for part in first.get("loc", ()) if part not in ("query", "path")]
        return error(422, ".".join(loc) or None, first.get("msg", "invalid request"))

    @app.exception_handler(HTTPException)
    def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        """Unknown paths (404) and methods (405) answer in the same shape as the rest."""
        answer = error(exc.status_code, None, str(exc.detail))
        answer.headers.update(exc.headers or {})  # e.g. Allow on a 405
        return answer

    @app.exception_handler(store.IndexError_)
    def no_index(request: Request, exc: store.IndexError_) -> JSONResponse:
        return error(503, None, str(exc))

    @app.exception_handler(ConnectionError)
    def no_cluster(request: Request, exc: ConnectionError) -> JSONResponse:
        return error(503, None, str(exc))

    @app.exception_handler(Busy)
    def busy(request: Request, exc: Busy) -> JSONResponse:
        answer = error(503, None, str(exc))
        answer.headers["Retry-After"] = str(RETRY_AFTER)
        return answer

    @app.exception_handler(Exception)
    def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return error(500, None, "internal error; the server log has the details")


# --------------------------------------------------------------------------- page

def _search_page(engine: Engine, asked: PageQuery) -> str:
    """The search page for *asked*: the form alone, or the form and what it found."""
    if asked.empty:
        return pages.search_page(asked)
    request = SearchRequest(
        q=asked.q, limit=pages.PAGE_SIZE,
        page=max(1, min(asked.page, service.deepest_page(pages.PAGE_SIZE))),
        sort=asked.sort, filters=asked.filters(), facets=True,  # type: ignore[arg-type]
        time_limit=QUERY_TIME_LIMIT,
    )
    try:
        result = service.search(engine, request)
    except QueryError as exc:
        return pages.search_page(asked, error=str(exc))
    return pages.search_page(asked, result)


# --------------------------------------------------------------------------- serve


def serve(host: str, port: int, index_dir: Path, searchers: int = POOL_SIZE,
          engine_url: str | None = None) -> None:
    """Run the server until interrupted (what ``vnsearch serve`` calls)."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    started = time.strftime("%H:%M:%S")
    log.info("vnsearch %s serving %s on http://%s:%d/ (started %s)", __version__,
             engine_url or index_dir, host, port, started)
    uvicorn.run(create_app(index_dir, searchers, engine_url), host=host, port=port,
                log_level="info")
