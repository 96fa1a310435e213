"""Shared fixtures: the bundled corpus, an index of it, the shared corpora, the CLI."""

from __future__ import annotations

import gzip
import os
import shutil
import tarfile
from collections.abc import Callable
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
