"""Segment merges by concatenating arrays: the merge policy of every commit.

Whoosh merges segments through its writer: ``add_reader`` feeds every posting of
every merged segment, one tuple at a time, into its posting pool, which sorts them,
spills them to pickled runs, and hands them back one by one to the field writer,
which decodes each posting's value again. vnsearch writes new segments whole
(:mod:`search.bulk.builder`) and merges them the same way: for each term, each
merged segment's posting list is read as arrays
(:class:`~search.codec.postings.PostingList`), its deleted documents dropped and
the others renumbered (each segment's live documents follow the previous
segment's), and the lists are concatenated and written in one
:meth:`~search.codec.terms.VnFieldWriter.write_list` call. Per-document data is
copied through the codec's per-document reader and writer: stored fields and
column values document by document, field lengths as whole arrays.

The merged segment is the one Whoosh's own merge writes of the same segments (the
tests compare them file by file): the same terms, postings, field lengths (each
document's quantised length; a field's total is the sum of those, as Whoosh's
merge passes them), columns and stored values. Only the order of the fields inside
a document's stored dictionary differs: it stays the document's own, where Whoosh's
merge rebuilds it from a set.

Which segments merge is Whoosh's ``MERGE_SMALL`` rule, reproduced in
:func:`small_segments`, so indexes keep the shape they had; a merge whose documents
are all deleted writes no segment at all.

Crash safety: the merged segment's files are written before the table of contents
that lists it is committed (by Whoosh's writer, after the policy returns). Until
then the old segments stay listed, and the new files are swept like any abandoned
writer's (Whoosh's ``clean_files``, :func:`search.store.sweep`). A merge that fails
closes its files and raises, so the commit never happens.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.codec.base import Segment
from whoosh.fields import Schema
from whoosh.filedb.filestore import Storage
from whoosh.reading import SegmentReader
from whoosh.util import fib
from whoosh.writing import IndexWriter

from search.codec.perdoc import BYTE_TO_LENGTH, VnPerDocReader, VnPerDocWriter
from search.codec.postings import (
    BLOCK_POSTINGS,
    OPAQUE,
    POSITIONS,
    PostingColumns,
    PostingList,
    VnTermInfo,
    format_kind,
)
from search.codec.terms import VnFieldWriter, VnTermsReader
from search.codec.vncodec import SegmentArrays, VnCodec, VnSegment, segment_arrays
from search.store import IndexIncompatible

#: What ``writer.commit(mergetype=...)`` takes: the writer and its segments in, the
#: segments of the new table of contents out.
MergePolicy = Callable[[IndexWriter, list[Segment]], list[Segment]]

#: Whoosh's ``MERGE_SMALL`` looks at no fewer than this many of the smallest
#: segments before it merges.
MIN_SEGMENTS_MERGED = 5
#: ... and merges the smallest *n* once they hold fewer documents than
#: ``fib(n + FIB_OFFSET)``.
FIB_OFFSET = 4


class UnmergeableSegment(IndexIncompatible):
    """A segment another codec wrote: vnsearch's merges read only its own."""


def small_segments(segments: Sequence[Segment]) -> tuple[list[Segment], list[Segment]]:
    """Whoosh's ``MERGE_SMALL`` choice, as ``(to merge, kept)``: the *n* smallest
    segments (counting deleted documents too), for the first *n* ≥
    :data:`MIN_SEGMENTS_MERGED` whose documents number fewer than
    ``fib(n + FIB_OFFSET)``. The bound grows faster than *n*, so many small segments
    merge often and a few big ones seldom. When no *n* qualifies nothing merges and
    the segments keep their order; else the kept ones come smallest first (both as
    Whoosh returns them)."""
    by_size = sorted(segments, key=lambda s: s.doc_count_all())
    total = 0
    for n, segment in enumerate(by_size, start=1):
        total += segment.doc_count_all()
        if n >= MIN_SEGMENTS_MERGED and total < fib(n + FIB_OFFSET):
            return by_size[:n], by_size[n:]
    return [], list(segments)


def merge_small(built: Sequence[Segment] = ()) -> MergePolicy:
    """The policy of vnsearch's commits: the small segments merged (Whoosh's
    rule, :func:`small_segments`) by concatenating arrays, and the *built* ones
    (new articles, :mod:`search.bulk.workers`) added:
    ``writer.commit(mergetype=merge_small(built))``."""
    return _merging(small_segments, built)


def merge_all(built: Sequence[Segment] = ()) -> MergePolicy:
    """Every segment merged into one (Whoosh's ``optimize``), then *built* added."""
    return _merging(lambda segments: (list(segments), []), built)


def _merging(choose: Callable[[Sequence[Segment]], tuple[list[Segment], list[Segment]]],
             built: Sequence[Segment]) -> MergePolicy:
    """A merge policy: the segments *choose* picks (``(to merge, kept)``) merged
    into one, listed after the kept and the *built* ones."""

    def policy(writer: IndexWriter, segments: list[Segment]) -> list[Segment]:
        chosen, kept = choose(segments)
        merged = merge_segments(writer.storage, writer.schema, chosen,
                                indexname=writer.indexname) if chosen else None
        return [*kept, *built, *([merged] if merged else [])]

    return policy


