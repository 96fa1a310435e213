"""A builder that spills runs writes the segment the merge of a segment per run writes.

The builder's postings may go to disk in runs (:meth:`SegmentBuilder.spill`) and be
merged when the segment finishes (:mod:`search.bulk.runs`), instead of each run
becoming a segment that :func:`search.bulk.merging.merge_segments` merges. Both
ways must give the same segment, file by file, whatever the merge's chunks, with
two differences of bytes, not of values:

* a ``place_name`` column row of an article without places: the merge copies its
  empty list (one byte), the builder leaves the row to the column's default (no
  byte), as Whoosh's own writer does; both read as ``[]``;
* stored fields, when a run holds an odd number of documents: they are pickled two
  documents a block, and a value two documents share (their ``root``) is pickled
  once a block; the merge re-blocks documents it read from different blocks, whose
  values are no longer one object. Runs of the indexer end at a batch's end
  (:data:`search.bulk.workers.BATCH_ARTICLES`, even) unless an article failed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from whoosh import index

from search.bulk import runs
from search.bulk.builder import SegmentBuilder
from search.bulk.merging import merge_all
from search.codec.perdoc import STORED_EXT, STORED_INDEX_EXT
from search.codec.vncodec import VnCodec
from search.schema import PLACE_NAME, build_schema
from tests import test_bulk_builder as builder_tests
from tests.conftest import vntc_documents

RUNS = (120, 7, 90, 160)
PLACE_COLUMN = f"{PLACE_NAME}.vcl"
STORED = {STORED_EXT.lstrip("."), STORED_INDEX_EXT.lstrip(".")}


def new_index(target: Path) -> index.Index:
    target.mkdir()
    return index.create_in(target, build_schema())


def commit(ix: index.Index, segment) -> None:
    ix.writer(codec=VnCodec()).commit(mergetype=builder_tests.appending(segment))


def builder(ix: index.Index) -> SegmentBuilder:
    return SegmentBuilder(ix.storage, ix.schema, indexname=ix.indexname, codec=VnCodec())


def merged_segments(docs: list[dict], target: Path) -> index.Index:
    """A segment per run, merged into one."""
    ix = new_index(target)
    start = 0
    for size in RUNS:
        one = builder(ix)
        for doc in docs[start:start + size]:
            one.add_document(doc)
        start += size
        commit(ix, one.finish())
    ix.writer(codec=VnCodec()).commit(mergetype=merge_all())
    return ix


def spilled_runs(docs: list[dict], target: Path) -> index.Index:
    """One builder, its postings spilled after each run."""
    ix = new_index(target)
    one = builder(ix)
    start = 0
    for size in RUNS:
        for doc in docs[start:start + size]:
            one.add_document(doc)
        start += size
        one.spill()
    commit(ix, one.finish())
    return ix


def place_names(ix: index.Index) -> list[list[bytes]]:
    with ix.reader() as reader:
        return list(reader.column_reader(PLACE_NAME, translate=False))


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    found = vntc_documents(tmp_path_factory.mktemp("runs-docs"), sum(RUNS))
    assert len(found) >= sum(RUNS)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("chunk", [runs.CHUNK_POSTINGS, 500, 1])
def test_spilled_runs_make_the_merged_segment(docs: list[dict], tmp_path: Path, chunk: int,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runs, "CHUNK_POSTINGS", chunk)
    merged = merged_segments(docs, tmp_path / "merged")
    spilled = spilled_runs(docs, tmp_path / "spilled")
    [a], [b] = builder_tests.segment_files(merged), builder_tests.segment_files(spilled)
    assert sorted(a) == sorted(b)
    for ext in set(a) - {PLACE_COLUMN, *STORED}:
        assert a[ext] == b[ext], ext
    assert place_names(merged) == place_names(spilled)
    with merged.reader() as x, spilled.reader() as y:
        assert list(y.all_stored_fields()) == list(x.all_stored_fields())
    assert [] in place_names(spilled)  # some article without a place was compared
    assert not [p for p in (tmp_path / "spilled").iterdir() if ".run" in p.name]
    builder_tests.assert_same_answers(merged, spilled)


@pytest.mark.slow
def test_one_spilled_run_is_the_unspilled_segment(docs: list[dict], tmp_path: Path) -> None:
    """A builder that spilled once and got nothing more writes what it would have
    written without spilling (Whoosh's writer's segment)."""
    plain, spilled = new_index(tmp_path / "plain"), new_index(tmp_path / "spilled")
    for ix, spill in ((plain, False), (spilled, True)):
        one = builder(ix)
        for doc in docs[:RUNS[0]]:
            one.add_document(doc)
        if spill:
            one.spill()
            one.spill()  # nothing new: no second run
        commit(ix, one.finish())
    assert builder_tests.segment_files(plain) == builder_tests.segment_files(spilled)
