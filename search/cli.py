"""The ``vnsearch`` command line: a shell over the service (:mod:`search.service`).

Each command parses its options, calls one service function on the local engine
(``vnsearch index``: the engine's ``index_batch``) and renders the result, wording
the notices the service decided: rich text on a terminal (colour only when stdout
is a TTY), or one JSON object with ``--json``. Errors are one line on stderr (under
``--json``, one ``{"error": {"message", "param"}}`` object on stdout), with exit
code 2 for bad input (query, options) and 1 for everything else (no index, failed
files).
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import Annotated, NoReturn, Protocol, runtime_checkable

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from search import __version__, service, store
from search.complete import MAX_LIMIT as COMPLETE_MAX
from search.engine import ENGINE_ENV, Engine, build_engine, open_engine
from search.errors import QueryError
from search.filters import Filters
from search.highlight import Snippet
from search.indexer import IndexSummary, InterruptedAfterCommit
from search.indexer import Progress as OnProgress
from search.limits import MAX_LIMIT
from search.lock import IndexBusy
from search.results import SearchResult, article_json
from search.service import Notice, SearchRequest
from search.sphinx.commands import cluster_app

app = typer.Typer(
    name="vnsearch",
    help=(
        "Search an archive of Vietnamese news articles, with or without accents.\n\n"
        "Build an index once with 'vnsearch index corpus/', then search it:\n\n"
        "    vnsearch search \"quan uy ba dinh\"\n\n"
        "The index lives in ./index unless --index DIR or VNSEARCH_INDEX says otherwise."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
app.add_typer(cluster_app)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

IndexDir = Annotated[
    Path,
    typer.Option(
        "--index",
        envvar="VNSEARCH_INDEX",
        help="Index directory (env: VNSEARCH_INDEX).",
        show_default=True,
    ),
]
EngineUrl = Annotated[
    str | None,
    typer.Option(
        "--engine",
        envvar=ENGINE_ENV,
        help=f"A cluster to use instead of the index: sphinx://HOST:PORT (env: {ENGINE_ENV}).",
        show_default=False,
    ),
]
#: Whether the running command was asked for JSON: then errors are JSON too.
_json_output: ContextVar[bool] = ContextVar("json_output", default=False)


def _json_mode(value: bool) -> bool:
    _json_output.set(bool(value))
    return value


JsonFlag = Annotated[
    bool,
    typer.Option(
        "--json", callback=_json_mode, is_eager=True,
        help='Print one JSON object (for scripts); errors too: {"error": {"message", "param"}}.',
    ),
]
MARK_STYLE = "bold black on yellow"


def fail(message: str, code: int = 1, param: str | None = None) -> NoReturn:
    """Report an error and exit with *code* (2: bad input, 1: anything else).

    One line on stderr; under ``--json``, one object on stdout instead, the same
    shape as the HTTP API's errors, so a script reads every answer as JSON.
    """
    if _json_output.get():
        emit_json({"error": {"message": message, "param": param}})
    else:
        err.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code)


def emit_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default) + "\n")


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | tuple):
        return list(value)
    return str(value)


def opened(index_dir: Path, engine_url: str | None = None) -> Engine:
    """The engine on the index at *index_dir* (or the cluster at *engine_url*), or a
    clear error when there is none."""
    try:
        return open_engine(index_dir, engine_url)
    except (store.IndexError_, ConnectionError) as exc:
        fail(str(exc))
    except ValueError as exc:  # a malformed engine URL
        fail(str(exc), 2, "engine")


def _version(value: bool) -> None:
    if value:
        out.print(f"vnsearch {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Search an archive of Vietnamese news articles, with or without accents."""
    _json_output.set(False)  # until the command's own --json says otherwise


# --------------------------------------------------------------------------- index


