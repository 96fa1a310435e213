"""Posting lists on disk: the writer, the term info, Whoosh's matcher, and the arrays.

One term's postings are stored column by column, each column one packed integer
array (:mod:`search.codec.packing`) over the whole list:

1. a block table, one row per :data:`BLOCK_POSTINGS` postings (last id, min/max
   length byte, max weight), so Whoosh's matcher can skip blocks by id or by score
   bound as it does on W3;
2. a flags byte, then the document ids (gaps), the frequencies (left out when all
   are 1), the weights as float32 (only when they differ from the frequencies), the
   positions, or opaque values for other formats.

A list of several blocks keeps each document's positions as they are: reading them
is one ``np.frombuffer``, where gaps took two passes over them (a sum restarted at
every document), and that sum was most of what a query paid the first time it read
an everyday word's positions (3.6 ms for the 339,000 of ``co`` in 84k VNTC
articles). It costs no space there: such a list holds a gap over 255 somewhere, so
its gaps were stored 16 bits wide already, as its positions are (84.0 MB against
83.9 MB for ``text_f`` in 84k articles). A one-block list keeps gaps (each
document's first position, then gaps): its positions often fit in 8 bits as gaps
only, and summing a few of them costs nothing. Lists written as gaps by codec
format 3 still read (the flags byte tells them apart).

So a whole list decodes with a handful of numpy calls whatever its length, and the
positions of a few documents decode from just the byte ranges of the blocks that
hold them. Whoosh's ``Existence``/``Frequency``/``Positions`` formats are stored as
arrays (the matcher re-creates their value bytes only when Whoosh asks for
``value()``); any other format's values are kept as opaque bytes.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple, cast

import numpy as np
import numpy.typing as npt
from whoosh.codec.base import PostingsWriter
from whoosh.filedb.structfile import StructFile
from whoosh.formats import Existence, Format, Frequency, Positions
from whoosh.matching import LeafMatcher, ReadTooFar
from whoosh.reading import TermInfo
from whoosh.scoring import BaseScorer
from whoosh.system import pack_uint, unpack_uint
from whoosh.util.numeric import byte_to_length, length_to_byte

from search.codec.packing import (
    WIDTHS,
    absolute_positions,
    gaps,
    pack_ints,
    packed_size,
    stored_ints,
    width_code,
)

#: Postings per block: the unit Whoosh's matcher skips by.
BLOCK_POSTINGS = 128

#: One row of a term's block table.
BLOCK_TABLE = np.dtype([("max_id", "<u4"), ("min_len", "u1"), ("max_len", "u1"),
                        ("max_weight", "<f4")])

#: How a format's postings are kept.
EXISTENCE, FREQUENCY, POSITIONS, OPAQUE = range(4)

_UNIT_FREQS = 1
_HAS_WEIGHTS = 2
#: Positions stored as they are, not as gaps (lists of several blocks, since format 4).
_ABSOLUTE_POSITIONS = 4
#: The flags byte keeps the layout kind in its upper bits.
_KIND_SHIFT = 4


def format_kind(format_: Format | None) -> int:
    """Which of the array layouts a Whoosh format's postings use (exact type: a
    subclass may encode its values differently, so it is kept opaque)."""
    return {Existence: EXISTENCE, Frequency: FREQUENCY, Positions: POSITIONS}.get(
        type(format_), OPAQUE)


class VnTermInfo(TermInfo):
    """Whoosh's term statistics plus where the term's postings start."""

    #: weight (float32, as W3 keeps it), df, min/max length byte, max weight,
    #: min/max id, offset, block count.
    _STRUCT = struct.Struct("<fIBBfIIQI")
    _WEIGHT = struct.Struct("<f")  # the record's first field

    def __init__(self, *, offset: int = 0, blocks: int = 0, **stats: object) -> None:
        super().__init__(**stats)
        self.offset = offset
        self.blocks = blocks

    def to_bytes(self) -> bytes:
        """The fixed-size record the term dictionary stores."""
        return self._STRUCT.pack(
            self.weight(), self.doc_frequency(), length_to_byte(self.min_length() or 0),
            length_to_byte(self.max_length()), self.max_weight(),
            self.min_id() or 0, self.max_id() or 0, self.offset, self.blocks)

    @classmethod
    def weight_of(cls, data: bytes) -> float:
        """The weight (how often the term occurs) of a :meth:`to_bytes` record,
        without the rest: a walk over a field's terms wants only that."""
        weight: float = cls._WEIGHT.unpack_from(data)[0]
        return weight

    @classmethod
    def from_bytes(cls, data: bytes) -> VnTermInfo:
        """Read back :meth:`to_bytes`."""
        weight, df, minlen, maxlen, maxweight, minid, maxid, offset, blocks = \
            cls._STRUCT.unpack(data)
        return cls(weight=weight, df=df, minlength=byte_to_length(minlen),
                   maxlength=byte_to_length(maxlen), maxweight=maxweight,
                   minid=minid, maxid=maxid, offset=offset, blocks=blocks)


