"""The bulk segment builder: a batch of articles written as one whole codec segment.

Whoosh's own writer handles every posting in Python several times over: a
``Token`` per word, a pickled position list per posting, a posting pool that
sorts and spills tuples, and a field writer that decodes each posting again
(``bench/results/profile-index-before.md``: ~60% of indexing). Here the words of
each text field become term ids (:mod:`search.bulk.forms`) and, for the whole batch,
postings are grouped by term with one numpy ``argsort``; each term's list then
goes to the codec, a field in one call (:mod:`search.bulk.writing`).

The segment is the one Whoosh's writer would make of the same documents, byte for
byte: the same terms, weights, positions and field lengths, the same stored fields
and columns (written through the codec's own per-document writer). Short fields
(ids, keys, numbers, dates) go through Whoosh's field API (``field.index``), so
their terms and values are Whoosh's by construction; values that only hold a
frequency are written as arrays like the words', any others through the codec's
per-posting writer (:mod:`search.bulk.writing`).

A builder whose postings outgrow the caller's memory budget spills them to run
files and merges those when it finishes (:mod:`search.bulk.runs`); its segment is
then the one the merge of a segment per run would write.

A builder writes its files into the index directory but commits nothing: the
caller hands the finished :class:`~search.codec.vncodec.VnSegment` to a Whoosh
writer's merge policy (:mod:`search.bulk.workers`), and a segment no table of
contents lists is swept like any abandoned writer's files.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from whoosh.columns import Column
from whoosh.fields import FieldType, Schema
from whoosh.filedb.filestore import Storage
from whoosh.util.numeric import length_to_byte

from search.analysis import VietnameseTokenizer
from search.bulk.forms import Forms
from search.bulk.grouped import ShortPostings, ShortTerms, WordPostings, group_postings
from search.bulk.runs import Run, RunReader, RunWriter, merged_short, merged_words
from search.bulk.writing import write_short, write_words
from search.codec.perdoc import BYTE_TO_LENGTH, VnPerDocWriter
from search.codec.postings import FREQUENCY, POSITIONS, format_kind
from search.codec.terms import VnFieldWriter
from search.codec.vncodec import VnCodec, VnSegment


def is_word_field(fieldobj: FieldType) -> bool:
    """Whether the builder indexes this field from :class:`search.bulk.forms.Forms`
    (a text field analysed by vnsearch's tokenizer, with positions or frequencies)."""
    return (isinstance(fieldobj.analyzer, VietnameseTokenizer)
            and format_kind(fieldobj.format) in (POSITIONS, FREQUENCY)
            and not fieldobj.vector and not fieldobj.separate_spelling())


def _no_option(fieldname: str) -> None:
    """Raise for a Whoosh option (``_stored_…``, ``_boost``) among a document's fields."""
    if fieldname.startswith("_"):
        raise ValueError(f"the bulk builder takes no Whoosh options ({fieldname})")


class _FieldPlan(NamedTuple):
    """What the builder needs to know of a schema field for every document."""

    name: str
    fieldobj: FieldType
    indexed: bool
    stored: bool
    column_type: Column | None
    word_mode: str | None  # the tokenizer's mode of a word field (None: a short field)
    scorable: bool


class SegmentBuilder:
    """Collects documents (Whoosh field dicts) and writes them as one segment.

    The postings collected so far can be spilled to a run file (:meth:`spill`, when
    they reach the caller's memory budget); :meth:`finish` then merges the runs
    (:mod:`search.bulk.runs`). The segment is the one the merge of one segment
    per run (:mod:`search.bulk.merging`) writes, and with no spill the one
    Whoosh's writer writes.
    """

    def __init__(self, storage: Storage, schema: Schema, *, indexname: str,
                 codec: VnCodec) -> None:
        self.storage = storage
        self.schema = schema
        self.segment: VnSegment = codec.new_segment(storage, indexname)
        self.perdoc = VnPerDocWriter(storage, self.segment)
        self.forms = Forms()
        self.words: dict[str, WordPostings] = {}
        self.short: dict[str, ShortPostings] = {}
        #: Per field met so far: how the builder takes it (asked of the schema and
        #: the field per document and field otherwise, a tenth of the builder's own time).
        self._plans: dict[str, _FieldPlan] = {}
        self._short_terms = ShortTerms()
        #: Each text field's length byte per document (Whoosh's quantised length).
        self.lengths: dict[str, bytearray] = {}
        self.doccount = 0
        self.runs: list[Run] = []
        #: Documents whose postings are in the runs.
        self.spilled_docs = 0

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
            if value is None:
                _no_option(fieldname)
                continue
            plan = self._plans.get(fieldname) or self._plan(fieldname)
            length = self._index(docnum, plan, value) if plan.indexed else 0
            self.perdoc.add_field(fieldname, plan.fieldobj, value if plan.stored else None,
                                  length)
            if plan.column_type:
                self.perdoc.add_column_value(fieldname, plan.column_type,
                                             plan.fieldobj.to_column_value(value))
        self.perdoc.finish_doc()
        self.doccount += 1

    def _index(self, docnum: int, plan: _FieldPlan, value: Any) -> int:
        """Collect a field's postings; its length (0 unless the field is scorable)."""
        fieldname = plan.name
        if plan.word_mode is not None:
            found = self.forms.field(value, plan.word_mode)
            postings = self.words.get(fieldname)
            if postings is None:
                postings = self.words[fieldname] = WordPostings(found.table)
            postings.add(docnum, found)
            length = len(found.ids) if plan.scorable else 0
        else:
            terms = self.short.setdefault(fieldname, {})
            length = 0
            for btext, freq, weight, vbytes in self._short_terms.of(fieldname, plan.fieldobj,
                                                                    value):
                terms.setdefault(btext, []).append((docnum, weight, vbytes))
                length += freq
            length = length if plan.scorable else 0
        if length:
            lengths = self.lengths.setdefault(fieldname, bytearray())
            lengths.extend(bytes(docnum + 1 - len(lengths)))
            lengths[docnum] = length_to_byte(length)
        return length

    def _plan(self, fieldname: str) -> _FieldPlan:
        """How the builder takes a field, told once per field; a field the builder
        cannot index raises."""
        _no_option(fieldname)
        fieldobj = self.schema[fieldname]
        word_mode = None
        if fieldobj.indexed:
            if is_word_field(fieldobj):
                word_mode = fieldobj.analyzer.mode
            elif fieldobj.vector or fieldobj.separate_spelling():
                raise NotImplementedError(f"{fieldname}: term vectors and spelling fields "
                                          f"are not in vnsearch's schema")
        plan = self._plans[fieldname] = _FieldPlan(
            fieldname, fieldobj, bool(fieldobj.indexed), bool(fieldobj.stored),
            fieldobj.column_type, word_mode, bool(fieldobj.scorable))
        return plan

    def _doc_lengths(self, fieldname: str) -> npt.NDArray[np.int64]:
        """Every document's length in a field as the codec's postings record it."""
        found = self.lengths.get(fieldname, bytearray())
        found = found + bytes(self.doccount - len(found))
        return BYTE_TO_LENGTH[np.frombuffer(bytes(found), dtype=np.uint8)].astype(np.int64)

    def spill(self) -> None:
        """Write the postings collected since the last spill to a run file and let
        them go (memory then holds only the documents' lengths); nothing when no
        document came since."""
        if self.doccount == self.spilled_docs:
            return
        out = RunWriter(self.storage, self.segment, len(self.runs))
        for fieldname in self._word_fields():
            out.add_words(fieldname, group_postings(self.words.pop(fieldname)),
                          positions=format_kind(self.schema[fieldname].format) == POSITIONS)
        for fieldname in self._short_fields():
            out.add_short(fieldname, self.short.pop(fieldname))
        self.runs.append(out.close())
        self.forms, self.words, self.short = Forms(), {}, {}
        self.spilled_docs = self.doccount

    def _word_fields(self) -> list[str]:
        """The text fields with postings in memory."""
        return sorted(name for name, words in self.words.items() if words.words)

    def _short_fields(self) -> list[str]:
        """The short fields with postings in memory."""
        return sorted(name for name, terms in self.short.items() if terms)

    def finish(self) -> VnSegment:
        """Write the segment's files (assembled into one compound file, as Whoosh's
        writer does) and return the segment; the builder is spent."""
        if self.runs:
            self.spill()
        if len(self.runs) > 1:
            self.perdoc.quantise_totals()  # as the merge of a segment per run does
        self.perdoc.close()
        writer = VnFieldWriter(self.storage, self.segment)
        if self.runs:
            self._write_runs(writer)
        else:
            self._write_memory(writer)
        writer.close()
        for run in self.runs:
            self.storage.delete_file(run.filename)
        self.segment.set_doc_count(self.doccount)
        if self.segment.should_assemble():
            self.segment.create_compound_file(self.storage)
        return self.segment

    def _write_memory(self, writer: VnFieldWriter) -> None:
        """The postings held in memory (nothing spilled)."""
        # Only fields with postings get a number in the term dictionary, as in Whoosh.
        for fieldname in sorted({*self._word_fields(), *self._short_fields()}):
            writer.start_field(fieldname, self.schema[fieldname])
            lengths = self._doc_lengths(fieldname)
            if fieldname in self.words:
                write_words(writer, group_postings(self.words.pop(fieldname)), lengths)
            else:
                write_short(writer, self.short.pop(fieldname), lengths,
                            fieldobj=self.schema[fieldname])
            writer.finish_field()

    def _write_runs(self, writer: VnFieldWriter) -> None:
        """The postings of every run, merged."""
        readers = [RunReader(self.storage, run) for run in self.runs]
        try:
            for fieldname in sorted(set().union(*(run.fieldnames for run in self.runs))):
                writer.start_field(fieldname, self.schema[fieldname])
                lengths = self._doc_lengths(fieldname)
                if any(fieldname in run.words for run in self.runs):
                    for grouped in merged_words(readers, fieldname):
                        write_words(writer, grouped, lengths)
                else:
                    write_short(writer, merged_short(readers, fieldname), lengths,
                                fieldobj=self.schema[fieldname])
                writer.finish_field()
        finally:
            for reader in readers:
                reader.close()

    def cancel(self) -> None:
        """Close the open files of a builder that will not finish."""
        if not self.perdoc.is_closed:
            self.perdoc.stored.close()
            for dbfile, _ in self.perdoc.columns.values():
                dbfile.close()
