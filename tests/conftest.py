"""Shared fixtures: the bundled corpus, an index of it, the shared corpora, the CLI."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import tarfile
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from search.cli import app
from search.indexer import index_paths

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
#: The shared corpora: $VNSEARCH_SHARED/corpora (default: ../shared next to the repository).
SHARED = Path(os.environ.get("VNSEARCH_SHARED", REPO.parent / "shared")) / "corpora"
SEED_IDS = sorted(p.name for p in CORPUS.glob("*.txt"))


def shared_file(name: str) -> Path:
    """A file of ../shared/corpora, or a clean skip when the shared data is absent."""
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"shared corpus {name} not available at {SHARED}")
    return path


def vntc_records(n: int) -> list[str]:
    """The first *n* lines of the VNTC JSONL archive (raw JSON lines)."""
    lines = []
    with gzip.open(shared_file("vntc.jsonl.gz"), "rt", encoding="utf-8") as fh:
        for line in fh:
            lines.append(line)
            if len(lines) == n:
                break
    return lines


def vntc_documents(tmp: Path, n: int) -> list[dict]:
    """The seed corpus and the first *n* VNTC articles, as the Whoosh documents the
    indexer would write (for tests that compare two ways of writing one segment)."""
    from search.archive import Record, read_archive
    from search.documents import analyse, to_document

    archive = tmp / "vntc.jsonl"
    archive.write_text("".join(vntc_records(n)), encoding="utf-8")
    docs = []
    for root in (CORPUS, archive):
        docs += [to_document(r, str(root), analyse(r))
                 for r in read_archive([root]) if isinstance(r, Record)]
    return docs


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the bundled corpus, built once per test session."""
    index_dir = tmp_path_factory.mktemp("seed-index")
    summary = index_paths(index_dir, [CORPUS])
    assert summary.added == len(SEED_IDS) and not summary.failed
    return index_dir


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled corpus."""
    target = tmp_path / "archive"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture(scope="session")
def utf16_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The raw UTF-16 VNTC sample, unpacked once."""
    archive = shared_file("vntc-raw-utf16-sample.tar.gz")
    target = tmp_path_factory.mktemp("utf16")
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    return target


@pytest.fixture
def cli() -> Callable[..., object]:
    """Run ``vnsearch ARGS…`` in-process; returns click's Result."""
    runner = CliRunner()

    def invoke(*args: str, env: dict | None = None):
        return runner.invoke(app, [str(a) for a in args], env=env, catch_exceptions=False)

    return invoke


@pytest.fixture(scope="session")
def vntc_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the first 1,500 VNTC articles (real national news), built once."""
    root = tmp_path_factory.mktemp("vntc")
    archive = root / "vntc-1500.jsonl"
    archive.write_text("".join(vntc_records(1500)), encoding="utf-8")
    index_dir = root / "ix"
    summary = index_paths(index_dir, [archive])
    assert summary.added == 1500 and not summary.failed
    return index_dir


@pytest.fixture(scope="session")
def segmented_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600 VNTC articles written by two processes, so the index has several segments
    (what scoring and walks over posting lists must cross). Read-only."""
    root = tmp_path_factory.mktemp("segmented")
    archive = root / "vntc-600.jsonl"
    archive.write_text("".join(vntc_records(600)), encoding="utf-8")
    index_paths(root / "ix", [archive], procs=2)
    return root / "ix"


# --------------------------------------------------------------------------- real archives

#: How many articles of each shared corpus the real-archive tier indexes.
REAL_SAMPLE = 300
#: VNTC lines scanned for NFD texts and exact duplicates (both occur before line 9,000).
VNTC_SCAN = 9000
#: Extra NFD articles and duplicate pairs taken from the scanned VNTC lines.
VNTC_NFD, VNTC_DUPLICATES = 6, 3

