"""Reading an article archive: files on disk → :class:`Record` s.

An archive is a directory tree (or single files) of

* ``.txt`` — one article per file, UTF-8 (with or without BOM) or UTF-16 with BOM;
* ``.jsonl`` / ``.jsonl.gz`` — one JSON object per line;
* ``.json`` / ``.json.gz`` — one object or a list of objects.

A JSON article needs its text in ``body``, ``content`` or ``text``; ``title``, ``date``,
``author``, ``source``, ``url`` and ``id`` are used when present and everything else
(``topic`` …) is kept as stored metadata.

Nothing here raises on bad input: an undecodable, binary or empty file, or a broken
JSON line, becomes a :class:`Failure` naming the file (and line) and the problem, and
reading goes on with the next one.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

TEXT_SUFFIXES = (".txt",)
JSON_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz")
BODY_KEYS = ("body", "content", "text")
KNOWN_KEYS = frozenset({"id", "title", "date", "author", "source", "url", *BODY_KEYS})
#: Files larger than this are refused rather than read into memory whole (.txt only;
#: JSON Lines files are streamed).
MAX_TEXT_BYTES = 20 * 1024 * 1024


@dataclass
class Record:
    """One article as read from the archive, before metadata extraction."""

    id: str  # stable: path relative to the archive root, or the record's own id
    path: str  # the file it came from, relative to the archive root
    text: str  # whole article text, NFC not yet applied, line ends normalised to \n
    hash: str  # content hash, for incremental re-indexing
    fields: dict = field(default_factory=dict)  # metadata given by a JSON record


@dataclass
class Failure:
    """A file (or one record of it) that could not be read, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class DecodeError(ValueError):
    """Raised by :func:`decode` with a message fit to show the user."""


def content_hash(data: bytes) -> str:
    """A short, stable fingerprint of some bytes."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def is_article_file(path: Path) -> bool:
    """True for the file types the archive reader understands."""
    name = path.name.lower()
    return name.endswith(TEXT_SUFFIXES) or name.endswith(JSON_SUFFIXES)


def decode(data: bytes) -> str:
    """Decode a text file's bytes: BOM-marked UTF-8/UTF-16/UTF-32, else strict UTF-8.

    Line ends are normalised to ``\\n``. Raises :class:`DecodeError` for binary data,
    text in another encoding, and files with no text.
    """
    if not data.strip():
        raise DecodeError("empty file (no text)")
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise DecodeError(
                    f"starts with a {encoding.upper()} byte-order mark but is not valid "
                    f"{encoding.upper()} (byte {exc.start})"
                ) from None
            return _clean_text(text)
    if b"\x00" in data[:8192]:
        raise DecodeError("binary file (contains NUL bytes), not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(
            f"not valid UTF-8 (bad byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "convert it to UTF-8 or UTF-16 with a BOM"
        ) from None
    return _clean_text(text)


def _clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise DecodeError("empty file (no text)")
    if text.count("\x00") > 0:
        raise DecodeError("binary file (contains NUL characters), not text")
    return text


def walk(root: Path) -> Iterator[Path]:
    """Article files under *root* (or *root* itself), sorted, hidden entries skipped."""
    if root.is_file():
        yield root
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath, name)
            if not name.startswith(".") and is_article_file(path):
                yield path


def archive_root(path: Path) -> Path:
    """The directory that ids are made relative to: *path* itself, or a file's folder."""
    path = path.resolve()
    return path.parent if path.is_file() else path


def read_archive(paths: Iterable[Path]) -> Iterator[Record | Failure]:
    """Read every article under *paths*, yielding records and failures in file order."""
    for path in paths:
        root = archive_root(path)
        for file in walk(path):
            yield from read_file(file, root)


def read_file(file: Path, root: Path) -> Iterator[Record | Failure]:
    """Read one archive file into records (one for ``.txt``, many for JSON)."""
    rel = file.resolve().relative_to(root).as_posix()
    name = file.name.lower()
    try:
        if name.endswith(TEXT_SUFFIXES):
            yield _read_text(file, rel)
        elif name.endswith((".jsonl", ".jsonl.gz")):
            yield from _read_jsonl(file, rel)
        else:
            yield from _read_json(file, rel)
    except OSError as exc:
        yield Failure(rel, f"cannot read file: {exc.strerror or exc}")
    except (EOFError, gzip.BadGzipFile) as exc:
        yield Failure(rel, f"corrupt gzip file: {exc}")


def _read_text(file: Path, rel: str) -> Record | Failure:
    size = file.stat().st_size
    if size > MAX_TEXT_BYTES:
        return Failure(rel, f"too large for one article ({size:,} bytes)")
    data = file.read_bytes()
    try:
        text = decode(data)
    except DecodeError as exc:
        return Failure(rel, str(exc))
    return Record(id=rel, path=rel, text=text, hash=content_hash(data))


def _open_binary(file: Path):
    return gzip.open(file, "rb") if file.name.lower().endswith(".gz") else file.open("rb")


def _read_jsonl(file: Path, rel: str) -> Iterator[Record | Failure]:
    with _open_binary(file) as fh:
        any_line = False
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            any_line = True
            where = f"{rel}:{lineno}"
            try:
                obj = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                yield Failure(where, f"invalid JSON ({exc})")
                continue
            yield record_from_json(obj, rel, where, content_hash(line))
        if not any_line:
            yield Failure(rel, "empty file (no records)")


def _read_json(file: Path, rel: str) -> Iterator[Record | Failure]:
    with _open_binary(file) as fh:
        data = fh.read()
    try:
        obj = json.loads(decode(data))
    except DecodeError as exc:
        yield Failure(rel, str(exc))
        return
    except json.JSONDecodeError as exc:
        yield Failure(rel, f"invalid JSON ({exc})")
        return
    items = obj if isinstance(obj, list) else [obj]
    if not items:
        yield Failure(rel, "empty file (no records)")
    for index, item in enumerate(items, 1):
        where = f"{rel}:{index}" if isinstance(obj, list) else rel
        raw = json.dumps(item, sort_keys=True, ensure_ascii=False).encode()
        yield record_from_json(item, rel, where, content_hash(raw))


def record_from_json(obj: object, rel: str, where: str, digest: str) -> Record | Failure:
    """Turn one decoded JSON value into a :class:`Record` (or say why it is not one)."""
    if not isinstance(obj, dict):
        return Failure(where, f"expected a JSON object, found {type(obj).__name__}")
    text = next((obj[k] for k in BODY_KEYS if isinstance(obj.get(k), str) and obj[k].strip()), None)
    if text is None:
        return Failure(where, "record has no text (expected 'body', 'content' or 'text')")
    given_id = obj.get("id")
    record_id = str(given_id) if given_id not in (None, "") else where
    fields = {k: v for k, v in obj.items() if k not in BODY_KEYS and k != "id"}
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return Record(id=record_id, path=rel, text=text, hash=digest, fields=fields)
