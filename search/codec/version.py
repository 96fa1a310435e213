"""The codec's format version, written at the start of every file a segment has.

An index written by another version of the codec cannot be read safely (the block
layout or the file set may differ), so each reader checks the header first and
stops with a message that says what to do instead of failing somewhere deeper.
"""

from __future__ import annotations

import struct

#: Bump whenever anything the codec writes changes shape.
FORMAT_VERSION = 4
#: Older formats this version still reads: format 3 is format 4 with the positions
#: of every posting list stored as gaps (the flags byte of each list tells them
#: apart, :mod:`search.codec.postings`); format 2 is format 3 with its stored
#: blocks compressed by zlib rather than Zstandard, and :mod:`search.compression`
#: tells the two apart block by block.
STILL_READ = frozenset({2, 3})

_HEADER = struct.Struct("<4sH")


class FormatVersionError(Exception):
    """A segment file was written by another version of vnsearch's codec."""


def file_header(magic: bytes) -> bytes:
    """The bytes every codec file starts with: its kind (4 bytes) and the version."""
    return _HEADER.pack(magic, FORMAT_VERSION)


#: How many bytes :func:`file_header` takes.
HEADER_SIZE = _HEADER.size


def check_header(data: bytes, magic: bytes, name: str) -> None:
    """Stop with a clear message unless *data* starts with this version's header."""
    found_magic, version = _HEADER.unpack(data[:HEADER_SIZE])
    if found_magic != magic:
        raise FormatVersionError(f"{name} is not a vnsearch codec file ({found_magic!r})")
    check_version(version, name)


def check_version(version: int, name: str) -> None:
    """Stop with a clear message unless this codec reads *version*."""
    if version != FORMAT_VERSION and version not in STILL_READ:
        raise FormatVersionError(
            f"{name} was written by codec format {version}, this vnsearch reads format "
            f"{FORMAT_VERSION}: rebuild the index with `vnsearch index --rebuild`")
