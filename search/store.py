"""Where an index lives on disk, and how it is opened, created and replaced safely.

Whoosh commits atomically: a writer that fails or is cancelled leaves the last
committed generation readable. A *rebuild* is different, because Whoosh's
``create_in`` deletes the old index before the new one exists; so a rebuild is
written into a sibling directory and swapped in only once it has committed.

Next to Whoosh's files the index directory holds ``vnsearch.json``: the schema
version, the archive roots that were indexed, and when. It is written after each
commit, atomically.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from whoosh import index as whoosh_index
from whoosh.index import Index

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


def index_exists(index_dir: Path) -> bool:
    """True when *index_dir* holds an index.

    Whoosh lists the directory, then opens the newest table of contents; if a
    rebuild swaps the directory between the two, that open fails. While a rebuild's
    staging directory exists, a miss is therefore looked at again a few times.
    """
    return _despite_swaps(
        index_dir, lambda: index_dir.is_dir() and whoosh_index.exists_in(str(index_dir)))


def _despite_swaps(index_dir: Path, attempt: Callable[[], T]) -> T:
    """``attempt()``, tried again while a rebuild's staging directory exists and it
    fails (raises or finds nothing): a swap may have come between Whoosh listing
    *index_dir* and opening what it listed."""
    for _ in range(_SWAP_RETRIES - 1):
        try:
            result = attempt()
        except Exception:
            if not _staging_path(index_dir).exists():
                raise
        else:
            if result or not _staging_path(index_dir).exists():
                return result
        time.sleep(0.005)
    return attempt()


_SWAP_RETRIES = 20


def open_index(index_dir: Path) -> Index:
    """Open an existing index for reading or writing, or say clearly why not."""
    if not index_exists(index_dir):
        raise IndexMissing(
            f"no index at '{index_dir}'. Build one with: vnsearch index corpus/ "
            f"--index {index_dir}"
        )
    manifest = read_manifest(index_dir)
    version = manifest.get("schema_version")
    if version is not None and version != SCHEMA_VERSION:
        raise IndexIncompatible(
            f"the index at '{index_dir}' has schema version {version}, this vnsearch needs "
            f"{SCHEMA_VERSION}. Rebuild it with: vnsearch index --rebuild --index {index_dir}"
        )
    try:
        return _despite_swaps(index_dir, lambda: whoosh_index.open_dir(str(index_dir)))
    except Exception as exc:  # unpickling a foreign schema, truncated TOC …
        raise IndexIncompatible(
            f"cannot open the index at '{index_dir}' ({exc}). Rebuild it with: "
            f"vnsearch index --rebuild --index {index_dir}"
        ) from exc


def create_index(index_dir: Path) -> Index:
    """Create an empty index in *index_dir* (which must not hold one)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    return whoosh_index.create_in(str(index_dir), build_schema())


def staging_dir(index_dir: Path) -> Path:
    """A fresh, empty sibling directory to build a replacement index in."""
    staging = _staging_path(index_dir)
    if staging.exists():
        shutil.rmtree(staging)  # left over from an interrupted rebuild
    staging.mkdir(parents=True)
    return staging


def _staging_path(index_dir: Path) -> Path:
    return index_dir.with_name(index_dir.name + ".building")


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
    retired = index_dir.with_name(index_dir.name + ".old")
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
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def _is_index_file(name: str) -> bool:
    return name.startswith("_MAIN_") or name.startswith("MAIN_") or name == MANIFEST or (
        name.endswith((".seg", ".toc", ".lock", ".trm", ".pst", ".vps", ".fdt", ".sto"))
    )


def read_manifest(index_dir: Path) -> dict:
    """The index's ``vnsearch.json`` (empty when absent or unreadable)."""
    try:
        return json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_manifest(index_dir: Path, roots: list[str], documents: int) -> None:
    """Record what was indexed and when, atomically."""
    data = {
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


def index_stats(index_dir: Path, searcher) -> dict:
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
