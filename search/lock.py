"""The writer lock: one ``vnsearch index`` per index at a time, with its pid.

Whoosh's own lock is an ``flock`` on a file *inside* the index directory. That
does not cover a ``--rebuild``, which writes a staging directory next to the
index and swaps the two, nor a first run on a directory that does not exist
yet. So vnsearch takes its own lock first, on a file *next to* the index
directory (``index.lock`` beside ``index/``), for the whole run: two rebuilds
can then never remove each other's staging directory.

The lock is an ``flock`` as well, so the kernel drops it when the holder dies,
however it dies; the pid written into the file only serves the messages. A
file still holding a pid whose lock is free was left by a writer that died
(SIGKILL, power cut): it is reported as stale and taken over, and the caller
then clears what that writer left behind.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

LOCK_SUFFIX = ".lock"


class IndexBusy(Exception):
    """Another process is writing to the index."""


@dataclass
class WriterLock:
    """A held lock. ``stale_pid`` is the pid of a dead writer whose lock was taken
    over (None when the lock was free and clean)."""

    path: Path
    fd: int
    stale_pid: int | None

    def release(self) -> None:
        """Remove the lock file, then let go (in that order, so a process that
        opened the old file notices the swap and tries again)."""
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self.fd)


def lock_path(index_dir: Path) -> Path:
    """Where the writer lock of *index_dir* lives: beside it, not inside it."""
    return index_dir.with_name(index_dir.name + LOCK_SUFFIX)


def acquire(index_dir: Path) -> WriterLock:
    """Take the writer lock of *index_dir* at once, or raise :class:`IndexBusy`."""
    path = lock_path(index_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            raise IndexBusy(_busy_message(index_dir, holder)) from None
        if _same_file(fd, path):
            break
        os.close(fd)  # the holder released (unlinked) it between our open and flock
    stale = _read_pid(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError:  # a full or read-only file system: leave nothing behind
        WriterLock(path=path, fd=fd, stale_pid=stale).release()
        raise
    return WriterLock(path=path, fd=fd, stale_pid=stale)


def _busy_message(index_dir: Path, pid: int | None) -> str:
    who = f"pid {pid}" if pid else "pid unknown"
    if pid and not pid_alive(pid):
        return (
            f"another vnsearch is indexing ({who}, which has exited; its worker processes "
            f"still hold '{index_dir}': end them, then run again)"
        )
    return f"another vnsearch is indexing ({who}) into '{index_dir}'; wait for it to finish"


def pid_alive(pid: int) -> bool:
    """True when a process with this pid exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_pid(fd: int) -> int | None:
    raw = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return int(raw) if raw.isdigit() else None


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = path.stat()
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)
