"""The term dictionary: which terms a segment has, their statistics, their postings.

Terms are kept in Whoosh's own ordered hash file (``whoosh.filedb.filetables``; key =
field number + term bytes, value = a :class:`~search.codec.postings.VnTermInfo`), so
prefix, range and fuzzy queries walk them in order as they do on W3. The postings
live in a second file (:mod:`search.codec.postings`). Besides Whoosh's
``TermsReader`` API, :class:`VnTermsReader` offers the fast scorer's public array
methods: :meth:`~VnTermsReader.postings_arrays` and
:meth:`~VnTermsReader.positions_arrays`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, KeysView, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt
from whoosh.codec.base import FieldCursor, FieldWriter, TermsReader
from whoosh.fields import FieldType
from whoosh.filedb.filestore import Storage
from whoosh.filedb.filetables import OrderedHashReader, OrderedHashWriter
from whoosh.formats import Format
from whoosh.reading import TermNotFound
from whoosh.scoring import BaseScorer

from search.codec.postings import (
    PostingColumns,
    PostingList,
    SmallLists,
    VnLeafMatcher,
    VnPostingsWriter,
    VnTermInfo,
    format_kind,
    small_lists,
)
from search.codec.version import (
    FORMAT_VERSION,
    HEADER_SIZE,
    check_header,
    check_version,
    file_header,
)

if TYPE_CHECKING:
    from search.codec.vncodec import VnSegment

TERMS_EXT = ".vtm"
POSTS_EXT = ".vps"
_POSTS_MAGIC = b"VNPS"
_FIELD = struct.Struct("<H")


class VnFieldWriter(FieldWriter):
    """Writes the term dictionary and the postings of a new segment."""

    def __init__(self, storage: Storage, segment: VnSegment) -> None:
        self.tindex = OrderedHashWriter(segment.create_file(storage, TERMS_EXT))
        self.fieldmap: dict[str, int] = {}
        self.tindex.extras.update(fieldmap=self.fieldmap, format_version=FORMAT_VERSION)
        self.postfile = segment.create_file(storage, POSTS_EXT)
        self.postfile.write(file_header(_POSTS_MAGIC))
        self.postwriter = VnPostingsWriter(self.postfile)
        self.fieldid = 0
        self.fieldobj: FieldType | None = None
        self.btext = b""
        self.is_closed = False

    def start_field(self, fieldname: str, fieldobj: FieldType) -> None:
        self.fieldid = self.fieldmap.setdefault(fieldname, len(self.fieldmap))
        self.fieldobj = fieldobj

    def start_term(self, btext: bytes) -> None:
        self.btext = btext
        # Whoosh starts a field before its terms, so the field is set.
        fieldobj = cast(FieldType, self.fieldobj)
        self.postwriter.start_postings(fieldobj.format, VnTermInfo())

    def add(self, docnum: int, weight: float, vbytes: bytes, length: int) -> None:
        self.postwriter.add_posting(docnum, weight, vbytes, length)

    def finish_term(self) -> None:
        info = self.postwriter.finish_postings()
        self.tindex.add(_FIELD.pack(self.fieldid) + self.btext, info.to_bytes())

    def write_list(self, btext: bytes, columns: PostingColumns) -> None:
        """Write a whole term's postings of the current field at once (the bulk
        builder's way in; terms in byte order, as Whoosh adds them)."""
        fieldobj = cast(FieldType, self.fieldobj)
        info = self.postwriter.write_list(columns, kind=format_kind(fieldobj.format))
        self.tindex.add(_FIELD.pack(self.fieldid) + btext, info.to_bytes())

    def write_terms(self, terms: Sequence[bytes], small: SmallLists,
                    large: Mapping[int, PostingColumns]) -> None:
        """Write terms of the current field (in byte order): term *k*'s list is
        ``large[k]`` when there is one, else the next of *small*'s one-block lists,
        all of which are encoded together in numpy (:func:`small_lists`: most terms
        have a few postings, and encoding them one by one was most of writing a
        segment). The bytes are those :meth:`write_list` writes term by term."""
        fieldobj = cast(FieldType, self.fieldobj)
        data, info = small_lists(small, format_kind(fieldobj.format))
        ends = [*info["offset"][1:].tolist(), len(data)]
        prefix = _FIELD.pack(self.fieldid)
        j = k = 0
        for stop in [*sorted(large), len(terms)]:
            n = stop - k  # small terms k…stop-1 are small lists j…j+n-1
            if n:
                first = int(info["offset"][j])
                info["offset"][j:j + n] += self.postwriter.write_encoded(
                    data[first:ends[j + n - 1]], terms=n) - first
                rows = info[j:j + n].tobytes()
                size = info.itemsize
                for i in range(n):
                    self.tindex.add(prefix + terms[k + i], rows[i * size:(i + 1) * size])
                j += n
            if stop < len(terms):
                self.write_list(terms[stop], large[stop])
            k = stop + 1

    def close(self) -> None:
        self.tindex.close()
        self.postfile.close()
        self.is_closed = True