@app.command("index")
def index_cmd(  # noqa: PLR0913, PLR0917 - typer: each command-line option is a parameter
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Archive directories or files (.txt, .json, .jsonl, .jsonl.gz). "
            "Default: the archives indexed before, else ./corpus.",
            show_default=False,
        ),
    ] = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Start from an empty index (swapped in when done).")
    ] = False,
    index_dir: IndexDir = store.DEFAULT_INDEX,
    engine_url: EngineUrl = None,
    as_json: JsonFlag = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only failures.")] = False,
    procs: Annotated[
        int | None,
        typer.Option("--procs", min=1, max=8,
                     help="Writer processes (default: 2 for inputs over 4 MB, else 1)."),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Print each stage on stderr (for logs).")
    ] = False,
) -> None:
    """Index an archive; only new, changed and deleted files are processed.

    Files that cannot be read (binary, wrong encoding, empty, broken JSON) are
    listed with the reason and skipped; the rest is indexed. Exit code 1 when any
    file failed. A run either commits or leaves the index as it was: Ctrl-C
    (exit code 130), a full disk or a crash never leave half an index. One run
    at a time per index: a second one stops at once.

    Examples:

        vnsearch index corpus/

        vnsearch index --rebuild ~/archives/2023 ~/archives/2024

        vnsearch index articles.jsonl --index /tmp/idx
    """
    summary: IndexSummary | None = None
    try:
        targets = paths or _default_targets(index_dir, engine_url)
        for p in targets:
            if not p.exists():
                fail(f"no such file or directory: {p}", 2)
        engine = _indexing_engine(index_dir, engine_url)
        with _progress(enabled=not (as_json or quiet), verbose=verbose) as report:
            summary = engine.index_batch(
                targets, rebuild=rebuild, progress=report, procs=procs, notice=_notice)
        if as_json:
            emit_json({**summary.as_dict(), "index": engine_url or str(index_dir)})
        else:
            _print_summary(summary, engine_url or index_dir, quiet)
    except (IndexBusy, store.IndexError_, ConnectionError) as exc:
        fail(str(exc))
    except KeyboardInterrupt as exc:  # Ctrl-C (130), or SIGTERM (143)
        # During the commit (let finish), or once the run had committed and let go
        # (the report was being printed).
        done = exc.summary if isinstance(exc, InterruptedAfterCommit) else summary
        if done is not None:
            _print_summary(done, index_dir, quiet=True)
            fail("interrupted after the commit: the index holds this run's changes", 130)
        fail("interrupted; the index is as it was before this run",
             128 + getattr(exc, "signum", signal.SIGINT))
    if summary.failed:
        raise typer.Exit(1)


def _notice(message: str) -> None:
    """A one-line note on stderr that is not an error (a stale lock cleared)."""
    err.print(f"[bold yellow]note:[/] {escape(message)}")


def _indexing_engine(index_dir: Path, engine_url: str | None) -> Engine:
    """The engine an indexing run writes to (a local index is created if need be)."""
    try:
        return build_engine(index_dir, engine_url)
    except ValueError as exc:  # a malformed engine URL
        fail(str(exc), 2, "engine")


def _default_targets(index_dir: Path, engine_url: str | None = None) -> list[Path]:
    if engine_url:
        fail("give the archives to index into the cluster (for example: "
             "vnsearch index corpus/ --engine URL)", 2)
    roots = store.read_manifest(index_dir).get("roots") or []
    if roots:
        return [Path(r) for r in roots]
    if Path("corpus").is_dir():
        return [Path("corpus")]
    fail("nothing to index: give a PATH (for example: vnsearch index corpus/)", 2)


