"""Where an index lives on disk, and how it is opened, created and replaced safely.

Whoosh commits atomically: a writer that fails or is cancelled leaves the last
committed generation readable. A *rebuild* is different, because Whoosh's
``create_in`` deletes the old index before the new one exists; so a rebuild is
written into a sibling directory and swapped in only once it has committed.

Next to Whoosh's files the index directory holds ``vnsearch.json``: the schema
version, the archive roots that were indexed, and when. It is written atomically
after each commit (a rebuild's, in the staging directory before the swap).

What is *not* an index is never written into or deleted: a directory holding
other files is refused (see :func:`check_target`), and everything a dead or
cancelled writer can leave behind is recognised by name and swept
(:func:`sweep`) by the next writer, under the writer lock.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict, TypeVar

from whoosh import index as whoosh_index
from whoosh.index import TOC, Index, clean_files
from whoosh.searching import Searcher

from search.schema import SCHEMA_VERSION, build_schema

MANIFEST = "vnsearch.json"
T = TypeVar("T")
DEFAULT_INDEX = Path("index")


class IndexError_(Exception):
    """Base of the errors that mean "there is no usable index here"."""


class IndexMissing(IndexError_):
    """No index has been built at the given place."""


class IndexIncompatible(IndexError_):
    """An index exists but was built by a different version of vnsearch."""


class IndexCorrupt(IndexError_):
    """Index files are there but cannot be read (truncated, missing segments)."""


class NotAnIndex(IndexError_):
    """The path holds something else: a file, or a directory of other files."""


#: Whoosh's name for the index inside the directory (files ``MAIN_*``, ``_MAIN_*.toc``).
WHOOSH_NAME = "MAIN"
#: Entries a directory may hold and still count as empty (the repo's ``index/README.md``).
HARMLESS = ("README", ".git")
#: A committed table of contents, generation N: ``_MAIN_N.toc``.
_TOC_NAME = re.compile(rf"^_{WHOOSH_NAME}_[0-9]+\.toc$")
#: Whoosh's temporary directory inside the index (pool runs, job files of workers).
_TEMP_DIR = f"{WHOOSH_NAME}.tmp"


def index_exists(index_dir: Path) -> bool:
    """True when *index_dir* holds an index.

    Whoosh lists the directory, then opens the newest table of contents; if a
    rebuild swaps the directory between the two, that open fails. While a rebuild's
    staging directory exists, a miss is therefore looked at again a few times.
    """
    return _despite_swaps(
        index_dir, lambda: index_dir.is_dir() and whoosh_index.exists_in(str(index_dir)))


def _despite_swaps(index_dir: Path, attempt: Callable[[], T]) -> T:
    """``attempt()``, tried again when it fails (raises or finds nothing) while a
    rebuild swaps: a staging directory exists, or *index_dir* became another
    directory during the attempt (Whoosh listed one and opened files in the other,
    which the swap is already deleting)."""
    for _ in range(_SWAP_RETRIES - 1):
        before = _inode(index_dir)
        try:
            result = attempt()
        except Exception:
            if not _swapping(index_dir, before):
                raise
        else:
            if result or not _swapping(index_dir, before):
                return result
        time.sleep(0.005)
    return attempt()


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except OSError:
        return None


def _swapping(index_dir: Path, inode_before: int | None) -> bool:
    return _staging_path(index_dir).exists() or _inode(index_dir) != inode_before


_SWAP_RETRIES = 20


#: A path as callers of the library give it: a string or any path object.
StrPath = str | os.PathLike[str]


def open_index(index_dir: StrPath) -> Index:
    """Open an existing index for reading or writing, or say clearly why not.

    Whoosh opens segment files only when a searcher reads them; a missing one is
    looked for here, so the message comes at open time rather than mid-search.
    """
    index_dir = Path(index_dir)
    try:
        exists = index_exists(index_dir)
    except Exception as exc:  # a truncated or garbled table of contents
        raise IndexCorrupt(_corrupt_message(index_dir, _reason(exc))) from exc
    if not exists:
        raise _why_no_index(index_dir)
    manifest = read_manifest(index_dir)
    version = manifest.get("schema_version")
    if version is not None and version != SCHEMA_VERSION:
        raise IndexIncompatible(
            f"the index at '{index_dir}' has schema version {version}, this vnsearch needs "
            f"{SCHEMA_VERSION}. Rebuild it with: vnsearch index --rebuild --index {index_dir}"
        )
    try:
        ix = _despite_swaps(index_dir, lambda: _open_checked(index_dir))
    except IndexCorrupt:
        raise
    except Exception as exc:  # unpickling a foreign schema, truncated TOC …
        raise IndexCorrupt(_corrupt_message(index_dir, _reason(exc))) from exc
    return ix


def _open_checked(index_dir: Path) -> Index:
    ix = whoosh_index.open_dir(str(index_dir))
    missing = missing_segment_files(ix)
    if missing:
        raise IndexCorrupt(_corrupt_message(index_dir, f"segment file {missing[0]} is missing"))
    return ix


def missing_segment_files(ix: Index) -> list[str]:
    """Names of segment files the current table of contents lists but the disk lacks."""
    toc = TOC.read(ix.storage, ix.indexname)
    missing = []
    for segment in toc.segments:
        if segment.is_compound():
            name = segment.make_filename(".seg")
            if not ix.storage.file_exists(name):
                missing.append(name)
        elif not segment.list_files(ix.storage):
            missing.append(segment.segment_id() + ".*")
    return missing


def _corrupt_message(index_dir: Path, reason: str) -> str:
    return (
        f"the index at '{index_dir}' is damaged ({reason}). Rebuild it with: "
        f"vnsearch index --rebuild --index {index_dir}"
    )


def _reason(exc: BaseException) -> str:
    """An exception while reading the table of contents, as a short reason."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"its table of contents cannot be read: {type(exc).__name__}" + (
        f": {text}" if text else "")


