"""Query latency of this checkout against an older one, on the same index, in one run.

Ranking work adds cost to every query; this says how much, as bench/run.py measures
latency (its seeded query mix: 1–4 words, half without accents, ~10% phrases, ~10%
with a source filter; top 10 with snippets; 50 warm-up queries not counted), with
the two versions timed on the same machine, in turns, so load from anything else
falls on both alike:

    git worktree add ../vnsearch-base <commit>
    .venv/bin/python bench/latency_ab.py --base ../vnsearch-base --size 84132

The index is bench/run.py's (bench/work/run-N/vnsearch, built by this checkout when
missing); both versions must read the same schema version. When they cannot (an
index format change), give each its own index of the same articles, built by its
own code, with ``--index-base DIR --index-new DIR``. Each round runs each
version in a fresh process, new then base or base then new, alternately. Prints
the median over rounds of each figure and the ratio new/base; writes
bench/results/latency_ab.json.

On a shared machine, whole passes in turns still see different loads (one pass
may run while another job is busy, the next not). ``--lockstep`` starts both
versions at once and hands them the queries one at a time, in turns (which goes
first alternates per query), each timing only its own query: whatever else runs
on the machine falls on both within milliseconds, and the ratio of their figures
is steady from run to run even when the figures themselves are not.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.engines import ENGINES, records  # noqa: E402
from bench.run import RESULTS, archive_for, build, make_queries  # noqa: E402

#: What both children run first, in a fresh interpreter with the checkout under test
#: first on ``sys.path``: open the index and define ``search(q, source)``.
SETUP = r"""
import json, statistics, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import search
from search import store
if Path(search.__file__).parent.parent != Path(sys.argv[1]):
    sys.exit(f"imported {search.__file__}, not the checkout's")
from search.query import run
try:  # where these live since the architecture refactor; before it, in search.query
    from search.errors import QueryError
    from search.filters import Filters
except ImportError:
    from search.query import Filters, QueryError

searcher = store.open_index(Path(sys.argv[2])).searcher()

def search(q, source):
    try:
        run(searcher, q, limit=10, filters=Filters(source=source))
    except QueryError:
        pass
"""

#: The whole-pass child: reads the queries as one JSON list on stdin, warms up, times
#: them all and prints its figures as JSON.
CHILD = SETUP + r"""
queries = json.load(sys.stdin)

for q, source in queries[:50]:
    search(q, source)
times = []
for q, source in queries:
    started = time.perf_counter()
    search(q, source)
    times.append((time.perf_counter() - started) * 1000)
times.sort()
at = lambda p: times[min(len(times) - 1, round(p / 100 * (len(times) - 1)))]
print(json.dumps({"p50_ms": statistics.median(times), "p95_ms": at(95), "p99_ms": at(99),
                  "mean_ms": statistics.mean(times)}))
"""

#: The lockstep child: opens the index, says ``ready``, then per line of stdin (one
#: ``[query, source]``) searches and answers the milliseconds it took.
STEP_CHILD = SETUP + r"""
print("ready", flush=True)
for line in sys.stdin:
    q, source = json.loads(line)
    started = time.perf_counter()
    search(q, source)
    print((time.perf_counter() - started) * 1000, flush=True)
