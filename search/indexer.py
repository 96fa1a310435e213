"""Building and updating the index from an archive: the incremental, failure-safe run.

What each article becomes in the index is :mod:`search.documents`'; this module
decides which articles a run adds, replaces, skips or removes, and makes the run
commit whole or leave no trace.

Runs are incremental: every document carries the hash of the bytes it came from, so
an unchanged file is skipped, a changed one replaced, and a document whose file has
gone (under an archive root indexed in this run) is removed. ``rebuild=True`` starts
over in a staging directory and swaps the result in only after it has committed.

Safety: a file that cannot be read is reported and skipped; any other error, and
Ctrl-C, cancels the writer and its worker processes and removes their files, which
leaves the last committed index exactly as it was. One writer at a time: see
:mod:`search.lock`.

Speed: new articles are written as whole segments by the bulk builders
(:mod:`search.bulk.workers`), in worker processes for big runs, so extraction and
analysis run on both cores while this process reads files; small segments are
merged on commit by concatenating their arrays (:mod:`search.bulk.merging`).
Whoosh's own writer does the rest: the lock, deletions, and the commit.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from whoosh.codec.base import Segment
from whoosh.index import Index
from whoosh.writing import IndexWriter

from search import interrupt, lock, store
from search.archive import Failure, Record, archive_root, read_file, walk
from search.bulk.merging import merge_small
from search.bulk.workers import Builders
from search.safe_writer import (
    WRITE_ERRNOS,
    abandon,
    check_written,
    open_writer,
    write_error,
)
from search.schema import HASH, ID, PATH, ROOT
from search.store import StrPath

#: Above this many bytes of input, index with both cores.
PARALLEL_THRESHOLD_BYTES = 4 * 1024 * 1024


class InterruptedAfterCommit(KeyboardInterrupt):
    """Ctrl-C came while committing: the commit was let finish, so the index holds
    this run (``summary``)."""

    def __init__(self, summary: IndexSummary) -> None:
        super().__init__("interrupted after the commit")
        self.summary = summary


@dataclass
class IndexSummary:
    """What an indexing run did: counts, failures with reasons, and timing."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    skipped: int = 0
    failed: list[Failure] = field(default_factory=list)
    documents: int = 0
    seconds: float = 0.0
    rebuilt: bool = False

    @property
    def changed(self) -> int:
        return self.added + self.updated + self.removed

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "skipped": self.skipped,
            "failed": [{"path": f.path, "reason": f.reason} for f in self.failed],
            "documents": self.documents,
            "seconds": round(self.seconds, 3),
            "rebuilt": self.rebuilt,
        }


#: Called as ``progress(files_done, files_total, articles_seen, stage)``; the stage is
#: "indexing", then "committing" while Whoosh writes the new segments, "committed"
#: once the new generation is on disk, and "swapping" when a staged index (a
#: rebuild, a first run) replaces the directory.
Progress = Callable[[int, int, int, str], None]


class Indexed(NamedTuple):
    """What the index holds of one article, enough to decide what a run does to it."""

    hash: str  # of the bytes it came from: unchanged bytes are skipped
    root: str  # the PATH (folder or file) it was indexed under: its deletion scope
    path: str  # the file it came from: kept while that file cannot be read


def existing_documents(ix: Index) -> dict[str, Indexed]:
    """``id →`` :class:`Indexed` of every live document, read from columns (no bodies)."""
    out: dict[str, Indexed] = {}
    with ix.reader() as reader:
        if reader.doc_count() == 0:
            return out
        ids = reader.column_reader(ID)
        hashes = reader.column_reader(HASH)
        roots = reader.column_reader(ROOT)
        paths = reader.column_reader(PATH)
        for docnum in reader.all_doc_ids():
            out[ids[docnum]] = Indexed(hashes[docnum], roots[docnum], paths[docnum])
    return out


def _input_bytes(files: Iterable[Path]) -> int:
    total = 0
    for f in files:
        try:
            total += f.stat().st_size
        except OSError:
            pass
    return total


