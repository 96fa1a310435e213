"""Decoding the bytes of Whoosh's whoosh3 posting blocks in bulk.

A whoosh3 block is the zlib-compressed pickle of ``(ids, weights, values)``, each
value one posting's positions, pickled again. Unpickling them posting by posting is
most of what reading a list costs; these functions walk a list's blocks as stored
(:func:`raw_blocks`), read a block's ids and weights without its values
(:func:`ids_and_weights`), and the positions of many postings at once with numpy
(:class:`Gaps`). :mod:`search.posting_arrays` is their one user: it caches what
they decode to.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from pickle import loads
from typing import NamedTuple

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.filedb.structfile import StructFile

#: A block's weights as Whoosh pickles them: one per posting, one for all (every
#: posting's the same), or ``None`` (all 1).
Weights = Sequence[float] | float | None
#: A block as its pickle reads: ``(ids or id gaps, weights, position values)``; the
#: values ``None`` when only the block's head was read.
Block = tuple[Sequence[int], Weights, Sequence[bytes] | None]


class RawBlock(NamedTuple):
    """One block of a whoosh3 posting list as stored: where it lies, and its bytes."""

    last_id: int
    start: int  # offset of its data in the postings file
    end: int
    compressed: bool
    length: int  # postings in it
    data: bytes


def raw_blocks(m: W3LeafMatcher) -> Iterator[RawBlock]:
    """The blocks of the posting list *m* reads, from its current block on, as stored
    (moving *m* along). Whoosh has no public way to walk a list's blocks: this reads
    the matcher's block header, the one place that does."""
    postfile = m._postfile
    while True:
        start, end = m._dataoffset, m._nextoffset
        yield RawBlock(m._maxid, start, end, bool(m._compression), m._blocklength,
                       postfile.get(start, end - start))
        if m._lastblock:
            return
        m._goto(m._nextoffset)


def read_block(postfile: StructFile, start: int, end: int, *,
               compressed: int) -> tuple[np.ndarray, Weights, Sequence[bytes]]:
    """One whoosh3 block, whole: ``(ids, weights, position values)``, ids decoded."""
    data = postfile.get(start, end - start)
    block: tuple[Sequence[int], Weights, Sequence[bytes]] = loads(
        zlib.decompress(data) if compressed else data)
    return np.cumsum(np.asarray(block[0], dtype=np.int64)), block[1], block[2]


# A whoosh3 block is the zlib-compressed pickle (protocol 2) of ``(ids, weights,
# values)``. Protocol 2 has no bytes opcode, so each value (a posting's positions)
# unpickles through a call to ``_codecs.encode``: most of a block's decoding time.
# The values come last, so for ids and weights only the head of the block is
# inflated and unpickled with a ``None`` in place of the values.
_VALUES_START = b"(c_codecs\nencode\n"
#: Inflated bytes that always hold a block's ids and weights: at most 5 bytes per id
#: (``J`` + int32) and 9 per weight (``G`` + double), plus the pickle's framing.
_HEAD_PER_POSTING, _HEAD_EXTRA = 14, 64


def ids_and_weights(data: bytes, compressed: bool, length: int) -> Block:
    """``(id gaps, weights, None)`` of a block, without unpickling its values."""
    if compressed:
        inflater = zlib.decompressobj()
        head = inflater.decompress(data, length * _HEAD_PER_POSTING + _HEAD_EXTRA)
    else:
        inflater, head = None, data
    cut = head.find(_VALUES_START)
    if length > 3 and cut > 0:  # 4+ values pickle as MARK … TUPLE, so "(" opens them
        try:
            block = loads(head[:cut] + b"N\x87.")
        except Exception:  # the marker's bytes inside an id or weight: read it all
            block = None
        if isinstance(block, tuple) and len(block) == 3 and len(block[0]) == length:
            return block
    if inflater is not None:
        head += inflater.decompress(inflater.unconsumed_tail) + inflater.flush()
    whole: Block = loads(head)
    return whole


# Whoosh stores a posting's positions as a 4-byte count and the pickle (protocol 2)
# of the list of gaps: ``\x80\x02]q\x00`` then, for one gap, the gap and ``a.``;
# for more, ``(``, the gaps and ``e.``. A gap under 256 pickles as ``K`` + one byte,
# under 65,536 as ``M`` + two. So a posting whose pickle has exactly the length of
# all-``K`` gaps (the usual case), or of one ``M`` first gap (the first position is
# absolute) and ``K`` gaps after, is read straight from the bytes, all postings at
# once with numpy. Anything else (a bigger gap, 1,000+ positions) is unpickled.
_K, _M, _MARK = ord("K"), ord("M"), ord("(")


