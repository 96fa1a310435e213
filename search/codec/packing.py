"""Integer arrays as bytes numpy reads back directly: the codec's integer encoding.

Each array is stored at the narrowest little-endian width its largest value fits
(``uint8``/``uint16``/``uint32``/``uint64``), after a one-byte width code. Document
ids are stored as gaps, which keeps them small; positions as gaps in one-block lists
and as they are in longer ones (:mod:`search.codec.postings` says why). Decoding is
``np.frombuffer`` (+ ``cumsum`` for gaps), with no Python loop per posting and no
pickle.

Chosen by measurement (``bench/codec.py``, ``bench/results/codec.md``: the 200 most
frequent words of 5,000 VNTC articles, ids + frequencies + positions): 8.7 bytes per
posting and ~35 µs per 1,000 postings to decode, against 21.3 bytes for raw
``uint32`` (no faster), and 5.6 bytes with zlib on top but 2–2.5× slower to decode.
The index is already about half of W3's without zlib, and decoding is on every
query's path, so the arrays stay uncompressed.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import numpy.typing as npt

#: Integer widths by code (the byte in front of each packed array).
WIDTHS = (np.dtype("<u1"), np.dtype("<u2"), np.dtype("<u4"), np.dtype("<u8"))


def width_code(top: int) -> int:
    """The code of the narrowest width holding *top*."""
    return 0 if top < 1 << 8 else 1 if top < 1 << 16 else 2 if top < 1 << 32 else 3


def pack_ints(values: np.ndarray) -> bytes:
    """Non-negative integers: a width code byte, then the raw little-endian array."""
    values = np.asarray(values, dtype=np.int64)
    if len(values) and int(values.min()) < 0:
        raise ValueError("pack_ints takes non-negative integers")
    code = width_code(int(values.max()) if len(values) else 0)
    return bytes((code,)) + values.astype(WIDTHS[code]).tobytes()


def packed_size(data: bytes | memoryview, offset: int, count: int) -> int:
    """How many bytes the *count* integers packed at *offset* take."""
    return 1 + count * WIDTHS[data[offset]].itemsize


def unpack_ints(data: bytes | memoryview, offset: int, count: int,
                start: int = 0, stop: int | None = None) -> npt.NDArray[np.int64]:
    """Items ``start:stop`` of the *count* integers :func:`pack_ints` wrote at
    *offset*, as int64 (only those bytes are read)."""
    stop = count if stop is None else stop
    code = data[offset]
    return stored_ints(code, data, offset + 1 + start * WIDTHS[code].itemsize,
                       stop - start).astype(np.int64, copy=False)


def stored_ints(code: int, data: bytes | memoryview, offset: int = 0,
                count: int = -1) -> npt.NDArray[np.integer[Any]]:
    """*count* integers (all, by default) of width *code* at *offset* in *data*, at
    the width they were stored (unsigned, read-only, *data*'s own bytes), int64 only
    for 64-bit values: values read as they are need no copy, and an everyday word's
    positions are megabytes at int64."""
    dtype = WIDTHS[code]
    found: npt.NDArray[np.integer[Any]] = np.frombuffer(data, dtype=dtype, count=count,
                                                        offset=offset)
    return found.astype(np.int64) if dtype.itemsize == 8 else found


def gaps(ids: np.ndarray) -> npt.NDArray[np.int64]:
    """Increasing ids as gaps (the first id stays as it is)."""
    # numpy's stubs type ``np.diff`` of an int64 array with a scalar *prepend* as
    # timedelta64; the values are int64.
    return cast("npt.NDArray[np.int64]", np.diff(np.asarray(ids, dtype=np.int64), prepend=0))


def position_gaps(positions: np.ndarray, freqs: np.ndarray) -> npt.NDArray[np.int64]:
    """Gaps between each document's positions (documents of *freqs* positions each,
    concatenated); each document's first position stays absolute."""
    positions = np.asarray(positions, dtype=np.int64)
    out = np.diff(positions, prepend=0)
    firsts = doc_starts(freqs)
    out[firsts] = positions[firsts]
    if len(out) and int(out.min()) < 0:
        raise ValueError("positions must increase within each document")
    return out


def absolute_positions(pgaps: npt.NDArray[np.int64], freqs: np.ndarray, *,
                       in_place: bool = False) -> npt.NDArray[np.int64]:
    """Undo :func:`position_gaps`: a running sum restarted at each document.

    With *in_place*, *pgaps* (int64, the caller's own) becomes the result: a common
    word's positions are megabytes, and a copy of them costs as much as the sum."""
    firsts = doc_starts(freqs)
    if len(firsts) < 2:
        return np.cumsum(pgaps, out=pgaps if in_place else None)
    # One running sum over all documents, each document's first gap lowered by the
    # previous document's own sum (its last position), so the sum restarts there.
    steps = pgaps if in_place else np.array(pgaps, dtype=np.int64)
    steps[firsts[1:]] -= np.add.reduceat(steps, firsts)[:-1]
    return np.cumsum(steps, out=steps)


def doc_starts(freqs: np.ndarray) -> npt.NDArray[np.int64]:
    """Where each document with positions starts in the flat positions array."""
    freqs = np.asarray(freqs, dtype=np.int64)
    starts: npt.NDArray[np.int64] = np.cumsum(freqs) - freqs
    return starts[freqs > 0]