class VnPostingsWriter(PostingsWriter):
    """Collects one term's postings at a time and writes them as packed columns."""

    def __init__(self, postfile: StructFile) -> None:
        self.postfile = postfile
        self.terms_written = 0
        self.start_postings(None, None)

    def written(self) -> bool:
        return self.terms_written > 0

    def start_postings(self, format_: Format | None, terminfo: TermInfo | None) -> None:
        self.format = format_
        self.kind = format_kind(format_)
        self.ids: list[int] = []
        self.weights: list[float] = []
        self.freqs: list[int] = []
        self.positions: list[int] = []
        self.values: list[bytes] = []
        self.lengths: list[int] = []

    def add_posting(self, id_: int, weight: float, vbytes: bytes,
                    length: int | None = None) -> None:
        """Buffer one posting (Whoosh calls this once per posting, in id order)."""
        self.ids.append(id_)
        self.weights.append(weight)
        self.lengths.append(length or 0)
        if self.kind == FREQUENCY:
            self.freqs.append(unpack_uint(vbytes)[0] if vbytes else 1)
        elif self.kind == POSITIONS:
            # Only a Positions format has the POSITIONS kind, so the format is set.
            format_ = cast(Format, self.format)
            poses: list[int] = format_.decode_positions(vbytes) if vbytes else []
            self.freqs.append(len(poses))
            self.positions.extend(poses)
        else:
            self.freqs.append(1)
            if self.kind == OPAQUE:
                self.values.append(vbytes)

    def finish_postings(self) -> VnTermInfo:
        """Write the buffered list; return its term info."""
        info = self.write_list(PostingColumns(
            ids=self.ids, freqs=self.freqs, weights=self.weights, lengths=self.lengths,
            positions=self.positions, values=self.values), kind=self.kind)
        self.start_postings(None, None)
        return info

    def write_encoded(self, data: bytes, *, terms: int) -> int:
        """Write *terms* lists encoded already (:func:`small_lists`); where they start."""
        offset: int = self.postfile.tell()
        self.postfile.write(data)
        self.terms_written += terms
        return offset

    def write_list(self, columns: PostingColumns, *, kind: int) -> VnTermInfo:
        """Write one term's whole posting list at once (the bulk builder's way in);
        the bytes are those :meth:`add_posting` + :meth:`finish_postings` write."""
        offset = self.postfile.tell()
        if len(columns.ids) <= BLOCK_POSTINGS:
            data, info = _small_list(columns, kind)
        else:
            data, info = _large_list(columns, kind)
        self.postfile.write(data)
        self.terms_written += 1
        info.offset = offset
        return info


class PostingColumns(NamedTuple):
    """One term's postings as columns, in id order: what :meth:`VnPostingsWriter.write_list`
    takes. *positions* are absolute, every posting's concatenated (POSITIONS
    layout only); *values* are opaque value bytes (OPAQUE layout only); *lengths*
    are the documents' field lengths as Whoosh quantises them."""

    ids: Sequence[int] | npt.NDArray[np.integer[Any]]
    freqs: Sequence[int] | npt.NDArray[np.int64]
    weights: Sequence[float] | npt.NDArray[np.float64]
    lengths: Sequence[int] | npt.NDArray[np.int64]
    positions: Sequence[int] | npt.NDArray[np.integer[Any]] = ()
    values: Sequence[bytes] = ()


