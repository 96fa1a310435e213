"""Hostile archive files: every bad file is reported with its name and the reason,
everything else is indexed, memory stays bounded, and legacy Vietnamese encodings are
converted only when detection is confident.

Real data: the bundled seed articles and samples of the shared corpora (VNTC JSONL,
the raw UTF-16 VNTC files, baomoi-2017), encoded into the legacy encodings here.
"""

from __future__ import annotations

import ctypes
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unidecode import unidecode

from search import encodings
from search.archive import (
    MAX_TEXT_BYTES,
    DecodeError,
    Failure,
    Record,
    capped_lines,
    decode,
    read_archive,
)
from tests.conftest import CORPUS, REPO, SEED_IDS, shared_file, vntc_records

LEGACY = list(encodings.LEGACY_ENCODINGS)
_PR_CAPBSET_DROP = 24  # prctl(2): drop a capability from the bounding set
MB = 1024 * 1024

FRENCH = (
    "Le président de la République a déclaré mardi à la presse qu'il était très satisfait "
    "de l'accord signé à Genève. « C'est une étape décisive », a-t-il ajouté, évoquant la "
    "sécurité énergétique, l'économie et la coopération européenne. Où en est-on ? Déjà, "
    "les élèves de l'école réclament des hôtels moins chers et une façade rénovée."
)
GERMAN = "Die Größe der Straße überrascht; Mädchen und Bären spielen schön für Änderungen."
SPANISH = "El niño comió piña en el año pasado; la canción está aquí, según él: ¡qué día!"


# --------------------------------------------------------------------------- helpers


def seed_texts() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt"))]


def vntc_texts(n: int) -> list[str]:
    return [json.loads(line)["text"] for line in vntc_records(n)]


def encodable(text: str, encoding: str) -> str:
    """*text* without the characters *encoding* lacks (so a round trip is exact)."""
    keep = []
    for ch in unicodedata.normalize("NFC", text):
        try:
            encodings.encode(ch, encoding)
        except encodings.EncodingError:
            continue
        keep.append(ch)
    return "".join(keep)


def tar_members(archive: Path, suffix: str, n: int) -> Iterator[tuple[str, bytes]]:
    """The first *n* files ending in *suffix* of a .tar.gz, read as a stream."""
    found = 0
    with tarfile.open(archive, "r|gz") as tar:
        for member in tar:
            if member.isfile() and member.name.endswith(suffix):
                yield Path(member.name).name, tar.extractfile(member).read()
                found += 1
                if found == n:
                    return


def vnsearch_env() -> dict[str, str]:
    """The environment passed through, with this checkout first on the import path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


#: Runs a command and reports the peak RSS of it and its children (the multiprocessing
#: writer included): a fresh process, so no earlier child of pytest counts.
_MEASURE = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.run(sys.argv[1:]).returncode\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "sys.stderr.write(f'\\nMAXRSS_KB={peak}\\n')\n"
    "sys.exit(rc)\n"
)


def _drop_file_permission_override() -> None:
    """In a child of root: give up the capabilities that let root read any file
    (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), for it and everything it runs, so that
    chmod 000 blocks it as it blocks any other user."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def run_vnsearch(*args: str, confined: bool = False) -> tuple[subprocess.CompletedProcess, int]:
    """``vnsearch ARGS`` in a subprocess (*confined*: root without its override of file
    permissions); returns the result and the peak resident memory in MB."""
    confine = _drop_file_permission_override if confined and os.geteuid() == 0 else None
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, sys.executable, "-m", "search", *args],
        capture_output=True, text=True, env=vnsearch_env(), timeout=600, preexec_fn=confine,
    )
    match = re.search(r"MAXRSS_KB=(\d+)", proc.stderr)
    assert match, proc.stderr
    return proc, int(match.group(1)) // 1024


def why_unreadable_cannot_be_made(tmp_path: Path) -> str | None:
    """None when a chmod 000 file really is unreadable to a confined vnsearch, else why."""
    probe = tmp_path / "probe"
    probe.write_text("x")
    probe.chmod(0)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", "import sys; open(sys.argv[1]).read()", str(probe)],
            capture_output=True, text=True, timeout=60,
            preexec_fn=_drop_file_permission_override if os.geteuid() == 0 else None,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"cannot drop root's file-permission override here: {exc}"
    finally:
        probe.unlink()
    if "PermissionError" not in proc.stderr:
        return "a chmod 000 file stays readable to this user (no way to confine it here)"
    return None


