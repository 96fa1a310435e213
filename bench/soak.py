"""Soak test of ``vnsearch serve`` (``load_http.py --soak``): hours of use in minutes.

Why: a server that answers a short burst can still leak memory, fail requests while
``vnsearch index`` commits, or keep serving the old index. So this keeps N clients
busy for a fixed time with a mix of every endpoint, and a third of the way in a
second ``vnsearch index`` process adds the archive's held-back articles plus one
*marker* article whose made-up word no other article has. It reports:

- requests, failures (any non-2xx answer or connection error; the first few are
  printed), requests/s, p50/p95/p99;
- whether results switched to the new generation: ``/stats`` documents reaching the
  full count and the marker query starting to hit, and when;
- the server's RSS (``/proc/PID/status`` VmRSS, VmHWM) after warm-up and at the end,
  and whether growth stayed within the search cache's budget (``posting_arrays.CACHE_BYTES``).

The base index (all but the held-back articles) is built once into ``--work`` and
copied for each run, so reruns skip the long part. Loopback only; stops by itself.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
from bench_core import make_queries, percentile
from load_http import REPO, free_port, wait_ready

from search import store
from search.posting_arrays import CACHE_BYTES
from search.schema import SCHEMA_VERSION

#: The marker article's made-up word: no real article contains it.
MARKER = "soakmarkerqz"
#: How many failures are kept (and printed) in full.
FAILURES_KEPT = 10
#: Seconds a client waits for an answer: longer than the server's own queue limit
#: (``search.generations.POOL_WAIT``), so a busy server answers 503 before a client gives up.
CLIENT_TIMEOUT = 60
#: Seconds between two looks at /stats and the marker query.
WATCH_EVERY = 1.0
MB = 1024 * 1024


@dataclass(frozen=True)
class SoakPlan:
    """What to soak: the archive, where to work, how many articles arrive mid-run."""

    archive: Path
    work: Path
    added: int
    seconds: float
    clients: int


@dataclass
class Tally:
    """Every request's latency and outcome, shared by the client threads."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    failed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, started: float, what: str, status: int | None, detail: str = "") -> None:
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.latencies.append(elapsed)
            if status is None or not 200 <= status < 300:
                self.failed += 1
                if len(self.failures) < FAILURES_KEPT:
                    self.failures.append(f"{what} -> {status}: {detail[:200]}")


# --------------------------------------------------------------------------- archive


def article_files(archive: Path, work: Path) -> list[Path]:
    """The archive's files in a fixed order; a .tar.gz is unpacked into *work* once."""
    if archive.is_file() and archive.name.endswith((".tar.gz", ".tgz")):
        unpacked = work / "unpacked"
        if not (unpacked / ".done").exists():
            shutil.rmtree(unpacked, ignore_errors=True)
            unpacked.mkdir(parents=True)
            with tarfile.open(archive) as tar:
                tar.extractall(unpacked, filter="data")
            (unpacked / ".done").touch()
        archive = unpacked
    return sorted(p for p in archive.rglob("*") if p.is_file() and not p.name.startswith("."))


