"""One Whoosh writer that commits whole or leaves no trace.

Whoosh's writer can fail in ways it does not report: a cancel after a failed flush
can keep its lock, and documents that never reach the commit go unnoticed.
:mod:`search.indexer` runs the indexing (new articles built as whole segments by
:mod:`search.bulk.workers`, whose workers it checks itself); this module holds what
makes the Whoosh writer that commits them safe to trust: opening it (the codec,
Whoosh's lock), checking the document count after the commit, abandoning it
(worker processes stopped, files swept, lock freed), and the one-line error when
the file system refuses a write.
"""

from __future__ import annotations

import errno
from multiprocessing.process import BaseProcess
from pathlib import Path

from whoosh.index import Index, LockError
from whoosh.writing import IndexWriter

from search import interrupt, store
from search.codec.vncodec import VnCodec
from search.lock import IndexBusy


class IndexWriteError(store.IndexError_):
    """Writing the index failed (disk full, no permission); the message says what
    the index holds now."""


def open_writer(ix: Index, index_dir: Path) -> IndexWriter:
    """A writer on *ix* with vnsearch's codec; :class:`search.lock.IndexBusy` when
    Whoosh's own lock is held."""
    try:
        return ix.writer(codec=VnCodec())
    except LockError as exc:
        raise IndexBusy(
            f"the index at '{index_dir}' is locked by another process (Whoosh's own lock); "
            f"wait for it to finish"
        ) from exc


def abandon(
    writer: IndexWriter, workers: set[BaseProcess], sweep_dir: Path | None
) -> None:
    """Stop a writer that will not commit: its worker processes, its files, its lock.

    *sweep_dir* is the index directory to clear of the writer's files, or None
    when the commit went through after all (then nothing is swept).
    """
    interrupt.stop_workers(workers)
    try:
        writer.cancel()
    except Exception:  # cancelling after a failed flush can fail again; free the lock anyway
        whoosh_lock = getattr(writer, "writelock", None)
        if whoosh_lock is not None and whoosh_lock.fd is not None:
            whoosh_lock.release()
    if sweep_dir is not None:
        store.sweep(sweep_dir)


def check_written(ix: Index, index_dir: Path, *, expected: int) -> None:
    """Documents that never reached the commit (a lost segment) would be missing
    without an error; compare the document count to catch it."""
    with ix.reader() as reader:
        actual = reader.doc_count()
    if actual < expected:
        raise IndexWriteError(
            f"{expected - actual} article(s) of this run were not written to '{index_dir}' "
            f"(a writer process failed); run vnsearch index again to add them"
        )


#: Errors of a file system that cannot take more writes.
WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM)


def write_error(index_dir: Path, exc: OSError) -> IndexWriteError:
    """The one-line error for a write the file system refused; the index is as it was."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return IndexWriteError(
            f"no space left on device while writing the index at '{index_dir}'; "
            f"the index is as it was"
        )
    where = f" ({exc.filename})" if exc.filename else ""
    return IndexWriteError(
        f"cannot write the index at '{index_dir}': {exc.strerror or exc}{where}; "
        f"the index is as it was"
    )
