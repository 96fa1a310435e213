"""The posting block encoding: delta-coded integer arrays numpy decodes without pickle.

A posting list is cut into blocks of :data:`BLOCK_POSTINGS` postings. Each block holds
its document ids (first id, then gaps), frequencies, optional weights (only when they
differ from the frequencies, as a float32 array) and optional positions (gaps inside
each document) or opaque per-posting values (for formats other than Whoosh's
``Existence``/``Frequency``/``Positions``, which vnsearch's schema does not use).

Every integer array is stored at the narrowest little-endian width its largest value
fits (``uint8``/``uint16``/``uint32``), chosen per array per block: ``bench/codec.py``
measured this against raw ``uint32`` and against zlib over either, and it decodes
~10× faster than zlib for ~1.3× the bytes (see the table in the module's report).
Decoding is ``np.frombuffer`` + ``cumsum``: no Python loop per posting.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np

#: Postings per block: the unit a matcher skips over and a reader decodes.
BLOCK_POSTINGS = 128

#: Integer widths by code (the byte in front of each packed array).
_WIDTHS = (np.dtype("<u1"), np.dtype("<u2"), np.dtype("<u4"), np.dtype("<u8"))

#: flags, posting count, first document id.
_HEADER = struct.Struct("<BHI")

_HAS_WEIGHTS = 1
_HAS_POSITIONS = 2
_HAS_VALUES = 4
_ZLIB = 8

_EMPTY = np.empty(0, dtype=np.int64)


@dataclass(frozen=True)
class Block:
    """One decoded block: arrays of equal length per posting (positions flat)."""

    ids: np.ndarray
    freqs: np.ndarray
    weights: np.ndarray
    #: All postings' positions, absolute, document after document (``freqs`` each);
    #: ``None`` when the block's format has no positions.
    positions: np.ndarray | None = None
    #: Opaque per-posting values (formats vnsearch does not use), else ``None``.
    values: tuple[bytes, ...] | None = None


def pack_ints(values: np.ndarray) -> bytes:
    """Non-negative integers at the narrowest width holding the largest: a width
    code byte, then the raw little-endian array."""
    top = int(values.max()) if len(values) else 0
    if top < 0:
        raise ValueError("pack_ints takes non-negative integers")
    code = 0 if top < 1 << 8 else 1 if top < 1 << 16 else 2 if top < 1 << 32 else 3
    return bytes((code,)) + np.asarray(values).astype(_WIDTHS[code]).tobytes()


def unpack_ints(buf: bytes | memoryview, offset: int, count: int) -> tuple[np.ndarray, int]:
    """The *count* integers :func:`pack_ints` wrote at *offset*, and the offset after."""
    dtype = _WIDTHS[buf[offset]]
    end = offset + 1 + count * dtype.itemsize
    return np.frombuffer(buf, dtype=dtype, count=count, offset=offset + 1).astype(np.int64), end


def encode_block(ids: np.ndarray, freqs: np.ndarray, *,
                 weights: np.ndarray | None = None,
                 positions: np.ndarray | None = None,
                 values: list[bytes] | None = None,
                 compress: bool = False) -> bytes:
    """Encode one block of postings (ids strictly increasing, at most 65,535).

    *weights* is stored only when it differs from *freqs* (as float32, Whoosh's own
    weight precision); *positions* are each document's positions, concatenated.
    *compress* adds zlib over the arrays (measured slower to decode; kept for the
    benchmark's comparison).
    """
    ids = np.asarray(ids, dtype=np.int64)
    freqs = np.asarray(freqs, dtype=np.int64)
    flags = 0
    parts = [pack_ints(np.diff(ids)) if len(ids) > 1 else pack_ints(_EMPTY), pack_ints(freqs)]
    if weights is not None:
        w32 = np.asarray(weights, dtype=np.float32)
        if not np.array_equal(w32, freqs.astype(np.float32)):
            flags |= _HAS_WEIGHTS
            parts.append(w32.astype("<f4").tobytes())
    if positions is not None:
        flags |= _HAS_POSITIONS
        parts.append(pack_ints(_position_gaps(np.asarray(positions, dtype=np.int64), freqs)))
    if values is not None:
        flags |= _HAS_VALUES
        parts.append(pack_ints(np.fromiter((len(v) for v in values), np.int64, len(values))))
        parts.append(b"".join(values))
    body = b"".join(parts)
    if compress:
        flags |= _ZLIB
        body = zlib.compress(body, 1)
    return _HEADER.pack(flags, len(ids), int(ids[0])) + body


def decode_ids(buf: bytes | memoryview) -> np.ndarray:
    """Only a block's document ids (what intersections and skips need)."""
    flags, count, first = _HEADER.unpack_from(buf, 0)
    body = _body(buf, flags)
    gaps, _ = unpack_ints(body, 0, count - 1)
    return _ids(first, gaps)


def decode_block(buf: bytes | memoryview) -> Block:
    """Everything in a block :func:`encode_block` wrote."""
    flags, count, first = _HEADER.unpack_from(buf, 0)
    body = _body(buf, flags)
    gaps, at = unpack_ints(body, 0, count - 1)
    freqs, at = unpack_ints(body, at, count)
    if flags & _HAS_WEIGHTS:
        weights = np.frombuffer(body, dtype="<f4", count=count, offset=at).astype(np.float64)
        at += 4 * count
    else:
        weights = freqs.astype(np.float32).astype(np.float64)
    positions = None
    if flags & _HAS_POSITIONS:
        pgaps, at = unpack_ints(body, at, int(freqs.sum()))
        positions = _absolute_positions(pgaps, freqs)
    values = None
    if flags & _HAS_VALUES:
        lengths, at = unpack_ints(body, at, count)
        ends = (at + np.cumsum(lengths)).tolist()
        starts = [at, *ends[:-1]]
        values = tuple(bytes(body[s:e]) for s, e in zip(starts, ends, strict=True))
    return Block(_ids(first, gaps), freqs, weights, positions, values)


def _body(buf: bytes | memoryview, flags: int) -> bytes | memoryview:
    body = memoryview(buf)[_HEADER.size:]
    return zlib.decompress(body) if flags & _ZLIB else body


def _ids(first: int, gaps: np.ndarray) -> np.ndarray:
    ids = np.empty(len(gaps) + 1, dtype=np.int64)
    ids[0] = first
    np.cumsum(gaps, out=ids[1:])
    ids[1:] += first
    return ids


def _position_gaps(positions: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """Gaps between a document's positions; each document's first stays absolute."""
    gaps = np.diff(positions, prepend=0)
    firsts = np.cumsum(freqs)[:-1]
    firsts = firsts[firsts < len(positions)]
    gaps[firsts] = positions[firsts]
    if (gaps < 0).any():
        raise ValueError("positions must increase within each document")
    return gaps


def _absolute_positions(gaps: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """Undo :func:`_position_gaps`: a running sum restarted at each document."""
    total = np.cumsum(gaps)
    starts = np.cumsum(freqs) - freqs
    starts = starts[freqs > 0]
    if len(starts) == 0:
        return total
    base = np.zeros(len(gaps), dtype=np.int64)
    before = np.concatenate(([0], total[starts[1:] - 1])) if len(starts) > 1 else np.zeros(1, np.int64)
    base[starts] = before - np.concatenate(([0], before[:-1]))
    return total - np.cumsum(base)
