"""Per-document data of a segment: field lengths, stored fields and columns.

* Field lengths are one ``uint8`` array per field, in Whoosh's own quantised length
  byte (``length_to_byte``): BM25F in Whoosh scores with the quantised length, so the
  fast scorer, reading :meth:`VnPerDocReader.field_lengths`, computes the same scores.
* Stored fields are pickled and compressed (:mod:`search.compression`)
  :data:`STORED_BLOCK_DOCS` documents at a time (W3 compresses each document alone,
  so short fields shared by many documents — sources, authors, dates — compress
  better together).
* Columns (sorting, facets) are Whoosh's own column formats, one file per column.

Deletions stay in the segment object, as Whoosh's segments keep them.
"""

from __future__ import annotations

import pickle
import struct
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from whoosh.codec.base import PerDocumentReader, PerDocumentWriter
from whoosh.columns import Column, ColumnReader, ColumnWriter
from whoosh.fields import FieldType
from whoosh.filedb.filestore import Storage
from whoosh.filedb.structfile import StructFile
from whoosh.util.numeric import byte_to_length, length_to_byte

from search.codec.version import HEADER_SIZE, check_header, file_header
from search.compression import compress, decompress

if TYPE_CHECKING:
    from search.codec.vncodec import VnSegment

#: Documents compressed together in the stored-fields file. Measured on 3,000 VNTC
#: articles (stored fields pickled in blocks, zlib level 6; reading one document
#: decompresses its whole block): 1 → 4.87 MB, 43 µs per random read; 2 → 4.47 MB,
#: 86 µs; 4 → 4.23 MB, 139 µs; 16 → 4.03 MB, 421 µs (per document as W3 does it:
#: 5.88 MB). A results page reads its hits at random (snippets, the lexicon's
#: spans), so reads win over the last few per cent of size.
STORED_BLOCK_DOCS = 2
#: Decompressed stored blocks a reader keeps, most recently read: a results page
#: reads each hit's fields several times (ranking, snippets, the page), and a block
#: costs a decompression (and unpickling) each time it is read anew.
STORED_BLOCKS_KEPT = 32

LENGTHS_EXT = ".vln"
STORED_EXT = ".vst"
STORED_INDEX_EXT = ".vsx"
_LENGTHS_MAGIC = b"VNLN"
_STORED_MAGIC = b"VNST"
_STORED_INDEX_MAGIC = b"VNSX"
_COUNT = struct.Struct("<I")
_FIELD = struct.Struct("<HQ")

#: Whoosh's quantised length of every length byte.
BYTE_TO_LENGTH: npt.NDArray[np.float64] = np.array([byte_to_length(b) for b in range(256)],
                                                  dtype=np.float64)


def column_ext(fieldname: str) -> str:
    """The file extension of a field's column."""
    return f".{fieldname}.vcl"