def _why_no_index(index_dir: Path) -> IndexError_:
    """The error for a path that holds no readable index: absent, a file, a damaged
    index (index files but no table of contents) or somebody else's directory."""
    kind = classify(index_dir)
    if kind == "file":
        return NotAnIndex(
            f"'{index_dir}' is a file, not an index directory. Point --index at an index, "
            f"or at a new directory to build one in"
        )
    if kind == "damaged":
        return IndexCorrupt(_corrupt_message(index_dir, "its table of contents is missing"))
    if kind == "foreign":
        return NotAnIndex(_foreign_message(index_dir))
    return IndexMissing(
        f"no index at '{index_dir}'. Build one with: vnsearch index corpus/ --index {index_dir}"
    )


def _foreign_message(index_dir: Path) -> str:
    names = ", ".join(sorted(e.name for e in foreign_entries(index_dir))[:3])
    return (
        f"'{index_dir}' is not a vnsearch index: it holds other files ({names}). vnsearch "
        f"never writes into such a directory; point --index at an index, or at an empty "
        f"or new directory"
    )


def classify(index_dir: Path) -> str:
    """What is at *index_dir*: "absent", "file", "empty" (nothing but README-like
    files), "index" (a table of contents), "damaged" (index files without a
    readable table of contents) or "foreign" (other files)."""
    if not index_dir.exists() and not index_dir.is_symlink():
        return "absent"
    if not index_dir.is_dir():
        return "file"
    entries = list(index_dir.iterdir())
    if any(_TOC_NAME.match(e.name) for e in entries):
        return "index"
    if any(_is_index_file(e.name) or e.name == _TEMP_DIR for e in entries):
        return "damaged"
    if foreign_entries(index_dir):
        return "foreign"
    return "empty"