def _read(path: Path) -> list[Record | Failure]:
    """read_archive, but failing (not hanging) if something blocks."""
    out: list[Record | Failure] = []
    worker = threading.Thread(target=lambda: out.extend(read_archive([path])), daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "reading the archive blocked"
    return out


def _failures(items: list[Record | Failure]) -> dict[str, str]:
    return {i.path: i.reason for i in items if isinstance(i, Failure)}


def _records(items: list[Record | Failure]) -> dict[str, Record]:
    return {i.id: i for i in items if isinstance(i, Record)}


# --------------------------------------------------------------------------- legacy tables


@pytest.mark.parametrize("encoding", LEGACY)
def test_every_vietnamese_letter_round_trips(encoding: str) -> None:
    letters = encodings.vietnamese_letters()
    assert len(letters) == 134 and len(set(letters)) == 134  # 67 lower-case, 67 capitals
    for letter in letters:
        data = encodings.encode(letter, encoding)
        assert encodings.decode(data, encoding) == letter, (encoding, letter, data)
    whole = "".join(letters)
    assert encodings.decode(encodings.encode(whole, encoding), encoding) == whole


def test_tables_match_the_published_examples() -> None:
    assert encodings.encode("Việt Nam", encodings.VNI) == b"Vie\xe4t Nam"
    assert encodings.encode("Bảo Thắng", encodings.TCVN3) == b"B\xb6o Th\xbeng"
    assert encodings.encode("Mường Khương", encodings.TCVN3) == b"M\xad\xeang Kh\xad\xacng"
    assert encodings.encode("Quận", encodings.WINDOWS_1258) == b"Qu\xe2\xf2n"
    assert encodings.decode(b"Xin cha\xf8o ca\xf9c ba\xefn", encodings.VNI) == "Xin chào các bạn"


def test_unencodable_characters_are_named_or_replaced() -> None:
    with pytest.raises(encodings.EncodingError, match="LEFT DOUBLE QUOTATION MARK"):
        encodings.encode("“Hà Nội”", encodings.TCVN3)
    assert encodings.encode("“Hà Nội”", encodings.TCVN3, errors="replace") == b"?H\xb5 N\xe9i?"


# --------------------------------------------------------------------------- detection


@pytest.fixture(scope="module")
def real_articles() -> list[str]:
    """The seed articles and 40 real VNTC articles (UTF-8 text)."""
    return seed_texts() + vntc_texts(40)


@pytest.mark.parametrize("encoding", LEGACY)
def test_real_articles_are_detected_and_converted(real_articles: list[str], encoding: str) -> None:
    for text in real_articles:
        expected = encodable(text, encoding)
        data = encodings.encode(expected, encoding)
        found = encodings.detect(data)
        assert found.encoding == encoding, (found.describe(), expected[:80])
        assert decode(data) == unicodedata.normalize("NFC", expected).replace("\r\n", "\n")


def test_utf8_and_ascii_are_never_converted(real_articles: list[str]) -> None:
    for text in real_articles:
        assert decode(text.encode("utf-8")) == text.replace("\r\n", "\n")
        plain = unidecode(text)
        assert decode(plain.encode("ascii")) == plain.replace("\r\n", "\n")


@pytest.mark.parametrize("text", [FRENCH, GERMAN, SPANISH], ids=["french", "german", "spanish"])
def test_western_european_legacy_text_is_refused_not_misread(text: str) -> None:
    data = text.encode("cp1252")
    assert encodings.detect(data).encoding is None
    with pytest.raises(DecodeError, match="not valid UTF-8.*convert it to UTF-8"):
        decode(data)


def test_utf8_with_one_bad_byte_is_refused_naming_the_offset() -> None:
    data = bytearray(seed_texts()[0].encode("utf-8"))
    middle = len(data) // 2
    data[middle:middle] = b"\xff"
    with pytest.raises(DecodeError, match=f"bad byte 0xff at offset {middle}"):
        decode(bytes(data))


def test_too_little_accented_text_is_refused_with_the_reason() -> None:
    data = encodings.encode("Tin nhanh: Hà Nội mưa", encodings.VNI)
    with pytest.raises(DecodeError, match=r"too little accented text \(3 words\)"):
        decode(data)


def test_a_mixed_up_file_is_refused_with_the_scores() -> None:
    text = encodable(seed_texts()[0], encodings.VNI)
    half = len(text) // 2
    data = (encodings.encode(text[:half], encodings.VNI)
            + encodings.encode(text[half:], encodings.TCVN3))
    with pytest.raises(DecodeError, match="no legacy Vietnamese encoding fits clearly.*VNI"):
        decode(data)


_VIETNAMESE_TEXT = st.text(
    alphabet=st.sampled_from(encodings.vietnamese_letters() + list("abcdeghiklmnopqrstuvxy ,.\n")),
    max_size=200,
)


@settings(max_examples=200, deadline=None)
@given(text=_VIETNAMESE_TEXT, encoding=st.sampled_from(LEGACY))
def test_any_vietnamese_text_round_trips(text: str, encoding: str) -> None:
    assert encodings.decode(encodings.encode(text, encoding), encoding) == text


@settings(max_examples=300, deadline=None)
@given(data=st.one_of(
    st.binary(max_size=3000),
    st.binary(max_size=3000).map(lambda b: b.replace(b"\x00", b" ")),  # past the NUL test
    _VIETNAMESE_TEXT.map(lambda t: t.encode("utf-16-le")),
    st.tuples(_VIETNAMESE_TEXT, st.sampled_from(LEGACY)).map(lambda p: encodings.encode(*p)),
))
def test_any_bytes_decode_or_give_a_reason(data: bytes) -> None:
    encodings.detect(data)  # never raises
    try:
        text = decode(data)
    except DecodeError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert "\x00" not in text and "\r" not in text and text.strip()


# --------------------------------------------------------------------------- one file each


def test_capped_lines_report_long_lines_without_holding_them() -> None:
    data = b'{"a": 1}\n' + b"x" * 1000 + b"\n" + b'{"b": 2}\n' + b"y" * 50
    lines = list(capped_lines(io.BytesIO(data), limit=100))
    assert lines == [(1, b'{"a": 1}\n'), (2, 1001), (3, b'{"b": 2}\n'), (4, b"y" * 50)]


def test_jsonl_with_bad_lines_keeps_the_good_ones(tmp_path: Path) -> None:
    good = [json.dumps({"id": f"g{i}", "text": f"Bài số {i} về Hà Nội"}) for i in range(3)]
    lines = [good[0], "{not json", good[1], '"just a string"', "[" * 100_000, good[2]]
    data = "\n".join(lines).encode() + b"\n" + b'{"id": "latin", "text": "caf\xe9"}\n'
    (tmp_path / "news.jsonl").write_bytes(data)
    items = _read(tmp_path)
    assert sorted(_records(items)) == ["g0", "g1", "g2"]
    failed = _failures(items)
    assert "invalid JSON" in failed["news.jsonl:2"]
    assert "expected a JSON object" in failed["news.jsonl:4"]
    assert "nested too deeply" in failed["news.jsonl:5"]
    assert "not valid UTF-8" in failed["news.jsonl:7"]


def test_non_regular_files_and_link_loops_are_reported_without_blocking(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Tin tức Hà Nội\n\nNội dung bài", encoding="utf-8")
    os.mkfifo(tmp_path / "pipe.txt")
    (tmp_path / "a.txt").symlink_to("b.txt")
    (tmp_path / "b.txt").symlink_to("a.txt")
    (tmp_path / "self.txt").symlink_to("self.txt")
    (tmp_path / "gone.txt").symlink_to("nowhere.txt")
    (tmp_path / "zero.txt").symlink_to("/dev/zero")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "up").symlink_to("..")  # a directory loop
    (tmp_path / "folder.txt").mkdir()  # a directory with an article's name: walked into
    (tmp_path / "folder.txt" / "inner.txt").write_text("Bài bên trong\n\nThân bài",
                                                       encoding="utf-8")
    items = _read(tmp_path)
    assert sorted(_records(items)) == ["folder.txt/inner.txt", "good.txt"]
    failed = _failures(items)
    assert set(failed) == {"pipe.txt", "a.txt", "b.txt", "self.txt", "gone.txt", "zero.txt",
                           "sub/up"}
    assert "FIFO" in failed["pipe.txt"]
    for name in ("a.txt", "b.txt", "self.txt"):
        assert "symbolic link loop" in failed[name]
    assert "broken symbolic link" in failed["gone.txt"]
    assert "not a regular file" in failed["zero.txt"]
    assert "symbolic link to a directory: not followed" in failed["sub/up"]


def test_sizes_over_the_limit_are_refused_without_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as fh:  # sparse: costs no disk, and must not be read
        fh.truncate(MAX_TEXT_BYTES + 1)
    items = _read(tmp_path)
    assert _failures(items) == {
        "big.txt": f"too large for one article ({MAX_TEXT_BYTES + 1:,} bytes; "
                   f"the limit is {MAX_TEXT_BYTES:,} bytes)"
    }


def test_nfd_and_space_laden_names_get_nfc_ids(tmp_path: Path) -> None:
    name = unicodedata.normalize("NFD", "  Tin Hà Nội  mới .txt")
    (tmp_path / name).write_text("Hà Nội mưa to\n\nĐường ngập", encoding="utf-8")
    items = _read(tmp_path)
    assert list(_records(items)) == [unicodedata.normalize("NFC", name)]


# --------------------------------------------------------------------------- through the CLI


def test_index_show_and_search_files_with_nfd_and_spaced_names(cli, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    nfd_name = unicodedata.normalize("NFD", "Quận ủy Ba Đình họp.txt")
    (archive / nfd_name).write_text(
        "Quận ủy Ba Đình họp bàn kế hoạch\n\nSáng nay Quận ủy Ba Đình đã họp.", encoding="utf-8")
    (archive / "tin  có   dấu cách.txt").write_text(
        "Giá vàng tăng mạnh\n\nGiá vàng sáng nay tăng.", encoding="utf-8")
    ix = tmp_path / "ix"
    result = cli("index", archive, "--index", ix, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["added"] == 2
    typed = "Quận ủy Ba Đình họp.txt"  # as a keyboard types it: NFC
    shown = cli("show", typed, "--index", ix, "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["id"] == typed
    pasted = cli("show", unicodedata.normalize("NFD", typed), "--index", ix, "--json")
    assert json.loads(pasted.output)["id"] == typed  # a terminal that sends NFD
    found = json.loads(cli("search", "quan uy ba dinh", "--index", ix, "--json").output)
    assert typed in [hit["id"] for hit in found["hits"]]
    spaced = json.loads(cli("show", "tin  có   dấu cách.txt", "--index", ix, "--json").output)
    assert spaced["title"] == "Giá vàng tăng mạnh"


def test_a_file_that_turns_into_a_fifo_keeps_its_indexed_version(cli, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(CORPUS, archive)
    ix = tmp_path / "ix"
    assert cli("index", archive, "--index", ix, "--json").exit_code == 0
    victim = archive / SEED_IDS[0]
    victim.unlink()
    os.mkfifo(victim)
    result = cli("index", archive, "--index", ix, "--json")
    assert result.exit_code == 1
    summary = json.loads(result.output)
    assert [f["path"] for f in summary["failed"]] == [SEED_IDS[0]]
    assert "FIFO" in summary["failed"][0]["reason"]
    assert summary["documents"] == len(SEED_IDS) and summary["removed"] == 0
    assert cli("show", SEED_IDS[0], "--index", ix, "--json").exit_code == 0


def test_an_unreadable_file_is_reported(tmp_path: Path) -> None:
    why_not = why_unreadable_cannot_be_made(tmp_path)
    if why_not:
        pytest.skip(f"cannot make an unreadable file: {why_not}")
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "good.txt").write_text("Tin tốt\n\nNội dung bài viết", encoding="utf-8")
    secret = archive / "secret.txt"
    secret.write_text("Bí mật\n\nKhông đọc được", encoding="utf-8")
    secret.chmod(0)
    locked = archive / "locked"
    locked.mkdir()
    (locked / "inside.txt").write_text("Bài trong thư mục khóa\n\nNội dung", encoding="utf-8")
    locked.chmod(0)
    try:
        proc, _ = run_vnsearch("index", str(archive), "--index", str(tmp_path / "ix"), "--json",
                               confined=True)
    finally:
        locked.chmod(0o755)  # so that pytest can clean up
    assert proc.returncode == 1, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["added"] == 1
    assert summary["failed"] == [
        {"path": "secret.txt", "reason": "permission denied (cannot read the file)"},
        {"path": "locked", "reason": "permission denied (cannot list the directory)"},
    ]


# --------------------------------------------------------------------------- all at once


def _write_repeated(path: Path, size: int, chunk: bytes) -> None:
    """A file of exactly *size* bytes of *chunk* repeated, written a megabyte at a time."""
    block = chunk * (MB // len(chunk) + 1)
    with path.open("wb") as fh:
        for _ in range(size // len(block) + 1):
            fh.write(block)
        fh.truncate(size)


def _build_hostile_archive(root: Path, unreadable: bool) -> tuple[set[str], dict[str, str], dict[str, str]]:
    """Good articles next to every kind of hostile file.

    Returns the ids that must be indexed, ``failed path → reason pattern``, and
    ``legacy id → unaccented query`` for the converted legacy files.
    """
    good: set[str] = set()
    for seed in sorted(CORPUS.glob("*.txt")):
        shutil.copy(seed, root / seed.name)
        good.add(seed.name)
    (root / "baomoi").mkdir()
    for name, data in tar_members(shared_file("baomoi-2017.tar.gz"), ".txt", 60):
        (root / "baomoi" / name).write_bytes(data)
        good.add(f"baomoi/{name}")
    (root / "utf16").mkdir()  # UTF-16 with BOM, CRLF, names with spaces and parentheses
    for name, data in tar_members(shared_file("vntc-raw-utf16-sample.tar.gz"), ".txt", 20):
        if not (root / "utf16" / name).exists():
            (root / "utf16" / name).write_bytes(data)
            good.add(f"utf16/{name}")

    records = vntc_records(110)
    jsonl = [line.rstrip("\n") for line in records[:100]]
    good.update(json.loads(line)["id"] for line in jsonl)
    failed = {}
    with (root / "vntc.jsonl").open("wb") as fh:
        for i, line in enumerate(jsonl, 1):
            fh.write(line.encode() + b"\n")
            if i == 30:  # line 31: 100 MB in one line, then the rest of the good ones
                fh.write(b'{"id": "huge", "text": "')
                for _ in range(100):
                    fh.write(b"Ha Noi mua to. " * (MB // 15))
                fh.write(b'"}\n')
            if i == 60:  # line 62: broken JSON
                fh.write(b'{"id": "broken", "text": "unterminated\n')
    failed["vntc.jsonl:31"] = r"line 31 too long \(104,857,\d+ bytes; the limit is 20,971,520\)"
    failed["vntc.jsonl:62"] = "invalid JSON"

    texts = [json.loads(line)["text"] for line in records[100:]]
    legacy_queries = {}
    for encoding, text in zip(LEGACY, texts, strict=False):
        name = f"legacy-{encoding}.txt"
        (root / name).write_bytes(encodings.encode(encodable(text, encoding), encoding))
        good.add(name)
        legacy_queries[name] = unidecode(" ".join(re.findall(r"[^\W_]+", text)[:8]))

    article = seed_texts()[1]
    cut = article.encode("utf-8")
    cut = cut[: cut.rindex("ệ".encode()) + 2]  # ends inside a three-byte character
    (root / "truncated-utf8.txt").write_bytes(cut)
    (root / "utf16-le-no-bom.txt").write_bytes(seed_texts()[2].encode("utf-16-le"))
    (root / "utf16-be-no-bom.txt").write_bytes(seed_texts()[3].encode("utf-16-be"))
    nfd = unicodedata.normalize("NFD", "Tin Hà Nội  mới nhất.txt")
    (root / nfd).write_text(seed_texts()[4], encoding="utf-8")
    (root / "folder.txt").mkdir()
    (root / "folder.txt" / "inner.txt").write_text("Bài bên trong\n\nThân bài về Đà Nẵng",
                                                   encoding="utf-8")
    good.update({"truncated-utf8.txt", "utf16-le-no-bom.txt", "utf16-be-no-bom.txt",
                 unicodedata.normalize("NFC", nfd), "folder.txt/inner.txt"})

    (root / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(4096))
    (root / "empty.txt").write_bytes(b"")
    (root / "french-cp1252.txt").write_bytes(FRENCH.encode("cp1252"))
    _write_repeated(root / "huge-50mb.txt", 50 * MB, "Giá vàng hôm nay. ".encode())
    (root / "loop-a.txt").symlink_to("loop-b.txt")
    (root / "loop-b.txt").symlink_to("loop-a.txt")
    (root / "sub").mkdir()
    (root / "sub" / "up").symlink_to("..")
    os.mkfifo(root / "pipe.txt")
    failed.update({
        "binary.txt": "binary file",
        "empty.txt": "empty file",
        "french-cp1252.txt": "not valid UTF-8 .*no legacy Vietnamese encoding fits clearly",
        "huge-50mb.txt": r"too large for one article \(52,428,800 bytes; the limit is 20,971,520",
        "loop-a.txt": "symbolic link loop",
        "loop-b.txt": "symbolic link loop",
        "sub/up": "symbolic link to a directory: not followed",
        "pipe.txt": r"a FIFO \(named pipe\), not a regular file",
    })
    if unreadable:
        (root / "secret.txt").write_text("Bí mật\n\nKhông đọc được", encoding="utf-8")
        (root / "secret.txt").chmod(0)
        failed["secret.txt"] = "permission denied"
    return good, failed, legacy_queries


@pytest.mark.slow
def test_one_archive_of_every_hostile_file_next_to_real_articles(cli, tmp_path: Path) -> None:
    # Without a way to make chmod 000 bite (see the test above), that one file is left out.
    unreadable = why_unreadable_cannot_be_made(tmp_path) is None
    archive = tmp_path / "archive"
    archive.mkdir()
    good, failed, legacy_queries = _build_hostile_archive(archive, unreadable=unreadable)
    ix = tmp_path / "ix"

    proc, peak_mb = run_vnsearch("index", str(archive), "--index", str(ix), "--json",
                                 confined=True)
    assert proc.returncode == 1, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    reported = {f["path"]: f["reason"] for f in summary["failed"]}
    assert set(reported) == set(failed), reported
    for path, pattern in failed.items():
        assert re.search(pattern, reported[path]), (path, reported[path])
    assert summary["added"] == len(good) == summary["documents"]
    # 150 MB of hostile data was offered: memory must not follow it.
    assert peak_mb < 400, f"peak RSS {peak_mb} MB"

    after_huge_line = json.loads(vntc_records(40)[35])["id"]
    for doc_id in ("truncated-utf8.txt", "utf16-be-no-bom.txt", "Tin Hà Nội  mới nhất.txt",
                   "folder.txt/inner.txt", after_huge_line):
        shown = cli("show", doc_id, "--index", ix, "--json")
        assert shown.exit_code == 0, (doc_id, shown.output)
    # The character cut in half is dropped; everything before it is there.
    truncated = json.loads(cli("show", "truncated-utf8.txt", "--index", ix, "--json").output)
    cut = (archive / "truncated-utf8.txt").read_bytes()[:-2].decode("utf-8")
    assert truncated["body"].rstrip()[-40:] in cut and "\ufffd" not in truncated["body"]
    print(f"hostile archive: {summary['added']} indexed, {len(reported)} reported, "
          f"peak RSS {peak_mb} MB")
    for doc_id, query in legacy_queries.items():
        found = json.loads(cli("search", query, "--index", ix, "--json", "-n", "20").output)
        assert doc_id in [hit["id"] for hit in found["hits"]], (doc_id, query)