class VnPerDocWriter(PerDocumentWriter):
    """Collects lengths and stored fields document by document; writes on close."""

    def __init__(self, storage: Storage, segment: VnSegment) -> None:
        self.storage = storage
        self.segment = segment
        self.lengths: dict[str, bytearray] = {}
        self.totals: dict[str, int] = {}
        self.columns: dict[str, tuple[StructFile, ColumnWriter]] = {}
        self.stored: StructFile = segment.create_file(storage, STORED_EXT)
        self.stored.write(file_header(_STORED_MAGIC))
        self.stored_offsets: list[int] = [self.stored.tell()]
        self.pending: list[dict[str, object]] = []
        self.docnum = -1
        self.doc: dict[str, object] = {}
        self.doc_lengths: dict[str, int] = {}
        self.is_closed = False

    def start_doc(self, docnum: int) -> None:
        if docnum != self.docnum + 1:
            raise ValueError(f"start_doc({docnum}) after document {self.docnum}")
        self.docnum = docnum
        self.doc = {}
        self.doc_lengths = {}

    def add_field(self, fieldname: str, fieldobj: FieldType, value: object, length: int) -> None:
        if value is not None:
            self.doc[fieldname] = value
        if length:
            lengths = self.lengths.setdefault(fieldname, bytearray())
            lengths.extend(bytes(self.docnum + 1 - len(lengths)))
            lengths[self.docnum] = length_to_byte(length)
            self.totals[fieldname] = self.totals.get(fieldname, 0) + length
            self.doc_lengths[fieldname] = length

    def add_length_bytes(self, fieldname: str, start: int,
                         length_bytes: npt.NDArray[np.uint8]) -> None:
        """Documents ``start…`` have these length bytes in *fieldname* (a merge
        copying a segment's lengths as they are, in one call rather than one
        :meth:`add_field` per document). The field's total grows by their quantised
        lengths, as when a merge passes each document's quantised length."""
        if not length_bytes.any():
            return  # a field every copied document lacks gets no lengths of its own
        lengths = self.lengths.setdefault(fieldname, bytearray())
        lengths.extend(bytes(max(0, start + len(length_bytes) - len(lengths))))
        lengths[start:start + len(length_bytes)] = length_bytes.tobytes()
        self.totals[fieldname] = (self.totals.get(fieldname, 0)
                                  + int(BYTE_TO_LENGTH[length_bytes].sum()))

    def quantise_totals(self) -> None:
        """Make each field's total the sum of its documents' quantised lengths, as a
        merge's :meth:`add_length_bytes` makes it: a bulk builder that merged its
        runs (:mod:`search.bulk.runs`) writes the segment such a merge wrote."""
        for fieldname, lengths in self.lengths.items():
            self.totals[fieldname] = int(
                BYTE_TO_LENGTH[np.frombuffer(bytes(lengths), dtype=np.uint8)].sum())

    def add_column_value(self, fieldname: str, columnobj: Column, value: object) -> None:
        if fieldname not in self.columns:
            dbfile = self.segment.create_file(self.storage, column_ext(fieldname))
            self.columns[fieldname] = (dbfile, columnobj.writer(dbfile))
        self.columns[fieldname][1].add(self.docnum, value)

    def add_vector_items(self, fieldname: str, fieldobj: FieldType,
                         items: Iterable[tuple[str, float, bytes]]) -> None:
        raise NotImplementedError("vnsearch's codec does not store term vectors "
                                  "(its schema has none)")

    def finish_doc(self) -> None:
        self.pending.append(self.doc)
        if len(self.pending) == STORED_BLOCK_DOCS:
            self._flush_stored()

    def cancel_doc(self) -> None:
        """Forget the document being added (Whoosh calls this when a field fails;
        like W3, column values already given for it are not taken back)."""
        for lengths in self.lengths.values():
            del lengths[self.docnum:]
        for fieldname, length in self.doc_lengths.items():
            self.totals[fieldname] -= length
        self.docnum -= 1

    def _flush_stored(self) -> None:
        if self.pending:
            blob = pickle.dumps(self.pending, protocol=pickle.HIGHEST_PROTOCOL)
            self.stored.write(compress(blob))
            self.stored_offsets.append(self.stored.tell())
            self.pending = []

    def close(self) -> None:
        doccount = self.docnum + 1
        self._flush_stored()
        self.stored.close()
        index = self.segment.create_file(self.storage, STORED_INDEX_EXT)
        index.write(file_header(_STORED_INDEX_MAGIC))
        index.write(np.asarray(self.stored_offsets, dtype="<u8").tobytes())
        index.close()
        self._write_lengths(doccount)
        for dbfile, writer in self.columns.values():
            writer.finish(doccount)
            dbfile.close()
        self.is_closed = True

    def _write_lengths(self, doccount: int) -> None:
        out = self.segment.create_file(self.storage, LENGTHS_EXT)
        out.write(file_header(_LENGTHS_MAGIC))
        out.write(_COUNT.pack(doccount) + _COUNT.pack(len(self.lengths)))
        for fieldname, lengths in sorted(self.lengths.items()):
            name = fieldname.encode("utf-8")
            lengths.extend(bytes(doccount - len(lengths)))
            out.write(_FIELD.pack(len(name), self.totals[fieldname]) + name + bytes(lengths))
        out.close()


