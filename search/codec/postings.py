"""Posting lists on disk: the writer, the term info, Whoosh's matcher, and the arrays.

One term's postings are a block table (one fixed-size row per block: last id, end
offset, posting count, min/max length byte, max weight) followed by the blocks
(:mod:`search.codec.blocks`). The table lets Whoosh's matcher skip blocks (by id or
by score bound) without decoding them, and lets the fast scorer read a whole list,
or only the blocks holding some documents, straight into numpy arrays.

Whoosh's ``Existence``/``Frequency``/``Positions`` formats are stored as arrays (the
matcher re-creates their value bytes only when Whoosh asks for ``value()``); any
other format's values are kept as opaque bytes.
"""

from __future__ import annotations

import struct

import numpy as np
from whoosh.codec.base import PostingsWriter
from whoosh.formats import Existence, Format, Frequency, Positions
from whoosh.matching import LeafMatcher, ReadTooFar
from whoosh.reading import TermInfo
from whoosh.system import pack_uint, unpack_uint
from whoosh.util.numeric import byte_to_length, length_to_byte

from search.codec.blocks import BLOCK_POSTINGS, Block, decode_block, decode_ids, encode_block

#: One row of a term's block table.
BLOCK_TABLE = np.dtype([("max_id", "<u4"), ("end", "<u4"), ("count", "<u2"),
                        ("min_len", "u1"), ("max_len", "u1"), ("max_weight", "<f4")])

#: How a format's postings are kept.
EXISTENCE, FREQUENCY, POSITIONS, OPAQUE = range(4)


def format_kind(format_: Format) -> int:
    """Which of the array layouts a Whoosh format's postings use (exact type: a
    subclass may encode its values differently, so it is kept opaque)."""
    return {Existence: EXISTENCE, Frequency: FREQUENCY, Positions: POSITIONS}.get(
        type(format_), OPAQUE)


class VnTermInfo(TermInfo):
    """Whoosh's term statistics plus where the term's block table starts."""

    #: weight (float32, as W3 keeps it), df, min/max length byte, max weight, min/max id, offset, block count
    _STRUCT = struct.Struct("<fIBBfIIQI")

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
    def from_bytes(cls, data: bytes) -> VnTermInfo:
        """Read back :meth:`to_bytes`."""
        weight, df, minlen, maxlen, maxweight, minid, maxid, offset, blocks = \
            cls._STRUCT.unpack(data)
        return cls(weight=weight, df=df, minlength=byte_to_length(minlen),
                   maxlength=byte_to_length(maxlen), maxweight=maxweight,
                   minid=minid, maxid=maxid, offset=offset, blocks=blocks)