"""

FIGURES = ("p50_ms", "p95_ms", "p99_ms", "mean_ms")
#: Queries run first and not counted (as run.py warms up).
WARM_UP = 50


def schema_version(checkout: Path) -> str:
    """The ``SCHEMA_VERSION`` line of a checkout (both must read the same index)."""
    for line in (checkout / "search" / "schema.py").read_text(encoding="utf-8").splitlines():
        if line.startswith("SCHEMA_VERSION"):
            return line.split("=", 1)[1].strip()
    raise SystemExit(f"{checkout}: no SCHEMA_VERSION in search/schema.py")


def time_checkout(checkout: Path, index_dir: Path, queries: list) -> dict:
    """One pass of the query mix by *checkout*'s code, in a fresh process."""
    done = subprocess.run([sys.executable, "-c", CHILD, str(checkout), str(index_dir)],
                          input=json.dumps(queries), capture_output=True, text=True,
                          check=False)
    if done.returncode:
        raise SystemExit(f"{checkout}: the timing process failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def figures(times: list[float]) -> dict[str, float]:
    """p50, p95, p99 and mean of per-query milliseconds (as the child reports them)."""
    times = sorted(times)

    def at(p: float) -> float:
        return times[min(len(times) - 1, round(p / 100 * (len(times) - 1)))]

    return {"p50_ms": statistics.median(times), "p95_ms": at(95), "p99_ms": at(99),
            "mean_ms": statistics.mean(times)}


def time_lockstep(checkouts: dict[str, Path], indexes: dict[str, Path],
                  queries: list) -> dict[str, dict[str, float]]:
    """One pass of the query mix by both versions at once, a query at a time in
    turns (see the module docstring): name → figures."""
    procs = {name: subprocess.Popen(
        [sys.executable, "-c", STEP_CHILD, str(checkouts[name]), str(indexes[name])],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for name in checkouts}
    try:
        for name, proc in procs.items():
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise SystemExit(f"{checkouts[name]}: the timing process failed to start")
        times: dict[str, list[float]] = {name: [] for name in procs}
        names = list(procs)
        for k, query in enumerate(queries[:WARM_UP] + queries):
            for name in names if k % 2 == 0 else names[::-1]:
                took = _ask(procs[name], query)
                if k >= WARM_UP:
                    times[name].append(took)
        return {name: figures(t) for name, t in times.items()}
    finally:
        for proc in procs.values():
            if proc.stdin is not None:
                proc.stdin.close()
            proc.wait()


def _ask(proc: subprocess.Popen[str], query: list) -> float:
    """One query to a lockstep child, and the milliseconds it reports."""
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(query) + "\n")
    proc.stdin.flush()
    answer = proc.stdout.readline()
    if not answer:
        raise SystemExit("a timing process died (see its error above)")
    return float(answer)


def own_indexes(args: argparse.Namespace) -> dict[str, Path] | None:
    """``{"base": …, "new": …}`` when each version has its own index, else ``None``."""
    if (args.index_base is None) != (args.index_new is None):
        raise SystemExit("--index-base and --index-new go together")
    if args.index_base is None:
        return None
    return {"base": args.index_base.resolve(), "new": args.index_new.resolve()}


def shared_index(base: Path, archive: Path, workdir: Path, size: int) -> dict[str, Path]:
    """run.py's index of *archive*, built by this checkout when missing, for both
    versions (which must then read the same schema)."""
    if schema_version(base) != schema_version(REPO):
        raise SystemExit(f"{base} reads schema {schema_version(base)}, this checkout "
                         f"{schema_version(REPO)}: they cannot share one index (give each "
                         f"its own with --index-base and --index-new)")
    engine = ENGINES["vnsearch"](workdir)
    if not (engine.index_dir / "vnsearch.json").exists():
        print(f"building the {size:,}-article index …", file=sys.stderr, flush=True)
        workdir.mkdir(parents=True, exist_ok=True)
        build("vnsearch", archive, workdir)
    return {"base": engine.index_dir, "new": engine.index_dir}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", type=Path, required=True,
                    help="a checkout of the version to compare with (git worktree add)")
    ap.add_argument("--size", type=int, default=10000, help="first N VNTC articles")
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--index-base", type=Path,
                    help="the base checkout's own index of the --size articles (with --index-new)")
    ap.add_argument("--index-new", type=Path,
                    help="this checkout's own index of the same articles (with --index-base)")
    ap.add_argument("--lockstep", action="store_true",
                    help="both versions at once, a query at a time in turns (a shared machine)")
    args = ap.parse_args()
    base = args.base.resolve()
    archive, workdir = archive_for("vntc", args.size)
    queries = make_queries(list(records(archive)), args.queries)
    indexes = own_indexes(args) or shared_index(base, archive, workdir, args.size)
    runs: dict[str, list[dict]] = {"new": [], "base": []}
    for k in range(args.rounds):
        order = [("new", REPO), ("base", base)]
        if args.lockstep:
            both = time_lockstep(dict(order if k % 2 == 0 else order[::-1]), indexes, queries)
            for name in runs:
                runs[name].append(both[name])
        for name, checkout in order if k % 2 == 0 else order[::-1]:
            if not args.lockstep:
                runs[name].append(time_checkout(checkout, indexes[name], queries))
            print(f"round {k + 1} {name}: " + "  ".join(
                f"{f} {runs[name][-1][f]:.2f}" for f in FIGURES), file=sys.stderr, flush=True)
    report = {"size": args.size, "queries": args.queries, "rounds": args.rounds,
              "lockstep": args.lockstep, "base": str(base.name), "runs": runs}
    for name in runs:
        report[name] = {f: round(statistics.median(r[f] for r in runs[name]), 2)
                        for f in FIGURES}
    report["ratio"] = {f: round(report["new"][f] / report["base"][f], 3) for f in FIGURES}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latency_ab.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"| {args.size:,} articles | " + " | ".join(f.replace("_ms", "") for f in FIGURES)
          + " |\n|---|" + "---|" * len(FIGURES))
    for name in ("base", "new", "ratio"):
        cells = [f"{report[name][f]:.2f}" + ("×" if name == "ratio" else " ms") for f in FIGURES]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
