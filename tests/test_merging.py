"""Segment merges by concatenating arrays give the segment Whoosh's own merge gives.

* On a multi-segment VNTC sample with deletions, :func:`merge_all` and Whoosh's
  ``optimize`` (its writer's ``add_reader`` and posting pool) write the same files
  (the stored fields: the same values), and the indexes answer alike.
* :func:`small_segments` chooses what Whoosh's ``MERGE_SMALL`` chooses.
* Incremental ``index_paths`` runs with additions, replacements and removals merge
  small segments (never through Whoosh's posting pool); the index then holds the
  same documents, matches and postings as one built at once, and scores alike once
  both are merged whole; Whoosh's matchers on the merged segment agree with the
  arrays the fast scorer reads.
* A segment of another codec is refused with a clear message; a merge that fails
  leaves the index as it was.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from whoosh import index, writing
from whoosh import query as wq
from whoosh.fields import ID as WHOOSH_ID
from whoosh.fields import Schema
from whoosh.writing import IndexWriter, PostingPool, SegmentWriter

from search import store
from search.bulk import merging
from search.bulk.builder import SegmentBuilder
from search.bulk.merging import UnmergeableSegment, merge_all, merge_small, small_segments
from search.codec.perdoc import STORED_EXT, STORED_INDEX_EXT
from search.codec.vncodec import VnCodec, segment_arrays
from search.engine import LocalEngine
from search.indexer import index_paths
from search.query import parse, run
from search.schema import ID, MATCH_FIELD, TITLE, build_schema
from tests import test_bulk_builder as builder_tests
from tests import test_crash as crash
from tests.conftest import vntc_documents, vntc_records
from tests.same_as_whoosh import QUERIES, same_ranking

SIZES = (400, 30, 250, 12, 300, 8)


def build_segments(docs: list[dict], target: Path) -> index.Index:
    """Builder segments of :data:`SIZES` documents, every 13th document deleted."""
    target.mkdir()
    ix = index.create_in(target, build_schema())
    start = 0
    for size in SIZES:
        builder = SegmentBuilder(ix.storage, ix.schema, indexname=ix.indexname,
                                 codec=VnCodec())
        for doc in docs[start:start + size]:
            builder.add_document(doc)
        start += size
        ix.writer(codec=VnCodec()).commit(mergetype=builder_tests.appending(builder.finish()))
    with ix.writer(codec=VnCodec()) as writer:
        writer.merge = False
        for doc in docs[5:start:13]:
            writer.delete_by_term(ID, doc[ID])
    return ix


@pytest.fixture(scope="module")
def merged_twins(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The same segments merged by Whoosh and by :func:`merge_all`."""
    tmp = tmp_path_factory.mktemp("merging")
    docs = vntc_documents(tmp, sum(SIZES))
    whoosh_ix = build_segments(docs, tmp / "whoosh")
    shutil.copytree(tmp / "whoosh", tmp / "arrays")
    arrays_ix = index.open_dir(tmp / "arrays")
    with arrays_ix.reader() as reader:
        assert len(reader.leaf_readers()) == len(SIZES) and reader.has_deletions()
    whoosh_ix.writer(codec=VnCodec()).commit(optimize=True)
    arrays_ix.writer(codec=VnCodec()).commit(mergetype=merge_all())
    return {"whoosh": whoosh_ix, "arrays": arrays_ix}


@pytest.mark.slow
def test_merge_writes_the_segment_whoosh_merges(merged_twins: dict) -> None:
    whoosh_files = builder_tests.segment_files(merged_twins["whoosh"])
    array_files = builder_tests.segment_files(merged_twins["arrays"])
    assert len(whoosh_files) == len(array_files) == 1
    a, b = whoosh_files[0], array_files[0]
    assert sorted(a) == sorted(b)
    # Whoosh's merge reorders each stored dict's fields: the stored blocks (and so
    # their offsets) differ in bytes, not in values (compared below).
    stored = {STORED_EXT.lstrip("."), STORED_INDEX_EXT.lstrip(".")}
    for ext in set(a) - stored:
        assert a[ext] == b[ext], ext
    with merged_twins["whoosh"].reader() as x, merged_twins["arrays"].reader() as y:
        assert not y.has_deletions() and y.doc_count() == x.doc_count()
        assert list(y.all_stored_fields()) == list(x.all_stored_fields())


@pytest.mark.slow
def test_merged_segment_answers_as_whoosh_merged_one(merged_twins: dict) -> None:
    builder_tests.assert_same_answers(merged_twins["whoosh"], merged_twins["arrays"])


