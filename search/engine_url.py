"""Which engine a front end talks to: the local index, or a cluster named by a URL.

Every command that reads or writes an index (``vnsearch index/search/show/stats/
suggest/serve``) takes ``--index DIR`` and ``--engine URL`` (env
:data:`ENGINE_ENV`); this is the one place that turns them into an
:class:`~search.engine.Engine`, so the CLI and the HTTP server cannot disagree on
what an engine URL means. Without a URL the engine is the local Whoosh index in
*DIR*; with ``sphinx://HOST:PORT`` it is the cluster whose coordinator answers
SphinxQL there (:mod:`search.sphinx.engine`, loaded only then: its client library
is an optional extra).
"""

from __future__ import annotations

from pathlib import Path

from search.engine import Engine, LocalEngine, SearcherSource

#: The environment variable naming the engine URL when ``--engine`` is not given.
ENGINE_ENV = "VNSEARCH_ENGINE"


def build_engine(index_dir: Path, url: str | None = None,
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


def open_engine(index_dir: Path, url: str | None = None) -> Engine:
    """Like :func:`build_engine`, opened now so that errors show now: the local
    index's (:class:`search.store.IndexError_`) or an unreachable cluster's
    (:class:`ConnectionError`)."""
    if not url:
        return LocalEngine.open(index_dir)
    engine = build_engine(index_dir, url)
    engine.documents()
    return engine