#: Dictionary lookups a segment's terms reader remembers (about 100 bytes each).
TERMS_REMEMBERED = 4096
#: What :meth:`VnTermsReader.record` finds for a key not looked up yet.
_UNSEEN = object()


class VnTermsReader(TermsReader):
    """Whoosh's view of a segment's terms, plus arrays for the fast scorer."""

    def __init__(self, storage: Storage, segment: VnSegment) -> None:
        name = segment.make_filename(TERMS_EXT)
        self.tindex = OrderedHashReader(storage.open_file(name), storage.file_length(name))
        check_version(self.tindex.extras.get("format_version", 0), name)
        self.fieldmap: dict[str, int] = self.tindex.extras["fieldmap"]
        self.fieldunmap = {num: name for name, num in self.fieldmap.items()}
        self.postfile = segment.open_file(storage, POSTS_EXT)
        check_header(self.postfile.get(0, HEADER_SIZE), _POSTS_MAGIC,
                     segment.make_filename(POSTS_EXT))
        #: Recent lookups: key → record (``None``: no such term). See :meth:`record`.
        self.recent: dict[bytes, bytes | None] = {}

    def key(self, fieldname: str, btext: bytes) -> bytes:
        """The dictionary key of a term (an unknown field sorts after every field)."""
        return _FIELD.pack(self.fieldmap.get(fieldname, 65535)) + btext

    def split_key(self, key: bytes) -> tuple[str, bytes]:
        return self.fieldunmap[_FIELD.unpack_from(key)[0]], key[_FIELD.size:]

    def record(self, fieldname: str, btext: bytes) -> bytes | None:
        """A term's stored record (``None`` for a term the segment lacks), remembered.

        One query asks the dictionary about the same few terms many times over:
        whether the segment has the word, its frequency, its document frequency,
        its postings, for each field and each step of the query (over sixty hash
        probes a query on the bench's mix). Each probe walks Whoosh's hash file
        through Python; the recent answers (:data:`TERMS_REMEMBERED`, forgotten all
        at once when full) are a dictionary lookup instead.
        """
        key = self.key(fieldname, btext)
        found = self.recent.get(key, _UNSEEN)
        if found is _UNSEEN:
            found = self.tindex.get(key)
            if len(self.recent) >= TERMS_REMEMBERED:
                self.recent.clear()
            self.recent[key] = found
        return cast("bytes | None", found)

    def _info(self, fieldname: str, btext: bytes) -> VnTermInfo | None:
        found = self.record(fieldname, btext)
        return None if found is None else VnTermInfo.from_bytes(found)

    def __contains__(self, term: tuple[str, bytes]) -> bool:
        return self.record(*term) is not None

    def indexed_field_names(self) -> KeysView[str]:
        return self.fieldmap.keys()

    def cursor(self, fieldname: str, fieldobj: FieldType) -> VnFieldCursor:
        return VnFieldCursor(self, fieldname, fieldobj)

    def terms(self) -> Iterator[tuple[str, bytes]]:
        return (self.split_key(k) for k in self.tindex.keys())

    def terms_from(self, fieldname: str, prefix: bytes) -> Iterator[tuple[str, bytes]]:
        return (self.split_key(k) for k in self.tindex.keys_from(self.key(fieldname, prefix)))

    def items(self) -> Iterator[tuple[tuple[str, bytes], VnTermInfo]]:
        return ((self.split_key(k), VnTermInfo.from_bytes(v)) for k, v in self.tindex.items())

    def items_from(self, fieldname: str,
                   prefix: bytes) -> Iterator[tuple[tuple[str, bytes], VnTermInfo]]:
        return ((self.split_key(k), VnTermInfo.from_bytes(v))
                for k, v in self.tindex.items_from(self.key(fieldname, prefix)))

    def term_weights(self, fieldname: str) -> Iterator[tuple[bytes, float]]:
        """Every term of *fieldname* with its weight (occurrences), in term order:
        one walk over the dictionary, each record read for its weight only (the
        lexicon's accent map counts every spelling so, rather than look each up)."""
        start = self.key(fieldname, b"")
        for key, value in self.tindex.items_from(start):
            if not key.startswith(start):
                return
            yield key[len(start):], VnTermInfo.weight_of(value)

    def term_info(self, fieldname: str, btext: bytes) -> VnTermInfo:
        info = self._info(fieldname, btext)
        if info is None:
            raise TermNotFound(f"No term {fieldname}:{btext!r}")
        return info

    def frequency(self, fieldname: str, btext: bytes) -> float:
        """Raises ``KeyError`` for a missing term, as Whoosh's segment reader expects."""
        weight: float = self._counted(fieldname, btext).weight()
        return weight

    def doc_frequency(self, fieldname: str, btext: bytes) -> int:
        """Raises ``KeyError`` for a missing term, as Whoosh's segment reader expects."""
        df: int = self._counted(fieldname, btext).doc_frequency()
        return df

    def _counted(self, fieldname: str, btext: bytes) -> VnTermInfo:
        """The term's info for Whoosh's counting calls, which expect ``KeyError``
        (not ``TermNotFound``) for a term the segment lacks."""
        info = self._info(fieldname, btext)
        if info is None:
            raise KeyError((fieldname, btext))
        return info

    def posting_list(self, fieldname: str, btext: bytes) -> PostingList:
        """The stored postings of a term (its columns decode on demand)."""
        return PostingList(self.postfile, self.term_info(fieldname, btext))

    def matcher(self, fieldname: str, btext: bytes, format_: Format,
                scorer: BaseScorer | None = None) -> VnLeafMatcher:
        return VnLeafMatcher(self.posting_list(fieldname, btext), format_,
                             term=(fieldname, btext), scorer=scorer)

    def postings_arrays(self, fieldname: str,
                        btext: bytes) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.number[Any]]]:
        """Every document holding the term (int64, ascending) and its weight there,
        the value Whoosh's matcher reports, at the width it is stored
        (:meth:`~search.codec.postings.PostingList.stored_weights`: unsigned
        frequencies in a text field, else float32). Deleted documents are
        included, as in the stored list: filter them out with
        :meth:`~search.codec.vncodec.SegmentArrays.deleted_docs` (Whoosh's segment
        reader does the same to its matchers). Raises
        ``TermNotFound`` for a term the segment lacks."""
        postings = self.posting_list(fieldname, btext)
        return postings.ids(), postings.stored_weights()

    def positions_arrays(self, fieldname: str, btext: bytes,
                         docs: np.ndarray) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64],
                                                    npt.NDArray[np.integer[Any]]]:
        """The term's positions in those of *docs* (sorted ids) that hold it,
        decoding only the blocks that can: ``(found_docs, starts, flat)``; document
        ``found_docs[i]``'s positions are ``flat[starts[i]:starts[i + 1]]``."""
        return self.posting_list(fieldname, btext).positions(docs)

    def close(self) -> None:
        self.recent.clear()
        self.tindex.close()
        self.postfile.close()


