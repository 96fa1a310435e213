"""Indexing: incremental runs, bad input, failure safety, rebuilds, real archives."""

from __future__ import annotations

import codecs
import json
import os
import threading
from pathlib import Path

import pytest

from search import documents, safe_writer, store
from search.indexer import index_paths
from search.query import run
from tests.conftest import SEED_IDS, vntc_records


def doc_ids(index_dir: Path) -> set[str]:
    ix = store.open_index(index_dir)
    with ix.searcher() as s:
        return {f["id"] for f in s.all_stored_fields()}


def search_ids(index_dir: Path, text: str, limit: int = 10) -> list[str]:
    ix = store.open_index(index_dir)
    with ix.searcher() as s:
        return [h.id for h in run(s, text, limit=limit).hits]


def test_first_run_adds_every_seed(tmp_path: Path, corpus_copy: Path) -> None:
    summary = index_paths(tmp_path / "ix", [corpus_copy])
    assert (summary.added, summary.updated, summary.removed, summary.skipped) == (5, 0, 0, 0)
    assert summary.documents == 5 and not summary.failed
    assert doc_ids(tmp_path / "ix") == set(SEED_IDS)


def test_incremental_touch_edit_delete(tmp_path: Path, corpus_copy: Path) -> None:
    ix = tmp_path / "ix"
    index_paths(ix, [corpus_copy])
    files = sorted(corpus_copy.glob("*.txt"))

    # Touch: same bytes, newer mtime → skipped.
    os.utime(files[0], None)
    summary = index_paths(ix, [corpus_copy])
    assert (summary.added, summary.updated, summary.removed, summary.skipped) == (0, 0, 0, 5)

    # Edit: replaced, and the new words are searchable, the old ones gone.
    files[1].write_text(files[1].read_text(encoding="utf-8") + "\nTừ khóa xyzzyquux mới.\n")
    summary = index_paths(ix, [corpus_copy])
    assert (summary.added, summary.updated, summary.skipped) == (0, 1, 4)
    assert search_ids(ix, "xyzzyquux") == [files[1].name]

    # Delete: removed from the index.
    files[2].unlink()
    summary = index_paths(ix, [corpus_copy])
    assert (summary.removed, summary.skipped) == (1, 4)
    assert files[2].name not in doc_ids(ix)
    assert summary.documents == 4


def test_other_roots_are_left_alone(tmp_path: Path, corpus_copy: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "extra.txt").write_text("Tin khác\n\nNội dung riêng biệt zyxwv.", encoding="utf-8")
    ix = tmp_path / "ix"
    index_paths(ix, [corpus_copy])
    summary = index_paths(ix, [other])
    assert summary.added == 1 and summary.removed == 0
    assert len(doc_ids(ix)) == 6


def test_utf16_and_binary_files_in_the_corpus(tmp_path: Path, corpus_copy: Path) -> None:
    text = "Quận Gò Vấp tổ chức hội nghị\r\n\r\nNội dung về phường thuỷ lợi.\r\n"
    (corpus_copy / "utf16.txt").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    (corpus_copy / "photo.txt").write_bytes(bytes(range(256)) * 4)
    (corpus_copy / "legacy.txt").write_bytes("Qu\u00e2\u0323n".encode("cp1258"))
    summary = index_paths(tmp_path / "ix", [corpus_copy])
    assert summary.added == 6
    reasons = {f.path: f.reason for f in summary.failed}
    assert set(reasons) == {"photo.txt", "legacy.txt"}
    assert "binary" in reasons["photo.txt"] and "UTF-8" in reasons["legacy.txt"]
    assert search_ids(tmp_path / "ix", "thuy loi") == ["utf16.txt"]


def test_a_file_that_turns_bad_keeps_its_indexed_version(tmp_path: Path, corpus_copy: Path) -> None:
    ix = tmp_path / "ix"
    index_paths(ix, [corpus_copy])
    victim = corpus_copy / SEED_IDS[0]
    victim.write_bytes(b"\x00\xff\x00 garbage")
    summary = index_paths(ix, [corpus_copy])
    assert [f.path for f in summary.failed] == [SEED_IDS[0]]
    assert summary.removed == 0 and SEED_IDS[0] in doc_ids(ix)


