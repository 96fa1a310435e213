"""A builder's postings spilled to disk in runs, and merged back term by term.

A builder holds a batch's postings in memory up to a word budget
(:data:`search.bulk.workers.SEGMENT_WORDS`). Each full batch used to become a
segment of its own, and the builder then merged its segments: every posting list
was encoded once per segment, decoded again and encoded once more (finishing and
merging were 45% of a one-process run over 30,000 VNTC articles). Now a full
batch's postings are only *spilled*: each text field's words grouped by term
(:func:`~search.bulk.grouped.group_postings`) and written as raw arrays, each short
field's postings pickled, into a run file of the segment being built. When the
segment finishes, :func:`merged_words` merges the runs' lists term by term, in
chunks of about :data:`CHUNK_POSTINGS` postings (a slice of each run, one stable
sort), and each term's list is encoded once.

A run's documents follow the previous run's (the builder numbers them across its
runs), so a term's merged list is each run's list in turn: the segment is the one
:func:`search.bulk.merging.merge_segments` makes of the segments the runs would
have been, byte for byte.

Run files are files of the segment (``<segment>.run<n>``): the builder deletes them
before it assembles the segment, and a run that dies midway leaves them to be swept
with any abandoned writer's files (no table of contents lists the segment).
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from whoosh.filedb.filestore import Storage
from whoosh.filedb.structfile import StructFile

from search.bulk.grouped import GroupedPostings, ShortPostings
from search.codec.vncodec import VnSegment

#: Postings merged at a time: what the merge of a builder's runs holds beyond
#: their term lists (~40 bytes a posting, positions included, while sorting).
CHUNK_POSTINGS = 1_000_000

_RUN_EXT = ".run"


@dataclass(frozen=True)
class Stretch:
    """Where an array is in a run file: byte offset, numpy dtype, item count."""

    offset: int
    dtype: str
    count: int


@dataclass(frozen=True)
class WordRun:
    """A text field's grouped postings in a run file (see :class:`GroupedPostings`):
    the term bytes (joined, with each term's end), each term's first posting and
    first position (one more than the terms), and per posting its document and
    frequency, then the positions (none for a field without them)."""

    terms: Stretch
    term_ends: Stretch
    term_starts: Stretch
    term_pos: Stretch
    docs: Stretch
    freqs: Stretch
    positions: Stretch


@dataclass
class Run:
    """One spilled run: its file, and where each field's postings are in it."""

    filename: str
    words: dict[str, WordRun] = field(default_factory=dict)
    short: dict[str, Stretch] = field(default_factory=dict)

    @property
    def fieldnames(self) -> set[str]:
        return {*self.words, *self.short}


class RunWriter:
    """Writes one run file, field by field."""

    def __init__(self, storage: Storage, segment: VnSegment, number: int) -> None:
        ext = f"{_RUN_EXT}{number}"
        self.file: StructFile = segment.create_file(storage, ext)
        self.run = Run(segment.make_filename(ext))

    def _array(self, values: npt.ArrayLike, dtype: str) -> Stretch:
        array = np.ascontiguousarray(values, dtype=dtype)
        offset = self.file.tell()
        self.file.write(array.data)
        return Stretch(offset, array.dtype.str, len(array))

    def add_words(self, fieldname: str, grouped: GroupedPostings, *, positions: bool) -> None:
        """A text field's postings (terms in byte order); their positions only when
        the field stores them (*positions*: the exact fields keep frequencies)."""
        starts = grouped.term_starts
        if not positions:
            grouped = replace(grouped, pos_starts=np.zeros_like(grouped.pos_starts),
                              positions=grouped.positions[:0])
        self.run.words[fieldname] = WordRun(
            terms=self._array(np.frombuffer(b"".join(grouped.terms), dtype=np.uint8), "u1"),
            term_ends=self._array(np.cumsum([len(t) for t in grouped.terms]), "<i8"),
            term_starts=self._array(starts, "<i8"),
            term_pos=self._array(grouped.pos_starts[starts], "<i8"),
            docs=self._array(grouped.docs, "<i4"),
            freqs=self._array(grouped.freqs, "<i4"),
            positions=self._array(grouped.positions, "<i4"))

    def add_short(self, fieldname: str, postings: ShortPostings) -> None:
        """A short field's postings, as Whoosh's field API gave them."""
        data = pickle.dumps(postings, protocol=pickle.HIGHEST_PROTOCOL)
        self.run.short[fieldname] = self._array(np.frombuffer(data, dtype=np.uint8), "u1")

    def close(self) -> Run:
        self.file.close()
        return self.run


@dataclass
class _WordPart:
    """One run's postings of a text field, being merged: its term list in memory,
    the per-posting arrays read a chunk at a time."""

    reader: RunReader
    stored: WordRun
    terms: list[bytes]
    term_starts: npt.NDArray[np.int64]
    term_pos: npt.NDArray[np.int64]
    #: Each term's number among the merged terms (ascending, as the terms are).
    ranks: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))


