"""The bulk segment builder: a batch of articles written as one whole codec segment.

Whoosh's own writer handles every posting in Python several times over: a
``Token`` per word, a pickled position list per posting, a posting pool that
sorts and spills tuples, and a field writer that decodes each posting again
(``bench/results/profile-index-before.md``: ~60% of indexing). Here the words of
each text field become term ids (:mod:`search.bulk.forms`) and, for the whole batch,
postings are grouped by term with one numpy ``argsort``; each term's list then
goes to the codec in one call (:meth:`~search.codec.terms.VnFieldWriter.write_list`).

The segment is the one Whoosh's writer would make of the same documents, byte for
byte: the same terms, weights, positions and field lengths, the same stored fields
and columns (written through the codec's own per-document writer). Short fields
(ids, keys, numbers, dates) go through Whoosh's field API (``field.index``) and
the codec's per-posting writer, so their encoding is Whoosh's by construction.

A builder writes its files into the index directory but commits nothing: the
caller hands the finished :class:`~search.codec.vncodec.VnSegment` to a Whoosh
writer's merge policy (:mod:`search.bulk.workers`), and a segment no table of
contents lists is swept like any abandoned writer's files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from whoosh.fields import FieldType, Schema
from whoosh.filedb.filestore import Storage
from whoosh.util.numeric import length_to_byte

from search.analysis import VietnameseTokenizer
from search.bulk.forms import FieldTerms, Forms, Terms
from search.codec.perdoc import BYTE_TO_LENGTH, VnPerDocWriter
from search.codec.postings import (
    BLOCK_POSTINGS,
    FREQUENCY,
    POSITIONS,
    PostingColumns,
    format_kind,
)
from search.codec.terms import VnFieldWriter
from search.codec.vncodec import VnCodec, VnSegment

#: One posting of a short field, as Whoosh's field API gives it: document number,
#: weight, value bytes.
ShortPosting = tuple[int, float, bytes]


def is_word_field(fieldobj: FieldType) -> bool:
    """Whether the builder indexes this field from :class:`search.bulk.forms.Forms`
    (a text field analysed by vnsearch's tokenizer, with positions or frequencies)."""
    return (isinstance(fieldobj.analyzer, VietnameseTokenizer)
            and format_kind(fieldobj.format) in (POSITIONS, FREQUENCY)
            and not fieldobj.vector and not fieldobj.separate_spelling())


@dataclass
class WordPostings:
    """One text field's words over a batch: term ids (into *terms*) and positions,
    per document."""

    terms: Terms
    term_ids: list[npt.NDArray[np.int32]] = field(default_factory=list)
    positions: list[npt.NDArray[np.int32]] = field(default_factory=list)
    docnums: list[int] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    words: int = 0

    def add(self, docnum: int, found: FieldTerms) -> None:
        """Record one document's words (in position order)."""
        self.term_ids.append(found.ids)
        self.positions.append(found.positions)
        self.docnums.append(docnum)
        self.counts.append(len(found.ids))
        self.words += len(found.ids)


@dataclass
class GroupedPostings:
    """A text field's postings grouped by term, terms in byte order."""

    terms: list[bytes]
    term_starts: npt.NDArray[np.int64]  # into the postings, one more than terms
    docs: npt.NDArray[np.int32]  # per posting
    freqs: npt.NDArray[np.int64]  # per posting
    pos_starts: npt.NDArray[np.int64]  # into positions, one more than postings
    positions: npt.NDArray[np.int32]


def group_postings(words: WordPostings) -> GroupedPostings:
    """Sort a field's words by term (stable, so documents and positions stay in
    order) and cut them into postings: one numpy pass for the whole batch.

    The peak of a builder's memory: per word, 4 bytes of term id, document and
    position each (int32; a segment holds far fewer than 2**31 of any) and 8 of
    sort order; the per-document arrays are let go once joined.
    """
    encoded = [w.encode("utf-8") for w in words.terms.ids]
    by_bytes = sorted(range(len(encoded)), key=encoded.__getitem__)
    rank = np.empty(len(encoded), dtype=np.int32)
    rank[by_bytes] = np.arange(len(encoded), dtype=np.int32)
    ranks = rank[np.concatenate(words.term_ids)]
    words.term_ids.clear()
    order = np.argsort(ranks, kind="stable")
    ranks = ranks[order]
    docs = np.repeat(np.asarray(words.docnums, dtype=np.int32),
                     np.asarray(words.counts, dtype=np.int64))[order]
    positions = np.concatenate(words.positions)
    words.positions.clear()
    positions = positions[order]
    del order
    total = len(ranks)
    new_posting = np.ones(total, dtype=bool)
    new_posting[1:] = (ranks[1:] != ranks[:-1]) | (docs[1:] != docs[:-1])
    starts = np.flatnonzero(new_posting)
    pos_starts = np.append(starts, total)
    posting_ranks = ranks[starts]
    new_term = np.ones(len(starts), dtype=bool)
    new_term[1:] = posting_ranks[1:] != posting_ranks[:-1]
    term_starts = np.append(np.flatnonzero(new_term), len(starts))
    return GroupedPostings(
        terms=[encoded[by_bytes[r]] for r in posting_ranks[term_starts[:-1]].tolist()],
        term_starts=term_starts, docs=docs[starts], freqs=np.diff(pos_starts),
        pos_starts=pos_starts, positions=positions)


class SegmentBuilder:
    """Collects documents (Whoosh field dicts) and writes them as one segment."""

    def __init__(self, storage: Storage, schema: Schema, *, indexname: str,
                 codec: VnCodec) -> None:
        self.storage = storage
        self.schema = schema
        self.segment: VnSegment = codec.new_segment(storage, indexname)
        self.perdoc = VnPerDocWriter(storage, self.segment)
        self.forms = Forms()
        self.words: dict[str, WordPostings] = {}
        self.short: dict[str, dict[bytes, list[ShortPosting]]] = {}
        #: Each text field's length byte per document (Whoosh's quantised length).
        self.lengths: dict[str, bytearray] = {}
        self.doccount = 0

    @property
    def word_count(self) -> int:
        """Words collected so far (what a batch's memory grows with)."""
        return sum(w.words for w in self.words.values())

    def add_document(self, fields: dict[str, Any]) -> None:
        """Add one document, as :meth:`whoosh.writing.IndexWriter.add_document`
        takes it (no boosts, no ``_stored_`` values: vnsearch passes none)."""
        docnum = self.doccount
        self.perdoc.start_doc(docnum)
        for fieldname in sorted(fields):
            value = fields[fieldname]
            if fieldname.startswith("_"):
                raise ValueError(f"the bulk builder takes no Whoosh options ({fieldname})")
            if value is None:
                continue
            fieldobj = self.schema[fieldname]
            length = self._index(docnum, fieldname, value) if fieldobj.indexed else 0
            self.perdoc.add_field(fieldname, fieldobj, value if fieldobj.stored else None,
                                  length)
            if fieldobj.column_type:
                self.perdoc.add_column_value(fieldname, fieldobj.column_type,
                                             fieldobj.to_column_value(value))
        self.perdoc.finish_doc()
        self.doccount += 1

    def _index(self, docnum: int, fieldname: str, value: Any) -> int:
        """Collect a field's postings; its length (0 unless the field is scorable)."""
        fieldobj = self.schema[fieldname]
        if is_word_field(fieldobj):
            found = self.forms.field(value, fieldobj.analyzer.mode)
            postings = self.words.get(fieldname)
            if postings is None:
                postings = self.words[fieldname] = WordPostings(found.table)
            postings.add(docnum, found)
            length = len(found.ids) if fieldobj.scorable else 0
        else:
            if fieldobj.vector or fieldobj.separate_spelling():
                raise NotImplementedError(f"{fieldname}: term vectors and spelling fields "
                                          f"are not in vnsearch's schema")
            terms = self.short.setdefault(fieldname, {})
            length = 0
            for btext, freq, weight, vbytes in fieldobj.index(value):
                terms.setdefault(btext, []).append((docnum, weight, vbytes))
                length += freq
            length = length if fieldobj.scorable else 0
        if length:
            lengths = self.lengths.setdefault(fieldname, bytearray())
            lengths.extend(bytes(docnum + 1 - len(lengths)))
            lengths[docnum] = length_to_byte(length)
        return length

    def _doc_lengths(self, fieldname: str) -> npt.NDArray[np.int64]:
        """Every document's length in a field as the codec's postings record it."""
        found = self.lengths.get(fieldname, bytearray())
        found = found + bytes(self.doccount - len(found))
        return BYTE_TO_LENGTH[np.frombuffer(bytes(found), dtype=np.uint8)].astype(np.int64)

    def finish(self) -> VnSegment:
        """Write the segment's files (assembled into one compound file, as Whoosh's
        writer does) and return the segment; the builder is spent."""
        self.perdoc.close()
        writer = VnFieldWriter(self.storage, self.segment)
        # Only fields with postings get a number in the term dictionary, as in Whoosh.
        with_postings = {name for name, words in self.words.items() if words.words}
        with_postings |= {name for name, terms in self.short.items() if terms}
        for fieldname in sorted(with_postings):
            fieldobj = self.schema[fieldname]
            writer.start_field(fieldname, fieldobj)
            lengths = self._doc_lengths(fieldname)
            if fieldname in self.words:
                self._write_words(writer, group_postings(self.words.pop(fieldname)), lengths)
            else:
                self._write_short(writer, self.short.pop(fieldname), lengths)
            writer.finish_field()
        writer.close()
        self.segment.set_doc_count(self.doccount)
        if self.segment.should_assemble():
            self.segment.create_compound_file(self.storage)
        return self.segment

    @staticmethod
    def _write_words(writer: VnFieldWriter, grouped: GroupedPostings,
                     lengths: npt.NDArray[np.int64]) -> None:
        """Each term's whole list in one call (plain lists for one-block terms)."""
        starts = grouped.term_starts.tolist()
        pos_starts = grouped.pos_starts
        for t, btext in enumerate(grouped.terms):
            a, b = starts[t], starts[t + 1]
            docs, freqs = grouped.docs[a:b], grouped.freqs[a:b]
            positions = grouped.positions[pos_starts[a]:pos_starts[b]]
            if b - a <= BLOCK_POSTINGS:
                freq_list = freqs.tolist()
                columns = PostingColumns(
                    ids=docs.tolist(), freqs=freq_list, weights=[float(f) for f in freq_list],
                    lengths=lengths[docs].tolist(), positions=positions.tolist())
            else:
                columns = PostingColumns(ids=docs, freqs=freqs, weights=freqs.astype(np.float64),
                                         lengths=lengths[docs], positions=positions)
            writer.write_list(btext, columns)

    @staticmethod
    def _write_short(writer: VnFieldWriter, terms: dict[bytes, list[ShortPosting]],
                     lengths: npt.NDArray[np.int64]) -> None:
        """A short field's terms through the codec's per-posting writer (Whoosh's
        own encoding of their values)."""
        for btext in sorted(terms):
            writer.start_term(btext)
            for docnum, weight, vbytes in terms[btext]:
                writer.add(docnum, weight, vbytes, int(lengths[docnum]))
            writer.finish_term()

    def cancel(self) -> None:
        """Close the open files of a builder that will not finish."""
        if not self.perdoc.is_closed:
            self.perdoc.stored.close()
            for dbfile, _ in self.perdoc.columns.values():
                dbfile.close()