class VnPostingsWriter(PostingsWriter):
    """Collects one term's postings at a time and writes them as a table + blocks."""

    def __init__(self, postfile, *, compress: bool = False) -> None:
        self.postfile = postfile
        self.compress = compress
        self.blockcount = 0
        self._reset(None)

    def _reset(self, format_: Format | None) -> None:
        self.format = format_
        self.kind = format_kind(format_) if format_ is not None else OPAQUE
        self.ids: list[int] = []
        self.weights: list[float] = []
        self.freqs: list[int] = []
        self.positions: list[int] = []
        self.values: list[bytes] = []
        self.lengths: list[int] = []

    def written(self) -> bool:
        return self.blockcount > 0

    def start_postings(self, format_: Format, terminfo: TermInfo) -> None:
        self._reset(format_)

    def add_posting(self, id_: int, weight: float, vbytes: bytes, length: int | None = None) -> None:
        """Buffer one posting (Whoosh calls this once per posting, in id order)."""
        self.ids.append(id_)
        self.weights.append(weight)
        self.lengths.append(length or 0)
        if self.kind == EXISTENCE:
            self.freqs.append(1)
        elif self.kind == FREQUENCY:
            self.freqs.append(unpack_uint(vbytes)[0] if vbytes else 1)
        elif self.kind == POSITIONS:
            poses = self.format.decode_positions(vbytes) if vbytes else []
            self.freqs.append(len(poses))
            self.positions.extend(poses)
        else:
            self.freqs.append(1)
            self.values.append(vbytes)

    def add_arrays(self, ids: np.ndarray, freqs: np.ndarray, *, weights: np.ndarray,
                   lengths: np.ndarray, positions: np.ndarray | None = None) -> None:
        """Buffer a whole posting list at once (for a bulk builder: no per-posting call)."""
        self.ids.extend(np.asarray(ids).tolist())
        self.freqs.extend(np.asarray(freqs).tolist())
        self.weights.extend(np.asarray(weights).tolist())
        self.lengths.extend(np.asarray(lengths).tolist())
        if positions is not None:
            self.positions.extend(np.asarray(positions).tolist())

    def finish_postings(self) -> VnTermInfo:
        """Write the buffered list; return its term info."""
        ids = np.asarray(self.ids, dtype=np.int64)
        freqs = np.asarray(self.freqs, dtype=np.int64)
        weights = np.asarray(self.weights, dtype=np.float32)
        lengths = np.asarray(self.lengths, dtype=np.int64)
        positions = np.asarray(self.positions, dtype=np.int64)
        pos_ends = np.cumsum(freqs)
        blobs: list[bytes] = []
        table = np.zeros((len(ids) + BLOCK_POSTINGS - 1) // BLOCK_POSTINGS, dtype=BLOCK_TABLE)
        end = 0
        for b, lo in enumerate(range(0, len(ids), BLOCK_POSTINGS)):
            hi = min(lo + BLOCK_POSTINGS, len(ids))
            blob = self._block(ids, freqs, weights, positions, pos_ends, lo, hi)
            blobs.append(blob)
            end += len(blob)
            block_lengths = lengths[lo:hi]
            table[b] = (ids[hi - 1], end, hi - lo, length_to_byte(int(block_lengths.min())),
                        length_to_byte(int(block_lengths.max())), weights[lo:hi].max())
        offset = self.postfile.tell()
        self.postfile.write(table.tobytes())
        self.postfile.write(b"".join(blobs))
        self.blockcount += len(blobs)
        nonzero = lengths[lengths > 0]
        info = VnTermInfo(
            weight=sum(weights.tolist()), df=len(ids),
            minlength=int(nonzero.min()) if len(nonzero) else None,
            maxlength=int(lengths.max()) if len(lengths) else 0,
            maxweight=float(weights.max()) if len(weights) else 0,
            minid=int(ids[0]) if len(ids) else None, maxid=int(ids[-1]) if len(ids) else 0,
            offset=offset, blocks=len(blobs))
        self._reset(None)
        return info

    def _block(self, ids: np.ndarray, freqs: np.ndarray, weights: np.ndarray,
               positions: np.ndarray, pos_ends: np.ndarray, lo: int, hi: int) -> bytes:
        block_positions = None
        if self.kind == POSITIONS:
            start = int(pos_ends[lo - 1]) if lo else 0
            block_positions = positions[start:int(pos_ends[hi - 1])]
        values = self.values[lo:hi] if self.kind == OPAQUE else None
        return encode_block(ids[lo:hi], freqs[lo:hi], weights=weights[lo:hi],
                            positions=block_positions, values=values, compress=self.compress)


class PostingList:
    """One term's stored postings: the block table and decoding of any blocks."""

    def __init__(self, postfile, terminfo: VnTermInfo) -> None:
        self.postfile = postfile
        start = terminfo.offset
        self.table = np.frombuffer(
            postfile.get(start, terminfo.blocks * BLOCK_TABLE.itemsize), dtype=BLOCK_TABLE)
        self.data_start = start + len(self.table) * BLOCK_TABLE.itemsize
        ends = self.table["end"].astype(np.int64)
        self.starts = np.concatenate(([0], ends[:-1]))
        self.ends = ends

    def raw(self, b: int) -> bytes:
        """The encoded bytes of block *b*."""
        start = int(self.starts[b])
        return self.postfile.get(self.data_start + start, int(self.ends[b]) - start)

    def block(self, b: int) -> Block:
        return decode_block(self.raw(b))

    def block_ids(self, b: int) -> np.ndarray:
        return decode_ids(self.raw(b))

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """All document ids (int64) and weights (float64, Whoosh's float32 values)."""
        if not len(self.table):
            return np.empty(0, np.int64), np.empty(0, np.float64)
        blocks = [self.block(b) for b in range(len(self.table))]
        return (np.concatenate([b.ids for b in blocks]),
                np.concatenate([b.weights for b in blocks]))

    def positions(self, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Positions of *docs* (sorted ids) that hold the term, decoding only the
        blocks that can hold them: ``(found_docs, starts, flat)``, where document
        ``found_docs[i]``'s positions are ``flat[starts[i]:starts[i + 1]]``."""
        docs = np.asarray(docs, dtype=np.int64)
        wanted = np.unique(np.searchsorted(self.table["max_id"].astype(np.int64), docs))
        wanted = wanted[wanted < len(self.table)]
        found, counts, flats = [], [], []
        for b in wanted.tolist():
            block = self.block(b)
            if block.positions is None:
                raise ValueError("this field has no positions")
            keep = np.isin(block.ids, docs)
            take = np.repeat(keep, block.freqs)
            found.append(block.ids[keep])
            counts.append(block.freqs[keep])
            flats.append(block.positions[take])
        if not found:
            empty = np.empty(0, np.int64)
            return empty, np.zeros(1, np.int64), empty
        counts_all = np.concatenate(counts)
        starts = np.concatenate(([0], np.cumsum(counts_all)))
        return np.concatenate(found), starts, np.concatenate(flats)


class VnLeafMatcher(LeafMatcher):
    """Whoosh's matcher over a :class:`PostingList`, block by block, for everything
    not on the fast path (phrases, patterns, facets, sorting, Whoosh's own scoring)."""

    def __init__(self, postings: PostingList, format_: Format, *,
                 term: tuple[str, bytes] | None = None, scorer=None) -> None:
        self.postings = postings
        self.format = format_
        self.kind = format_kind(format_)
        self._term = term  # LeafMatcher.term() reads this name
        self.scorer = scorer
        self.reset()

    def reset(self) -> None:
        self.blockno = 0
        self._load(0)

    def copy(self) -> VnLeafMatcher:
        twin = VnLeafMatcher(self.postings, self.format, term=self._term, scorer=self.scorer)
        twin.blockno = self.blockno
        twin._load(self.blockno)
        twin.i = self.i
        return twin

    def _load(self, b: int) -> None:
        self.blockno = b
        self.i = 0
        self.current: Block | None = None
        if b < len(self.postings.table):
            self.current = self.postings.block(b)
            self.ids = self.current.ids.tolist()

    def is_active(self) -> bool:
        return self.current is not None

    def id(self) -> int:
        return self.ids[self.i]

    def weight(self) -> float:
        return float(self.current.weights[self.i])

    def value(self) -> bytes:
        """The posting's value bytes exactly as Whoosh's format encodes them."""
        block = self.current
        if self.kind == EXISTENCE:
            return b""
        if self.kind == FREQUENCY:
            return pack_uint(int(block.freqs[self.i]))
        if self.kind == POSITIONS:
            return self.format.encode(self._positions())
        return block.values[self.i]

    def _positions(self) -> list[int]:
        block = self.current
        start = int(block.freqs[:self.i].sum())
        return block.positions[start:start + int(block.freqs[self.i])].tolist()

    def value_as(self, astype: str):
        if self.kind == POSITIONS and astype == "positions":
            return self._positions()
        if astype == "frequency" and self.kind != OPAQUE:
            return int(self.current.freqs[self.i])
        return super().value_as(astype)

    def next(self) -> bool:
        self.i += 1
        if self.i >= len(self.ids):
            self._load(self.blockno + 1)
            return True
        return False

    def skip_to(self, targetid: int) -> None:
        if not self.is_active():
            raise ReadTooFar
        if targetid <= self.id():
            return
        table = self.postings.table
        if targetid > int(table["max_id"][self.blockno]):
            b = int(np.searchsorted(table["max_id"], targetid))
            self._load(b)
            if not self.is_active():
                return
        self.i = int(np.searchsorted(self.current.ids, targetid))

    def skip_to_quality(self, minquality: float) -> int:
        skipped = 0
        while self.is_active() and self.block_quality() <= minquality:
            self._load(self.blockno + 1)
            skipped += 1
        return skipped

    def block_min_id(self) -> int:
        return self.ids[0]

    def block_max_id(self) -> int:
        return int(self.postings.table["max_id"][self.blockno])

    def block_min_length(self) -> int:
        return byte_to_length(int(self.postings.table["min_len"][self.blockno]))

    def block_max_length(self) -> int:
        return byte_to_length(int(self.postings.table["max_len"][self.blockno]))

    def block_max_weight(self) -> float:
        return float(self.postings.table["max_weight"][self.blockno])
