"""How vnsearch compresses what it stores: Zstandard, still reading zlib.

Every article's text is compressed once when it is indexed (``body_z``) and
decompressed each time a page shows it or the did-you-mean and the likely reading
read how the archive spells a span (dozens of articles a new query). Measured on
10,000 VNTC article texts (3.2 KB each), Zstandard level 3 against zlib level 6,
which vnsearch used before: compression 26 µs against 91 µs an article,
decompression 8 µs against 17 µs, output 7% larger (13.7 MB against 12.8 MB). On
the codec's stored blocks (:mod:`search.codec.perdoc`, mostly text compressed
already): 20 µs against 82 µs to compress a block, 1.5 µs against 15.6 µs to
decompress it.

Indexes written before stay readable: a Zstandard frame starts with its magic
number, which a zlib stream never does (its first byte is ``0x78`` for zlib's own
window). A Zstandard context is not safe to share between threads (the HTTP mode
serves from several), so each thread keeps its own.
"""

from __future__ import annotations

import threading
import zlib

import zstandard

#: Zstandard's compression level for stored text.
LEVEL = 3
#: The first bytes of every Zstandard frame.
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

_contexts = threading.local()


def compress(data: bytes) -> bytes:
    """*data* as one Zstandard frame (its size recorded, for one-shot reading)."""
    compressor = getattr(_contexts, "compressor", None)
    if compressor is None:
        compressor = _contexts.compressor = zstandard.ZstdCompressor(level=LEVEL)
    out: bytes = compressor.compress(data)
    return out


def decompress(blob: bytes) -> bytes:
    """What :func:`compress` was given, or what zlib compressed (older indexes)."""
    if blob[:4] != ZSTD_MAGIC:
        return zlib.decompress(blob)
    decompressor = getattr(_contexts, "decompressor", None)
    if decompressor is None:
        decompressor = _contexts.decompressor = zstandard.ZstdDecompressor()
    out: bytes = decompressor.decompress(blob)
    return out