@dataclass
class Source:
    """One segment being merged: its arrays, and where its documents go."""

    reader: SegmentReader
    arrays: SegmentArrays
    #: Its live (not deleted) document numbers, ascending.
    live: npt.NDArray[np.int64]
    #: The merged number of its first live document.
    base: int
    #: Old document number → merged number (-1: deleted); None when none is deleted.
    docmap: npt.NDArray[np.int64] | None

    @property
    def terms(self) -> VnTermsReader:
        return self.arrays.terms

    @property
    def perdoc(self) -> VnPerDocReader:
        return self.arrays.perdoc

    def close(self) -> None:
        self.arrays.close()
        self.reader.close()


def open_source(storage: Storage, schema: Schema, segment: Segment, *, base: int) -> Source:
    """Open a segment to merge, its documents numbered from *base*; a segment
    another codec wrote is refused with what to do about it."""
    if not isinstance(segment, VnSegment):
        raise UnmergeableSegment(
            f"index segment {segment.segment_id()} was not written by vnsearch's codec "
            f"({type(segment).__name__}), so it cannot be merged: rebuild the index with "
            f"`vnsearch index --rebuild`")
    reader = SegmentReader(storage, schema, segment)
    arrays = segment_arrays(reader)
    if arrays is None:  # a VnSegment always opens with VnCodec
        reader.close()
        raise UnmergeableSegment(f"index segment {segment.segment_id()} has no arrays")
    keep = np.ones(segment.doc_count_all(), dtype=bool)
    keep[arrays.deleted_docs()] = False
    docmap = None
    if not keep.all():
        docmap = np.where(keep, np.cumsum(keep) - 1 + base, -1).astype(np.int64)
    return Source(reader=reader, arrays=arrays, live=np.flatnonzero(keep).astype(np.int64),
                  base=base, docmap=docmap)


def open_sources(storage: Storage, schema: Schema, segments: Iterable[Segment]) -> list[Source]:
    """Open every segment to merge, numbered one after the other."""
    sources: list[Source] = []
    try:
        for segment in segments:
            base = sources[-1].base + len(sources[-1].live) if sources else 0
            sources.append(open_source(storage, schema, segment, base=base))
    except BaseException:
        for source in sources:
            source.close()
        raise
    return sources


def merge_segments(storage: Storage, schema: Schema, segments: Sequence[Segment], *,
                   indexname: str) -> VnSegment | None:
    """Write one new segment holding the live documents of *segments*, in their
    order; ``None`` (and no files) when none is live. Nothing is committed: the
    caller lists the segment in a table of contents (or its files are swept)."""
    sources = open_sources(storage, schema, segments)
    try:
        doccount = sum(len(source.live) for source in sources)
        if not doccount:
            return None
        segment = VnCodec().new_segment(storage, indexname)
        perdoc = VnPerDocWriter(storage, segment)
        fields: VnFieldWriter | None = None
        try:
            copy_documents(perdoc, schema, sources)
            perdoc.close()
            fields = VnFieldWriter(storage, segment)
            write_postings(fields, schema, sources)
            fields.close()
        except BaseException:
            close_unfinished(perdoc, fields)
            raise
        segment.set_doc_count(doccount)
        if segment.should_assemble():
            segment.create_compound_file(storage)
        return segment
    finally:
        for source in sources:
            source.close()


def close_unfinished(perdoc: VnPerDocWriter, fields: VnFieldWriter | None) -> None:
    """Close the files of a merge that failed (they are swept, never listed)."""
    if not perdoc.is_closed:
        perdoc.stored.close()
        for dbfile, _ in perdoc.columns.values():
            dbfile.close()
    if fields is not None and not fields.is_closed:
        fields.close()


def copy_documents(out: VnPerDocWriter, schema: Schema, sources: Sequence[Source]) -> None:
    """Every live document's stored fields and column values, one document at a
    time; each field's length bytes, one array per segment."""
    docnum = 0
    for source in sources:
        columns = [(name, schema[name].column_type,
                    source.perdoc.column_reader(name, schema[name].column_type))
                   for name in schema.names()
                   if schema[name].column_type and source.perdoc.has_column(name)]
        for old in source.live.tolist():
            out.start_doc(docnum)
            for name, value in source.perdoc.stored_fields(old).items():
                if name in schema:
                    out.add_field(name, schema[name], value, 0)
            for name, column, values in columns:
                out.add_column_value(name, column, values[old])
            out.finish_doc()
            docnum += 1
        for name in schema.names():
            out.add_length_bytes(name, source.base, source.perdoc.length_bytes(name)[source.live])


def merged_lengths(sources: Sequence[Source], fieldname: str) -> npt.NDArray[np.int64]:
    """Each merged document's quantised length in *fieldname* (what the postings
    record as their documents' lengths)."""
    length_bytes = np.concatenate([source.perdoc.length_bytes(fieldname)[source.live]
                                   for source in sources])
    lengths: npt.NDArray[np.int64] = BYTE_TO_LENGTH[length_bytes].astype(np.int64)
    return lengths


