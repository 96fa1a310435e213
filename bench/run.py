"""vnsearch vs SQLite FTS5 vs Tantivy on VNTC: indexing, query latency, quality.

One command, one run, same machine, same archive for every engine:

    .venv/bin/pip install -e '.[bench]'          # tantivy (FTS5 is in the stdlib)
    .venv/bin/python bench/run.py --size 10000
    .venv/bin/python bench/run.py --sizes 10000,30000,84132 --quality-sizes 84132
    .venv/bin/python bench/run.py --sizes 84132 --generated 300000 --quality-sizes 84132
    .venv/bin/python bench/run.py --sizes "" --baomoi            # 35k raw .txt files

For each archive size (the first N records of $VNSEARCH_SHARED/corpora/vntc.jsonl.gz, all
kept, duplicates included; ``--generated N`` adds an archive of N synthetic articles
from bench/make_archive.py, to go past the real data; ``--baomoi`` adds the whole
baomoi-2017 crawl, 35k raw ``.txt`` files, read as files by every engine) and each engine:

* indexing in a fresh subprocess: articles/s, MB/s of input, wall and CPU seconds
  (children included: vnsearch indexes with two processes), peak RSS of the engine's
  main process, of its largest child and of all its processes together (sampled
  every 50 ms; forked workers' shared pages count in each), index size on disk (and
  vs FTS5);
* queries: a fixed seeded set (default 500) of 1–4 words from the archive's
  articles, half typed without accents, ~10% quoted phrases, ~10% with a source
  filter; top-10 *with snippets*. Timed twice: a *cold* pass over the whole set
  right after the engine opens its index (nothing cached in the process; the OS
  file cache is as the build left it), then a *warm* pass over the same set;
  p50/p95/p99 and queries/s of the warm pass, p50/p95 of the cold one;
* known-item quality (bench/quality.py): MRR@10 and recall@10 per query form.

Writes bench/results/run-<timestamp>.json, bench/results/latest.md and (with
matplotlib) bench/results/growth.png, and flags any vnsearch figure more than 10%
worse than in the previous results file.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.bench_core import unpack  # noqa: E402
from bench.corpora import BAOMOI, VNTC  # noqa: E402
from bench.engines import ENGINES, dir_size, records, split_article  # noqa: E402
from bench.index_rate import run_sampled  # noqa: E402
from bench.quality import FORMS, build_items, evaluate, surface_words  # noqa: E402
from search.normalize import fold  # noqa: E402

WORK = REPO / "bench" / "work"
RESULTS = REPO / "bench" / "results"


def vntc_subset(n: int) -> Path:
    """The first *n* VNTC records as a JSONL file in bench/work (made once)."""
    path = WORK / f"vntc-{n}.jsonl"
    if not path.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with gzip.open(VNTC, "rt", encoding="utf-8") as src, tmp.open("w", encoding="utf-8") as out:
            for i, line in enumerate(src):
                if i == n:
                    break
                out.write(line)
        tmp.rename(path)
    return path


def generated(n: int) -> Path:
    """*n* synthetic articles (bench/make_archive.py, JSONL) in bench/work (made once)."""
    path = WORK / f"gen-{n}.jsonl"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        subprocess.run([sys.executable, str(REPO / "bench" / "make_archive.py"), str(n),
                        str(tmp), "--format", "jsonl"], check=True)
        tmp.rename(path)
    return path


#: How each kind of archive is labelled in tables and progress lines.
LABELS = {"vntc": "", "generated": "generated", "baomoi": "baomoi raw .txt"}


def archive_for(kind: str, n: int) -> tuple[Path, Path]:
    """``(archive, workdir)`` for one point: VNTC subset, generated or baomoi."""
    if kind == "generated":
        return generated(n), WORK / f"gen-run-{n}"
    if kind == "baomoi":
        return unpack(BAOMOI), WORK / "baomoi-run"
    return vntc_subset(n), WORK / f"run-{n}"


def point_parser(description: str) -> argparse.ArgumentParser:
    """The options of a script that reads one point's indexes as run.py built them
    and its query mix (``--size``, ``--queries``, ``--out``); it adds its own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--size", type=int, default=84132,
                        help="bench/run.py's index of the first N VNTC articles")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--out", type=Path, help="also write the report here")
    return parser


def built_point(size: int, *indexes: str) -> tuple[Path, Path]:
    """:func:`archive_for` the first *size* VNTC articles, exiting with a message
    when run.py has not built one of *indexes* (names in the point's directory)."""
    archive, workdir = archive_for("vntc", size)
    for name in indexes:
        if not (workdir / name).exists():
            sys.exit(f"no index at {workdir / name}: run bench/run.py --size {size} first")
    return archive, workdir


