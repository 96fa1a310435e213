"""What a query pays for the first time: each query of bench/run.py's mix profiled
cold (right after the index opens) and then warm, and the two compared.

    .venv/bin/python bench/cold_profile.py --size 84132       # run.py's 84k index
    .venv/bin/python bench/cold_profile.py --size 84132 --out bench/results/cold-profile-84k.md

bench/run.py times a cold pass and a warm pass over the same queries; the issue's
target is on both. The cold pass pays for what the warm one finds remembered
(decoded posting lists, how the archive spells a word pair). This profiles every
query on its own in both passes, takes the band of queries around the cold median
(the queries that set the cold p50), and lists the functions whose cumulative time
differs most between cold and warm, per query of the band. Times are under the
profiler, so larger than bench/run.py's; their shares are what to read.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.engines import Vnsearch, records  # noqa: E402
from bench.run import built_point, make_queries, point_parser  # noqa: E402

#: Where a function counts as vnsearch's own (the rest is Whoosh, numpy, Python).
OWN = f"{REPO}/search/"


#: The stages of :func:`search.query.run`, by the function each one is (module, name).
#: Ranking counts every search a query runs (its typo and missing-word widenings too).
STAGES = {
    ("query.py", "_first_query"): "likely readings and parsing",
    ("searching.py", "run"): "ranking",
    ("spelling.py", "suggest"): "did you mean",
    ("marking.py", "page_hits"): "the results page (snippets, marks)",
}


def profiled_pass(engine: Vnsearch,
                  queries: list[tuple[str, str | None]]) -> list[tuple[float, cProfile.Profile]]:
    """Each query's wall time (ms, under the profiler) and its own profile."""
    out = []
    for q, source in queries:
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        engine.search(q, source)
        profile.disable()
        out.append(((time.perf_counter() - started) * 1000, profile))
    return out


def cumulative(runs: list[tuple[float, cProfile.Profile]],
               band: list[int]) -> dict[tuple[str, int, str], tuple[int, float]]:
    """Calls and cumulative seconds per function, summed over the queries of *band*."""
    stats = pstats.Stats(runs[band[0]][1])
    for i in band[1:]:
        stats.add(runs[i][1])
    return {key: (calls, cum) for key, (_cc, calls, _tt, cum, _callers)
            in stats.stats.items()}  # type: ignore[attr-defined]


def stage_seconds(stats: dict[tuple[str, int, str], tuple[int, float]],
                  module: str, name: str) -> float:
    """The cumulative seconds of vnsearch's function *name* in *module* (a stage of
    :data:`STAGES`), from :func:`cumulative`'s *stats*."""
    return sum(cum for (path, _, function), (_, cum) in stats.items()
               if path == f"{OWN}{module}" and function == name)


def report(queries: list[tuple[str, str | None]], cold: list[tuple[float, cProfile.Profile]],
           warm: list[tuple[float, cProfile.Profile]], *, band_size: int, top: int) -> str:
    """The markdown report: the band's cold and warm times, then the functions."""
    order = sorted(range(len(queries)), key=lambda i: cold[i][0])
    mid = len(order) // 2
    band = order[max(0, mid - band_size // 2): mid + band_size - band_size // 2]
    c, w = cumulative(cold, band), cumulative(warm, band)
    per = 1000 / len(band)  # seconds summed over the band → ms per query
    cold_ms = sum(cold[i][0] for i in band) / len(band)
    warm_ms = sum(warm[i][0] for i in band) / len(band)
    lines = [f"{len(queries)} queries; the {len(band)} around the cold median: "
             f"{cold_ms:.1f} ms cold, {warm_ms:.1f} ms warm a query (under the profiler)."]
    lines += ["", "What each stage of a query takes (cumulative, per query of the band):", "",
              "| stage | cold ms | warm ms | cold − warm ms |", "|---|---|---|---|"]
    for (module, name), stage in STAGES.items():
        cold_cum, warm_cum = stage_seconds(c, module, name), stage_seconds(w, module, name)
        lines.append(f"| {stage} | {cold_cum * per:.2f} | {warm_cum * per:.2f} | "
                     f"{(cold_cum - warm_cum) * per:.2f} |")
    lines += ["", "The functions whose time differs most:", "",
              "| cold − warm ms | cold ms | warm ms | calls cold / warm | function |",
              "|---|---|---|---|---|"]
    rows = []
    for key, (calls, cum) in c.items():
        if not key[0].startswith(OWN):
            continue
        warm_calls, warm_cum = w.get(key, (0, 0.0))
        where = f"`{key[2]}` {key[0][len(OWN):]}:{key[1]}"
        rows.append(((cum - warm_cum) * per, cum * per, warm_cum * per, calls, warm_calls, where))
    rows.sort(reverse=True)
    for diff, cc, ww, calls, warm_calls, where in rows[:top]:
        lines.append(f"| {diff:.2f} | {cc:.2f} | {ww:.2f} | {calls} / {warm_calls} | {where} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = point_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--band", type=int, default=100, help="queries around the cold median")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    archive, workdir = built_point(args.size, "vnsearch")
    queries = make_queries(list(records(archive)), args.queries)
    engine = Vnsearch(workdir)
    engine.open()
    cold = profiled_pass(engine, queries)
    warm = profiled_pass(engine, queries)
    engine.close()
    text = report(queries, cold, warm, band_size=min(args.band, len(queries)), top=args.top)
    print(text)
    if args.out:
        args.out.write_text(f"# Cold against warm, {args.size:,} VNTC articles\n\n"
                            f"`bench/cold_profile.py --size {args.size}`\n\n{text}",
                            encoding="utf-8")


if __name__ == "__main__":
    main()
