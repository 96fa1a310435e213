"""bench/latency_ab's lockstep mode: both versions answer the same queries in turns."""

from __future__ import annotations

from pathlib import Path

from bench import latency_ab


def test_lockstep_times_every_query_for_both_versions(seed_index: Path,
                                                      monkeypatch) -> None:
    """Two children (here both this checkout) each time every counted query; the
    warm-up queries are not counted."""
    monkeypatch.setattr(latency_ab, "WARM_UP", 2)
    queries = [["ha noi", None], ["bong da", None], ['"viet nam"', None], ["cua", None]]
    both = latency_ab.time_lockstep({"new": latency_ab.REPO, "base": latency_ab.REPO},
                                    {"new": seed_index, "base": seed_index}, queries)
    assert set(both) == {"new", "base"}
    for figures in both.values():
        assert set(figures) == set(latency_ab.FIGURES)
        assert 0 < figures["p50_ms"] <= figures["p99_ms"]


def test_figures_are_percentiles_of_the_times() -> None:
    got = latency_ab.figures([float(t) for t in range(1, 101)])
    assert got["p50_ms"] == 50.5 and got["p95_ms"] == 95 and got["mean_ms"] == 50.5
