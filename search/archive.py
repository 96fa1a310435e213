"""Reading an article archive: files on disk → :class:`Record` s.

An archive is a directory tree (or single files) of

* ``.txt`` — one article per file: UTF-8 (with or without BOM), UTF-16 (with a BOM, or
  without one when the NUL-byte pattern makes the byte order plain), or one of the
  legacy Vietnamese encodings Windows-1258, VNI and TCVN3 when :mod:`search.encodings`
  can tell which with confidence;
* ``.jsonl`` / ``.jsonl.gz`` — one JSON object per line;
* ``.json`` / ``.json.gz`` — one object or a list of objects.

A JSON article needs its text in ``body``, ``content`` or ``text``; ``title``, ``date``,
``author``, ``source``, ``url`` and ``id`` are used when present and everything else
(``topic`` …) is kept as stored metadata.

Nothing here raises on bad input: an undecodable, binary, empty or oversized file, a
FIFO or device, a symbolic-link loop, an unreadable file, or a broken or overlong JSON
line becomes a :class:`Failure` naming the file (and line) and the problem, and reading
goes on with the next one. Memory stays bounded: nothing larger than the limits below
is ever read whole.

A file cut off in the middle of its last character (a truncated download) loses only
that character: the rest is indexed. Ids are NFC, so an article whose file name is in
NFD (as macOS writes them) is found by the id as typed.
"""

from __future__ import annotations

import codecs
import errno
import gzip
import hashlib
import json
import os
import stat
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from search import encodings
from search.normalize import nfc

TEXT_SUFFIXES = (".txt",)
JSON_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz")
BODY_KEYS = ("body", "content", "text")
KNOWN_KEYS = frozenset({"id", "title", "date", "author", "source", "url", *BODY_KEYS})
#: One article — a ``.txt`` file or one JSON Lines line — larger than this is refused
#: (and never read whole).
MAX_TEXT_BYTES = 20 * 1024 * 1024
#: A whole ``.json`` document (it must be parsed at once) larger than this is refused;
#: JSON Lines has no such limit, being read a line at a time.
MAX_JSON_BYTES = 64 * 1024 * 1024
#: How much of a file is looked at to tell text from binary and UTF-16 byte order.
SNIFF_BYTES = 8192
#: Unmarked UTF-16: at least this share of one byte column is NUL (ASCII and most
#: Vietnamese letters have a zero high byte) …
UTF16_MIN_NULS = 0.3
#: … and at most this share of the other …
UTF16_MAX_OTHER_NULS = 0.02
#: … and this share of the high bytes are those of Latin-script text (see below).
UTF16_MIN_LATIN = 0.9
_UTF16_HIGH_BYTES = frozenset({0x00, 0x01, 0x02, 0x03, 0x1E, 0x20})
#: More control bytes than this share (other than tab, line ends, form feed, Ctrl-Z)
#: marks a file as binary.
MAX_CONTROL_SHARE = 0.05
#: Lines past the length limit are skipped in chunks of this size.
_SKIP_CHUNK = 1024 * 1024
_TRUNCATED = ("unexpected end of data", "truncated data")
_TEXT_CONTROLS = frozenset(b"\t\n\r\f\v\x1a")


@dataclass
class Record:
    """One article as read from the archive, before metadata extraction."""

    id: str  # stable: path relative to the archive root, or the record's own id
    path: str  # the file it came from, relative to the archive root
    text: str  # whole article text, NFC not yet applied, line ends normalised to \n
    hash: str  # content hash, for incremental re-indexing
    fields: dict[str, object] = field(default_factory=dict)  # metadata a JSON record gives


@dataclass
class Failure:
    """A file (or one record of it) that could not be read, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class DecodeError(ValueError):
    """Raised by :func:`decode` with a message fit to show the user."""


class Unreadable(Exception):
    """A path that is not a regular, readable file, with the reason in words."""


def content_hash(data: bytes) -> str:
    """A short, stable fingerprint of some bytes."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def is_article_file(path: Path) -> bool:
    """True for the file types the archive reader understands."""
    name = path.name.lower()
    return name.endswith(TEXT_SUFFIXES) or name.endswith(JSON_SUFFIXES)


# --------------------------------------------------------------------------- decoding


def decode(data: bytes) -> str:
    """Decode a text file's bytes (see the module doc for what is understood).

    Line ends are normalised to ``\\n``. Raises :class:`DecodeError` for binary data,
    text in an encoding that cannot be told with confidence, and files with no text.
    """
    if not data.strip():
        raise DecodeError("empty file (no text)")
    text = _decode_marked(data)
    if text is None:
        text = _decode_unmarked_utf16(data)
    if text is None:
        text = _decode_8bit(data)
    return _clean_text(text)