def index_paths(
    index_dir: StrPath,
    paths: Sequence[StrPath],
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
    procs: int | None = None,
    notice: Callable[[str], None] | None = None,
) -> IndexSummary:
    """Index (or re-index) the archives at *paths* into *index_dir*.

    *procs* forces the number of builder processes (default: 2 for big inputs, else
    1: built in this process).
    *notice* receives one-line messages worth showing (a stale lock cleared).

    The whole run holds the writer lock (see :mod:`search.lock`), so it is the only
    writer; it first sweeps away what a killed run left. A run either commits or
    leaves the index exactly as it was: on any error, and on Ctrl-C, the writer
    and its worker processes are stopped and their files removed.
    """
    index_dir = Path(index_dir)
    try:
        held = lock.acquire(index_dir)
    except OSError as exc:  # no permission, read-only or full file system
        raise write_error(index_dir, exc) from exc
    try:
        _clear_stale(index_dir, held, notice or (lambda _message: None))
        store.check_target(index_dir, rebuild)
        with interrupt.parent_only() as guard:
            return _run(index_dir, [Path(p) for p in paths], rebuild=rebuild,
                        progress=progress, procs=procs, guard=guard, notice=notice)
    finally:
        held.release()


def _clear_stale(index_dir: Path, held: lock.WriterLock, notice: Callable[[str], None]) -> None:
    """Sweep a dead writer's leftovers; say so when its lock was still there."""
    leftovers = store.sweep(index_dir)
    if held.stale_pid is None:
        return
    state = "still running" if lock.pid_alive(held.stale_pid) else "no longer running"
    cleared = f"; removed {len(leftovers)} leftover file(s)" if leftovers else ""
    notice(
        f"cleared a stale lock on '{index_dir}' left by vnsearch pid {held.stale_pid} "
        f"({state}, it did not finish){cleared}"
    )


def _run(
    index_dir: Path,
    paths: list[Path],
    *,
    rebuild: bool,
    progress: Progress | None,
    procs: int | None,
    guard: interrupt.Guard,
    notice: Callable[[str], None] | None,
) -> IndexSummary:
    """One indexing run under the lock: plan, write, commit, swap."""
    started = time.perf_counter()
    summary = IndexSummary(rebuilt=rebuild)
    # A first run is built aside like a rebuild: if it fails, nothing is left behind.
    fresh = rebuild or not store.index_exists(index_dir)
    target = _staged(index_dir) if fresh else index_dir
    try:
        ix = store.create_index(target) if fresh else store.open_index(index_dir)
        previous = {} if fresh else store.read_manifest(index_dir)
        plan = _plan(paths)
        guard.check()
        existing = {} if fresh else existing_documents(ix)
        files = [f for _, _, fs in plan for f in fs]
        if procs is None:
            procs = 2 if _input_bytes(files) > PARALLEL_THRESHOLD_BYTES else 1
        _write(ix, index_dir, target=target, plan=plan, existing=existing, summary=summary,
               progress=progress, procs=procs, guard=guard)
    except BaseException as exc:
        if fresh:
            shutil.rmtree(target, ignore_errors=True)
        if isinstance(exc, OSError) and fresh and exc.errno in WRITE_ERRNOS:
            raise write_error(index_dir, exc) from exc  # creating the empty index failed
        raise

    with ix.reader() as reader:
        summary.documents = reader.doc_count()
    old_roots = previous.get("roots", [])
    with guard.deferred():
        _finish(index_dir, target, roots=old_roots + [str(scope) for _, scope, _ in plan],
                summary=summary,
                notice=notice, progress=progress)
    summary.seconds = time.perf_counter() - started
    if guard.pending:
        raise InterruptedAfterCommit(summary)
    return summary


#: What one indexing run reads: per PATH given, the root ids are relative to, the
#: scope it covers (the folder, or just the one file), and its article files.
Plan = list[tuple[Path, Path, list[Path]]]


def _plan(paths: list[Path]) -> Plan:
    """Each path's root, scope and files. A file's scope is the file, not its folder:
    the folder may hold other archives, and re-indexing one must not delete the
    others' articles (nor make a later run with no PATH walk the whole folder)."""
    return [(archive_root(p), p.resolve(), list(walk(p))) for p in paths]


def _staged(index_dir: Path) -> Path:
    """A staging directory holding an empty index, for a rebuild or a first run."""
    try:
        staging = store.staging_dir(index_dir)
    except OSError as exc:
        raise write_error(index_dir, exc) from exc
    return staging


def _finish(
    index_dir: Path,
    target: Path,
    *,
    roots: list[str],
    summary: IndexSummary,
    notice: Callable[[str], None] | None,
    progress: Progress | None,
) -> None:
    """After the commit: record the manifest; swap a staged index in."""
    try:
        store.write_manifest(target, roots, summary.documents)
    except OSError as exc:
        if target != index_dir:
            shutil.rmtree(target, ignore_errors=True)
            raise write_error(index_dir, exc) from exc
        (target / (store.MANIFEST + ".tmp")).unlink(missing_ok=True)
        if notice:
            notice(f"the index is updated, but its {store.MANIFEST} could not be: {exc.strerror}")
    if target != index_dir:
        if progress:
            progress(0, 0, summary.documents, "swapping")
        try:
            store.swap_in(target, index_dir)
        except OSError as exc:
            shutil.rmtree(target, ignore_errors=True)
            raise write_error(index_dir, exc) from exc


