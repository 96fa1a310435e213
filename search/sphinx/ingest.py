"""Articles into the cluster: the incremental indexing run, and deletions.

The same run as the local indexer's (:mod:`search.indexer`), over the network:
archives are read by :mod:`search.archive` and analysed by
:mod:`search.documents`; every article becomes one row (:mod:`search.sphinx.rows`)
routed to its shard by :func:`search.sphinx.topology.shard_of`. The shard's
content hashes decide what a run does: an unchanged article is skipped, a changed
one replaced, one whose file is gone (under a PATH of this run) deleted, and the
articles of a file that cannot be read are kept, as locally.

Writes are multi-row ``REPLACE`` statements (:data:`BATCH_ROWS` rows) to every live
replica of the shard (:class:`search.sphinx.replicas.ShardWriter`); a batch is
acknowledged only once every live replica has it. A replica that dies during a run
is left behind with a notice and the run goes on; the next run first brings any
replica that missed writes back in line with the one that completed the latest run.

Unlike the local index, a run is not one transaction: batches are acknowledged as
they go, and a run that stops half-way leaves what it acknowledged. The next run
completes it (the hashes say what is missing). The vocabulary kept beside the
cluster (:mod:`search.sphinx.vocabulary`) is updated every
:data:`VOCABULARY_EVERY` articles and whenever the run stops.

One run at a time writes to a cluster (:mod:`search.sphinx.writer_lock`).

Analysis runs in worker processes for big inputs (:mod:`search.sphinx.analysing`),
while this process reads files and each shard's thread sends its batches.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from search import interrupt
from search.archive import Failure, Record, archive_root, read_file, walk
from search.indexer import PARALLEL_THRESHOLD_BYTES, IndexSummary, Progress
from search.sphinx import rows, vocabulary, writer_lock
from search.sphinx.analysing import Analyser, Outcome
from search.sphinx.replicas import (
    BATCH_BYTES,
    MAX_STATEMENT_BYTES,
    Held,
    ShardWriter,
    read_runs,
    record_run,
    run_key,
)
from search.sphinx.rows import WordForms
from search.sphinx.topology import Topology, connect, document_id, shard_of

#: Rows per ``REPLACE`` statement (fewer when they would pass
#: :data:`~search.sphinx.replicas.BATCH_BYTES`).
BATCH_ROWS = 200
#: Articles written between two updates of the vocabulary.
VOCABULARY_EVERY = 5000

#: What one run reads: per PATH, its archive root, its scope and its files.
Plan = list[tuple[Path, Path, list[Path]]]


def index_paths(  # noqa: PLR0913 - the engine seam's index_batch, and the local indexer's
    topology: Topology,
    paths: list[Path],
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
    procs: int | None = None,
    notice: Callable[[str], None] | None = None,
) -> IndexSummary:
    """Index (or re-index) the archives at *paths* into the cluster of *topology*.

    Incremental like :func:`search.indexer.index_paths`; *rebuild* rewrites every
    article of *paths*, removes every other one and recounts the vocabulary.
    *procs* is the number of analysing processes (default: 2 for big inputs, else 1).
    *notice* receives one-line messages (a replica down, a replica repaired).
    """
    started = time.perf_counter()
    plan: Plan = [(archive_root(p), p.resolve(), list(walk(p))) for p in paths]
    if procs is None:
        procs = 2 if _input_bytes(plan) > PARALLEL_THRESHOLD_BYTES else 1
    with interrupt.parent_only() as guard:
        analyser = Analyser(procs)  # forks its workers before any connection or thread
        try:
            run = _Run(topology, rebuild=rebuild, notice=notice or (lambda _message: None))
            try:
                run.start()
                run.feed(plan, analyser=analyser, progress=progress, guard=guard)
                run.remove_gone({str(scope) for _, scope, _ in plan})
                run.finish()
            finally:
                run.close()
        finally:
            analyser.close()
    if progress:
        total = sum(len(files) for _, _, files in plan)
        progress(total, total, len(run.seen), "committed")
    run.summary.seconds = time.perf_counter() - started
    return run.summary


def _input_bytes(plan: Plan) -> int:
    total = 0
    for _, _, files in plan:
        for file in files:
            with contextlib.suppress(OSError):
                total += file.stat().st_size
    return total


def delete(topology: Topology, ids: Iterable[str]) -> int:
    """Remove the articles with these vnsearch ids from every live replica; how many
    the cluster held. An incremental run that still finds their files adds them back."""
    run = _Run(topology, rebuild=False, notice=lambda _message: None)
    try:
        wanted: list[tuple[int, int]] = []
        for writer in run.writers:
            mine = [document_id(i) for i in set(ids)
                    if shard_of(i, len(run.writers)) == writer.number]
            wanted += [(writer.number, searchd_id) for searchd_id in writer.stored(mine)]
        run.remove(wanted)
        run.finish()  # a replica down meanwhile is repaired from one that has the deletions
    finally:
        run.close()
    return len(wanted)


#: Where an article is held: its shard, its searchd id, and what the shard holds of it.
Where = tuple[int, int, Held]


class _Run:
    """One indexing run's connections, pending batches and counts."""

    def __init__(self, topology: Topology, *, rebuild: bool,
                 notice: Callable[[str], None]) -> None:
        self.topology = topology
        self.rebuild = rebuild
        self.notice = notice
        self.summary = IndexSummary(rebuilt=rebuild)
        self.seen: set[str] = set()
        self.existing: dict[str, Where] = {}
        self.delta: Counter[WordForms] = Counter()
        self.unrecorded = 0
        self.new = 0  # articles written that the cluster did not hold
        self.runs: dict[str, int] = {}
        shards = len(topology.shards)
        self.pending: list[list[rows.Row]] = [[] for _ in range(shards)]
        self.pending_bytes = [0] * shards
        #: Per shard, the batch its thread is writing (at most one: batches keep order).
        self.writing: list[Future[tuple[int, Counter[WordForms]]] | None] = [None] * shards
        self.threads = ThreadPoolExecutor(max_workers=shards, thread_name_prefix="ingest")
        self.writers: list[ShardWriter] = []
        self.coordinator = connect(topology.coordinator)
        self.locked = False
        try:
            writer_lock.acquire(self.coordinator, where=topology.url, notice=notice)
            self.locked = True
            self.writers = [ShardWriter(shard, notice) for shard in topology.shards]
        except BaseException:
            self.close()
            raise

    def start(self, *, repair: bool = True) -> None:
        """Repair stale replicas, then read what the cluster holds."""
        self.runs = read_runs(self.coordinator, self._run_keys())
        for writer in self.writers:
            if repair:
                writer.repair(self.runs)
            for searchd_id, held in writer.held().items():
                self.existing[held.doc_id] = (writer.number, searchd_id, held)
        if self.rebuild:
            vocabulary.clear(self.coordinator)

    def _run_keys(self) -> list[str]:
        return [run_key(s.number, n) for s in self.topology.shards for n in s.replicas]

    def feed(self, plan: Plan, *, analyser: Analyser, progress: Progress | None,
             guard: interrupt.Guard) -> None:
        """Add, replace or skip every record of every file (stopping between two
        records on Ctrl-C)."""
        total = sum(len(files) for _, _, files in plan)
        done = 0
        if progress:
            progress(0, total, 0, "indexing")
        for root, scope, files in plan:
            for file in files:
                for item in read_file(file, root):
                    guard.check()
                    if self._wanted(item) and isinstance(item, Record):
                        self._written(analyser.add(item, str(scope)))
                done += 1
                if progress:
                    progress(done, total, len(self.seen), "indexing")
        self._written(analyser.drain())
        for shard in range(len(self.writers)):
            self._flush(shard)
        for shard in range(len(self.writers)):
            self._wait(shard)

    def _wanted(self, item: Record | Failure) -> bool:
        """Whether *item* must be analysed and written; else count it skipped or failed."""
        if isinstance(item, Failure):
            self.summary.failed.append(item)  # keep what the cluster holds of it
            self.seen.add(item.path)
            return False
        if item.id in self.seen:
            self.summary.failed.append(
                Failure(item.path, f"duplicate id '{item.id}' (kept the first)"))
            return False
        self.seen.add(item.id)
        old = self.existing.get(item.id)
        if old is not None and old[2].hash == item.hash and not self.rebuild:
            self.summary.skipped += 1
            return False
        return True

    def _written(self, outcomes: list[tuple[Record, Outcome]]) -> None:
        """Queue analysed rows for their shards; count failures."""
        for record, outcome in outcomes:
            if isinstance(outcome, Failure):
                self.summary.failed.append(outcome)
                continue
            if outcome.size > MAX_STATEMENT_BYTES:
                self.summary.failed.append(Failure(record.path, (
                    f"article '{record.id}' too large for the cluster ({outcome.size:,} "
                    f"bytes as a row; searchd takes {MAX_STATEMENT_BYTES:,})")))
                continue
            is_new = record.id not in self.existing
            self.new += is_new
            if is_new or self.rebuild:  # a rebuild adds everything, as locally
                self.summary.added += 1
            else:
                self.summary.updated += 1
            shard = shard_of(record.id, len(self.writers))
            if self.pending_bytes[shard] + outcome.size > BATCH_BYTES:
                self._flush(shard)
            self.pending[shard].append(outcome)
            self.pending_bytes[shard] += outcome.size
            if len(self.pending[shard]) >= BATCH_ROWS:
                self._flush(shard)

    def _flush(self, shard: int) -> None:
        """Hand shard *shard*'s pending rows to its writing thread (after its previous
        batch is acknowledged), so analysis goes on while searchd indexes them."""
        batch, self.pending[shard], self.pending_bytes[shard] = self.pending[shard], [], 0
        if not batch:
            return
        self._wait(shard)
        replaced = [row.id for row in batch if row.doc_id in self.existing]
        old_words = self._words_of(self.writers[shard], replaced)
        self.writing[shard] = self.threads.submit(self._write, shard, batch, old_words)

    def _write(self, shard: int, batch: list[rows.Row],
               old_words: Counter[WordForms]) -> tuple[int, Counter[WordForms]]:
        """(In the shard's thread.) Write *batch*; its size and its vocabulary delta."""
        self.writers[shard].replace(batch)
        delta: Counter[WordForms] = Counter()
        for row in batch:
            delta.update(row.words)
        delta.subtract(old_words)
        return len(batch), delta

    def _wait(self, shard: int) -> None:
        """Wait until shard *shard*'s batch in flight is acknowledged; count its words."""
        future, self.writing[shard] = self.writing[shard], None
        if future is not None:
            written, delta = future.result()
            self.delta.update(delta)
            self._counted(written)

    def _words_of(self, writer: ShardWriter, ids: list[int]) -> Counter[WordForms]:
        """The words the articles *ids* hold now (not counted again after a rebuild's
        clearing of the vocabulary)."""
        if self.rebuild or not ids:
            return Counter()
        return vocabulary.words_of(writer.stored(ids).values())

    def _counted(self, articles: int) -> None:
        self.unrecorded += articles
        if self.unrecorded >= VOCABULARY_EVERY:
            self._record_words()

    def _record_words(self) -> None:
        delta, self.delta, self.unrecorded = self.delta, Counter(), 0
        vocabulary.apply(self.coordinator, delta)

    def remove_gone(self, scopes: set[str]) -> None:
        """Delete the articles gone from their archive, unless their file failed to
        read (then its path is in ``seen``: bad input never loses articles)."""
        gone = [where for doc_id, where in self.existing.items()
                if doc_id not in self.seen and where[2].path not in self.seen
                and (self.rebuild or where[2].root in scopes)]
        self.remove([(shard, searchd_id) for shard, searchd_id, _ in gone])

    def remove(self, gone: list[tuple[int, int]]) -> None:
        """Delete *gone* (shard, searchd id) from every live replica of their shards."""
        for writer in self.writers:
            ids = [searchd_id for shard, searchd_id in gone if shard == writer.number]
            for start in range(0, len(ids), BATCH_ROWS * 5):
                chunk = ids[start : start + BATCH_ROWS * 5]
                old_words = self._words_of(writer, chunk)
                writer.delete(chunk)
                self.delta.subtract(old_words)
                self.summary.removed += len(chunk)
                self._counted(len(chunk))

    def finish(self) -> None:
        """Record the vocabulary and which replicas completed this run."""
        self._record_words()
        if not self.runs:
            self.runs = read_runs(self.coordinator, self._run_keys())
        number = max(self.runs.values(), default=0) + 1
        keys = [run_key(w.number, node) for w in self.writers for node in w.nodes()]
        record_run(self.coordinator, keys, number)
        self.summary.documents = len(self.existing) + self.new - self.summary.removed

    def close(self) -> None:
        """Let the batches in flight finish and record the words of what was
        acknowledged (a run that stopped half-way), then close every connection."""
        try:
            for shard in range(len(self.writing)):
                with contextlib.suppress(Exception):
                    self._wait(shard)
            if self.delta:
                self._record_words()
        except Exception as exc:  # the run's own error, if any, is the one to raise
            self.notice(f"the vocabulary could not be updated ({exc}); "
                        f"`vnsearch index --rebuild` recounts it")
        finally:
            self.threads.shutdown()
            for writer in self.writers:
                writer.close()
            self._unlock()
            self.coordinator.close()

    def _unlock(self) -> None:
        if not self.locked:
            return
        try:
            writer_lock.release(self.coordinator)
        except Exception as exc:  # the next run from this host clears it
            self.notice(f"the cluster's writer lock could not be released ({exc})")