class Sized:
    """A stand-in segment: only its size matters to the choice."""

    def __init__(self, n: int, docs: int) -> None:
        self.n, self.docs = n, docs

    def doc_count_all(self) -> int:
        return self.docs

    def close(self) -> None:
        """(Whoosh closes the reader it opened; here the reader is the segment.)"""

    def __repr__(self) -> str:
        return f"Sized({self.n}, {self.docs})"


class Recording:
    """What Whoosh's MERGE_SMALL needs of a writer, recording what it merges."""

    storage = schema = None

    def __init__(self) -> None:
        self.merged: list[Sized] = []

    def add_reader(self, reader: Sized) -> None:
        self.merged.append(reader)


def test_small_segments_chooses_what_whoosh_merge_small_chooses(monkeypatch) -> None:
    # MERGE_SMALL opens a reader of each segment it merges: record the segment.
    monkeypatch.setattr("whoosh.reading.SegmentReader",
                        type("Opened", (), {"__new__": lambda cls, st, sc, seg: seg}))
    rng = random.Random(18)
    merges = 0
    for trial in range(400):
        count = rng.randrange(0, 25)
        top = rng.choice((20, 100, 2000))
        segments = [Sized(k, rng.randrange(0, top)) for k in range(count)]
        writer = Recording()
        kept_by_whoosh = writing.MERGE_SMALL(writer, list(segments))
        chosen, kept = small_segments(segments)
        assert chosen == writer.merged, trial
        assert kept == kept_by_whoosh, trial
        merges += bool(chosen)
    assert 50 < merges < 350  # both outcomes were tried


# ------------------------------------------------------------------ incremental runs

INITIAL = 300
PER_RUN = 8
RUNS = 9


def write_archive(path: Path, lines: list[str]) -> None:
    path.write_text("".join(lines), encoding="utf-8")


def edited(line: str) -> str:
    """The same article with a changed text (so the run replaces it)."""
    obj = json.loads(line)
    obj["text"] += "\nCập nhật: bài viết đã được sửa."
    return json.dumps(obj, ensure_ascii=False) + "\n"