def link(src: Path, dst: Path) -> None:
    """A hard link (cheap for 35k files), or a copy across filesystems."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def lay_out(files: list[Path], work: Path, added: int) -> tuple[Path, list[Path]]:
    """``work/archive`` with all but the last *added* files; the rest wait in ``work/extra``
    with the marker article. Returns the archive directory and the waiting files."""
    archive, extra = work / "archive", work / "extra"
    for folder in (archive, extra):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    cut = len(files) - added
    for i, src in enumerate(files):
        link(src, (archive if i < cut else extra) / f"{i:06d}_{src.name}")
    (extra / "zz_marker.txt").write_text(
        f"Bài đánh dấu {MARKER}\nBài này đến giữa lúc chạy thử.\n"
        f"Nội dung có từ {MARKER} mà không bài nào khác có.\n",
        encoding="utf-8",
    )
    return archive, sorted(extra.iterdir())


def index(archive: Path, index_dir: Path) -> subprocess.CompletedProcess:
    """One ``vnsearch index`` run in its own process, as a user would start it."""
    return subprocess.run(
        [sys.executable, "-m", "search", "index", str(archive), "--index", str(index_dir),
         "--quiet"],
        capture_output=True, text=True, cwd=REPO, check=False,
    )


def base_index(archive: Path, work: Path, count: int) -> Path:
    """A fresh copy of the index of *archive* (built once, then reused while the
    archive's layout is the same)."""
    cached, stamp = work / "base-ix", work / "base-ix.json"
    key = {"archive": str(archive.resolve()), "documents": count, "schema": SCHEMA_VERSION}
    if not stamp.exists() or json.loads(stamp.read_text()) != key:
        shutil.rmtree(cached, ignore_errors=True)
        started = time.perf_counter()
        done = index(archive, cached)
        if done.returncode not in (0, 1):  # 1: some files failed, reported and skipped
            raise RuntimeError(f"indexing the base archive failed: {done.stderr[-500:]}")
        print(f"built the base index of {count} files in {time.perf_counter() - started:.0f} s",
              flush=True)
        stamp.write_text(json.dumps(key))
    served = work / "ix"
    shutil.rmtree(served, ignore_errors=True)
    shutil.copytree(cached, served)
    return served


# --------------------------------------------------------------------------- load


def server_memory(pid: int) -> dict[str, float]:
    """VmRSS, VmHWM and RssAnon (its private part) of *pid* in MB, from /proc."""
    found: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon"):
                found[key] = round(int(value.split()[0]) / 1024, 1)
    except OSError:
        pass
    return found


def request_mix(titles: list[str], ids: list[str], n: int = 400) -> list[tuple[str, dict]]:
    """*n* requests over every endpoint, weighted like a user: mostly searches."""
    rng = random.Random(7)
    queries = make_queries(titles, n)
    mix: list[tuple[str, dict]] = []
    for i, q in enumerate(queries):
        kind = i % 10
        if kind < 4:
            mix.append(("/search", {"q": q}))
        elif kind == 4:
            mix.append(("/search", {"q": q, "facets": "true", "limit": 20}))
        elif kind == 5:
            mix.append(("/search", {"q": q.split()[0], "sort": "date", "page": 2, "exact": "true"}))
        elif kind == 6:
            mix.append(("/suggest", {"q": q[:4]}))
        elif kind == 7:
            mix.append((f"/articles/{rng.choice(ids)}", {}))
        elif kind == 8:
            mix.append(("/", {"q": q}))
        else:
            mix.append(("/stats", {}))
    return mix


def client_loop(url: str, mix: list[tuple[str, dict]], deadline: float, tally: Tally,
                offset: int) -> None:
    """One client: send the mix in a loop (starting at *offset*) until *deadline*."""
    with httpx2.Client(base_url=url, timeout=CLIENT_TIMEOUT) as client:
        i = offset
        while time.monotonic() < deadline:
            path, params = mix[i % len(mix)]
            i += 1
            started = time.perf_counter()
            try:
                r = client.get(path, params=params)
                tally.record(started, f"GET {path} {params}", r.status_code, r.text)
            except httpx2.HTTPError as exc:
                tally.record(started, f"GET {path} {params}", None, repr(exc))


@dataclass
class Switch:
    """When the server started answering from the new generation."""

    documents: list[tuple[float, int]] = field(default_factory=list)
    marker_hit_at: float | None = None
    rss_mb: list[tuple[float, float]] = field(default_factory=list)  # (seconds, VmRSS)


def look(client: httpx2.Client, t0: float, tally: Tally, switch: Switch, pid: int) -> None:
    """One look at the document count, whether the marker article is found, and RSS."""
    switch.rss_mb.append((round(time.monotonic() - t0, 1), server_memory(pid).get("VmRSS", 0)))
    for path, params in (("/stats", {}), ("/search", {"q": MARKER, "exact": "true"})):
        started = time.perf_counter()
        try:
            r = client.get(path, params=params)
        except httpx2.HTTPError as exc:
            tally.record(started, f"watch {path}", None, repr(exc))
            continue
        tally.record(started, f"watch {path}", r.status_code, r.text)
        if r.status_code != 200:
            continue
        now = round(time.monotonic() - t0, 1)
        if path == "/stats":
            documents = r.json()["documents"]
            if not switch.documents or switch.documents[-1][1] != documents:
                switch.documents.append((now, documents))
        elif r.json()["total"] and switch.marker_hit_at is None:
            switch.marker_hit_at = now


def watch(url: str, pid: int, t0: float, deadline: float, tally: Tally, switch: Switch,
          indexed: threading.Event) -> None:
    """Look every second until the soak ends, and once more after the mid-run index."""
    with httpx2.Client(base_url=url, timeout=CLIENT_TIMEOUT) as client:
        while time.monotonic() < deadline:
            look(client, t0, tally, switch, pid)
            time.sleep(WATCH_EVERY)
        indexed.wait()
        look(client, t0, tally, switch, pid)


def add_midway(archive: Path, extra: list[Path], index_dir: Path, *, at: float, t0: float,
               outcome: dict, indexed: threading.Event) -> None:
    """At *at* seconds: move the held-back files into the archive and index them."""
    time.sleep(max(0.0, t0 + at - time.monotonic()))
    for src in extra:
        src.rename(archive / src.name)
    outcome["started_s"] = round(time.monotonic() - t0, 1)
    done = index(archive, index_dir)
    outcome.update(ended_s=round(time.monotonic() - t0, 1), exit_code=done.returncode,
                   stderr_tail=done.stderr[-300:])
    indexed.set()


# --------------------------------------------------------------------------- run


def sample_of(index_dir: Path) -> tuple[list[str], list[str]]:
    """Titles (for queries) and ids (for /articles) of the served index."""
    with store.open_index(index_dir).searcher() as s:
        fields = list(s.all_stored_fields())
    return [f["title"] for f in fields if f.get("title")], [f["id"] for f in fields]


def soak(plan: SoakPlan, url: str, pid: int, archive: Path, extra: list[Path],
         index_dir: Path) -> dict:
    """The soak itself: clients, the watcher and the mid-run indexer, then the figures."""
    titles, ids = sample_of(index_dir)
    mix = request_mix(titles, ids)
    for path, params in mix[:40]:  # warm up before the first memory reading
        httpx2.get(url + path, params=params, timeout=30)
    before = server_memory(pid)
    tally, switch, added, indexed = Tally(), Switch(), {}, threading.Event()
    t0 = time.monotonic()
    deadline = t0 + plan.seconds
    threads = [threading.Thread(target=client_loop, args=(url, mix, deadline, tally, i * 37))
               for i in range(plan.clients)]
    watcher = threading.Thread(target=watch,
                               args=(url, pid, t0, deadline, tally, switch, indexed))
    indexer = threading.Thread(target=add_midway, args=(archive, extra, index_dir), kwargs={
        "at": plan.seconds / 3, "t0": t0, "outcome": added, "indexed": indexed})
    for t in [*threads, watcher, indexer]:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    indexer.join()
    watcher.join()
    with store.open_index(index_dir).searcher() as s:
        final = s.doc_count()
    return figures(plan, tally, wall, switch, added, before, server_memory(pid),
                   (len(ids), final))


def figures(plan: SoakPlan, tally: Tally, wall: float, switch: Switch, added: dict,
            before: dict, after: dict, documents: tuple[int, int]) -> dict:
    """The report: counts, latency percentiles, the generation switch, memory."""
    lat = tally.latencies or [0.0]
    base_documents, expected = documents
    growth = after.get("VmRSS", 0) - before.get("VmRSS", 0)
    return {
        "archive": str(plan.archive), "clients": plan.clients, "seconds": round(wall, 1),
        "cores": os.cpu_count(), "requests": len(tally.latencies), "failures": tally.failed,
        "first_failures": tally.failures, "rps": round(len(tally.latencies) / wall, 1),
        "p50_ms": round(statistics.median(lat), 1), "p95_ms": round(percentile(lat, 95), 1),
        "p99_ms": round(percentile(lat, 99), 1),
        "documents_before": base_documents, "documents_expected_after": expected,
        "documents_seen": switch.documents, "marker_hit_at_s": switch.marker_hit_at,
        "mid_run_index": added,
        "switched": expected > base_documents and bool(switch.documents)
        and switch.documents[-1][1] == expected and switch.marker_hit_at is not None,
        "rss_mb_before": before, "rss_mb_after": after, "rss_growth_mb": round(growth, 1),
        "rss_mb_max": max((m for _, m in switch.rss_mb), default=0),
        "rss_mb_every_30s": switch.rss_mb[::30],
        "cache_budget_mb": CACHE_BYTES // MB, "within_budget": growth <= CACHE_BYTES / MB,
    }


def report(result: dict) -> None:
    """The figures as a few readable lines."""
    print(f"soak: {result['archive']}, {result['clients']} clients, {result['seconds']} s, "
          f"{result['cores']} cores")
    print(f"requests {result['requests']}, failures {result['failures']}, "
          f"{result['rps']} req/s, p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, "
          f"p99 {result['p99_ms']} ms")
    for line in result["first_failures"]:
        print(f"  failure: {line}")
    mid = result["mid_run_index"]
    print(f"mid-run index: {mid.get('started_s')}–{mid.get('ended_s')} s, "
          f"exit {mid.get('exit_code')}; documents {result['documents_seen']} "
          f"(expected {result['documents_expected_after']}); "
          f"marker found at {result['marker_hit_at_s']} s; switched: {result['switched']}")
    print(f"server RSS MB before {result['rss_mb_before']}, after {result['rss_mb_after']}, "
          f"growth {result['rss_growth_mb']} MB, max {result['rss_mb_max']} MB "
          f"(cache budget {result['cache_budget_mb']} MB; "
          f"within: {result['within_budget']})")


def run_soak(plan: SoakPlan, out: Path) -> dict:
    """Lay out the archive, index it, serve it, soak it; write *out* and print the figures."""
    plan.work.mkdir(parents=True, exist_ok=True)
    files = article_files(plan.archive, plan.work)
    if not 0 < plan.added < len(files):
        raise SystemExit(f"--added must be between 1 and {len(files) - 1}")
    archive, extra = lay_out(files, plan.work, plan.added)
    index_dir = base_index(archive, plan.work, len(files) - plan.added)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "search", "serve", "--port", str(port), "--index", str(index_dir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO,
    )
    try:
        wait_ready(url, proc)
        result = soak(plan, url, proc.pid, archive, extra, index_dir)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    report(result)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    return result