def write_postings(out: VnFieldWriter, schema: Schema, sources: Sequence[Source]) -> None:
    """Every field's terms in order, each term's live postings in one list; fields
    and terms left with no live posting are left out, as Whoosh's merge does."""
    names = sorted({name for source in sources for name in source.terms.indexed_field_names()
                    if name in schema})
    for name in names:
        fieldobj = schema[name]
        kind = format_kind(fieldobj.format)
        lengths = merged_lengths(sources, name)
        started = False
        for btext, found in merged_terms(sources, name):
            columns = term_columns(found, kind=kind, lengths=lengths)
            if columns is None:
                continue
            if not started:
                out.start_field(name, fieldobj)
                started = True
            out.write_list(btext, columns)
        if started:
            out.finish_field()


def field_terms(terms: VnTermsReader, fieldname: str) -> Iterator[tuple[bytes, VnTermInfo]]:
    """One segment's terms of a field, in byte order, with their term infos."""
    if fieldname not in terms.indexed_field_names():
        return
    for (name, btext), info in terms.items_from(fieldname, b""):
        if name != fieldname:
            return
        yield btext, info


def merged_terms(sources: Sequence[Source], fieldname: str
                 ) -> Iterator[tuple[bytes, list[tuple[Source, VnTermInfo]]]]:
    """The union of the segments' terms of a field, in byte order, each with the
    segments that hold it (in segment order): one term at a time, so memory stays
    bounded by a term's postings, not by the segments' vocabularies."""

    def keyed(k: int, terms: Iterator[tuple[bytes, VnTermInfo]]
              ) -> Iterator[tuple[bytes, int, VnTermInfo]]:
        return ((btext, k, info) for btext, info in terms)

    streams = [keyed(k, field_terms(source.terms, fieldname))
               for k, source in enumerate(sources)]
    ordered = heapq.merge(*streams, key=lambda item: (item[0], item[1]))
    for btext, group in itertools.groupby(ordered, key=lambda item: item[0]):
        yield btext, [(sources[k], info) for _, k, info in group]


@dataclass
class LivePostings:
    """One segment's live postings of a term, renumbered."""

    ids: npt.NDArray[np.int64]
    freqs: npt.NDArray[np.int64]
    weights: npt.NDArray[np.float64]
    positions: npt.NDArray[np.integer[Any]]
    values: tuple[bytes, ...]


def live_postings(source: Source, info: VnTermInfo, kind: int) -> LivePostings | None:
    """A segment's postings of a term without its deleted documents, numbered as
    merged; ``None`` when every one is deleted."""
    postings = PostingList(source.terms.postfile, info)
    if postings.kind != kind:
        raise UnmergeableSegment(f"a posting list of layout {postings.kind} where the schema's "
                                 f"field has layout {kind}: rebuild the index with "
                                 f"`vnsearch index --rebuild`")
    ids, freqs, weights = postings.ids(), postings.freqs(), postings.weights()
    # Renumbering documents leaves their positions as they are.
    positions = (postings.positions_of(0, postings.count) if kind == POSITIONS
                 else np.empty(0, dtype=np.int64))
    values = postings.values() if kind == OPAQUE else ()
    if source.docmap is None:
        return LivePostings(ids + source.base, freqs, weights, positions, values)
    new = source.docmap[ids]
    keep = new >= 0
    if keep.all():
        return LivePostings(new, freqs, weights, positions, values)
    if not keep.any():
        return None
    if kind == POSITIONS:
        positions = positions[np.repeat(keep, freqs)]
    if kind == OPAQUE:
        values = tuple(v for v, kept in zip(values, keep.tolist(), strict=True) if kept)
    return LivePostings(new[keep], freqs[keep], weights[keep], positions, values)


def term_columns(found: list[tuple[Source, VnTermInfo]], *, kind: int,
                 lengths: npt.NDArray[np.int64]) -> PostingColumns | None:
    """A term's merged posting list (``None`` when no posting is live): the
    segments' live postings concatenated, with the merged documents' lengths.
    One-block lists go as Python lists, as the builder passes them (the codec
    encodes those without numpy)."""
    parts = [p for p in (live_postings(source, info, kind) for source, info in found)
             if p is not None]
    if not parts:
        return None
    if len(parts) == 1:
        ids, freqs, weights, positions = (parts[0].ids, parts[0].freqs, parts[0].weights,
                                          parts[0].positions)
    else:
        ids = np.concatenate([p.ids for p in parts])
        freqs = np.concatenate([p.freqs for p in parts])
        weights = np.concatenate([p.weights for p in parts])
        positions = np.concatenate([p.positions for p in parts])
    values = tuple(itertools.chain.from_iterable(p.values for p in parts))
    if len(ids) <= BLOCK_POSTINGS:
        return PostingColumns(ids=ids.tolist(), freqs=freqs.tolist(), weights=weights.tolist(),
                              lengths=lengths[ids].tolist(), positions=positions.tolist(),
                              values=values)
    return PostingColumns(ids=ids, freqs=freqs, weights=weights, lengths=lengths[ids],
                          positions=positions, values=values)