def foreign_entries(index_dir: Path) -> list[Path]:
    """Entries of *index_dir* that neither vnsearch nor Whoosh wrote, and that are
    not harmless plain files such as ``README.md``."""
    return [
        e for e in index_dir.iterdir()
        if not _is_index_file(e.name) and e.name != _TEMP_DIR
        and not (e.name.startswith(HARMLESS) and e.is_file() and not e.is_symlink())
    ]


def check_target(index_dir: Path, rebuild: bool) -> None:
    """Refuse to index into anything that is not an index, an empty directory or a
    new path, so the user's files are never mixed with or replaced by an index.

    A ``--rebuild`` replaces the directory by a new one; plain files that are not
    part of the index (a README) are copied over, but a subdirectory or link would
    have to be moved, and a move interrupted half-way could lose it, so a rebuild
    refuses a directory that holds one.
    """
    kind = classify(index_dir)
    if kind in ("file", "foreign") or (kind == "damaged" and not rebuild):
        raise _why_no_index(index_dir)
    if kind == "index" and not rebuild:
        open_index(index_dir)  # raises IndexCorrupt with the --rebuild hint
    if rebuild and kind in ("index", "damaged"):
        odd = [e.name for e in index_dir.iterdir() if _not_carried(e)]
        if odd:
            raise NotAnIndex(
                f"will not --rebuild '{index_dir}': it holds {', '.join(sorted(odd)[:3])}, "
                f"which is not part of the index and would not be kept. Move it out first"
            )


def _not_carried(entry: Path) -> bool:
    """A directory entry a rebuild's swap would not carry over."""
    if _is_index_file(entry.name) or entry.name == _TEMP_DIR:
        return False
    return entry.is_symlink() or not entry.is_file()


def create_index(index_dir: Path) -> Index:
    """Create an empty index in *index_dir* (which must not hold one)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    return whoosh_index.create_in(str(index_dir), build_schema())


def staging_dir(index_dir: Path) -> Path:
    """A fresh, empty sibling directory to build a replacement index in.

    Only the holder of the writer lock may call this: it removes a staging
    directory left by an interrupted rebuild.
    """
    staging = _staging_path(index_dir)
    _remove_leftover(staging)  # from an interrupted rebuild
    staging.mkdir(parents=True)
    return staging


def _remove_leftover(path: Path) -> bool:
    """Delete a staging or retired directory a rebuild left, after checking that it
    is one (a directory of index files); anything else there is refused."""
    if not path.exists() and not path.is_symlink():
        return False
    if classify(path) not in ("index", "damaged", "empty") or path.is_symlink():
        raise NotAnIndex(
            f"'{path}' is in the way: vnsearch builds a new index there, and it is not one "
            f"of vnsearch's. Move it elsewhere"
        )
    shutil.rmtree(path)
    return True


def _staging_path(index_dir: Path) -> Path:
    return index_dir.with_name(index_dir.name + ".building")


def _retired_path(index_dir: Path) -> Path:
    return index_dir.with_name(index_dir.name + ".old")


def sweep(index_dir: Path) -> list[str]:
    """Remove what a killed or cancelled writer left behind; returns the names.

    That is: Whoosh's temporary directory, a half-written table of contents,
    segment files no committed generation lists, a half-written manifest, and a
    rebuild's staging or retired directory. Only the holder of the writer lock
    may call this. Nothing the current table of contents lists is touched.
    """
    removed: list[str] = []
    for extra in (_staging_path(index_dir), _retired_path(index_dir)):
        if _remove_leftover(extra):
            removed.append(extra.name)
    if classify(index_dir) not in ("index", "damaged"):
        return removed
    for entry in index_dir.iterdir():
        if entry.name == _TEMP_DIR and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
        elif _is_temp_file(entry.name):
            entry.unlink(missing_ok=True)
            removed.append(entry.name)
    removed += _sweep_segments(index_dir)
    return removed


def _is_temp_file(name: str) -> bool:
    """A table of contents or manifest that was being written (``.toc.<time>``)."""
    return (name.startswith(f"_{WHOOSH_NAME}_") and ".toc." in name) or name == MANIFEST + ".tmp"


def _sweep_segments(index_dir: Path) -> list[str]:
    """Delete segment files the current generation does not list (Whoosh does the
    same after each commit; a writer killed before its commit never got there)."""
    try:
        ix = whoosh_index.open_dir(str(index_dir))
        toc = TOC.read(ix.storage, ix.indexname)
    except Exception:  # a damaged index: a rebuild replaces it whole
        return []
    before = set(ix.storage.list())
    clean_files(ix.storage, ix.indexname, toc.generation, toc.segments)
    return sorted(before - set(ix.storage.list()))


def swap_in(staging: Path, index_dir: Path) -> None:
    """Replace *index_dir* by the committed index in *staging*.

    Files that are not part of the index (``README.md`` in the default ``index/``)
    are carried over first. On Linux the two directories are exchanged in one
    atomic ``renameat2`` call, so a server reading *index_dir* never finds it
    missing; elsewhere two renames leave a window of a few microseconds. The old
    index is removed only after the new one is in place.
    """
    if not index_dir.exists():
        staging.rename(index_dir)
        return
    for entry in index_dir.iterdir():
        if entry.is_file() and not _is_index_file(entry.name):
            shutil.copy2(entry, staging / entry.name)
    if _exchange(staging, index_dir):
        shutil.rmtree(staging)
        return
    retired = _retired_path(index_dir)
    if retired.exists():
        shutil.rmtree(retired)
    index_dir.rename(retired)
    staging.rename(index_dir)
    shutil.rmtree(retired)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories (Linux ``renameat2(RENAME_EXCHANGE)``).

    False when the platform or file system cannot, so the caller falls back.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    status: int = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return status == 0


def _is_index_file(name: str) -> bool:
    """A file Whoosh or vnsearch writes in the index directory (all of Whoosh's carry
    the index name: ``MAIN_…``, ``_MAIN_…``); nothing else is ever deleted."""
    return name.startswith((f"_{WHOOSH_NAME}_", f"{WHOOSH_NAME}_")) or name in (
        MANIFEST, MANIFEST + ".tmp")


class Manifest(TypedDict, total=False):
    """The index's ``vnsearch.json``: what was indexed and when."""

    schema_version: int
    roots: list[str]
    last_indexed: str  # ISO 8601, UTC, to the second
    documents: int


