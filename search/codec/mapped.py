"""A compound segment's files read through one memory map, without copying them.

A segment of vnsearch's codec is assembled into one compound file (Whoosh's
``.seg``: the segment's files one after another, and a directory of where each
lies). Whoosh's own reader of it maps the file, then hands out each inner file as
a ``BufferFile``, whose ``BytesIO`` copies the whole inner file into the process
on open: a searcher over all 84,132 VNTC articles held ~370 MB of such copies
beside the ~370 MB of mapped pages they were copied from, and a merge opened every
merged segment the same way (its peak: ~800 MB of copies).

:class:`MappedCompound` reads the same directory and gives each inner file as a
:class:`MappedFile`: reads are slices of the shared map, copying only the bytes
asked for, and the mapped pages are the kernel's page cache, shared by every
process reading the index. It comes through the segment's own extension point
(:meth:`search.codec.vncodec.VnSegment.open_compound_file`).
"""

from __future__ import annotations

import mmap
import os
from typing import Any

from whoosh.filedb.filestore import ReadOnlyError, Storage
from whoosh.filedb.structfile import StructFile


class MappedCompound(Storage):
    """The inner files of a compound segment file, as slices of one memory map."""

    readonly = True
    supports_mmap = True

    def __init__(self, dbfile: StructFile) -> None:
        # Whoosh's compound layout: at 0 the directory's offset (long) and length
        # (int); at that offset the pickled directory and the pickled options.
        dbfile.seek(0)
        directory_at = dbfile.read_long()
        dbfile.read_int()
        dbfile.seek(directory_at)
        self._dir: dict[str, dict[str, Any]] = dbfile.read_pickle()
        dbfile.read_pickle()
        self._map = mmap.mmap(dbfile.fileno(), 0, access=mmap.ACCESS_READ)
        dbfile.close()
        self.is_closed = False

    def open_file(self, name: str, *args: object, **kwargs: object) -> MappedFile:
        info = self._info(name)
        return MappedFile(self._map, info["offset"], info["length"], name=name)

    def _info(self, name: str) -> dict[str, Any]:
        try:
            return self._dir[name]
        except KeyError:
            raise NameError(f"Unknown file {name!r}") from None

    def list(self) -> list[str]:
        return list(self._dir)

    def file_exists(self, name: str) -> bool:
        return name in self._dir

    def file_length(self, name: str) -> int:
        return int(self._info(name)["length"])

    def file_modified(self, name: str) -> float:
        return float(self._info(name)["modified"])

    def create_file(self, name: str, *args: object, **kwargs: object) -> StructFile:
        raise ReadOnlyError(f"{name}: a compound segment is read-only")

    def close(self) -> None:
        if not self.is_closed:
            self.is_closed = True
            self._map.close()


class MappedFile(StructFile):
    """One inner file of a :class:`MappedCompound`: Whoosh's structured-file
    reading over a window of the map."""

    def __init__(self, source: mmap.mmap, offset: int, length: int, *,
                 name: str | None = None) -> None:
        super().__init__(_Window(source, offset, length), name=name)

    def get(self, position: int, length: int) -> bytes:
        """*length* bytes at *position* (only those bytes are copied)."""
        window: _Window = self.file
        return window.slice(position, length)

    def subset(self, position: int, length: int, name: str | None = None) -> MappedFile:
        window: _Window = self.file
        return MappedFile(window.source, window.start + position, length,
                          name=name or self._name)


class _Window:
    """A read-only file over ``source[start:start + length]``."""

    def __init__(self, source: mmap.mmap, start: int, length: int) -> None:
        self.source = source
        self.start = start
        self.end = start + length
        self.pos = start
        self.closed = False

    def slice(self, position: int, length: int) -> bytes:
        at = self.start + position
        return self.source[at : min(at + length, self.end)]

    def read(self, size: int | None = -1) -> bytes:
        stop = self.end if size is None or size < 0 else min(self.pos + size, self.end)
        data = self.source[self.pos : stop]
        self.pos = max(self.pos, stop)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        newline = self.source.find(b"\n", self.pos, self.end)
        stop = self.end if newline < 0 else newline + 1
        if size is not None and size >= 0:
            stop = min(stop, self.pos + size)
        return self.read(stop - self.pos)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: self.start, os.SEEK_CUR: self.pos, os.SEEK_END: self.end}[whence]
        self.pos = base + offset
        return self.pos - self.start

    def tell(self) -> int:
        return self.pos - self.start

    def close(self) -> None:
        self.closed = True  # the map is the storage's, closed with it
