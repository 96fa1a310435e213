"""A faster spill format for Whoosh's posting pool.

New articles no longer pass through the pool (the bulk builders write whole
segments: :mod:`search.bulk.builder`), but Whoosh's merges of small segments on
commit still do: the writer collects their postings in memory and, past
``limitmb``, sorts them and spills a *run* to a temporary file; at commit the runs
are merged. Whoosh writes a run with one ``pickle.dump`` call per posting and reads
it back with one ``pickle.load`` per posting (on a 10k-article archive, a third of
all indexing time when new articles went through the pool too). Here a run is
written as pickled lists of :data:`CHUNK` postings and read back chunk by chunk, so
the merge still streams (memory stays bounded by
chunk × open runs) while pickling runs at C speed.

The patch changes only :class:`whoosh.writing.PostingPool` (the pool used for
postings), and only how its own runs are written and read: a run never outlives
the writer that made it.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator

from whoosh.filedb.structfile import StructFile
from whoosh.writing import PostingPool

#: Postings per pickled chunk of a run.
CHUNK = 10_000

#: One posting as the pool holds it: field, term, document number, weight, value.
Posting = tuple[str, bytes, int, float, bytes | None]


def _write_run(self: PostingPool, f: StructFile, items: Iterable[Posting]) -> None:
    chunk: list[Posting] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= CHUNK:
            pickle.dump(chunk, f, pickle.HIGHEST_PROTOCOL)
            chunk = []
    if chunk:
        pickle.dump(chunk, f, pickle.HIGHEST_PROTOCOL)
    f.close()


def _read_run(self: PostingPool, path: str) -> Iterator[Posting]:
    f = self._open_run(path)
    try:
        while True:
            try:
                chunk: list[Posting] = pickle.load(f)
            except EOFError:
                return
            yield from chunk
    finally:
        f.close()
        self._remove_run(path)


def install() -> None:
    """Use the chunked run format for every posting pool (idempotent)."""
    PostingPool._write_run = _write_run
    PostingPool._read_run = _read_run


def installed() -> bool:
    """Whether posting pools write and read runs in the chunked format (importing
    this module installs it; indexing imports this module)."""
    return PostingPool._write_run is _write_run and PostingPool._read_run is _read_run


install()
