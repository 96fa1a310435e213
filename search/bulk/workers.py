"""New articles written as whole segments, on both cores: the indexer's builders.

The indexing run (:mod:`search.indexer`) decides which articles to add; it hands
them here in batches. Each batch goes to a worker process (or, with one process,
is built in this one), which extracts the articles' metadata, turns them into
Whoosh documents and feeds a :class:`~search.bulk.builder.SegmentBuilder`;
a builder that holds :data:`SEGMENT_WORDS` words spills them to a run file
(:mod:`search.bulk.runs`), so memory stays bounded by that budget and the batches
queued; its segment merges its runs when it finishes.

Nothing is committed here: :meth:`Builders.finish` returns the finished segments,
and the run commits them through Whoosh's own writer (its lock, its deletions, its
table of contents) with :func:`search.bulk.merging.merge_small` as the merge
policy. Segment files that never reach a commit are swept like any abandoned
writer's (:func:`search.store.sweep`).
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from pathlib import Path

from whoosh.codec.base import Segment
from whoosh.index import Index

from search import documents
from search.archive import Failure, Record
from search.bulk.builder import SegmentBuilder
from search.codec.vncodec import VnCodec
from search.safe_writer import IndexWriteError

#: Words (postings before grouping) a builder collects before it spills them to a
#: run: ~8 bytes each while collecting, ~4× that while grouping. With 12M, all of
#: VNTC peaked at 999 MB over every process (the builders' grouping, then their
#: merges reading the segments); with 8M, 858 MB.
SEGMENT_WORDS = 8_000_000
#: Runs a builder's segment merges at most (all of VNTC makes about six per
#: builder); then the segment is finished and another started: a merge holds
#: every run's term list, and on a much bigger archive one merge of everything
#: would hold them all.
MERGED_AT_MOST = 8
#: Articles sent to a worker at a time.
BATCH_ARTICLES = 100
#: Batches queued per worker: how far reading may run ahead of building.
QUEUED_BATCHES = 2
#: Seconds between checks that the workers are alive while waiting for them.
POLL_SECONDS = 0.5

#: One article to add: its record and the root (PATH) it is indexed under.
Job = tuple[Record, str]


@dataclass
class Built:
    """What building produced: the segments, and the articles that failed
    (their ids, and the failure to report)."""

    segments: list[Segment] = field(default_factory=list)
    failures: list[tuple[str, Failure]] = field(default_factory=list)


class BatchBuilder:
    """Builds segments from batches of articles, in whatever process it runs in."""

    def __init__(self, ix: Index) -> None:
        self.ix = ix
        self.builder: SegmentBuilder | None = None
        self.built = Built()

    def add_batch(self, batch: list[Job]) -> None:
        """Extract and add each article; write a segment when the budget is reached."""
        for record, root in batch:
            try:
                article = documents.analyse(record)
            except MemoryError:
                raise  # the machine's trouble, not this file's: stop, keep the old index
            except Exception as exc:  # a bug in extraction must not stop the run
                self.built.failures.append(
                    (record.id, Failure(record.path, f"metadata extraction failed: {exc!r}")))
                continue
            if self.builder is None:
                self.builder = SegmentBuilder(self.ix.storage, self.ix.schema,
                                              indexname=self.ix.indexname, codec=VnCodec())
            self.builder.add_document(documents.to_document(record, root, article))
        if self.builder is not None and self.builder.word_count >= SEGMENT_WORDS:
            self.builder.spill()
            if len(self.builder.runs) >= MERGED_AT_MOST:
                self.built.segments.append(self.builder.finish())
                self.builder = None

    def finish(self) -> Built:
        """Write the last segment; everything built.

        A big run spills a run per :data:`SEGMENT_WORDS`, and its builder's
        segment merges them (:mod:`search.bulk.runs`): separate segments, eight
        for all of VNTC at 12M words each, made a query's p50 1.37× that of a
        two-segment index (`bench/results/latency_ab_84k_*`). Each worker merges
        its own, so both cores share the merging and the run leaves one segment
        per builder — one per :data:`MERGED_AT_MOST` of its runs, so that a merge
        reads a bounded amount whatever the archive.
        """
        if self.builder is not None:
            self.built.segments.append(self.builder.finish())
            self.builder = None
        return self.built


def _work(ix: Index, jobs: multiprocessing.Queue[list[Job] | None],
          results: multiprocessing.Queue[Built | BaseException]) -> None:
    """A worker process: build from batches until the ``None`` that ends them."""
    builder = BatchBuilder(ix)
    try:
        while (batch := jobs.get()) is not None:
            builder.add_batch(batch)
        results.put(builder.finish())
    except BaseException as exc:  # reported to the parent, which stops the run
        results.put(exc)
        raise SystemExit(1) from exc


class Builders:
    """The run's builders: *procs* worker processes, or this process for one."""

    def __init__(self, ix: Index, index_dir: Path, procs: int, *,
                 check: Callable[[], None]) -> None:
        """*check* is called while waiting for the workers: it raises to stop the
        run (Ctrl-C, see :meth:`search.interrupt.Guard.check`)."""
        self.index_dir = index_dir
        self.check = check
        self.batch: list[Job] = []
        self.ix = ix
        self.procs = procs
        self.local = BatchBuilder(ix) if procs <= 1 else None
        self.workers: list[BaseProcess] = []
        context = multiprocessing.get_context("fork")
        self.context = context
        # A queue per worker, batches dealt in turn: which articles make which
        # segment, and so every document number, is the same from run to run.
        self.jobs: list[multiprocessing.Queue[list[Job] | None]] = [
            context.Queue(QUEUED_BATCHES) for _ in range(procs)]
        for jobs in self.jobs:
            # A stopped run must not hang at exit flushing batches no worker will
            # read; a finished one has had every batch read (the workers answered).
            jobs.cancel_join_thread()
        self.results: list[multiprocessing.Queue[Built | BaseException]] = [
            context.Queue() for _ in range(procs)]
        self.turn = 0

    def _start(self) -> None:
        """Start the worker processes (with the first batch: a run that adds
        nothing starts none)."""
        for jobs, results in zip(self.jobs, self.results, strict=True):
            worker = self.context.Process(target=_work, args=(self.ix, jobs, results),
                                          daemon=True)
            worker.start()
            self.workers.append(worker)

    def add(self, record: Record, root: str) -> None:
        """Queue one article to add."""
        self.batch.append((record, root))
        if len(self.batch) >= BATCH_ARTICLES:
            self._send()

    def _send(self) -> None:
        batch, self.batch = self.batch, []
        if self.local is not None:
            self.local.add_batch(batch)
            return
        if not self.workers:
            self._start()
        self._put(batch)

    def _put(self, batch: list[Job]) -> None:
        """Deal a batch to the next worker in turn."""
        self._put_to(self.turn, batch)
        self.turn = (self.turn + 1) % len(self.jobs)

    def _put_to(self, worker: int, batch: list[Job] | None) -> None:
        while True:
            try:
                self.jobs[worker].put(batch, timeout=POLL_SECONDS)
                return
            except queue.Full:
                self._check_alive()

    def finish(self) -> Built:
        """Build what is left and wait for every worker; their segments, in order."""
        if self.batch:
            self._send()
        if self.local is not None:
            return self.local.finish()
        built = Built()
        if not self.workers:
            return built
        for worker in range(len(self.workers)):
            self._put_to(worker, None)
        for worker in range(len(self.workers)):
            part = self._result(worker)
            built.segments += part.segments
            built.failures += part.failures
        for process in self.workers:
            process.join()
        return built

    def _result(self, worker: int) -> Built:
        while True:
            try:
                part = self.results[worker].get(timeout=POLL_SECONDS)
            except queue.Empty:
                self._check_alive()
                continue
            if isinstance(part, BaseException):
                raise self._reported(part)
            return part

    def _check_alive(self) -> None:
        """Stop the run when asked to, or when a worker has died (with the error it
        reported if any)."""
        self.check()
        for process, results in zip(self.workers, self.results, strict=True):
            if process.exitcode in (None, 0):
                continue
            try:
                part = results.get(timeout=POLL_SECONDS)
            except queue.Empty:
                raise self._failed(f"exit code {process.exitcode}") from None
            if isinstance(part, BaseException):
                raise self._reported(part)
            raise self._failed(f"exit code {process.exitcode}")

    def _reported(self, error: BaseException) -> BaseException:
        """The exception to stop the run with, for one a worker reported: a refused
        write as it is (the indexer words it), anything else as a failed worker."""
        if isinstance(error, OSError):
            return error
        failure = self._failed(repr(error))
        failure.__cause__ = error
        return failure

    def _failed(self, reason: str) -> IndexWriteError:
        return IndexWriteError(f"a writer process failed ({reason}) while indexing into "
                               f"'{self.index_dir}'; the index is as it was")