def _decode_marked(data: bytes) -> str | None:
    """Text after a byte-order mark, or None when there is none."""
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            try:
                return _decode_dropping_cut_tail(data[len(bom) :], encoding)
            except UnicodeDecodeError as exc:
                raise DecodeError(
                    f"starts with a {encoding.upper()} byte-order mark but is not valid "
                    f"{encoding.upper()} (byte {exc.start + len(bom)})"
                ) from None
    return None


def _decode_dropping_cut_tail(data: bytes, encoding: str) -> str:
    """Decode strictly, except that a character cut off at the very end is dropped."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.reason in _TRUNCATED and exc.end == len(data):
            return data[: exc.start].decode(encoding)
        raise


def _decode_unmarked_utf16(data: bytes) -> str | None:
    """UTF-16 without a BOM, told by its column of high bytes.

    In UTF-16 Vietnamese (or any Latin-script) text, every other byte is the high
    byte of a code point: mostly NUL (ASCII), else 0x01 (ă, đ, ơ, ư …), 0x1E (ạ … ỹ),
    0x03 (combining marks) or 0x20 (quotes, dashes), while the other column has
    almost no NUL. Anything else — binary data, CJK — is left to the next test.
    """
    head = data[:SNIFF_BYTES]
    if len(head) < 4:
        return None
    for encoding, high, low in (
        ("utf-16-le", head[1::2], head[0::2]),
        ("utf-16-be", head[0::2], head[1::2]),
    ):
        if (
            high.count(0) >= UTF16_MIN_NULS * len(high)
            and low.count(0) <= UTF16_MAX_OTHER_NULS * len(low)
            and sum(b in _UTF16_HIGH_BYTES for b in high) >= UTF16_MIN_LATIN * len(high)
        ):
            try:
                text = _decode_dropping_cut_tail(data, encoding)
            except UnicodeDecodeError:
                return None
            return text if _looks_like_text(text[: SNIFF_BYTES // 2]) else None
    return None


def _looks_like_text(text: str) -> bool:
    """Few control, unassigned or private-use characters (binary read as UTF-16 has many)."""
    odd = sum(unicodedata.category(c)[0] == "C" and c not in "\t\n\r\f\v\ufeff" for c in text)
    return odd <= MAX_CONTROL_SHARE * max(len(text), 1)


def _decode_8bit(data: bytes) -> str:
    """UTF-8, else a confidently detected legacy Vietnamese encoding, else a reason."""
    head = data[:SNIFF_BYTES]
    if b"\x00" in head:
        raise DecodeError("binary file (contains NUL bytes), not text")
    try:
        return _decode_dropping_cut_tail(data, "utf-8")
    except UnicodeDecodeError as exc:
        problem = f"bad byte 0x{data[exc.start]:02x} at offset {exc.start}"
    controls = sum(b < 0x20 and b not in _TEXT_CONTROLS for b in head)
    if controls > MAX_CONTROL_SHARE * len(head):
        raise DecodeError("binary file (control bytes), not text")
    found = encodings.detect(data)
    if found.encoding is not None:
        return encodings.decode(data, found.encoding)
    raise DecodeError(f"not valid UTF-8 ({problem}) and {_undetected(found)}; convert it to UTF-8")


def _undetected(found: encodings.Detection) -> str:
    """Why no legacy encoding was chosen, in words."""
    if found.evidence < encodings.MIN_EVIDENCE:
        return (
            f"too little accented text ({found.evidence} words) to tell which legacy "
            "Vietnamese encoding it is"
        )
    return (
        "no legacy Vietnamese encoding fits clearly (share of words that read as "
        f"Vietnamese: {found.describe()})"
    )


def _clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise DecodeError("empty file (no text)")
    if text.count("\x00") > 0:
        raise DecodeError("binary file (contains NUL characters), not text")
    return text


# --------------------------------------------------------------------------- walking


def walk(root: Path) -> Iterator[Path]:
    """Article files under *root* (or *root* itself), sorted, hidden entries skipped.

    Also yields what cannot be read as an archive but should be reported rather than
    passed over in silence: symbolic links to directories (not followed, so a link loop
    cannot trap the walk) and directories that cannot be listed.
    """
    if not root.is_dir():  # a file given by name (read_file says if it is not one)
        yield root
        return
    unlisted: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=_collect(unlisted)):
        yield from _drain(unlisted)
        linked = [d for d in dirnames if not d.startswith(".") and Path(dirpath, d).is_symlink()]
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in linked)
        names = [n for n in filenames if not n.startswith(".")] + linked
        for name in sorted(names):
            path = Path(dirpath, name)
            if name in linked or is_article_file(path):
                yield path
    yield from _drain(unlisted)


def _collect(into: list[Path]) -> Callable[[OSError], None]:
    def onerror(exc: OSError) -> None:
        if exc.filename is not None:
            into.append(Path(exc.filename))

    return onerror


def _drain(paths: list[Path]) -> Iterator[Path]:
    while paths:
        yield paths.pop(0)


def archive_root(path: Path) -> Path:
    """The directory that ids are made relative to: *path* itself, or a file's folder.

    Uses ``os.path.realpath``, which (unlike ``Path.resolve`` in Python 3.11) does not
    raise on a symbolic-link loop.
    """
    real = Path(os.path.realpath(path))
    return real if real.is_dir() else real.parent


def article_id(file: Path, root: Path) -> str:
    """The id of a file's article: its path under *root*, in NFC.

    The file's own name is kept even when it is a symbolic link (only its folder is
    resolved), so a link loop or a link out of the archive still gets a name.
    """
    where = Path(os.path.realpath(file.parent), file.name)
    try:
        rel = where.relative_to(root).as_posix()
    except ValueError:
        rel = file.name
    return nfc(rel)


# --------------------------------------------------------------------------- reading


def read_archive(paths: Iterable[Path]) -> Iterator[Record | Failure]:
    """Read every article under *paths*, yielding records and failures in file order."""
    for path in paths:
        root = archive_root(path)
        for file in walk(path):
            yield from read_file(file, root)


def read_file(file: Path, root: Path) -> Iterator[Record | Failure]:
    """Read one archive file into records (one for ``.txt``, many for JSON)."""
    rel = article_id(file, root)
    name = file.name.lower()
    try:
        fh, size = open_regular(file)
        with fh:
            if name.endswith(TEXT_SUFFIXES):
                yield _read_text(fh, size, rel)
            elif name.endswith((".jsonl", ".jsonl.gz")):
                yield from _read_jsonl(_maybe_gunzip(fh, name), rel)
            else:
                yield from _read_json(_maybe_gunzip(fh, name), size, rel)
    except Unreadable as exc:
        yield Failure(rel, str(exc))
    except OSError as exc:
        yield Failure(rel, os_reason(exc, file))
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        yield Failure(rel, f"corrupt gzip file: {exc}")


def open_regular(file: Path) -> tuple[BinaryIO, int]:
    """Open *file* for reading if it is a regular file; return it with its size.

    Opens without blocking and checks the type of what was opened, so a FIFO named
    ``x.txt`` cannot hang the run and a link swapped between a check and the open
    cannot slip a device in. Raises :class:`Unreadable` (or ``OSError``) otherwise.
    """
    fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable(_not_regular(info.st_mode, linked=file.is_symlink()))
        return os.fdopen(fd, "rb"), info.st_size
    except BaseException:
        os.close(fd)
        raise


def _not_regular(mode: int, linked: bool) -> str:
    if stat.S_ISDIR(mode):
        if linked:
            return "symbolic link to a directory: not followed (index its target directly)"
        return "a directory, not an article file"
    kind = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a device or socket"
    return f"{kind}, not a regular file; skipped"


def os_reason(exc: OSError, file: Path) -> str:
    """What an ``OSError`` on an archive file means to the user."""
    if exc.errno == errno.ELOOP:
        return "symbolic link loop (the link leads back to itself)"
    if exc.errno == errno.ENOENT and file.is_symlink():
        return "broken symbolic link (its target does not exist)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        what = "list the directory" if file.is_dir() else "read the file"
        return f"permission denied (cannot {what})"
    if exc.errno == errno.ENXIO:
        return "a device or socket, not a regular file; skipped"
    return f"cannot read file: {exc.strerror or exc}"


class ByteReader(Protocol):
    """What reading an archive file needs of it: a plain file or a gzip stream."""

    def read(self, size: int = -1, /) -> bytes: ...

    def readline(self, size: int = -1, /) -> bytes: ...


def _maybe_gunzip(fh: BinaryIO, name: str) -> ByteReader:
    return gzip.GzipFile(fileobj=fh, mode="rb") if name.endswith(".gz") else fh


def _too_large(size: int, limit: int, what: str) -> str:
    return f"too large for {what} ({size:,} bytes; the limit is {limit:,} bytes)"


def _read_text(fh: BinaryIO, size: int, rel: str) -> Record | Failure:
    if size > MAX_TEXT_BYTES:
        return Failure(rel, _too_large(size, MAX_TEXT_BYTES, "one article"))
    data = fh.read(MAX_TEXT_BYTES + 1)
    if len(data) > MAX_TEXT_BYTES:  # it grew since it was measured
        return Failure(rel, _too_large(len(data), MAX_TEXT_BYTES, "one article"))
    try:
        text = decode(data)
    except DecodeError as exc:
        return Failure(rel, str(exc))
    return Record(id=rel, path=rel, text=text, hash=content_hash(data))


def capped_lines(fh: ByteReader, limit: int) -> Iterator[tuple[int, bytes | int]]:
    """``(line number, line)`` for each line, or ``(line number, length)`` for a line
    longer than *limit* bytes, whose rest is skipped in chunks rather than held."""
    lineno = 0
    while line := fh.readline(limit + 1):
        lineno += 1
        if len(line) <= limit or line.endswith(b"\n"):
            yield lineno, line
            continue
        size = len(line)
        while chunk := fh.readline(_SKIP_CHUNK):
            size += len(chunk)
            if chunk.endswith(b"\n"):
                break
        yield lineno, size


def _read_jsonl(fh: ByteReader, rel: str) -> Iterator[Record | Failure]:
    any_line = False
    for lineno, line in capped_lines(fh, MAX_TEXT_BYTES):
        where = f"{rel}:{lineno}"
        if isinstance(line, int):
            any_line = True
            yield Failure(
                where, f"line {lineno} too long ({line:,} bytes; the limit is {MAX_TEXT_BYTES:,})"
            )
            continue
        if not line.strip():
            continue
        any_line = True
        obj = _parse_json(line)
        if isinstance(obj, Failure):
            yield Failure(where, obj.reason)
            continue
        yield record_from_json(obj, rel, where=where, digest=content_hash(line))
    if not any_line:
        yield Failure(rel, "empty file (no records)")


def _parse_json(data: bytes | str) -> object:
    """The decoded JSON value, or a :class:`Failure` (path left blank) saying why not."""
    try:
        return json.loads(data)
    except UnicodeDecodeError as exc:
        return Failure("", f"not valid UTF-8 (bad byte at offset {exc.start})")
    except json.JSONDecodeError as exc:
        return Failure("", f"invalid JSON ({exc})")
    except RecursionError:
        return Failure("", "invalid JSON (nested too deeply)")


def _read_json(fh: ByteReader, size: int, rel: str) -> Iterator[Record | Failure]:
    if size > MAX_JSON_BYTES and not rel.lower().endswith(".gz"):
        yield Failure(
            rel, _too_large(size, MAX_JSON_BYTES, "a JSON document") + "; write it as JSON Lines"
        )
        return
    data = fh.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        yield Failure(
            rel,
            f"too large for a JSON document (over {MAX_JSON_BYTES:,} bytes); "
            "write it as JSON Lines",
        )
        return
    try:
        text = decode(data)
    except DecodeError as exc:
        yield Failure(rel, str(exc))
        return
    obj = _parse_json(text)
    if isinstance(obj, Failure):
        yield Failure(rel, obj.reason)
        return
    items = obj if isinstance(obj, list) else [obj]
    if not items:
        yield Failure(rel, "empty file (no records)")
    for index, item in enumerate(items, 1):
        where = f"{rel}:{index}" if isinstance(obj, list) else rel
        raw = json.dumps(item, sort_keys=True, ensure_ascii=False).encode()
        yield record_from_json(item, rel, where=where, digest=content_hash(raw))


def record_from_json(obj: object, rel: str, *, where: str, digest: str) -> Record | Failure:
    """Turn one decoded JSON value into a :class:`Record` (or say why it is not one)."""
    if not isinstance(obj, dict):
        return Failure(where, f"expected a JSON object, found {type(obj).__name__}")
    text = next((obj[k] for k in BODY_KEYS if isinstance(obj.get(k), str) and obj[k].strip()), None)
    if text is None:
        return Failure(where, "record has no text (expected 'body', 'content' or 'text')")
    given_id = obj.get("id")
    record_id = nfc(str(given_id)) if given_id not in (None, "") else where
    fields = {k: v for k, v in obj.items() if k not in BODY_KEYS and k != "id"}
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return Record(id=record_id, path=rel, text=text, hash=digest, fields=fields)