@contextmanager
def _progress(enabled: bool, verbose: bool = False) -> Iterator[OnProgress | None]:
    """A progress bar on an interactive terminal; with *verbose*, one line on stderr
    per stage instead (for logs); nothing otherwise."""
    if verbose:
        yield _stage_lines()
        return
    if not (enabled and err.is_terminal):
        yield None
        return
    bar = Progress(
        TextColumn("{task.fields[stage]:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files · {task.fields[articles]} articles"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    with bar:
        task = bar.add_task("index", total=None, articles=0, stage="indexing")

        def report(  # noqa: PLR0917 - indexer's Progress callback shape
                files_done: int, files_total: int, articles: int, stage: str) -> None:
            bar.update(task, completed=files_done, total=files_total, articles=articles,
                       stage=stage)

        yield report


def _stage_lines() -> OnProgress:
    """A progress callback that prints a timestamped line whenever the stage changes."""
    last = {"stage": ""}

    def report(  # noqa: PLR0917 - indexer's Progress callback shape
            files_done: int, files_total: int, articles: int, stage: str) -> None:
        if stage == last["stage"]:
            return
        last["stage"] = stage
        now = datetime.now().strftime("%H:%M:%S.%f")[:-3]
        sys.stderr.write(f"{now} {stage}: {files_done}/{files_total} files, "
                         f"{articles} articles\n")
        sys.stderr.flush()

    return report


def _print_summary(summary: IndexSummary, index_dir: Path | str, quiet: bool) -> None:
    if not quiet:
        rate = (summary.added + summary.updated) / summary.seconds if summary.seconds else 0.0
        out.print(
            f"{summary.added} added, {summary.updated} updated, {summary.removed} removed, "
            f"{summary.skipped} unchanged, {len(summary.failed)} failed "
            f"in {summary.seconds:.1f} s ({rate:.0f} articles/s)"
        )
        out.print(f"index: {escape(str(index_dir))} ({summary.documents} articles)")
    if summary.failed:
        err.print(f"[bold red]{len(summary.failed)} file(s) or record(s) could not be indexed:[/]")
        for failure in summary.failed:
            err.print(f"  {escape(str(failure))}")


# --------------------------------------------------------------------------- search


@app.command("search")
def search_cmd(  # noqa: PLR0913, PLR0917 - typer: each command-line option is a parameter
    query: Annotated[
        str,
        typer.Argument(help="Words to find; accents optional. May be empty with filters."),
    ] = "",
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=MAX_LIMIT, help="Hits per page.")
    ] = 10,
    page: Annotated[int, typer.Option("--page", "-p", min=1, help="Page number.")] = 1,
    sort: Annotated[
        str, typer.Option("--sort", help="Order: 'relevance' or 'date' (newest first).")
    ] = "relevance",
    place: Annotated[
        str | None,
        typer.Option(help="Only articles about this place (district, city or province)."),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only articles dated on/after: 2023, 2023-06, 2023-06-15.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Only articles dated on/before (same forms as --since).")
    ] = None,
    author: Annotated[str | None, typer.Option(help="Only articles by this author.")] = None,
    source: Annotated[str | None, typer.Option(help="Only articles from this source.")] = None,
    facets: Annotated[
        bool, typer.Option("--facets", help="Also count matches per place, year, source, author.")
    ] = False,
    exact: Annotated[
        bool,
        typer.Option("--exact", help="No typo tolerance, no articles lacking a word, "
                                     "no automatic correction."),
    ] = False,
    index_dir: IndexDir = store.DEFAULT_INDEX,
    engine_url: EngineUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Search the index and show ranked hits with highlighted snippets.

    Accents are optional: 'quan uy ba dinh' finds "Quận ủy Ba Đình"; words typed
    with accents rank exact matches first. Abbreviations find their full forms and
    back (UBND = "Ủy ban nhân dân"). All words are required; when fewer than 50
    articles have them all, words of 5+ letters (4+ if no article has them) also
    match one typo away, then the articles holding all the words but one follow
    (each ranked after the matches before it; --exact turns both off).

    "Có phải bạn muốn tìm" suggests the accented or corrected query (Telex/VNI typed
    with the keyboard tool off included: 'quaanj uyr'). If nothing matches, the
    suggestion's results are shown; failing that, articles with all but one of the
    words, else with any of them, with a notice.

    Query syntax: "exact phrase", -excluded, a OR b, title:word, author:"trần hòa",
    place:"Ba Đình", date:2023, date:[2022-06 TO 2023-06].

    Examples:

        vnsearch search "dang vien"

        vnsearch search '"thi đua" -covid' --sort date --limit 5

        vnsearch search "thi dua" --place "ba dinh" --since 2023 --facets

        vnsearch search 'place:"Gò Vấp" date:2023' --json
    """
    filters = Filters(place=place, since=since, until=until, author=author, source=source)
    request = SearchRequest(q=query, limit=limit, page=page, sort=sort,  # type: ignore[arg-type]
                            filters=filters, facets=facets, exact=exact)
    engine = opened(index_dir, engine_url)
    try:
        result = service.search(engine, request)
    except QueryError as exc:
        fail(str(exc), 2, exc.param)
    if as_json:
        emit_json(result.as_dict())
    else:
        _print_result(result)


def _marked(snippet: Snippet, style: str = MARK_STYLE) -> Text:
    text = Text(snippet.text)
    for start, end in snippet.matches:
        text.stylize(style, start, end)
    return text


def _print_result(result: SearchResult) -> None:
    """The result as text: the service's notices worded, then the hits."""
    kinds = {notice.kind: notice for notice in result.notices}
    for notice in result.notices:
        if notice.kind in ("corrected", "suggestion", "fallback", "partial"):
            out.print(_worded(notice, result))
    end = kinds.get("no_results") or kinds.get("past_last_page")
    if end is not None:
        out.print(_worded(end, result))
        if result.facets:
            _print_facets(result.facets)
        return
    _print_hits(result)
    for kind in ("typos", "missing_one"):
        if kind in kinds:
            out.print(Text(_worded(kinds[kind], result), style="dim"))
    if result.page < result.pages:
        out.print(Text(f"More: --page {result.page + 1}", style="dim"))
    if result.facets:
        _print_facets(result.facets)


def _worded(notice: Notice, result: SearchResult) -> str:
    """A notice as the CLI says it (rich markup; user text escaped)."""
    what = f" for {escape(repr(result.query))}" if result.query.strip() else ""
    if notice.kind == "corrected":
        return (f"No results for {escape(repr(result.query))}; "
                f"showing results for: [bold]{escape(notice.query or '')}[/bold]")
    if notice.kind == "suggestion":
        return f"Có phải bạn muốn tìm: [bold]{escape(notice.query or '')}[/bold]"
    if notice.kind == "fallback":
        which = "all but one of them" if notice.relaxed == "all_but_one" else "any of them"
        return f"No article contains all the words; showing articles with {which}."
    if notice.kind == "no_results":
        return f"No results{what}."
    if notice.kind == "partial":
        return ("These results are incomplete: part of the archive did not answer "
                "(a cluster shard is down, or the time limit was reached).")
    if notice.kind == "past_last_page":  # rather than print "page 9/2"
        return (f"{result.total} result(s){what}; page {result.page} is past the last "
                f"page ({notice.count}): try --page {notice.count}")
    if notice.kind == "missing_one":
        return f"The last {notice.count} of these lack one of the words."
    return f"{notice.count} of these match a word one typo away."


def _print_hits(result: SearchResult) -> None:
    what = f" for {escape(repr(result.query))}" if result.query.strip() else ""
    out.print(
        f"{result.total} result(s){what}, "
        f"page {result.page}/{result.pages} ({result.took_ms:.0f} ms)\n"
    )
    for n, hit in enumerate(result.hits, (result.page - 1) * result.limit + 1):
        title = _marked(hit.title_marks, "bold " + MARK_STYLE)
        title.stylize("bold")
        out.print(Text(f"{n:>2}. ").append(title))
        details = [
            hit.date.strftime("%Y-%m-%d") if hit.date else None,
            hit.author,
            hit.source,
            hit.id,
        ]
        out.print(Text("    " + " · ".join(d for d in details if d), style="dim"))
        for snippet in hit.snippets:
            out.print(Text("    ").append(_marked(snippet)))
        out.print()


def _print_facets(facets: dict[str, dict[str, int]]) -> None:
    """Facet counts as a compact block: one line per facet, most frequent first."""
    out.print()
    for name, counts in facets.items():
        values = " · ".join(f"{value} {count}" for value, count in list(counts.items())[:8])
        out.print(Text(f"{name:>7}: ", style="bold").append(values or "—"))


@app.command("suggest")
def suggest_cmd(  # noqa: PLR0917 - typer: each command-line option is a parameter
    prefix: Annotated[str, typer.Argument(help="The start of what you are typing.")],
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=COMPLETE_MAX, help="Most completions.")
    ] = 10,
    index_dir: IndexDir = store.DEFAULT_INDEX,
    engine_url: EngineUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Complete a search as you type: places, people and titles, accents optional.

    Every word but the last must be whole; the last may be unfinished.

    Examples:

        vnsearch suggest "ba d"

        vnsearch suggest "tran duc" --json
    """
    try:
        found = service.suggest(opened(index_dir, engine_url), prefix, limit)
    except QueryError as exc:
        fail(str(exc), 2, exc.param)
    if as_json:
        emit_json({"prefix": prefix, "suggestions": [c.as_dict() for c in found]})
        return
    if not found:
        out.print(f"No completions for {escape(repr(prefix))}.")
    for c in found:
        count = f" ({c.count} articles)" if c.kind != "title" else f" ({c.id})"
        out.print(Text(f"{c.kind:>6}  ", style="dim").append(c.text).append(count, style="dim"))


# --------------------------------------------------------------------------- show / stats


@app.command("show")
def show_cmd(  # noqa: PLR0917 - typer: each command-line option is a parameter
    doc_id: Annotated[str, typer.Argument(metavar="ID", help="Article id, as printed by search.")],
    index_dir: IndexDir = store.DEFAULT_INDEX,
    engine_url: EngineUrl = None,
    as_json: JsonFlag = False,
) -> None:
    """Print one article with its metadata.

    Example: vnsearch show 001_f4567b4d3bda134d.txt
    """
    article = service.get_article(opened(index_dir, engine_url), doc_id)
    if article is None:
        fail(f"no article with id {doc_id!r} (ids are printed by 'vnsearch search')", param="id")
    if as_json:
        emit_json(article_json(article))
        return
    out.print(Text(article.get("title", ""), style="bold"))
    for label, key in (("id", "id"), ("date", "date"), ("author", "author"), ("source", "source")):
        value = article.get(key)
        if value:
            out.print(Text(f"{label:>7}: {value}", style="dim"))
    if article.get("places"):
        out.print(Text(f" places: {', '.join(article['places'])}", style="dim"))
    if article.get("people"):
        out.print(Text(f" people: {article['people']}", style="dim"))
    out.print()
    out.print(Text(article.get("body", "")))


@app.command("stats")
def stats_cmd(index_dir: IndexDir = store.DEFAULT_INDEX, engine_url: EngineUrl = None,
              as_json: JsonFlag = False) -> None:
    """Show what the index holds: articles, size on disk, last run, fields."""
    data = service.stats(opened(index_dir, engine_url))
    if as_json:
        emit_json(data)
        return
    out.print(f"index:        {escape(data['index'])}")
    out.print(f"articles:     {data['documents']}")
    out.print(f"size on disk: {data['size_bytes'] / 1e6:.2f} MB")
    out.print(f"last indexed: {data['last_indexed'] or 'unknown'}")
    for root in data["roots"]:
        out.print(f"archive:      {escape(root)}")
    out.print(f"fields:       {', '.join(data['fields'])}")


@app.command("extract")
def extract_cmd(
    file: Annotated[Path, typer.Argument(help="An article file (.txt, .json, .jsonl).")],
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="Records to show from a JSON file.")
    ] = 3,
    as_json: JsonFlag = False,
) -> None:
    """Show the metadata the extractor finds in one file (to check a new archive).

    Nothing is indexed. Example: vnsearch extract corpus/001_f4567b4d3bda134d.txt
    """
    try:
        found = service.extract_file(file, limit)
    except QueryError as exc:
        fail(str(exc), 2, exc.param)
    shown, failures = found.articles, found.failures
    if failures and not shown:
        fail("; ".join(failures), 1, "file")
    if as_json:
        emit_json(shown if len(shown) != 1 else shown[0])
    else:
        for data in shown:
            for key, value in data.items():
                if key == "body":
                    continue
                if isinstance(value, list):
                    value = ", ".join(map(str, value))
                out.print(Text(f"{key:>15}: ", style="bold").append(str(value)))
            out.print()
    for failure in failures:  # some records of a JSON file, next to the ones shown
        err.print(f"[bold red]error:[/] {escape(failure)}")


# --------------------------------------------------------------------------- serve


@app.command("serve")
def serve_cmd(  # noqa: PLR0917 - typer: each command-line option is a parameter
    host: Annotated[
        str, typer.Option("--host", help="Address to bind. Anything but loopback is public.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    index_dir: IndexDir = store.DEFAULT_INDEX,
    engine_url: EngineUrl = None,
    searchers: Annotated[
        int,
        typer.Option("--searchers", min=1, max=16,
                     help="Searches run at once (each holds its own copy of the index "
                          "segments in memory; more rarely help on few cores)."),
    ] = 1,
) -> None:
    """Serve a search page and a JSON API over HTTP (loopback only by default).

    Open http://127.0.0.1:8000/ for the search page; the API is described at
    /docs (OpenAPI). The server picks up a re-built index without a restart.

    Example: vnsearch serve --port 8080
    """
    from search.http import serve  # imported here: the HTTP stack loads only when used
    from search.http_assets import is_loopback

    if not is_loopback(host):
        err.print(
            f"[bold yellow]warning:[/] binding to {escape(host)} exposes the archive to the "
            "network; vnsearch has no authentication."
        )
    if engine_url:
        opened(index_dir, engine_url)
    else:
        try:
            store.open_index(index_dir)
        except store.IndexError_ as exc:
            fail(str(exc))
    serve(host=host, port=port, index_dir=index_dir, searchers=searchers, engine_url=engine_url)


@runtime_checkable
class UsageProblem(Protocol):
    """What typer's usage errors (its click exceptions: an unknown option, ``--limit
    abc``) offer; its base ``TyperException`` declares none of it."""

    exit_code: int

    def show(self) -> None: ...

    def format_message(self) -> str: ...


def main_entry(args: list[str] | None = None) -> NoReturn:
    """The ``vnsearch`` program: the typer app, with usage errors (an unknown option,
    ``--limit abc``) as JSON too when the command line asks for ``--json``."""
    argv = sys.argv[1:] if args is None else args
    try:
        code = app(argv, prog_name="vnsearch", standalone_mode=False)
    except typer.TyperException as exc:  # click's usage errors
        if not isinstance(exc, UsageProblem):
            raise
        if "--json" not in argv:
            exc.show()
            sys.exit(exc.exit_code)
        param = getattr(getattr(exc, "param", None), "name", None)
        emit_json({"error": {"message": exc.format_message(), "param": param}})
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("interrupted")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