#: Made-up articles carrying the metadata the real corpora lack (dates, authors,
#: sources), with some fields missing on purpose so facets see mixed presence. Every
#: one says "xtmadeup"; the ones without places also say "quxvodanh".
MADEUP = [
    {"id": "madeup/1", "title": "Đà Nẵng khai trương cầu mới kiểm thử", "date": "2024-03-05",
     "author": "Nguyễn Văn An", "source": "Tin Mới",
     "body": "Sáng nay thành phố Đà Nẵng khai trương cây cầu kiểm thử bắc qua sông Hàn xtmadeup."},
    {"id": "madeup/2", "title": "Hà Nội mở rộng đường vành đai kiểm thử", "date": "2024-07-01",
     "author": "Lê Thị Bình",
     "body": "Hà Nội mở rộng đường vành đai, một dự án kiểm thử quy mô lớn của thủ đô xtmadeup."},
    {"id": "madeup/3", "title": "Giá lúa tăng trong tuần kiểm thử quxvodanh", "date": "2023-11-20",
     "source": "Tin Mới",
     "body": "Giá lúa tăng mạnh trong tuần kiểm thử, nông dân quxvodanh phấn khởi xtmadeup."},
    {"id": "madeup/4", "title": "Học sinh đạt giải toán kiểm thử quxvodanh",
     "author": "Nguyễn Văn An",
     "body": "Nhiều học sinh quxvodanh đạt giải cao trong kỳ thi toán kiểm thử năm nay xtmadeup."},
    {"id": "madeup/5", "title": "Bài không có gì kiểm thử quxvodanh",
     "body": "Bài viết kiểm thử này không có ngày, tác giả, nguồn hay địa danh, hoàn toàn quxvodanh xtmadeup."},
    {"id": "madeup/6", "title": "Cần Thơ đón mùa nước nổi kiểm thử", "date": "2022-01-15",
     "body": "Người dân Cần Thơ chuẩn bị đón mùa nước nổi trong đợt kiểm thử đầu năm xtmadeup."},
    {"id": "madeup/7", "title": "Nguồn tin riêng kiểm thử quxvodanh", "source": "Báo Thử",
     "body": "Tin kiểm thử chỉ có nguồn, không có ngày và tác giả, nhân vật quxvodanh xtmadeup."},
    {"id": "madeup/8", "title": "Tác giả viết về Đà Nẵng kiểm thử", "date": "2024-03-28",
     "author": "Lê Thị Bình", "source": "Báo Thử",
     "body": "Bài kiểm thử thứ hai về Đà Nẵng, có ngày, tác giả và nguồn đầy đủ xtmadeup."},
]


@dataclass
class RealArchive:
    """The mixed real-archive index and what went into it (ids by origin, NFC texts)."""

    index: Path
    roots: list[Path]
    groups: dict[str, list[str]] = field(default_factory=dict)  # origin → article ids
    texts: dict[str, str] = field(default_factory=dict)  # id → whole NFC source text
    nfd: list[str] = field(default_factory=list)  # ids whose source text was not NFC
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # same text, two ids


def _is_nfd(text: str) -> bool:
    return unicodedata.normalize("NFC", text) != text


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).replace("\r\n", "\n")


def _tar_members(archive: Path) -> Iterator[tuple[str, bytes]]:
    """``(name, bytes)`` of the regular files of a tar.gz, in archive order, streamed."""
    with tarfile.open(archive) as tar:
        for member in tar:
            if member.isfile():
                handle = tar.extractfile(member)
                if handle is not None:
                    yield member.name, handle.read()


def write_baomoi_sample(target: Path, needed: dict[str, int], background: int,
                        holds: Callable[[str, str], bool] = lambda text, phrase: phrase in text,
                        ) -> tuple[dict[str, str], dict[str, int]]:
    """Articles of the baomoi-2017 crawl for a ranking or marking test, written into
    the new folder *target*: the first *background* (everyday news, whatever they
    say), plus the first few that hold each phrase of *needed* (phrase → how many;
    *holds* decides), so each case meets the competition it meets in the whole
    crawl. Returns file name → text, and how many articles were found for each
    phrase; stops reading once all are found."""
    target.mkdir(parents=True)
    taken = dict.fromkeys(needed, 0)
    texts: dict[str, str] = {}
    for n, (name, data) in enumerate(_tar_members(shared_file("baomoi-2017.tar.gz"))):
        text = data.decode("utf-8", "replace")
        wanted = [p for p in needed if taken[p] < needed[p] and holds(text, p)]
        for phrase in wanted:
            taken[phrase] += 1
        if n < background or wanted:
            (target / Path(name).name).write_bytes(data)
            texts[Path(name).name] = text
        if n >= background and taken == needed:
            break
    return texts, taken


