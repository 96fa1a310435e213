"""Autocomplete and did-you-mean latency on a large index (target: /suggest p95 ≤ 15 ms at 100k).

Builds (once, kept in bench/work/) an index of N articles — a synthetic archive from
bench/make_archive.py, since the real VNTC archive stops at 84k — then times, on one
open searcher and after a warm-up pass:

* ``complete()`` (what ``GET /suggest`` and ``vnsearch suggest`` run) for prefixes
  typed keystroke by keystroke from real titles, people and places of the archive:
  every prefix of 1–3 words, accents dropped half of the time; then the same
  prefixes as ``GET /suggest`` requests to a real ``vnsearch serve`` app (uvicorn,
  one keep-alive client), which is what the search page pays per keystroke;
* ``spelling.suggest()`` (the did-you-mean of every search) on 2–4 word queries
  typed without accents;
* what a fresh searcher builds once: the place/people name list, the title word
  list, the accent map, the folded vocabulary, and each segment's stored-field
  file (the CLI pays these per command, as needed; the server once per index).

    .venv/bin/python bench/bench_complete.py               # 100,000 articles
    .venv/bin/python bench/bench_complete.py --size 20000  # quicker

Prints a table and writes bench/results/complete.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from search import complete as complete_module  # noqa: E402
from search import lexicon, store  # noqa: E402
from search.complete import complete  # noqa: E402
from search.indexer import index_paths  # noqa: E402
from search.normalize import fold  # noqa: E402
from search.spelling import suggest  # noqa: E402

WORK = REPO / "bench" / "work"
RESULTS = REPO / "bench" / "results"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def build(n: int) -> Path:
    """An index of *n* generated articles in bench/work (built once)."""
    archive = WORK / f"gen-{n}.jsonl"
    index_dir = WORK / f"complete-{n}"
    if not archive.exists():
        subprocess.run([sys.executable, str(REPO / "bench" / "make_archive.py"), str(n),
                        str(archive), "--format", "jsonl"], check=True)
    try:
        store.open_index(index_dir)
    except store.IndexError_:
        started = time.perf_counter()
        summary = index_paths(index_dir, [archive], rebuild=True)
        print(f"indexed {summary.documents:,} articles in {time.perf_counter() - started:.0f} s",
              file=sys.stderr)
    return index_dir


def prefixes(searcher, rng: random.Random, count: int) -> list[str]:
    """Keystroke prefixes of real titles, places and people of the index."""
    reader = searcher.reader()
    sources: list[str] = []
    for fieldname in ("place_name", "people_name"):
        sources += [t.decode() if isinstance(t, bytes) else t for t in reader.lexicon(fieldname)]
    docnums = rng.sample(range(reader.doc_count_all()), min(2000, reader.doc_count_all()))
    sources += [searcher.stored_fields(d).get("title", "") for d in docnums]
    sources = [s for s in sources if s.strip()]
    out = []
    while len(out) < count:
        words = rng.choice(sources).split()[: rng.randint(1, 3)]
        text = " ".join(words)
        if rng.random() < 0.5:
            text = fold(text)
        out.append(text[: rng.randint(1, len(text))])
    return out


def queries(searcher, rng: random.Random, count: int) -> list[str]:
    """Unaccented 2–4 word spans of article titles."""
    reader = searcher.reader()
    out = []
    while len(out) < count:
        title = searcher.stored_fields(rng.randrange(reader.doc_count_all())).get("title", "")
        words = title.split()
        if len(words) < 4:
            continue
        k = rng.randint(2, 4)
        start = rng.randrange(len(words) - k + 1)
        out.append(fold(" ".join(words[start : start + k])))
    return out


def over_http(index_dir: Path, typed: list[str]) -> list[float]:
    """Times of ``GET /suggest`` for each prefix, on a real server (uvicorn, keep-alive)."""
    import socket
    import threading

    import httpx2
    import uvicorn

    from search.http import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(index_dir), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}") as client:
            def get(prefix: str) -> None:
                client.get("/suggest", params={"q": prefix}).raise_for_status()
            timed(get, typed[:200])  # warm-up: the server builds its lists once
            return timed(get, typed)
    finally:
        server.should_exit = True
        thread.join()


def timed(fn, items) -> list[float]:
    times = []
    for item in items:
        t0 = time.perf_counter()
        fn(item)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def stats(times: list[float]) -> dict:
    return {"n": len(times), "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(percentile(times, 95), 2), "p99_ms": round(percentile(times, 99), 2),
            "max_ms": round(max(times), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--prefixes", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    index_dir = build(args.size)
    rng = random.Random(7)
    ix = store.open_index(index_dir)
    report: dict = {"size": args.size, "date": time.strftime("%Y-%m-%d %H:%M")}
    with ix.searcher() as s:
        once = (("names_ms", lambda: complete_module._names(s)),
                ("title_words_ms", lambda: complete_module._title_terms(s)),
                ("accent_map_ms", lambda: lexicon._accent_map(s.reader())),
                ("vocabulary_ms", lambda: lexicon._vocabulary(s.reader())),
                ("stored_ms", lambda: [leaf.stored_fields(0) for leaf, _ in s.leaf_searchers()]))
        for name, build_once in once:
            t0 = time.perf_counter()
            build_once()
            report.setdefault("first_call", {})[name] = round((time.perf_counter() - t0) * 1000)
        typed = prefixes(s, rng, args.prefixes)
        spelled = queries(s, rng, args.queries)
        timed(lambda p: complete(s, p), typed[:200])  # warm-up
        report["complete"] = stats(timed(lambda p: complete(s, p), typed))
        report["suggest"] = stats(timed(lambda q: suggest(s, q), spelled))
        report["documents"] = s.doc_count()
    report["http_suggest"] = stats(over_http(index_dir, typed))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "complete.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    first = ", ".join(f"{k[:-3]} {v} ms" for k, v in report["first_call"].items())
    print(f"{report['documents']:,} articles; built once per searcher: {first}\n")
    print("| what | n | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|")
    for name in ("complete", "http_suggest", "suggest"):
        r = report[name]
        cells = [r[k] for k in ("n", "p50_ms", "p95_ms", "p99_ms", "max_ms")]
        print(f"| {name} | " + " | ".join(str(c) for c in cells) + " |")


if __name__ == "__main__":
    main()
