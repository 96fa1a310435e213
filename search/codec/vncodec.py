"""The codec Whoosh writes and reads vnsearch segments with, and its segment record.

Whoosh records each segment's codec in the index's table of contents (the segment
object is pickled there), so a writer opened with ``ix.writer(codec=VnCodec())``
makes segments every later reader opens with this codec, and merges read the old
segments through their own codec and write the merged one through the writer's.

The fast scorer reaches the arrays through Whoosh's public reader API:
:func:`segment_arrays` takes a leaf reader (``reader.leaf_readers()``), and opens
the codec's own readers from ``reader.codec()``, ``reader.storage()`` and
``reader.segment()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.codec.base import Codec, Segment
from whoosh.filedb.filestore import Storage
from whoosh.filedb.structfile import StructFile
from whoosh.formats import Format
from whoosh.reading import IndexReader
from whoosh.scoring import BaseScorer

from search.codec.mapped import MappedCompound
from search.codec.perdoc import VnPerDocReader, VnPerDocWriter
from search.codec.postings import PostingList, VnLeafMatcher, VnPostingsWriter, VnTermInfo
from search.codec.terms import VnFieldWriter, VnTermsReader


class VnCodec(Codec):
    """vnsearch's Whoosh codec: numpy-native postings, array field lengths,
    block-compressed stored fields."""

    length_stats = True

    def per_document_writer(self, storage: Storage, segment: VnSegment) -> VnPerDocWriter:
        return VnPerDocWriter(storage, segment)

    def field_writer(self, storage: Storage, segment: VnSegment) -> VnFieldWriter:
        return VnFieldWriter(storage, segment)

    def postings_writer(self, dbfile: StructFile, byteids: bool = False) -> VnPostingsWriter:
        if byteids:
            raise NotImplementedError("vnsearch's codec does not store term vectors")
        return VnPostingsWriter(dbfile)

    def postings_reader(self, dbfile: StructFile, terminfo: VnTermInfo, format_: Format,
                        term: tuple[str, bytes] | None = None,
                        scorer: BaseScorer | None = None) -> VnLeafMatcher:
        return VnLeafMatcher(PostingList(dbfile, terminfo), format_, term=term, scorer=scorer)

    def terms_reader(self, storage: Storage, segment: VnSegment) -> VnTermsReader:
        return VnTermsReader(storage, segment)

    def per_document_reader(self, storage: Storage, segment: VnSegment) -> VnPerDocReader:
        return VnPerDocReader(storage, segment)

    def supports_columns(self) -> bool:
        return True

    def new_segment(self, storage: Storage, indexname: str) -> VnSegment:
        return VnSegment(self, indexname)


class VnSegment(Segment):
    """A segment written with :class:`VnCodec`: its size and deleted documents."""

    def __init__(self, codec: VnCodec, indexname: str) -> None:
        super().__init__(indexname)
        self.vn_codec = codec
        self.doccount = 0
        self.deleted: set[int] = set()

    def codec(self) -> VnCodec:
        return self.vn_codec

    def set_doc_count(self, doccount: int) -> None:
        self.doccount = doccount

    def doc_count_all(self) -> int:
        return self.doccount

    def deleted_count(self) -> int:
        return len(self.deleted)

    def deleted_docs(self) -> Iterator[int]:
        return iter(sorted(self.deleted))

    def delete_document(self, docnum: int, delete: bool = True) -> None:
        if delete:
            self.deleted.add(docnum)
        else:
            self.deleted.discard(docnum)

    def open_compound_file(self, storage: Storage) -> Storage:
        """The compound file's inner files as slices of one memory map
        (:mod:`search.codec.mapped`), not copies; Whoosh's own reader where the
        storage cannot map files (in memory)."""
        dbfile = storage.open_file(self.make_filename(self.COMPOUND_EXT))
        if not (storage.supports_mmap and dbfile.is_real):
            dbfile.close()
            compound: Storage = super().open_compound_file(storage)
            return compound
        return MappedCompound(dbfile)

    def is_deleted(self, docnum: int) -> bool:
        return docnum in self.deleted


@dataclass
class SegmentArrays:
    """A segment's data as arrays, for the fast scorer. Close it when done."""

    terms: VnTermsReader
    perdoc: VnPerDocReader

    def postings_arrays(self, fieldname: str,
                        btext: bytes) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.number[Any]]]:
        """See :meth:`VnTermsReader.postings_arrays`."""
        return self.terms.postings_arrays(fieldname, btext)

    def positions_arrays(self, fieldname: str, btext: bytes,
                         docs: np.ndarray) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64],
                                                    npt.NDArray[np.integer[Any]]]:
        """See :meth:`VnTermsReader.positions_arrays`."""
        return self.terms.positions_arrays(fieldname, btext, docs)

    def term_weights(self, fieldname: str) -> Iterator[tuple[bytes, float]]:
        """See :meth:`VnTermsReader.term_weights`."""
        return self.terms.term_weights(fieldname)

    def field_lengths(self, fieldname: str) -> npt.NDArray[np.float64]:
        """See :meth:`VnPerDocReader.field_lengths`."""
        return self.perdoc.field_lengths(fieldname)

    def deleted_docs(self) -> npt.NDArray[np.int64]:
        """The segment's deleted document numbers, ascending (int64): the arrays
        still hold their postings until a merge drops them."""
        return np.fromiter(self.perdoc.deleted_docs(), dtype=np.int64)

    def close(self) -> None:
        self.terms.close()
        self.perdoc.close()


def segment_arrays(reader: IndexReader) -> SegmentArrays | None:
    """The arrays of a leaf reader's segment, or ``None`` when another codec wrote
    it (the caller then falls back to Whoosh's matchers). This opens the segment's
    files anew: keep one per reader, and close it with the reader."""
    codec = reader.codec()
    if not isinstance(codec, VnCodec):
        return None
    storage, segment = reader.storage(), reader.segment()
    return SegmentArrays(codec.terms_reader(storage, segment),
                         codec.per_document_reader(storage, segment))