def test_a_json_archive_that_turns_unreadable_keeps_its_articles(tmp_path: Path) -> None:
    """A JSON Lines archive that cannot be read this time (a corrupt .gz) fails as a
    whole; its articles (ids of their own, not file paths) stay in the index."""
    import gzip

    archive = tmp_path / "archive"
    archive.mkdir()
    news = archive / "news.jsonl.gz"
    lines = vntc_records(20)
    news.write_bytes(gzip.compress("".join(lines).encode()))
    (archive / "other.txt").write_text("Tin khác\n\nMột bài khác hẳn.", encoding="utf-8")
    ix = tmp_path / "ix"
    assert index_paths(ix, [archive]).added == 21
    news.write_bytes(b"\x1f\x8b\x08\x00 not gzip at all")
    summary = index_paths(ix, [archive])
    assert [f.path for f in summary.failed] == ["news.jsonl.gz"]
    assert summary.removed == 0 and len(doc_ids(ix)) == 21
    # Readable again with one record gone: that one, and only that one, leaves.
    news.write_bytes(gzip.compress("".join(lines[1:]).encode()))
    summary = index_paths(ix, [archive])
    assert summary.removed == 1 and not summary.failed
    assert json.loads(lines[0])["id"] not in doc_ids(ix) and len(doc_ids(ix)) == 20