def _large_list(columns: PostingColumns, kind: int) -> tuple[bytes, VnTermInfo]:
    """A posting list of several blocks, encoded with numpy."""
    ids = np.asarray(columns.ids, dtype=np.int64)
    freqs = np.asarray(columns.freqs, dtype=np.int64)
    weights = np.asarray(columns.weights, dtype=np.float32)
    lengths = np.asarray(columns.lengths, dtype=np.int64)
    table = block_table(ids, weights, lengths)
    flags = kind << _KIND_SHIFT
    parts = [pack_ints(gaps(ids))]
    if (freqs == 1).all():
        flags |= _UNIT_FREQS
    else:
        parts.append(pack_ints(freqs))
    if not np.array_equal(weights, freqs.astype(np.float32)):
        flags |= _HAS_WEIGHTS
        parts.append(weights.astype("<f4").tobytes())
    if kind == POSITIONS:
        how, packed = large_positions(np.asarray(columns.positions, dtype=np.int64), freqs)
        flags |= how
        parts.append(packed)
    elif kind == OPAQUE:
        parts.append(pack_ints(np.array([len(v) for v in columns.values], dtype=np.int64)))
        parts.append(b"".join(columns.values))
    nonzero = lengths[lengths > 0]
    info = VnTermInfo(
        weight=sum(weights.tolist()), df=len(ids),
        minlength=int(nonzero.min()) if len(nonzero) else None,
        maxlength=int(lengths.max()) if len(lengths) else 0,
        maxweight=float(weights.max()) if len(weights) else 0,
        minid=int(ids[0]) if len(ids) else None, maxid=int(ids[-1]) if len(ids) else 0,
        blocks=len(table))
    return table.tobytes() + bytes((flags,)) + b"".join(parts), info


def large_positions(positions: npt.NDArray[np.int64],
                    freqs: npt.NDArray[np.int64]) -> tuple[int, bytes]:
    """How a list of several blocks stores its positions (every posting's, absolute,
    concatenated; *freqs* per posting): the flag saying how, and the packed column.
    As they are, since format 4 (see the module's docstring)."""
    return _ABSOLUTE_POSITIONS, pack_ints(positions)


#: ``struct`` codes of :data:`~search.codec.packing.WIDTHS`, and one block-table row.
_STRUCT_CODES = "BHIQ"
_TABLE_ROW = struct.Struct("<IBBf")


def _pack_small(values: list[int]) -> bytes:
    """:func:`~search.codec.packing.pack_ints` of a short Python list, without numpy."""
    if values and min(values) < 0:
        raise ValueError("positions must increase within each document")
    code = width_code(max(values) if values else 0)
    return bytes((code,)) + struct.pack(f"<{len(values)}{_STRUCT_CODES[code]}", *values)


def _small_list(columns: PostingColumns, kind: int) -> tuple[bytes, VnTermInfo]:
    """A posting list of one block, encoded in plain Python: most terms have a few
    postings, and numpy's per-call cost would dominate them."""
    ids = [int(i) for i in columns.ids]
    freqs = [int(f) for f in columns.freqs]
    lengths = [int(n) for n in columns.lengths]
    weights = array("f", [float(w) for w in columns.weights]).tolist()  # as float32
    if not ids:
        return _large_list(columns, kind)
    flags = kind << _KIND_SHIFT
    parts = [_pack_small([ids[0]] + [b - a for a, b in zip(ids, ids[1:], strict=False)])]
    if freqs.count(1) == len(freqs):
        flags |= _UNIT_FREQS
    else:
        parts.append(_pack_small(freqs))
    if weights != [float(f) for f in freqs]:
        flags |= _HAS_WEIGHTS
        parts.append(struct.pack(f"<{len(weights)}f", *weights))
    if kind == POSITIONS:
        parts.append(_pack_small(_small_position_gaps([int(p) for p in columns.positions],
                                                      freqs)))
    elif kind == OPAQUE:
        parts.append(_pack_small([len(v) for v in columns.values]))
        parts.append(b"".join(columns.values))
    maxweight = max(weights)
    table = _TABLE_ROW.pack(ids[-1], length_to_byte(min(lengths)),
                            length_to_byte(max(lengths)), maxweight)
    nonzero = [n for n in lengths if n > 0]
    info = VnTermInfo(weight=sum(weights), df=len(ids),
                      minlength=min(nonzero) if nonzero else None, maxlength=max(lengths),
                      maxweight=maxweight, minid=ids[0], maxid=ids[-1], blocks=1)
    return table + bytes((flags,)) + b"".join(parts), info


