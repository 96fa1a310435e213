"""The chunked spill format of Whoosh's posting pool keeps every posting, in order."""

from __future__ import annotations

import random
from pathlib import Path

from whoosh.filedb.filestore import FileStorage
from whoosh.writing import PostingPool

from search import pool


def test_runs_round_trip_and_merge_sorted(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(pool, "CHUNK", 7)  # several chunks per run
    storage = FileStorage(str(tmp_path)).create()
    p = PostingPool(storage, None, limitmb=1)
    p.limit = 2_000  # bytes: spill every ~10 postings
    rng = random.Random(3)
    items = [("text_f", f"w{rng.randrange(50)}".encode(), d, 1.0, b"v") for d in range(300)]
    for item in items:
        p.add(item)
    assert len(p.runs) > 5  # it really spilled
    assert list(p.items()) == sorted(items)
    assert pool.installed()


def test_index_built_with_spills_matches_one_built_in_memory(tmp_path, corpus_copy, monkeypatch) -> None:
    from search import indexer, safe_writer, store
    from search.query import run

    indexer.index_paths(tmp_path / "a", [corpus_copy])
    monkeypatch.setattr(safe_writer, "WRITER_LIMIT_MB", 0.05)  # force many spilled runs
    indexer.index_paths(tmp_path / "b", [corpus_copy])
    results = []
    for name in ("a", "b"):
        with store.open_index(tmp_path / name).searcher() as s:
            results.append([(h.id, round(h.score, 6)) for h in run(s, "dang vien", limit=5).hits])
    assert results[0] == results[1] and len(results[0]) == 5