class VnPerDocReader(PerDocumentReader):
    """Whoosh's per-document view of a segment, plus its field lengths as arrays."""

    def __init__(self, storage: Storage, segment: VnSegment) -> None:
        self.storage = storage
        self.segment = segment
        self.doccount = segment.doc_count_all()
        self.lengths, self.totals = self._read_lengths()
        self.stored: StructFile = segment.open_file(storage, STORED_EXT)
        check_header(self.stored.get(0, HEADER_SIZE), _STORED_MAGIC,
                     segment.make_filename(STORED_EXT))
        self.stored_offsets = self._read_stored_index()
        self.recent_blocks: OrderedDict[int, list[dict[str, object]]] = OrderedDict()
        self.column_files: dict[str, StructFile] = {}

    def _read_lengths(self) -> tuple[dict[str, npt.NDArray[np.uint8]], dict[str, int]]:
        name = self.segment.make_filename(LENGTHS_EXT)
        with self.storage.open_file(name) as f:
            data: bytes = f.read(self.storage.file_length(name))
        check_header(data, _LENGTHS_MAGIC, name)
        at = HEADER_SIZE
        doccount, nfields = _COUNT.unpack_from(data, at)[0], _COUNT.unpack_from(data, at + 4)[0]
        at += 8
        lengths: dict[str, npt.NDArray[np.uint8]] = {}
        totals: dict[str, int] = {}
        for _ in range(nfields):
            namelen, total = _FIELD.unpack_from(data, at)
            at += _FIELD.size
            fieldname = data[at:at + namelen].decode("utf-8")
            at += namelen
            lengths[fieldname] = np.frombuffer(data, dtype=np.uint8, count=doccount, offset=at)
            totals[fieldname] = total
            at += doccount
        return lengths, totals

    def _read_stored_index(self) -> npt.NDArray[np.int64]:
        name = self.segment.make_filename(STORED_INDEX_EXT)
        with self.storage.open_file(name) as f:
            data: bytes = f.read(self.storage.file_length(name))
        check_header(data, _STORED_INDEX_MAGIC, name)
        return np.frombuffer(data, dtype="<u8", offset=HEADER_SIZE).astype(np.int64)

    def close(self) -> None:
        self.stored.close()
        for f in self.column_files.values():
            f.close()

    def doc_count(self) -> int:
        return self.doccount - self.segment.deleted_count()

    def doc_count_all(self) -> int:
        return self.doccount

    def has_deletions(self) -> bool:
        deletions: bool = self.segment.has_deletions()
        return deletions

    def is_deleted(self, docnum: int) -> bool:
        return self.segment.is_deleted(docnum)

    def deleted_docs(self) -> Iterator[int]:
        return self.segment.deleted_docs()

    # Columns

    def supports_columns(self) -> bool:
        return True

    def has_column(self, fieldname: str) -> bool:
        exists: bool = self.storage.file_exists(self.segment.make_filename(column_ext(fieldname)))
        return exists

    def column_reader(self, fieldname: str, column: Column) -> ColumnReader:
        name = self.segment.make_filename(column_ext(fieldname))
        if fieldname not in self.column_files:
            self.column_files[fieldname] = self.storage.open_file(name)
        return column.reader(self.column_files[fieldname], 0, self.storage.file_length(name),
                             self.doccount)

    # Lengths

    def length_bytes(self, fieldname: str) -> npt.NDArray[np.uint8]:
        """Every document's length byte in *fieldname* (``uint8``, 0 = absent)."""
        found = self.lengths.get(fieldname)
        return found if found is not None else np.zeros(self.doccount, dtype=np.uint8)

    def field_lengths(self, fieldname: str) -> npt.NDArray[np.float64]:
        """Every document's field length as Whoosh's BM25F sees it (the quantised
        length of its length byte), float64, indexed by document number."""
        lengths: npt.NDArray[np.float64] = BYTE_TO_LENGTH[self.length_bytes(fieldname)]
        return lengths

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        if docnum > self.doccount:
            raise IndexError(f"Asked for docnum {docnum} of {self.doccount}")
        found = self.lengths.get(fieldname)
        if found is None:
            return default
        length: int = byte_to_length(int(found[docnum]))
        return length

    def field_length(self, fieldname: str) -> int:
        return self.totals.get(fieldname, 0)

    def min_field_length(self, fieldname: str) -> int:
        found = self.lengths.get(fieldname)
        return byte_to_length(int(found.min())) if found is not None and len(found) else 0

    def max_field_length(self, fieldname: str) -> int:
        found = self.lengths.get(fieldname)
        return byte_to_length(int(found.max())) if found is not None and len(found) else 0

    # Stored fields

    def stored_fields(self, docnum: int) -> dict[str, object]:
        block, within = divmod(docnum, STORED_BLOCK_DOCS)
        docs = self.recent_blocks.get(block)
        if docs is None:
            start, end = int(self.stored_offsets[block]), int(self.stored_offsets[block + 1])
            docs = pickle.loads(decompress(self.stored.get(start, end - start)))
            self.recent_blocks[block] = docs
            if len(self.recent_blocks) > STORED_BLOCKS_KEPT:
                self.recent_blocks.popitem(last=False)
        else:
            self.recent_blocks.move_to_end(block)
        return dict(docs[within])

    def all_stored_fields(self) -> Iterator[dict[str, object]]:
        for docnum in self.all_doc_ids():
            yield self.stored_fields(docnum)