def _small_position_gaps(positions: list[int], freqs: list[int]) -> list[int]:
    """:func:`~search.codec.packing.position_gaps` on Python lists."""
    out: list[int] = []
    at = 0
    for freq in freqs:
        doc = positions[at:at + freq]
        if doc:
            out.append(doc[0])
            out.extend(b - a for a, b in zip(doc, doc[1:], strict=False))
        at += freq
    return out


class SmallLists(NamedTuple):
    """Many terms' one-block posting lists (at most :data:`BLOCK_POSTINGS` postings
    each, at least one), one after the other: what
    :meth:`~search.codec.terms.VnFieldWriter.write_terms` takes. Each posting's weight is its
    frequency (a text field's), *lengths* are the documents' quantised field
    lengths, *positions* absolute, every posting's in turn (POSITIONS layout only,
    each posting with at least one)."""

    counts: npt.NDArray[np.int64]  # postings per term
    ids: npt.NDArray[np.int64]  # per posting, ascending within each term
    freqs: npt.NDArray[np.int64]
    lengths: npt.NDArray[np.int64]
    positions: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)


#: One term's info as :meth:`VnTermInfo.to_bytes` packs it (its struct, as numpy).
TERM_INFO = np.dtype([("weight", "<f4"), ("df", "<u4"), ("min_len", "u1"), ("max_len", "u1"),
                      ("max_weight", "<f4"), ("min_id", "<u4"), ("max_id", "<u4"),
                      ("offset", "<u8"), ("blocks", "<u4")])


def small_lists(lists: SmallLists, kind: int) -> tuple[bytes, npt.NDArray[np.void]]:
    """:func:`_small_list` of every term at once, in numpy: the terms' bytes one
    after the other, and their term infos (offsets relative to the first term's).
    Most terms have a few postings, and encoding them one by one in Python was most
    of writing a segment."""
    counts = lists.counts
    if not len(counts):
        return b"", np.zeros(0, dtype=TERM_INFO)
    starts = np.cumsum(counts) - counts
    ids = lists.ids
    id_gaps = np.diff(ids, prepend=0)
    id_gaps[starts] = ids[starts]
    if len(id_gaps) and int(id_gaps.min()) < 0:
        raise ValueError("document ids must increase within each term")
    unit = np.maximum.reduceat(lists.freqs, starts) == 1
    parts = [_Packed(id_gaps, counts)]
    if not unit.all():
        parts.append(_Packed(lists.freqs[np.repeat(~unit, counts)], np.where(unit, 0, counts),
                             skip=unit))
    if kind == POSITIONS:
        parts.append(_Packed(_position_gaps_flat(lists.positions, lists.freqs),
                             np.add.reduceat(lists.freqs, starts)))
    sizes = np.full(len(counts), _TABLE_ROW.size + 1, dtype=np.int64)  # row, flags
    for part in parts:
        sizes += part.sizes
    offsets = np.cumsum(sizes) - sizes
    out = np.zeros(int(sizes.sum()), dtype=np.uint8)
    table, info = _small_tables(lists, starts, offsets)
    _scatter_rows(out, offsets, table.view(np.uint8).reshape(len(counts), -1))
    out[offsets + _TABLE_ROW.size] = (kind << _KIND_SHIFT) | np.where(unit, _UNIT_FREQS, 0)
    at = offsets + _TABLE_ROW.size + 1
    for part in parts:
        part.write(out, at)
        at = at + part.sizes
    return out.tobytes(), info