@pytest.fixture(scope="module")
def incremental(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """An index grown by small runs (new, replaced and removed articles each time),
    and one built at once from the final archive; Whoosh's posting pool and
    ``add_reader`` are never used meanwhile."""
    tmp = tmp_path_factory.mktemp("incremental")
    pool = INITIAL + PER_RUN * RUNS
    lines = vntc_records(pool)
    archive = tmp / "archive.jsonl"
    live = lines[:INITIAL]
    index_dir = tmp / "grown"
    rng = random.Random(7)
    segment_counts = []
    with never_pooled():
        write_archive(archive, live)
        index_paths(index_dir, [archive], procs=1)
        for run_no in range(RUNS):
            new = lines[INITIAL + run_no * PER_RUN:INITIAL + (run_no + 1) * PER_RUN]
            replace = set(rng.sample(range(len(live)), 2))
            remove = set(rng.sample(sorted(set(range(len(live))) - replace), 1))
            live = [edited(line) if k in replace else line
                    for k, line in enumerate(live) if k not in remove] + new
            write_archive(archive, live)
            summary = index_paths(index_dir, [archive], procs=1)
            assert (summary.added, summary.updated, summary.removed) == (PER_RUN, 2, 1)
            with store.open_index(index_dir).reader() as reader:
                segment_counts.append(len(reader.leaf_readers()))
        gone = json.loads(live[3])["id"]
        assert LocalEngine(index_dir).delete([gone]) == 1  # a deletion's commit merges too
        live = live[:3] + live[4:]
    write_archive(archive, live)
    at_once = tmp / "at-once"
    index_paths(at_once, [archive], procs=1)
    yield {"grown": index_dir, "at_once": at_once, "segment_counts": segment_counts,
           "ids": [json.loads(line)["id"] for line in live]}


class never_pooled:
    """Fail any use of Whoosh's per-posting merge while inside (a test spy)."""

    def __enter__(self) -> None:
        self.patch = pytest.MonkeyPatch()

        def refuse(*args: object, **kwargs: object) -> None:
            raise AssertionError("a merge went through Whoosh's posting pool")

        self.patch.setattr(PostingPool, "add", refuse)
        self.patch.setattr(SegmentWriter, "add_reader", refuse)

    def __exit__(self, *exc: object) -> None:
        self.patch.undo()


def stored_by_id(index_dir: Path) -> dict[str, dict]:
    with store.open_index(index_dir).reader() as reader:
        return {fields[ID]: fields for fields in reader.all_stored_fields()}


def postings_by_id(index_dir: Path, terms: list[tuple[str, bytes]]) -> dict:
    """Per term: (article id, weight, value: frequency or positions) of each live
    posting, by id."""
    out = {}
    with store.open_index(index_dir).searcher() as searcher:
        for fieldname, btext in terms:
            found = []
            for leaf, _ in searcher.reader().leaf_readers():
                if (fieldname, btext) not in leaf:
                    continue
                matcher = leaf.postings(fieldname, btext)
                while matcher.is_active():
                    doc = matcher.id()
                    found.append((leaf.stored_fields(doc)[ID], matcher.weight(),
                                  matcher.value()))
                    matcher.next()
            out[(fieldname, btext)] = sorted(found)
    return out


@pytest.mark.slow
def test_small_runs_merge_their_segments(incremental: dict) -> None:
    counts = incremental["segment_counts"]
    # One segment per run, until the small ones merge (Whoosh's rule: five under 55).
    assert max(counts) <= 6 and any(b < a for a, b in zip(counts, counts[1:], strict=False))
    assert sorted(stored_by_id(incremental["grown"])) == sorted(incremental["ids"])


@pytest.mark.slow
def test_grown_index_holds_what_one_built_at_once_holds(incremental: dict) -> None:
    grown, at_once = incremental["grown"], incremental["at_once"]
    assert stored_by_id(grown) == stored_by_id(at_once)
    with store.open_index(at_once).reader() as reader:
        terms = [(MATCH_FIELD, t) for t in reader.lexicon(MATCH_FIELD)][::97]
        terms += [(TITLE, t) for t in reader.lexicon(TITLE)][::53]
    assert len(terms) > 50
    assert postings_by_id(grown, terms) == postings_by_id(at_once, terms)
    for text in ("hà nội", "kinh tế việt nam", '"uy ban nhan dan"', "bóng đá", "title:hà"):
        totals = []
        for index_dir in (grown, at_once):
            with store.open_index(index_dir).searcher() as searcher:
                totals.append(run(searcher, text, limit=10).total)
        assert totals[0] == totals[1] > 0, text


def ranked_ids(index_dir: Path, text: str) -> list[tuple[float, str]]:
    with store.open_index(index_dir).searcher() as searcher:
        found = run(searcher, text, limit=40)
        return sorted((-round(h.score, 6), h.id) for h in found.hits)


@pytest.mark.slow
def test_grown_and_at_once_indexes_score_alike_once_merged_whole(
        incremental: dict, tmp_path: Path) -> None:
    """Deleted documents still count in their segments' statistics; merged whole,
    both indexes hold the same documents and so score them alike, hit for hit.
    (Unaccented queries of several words are left out: their probable readings are
    counted in samples of articles spread by document number, and the two indexes
    number their articles in different orders.)"""
    copies = []
    for name in ("grown", "at_once"):
        shutil.copytree(incremental[name], tmp_path / name)
        ix = store.open_index(tmp_path / name)
        ix.writer(codec=VnCodec()).commit(mergetype=merge_all())
        copies.append(tmp_path / name)
    for text in ("hà nội", "kinh tế việt nam", '"uy ban nhan dan"', "bóng đá", "title:hà",
                 "người dân", "nguoi", "chính phủ OR quốc hội"):
        grown, at_once = (ranked_ids(c, text) for c in copies)
        assert grown == at_once and grown, text


@pytest.mark.slow
def test_whoosh_matchers_on_merged_segments_agree_with_the_arrays(
        incremental: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    with store.open_index(incremental["grown"]).searcher() as searcher:
        for text in QUERIES:
            same_ranking(searcher, parse(text), monkeypatch)
        for leaf, _ in searcher.reader().leaf_readers():
            arrays = segment_arrays(leaf)
            assert arrays is not None
            try:
                for btext in list(leaf.lexicon(MATCH_FIELD))[::211]:
                    ids, weights = arrays.postings_arrays(MATCH_FIELD, btext)
                    matcher = leaf.postings(MATCH_FIELD, btext)
                    seen = []
                    while matcher.is_active():
                        seen.append((matcher.id(), matcher.weight()))
                        matcher.next()
                    live = ~np.isin(ids, arrays.deleted_docs())
                    assert seen == list(zip(ids[live].tolist(), weights[live].tolist(),
                                            strict=True))
            finally:
                arrays.close()


# ------------------------------------------------------------------ refusals, failures


def test_a_segment_of_another_codec_is_refused(tmp_path: Path) -> None:
    ix = index.create_in(tmp_path, Schema(id=WHOOSH_ID(stored=True)))
    with ix.writer() as writer:  # Whoosh's default codec
        writer.add_document(id="a")
    with ix.reader() as reader:
        segments = [reader.segment()]
    with pytest.raises(UnmergeableSegment, match="vnsearch index --rebuild"):
        merging.merge_segments(ix.storage, ix.schema, segments, indexname=ix.indexname)


def six_small_segments(target: Path) -> index.Index:
    """Six builder segments of two documents each (five of them merge on commit)."""
    docs = [{ID: f"d{k}", TITLE: f"bài {k} hà nội", MATCH_FIELD: f"bai {k} ha noi"}
            for k in range(12)]
    ix = index.create_in(target, build_schema())
    for k in range(0, 12, 2):
        builder = SegmentBuilder(ix.storage, ix.schema, indexname=ix.indexname, codec=VnCodec())
        for doc in docs[k:k + 2]:
            builder.add_document(doc)
        ix.writer(codec=VnCodec()).commit(mergetype=builder_tests.appending(builder.finish()))
    return ix


def test_the_spy_catches_whoosh_merges(tmp_path: Path) -> None:
    """(So the incremental runs above, which pass under it, merged without the pool.)"""
    ix = six_small_segments(tmp_path)
    writer = ix.writer(codec=VnCodec())
    with never_pooled(), pytest.raises(AssertionError, match="posting pool"):
        writer.commit()  # Whoosh's MERGE_SMALL
    writer.cancel()


def test_a_failed_merge_leaves_the_index_as_it_was(tmp_path: Path, monkeypatch) -> None:
    ix = six_small_segments(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    generation = ix.latest_generation()

    def broken(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(merging, "write_postings", broken)
    writer: IndexWriter = ix.writer(codec=VnCodec())
    with pytest.raises(OSError):
        writer.commit(mergetype=merge_small())
    writer.cancel()
    store.sweep(tmp_path)
    assert ix.latest_generation() == generation
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    with ix.searcher() as searcher:
        assert len(searcher.search(wq.Term(MATCH_FIELD, "ha"), limit=None)) == 12
    monkeypatch.undo()
    ix.writer(codec=VnCodec()).commit(mergetype=merge_small())
    with ix.reader() as reader:  # five of the six merged (Whoosh's rule: five under 55)
        assert len(reader.leaf_readers()) == 2 and reader.doc_count() == 12


# ------------------------------------------------------------------ killed while merging

MERGE_STEP = 120
MERGE_SEGMENTS = 12  # Whoosh's rule merges twelve segments of 120 (under fib(16) = 1,597)
KILLS = 4


@pytest.mark.slow
def test_killed_while_merging_keeps_the_last_commit(tmp_path: Path) -> None:
    """SIGKILL at random moments of a commit that merges twelve segments: the index
    holds exactly the last commit's articles (old or new), opens, and the next run
    completes the work and leaves no unlisted segment file."""
    lines = vntc_records(MERGE_STEP * (MERGE_SEGMENTS + 1))
    archive = tmp_path / "archive" / "vntc.jsonl"
    archive.parent.mkdir()
    base = tmp_path / "base"
    for k in range(1, MERGE_SEGMENTS + 1):
        write_archive(archive, lines[:k * MERGE_STEP])
        index_paths(base, [archive.parent], procs=1)
    before = crash.articles(base)
    write_archive(archive, lines)
    rng = random.Random(2718)
    outcomes = []
    for trial in range(KILLS + 1):
        index_dir = tmp_path / f"trial{trial}"
        shutil.copytree(base, index_dir)
        log = tmp_path / f"trial{trial}.log"
        proc = crash.start("index", archive.parent, "--index", index_dir, "--procs", 1, "-v",
                           log=log)
        if trial < KILLS:
            crash.wait_for(log, "committing", proc)
            time.sleep(rng.uniform(0.0, 0.6))
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=120)
        found = crash.articles(index_dir)
        assert found == before or len(found) == len(lines), trial
        outcomes.append(found == before)
        again = index_paths(index_dir, [archive.parent], procs=1)
        assert len(crash.articles(index_dir)) == len(lines) and not again.failed
        with store.open_index(index_dir).reader() as reader:
            listed = {leaf.segment().segment_id() for leaf, _ in reader.leaf_readers()}
            assert len(listed) < MERGE_SEGMENTS  # the small segments merged
        on_disk = {p.name.split(".")[0] for p in index_dir.iterdir()
                   if p.name.startswith("MAIN_") and "." in p.name}
        assert on_disk <= listed, on_disk - listed
    assert outcomes[-1] is False  # the run nobody killed committed