def _write(
    ix: Index,
    index_dir: Path,
    *,
    target: Path,
    plan: Plan,
    existing: dict[str, Indexed],
    summary: IndexSummary,
    progress: Progress | None,
    procs: int,
    guard: interrupt.Guard,
) -> None:
    """Feed every file to a writer and commit, or stop it and leave no trace.

    *target* is the directory written (*index_dir*, or a rebuild's staging one).
    """
    workers = interrupt.children()
    generation = ix.latest_generation()
    writer = open_writer(ix, index_dir)  # deletions, merges and the commit only
    try:
        builders = Builders(ix, index_dir, procs, check=guard.check)
        seen, segments = _feed(builders, writer, plan, existing=existing, summary=summary,
                     progress=progress, guard=guard)
        scoped = {str(scope) for _, scope, _ in plan}
        for doc_id, old in existing.items():
            # Gone from its archive, unless its file failed to read this time (then
            # the failure's path is in *seen*: bad input never loses indexed articles).
            if old.root in scoped and doc_id not in seen and old.path not in seen:
                writer.delete_by_term(ID, doc_id)
                summary.removed += 1
        if not summary.changed:
            writer.cancel()  # Whoosh leaves the unused segment's files: sweep them
            store.sweep(target)
            return
        if progress:
            total = sum(len(files) for _, _, files in plan)
            progress(total, total, len(seen) + len(summary.failed), "committing")
        guard.check()
        with guard.deferred():
            writer.commit(mergetype=merge_small(segments))
            if progress:
                progress(total, total, len(seen) + len(summary.failed), "committed")
    except BaseException as exc:
        abandon(writer, workers, target if ix.latest_generation() == generation else None)
        if isinstance(exc, OSError):
            raise write_error(index_dir, exc) from exc
        raise
    check_written(ix, index_dir, expected=len(existing) - summary.removed + summary.added)


def _feed(
    builders: Builders,
    writer: IndexWriter,
    plan: Plan,
    *,
    existing: dict[str, Indexed],
    summary: IndexSummary,
    progress: Progress | None,
    guard: interrupt.Guard,
) -> tuple[set[str], list[Segment]]:
    """Send every new or changed record to the builders and wait for them; skip
    the rest; the ids seen and the segments built. Stops between two records when
    Ctrl-C was pressed."""
    seen: set[str] = set()
    total = sum(len(files) for _, _, files in plan)
    files_done = 0
    if progress:
        progress(0, total, 0, "indexing")
    replaces: dict[str, bool] = {}  # sent to the builders: id -> replaces an old one
    for root, scope, files in plan:
        for file in files:
            for item in read_file(file, root):
                guard.check()
                record = _to_build(item, existing, seen, summary)
                if record is not None:
                    replaces[record.id] = record.id in existing
                    builders.add(record, str(scope))
            files_done += 1
            if progress:
                progress(files_done, total, len(seen) + len(summary.failed), "indexing")
    guard.check()
    built = builders.finish()
    failed = {doc_id for doc_id, _ in built.failures}
    summary.failed += [failure for _, failure in built.failures]
    for doc_id, replacing in replaces.items():
        if doc_id in failed:
            continue  # keep what the index holds for it: bad input never loses data
        if replacing:
            writer.delete_by_term(ID, doc_id)
            summary.updated += 1
        else:
            summary.added += 1
    return seen, built.segments


def _to_build(
    item: Record | Failure,
    existing: dict[str, Indexed],
    seen: set[str],
    summary: IndexSummary,
) -> Record | None:
    """The record if it is to be (re)built; else None, with the failure, the
    duplicate or the skip recorded."""
    if isinstance(item, Failure):
        # Keep whatever the index already holds for it: bad input never loses data.
        summary.failed.append(item)
        seen.add(item.path)
        return None
    if item.id in seen:
        summary.failed.append(Failure(item.path, f"duplicate id '{item.id}' (kept the first)"))
        return None
    seen.add(item.id)
    old = existing.get(item.id)
    if old is not None and old.hash == item.hash:
        summary.skipped += 1
        return None
    return item