class _Packed:
    """One packed column of many terms (:func:`_pack_small` each): its values, how
    many belong to each term, and the terms that leave it out (*skip*)."""

    def __init__(self, values: npt.NDArray[np.int64], counts: npt.NDArray[np.int64], *,
                 skip: npt.NDArray[np.bool_] | None = None) -> None:
        self.values = values
        self.counts = counts
        self.skip = np.zeros(len(counts), dtype=bool) if skip is None else skip
        starts = np.cumsum(counts) - counts
        top = np.zeros(len(counts), dtype=np.int64)
        has = counts > 0
        if len(values):
            top[has] = np.maximum.reduceat(values, starts[has])
        self.codes = ((top >= 1 << 8).astype(np.int64) + (top >= 1 << 16)
                      + (top >= 1 << 32))
        self.widths = 1 << self.codes
        self.sizes = np.where(self.skip, 0, 1 + counts * self.widths)

    def write(self, out: npt.NDArray[np.uint8], at: npt.NDArray[np.int64]) -> None:
        """Each term's code byte at *at*, then its values at their width."""
        out[at[~self.skip]] = self.codes[~self.skip]
        keep = ~self.skip
        if not keep.any():
            return
        counts = self.counts
        widths = np.repeat(self.widths, counts)
        firsts = np.repeat(at + 1, counts)
        index = np.arange(len(widths), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts,
                                                                   counts)
        where = firsts + index * widths
        values = self.values.astype(np.uint64)
        for k in range(8):
            wide = widths > k
            if not wide.any():
                break
            out[where[wide] + k] = (values[wide] >> np.uint64(8 * k)) & np.uint64(0xFF)


def _position_gaps_flat(positions: npt.NDArray[np.int64],
                        freqs: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """:func:`_small_position_gaps` of every posting at once."""
    out = np.diff(positions, prepend=0)
    firsts = np.cumsum(freqs) - freqs
    out[firsts] = positions[firsts]
    if len(out) and int(out.min()) < 0:
        raise ValueError("positions must increase within each document")
    return out


def _small_tables(lists: SmallLists, starts: npt.NDArray[np.int64],
                  offsets: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.void],
                                                           npt.NDArray[np.void]]:
    """Each term's block-table row and term info, as :func:`_small_list` makes them."""
    lengths, freqs = lists.lengths, lists.freqs
    ends = starts + lists.counts - 1
    max_weight = np.maximum.reduceat(freqs, starts).astype(np.float32)
    min_len = np.minimum.reduceat(lengths, starts)
    max_len = np.maximum.reduceat(lengths, starts)
    min_nonzero = np.minimum.reduceat(np.where(lengths > 0, lengths, np.iinfo(np.int64).max),
                                      starts)
    min_nonzero[min_nonzero == np.iinfo(np.int64).max] = 0  # none: Whoosh's None
    table = np.zeros(len(starts), dtype=BLOCK_TABLE)
    table["max_id"] = lists.ids[ends]
    table["min_len"] = _length_bytes(min_len)
    table["max_len"] = _length_bytes(max_len)
    table["max_weight"] = max_weight
    info = np.zeros(len(starts), dtype=TERM_INFO)
    info["weight"] = np.add.reduceat(freqs, starts)
    info["df"] = lists.counts
    info["min_len"] = _length_bytes(min_nonzero)
    info["max_len"] = table["max_len"]
    info["max_weight"] = max_weight
    info["min_id"] = lists.ids[starts]
    info["max_id"] = table["max_id"]
    info["offset"] = offsets
    info["blocks"] = 1
    return table, info


