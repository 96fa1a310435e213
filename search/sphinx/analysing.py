"""Records analysed into cluster rows: in this process, or in worker processes.

Analysis (metadata extraction, then the row's tokens: :mod:`search.sphinx.rows`) is
what an indexing run spends its own CPU on; writing is searchd's. For big inputs
it runs in forked worker processes, in chunks, while this process reads files and
sends batches, the way the local indexer uses both cores. Outcomes come back in the
order the records went in.

The workers are forked when the :class:`Analyser` is made, before the run opens
connections or starts threads (a fork copies only the forking thread). Made
within :func:`search.interrupt.parent_only`, as the run makes it, they leave
Ctrl-C to their parent and die with it.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor

from search import documents
from search.archive import Failure, Record
from search.sphinx import rows

#: Records per job sent to a worker (big enough that pickling is not the cost).
CHUNK = 64
#: Jobs in flight per worker: enough to keep it busy while results are collected.
IN_FLIGHT = 3

#: A record to analyse and its root (the PATH it is indexed under).
Job = tuple[Record, str]
#: What a record becomes: its row, or why it could not be analysed.
Outcome = rows.Row | Failure


def analyse(record: Record, root: str) -> Outcome:
    """*record*'s row, or a failure saying why extraction failed (never raises,
    except for a lack of memory: the machine's trouble, not the file's)."""
    try:
        return rows.to_row(record, root, documents.analyse(record))
    except MemoryError:
        raise
    except Exception as exc:  # a bug in extraction must not stop the run
        return Failure(record.path, f"metadata extraction failed: {exc!r}")


def analyse_chunk(chunk: list[Job]) -> list[Outcome]:
    """:func:`analyse` of every job (a worker's unit of work)."""
    return [analyse(record, root) for record, root in chunk]


class Analyser:
    """Takes records in, gives ``(record, outcome)`` back in the same order."""

    def __init__(self, procs: int) -> None:
        self.pool: ProcessPoolExecutor | None = None
        self.procs = procs
        self.chunk: list[Job] = []
        self.flying: deque[tuple[list[Job], Future[list[Outcome]]]] = deque()
        if procs > 1:
            self.pool = ProcessPoolExecutor(
                max_workers=procs, mp_context=multiprocessing.get_context("fork"))
            self.pool.submit(int).result()  # fork every worker now

    def add(self, record: Record, root: str) -> list[tuple[Record, Outcome]]:
        """Queue *record*; the outcomes that are ready (possibly none)."""
        self.chunk.append((record, root))
        if len(self.chunk) < CHUNK:
            return []
        return self._dispatch()

    def drain(self) -> list[tuple[Record, Outcome]]:
        """Every outcome still owed."""
        ready = self._dispatch() if self.chunk else []
        while self.flying:
            ready += self._collect()
        return ready

    def _dispatch(self) -> list[tuple[Record, Outcome]]:
        chunk, self.chunk = self.chunk, []
        if self.pool is None:
            return [(record, outcome) for (record, _), outcome
                    in zip(chunk, analyse_chunk(chunk), strict=True)]
        self.flying.append((chunk, self.pool.submit(analyse_chunk, chunk)))
        ready: list[tuple[Record, Outcome]] = []
        while len(self.flying) > self.procs * IN_FLIGHT:
            ready += self._collect()
        return ready

    def _collect(self) -> list[tuple[Record, Outcome]]:
        chunk, future = self.flying.popleft()
        return [(record, outcome) for (record, _), outcome
                in zip(chunk, future.result(), strict=True)]

    def close(self) -> None:
        """Stop the workers (at once: a run that failed owes nothing more)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

