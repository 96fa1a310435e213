"""The indexer's builders (:mod:`search.bulk.workers`): a builder that spilled several
runs merges them into its segment (one segment per ``MERGED_AT_MOST`` runs) before
it reports, in its own process.

A big run spills a run per ``SEGMENT_WORDS`` words; as separate segments, all of
VNTC made eight and queries paid for each. Here the budget is made small so 600
VNTC articles make a run per batch: six, or three per builder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from search import store
from search.bulk import workers
from search.indexer import index_paths
from search.query import run
from tests.conftest import vntc_records

QUERIES = ["kinh tế", "thành phố hồ chí minh", "bong da", '"ủy ban nhân dân"']


def _answers(index_dir: Path) -> list[tuple[int, dict[str, float]]]:
    with store.open_index(index_dir).searcher() as searcher:
        out = []
        for q in QUERIES:
            found = run(searcher, q, limit=20)
            out.append((found.total, {h.id: h.score for h in found.hits}))
        return out


def _segment_files(index_dir: Path) -> tuple[int, set[str]]:
    ix = store.open_index(index_dir)
    with ix.searcher() as searcher:
        segments = [reader.segment() for reader, _ in searcher.reader().leaf_readers()]
    listed = {name for s in segments for name in s.list_files(ix.storage)}
    on_disk = {p.name for p in index_dir.iterdir() if p.suffix == ".seg"}
    return len(segments), on_disk - listed


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("workers") / "vntc.jsonl"
    path.write_text("".join(vntc_records(600)), encoding="utf-8")
    return path


@pytest.mark.parametrize(("procs", "at_most"), [(1, 1000), (2, 1000), (1, 2), (2, 2)])
def test_each_builder_merges_its_segments(archive: Path, tmp_path: Path, procs: int,
                                          at_most: int,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """One segment per builder, or per *at_most* of its segments."""
    whole = tmp_path / "whole"
    index_paths(whole, [archive], procs=procs)
    monkeypatch.setattr(workers, "SEGMENT_WORDS", 20_000)  # a run per batch of 100
    monkeypatch.setattr(workers, "MERGED_AT_MOST", at_most)
    cut = tmp_path / "cut"
    summary = index_paths(cut, [archive], procs=procs)
    assert summary.added == 600
    segments, stray = _segment_files(cut)
    assert not stray
    if at_most > 100:
        assert segments == procs
    else:  # each builder spilled more than at_most runs: more than one segment each
        assert segments > procs
    # The same matches, the same top hits; scores within 1%: a merged segment
    # keeps each document's quantised field length (as Whoosh's merge does), so
    # the average length BM25 divides by moves a little.
    for (total, scores), (whole_total, whole_scores) in zip(
            _answers(cut), _answers(whole), strict=True):
        assert total == whole_total
        assert scores.keys() == whole_scores.keys()
        assert all(scores[i] == pytest.approx(whole_scores[i], rel=0.01) for i in scores)