class IndexStats(TypedDict):
    """What an index holds, as ``vnsearch stats`` and ``GET /stats`` give it."""

    index: str
    documents: int
    size_bytes: int
    last_indexed: str | None
    roots: list[str]
    schema_version: int | None
    fields: list[str]


def read_manifest(index_dir: Path) -> Manifest:
    """The index's ``vnsearch.json`` (empty when absent or unreadable)."""
    try:
        manifest: Manifest = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
        return manifest
    except (OSError, ValueError):
        return {}


def write_manifest(index_dir: Path, roots: list[str], documents: int) -> None:
    """Record what was indexed and when, atomically."""
    data: Manifest = {
        "schema_version": SCHEMA_VERSION,
        "roots": sorted(set(roots)),
        "last_indexed": datetime.now(UTC).isoformat(timespec="seconds"),
        "documents": documents,
    }
    tmp = index_dir / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, index_dir / MANIFEST)


def index_size(index_dir: Path) -> int:
    """Bytes used by the index directory."""
    return sum(p.stat().st_size for p in index_dir.iterdir() if p.is_file())


def index_stats(index_dir: Path, searcher: Searcher) -> IndexStats:
    """What an index holds, for ``vnsearch stats`` and ``GET /stats``."""
    manifest = read_manifest(index_dir)
    return {
        "index": str(index_dir),
        "documents": searcher.doc_count(),
        "size_bytes": index_size(index_dir),
        "last_indexed": manifest.get("last_indexed"),
        "roots": manifest.get("roots", []),
        "schema_version": manifest.get("schema_version"),
        "fields": sorted(searcher.schema.names()),
    }
