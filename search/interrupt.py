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
second Ctrl-C stops at once. SIGTERM is handled the same way.

While Whoosh writes the new table of contents the interrupt is held back
(:meth:`Guard.deferred`): stopping half-way there is what an interrupt must
never do, and a commit is short. :attr:`Guard.pending` then tells the caller
that the user asked to stop.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import util
from multiprocessing.process import BaseProcess

#: Seconds a stopped worker gets to exit before it is killed.
WORKER_EXIT_SECONDS = 5.0
#: The signals that stop a run cleanly: Ctrl-C, and ``kill``/``timeout``/service managers.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_PR_SET_PDEATHSIG = 1


class Stopped(KeyboardInterrupt):
    """The run was stopped by *signum* (SIGINT or SIGTERM) at a safe point."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass
class Guard:
    """The state of the handler installed by :func:`parent_only`."""

    owner: int = field(default_factory=os.getpid)
    holding: bool = False
    signum: int | None = None

    @property
    def pending(self) -> bool:
        """True once a stop signal has come."""
        return self.signum is not None

    def handle(self, signum: int, frame: object) -> None:
        if os.getpid() != self.owner:
            if signum == signal.SIGTERM:
                os._exit(128 + signum)  # the parent stopping its worker: go now
            return  # Ctrl-C reached a forked writer worker: its parent stops it
        if self.pending and not self.holding:
            raise Stopped(signum)  # asked twice: stop now
        self.signum = signum

    def check(self) -> None:
        """Raise :class:`Stopped` here if a stop signal came (a safe point)."""
        if self.signum is not None:
            raise Stopped(self.signum)

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold stop signals back for the duration (a commit)."""
        self.holding = True
        try:
            yield
        finally:
            self.holding = False

    def after_fork(self) -> None:
        """In a forked worker: die with the parent, however the parent dies.

        A worker blocks on its job queue; if the parent is killed (``kill -9`` on
        its pid alone) it would wait forever, holding the index's locks.
        """
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):  # not Linux
            return
        if os.getppid() != self.owner:  # the parent died before prctl took effect
            os._exit(1)


@contextmanager
def parent_only() -> Iterator[Guard]:
    """Within the block, SIGINT and SIGTERM stop this process at its next safe point
    and not its forked workers, which die with it instead.

    Outside the main thread (signals cannot be handled there) nothing changes, nor
    for a signal that is ignored (SIGINT in a background job).
    """
    guard = Guard()
    util.register_after_fork(guard, Guard.after_fork)
    if threading.current_thread() is not threading.main_thread():
        yield guard
        return
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    for signum, handler in previous.items():
        if handler != signal.SIG_IGN:
            signal.signal(signum, guard.handle)
    try:
        yield guard
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def children() -> set[BaseProcess]:
    """The live child processes started by ``multiprocessing`` in this process."""
    return set(multiprocessing.active_children())


def stop_workers(before: set[BaseProcess]) -> None:
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
