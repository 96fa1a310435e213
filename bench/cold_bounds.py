"""What the cold median would be if one kind of remembered work were done already.

    .venv/bin/python bench/cold_bounds.py --size 84132            # run.py's 84k index
    .venv/bin/python bench/cold_bounds.py --size 84132 --out bench/results/cold-bounds-84k.md

bench/run.py's cold pass pays, query by query, for what its warm pass finds
remembered. vnsearch remembers two kinds of work, in two places:

* **decoded posting lists and positions** — one cache for the process, shared by
  every searcher on the same segments (:mod:`search.posting_arrays`);
* **answers about how the archive spells words** — the likely readings' span
  counts, which pairs stand together, each word's accented forms — per searcher
  (:mod:`search.lexicon`).

Each repetition runs in a fresh process, on run.py's index and query mix:

1. a new searcher, first pass: run.py's cold pass;
2. the same searcher again: the warm pass;
3. a second new searcher on the same index: its answers start empty, while the
   lists the first one decoded stay in the shared cache ("lists known");
4. the list cache emptied (:func:`search.posting_arrays.configure`), that second
   searcher again: answers known, lists decoded afresh ("answers known");

and SQLite FTS5's cold pass on its index, from a new connection, in the same
process: the ratio the issue's target is on. In passes 3 and 4, what Python itself
remembers (compiled regular expressions) is warm, so they are lower bounds.
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

from bench.engines import Fts5, Vnsearch, records  # noqa: E402
from bench.run import built_point, make_queries, one_pass, point_parser  # noqa: E402
from search import posting_arrays  # noqa: E402

#: The passes, in the order one repetition runs them, and what each row says.
PASSES = {
    "cold": "nothing (bench/run.py's cold pass)",
    "lists known": "the posting lists and positions the mix reads, decoded",
    "answers known": "the answers about spellings (span counts, pairs, accent forms)",
    "warm": "both (the warm pass)",
}


def median_ms(engine: Vnsearch | Fts5, queries: list[tuple[str, str | None]]) -> float:
    """The median milliseconds of one pass over *queries* (timed as run.py times it)."""
    return statistics.median(one_pass(engine, queries))


def one_repetition(workdir: Path, queries: list[tuple[str, str | None]]) -> dict[str, float]:
    """The four vnsearch passes and FTS5's cold pass, in this process."""
    first, second = Vnsearch(workdir), Vnsearch(workdir)
    first.open()
    out = {"cold": median_ms(first, queries), "warm": median_ms(first, queries)}
    second.open()
    out["lists known"] = median_ms(second, queries)
    posting_arrays.configure(posting_arrays.CACHE_BYTES, posting_arrays.CACHE_MOST)
    out["answers known"] = median_ms(second, queries)
    first.close()
    second.close()
    fts = Fts5(workdir)
    fts.open()
    out["fts5 cold"] = median_ms(fts, queries)
    fts.close()
    return out


def report(runs: list[dict[str, float]]) -> str:
    """The markdown table: each pass's median over the repetitions, and its ratio
    to FTS5's cold median."""
    mid = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    fts = mid["fts5 cold"]
    lines = [f"{len(runs)} repetitions, each in a fresh process; medians of their p50s. "
             f"FTS5's cold p50: {fts:.2f} ms (the target, 0.5×: {fts / 2:.2f} ms).", "",
             "| already done when the pass starts | vnsearch p50 ms | × FTS5 cold p50 | each run |",
             "|---|---|---|---|"]
    for key, what in PASSES.items():
        each = " / ".join(f"{r[key]:.2f}" for r in runs)
        lines.append(f"| {what} | {mid[key]:.2f} | {mid[key] / fts:.2f}× | {each} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = point_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    archive, workdir = built_point(args.size, "vnsearch", "fts5.db")
    if args.one:
        queries = make_queries(list(records(archive)), args.queries)
        print(json.dumps(one_repetition(workdir, queries)))
        return
    runs = []
    for n in range(args.repeat):
        print(f"repetition {n + 1} of {args.repeat} …", file=sys.stderr, flush=True)
        done = subprocess.run([sys.executable, __file__, "--one", "--size", str(args.size),
                               "--queries", str(args.queries)],
                              check=True, capture_output=True, text=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    text = report(runs)
    print(text)
    if args.out:
        args.out.write_text(f"# The cold median with one kind of work already done, "
                            f"{args.size:,} VNTC articles\n\n"
                            f"`bench/cold_bounds.py --size {args.size}`\n\n{text}",
                            encoding="utf-8")


if __name__ == "__main__":
    main()
