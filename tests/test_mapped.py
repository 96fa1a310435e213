"""Compound segments read through one memory map (:mod:`search.codec.mapped`).

Whoosh's compound reader copies each inner file into the process when it is
opened; vnsearch's segments give their inner files as slices of a shared map.
The bytes must be the same, every reading method must agree, and an index whose
segments are read so answers queries as before and can be rebuilt in place.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from whoosh.filedb.compound import CompoundStorage

from search import store
from search.codec.mapped import MappedCompound
from search.codec.vncodec import VnSegment
from search.indexer import index_paths
from search.query import run
from tests.conftest import vntc_records


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("mapped")
    archive = tmp / "vntc.jsonl"
    archive.write_text("".join(vntc_records(600)), encoding="utf-8")
    index_paths(tmp / "index", [archive], procs=1)
    return tmp / "index"


def _segments(index_dir: Path) -> list[VnSegment]:
    ix = store.open_index(index_dir)
    with ix.searcher() as searcher:
        segments = [reader.segment() for reader, _ in searcher.reader().leaf_readers()]
    assert segments and all(isinstance(s, VnSegment) and s.is_compound() for s in segments)
    return segments


def test_inner_files_read_as_whoosh_reads_them(index_dir: Path) -> None:
    ix = store.open_index(index_dir)
    rng = random.Random(3)
    for segment in _segments(index_dir):
        mapped = segment.open_compound_file(ix.storage)
        assert isinstance(mapped, MappedCompound)
        whoosh = CompoundStorage(ix.storage.open_file(segment.make_filename(".seg")))
        try:
            assert sorted(mapped.list()) == sorted(whoosh.list())
            for name in whoosh.list():
                length = whoosh.file_length(name)
                assert mapped.file_length(name) == length
                ours, theirs = mapped.open_file(name), whoosh.open_file(name)
                assert ours.read() == theirs.read()
                for _ in range(20):
                    at = rng.randrange(max(1, length))
                    size = rng.randrange(0, 64)
                    assert ours.get(at, size) == theirs.get(at, size)
                    ours.seek(at)
                    theirs.seek(at)
                    assert (ours.read(size), ours.tell()) == (theirs.read(size), theirs.tell())
                    assert ours.readline() == theirs.readline()
            with pytest.raises(NameError):
                mapped.open_file("missing")
        finally:
            mapped.close()
            whoosh.close()


def test_queries_and_a_rebuild_over_mapped_segments(index_dir: Path, tmp_path: Path) -> None:
    ix = store.open_index(index_dir)
    with ix.searcher() as searcher:
        found = run(searcher, "thanh pho", limit=5, with_snippets=True)
        assert found.total > 0 and all(h.snippets for h in found.hits)
    archive = tmp_path / "again.jsonl"
    archive.write_text("".join(vntc_records(50)), encoding="utf-8")
    summary = index_paths(index_dir, [archive], rebuild=True, procs=1)
    assert summary.documents == 50