def _sample_baomoi(target: Path, real: RealArchive) -> None:
    """The first REAL_SAMPLE baomoi files, then on until the one NFD article (2 s of gunzip)."""
    target.mkdir()
    ids: list[str] = []
    for name, data in _tar_members(shared_file("baomoi-2017.tar.gz")):
        text = data.decode("utf-8", "replace")
        nfd = _is_nfd(text)
        if len(ids) >= REAL_SAMPLE and not nfd:
            continue
        doc_id = Path(name).name
        (target / doc_id).write_bytes(data)
        ids.append(doc_id)
        real.texts[doc_id] = _nfc(text)
        if nfd:
            real.nfd.append(doc_id)
            break
    real.groups["baomoi"] = ids


def _sample_utf16(target: Path, real: RealArchive) -> None:
    """REAL_SAMPLE raw UTF-16 files (space-laden names), plus every NFD one of the 3,000."""
    ids: list[str] = []
    for name, data in _tar_members(shared_file("vntc-raw-utf16-sample.tar.gz")):
        text = data.decode("utf-16")
        nfd = _is_nfd(text)
        if len(ids) >= REAL_SAMPLE and not nfd:
            continue
        doc_id = name.split("/", 1)[1]
        (target / doc_id).parent.mkdir(parents=True, exist_ok=True)
        (target / doc_id).write_bytes(data)
        ids.append(doc_id)
        real.texts[doc_id] = _nfc(text)
        if nfd:
            real.nfd.append(doc_id)
    real.groups["utf16"] = ids


def _sample_vntc(target: Path, real: RealArchive) -> None:
    """REAL_SAMPLE VNTC lines, plus NFD texts and exact duplicate pairs found further on."""
    first_seen: dict[bytes, tuple[str, str]] = {}
    chosen: list[str] = []
    nfd_taken = 0
    for n, line in enumerate(vntc_records(VNTC_SCAN)):
        record = json.loads(line)
        digest = hashlib.sha1(record["text"].encode()).digest()
        twin = first_seen.get(digest)
        first_seen.setdefault(digest, (record["id"], line))
        take = n < REAL_SAMPLE
        if _is_nfd(record["text"]) and nfd_taken < VNTC_NFD:
            nfd_taken += 1
            real.nfd.append(record["id"])
            take = True
        if twin and len(real.duplicates) < VNTC_DUPLICATES:
            real.duplicates.append((twin[0], record["id"]))
            if twin[0] not in real.texts:
                chosen.append(twin[1])
                real.texts[twin[0]] = _nfc(record["text"])
            take = True
        if take:
            chosen.append(line)
            real.texts[record["id"]] = _nfc(record["text"])
    target.write_text("".join(chosen), encoding="utf-8")
    real.groups["vntc"] = [json.loads(line)["id"] for line in chosen]


def _copy_seeds(target: Path, real: RealArchive) -> None:
    shutil.copytree(CORPUS, target)
    real.groups["seeds"] = list(SEED_IDS)
    real.texts.update({i: _nfc((CORPUS / i).read_text(encoding="utf-8")) for i in SEED_IDS})


def _write_madeup(target: Path, real: RealArchive) -> None:
    target.write_text(json.dumps(MADEUP, ensure_ascii=False, indent=1), encoding="utf-8")
    real.groups["madeup"] = [a["id"] for a in MADEUP]
    real.texts.update({a["id"]: f"{a['title']}\n{a['body']}" for a in MADEUP})


@pytest.fixture(scope="session")
def real_archive(tmp_path_factory: pytest.TempPathFactory) -> RealArchive:
    """ONE index mixing samples of every shared corpus with the seeds and made-up
    articles: what the real-archive tier runs every command and endpoint over.

    Read-only for tests: a test that indexes again works on a copy.
    """
    root = tmp_path_factory.mktemp("real")
    real = RealArchive(index=root / "ix", roots=[
        root / "seeds", root / "baomoi", root / "utf16", root / "vntc.jsonl", root / "madeup.json",
    ])
    _copy_seeds(real.roots[0], real)
    _sample_baomoi(real.roots[1], real)
    _sample_utf16(real.roots[2], real)
    _sample_vntc(real.roots[3], real)
    _write_madeup(real.roots[4], real)
    summary = index_paths(real.index, real.roots, procs=2)
    assert not summary.failed, summary.failed
    assert summary.added == sum(len(ids) for ids in real.groups.values())
    return real
