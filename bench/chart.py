"""Growth chart of a ``bench/run.py`` results file: latency and throughput vs archive size.

    .venv/bin/python bench/chart.py                         # newest bench/results/run-*.json
    .venv/bin/python bench/chart.py bench/results/run-X.json --out growth.png

Three panels, one line per engine and kind of archive: VNTC (circles) and
generated (squares), drawn apart because the generated archive is denser and its
queries cost more at the same size (baomoi, a single archive, is left out). The
panels: query p50 and p95 with snippets, queries/s, and indexing articles/s. Log
scales, because the engines differ by orders of magnitude. Needs ``matplotlib`` (the
``bench`` extra); ``run.py`` calls :func:`draw` itself when it is installed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


#: The marker of each kind of archive's line.
MARKERS = {"vntc": "o", "generated": "s"}


def series(report: dict, key: str) -> dict[tuple[str, str], list[tuple[int, float]]]:
    """``(engine, kind) -> [(articles, value)]`` sorted by size, growth points only."""
    out: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for size in report["sizes"]:
        kind = size.get("kind") or ("generated" if size.get("generated") else "vntc")
        if kind not in MARKERS:
            continue
        for name, info in size["engines"].items():
            if info.get(key) is not None:
                out.setdefault((name, kind), []).append((size["size"], info[key]))
    return {line: sorted(points) for line, points in out.items()}


def draw(report: dict, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    panels = [
        (axes[0], ("p50_ms", "p95_ms"), "query with snippets, ms (p50 solid, p95 dashed)"),
        (axes[1], ("qps",), "queries/s (one client)"),
        (axes[2], ("articles_per_s",), "indexing, articles/s"),
    ]
    for ax, keys, title in panels:
        for style, key in zip(("-", "--"), keys, strict=False):
            lines = series(report, key)
            colours = {name: f"C{i}" for i, name in enumerate(sorted({n for n, _ in lines}))}
            for (name, kind), points in sorted(lines.items()):
                xs, ys = zip(*points, strict=True)
                label = f"{name}, {kind}" if style == "-" else None
                ax.plot(xs, ys, style, marker=MARKERS[kind], color=colours[name], label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("articles in the archive")
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"vnsearch vs peers — run {report['date']}, {report['machine']}", fontsize=11)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="?", type=Path, help="a run-*.json (default: newest)")
    parser.add_argument("--out", type=Path, default=RESULTS / "growth.png")
    args = parser.parse_args()
    path = args.results or max(RESULTS.glob("run-*.json"), default=None)
    if path is None:
        sys.exit(f"no run-*.json in {RESULTS}; run bench/run.py first")
    print(draw(json.loads(path.read_text(encoding="utf-8")), args.out))


if __name__ == "__main__":
    main()