class Gaps:
    """Position gaps of many postings, gathered in order, decoded in bulk."""

    def __init__(self) -> None:
        self.values: list[bytes] = []
        self.other = 0  # postings that needed the unpickler (for tests)

    def add(self, values: Iterable[bytes]) -> None:
        self.values.extend(values)

    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        """``(starts, positions)``: posting *i* holds ``positions[starts[i]:starts[i + 1]]``."""
        values = self.values
        if not values:
            return np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)
        raw = np.frombuffer(b"".join(values), dtype=np.uint8)
        lens = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
        offs = np.zeros(len(values), dtype=np.int64)
        np.cumsum(lens[:-1], out=offs[1:])
        head = raw[offs[:, None] + np.arange(4)].astype(np.int64)
        n = head[:, 0] << 24 | head[:, 1] << 16 | head[:, 2] << 8 | head[:, 3]
        first_at = offs + np.where(n == 1, 9, 10)  # the first gap's opcode
        opcode = raw[np.minimum(first_at, len(raw) - 1)]
        many_ok = (n > 1) & (raw[np.minimum(offs + 9, len(raw) - 1)] == _MARK)
        # First gap byte and where the K gaps start, for the two readable shapes.
        all_k = ((n == 1) & (lens == 13) | many_ok & (lens == 12 + 2 * n)) & (opcode == _K)
        m_first = ((n == 1) & (lens == 14) | many_ok & (lens == 13 + 2 * n)) & (opcode == _M)
        counts = n.copy()
        unread = ~(all_k | m_first)
        slow = np.flatnonzero(unread)
        lists = _unpickle_lists([values[i] for i in slow.tolist()])
        counts[slow] = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        self.other = len(slow)
        starts = np.zeros(len(values) + 1, dtype=np.int64)
        np.cumsum(counts, out=starts[1:])
        gaps = np.empty(int(starts[-1]), dtype=np.int64)
        # K gaps: every other byte from the first K opcode's argument on.
        k_from = np.where(all_k, first_at + 1, first_at + 4)  # past M, its two bytes, K
        k_count = np.where(all_k, n, np.where(m_first, n - 1, 0))
        k_dest = np.where(all_k, starts[:-1], starts[:-1] + 1)
        run = np.repeat(np.arange(len(values)), k_count)
        within = np.arange(len(run)) - np.repeat(np.cumsum(k_count) - k_count, k_count)
        k_src = k_from[run] + 2 * within
        if len(k_src) and not (raw[k_src - 1] == _K).all():
            raise ValueError("unexpected opcode in a positions pickle")
        gaps[k_dest[run] + within] = raw[k_src]
        m = np.flatnonzero(m_first)
        gaps[starts[m]] = raw[first_at[m] + 1].astype(np.int64) | raw[first_at[m] + 2].astype(
            np.int64) << 8
        if len(slow):
            at = np.repeat(starts[slow], counts[slow])
            at += np.arange(len(at)) - np.repeat(np.cumsum(counts[slow]) - counts[slow],
                                                 counts[slow])
            gaps[at] = np.fromiter(chain.from_iterable(lists), dtype=np.int64, count=len(at))
        return starts, _absolute(starts, counts, gaps)


def _unpickle_lists(values: list[bytes]) -> list[list[int]]:
    """The gap lists of position values, unpickled in one call.

    Each value's pickle (after its 4-byte count) is ``\\x80\\x02``, ops that push one
    list, and ``.``; the ops of all of them between a MARK and LIST build the list
    of lists at once, without a call and a new unpickler per posting.
    """
    if not values:
        return []
    lists: list[list[int]] = loads(b"\x80\x02(" + b"".join(v[6:-1] for v in values) + b"l.")
    return lists


def _absolute(starts: np.ndarray, counts: np.ndarray, deltas: np.ndarray) -> np.ndarray:
    """Per-posting runs of gaps (run *i* is ``deltas[starts[i]:starts[i + 1]]``, of
    ``counts[i]``) → absolute positions, each run summed from 0."""
    total = np.cumsum(deltas)
    before = np.concatenate(([0], total))[starts[:-1]]  # running sum before each run
    absolute: np.ndarray = total - np.repeat(before, counts)
    return absolute
