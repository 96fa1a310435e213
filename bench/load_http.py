"""Load test of ``vnsearch serve``: requests/s and latency percentiles by concurrency.

Builds an index of an archive (default: the bundled corpus) in a temporary
directory, starts the server on a free loopback port in a subprocess, and sends a
fixed number of ``/search`` requests (queries drawn from the archive's titles) with
1, 4 and 16 concurrent clients. Loopback only, bounded in count, stops by itself.

    .venv/bin/python bench/load_http.py                       # bundled corpus
    .venv/bin/python bench/load_http.py --archive DIR -n 400  # e.g. unpacked baomoi

Prints a Markdown table and writes ``bench/results/http.json``.

``--soak SECONDS`` instead keeps *--clients* clients busy for that long with a mix of
every endpoint, while a second ``vnsearch index`` adds the archive's last ``--added``
articles (and one marker article) a third of the way in; see :mod:`soak`:

    .venv/bin/python bench/load_http.py --soak 300 --clients 16 \\
        --archive ../shared/corpora/baomoi-2017.tar.gz
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx2

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
sys.path.insert(0, str(REPO / "bench"))

from bench_core import make_queries, percentile  # noqa: E402

from search import store  # noqa: E402
from search.indexer import index_paths  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited early")
        try:
            if httpx2.get(url + "/health", timeout=2).status_code == 200:
                return
        except httpx2.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("server did not become ready")


def load(url: str, queries: list[str], clients: int) -> dict:
    """Send every query once, spread over *clients* threads; time each request."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    todo = iter(queries)

    def worker() -> None:
        nonlocal errors
        with httpx2.Client(base_url=url, timeout=30) as client:
            while True:
                with lock:
                    q = next(todo, None)
                if q is None:
                    return
                started = time.perf_counter()
                r = client.get("/search", params={"q": q, "limit": 10})
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    errors += r.status_code != 200

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {
        "clients": clients,
        "requests": len(latencies),
        "errors": errors,
        "rps": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", type=Path, default=REPO / "corpus",
                        help="a directory, a file, or a .tar.gz of one (unpacked into --work)")
    parser.add_argument("-n", "--requests", type=int, default=300, help="requests per level")
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--soak", type=float, metavar="SECONDS",
                        help="soak mode: this long at --clients clients (one number)")
    parser.add_argument("--added", type=int, default=5440,
                        help="soak: articles held back and indexed mid-run")
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "work" / "soak",
                        help="soak: working directory (unpacked archive, cached base index)")
    parser.add_argument("--out", type=Path, default=RESULTS / "soak.json")
    args = parser.parse_args(argv)
    if args.soak:
        from soak import SoakPlan, run_soak

        plan = SoakPlan(archive=args.archive, work=args.work, added=args.added,
                        seconds=args.soak, clients=int(args.clients.split(",")[-1]))
        run_soak(plan, args.out)
        return

    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "ix"
        summary = index_paths(index_dir, [args.archive])
        with store.open_index(index_dir).searcher() as s:
            titles = [f["title"] for f in s.all_stored_fields() if f.get("title")]
        queries = make_queries(titles, args.requests)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "search", "serve",
             "--port", str(port), "--index", str(index_dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO,
        )
        try:
            wait_ready(url, proc)
            load(url, queries[:20], 1)  # warm up
            rows = [load(url, queries, int(c)) for c in args.clients.split(",")]
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print(f"archive: {args.archive} ({summary.documents} articles); {os.cpu_count()} cores; "
          f"{args.requests} requests per level, top-10 with snippets\n")
    cols = ["clients", "requests", "errors", "rps", "p50_ms", "p95_ms", "p99_ms"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for row in rows:
        print("| " + " | ".join(str(row[c]) for c in cols) + " |")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"archive": str(args.archive), "articles": summary.documents,
           "cores": os.cpu_count(), "levels": rows}
    (RESULTS / "http.json").write_text(json.dumps(out, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
