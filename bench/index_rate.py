"""How fast ``vnsearch index`` builds an index: articles/s, CPU, peak memory.

Runs ``python -m search index ARCHIVE --index DIR --rebuild`` as a child process
and reports its wall time, the CPU time of it and every process it started
(``resource.getrusage(RUSAGE_CHILDREN)``: the writer processes count too), and the
peak of the *summed* resident memory of the whole process tree, sampled from
``/proc`` every 50 ms (``/usr/bin/time`` reports only the largest single process).
The machine's load average before and after is printed too: on a shared machine
CPU time is the steadier figure.

    python bench/index_rate.py bench/work/vntc-10000.jsonl --procs 2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

SAMPLE_SECONDS = 0.05


def tree_rss(root: int) -> int:
    """Resident bytes of *root* and all its descendants (from ``/proc``).

    The tree is walked down from *root* through each thread's ``children`` list, a few
    files a sample; a kernel without those lists gets a scan of every process."""
    if not Path(f"/proc/{root}/task").is_dir():
        return 0
    if not Path(f"/proc/{root}/task/{root}/children").exists():
        return _scanned_tree_rss(root)
    page = os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
            for children in Path(f"/proc/{pid}/task").glob("*/children"):
                todo += [int(child) for child in children.read_text().split()]
        except (OSError, IndexError, ValueError):  # it ended meanwhile
            continue
    return total


def _scanned_tree_rss(root: int) -> int:
    """:func:`tree_rss` from every process's ``stat`` (each names its parent)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        rss[pid] = int(fields[21]) * page
    total = 0
    for pid in rss:
        p = pid
        while p in parents and p != root:
            p = parents[p]
        if p == root:
            total += rss[pid]
    return total


def run_sampled(cmd: list[str], **popen: Any) -> tuple[Any, Any, int, int]:
    """Run *cmd* to its end: ``(stdout, stderr, returncode, peak)``, *peak* being the
    highest summed resident memory of its process tree seen every
    :data:`SAMPLE_SECONDS` (shared pages of forked workers count in each)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, **popen)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(proc.pid))
            time.sleep(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample)
    sampler.start()
    out, err = proc.communicate()
    done.set()
    sampler.join()
    return out, err, proc.returncode, peak


def measure(archive: Path, index_dir: Path, procs: int) -> dict[str, float]:
    """One ``vnsearch index --rebuild`` run, measured."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out, _, returncode, peak = run_sampled(
        [sys.executable, "-m", "search", "index", str(archive), "--index", str(index_dir),
         "--rebuild", "--json", "--procs", str(procs)], env=os.environ)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if returncode:
        raise SystemExit(f"vnsearch index failed ({returncode})")
    summary = json.loads(out)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"articles": summary["documents"], "wall_s": round(wall, 2),
            "cpu_s": round(cpu, 2), "articles_per_s": round(summary["documents"] / wall, 1),
            "peak_rss_mb_all_processes": round(peak / 2**20, 1),
            "index_mb": round(sum(p.stat().st_size for p in index_dir.iterdir()) / 2**20, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archive", type=Path)
    parser.add_argument("--procs", type=int, default=2)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="index-rate-"))
    try:
        load_before = os.getloadavg()[0]
        result = measure(args.archive, workdir / "ix", args.procs)
        result |= {"procs": args.procs, "load_before": round(load_before, 2),
                   "load_after": round(os.getloadavg()[0], 2)}
        print(json.dumps(result))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
