"""Indexing rate and query latency on the bundled corpus and on baomoi-2017.

Indexes each archive from scratch into a temporary directory, then runs a fixed,
seeded set of queries (2–3 consecutive title words, half typed without accents)
through the same ``query.run`` the CLI uses, snippets included, on one open
searcher. Prints a Markdown table and writes ``bench/results/core.json``.

    .venv/bin/python bench/bench_core.py                 # corpus + baomoi
    .venv/bin/python bench/bench_core.py --no-baomoi     # bundled corpus only

baomoi-2017 is read from $VNSEARCH_SHARED/corpora/baomoi-2017.tar.gz and unpacked once
into a temporary directory (never into the repository).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script, or imported from bench/ as bench_core
    sys.path.insert(0, str(REPO))

from bench.corpora import BAOMOI  # noqa: E402
from search import store  # noqa: E402
from search.indexer import index_paths  # noqa: E402
from search.normalize import fold, terms  # noqa: E402
from search.query import run  # noqa: E402

RESULTS = REPO / "bench" / "results"


def unpack(archive: Path, into: Path | None = None) -> Path:
    """Unpack *archive* once (into *into*, else the temp directory) and return the
    folder; a marker file says the unpacking finished."""
    name = archive.name.split(".")[0]
    target = into / name if into else Path(tempfile.gettempdir()) / f"vnsearch-bench-{name}"
    marker = target / ".complete"
    if not marker.exists():
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")
        marker.touch()
    return target


def make_queries(titles: list[str], n: int, seed: int = 42) -> list[str]:
    """*n* queries of 2–3 consecutive title words; every other one folded."""
    rng = random.Random(seed)
    queries = []
    while len(queries) < n:
        words = terms(rng.choice(titles))
        if len(words) < 3:
            continue
        size = rng.choice((2, 3))
        start = rng.randrange(0, len(words) - size + 1)
        span = words[start : start + size]
        if len(queries) % 2:
            span = [fold(w) for w in span]
        queries.append(" ".join(span))
    return queries


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def bench_archive(name: str, path: Path, n_queries: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "ix"
        cpu0 = os.times()
        summary = index_paths(index_dir, [path])
        cpu1 = os.times()
        cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
        cpu += (cpu1.children_user - cpu0.children_user) + (
            cpu1.children_system - cpu0.children_system
        )
        size = store.index_size(index_dir)
        ix = store.open_index(index_dir)
        with ix.searcher() as searcher:
            titles = [f["title"] for f in searcher.all_stored_fields() if f.get("title")]
            queries = make_queries(titles, n_queries)
            run(searcher, queries[0])  # warm caches once
            latencies, hits = [], 0
            for q in queries:
                started = time.perf_counter()
                result = run(searcher, q, limit=10)
                latencies.append((time.perf_counter() - started) * 1000)
                hits += result.total > 0
    articles = summary.added
    return {
        "archive": name,
        "articles": articles,
        "failed": len(summary.failed),
        "index_seconds": round(summary.seconds, 2),
        "articles_per_s": round(articles / summary.seconds, 1),
        "cpu_seconds": round(cpu, 2),
        "index_mb": round(size / 1e6, 1),
        "queries": len(queries),
        "queries_with_hits": hits,
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "qps": round(1000 / statistics.mean(latencies), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-baomoi", action="store_true", help="bundled corpus only")
    parser.add_argument("--queries", type=int, default=300, help="queries per archive")
    args = parser.parse_args()

    rows = [bench_archive("bundled corpus (5)", REPO / "corpus", min(args.queries, 100))]
    if not args.no_baomoi:
        if BAOMOI.exists():
            rows.append(bench_archive("baomoi-2017 (raw .txt)", unpack(BAOMOI), args.queries))
        else:
            print(f"skipping baomoi: {BAOMOI} not found")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"machine: {os.cpu_count()} cores; peak RSS of this process {peak_mb:.0f} MB\n")
    cols = [
        "archive", "articles", "failed", "index_seconds", "articles_per_s", "cpu_seconds",
        "index_mb", "queries", "queries_with_hits", "p50_ms", "p95_ms", "p99_ms", "qps",
    ]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for row in rows:
        print("| " + " | ".join(str(row[c]) for c in cols) + " |")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"date": time.strftime("%Y-%m-%d %H:%M"), "cores": os.cpu_count(), "rows": rows}
    (RESULTS / "core.json").write_text(json.dumps(out, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