class VnFieldCursor(FieldCursor):
    """Walks one field's terms in order (Whoosh's fuzzy and pattern queries use it)."""

    #: Where the next term's key is in the dictionary file (None: past the field).
    pos: int | None
    #: The current term's text and where its term info is (None: past the field).
    current: tuple[str, int, int] | None

    def __init__(self, terms: VnTermsReader, fieldname: str, fieldobj: FieldType) -> None:
        self.terms = terms
        self.fieldname = fieldname
        self.fieldobj = fieldobj
        self.start = terms.tindex.closest_key_pos(terms.key(fieldname, b""))
        self.first()

    def first(self) -> str | None:
        self.pos = self.start
        return self.next()

    def find(self, term: str | bytes) -> str | None:
        if not isinstance(term, bytes):
            term = cast(bytes, self.fieldobj.to_bytes(term))
        self.pos = self.terms.tindex.closest_key_pos(self.terms.key(self.fieldname, term))
        return self.next()

    def next(self) -> str | None:
        found = self.terms.tindex.key_and_range_at(self.pos) if self.pos is not None else None
        if found is not None:
            key, datapos, datalen = found
            fieldname, btext = self.terms.split_key(key)
            if fieldname == self.fieldname:
                self.pos = datapos + datalen
                self.current = (self.fieldobj.from_bytes(btext), datapos, datalen)
                return self.current[0]
        self.pos = None
        self.current = None
        return None

    def text(self) -> str | None:
        return self.current[0] if self.current else None

    def term_info(self) -> VnTermInfo | None:
        if self.current is None:
            return None
        _, datapos, datalen = self.current
        return VnTermInfo.from_bytes(self.terms.tindex.dbfile.get(datapos, datalen))

    def is_valid(self) -> bool:
        return self.current is not None