def _length_bytes(lengths: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
    """Whoosh's ``length_to_byte`` of each length (worked out once per value)."""
    values, inverse = np.unique(lengths, return_inverse=True)
    found = np.array([length_to_byte(int(v)) for v in values.tolist()], dtype=np.uint8)
    return found[inverse.reshape(-1)]


def _scatter_rows(out: npt.NDArray[np.uint8], offsets: npt.NDArray[np.int64],
                  rows: npt.NDArray[np.uint8]) -> None:
    """Row *i* of *rows* into *out* at ``offsets[i]``."""
    out[offsets[:, None] + np.arange(rows.shape[1])] = rows


def block_table(ids: npt.NDArray[np.int64], weights: npt.NDArray[np.float32],
                lengths: npt.NDArray[np.int64]) -> npt.NDArray[np.void]:
    """The block table of a posting list: per block, last id, min/max length byte
    (as Whoosh quantises lengths) and max weight."""
    starts = np.arange(0, len(ids), BLOCK_POSTINGS)
    table = np.zeros(len(starts), dtype=BLOCK_TABLE)
    if not len(starts):
        return table
    ends = np.minimum(starts + BLOCK_POSTINGS, len(ids))
    table["max_id"] = ids[ends - 1]
    table["max_weight"] = np.maximum.reduceat(weights, starts)
    table["min_len"] = [length_to_byte(int(v)) for v in np.minimum.reduceat(lengths, starts)]
    table["max_len"] = [length_to_byte(int(v)) for v in np.maximum.reduceat(lengths, starts)]
    return table


class PostingList:
    """One term's stored postings; each column decodes (once) when first asked for."""

    def __init__(self, postfile: StructFile, terminfo: VnTermInfo) -> None:
        self.postfile = postfile
        self.count: int = terminfo.doc_frequency()
        at = terminfo.offset
        self.table: npt.NDArray[np.void] = np.frombuffer(
            postfile.get(at, terminfo.blocks * BLOCK_TABLE.itemsize), dtype=BLOCK_TABLE)
        at += len(self.table) * BLOCK_TABLE.itemsize
        self.flags: int = postfile.get(at, 1)[0]
        self.kind = self.flags >> _KIND_SHIFT
        self.ids_at = at + 1
        at = self.ids_at + self._packed_size(self.ids_at, self.count)
        self.freqs_at: int | None = None
        if not self.flags & _UNIT_FREQS:
            self.freqs_at = at
            at += self._packed_size(at, self.count)
        self.weights_at: int | None = None
        if self.flags & _HAS_WEIGHTS:
            self.weights_at = at
            at += 4 * self.count
        self.rest_at = at
        self._ids: npt.NDArray[np.int64] | None = None
        self._freqs: npt.NDArray[np.int64] | None = None
        self._weights: npt.NDArray[np.float64] | None = None
        self._pos_ends: npt.NDArray[np.int64] | None = None

    def _packed_size(self, at: int, count: int) -> int:
        return packed_size(self.postfile.get(at, 1), 0, count)

    def _unpack(self, at: int, count: int, start: int = 0,
                stop: int | None = None) -> npt.NDArray[np.int64]:
        """Items ``start:stop`` of the packed array at *at*, reading only their bytes."""
        stop = count if stop is None else stop
        return self._stored(at, start, stop).astype(np.int64)

    def _stored(self, at: int, start: int, stop: int) -> npt.NDArray[np.integer[Any]]:
        """Items ``start:stop`` of the packed array at *at*, at the width they were
        stored (:func:`~search.codec.packing.stored_ints`; only their bytes read)."""
        code = self.postfile.get(at, 1)[0]
        width = WIDTHS[code].itemsize
        return stored_ints(code, self.postfile.get(at + 1 + start * width, (stop - start) * width))

    def ids(self) -> npt.NDArray[np.int64]:
        """Every document id, ascending (int64)."""
        if self._ids is None:
            self._ids = np.cumsum(self._unpack(self.ids_at, self.count))
        return self._ids

    def freqs(self) -> npt.NDArray[np.int64]:
        """How often the term occurs in each document (int64)."""
        if self._freqs is None:
            self._freqs = (np.ones(self.count, dtype=np.int64) if self.freqs_at is None
                           else self._unpack(self.freqs_at, self.count))
        return self._freqs

    def weights(self) -> npt.NDArray[np.float64]:
        """Each posting's weight (float64 holding Whoosh's float32 value)."""
        if self._weights is None:
            self._weights = self.stored_weights().astype(np.float32, copy=False).astype(np.float64)
        return self._weights

    def stored_weights(self) -> npt.NDArray[np.number[Any]]:
        """Each posting's weight at the width it is stored: the frequencies
        (unsigned, read-only) where they are the weights, as in a text field, else
        float32. :meth:`weights` widens them to float64 for Whoosh; the fast path
        keeps them narrow, and then they need no conversion at all."""
        if self.weights_at is not None:
            return np.frombuffer(self.postfile.get(self.weights_at, 4 * self.count), dtype="<f4")
        if self.freqs_at is None:
            return np.ones(self.count, dtype=np.uint8)
        return self._stored(self.freqs_at, 0, self.count)

    def position_ends(self) -> npt.NDArray[np.int64]:
        """Where each posting's positions end in the flat positions column."""
        if self._pos_ends is None:
            self._pos_ends = np.cumsum(self.freqs())
        return self._pos_ends

    def positions_of(self, lo: int, hi: int) -> npt.NDArray[np.integer[Any]]:
        """The absolute positions of postings ``lo:hi``, flat (only their bytes read).

        Positions stored as they are come back at their stored width, read-only:
        no copy of an everyday word's megabytes. Gaps are summed into int64."""
        if self.kind != POSITIONS:
            raise ValueError("this field has no positions")
        ends = self.position_ends()
        start = int(ends[lo - 1]) if lo else 0
        stop = int(ends[hi - 1]) if hi else 0
        stored = self._stored(self.rest_at, start, stop)
        if self.flags & _ABSOLUTE_POSITIONS:
            return stored
        return absolute_positions(stored.astype(np.int64), self.freqs()[lo:hi], in_place=True)

    def values(self) -> tuple[bytes, ...]:
        """Opaque per-posting values (formats stored without arrays)."""
        lengths = self._unpack(self.rest_at, self.count)
        at = self.rest_at + self._packed_size(self.rest_at, self.count)
        data: bytes = self.postfile.get(at, int(lengths.sum()))
        ends: list[int] = np.cumsum(lengths).tolist()
        return tuple(data[s:e] for s, e in zip([0, *ends[:-1]], ends, strict=True))

    def positions(self, docs: np.ndarray) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64],
                                                   npt.NDArray[np.integer[Any]]]:
        """Positions of those *docs* that hold the term, decoding only the blocks
        that hold them: ``(found, starts, flat)``; document ``found[i]``'s positions
        are ``flat[starts[i]:starts[i + 1]]``."""
        ids = self.ids()
        docs = np.asarray(docs, dtype=np.int64)
        if len(docs) == len(ids) and self.count and np.array_equal(docs, ids):
            # The whole list (what the cache of decoded lists asks for): no rows to
            # find, no blocks to pick, every position kept.
            starts = np.zeros(self.count + 1, dtype=np.int64)
            starts[1:] = self.position_ends()
            return ids.copy(), starts, self.positions_of(0, self.count)
        rows = np.searchsorted(ids, docs)
        rows = (rows[(rows < len(ids)) & (ids[np.minimum(rows, len(ids) - 1)] == docs)]
                if len(ids) else rows[:0])
        # Callers mostly pass sorted, distinct documents: sorting again is most of
        # the cost of a first read, so only rows out of order are sorted.
        if len(rows) > 1 and not bool(np.all(rows[1:] > rows[:-1])):
            rows = np.unique(rows)
        freqs = self.freqs()
        flats: list[npt.NDArray[np.integer[Any]]] = []
        in_block = rows // BLOCK_POSTINGS
        blocks = in_block[np.concatenate(([True], in_block[1:] != in_block[:-1]))] \
            if len(in_block) else in_block
        # Runs of consecutive blocks decode together.
        for run in np.split(blocks, np.flatnonzero(np.diff(blocks) != 1) + 1):
            if not len(run):
                continue
            lo = int(run[0]) * BLOCK_POSTINGS
            hi = min((int(run[-1]) + 1) * BLOCK_POSTINGS, self.count)
            flat = self.positions_of(lo, hi)
            wanted = rows[(rows >= lo) & (rows < hi)]
            if len(wanted) == hi - lo:  # every posting of the run: nothing to drop
                flats.append(flat)
                continue
            keep = np.zeros(hi - lo, dtype=bool)
            keep[wanted - lo] = True
            flats.append(flat[np.repeat(keep, freqs[lo:hi])])
        counts = freqs[rows]
        starts = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        flat = np.concatenate(flats) if flats else np.empty(0, np.int64)
        return ids[rows], starts, flat


