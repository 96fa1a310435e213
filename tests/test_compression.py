"""Stored text compression: Zstandard round trips, and indexes written with zlib
(codec format 2) still read, article for article."""

from __future__ import annotations

import threading
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from search import compression, store
from search.codec import perdoc, version
from search.engine import open_engine
from search.indexer import index_paths
from search.schema import BODY_Z
from search.service import SearchRequest
from tests.conftest import CORPUS, SEED_IDS


@given(st.binary(max_size=20_000))
def test_round_trip(data: bytes) -> None:
    packed = compression.compress(data)
    assert packed.startswith(compression.ZSTD_MAGIC)
    assert compression.decompress(packed) == data


@given(st.binary(max_size=5_000))
def test_reads_zlib(data: bytes) -> None:
    assert compression.decompress(zlib.compress(data, 6)) == data


def test_vietnamese_text_shrinks() -> None:
    text = (CORPUS / SEED_IDS[0]).read_text(encoding="utf-8").encode()
    assert len(compression.compress(text)) < len(text) / 2


def test_threads_each_round_trip() -> None:
    """The HTTP mode reads articles from several threads at once."""
    texts = [f"Quận ủy Ba Đình {i} ".encode() * (200 + i) for i in range(8)]
    wrong: list[int] = []

    def work(i: int) -> None:
        for _ in range(200):
            if compression.decompress(compression.compress(texts[i])) != texts[i]:
                wrong.append(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not wrong


def _zlib(data: bytes) -> bytes:
    return zlib.compress(data, 6)


def _index_as_format_2(index_dir: Path, archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Index *archive* as vnsearch wrote codec format 2: zlib bodies and stored blocks."""
    with monkeypatch.context() as old:
        old.setattr(version, "FORMAT_VERSION", 2)
        old.setattr("search.codec.terms.FORMAT_VERSION", 2)
        old.setattr(compression, "compress", _zlib)
        old.setattr(perdoc, "compress", _zlib)
        old.setattr("search.schema.compress", _zlib)
        index_paths(index_dir, [archive])


def test_index_written_with_zlib_still_reads(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """An index of codec format 2 (zlib bodies and stored blocks) shows the same
    articles and finds the same hits as one written now."""
    _index_as_format_2(tmp_path / "old", CORPUS, monkeypatch)
    index_paths(tmp_path / "new", [CORPUS])
    for name, first in (("old", b"\x78"), ("new", compression.ZSTD_MAGIC)):
        with store.open_index(tmp_path / name).searcher() as searcher:
            assert all(fields[BODY_Z].startswith(first) for fields in searcher.all_stored_fields())
    old_engine, new_engine = open_engine(tmp_path / "old"), open_engine(tmp_path / "new")
    for doc_id in SEED_IDS:
        before, now = old_engine.article(doc_id), new_engine.article(doc_id)
        assert before is not None and now is not None
        assert before["body"] and before["body"] == now["body"]
    for q in ("quan uy ba dinh", "khen thưởng", '"ủy ban"'):
        hits = [[h.id for h in e.search(SearchRequest(q=q)).hits]
                for e in (old_engine, new_engine)]
        assert hits[0] and hits[0] == hits[1]


def test_zlib_index_takes_new_articles(corpus_copy: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Articles added to an index of codec format 2 are written in the new format
    beside (or merged with) the old segments, and every article still reads."""
    _index_as_format_2(tmp_path / "ix", corpus_copy, monkeypatch)
    first = corpus_copy / SEED_IDS[0]
    added = corpus_copy / "them.txt"
    added.write_text("Bài mới về Quận ủy Ba Đình\n\n" + first.read_text(encoding="utf-8"),
                     encoding="utf-8")
    summary = index_paths(tmp_path / "ix", [corpus_copy])
    assert summary.added == 1 and not summary.failed
    engine = open_engine(tmp_path / "ix")
    assert engine.documents() == len(SEED_IDS) + 1
    for doc_id in [*SEED_IDS, "them.txt"]:
        article = engine.article(doc_id)
        assert article is not None and article["body"]
    assert "them.txt" in [h.id for h in engine.search(SearchRequest(q="bai moi")).hits]
