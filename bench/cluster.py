"""vnsearch on a local Sphinx cluster beside the local index: indexing rate, latency, agreement.

    .venv/bin/pip install -e '.[cluster]'       # pymysql; searchd from Debian's sphinxsearch
    .venv/bin/python bench/cluster.py --size 10000
    .venv/bin/python bench/cluster.py --size 84132 --queries 500

For the first N VNTC records (bench/run.py's subsets, duplicates included), on this
one machine:

* indexing: the local index (``vnsearch index``'s library call) and a cluster of
  ``--shards`` × ``--replicas`` searchd daemons plus a coordinator started on
  loopback (``vnsearch cluster up``'s library call), fed by the cluster ingestion
  (every article written to every replica of its shard); articles/s and seconds;
* queries: bench/run.py's seeded query set (1–4 words, half unaccented, ~10% phrases,
  ~10% with a source filter), top-10 with snippets, through the service as a user's
  request goes (``exact``, as when this was first measured: no typo matches or
  corrections), after a warm-up of 50; p50/p95/p99 and queries/s; through the
  coordinator for the cluster (each new query also asks it for its word pairs: the
  did-you-mean and the accent readings);
* agreement: the share of those queries, and of bench/quality.py's known-item
  queries (four forms, ``exact``), whose top hit is the same on both engines; and
  of the known items typed with one typo, searched with typo tolerance and
  correction (not ``exact``), whose top hit, total, typo matches and suggestion are.

Every daemon runs on this machine, so the cluster's figures show its overheads
(SphinxQL round trips, fan-out to shards, two replicas written per article), not
what more machines would add. Writes bench/results/cluster-<N>.json and prints a
Markdown table; the daemons are stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.quality import build_items, query_forms  # noqa: E402
from bench.run import RESULTS, WORK, make_queries, percentile, vntc_subset  # noqa: E402
from search import service  # noqa: E402
from search.engine import Engine, LocalEngine  # noqa: E402
from search.filters import Filters  # noqa: E402
from search.generations import Searchers  # noqa: E402
from search.indexer import index_paths  # noqa: E402
from search.service import SearchRequest  # noqa: E402
from search.sphinx import daemons, ingest  # noqa: E402
from search.sphinx.engine import SphinxEngine  # noqa: E402

#: Queries run before timing starts (connections, caches, the OS page cache).
WARM_UP = 50
#: Known-item query forms compared (typos need the local typo tolerance).
AGREEMENT_FORMS = ("as_written", "unaccented", "tone_swapped", "shuffled")


def _request(q: str, source: str | None, *, exact: bool = True) -> SearchRequest:
    return SearchRequest(q=q, limit=10, exact=exact, filters=Filters(source=source))


def _top(engine: Engine, q: str, source: str | None = None) -> str | None:
    hits = service.search(engine, _request(q, source)).hits
    return hits[0].id if hits else None


def time_queries(engine: Engine, queries: list[tuple[str, str | None]]) -> dict[str, float]:
    """p50/p95/p99 (ms) and queries/s of *queries* on *engine*, the first
    :data:`WARM_UP` run untimed."""
    for q, source in queries[:WARM_UP]:
        service.search(engine, _request(q, source))
    latencies = []
    for q, source in queries[WARM_UP:]:
        started = time.perf_counter()
        service.search(engine, _request(q, source))
        latencies.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "qps": round(1000 * len(latencies) / sum(latencies), 1),
    }


def agreement(local: Engine, cluster: Engine, queries: list[tuple[str, str | None]]) -> float:
    """The share of *queries* whose top hit is the same article on both engines."""
    same = sum(_top(local, q, s) == _top(cluster, q, s) for q, s in queries)
    return round(same / max(1, len(queries)), 4)


def known_item_queries(records: list[dict[str, Any]], items: int,
                       forms: tuple[str, ...] = AGREEMENT_FORMS) -> list[tuple[str, str | None]]:
    """bench/quality.py's known-item queries, in *forms*."""
    rng = random.Random(11)
    out: list[tuple[str, str | None]] = []
    for item in build_items(records, items):
        typed = query_forms(item.words, rng)
        out += [(typed[f], None) for f in forms]
    return out