class VnLeafMatcher(LeafMatcher):
    """Whoosh's matcher over a :class:`PostingList`, for everything not on the fast
    path (phrases, patterns, facets, sorting, Whoosh's own scoring)."""

    def __init__(self, postings: PostingList, format_: Format, *,
                 term: tuple[str, bytes] | None = None,
                 scorer: BaseScorer | None = None) -> None:
        self.postings = postings
        self.format = format_
        self._term = term  # the name LeafMatcher.term() reads
        self.scorer = scorer
        self.idlist: list[int] = postings.ids().tolist()
        self.weightlist: list[float] = postings.weights().tolist()
        self.i = 0
        self.block_positions: tuple[int, npt.NDArray[np.int64],
                                    npt.NDArray[np.integer[Any]]] | None = None

    def reset(self) -> None:
        self.i = 0

    def copy(self) -> VnLeafMatcher:
        twin = VnLeafMatcher(self.postings, self.format, term=self._term, scorer=self.scorer)
        twin.i = self.i
        return twin

    def is_active(self) -> bool:
        return self.i < len(self.idlist)

    def id(self) -> int:
        return self.idlist[self.i]

    def all_ids(self) -> Iterator[int]:
        return iter(self.idlist[self.i:])

    def weight(self) -> float:
        return self.weightlist[self.i]

    def value(self) -> bytes:
        """The posting's value bytes exactly as Whoosh's format encodes them."""
        kind = self.postings.kind
        if kind == EXISTENCE:
            return b""
        if kind == FREQUENCY:
            packed: bytes = pack_uint(int(self.postings.freqs()[self.i]))
            return packed
        if kind == POSITIONS:
            encoded: bytes = self.format.encode(self._positions())
            return encoded
        return self.postings.values()[self.i]

    def _positions(self) -> list[int]:
        block = self.i // BLOCK_POSTINGS
        if self.block_positions is None or self.block_positions[0] != block:
            lo = block * BLOCK_POSTINGS
            hi = min(lo + BLOCK_POSTINGS, self.postings.count)
            starts = np.concatenate(([0], np.cumsum(self.postings.freqs()[lo:hi])))
            self.block_positions = (block, starts, self.postings.positions_of(lo, hi))
        _, starts, flat = self.block_positions
        k = self.i % BLOCK_POSTINGS
        positions: list[int] = flat[starts[k]:starts[k + 1]].tolist()
        return positions

    def value_as(self, astype: str) -> object:
        kind = self.postings.kind
        if kind == POSITIONS and astype == "positions":
            return self._positions()
        if astype == "frequency" and kind != OPAQUE:
            return int(self.postings.freqs()[self.i])
        return super().value_as(astype)

    def next(self) -> bool:
        """Move on; True when that entered a new block (as W3's matcher reports)."""
        self.i += 1
        return self.i % BLOCK_POSTINGS == 0

    def skip_to(self, targetid: int) -> None:
        if not self.is_active():
            raise ReadTooFar
        if targetid > self.idlist[self.i]:
            self.i = int(np.searchsorted(self.postings.ids(), targetid))

    def skip_to_quality(self, minquality: float) -> int:
        skipped = 0
        while self.is_active() and self.block_quality() <= minquality:
            self.i = (self.i // BLOCK_POSTINGS + 1) * BLOCK_POSTINGS
            skipped += 1
        return skipped

    def _row(self) -> np.void:
        row: np.void = self.postings.table[self.i // BLOCK_POSTINGS]
        return row

    def block_min_id(self) -> int:
        return self.idlist[self.i // BLOCK_POSTINGS * BLOCK_POSTINGS]

    def block_max_id(self) -> int:
        return int(self._row()["max_id"])

    def block_min_length(self) -> int:
        length: int = byte_to_length(int(self._row()["min_len"]))
        return length

    def block_max_length(self) -> int:
        length: int = byte_to_length(int(self._row()["max_len"]))
        return length

    def block_max_weight(self) -> float:
        return float(self._row()["max_weight"])
