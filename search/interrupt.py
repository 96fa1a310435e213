"""Ctrl-C while indexing: one clean stop in the parent, silence in the workers.

A terminal sends SIGINT to the whole process group, so Whoosh's writer
processes (forked by ``multiprocessing``) get it too and would each die with a
``KeyboardInterrupt`` traceback, leaving half-written files. Instead, during a
run the parent installs a handler that only *notes* the request; the forked
workers inherit it and ignore the signal. The indexing loop calls
:meth:`Guard.check` between records and stops there, at a safe point: an
exception raised straight from a signal handler can land in a finaliser
(``__del__``), where Python swallows it, or in the middle of a fork. The parent
then stops the workers (:func:`stop_workers`) before it cancels the writer. A
second Ctrl-C stops at once.

While Whoosh writes the new table of contents the interrupt is held back
(:meth:`Guard.deferred`): stopping half-way there is what an interrupt must
never do, and a commit is short. :attr:`Guard.pending` then tells the caller
that the user asked to stop.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

#: Seconds a stopped worker gets to exit before it is killed.
WORKER_EXIT_SECONDS = 5.0


@dataclass
class Guard:
    """The state of the handler installed by :func:`parent_only`."""

    owner: int = field(default_factory=os.getpid)
    holding: bool = False
    pending: bool = False

    def handle(self, signum: int, frame: object) -> None:
        if os.getpid() != self.owner:
            return  # a forked writer worker: its parent stops it
        if self.pending and not self.holding:
            raise KeyboardInterrupt  # asked twice: stop now
        self.pending = True

    def check(self) -> None:
        """Raise ``KeyboardInterrupt`` here if Ctrl-C was pressed (a safe point)."""
        if self.pending:
            raise KeyboardInterrupt

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold Ctrl-C back for the duration (a commit)."""
        self.holding = True
        try:
            yield
        finally:
            self.holding = False


@contextmanager
def parent_only() -> Iterator[Guard]:
    """Within the block, SIGINT interrupts this process and not its forked children.

    Outside the main thread (signals cannot be handled there) or when SIGINT is
    ignored (a background job), nothing changes.
    """
    guard = Guard()
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous == signal.SIG_IGN:
        yield guard
        return
    signal.signal(signal.SIGINT, guard.handle)
    try:
        yield guard
    finally:
        signal.signal(signal.SIGINT, previous)


def children() -> set[multiprocessing.Process]:
    """The live child processes started by ``multiprocessing`` in this process."""
    return set(multiprocessing.active_children())


def stop_workers(before: set[multiprocessing.Process]) -> None:
    """Terminate the worker processes started since *before* was taken, and wait.

    A worker blocked on its job queue would otherwise wait forever once the
    parent gives up, and keep the interpreter from exiting.
    """
    started = children() - before
    for proc in started:
        proc.terminate()
    for proc in started:
        proc.join(WORKER_EXIT_SECONDS)
        if proc.is_alive():
            proc.kill()
            proc.join()
