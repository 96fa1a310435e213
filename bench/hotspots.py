"""Where vnsearch spends its time: cProfile of indexing and of queries with snippets.

    .venv/bin/python bench/hotspots.py                 # 2,000 VNTC articles, 300 queries
    .venv/bin/python bench/hotspots.py --articles 5000 --top 25
    .venv/bin/python bench/hotspots.py --articles 84132 --queries 500 --queries-only

Indexing runs in one process (``procs=1``) so the profile sees every call; queries are
the fixed mix of ``bench/run.py`` (1–4 words, half unaccented, phrases, filters), top 10
with snippets, on the index just built. For each phase it prints the share of time by
package (vnsearch's ``search``, ``whoosh``, the rest) and the functions with the most
time of their own — the figures the closing notes of the speed issues quote.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.engines import Vnsearch, records  # noqa: E402
from bench.run import VNTC, archive_for, make_queries, vntc_subset  # noqa: E402
from search.indexer import index_paths  # noqa: E402


def package(filename: str) -> str:
    """Which package a profiled function belongs to."""
    if "/whoosh/" in filename:
        return "whoosh"
    if f"{REPO}/search/" in filename:
        return "vnsearch (search/)"
    if filename.startswith("~") or "{built-in" in filename:
        return "builtins (C)"
    return "other Python"


def report(profile: cProfile.Profile, title: str, wall: float, top: int) -> None:
    stats = pstats.Stats(profile)
    own: Counter[str] = Counter()
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        own[package(filename)] += tottime
    total = sum(own.values()) or 1.0
    print(f"\n## {title}: {wall:.2f} s wall (under the profiler)\n")
    print("| package | own time s | share |\n|---|---|---|")
    for name, seconds in own.most_common():
        print(f"| {name} | {seconds:.2f} | {seconds / total:.0%} |")
    print(f"\nTop {top} functions by own time:\n")
    print("| own s | cumulative s | calls | function |\n|---|---|---|---|")
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    for (filename, line, name), (_cc, calls, tottime, cumtime, _callers) in rows:
        where = filename.replace(str(REPO) + "/", "").split("site-packages/")[-1]
        print(f"| {tottime:.2f} | {cumtime:.2f} | {calls} | `{name}` {where}:{line} |")


def profile_queries(workdir: Path, archive: Path, n_queries: int, top: int) -> None:
    """Profile run.py's query mix on the vnsearch index in *workdir*."""
    engine = Vnsearch(workdir)
    engine.open()
    queries = make_queries(list(records(archive)), n_queries)
    for q, source in queries[:30]:  # warm the searcher's caches, as run.py does
        engine.search(q, source)
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    for q, source in queries:
        engine.search(q, source)
    profile.disable()
    wall = time.perf_counter() - started
    report(profile, f"{len(queries)} queries, top 10 with snippets", wall, top)
    print(f"\n{1000 * wall / len(queries):.1f} ms per query under the profiler")
    engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--queries-only", action="store_true",
                        help="profile queries on bench/run.py's index of the first "
                             "--articles VNTC articles (built by run.py), no indexing")
    args = parser.parse_args()
    if not VNTC.exists():
        sys.exit(f"VNTC archive not found at {VNTC}")
    if args.queries_only:
        archive, workdir = archive_for("vntc", args.articles)
        if not (workdir / "vnsearch").exists():
            sys.exit(f"no index at {workdir / 'vnsearch'}: run bench/run.py --size "
                     f"{args.articles} first")
        profile_queries(workdir, archive, args.queries, args.top)
        return
    archive = vntc_subset(args.articles)
    with tempfile.TemporaryDirectory(prefix="vnsearch-profile-") as tmp:
        index_dir = Path(tmp) / "vnsearch"
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.runcall(index_paths, index_dir, [archive], rebuild=True, procs=1)
        wall = time.perf_counter() - started
        report(profile, f"Indexing {args.articles:,} VNTC articles, one process", wall, args.top)
        print(f"\n{args.articles / wall:.0f} articles/s under the profiler")
        profile_queries(Path(tmp), archive, args.queries, args.top)


if __name__ == "__main__":
    main()