def test_an_interrupted_run_leaves_the_last_index_intact(
    tmp_path: Path, corpus_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ix = tmp_path / "ix"
    index_paths(ix, [corpus_copy])
    for f in corpus_copy.glob("*.txt"):
        f.write_text(f.read_text(encoding="utf-8") + "\nsửa đổi plughxyzzy\n", encoding="utf-8")
    calls = {"n": 0}
    real = documents.analyse

    def crash_on_third(record):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(record)

    monkeypatch.setattr(documents, "analyse", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        index_paths(ix, [corpus_copy])
    # The old generation is still there and readable, and no lock is left behind.
    assert doc_ids(ix) == set(SEED_IDS)
    assert search_ids(ix, "plughxyzzy") == []
    monkeypatch.setattr(documents, "analyse", real)
    summary = index_paths(ix, [corpus_copy])
    assert summary.updated == 5
    assert len(search_ids(ix, "plughxyzzy")) == 5


def test_extraction_errors_are_reported_not_raised(
    tmp_path: Path, corpus_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = documents.extract

    def picky(text, fields=None):
        if "Gò Vấp" in text:
            raise ValueError("boom")
        return real(text, fields)

    monkeypatch.setattr(documents, "extract", picky)
    summary = index_paths(tmp_path / "ix", [corpus_copy])
    assert summary.added == 4
    assert [f.path for f in summary.failed] == ["004_752ea5e39524a483.txt"]
    assert "boom" in summary.failed[0].reason


def test_rebuild_swaps_in_a_new_index_and_keeps_other_files(
    tmp_path: Path, corpus_copy: Path
) -> None:
    ix = tmp_path / "ix"
    ix.mkdir()
    (ix / "README.md").write_text("keep me", encoding="utf-8")
    index_paths(ix, [corpus_copy])
    (corpus_copy / SEED_IDS[0]).unlink()
    summary = index_paths(ix, [corpus_copy], rebuild=True)
    assert summary.rebuilt and summary.added == 4
    assert doc_ids(ix) == set(SEED_IDS[1:])
    assert (ix / "README.md").read_text(encoding="utf-8") == "keep me"
    assert not (tmp_path / "ix.building").exists() and not (tmp_path / "ix.old").exists()


def test_a_rebuild_never_leaves_the_index_missing(tmp_path: Path, corpus_copy: Path) -> None:
    """A server polling the index while it is rebuilt must always find one."""
    ix = tmp_path / "ix"
    index_paths(ix, [corpus_copy])
    seen_missing = 0
    stop = threading.Event()

    def poll() -> None:
        nonlocal seen_missing
        while not stop.is_set():
            seen_missing += not store.index_exists(ix)

    watcher = threading.Thread(target=poll)
    watcher.start()
    try:
        for _ in range(15):
            index_paths(ix, [corpus_copy], rebuild=True)
    finally:
        stop.set()
        watcher.join()
    assert seen_missing == 0 and doc_ids(ix) == set(SEED_IDS)


def test_a_failed_rebuild_keeps_the_old_index(
    tmp_path: Path, corpus_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ix = tmp_path / "ix"
    index_paths(ix, [corpus_copy])

    def broken(record):
        raise MemoryError("simulated")

    monkeypatch.setattr(documents, "analyse", broken)
    with pytest.raises(MemoryError):
        index_paths(ix, [corpus_copy], rebuild=True)
    assert doc_ids(ix) == set(SEED_IDS)
    assert not (tmp_path / "ix.building").exists()


def test_manifest_records_roots(tmp_path: Path, corpus_copy: Path) -> None:
    ix = tmp_path / "ix"
    index_paths(ix, [corpus_copy])
    manifest = store.read_manifest(ix)
    assert manifest["roots"] == [str(corpus_copy.resolve())]
    assert manifest["documents"] == 5


def test_vntc_jsonl_records_are_found_without_accents(tmp_path: Path) -> None:
    lines = vntc_records(300)
    archive = tmp_path / "vntc.jsonl"
    archive.write_text("".join(lines), encoding="utf-8")
    summary = index_paths(tmp_path / "ix", [archive])
    assert summary.added == 300 and not summary.failed
    # Known items: 4 consecutive words from the middle of an article, folded.
    from search.normalize import fold, terms

    found = 0
    sample = [json.loads(line) for line in lines[::30]]
    for record in sample:
        words = terms(record["text"])
        span = " ".join(fold(w) for w in words[len(words) // 2 : len(words) // 2 + 4])
        ids = search_ids(tmp_path / "ix", f'"{span}"', limit=10)
        found += record["id"] in ids
    assert found == len(sample)


def test_raw_utf16_vntc_sample_indexes_without_failure(tmp_path: Path, utf16_sample: Path) -> None:
    summary = index_paths(tmp_path / "ix", [utf16_sample])
    assert not summary.failed, summary.failed[:5]
    assert summary.added == 3000
    # An unaccented query finds articles (the sample is varied news).
    assert len(search_ids(tmp_path / "ix", "bong da", limit=5)) == 5


def test_a_run_with_nothing_to_do_leaves_no_files_behind(tmp_path: Path, corpus_copy: Path) -> None:
    """Whoosh's cancelled writer leaves its unused segment's files; the run sweeps them."""
    ix = tmp_path / "ix"
    index_paths(ix, [corpus_copy])
    listing = sorted(p.name for p in ix.iterdir())
    for _ in range(2):
        assert index_paths(ix, [corpus_copy]).skipped == 5
    assert sorted(p.name for p in ix.iterdir()) == listing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive", "ix"]  # no lock left


def test_a_failed_first_run_leaves_nothing(
    tmp_path: Path, corpus_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first run is built aside like a rebuild: failing, it leaves no empty index."""

    def broken(record):
        raise MemoryError("simulated")

    monkeypatch.setattr(documents, "analyse", broken)
    with pytest.raises(MemoryError):
        index_paths(tmp_path / "ix", [corpus_copy])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive"]


def test_a_second_writer_in_the_same_machine_is_refused(tmp_path: Path, corpus_copy: Path) -> None:
    from search import lock

    held = lock.acquire(tmp_path / "ix")
    try:
        with pytest.raises(lock.IndexBusy, match=rf"another vnsearch is indexing \(pid {os.getpid()}\)"):
            index_paths(tmp_path / "ix", [corpus_copy])
    finally:
        held.release()
    assert index_paths(tmp_path / "ix", [corpus_copy]).added == 5


def test_a_dead_writer_process_stops_the_commit(
    tmp_path: Path, corpus_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoosh's multiprocess writer commits without a worker that died, silently.
    The run fails with a clear error instead (before the commit when the worker is
    already dead, else by counting after it), and the next run completes the index."""
    ix = tmp_path / "ix"
    index_paths(ix, [corpus_copy])
    archive = tmp_path / "vntc"
    archive.mkdir()
    (archive / "a.jsonl").write_text("".join(vntc_records(120)), encoding="utf-8")
    real = documents.to_document

    def poisoned(record, root, article):
        doc = real(record, root, article)
        doc["word_count"] = "not a number"  # fails in the worker, not in this process
        return doc

    monkeypatch.setattr(documents, "to_document", poisoned)
    with pytest.raises(safe_writer.IndexWriteError, match="a writer process failed"):
        index_paths(ix, [archive], procs=2)
    assert doc_ids(ix) == set(SEED_IDS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive", "ix", "vntc"]
    assert not (ix / "MAIN.tmp").exists()
    monkeypatch.setattr(documents, "to_document", real)
    assert index_paths(ix, [archive], procs=2).added == 120
    assert len(doc_ids(ix)) == 125