class RunReader:
    """Reads a run file's arrays back (only the slices asked for)."""

    def __init__(self, storage: Storage, run: Run) -> None:
        self.run = run
        self.file: StructFile = storage.open_file(run.filename)

    def array(self, stretch: Stretch, lo: int = 0, hi: int | None = None) -> npt.NDArray[
            np.generic]:
        """Items ``lo:hi`` of a stored array."""
        hi = stretch.count if hi is None else hi
        dtype = np.dtype(stretch.dtype)
        data = self.file.get(stretch.offset + lo * dtype.itemsize, (hi - lo) * dtype.itemsize)
        return np.frombuffer(data, dtype=dtype)

    def word_part(self, fieldname: str) -> _WordPart:
        stored = self.run.words[fieldname]
        blob = self.array(stored.terms).tobytes()
        ends = self.array(stored.term_ends).tolist()
        terms = [blob[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]
        return _WordPart(self, stored, terms, self.array(stored.term_starts).astype(np.int64),
                         self.array(stored.term_pos).astype(np.int64))

    def short(self, fieldname: str) -> ShortPostings:
        stored = self.run.short.get(fieldname)
        if stored is None:
            return {}
        postings: ShortPostings = pickle.loads(self.array(stored).tobytes())
        return postings

    def close(self) -> None:
        self.file.close()


def merged_short(readers: Sequence[RunReader], fieldname: str) -> ShortPostings:
    """A short field's postings over every run (each term's in run order)."""
    merged: ShortPostings = {}
    for reader in readers:
        for btext, postings in reader.short(fieldname).items():
            merged.setdefault(btext, []).extend(postings)
    return merged


def merged_words(readers: Sequence[RunReader], fieldname: str) -> Iterator[GroupedPostings]:
    """A text field's postings over every run, terms in byte order, a chunk of
    whole terms (about :data:`CHUNK_POSTINGS` postings) at a time."""
    parts = [reader.word_part(fieldname) for reader in readers
             if fieldname in reader.run.words]
    terms = sorted(set().union(*(part.terms for part in parts)))
    number = {term: i for i, term in enumerate(terms)}
    counts = np.zeros(len(terms), dtype=np.int64)
    for part in parts:
        part.ranks = np.fromiter(map(number.__getitem__, part.terms), dtype=np.int64,
                                 count=len(part.terms))
        part.terms = []
        counts[part.ranks] += np.diff(part.term_starts)
    del number
    for lo, hi in pairwise(chunk_cuts(counts, CHUNK_POSTINGS)):
        yield _merged_chunk(parts, terms[lo:hi], counts[lo:hi], first=lo)


def chunk_cuts(counts: npt.NDArray[np.int64], chunk: int) -> list[int]:
    """Where to cut terms of *counts* postings each into chunks of about *chunk*
    postings (a term bigger than that makes a chunk of its own)."""
    ends = np.cumsum(counts)
    total = int(ends[-1]) if len(ends) else 0
    cuts = np.searchsorted(ends, np.arange(chunk, total, chunk), side="right")
    return sorted({0, len(counts), *cuts.tolist()})


class _Slice(NamedTuple):
    """One run's postings of a chunk of terms."""

    ranks: npt.NDArray[np.int64]  # per posting: its term's number
    docs: npt.NDArray[np.int32]
    freqs: npt.NDArray[np.int64]
    positions: npt.NDArray[np.int32]


def _run_slice(part: _WordPart, lo: int, hi: int) -> _Slice | None:
    """A run's postings of merged terms ``lo:hi`` (``None``: it has none of them)."""
    a, b = np.searchsorted(part.ranks, [lo, hi]).tolist()
    if a == b:
        return None
    p0, p1 = int(part.term_starts[a]), int(part.term_starts[b])
    w0, w1 = int(part.term_pos[a]), int(part.term_pos[b])
    stored, reader = part.stored, part.reader
    return _Slice(np.repeat(part.ranks[a:b], np.diff(part.term_starts[a:b + 1])),
                  reader.array(stored.docs, p0, p1).astype(np.int32),
                  reader.array(stored.freqs, p0, p1).astype(np.int64),
                  reader.array(stored.positions, w0, w1).astype(np.int32))


def _merged_chunk(parts: Sequence[_WordPart], terms: list[bytes],
                  counts: npt.NDArray[np.int64], *, first: int) -> GroupedPostings:
    """Terms ``first…`` (*terms*, with *counts* postings each) merged from every
    run: each run's postings of a term come before the next run's (a stable sort
    of the runs' slices, one after the other, by term)."""
    slices = [s for s in (_run_slice(part, first, first + len(terms)) for part in parts)
              if s is not None]
    term_starts = np.concatenate(([0], np.cumsum(counts)))
    if len(slices) == 1:
        docs, freqs, positions = slices[0].docs, slices[0].freqs, slices[0].positions
    else:
        order = np.argsort(np.concatenate([s.ranks for s in slices]), kind="stable")
        docs = np.concatenate([s.docs for s in slices])[order]
        run_freqs = np.concatenate([s.freqs for s in slices])
        freqs = run_freqs[order]
        positions = np.concatenate([s.positions for s in slices])
        if len(positions):  # a field without positions has none to reorder
            # Where each posting's positions start in the slices' positions, one
            # after the other, and where they go once the postings are in order.
            starts = np.cumsum(run_freqs) - run_freqs
            gather = np.repeat(starts[order] - (np.cumsum(freqs) - freqs), freqs)
            gather += np.arange(len(gather), dtype=np.int64)
            positions = positions[gather]
    return GroupedPostings(terms, term_starts, docs, freqs,
                           np.concatenate(([0], np.cumsum(freqs))), positions)