def archive_bytes(archive: Path) -> int:
    return dir_size(archive) if archive.is_dir() else archive.stat().st_size


# --------------------------------------------------------------------------- indexing


def build_child(engine: str, archive: Path, workdir: Path) -> None:
    """Runs in a subprocess: build one engine's index, print its costs as JSON."""
    t0, c0 = time.perf_counter(), os.times()
    info = ENGINES[engine](workdir).build(archive)
    wall, c1 = time.perf_counter() - t0, os.times()
    cpu = (c1.user - c0.user) + (c1.system - c0.system)
    cpu += (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
    info.update(
        seconds=round(wall, 2),
        cpu_seconds=round(cpu, 2),
        rss_main_mb=round(own_peak_rss() / 2**20),
        rss_child_mb=round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
    )
    print(json.dumps(info))


def own_peak_rss() -> int:
    """This process's peak resident bytes since it started. ``ru_maxrss`` will not do
    here: Linux carries the parent's peak over into an exec'd child (this bench's
    parent holds every article of the archive), so it read the parent's memory."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def build(engine: str, archive: Path, workdir: Path) -> dict:
    out, err, returncode, peak = run_sampled(
        [sys.executable, __file__, "--build", engine, str(archive), str(workdir)],
        stderr=subprocess.PIPE, text=True)
    if returncode != 0:
        raise RuntimeError(f"{engine} indexing failed:\n{err[-2000:]}")
    info = json.loads(out.strip().splitlines()[-1])
    info["rss_all_mb"] = round(peak / 2**20)
    # The new index is still being written back to disk for half a minute or more;
    # flush it now, so the kernel's writeback does not share the timed queries' CPU.
    os.sync()
    mb = archive_bytes(archive) / 1e6
    info["articles_per_s"] = round(info["documents"] / info["seconds"], 1)
    info["mb_per_s"] = round(mb / info["seconds"], 2)
    return info


# --------------------------------------------------------------------------- queries


def make_queries(recs: list[dict], n: int, seed: int = 42) -> list[tuple[str, str | None]]:
    """*n* ``(query, source filter)`` pairs drawn from the archive (seeded)."""
    rng = random.Random(seed)
    out: list[tuple[str, str | None]] = []
    while len(out) < n:
        rec = rng.choice(recs)
        title, body = split_article(rec["text"])
        words = surface_words(title if rng.random() < 0.5 else body[:600])
        if len(words) < 4:
            continue
        size = rng.randint(1, 4)
        start = rng.randrange(len(words) - size + 1)
        span = words[start : start + size]
        if len(out) % 2:
            span = [fold(w) for w in span]
        text = " ".join(span)
        roll = rng.random()
        if roll < 0.1 and size >= 2:
            text = f'"{text}"'
        source = rec.get("source") if 0.1 <= roll < 0.2 else None
        out.append((text, source))
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def one_pass(engine, queries) -> list[float]:
    """Milliseconds per query, in order."""
    latencies = []
    for q, source in queries:
        started = time.perf_counter()
        engine.search(q, source)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def time_queries(engine, queries) -> dict:
    """A cold pass right after opening, then a warm pass over the same queries."""
    cold = one_pass(engine, queries)
    latencies = one_pass(engine, queries)
    return {
        "cold_p50_ms": round(statistics.median(cold), 2),
        "cold_p95_ms": round(percentile(cold, 95), 2),
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "qps": round(1000 * len(latencies) / sum(latencies), 1),
    }


# --------------------------------------------------------------------------- report


def run_size(n: int, engines: list[str], n_queries: int, quality_items: int,
             kind: str = "vntc") -> dict:
    """Every engine on one archive: *kind* is ``vntc`` (first *n*), ``generated`` or
    ``baomoi`` (*n* unused)."""
    archive, workdir = archive_for(kind, n)
    recs = list(records(archive))
    workdir.mkdir(parents=True, exist_ok=True)
    queries = make_queries(recs, n_queries)
    items = build_items(recs, quality_items) if quality_items else []
    out: dict = {"size": len(recs), "archive_mb": round(archive_bytes(archive) / 1e6, 1),
                 "kind": kind, "engines": {}}
    del recs
    tag = f"{out['size']} {point_label(out)}".strip()
    for name in engines:
        engine = ENGINES[name](workdir)
        shared = getattr(engine, "shares_index_of", None)
        if shared in out["engines"]:  # its indexing figures; queries are timed below
            info = dict(out["engines"][shared], index_shared_with=shared)
        else:
            print(f"[{tag}] {name}: indexing …", file=sys.stderr, flush=True)
            info = build(name, archive, workdir)
        info["index_mb"] = round(engine.size() / 1e6, 1)
        engine.open()
        print(f"[{tag}] {name}: {len(queries)} queries …", file=sys.stderr, flush=True)
        info.update(time_queries(engine, queries))
        if items:
            print(f"[{tag}] {name}: quality on {len(items)} items …", file=sys.stderr, flush=True)
            info["quality"] = evaluate(engine, items)
        engine.close()
        out["engines"][name] = info
    fts = out["engines"].get("fts5")
    for info in out["engines"].values():
        if fts:
            info["size_vs_fts5"] = round(info["index_mb"] / fts["index_mb"], 2)
    return out


PERF_COLS = [
    ("articles_per_s", "articles/s"), ("mb_per_s", "MB/s"), ("seconds", "index s"),
    ("cpu_seconds", "CPU s"), ("rss_main_mb", "RSS main MB"), ("rss_child_mb", "RSS child MB"),
    ("rss_all_mb", "RSS all MB"),
    ("index_mb", "index MB"), ("size_vs_fts5", "× FTS5"), ("cold_p50_ms", "cold p50 ms"),
    ("cold_p95_ms", "cold p95 ms"), ("p50_ms", "p50 ms"), ("p95_ms", "p95 ms"),
    ("p99_ms", "p99 ms"), ("qps", "q/s"),
]


def markdown(report: dict) -> str:
    lines = [f"Run {report['date']} on {report['machine']}.", ""]
    lines.append("| articles | engine | " + " | ".join(h for _, h in PERF_COLS) + " |")
    lines.append("|---|---|" + "---|" * len(PERF_COLS))
    for size in report["sizes"]:
        for name, info in size["engines"].items():
            cells = [str(info.get(k, "")) for k, _ in PERF_COLS]
            label = f"{size['size']:,} {point_label(size)}".strip()
            if info.get("index_shared_with"):
                name += f" ({info['index_shared_with']}'s index)"
            lines.append(f"| {label} | {name} | " + " | ".join(cells) + " |")
    for size in report["sizes"]:
        engines = {k: v for k, v in size["engines"].items() if "quality" in v}
        if not engines:
            continue
        any_q = next(iter(engines.values()))["quality"]
        lines += ["", f"Known-item quality, {size['size']:,} articles, {any_q['_items']} items "
                  f"(body and title spans; tone_swapped changed {any_q['_tone_swapped_changed']})"
                  ": MRR@10 / recall@10", ""]
        lines += form_table(engines, lambda q: f"{q['mrr10']:.3f} / {q['recall10']:.3f}")
        lines += distinct_lines(engines)
    lines += growth_lines(report)
    if report.get("regressions"):
        lines += ["", "**Worse than the previous run by more than 10%:**", ""]
        lines += [f"- {r}" for r in report["regressions"]]
    return "\n".join(lines) + "\n"


def growth_lines(report: dict) -> list[str]:
    """How each engine's warm query p95 grows between the sizes of one kind of archive.

    Growth is only compared within a kind: the generated archive is denser than VNTC
    (a smaller vocabulary, longer articles, everyday words in most articles), so a
    step from VNTC to generated mixes the archive's size with its make-up. The
    exponent is log(p95 ratio) / log(size ratio): below 1 is sub-linear."""
    lines: list[str] = []
    for kind in ("vntc", "generated"):
        points = sorted((s for s in report["sizes"] if (s.get("kind") or "vntc") == kind),
                        key=lambda s: s["size"])
        if len(points) < 2:
            continue
        steps = list(itertools.pairwise(points))
        lines += ["", f"Growth of warm query p95, {LABELS[kind] or 'VNTC'} archives "
                  "(× per step, exponent: below 1 is sub-linear):", "",
                  "| engine | " + " | ".join(f"{a['size']:,} → {b['size']:,}"
                                            for a, b in steps) + " |",
                  "|---|" + "---|" * len(steps)]
        for name in points[0]["engines"]:
            cells = []
            for a, b in steps:
                pa, pb = a["engines"].get(name, {}), b["engines"].get(name, {})
                if not pa.get("p95_ms") or not pb.get("p95_ms"):
                    cells.append("")
                    continue
                ratio, grown = pb["p95_ms"] / pa["p95_ms"], b["size"] / a["size"]
                exponent = math.log(ratio) / math.log(grown)
                cells.append(f"{ratio:.2f}× for {grown:.2f}× (exponent {exponent:.2f})")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def distinct_lines(engines: dict) -> list[str]:
    """The known-item ceiling, and MRR@10 over the items whose span is their article's
    alone (tune / report halves), when the results carry them."""
    any_q = next(iter(engines.values()))["quality"]
    if "_ceiling" not in any_q:
        return []
    lines = ["", f"Best MRR@10 any engine could reach on these items: {any_q['_ceiling']:.3f} "
             "(spans other articles hold in the same part are a draw among them). "
             f"The {any_q['_distinct']} items whose span is their article's alone, "
             "MRR@10 tune / report:", ""]
    return lines + form_table(engines, lambda q: f"{q['mrr10_distinct_tune']:.3f} / "
                                                 f"{q['mrr10_distinct_report']:.3f}")


def form_table(engines: dict, cell: Callable[[dict], str]) -> list[str]:
    """A markdown table of known-item figures: a row per query form, a column per
    engine, each cell *cell* of that engine's figures for the form."""
    lines = ["| form | " + " | ".join(engines) + " |", "|---|" + "---|" * len(engines)]
    for form in FORMS:
        lines.append(f"| {form} | " + " | ".join(cell(e["quality"][form])
                                                for e in engines.values()) + " |")
    return lines


def point_label(size: dict) -> str:
    """What kind of archive a results row is (older results files carry no ``kind``,
    some a ``generated`` flag)."""
    return LABELS[size.get("kind") or ("generated" if size.get("generated") else "vntc")]


def regressions(report: dict) -> list[str]:
    """vnsearch figures more than 10% worse than in the previous results file."""
    previous = sorted(RESULTS.glob("run-*.json"))
    if not previous:
        return []
    old = json.loads(previous[-1].read_text(encoding="utf-8"))
    old_sizes = {(s["size"], point_label(s)): s["engines"].get("vnsearch")
                 for s in old.get("sizes", [])}
    found = []
    for size in report["sizes"]:
        new = size["engines"].get("vnsearch")
        prev = old_sizes.get((size["size"], point_label(size)))
        if not new or not prev:
            continue
        for key, higher_is_better in (("articles_per_s", True), ("qps", True), ("p50_ms", False),
                                      ("p95_ms", False), ("index_mb", False)):
            a, b = prev.get(key), new.get(key)
            if a and b and (b < 0.9 * a if higher_is_better else b > 1.1 * a):
                found.append(f"{size['size']:,} {point_label(size) or 'articles'}: {key} {a} → {b} "
                             f"(previous: {previous[-1].name})")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, help="one archive size (first N VNTC records)")
    parser.add_argument("--sizes", default="10000", help="comma-separated sizes")
    parser.add_argument("--engines", default="vnsearch,fts5,tantivy")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--quality-items", type=int, default=1000,
                        help="articles sampled for known-item quality (0: skip)")
    parser.add_argument("--no-quality", action="store_true")
    parser.add_argument("--quality-sizes", default="",
                        help="comma-separated sizes to run quality at (default: every size)")
    parser.add_argument("--generated", default="",
                        help="comma-separated sizes of synthetic archives to add (no quality)")
    parser.add_argument("--baomoi", action="store_true",
                        help=f"add the baomoi-2017 crawl as raw .txt files ({BAOMOI.name})")
    parser.add_argument("--build", nargs=3, metavar=("ENGINE", "ARCHIVE", "WORKDIR"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        build_child(args.build[0], Path(args.build[1]), Path(args.build[2]))
        return
    sizes = [args.size] if args.size else [int(s) for s in args.sizes.split(",") if s.strip()]
    if sizes and not VNTC.exists():
        sys.exit(f"VNTC archive not found at {VNTC}")
    if args.baomoi and not BAOMOI.exists():
        sys.exit(f"baomoi archive not found at {BAOMOI}")
    engines = [e.strip() for e in args.engines.split(",")]
    quality_at = {int(s) for s in args.quality_sizes.split(",") if s.strip()}
    started = time.perf_counter()
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "sizes": [run_size(n, engines, args.queries,
                           0 if args.no_quality or (quality_at and n not in quality_at)
                           else args.quality_items) for n in sizes],
    }
    for n in (int(s) for s in args.generated.split(",") if s.strip()):
        report["sizes"].append(run_size(n, engines, args.queries, 0, kind="generated"))
    if args.baomoi:
        report["sizes"].append(run_size(0, engines, args.queries, 0, kind="baomoi"))
    report["regressions"] = regressions(report)
    report["wall_seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M")
    (RESULTS / f"run-{stamp}.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    text = markdown(report)
    (RESULTS / "latest.md").write_text(text, encoding="utf-8")
    print(text)
    try:
        from bench.chart import draw

        print(f"chart: {draw(report, RESULTS / 'growth.png')}")
    except ImportError:
        print("no chart: matplotlib is not installed (pip install -e '.[bench]')")
    print(f"wall time: {report['wall_seconds']} s")


if __name__ == "__main__":
    main()
