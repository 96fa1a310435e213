"""Every segment vnsearch writes is a VnCodec segment (:mod:`search.codec`), whatever
wrote it — a first run, an incremental one, two processes, a deletion, the merges
Whoosh makes on commit — and an index of the old format (Whoosh's W3 codec, schema
version 5) is refused with the rebuild command, which rebuilds it into the codec."""

from __future__ import annotations

import json
from pathlib import Path

from whoosh import index as whoosh_index

from search import store
from search.codec.vncodec import segment_arrays
from search.engine import LocalEngine
from search.indexer import index_paths
from search.query import run
from search.schema import ID, SCHEMA_VERSION, build_schema


def segment_ids(index_dir: Path) -> set[str]:
    """The index's segments, each checked to be a VnCodec one through the public
    reader API (``segment_arrays`` is ``None`` for another codec's segment)."""
    ids = set()
    with store.open_index(index_dir).searcher() as searcher:
        for leaf, _ in searcher.reader().leaf_readers():
            arrays = segment_arrays(leaf)
            assert arrays is not None, f"segment {leaf.segment().segment_id()} is not VnCodec"
            arrays.close()
            ids.add(leaf.segment().segment_id())
    return ids


def add_article(archive: Path, name: str, text: str) -> None:
    (archive / name).write_text(text, encoding="utf-8")


def test_every_write_makes_codec_segments(corpus_copy: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    index_paths(index_dir, [corpus_copy], procs=2)  # two processes: a segment each
    seen = [segment_ids(index_dir)]
    for k in range(6):  # incremental runs: Whoosh merges small segments (5+) on commit
        add_article(corpus_copy, f"extra-{k}.txt", f"Bài thêm {k}\n\nHà Nội mưa lớn ngày {k}.")
        assert index_paths(index_dir, [corpus_copy]).added == 1
        seen.append(segment_ids(index_dir))
    assert any(not before <= after for before, after in zip(seen, seen[1:], strict=False)), (
        "no commit merged segments: the merge path went untested")
    gone = sorted(corpus_copy.glob("*.txt"))[0]
    gone.unlink()
    assert index_paths(index_dir, [corpus_copy]).removed == 1  # deleted by an incremental run
    segment_ids(index_dir)
    assert LocalEngine(index_dir).delete(["extra-0.txt"]) == 1  # deleted through the engine
    segment_ids(index_dir)
    with store.open_index(index_dir).searcher() as searcher:
        found = {hit.id for hit in run(searcher, "ha noi mua lon", limit=50).hits}
    assert {"extra-1.txt", "extra-2.txt", "extra-3.txt"} <= found
    assert "extra-0.txt" not in found and gone.name not in found


def test_a_rebuild_makes_codec_segments(corpus_copy: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    index_paths(index_dir, [corpus_copy])
    index_paths(index_dir, [corpus_copy], rebuild=True, procs=2)
    assert segment_ids(index_dir)


def old_w3_index(index_dir: Path) -> None:
    """An index as the previous vnsearch wrote it: Whoosh's default codec (W3) and
    schema version 5 in its manifest."""
    index_dir.mkdir()
    ix = whoosh_index.create_in(str(index_dir), build_schema())
    writer = ix.writer()  # Whoosh's plain writer: its default codec
    writer.add_document(**{ID: "old.txt"})
    writer.commit()
    store.write_manifest(index_dir, [], 1)
    manifest = index_dir / store.MANIFEST
    data = json.loads(manifest.read_text(encoding="utf-8"))
    manifest.write_text(json.dumps({**data, "schema_version": 5}), encoding="utf-8")


def test_an_old_w3_index_is_refused_then_rebuilt(cli, corpus_copy: Path, tmp_path: Path) -> None:
    assert SCHEMA_VERSION != 5
    index_dir = tmp_path / "ix"
    old_w3_index(index_dir)
    hint = f"Rebuild it with: vnsearch index --rebuild --index {index_dir}"
    for args in (("search", "dang"), ("index", corpus_copy)):
        result = cli(*args, "--index", index_dir)
        assert result.exit_code != 0
        assert hint in " ".join(result.output.split())
    result = cli("index", corpus_copy, "--rebuild", "--index", index_dir)
    assert result.exit_code == 0, result.output
    assert store.read_manifest(index_dir)["schema_version"] == SCHEMA_VERSION
    assert segment_ids(index_dir)
    assert cli("search", "dang", "--index", index_dir).exit_code == 0