def typo_agreement(local: Engine, cluster: Engine, queries: list[tuple[str, str | None]]) -> float:
    """The share of *queries* (with a typo; typo tolerance and correction on) whose
    top hit, total, typo matches and suggestion are the same on both engines."""
    def story(engine: Engine, q: str) -> tuple[object, ...]:
        found = service.search(engine, _request(q, None, exact=False))
        return (found.hits[0].id if found.hits else None, found.total, found.typos,
                found.suggestion, found.corrected)
    same = sum(story(local, q) == story(cluster, q) for q, _ in queries)
    return round(same / max(1, len(queries)), 4)


def index_local(archive: Path, target: Path) -> dict[str, float]:
    shutil.rmtree(target, ignore_errors=True)
    started = time.perf_counter()
    summary = index_paths(target, [archive])
    seconds = time.perf_counter() - started
    return {"articles": summary.added, "seconds": round(seconds, 1),
            "articles_per_s": round(summary.added / seconds, 1)}


def index_cluster(archive: Path, directory: Path, *, shards: int,
                  replicas: int) -> tuple[str, dict[str, float]]:
    shutil.rmtree(directory, ignore_errors=True)
    topology = daemons.up(directory, shards=shards, replicas=replicas)
    started = time.perf_counter()
    summary = ingest.index_paths(topology, [archive])
    seconds = time.perf_counter() - started
    return topology.url, {"articles": summary.added, "seconds": round(seconds, 1),
                          "articles_per_s": round(summary.added / seconds, 1)}


def markdown(report: dict[str, Any]) -> str:
    rows = ["| engine | index s | articles/s | p50 ms | p95 ms | p99 ms | q/s |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for name in ("local", "cluster"):
        e = report[name]
        rows.append(f"| {name} | {e['seconds']} | {e['articles_per_s']} | {e['p50_ms']} | "
                    f"{e['p95_ms']} | {e['p99_ms']} | {e['qps']} |")
    shape = f"{report['shards']} shards x {report['replicas']} replicas + coordinator"
    return (f"VNTC, {report['size']:,} articles; cluster: {shape}, one machine\n\n"
            + "\n".join(rows)
            + f"\n\ntop-1 agreement: timed queries {report['agreement_queries']:.1%}, "
              f"known items {report['agreement_known_items']:.1%} "
              f"({report['known_item_queries']} queries); with one typo, top hit, "
              f"total, typos and suggestion {report['agreement_typo_items']:.1%} "
              f"({report['typo_item_queries']} queries)\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--items", type=int, default=100, help="known items (×4 forms)")
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--replicas", type=int, default=2)
    args = parser.parse_args()

    archive = vntc_subset(args.size)
    records = [json.loads(line) for line in archive.open(encoding="utf-8")]
    queries = make_queries(records, args.queries + WARM_UP)
    directory = WORK / f"cluster-{args.size}"
    report: dict[str, Any] = {"size": args.size, "shards": args.shards,
                              "replicas": args.replicas, "queries": args.queries}
    try:
        print("indexing the cluster …", file=sys.stderr, flush=True)
        url, report["cluster"] = index_cluster(archive, directory, shards=args.shards,
                                               replicas=args.replicas)
        print("indexing locally …", file=sys.stderr, flush=True)
        report["local"] = index_local(archive, WORK / f"local-{args.size}")
        # the local engine as `vnsearch serve` holds it: a searcher kept open across
        # queries (LocalEngine without one opens, and drops the caches of, one per call)
        searchers = Searchers(WORK / f"local-{args.size}", 1)
        local, cluster = LocalEngine(WORK / f"local-{args.size}", searchers), SphinxEngine(url)
        print("timing queries …", file=sys.stderr, flush=True)
        report["local"].update(time_queries(local, queries))
        report["cluster"].update(time_queries(cluster, queries))
        known = known_item_queries(records, args.items)
        report["agreement_queries"] = agreement(local, cluster, queries[WARM_UP:])
        report["agreement_known_items"] = agreement(local, cluster, known)
        report["known_item_queries"] = len(known)
        typos = known_item_queries(records, args.items, ("typo",))
        report["agreement_typo_items"] = typo_agreement(local, cluster, typos)
        report["typo_item_queries"] = len(typos)
    finally:
        if (directory / daemons.CLUSTER_FILE).exists():
            daemons.down(directory)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"cluster-{args.size}.json").write_text(json.dumps(report, indent=2) + "\n")
    print(markdown(report))


if __name__ == "__main__":
    main()
