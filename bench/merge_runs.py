"""How long incremental ``vnsearch index`` runs take when their commits merge segments.

The first *size* VNTC articles are indexed in *runs* equal steps: run k indexes an
archive holding the first k steps (the earlier articles are unchanged, so they are
skipped; the new step becomes one segment). Whoosh's ``MERGE_SMALL`` rule, which
vnsearch's merges keep, merges the small segments once enough of them pile up: with
20 steps of 500, the 17th run merges the 16 segments before it (8,000 articles).
Each run is ``python -m search index ARCHIVE --index DIR --procs P`` in a child
process; its wall time, CPU time (``RUSAGE_CHILDREN``) and the segments the index
has after it are reported, and the runs that merged are marked.

    python bench/merge_runs.py --size 10000 --runs 20
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from whoosh import index

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.corpora import VNTC  # noqa: E402


def segments(index_dir: Path) -> int:
    """How many segments the index's current generation lists."""
    with index.open_dir(str(index_dir)).reader() as reader:
        return len(reader.leaf_readers())


def one_run(archive: Path, index_dir: Path, procs: int) -> dict[str, float]:
    """One incremental ``vnsearch index`` run, measured."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "search", "index", str(archive), "--index",
                    str(index_dir), "--procs", str(procs)], check=True,
                   stdout=subprocess.DEVNULL, env=os.environ)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--procs", type=int, default=1)
    parser.add_argument("--out", type=Path, help="write the runs as JSON here")
    args = parser.parse_args()
    with gzip.open(VNTC, "rt", encoding="utf-8") as fh:
        lines = list(itertools.islice(fh, args.size))
    step = len(lines) // args.runs
    work = Path(tempfile.mkdtemp(prefix="merge-runs-"))
    archive, index_dir = work / "vntc.jsonl", work / "index"
    runs = []
    try:
        for k in range(1, args.runs + 1):
            archive.write_text("".join(lines[:k * step]), encoding="utf-8")
            measured = one_run(archive, index_dir, args.procs)
            count = segments(index_dir)
            merged = bool(runs) and count <= runs[-1]["segments"]
            runs.append({"run": k, "articles": k * step, **measured, "segments": count,
                         "merged": merged})
            print(json.dumps(runs[-1]), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary = {"size": args.size, "runs": args.runs, "procs": args.procs,
               "total_wall_s": round(sum(r["wall_s"] for r in runs), 2),
               "total_cpu_s": round(sum(r["cpu_s"] for r in runs), 2),
               "merging_runs": [r for r in runs if r["merged"]],
               "load": os.getloadavg()}
    print(json.dumps(summary))
    if args.out:
        args.out.write_text(json.dumps({"summary": summary, "runs": runs}, indent=1) + "\n",
                            encoding="utf-8")


if __name__ == "__main__":
    main()
