"""Reading archives: encodings, bad files, JSON records."""

from __future__ import annotations

import codecs
import gzip
import json
from pathlib import Path

import pytest

from search.archive import DecodeError, Failure, Record, decode, read_archive

TEXT = "Quận ủy Ba Đình\r\nĐảng viên\r\n"


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        codecs.BOM_UTF8 + TEXT.encode("utf-8"),
        codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
        TEXT.encode("utf-16-le"),
        TEXT.encode("utf-16-be"),
        TEXT.encode("utf-8") + "ế".encode()[:2],  # cut off mid-character: that one is dropped
        codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le") + b"\x1e",  # odd final byte
    ],
    ids=["utf8", "utf8-bom", "utf16le-bom", "utf16be-bom", "utf16le-no-bom", "utf16be-no-bom",
         "utf8-truncated", "utf16-truncated"],
)
def test_decode_supported_encodings(data: bytes) -> None:
    assert decode(data) == "Quận ủy Ba Đình\nĐảng viên\n"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"   \n\n ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        # "Quận" in Windows-1258: one word is too little to tell the legacy encoding
        ("Qu\u00e2\u0323n".encode("cp1258"), "not valid UTF-8.*too little accented text"),
        (codecs.BOM_UTF16_LE + b"\x00\xd8" + "Đảng".encode("utf-16-le"), "not valid UTF-16"),
        (b"\x01\x02\x03\x04\x05\x06\x07\x08 some text \x8f\x90", "binary"),
    ],
    ids=["empty", "blank", "png", "cp1258-one-word", "broken-utf16", "control-bytes"],
)
def test_decode_refuses_bad_input_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode(data)


def _read(path: Path) -> list[Record | Failure]:
    return list(read_archive([path]))


def test_tree_is_read_recursively_with_relative_ids(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.txt").write_text("Tiêu đề\n\nNội dung", encoding="utf-8")
    (tmp_path / "top.txt").write_text("Một\n\nHai", encoding="utf-8")
    (tmp_path / "notes.md").write_text("ignored", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("ignored", encoding="utf-8")
    items = _read(tmp_path)
    assert sorted(i.id for i in items) == ["a/b/x.txt", "top.txt"]
    assert all(isinstance(i, Record) for i in items)


def test_bad_files_become_failures_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Tin tức\n\nNội dung", encoding="utf-8")
    (tmp_path / "image.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "empty.txt").write_bytes(b"")
    items = _read(tmp_path)
    failures = {i.path: i.reason for i in items if isinstance(i, Failure)}
    assert set(failures) == {"image.txt", "empty.txt"}
    assert "binary" in failures["image.txt"] and "empty" in failures["empty.txt"]
    assert [i.id for i in items if isinstance(i, Record)] == ["good.txt"]


def test_jsonl_records_ids_fields_and_broken_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a1", "title": "Tiêu đề", "body": "Thân bài", "topic": "x"}),
        "{not json",
        json.dumps({"content": "Không có id"}),
        json.dumps({"title": "no text"}),
        json.dumps(["not", "an", "object"]),
        "",
        json.dumps({"text": "Dòng thứ bảy", "date": "2023-01-12"}),
    ]
    path = tmp_path / "news.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = _read(path)
    records = [i for i in items if isinstance(i, Record)]
    failures = [i for i in items if isinstance(i, Failure)]
    assert [r.id for r in records] == ["a1", "news.jsonl:3", "news.jsonl:7"]
    assert records[0].fields == {"title": "Tiêu đề", "topic": "x"}
    assert records[0].text == "Thân bài"
    assert {f.path for f in failures} == {"news.jsonl:2", "news.jsonl:4", "news.jsonl:5"}
    assert any("invalid JSON" in f.reason for f in failures)
    assert any("no text" in f.reason for f in failures)


def test_gzipped_jsonl_and_json_list(tmp_path: Path) -> None:
    with gzip.open(tmp_path / "a.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "g1", "text": "Tin một"}) + "\n")
    (tmp_path / "b.json").write_text(
        json.dumps([{"text": "Tin hai"}, {"body": "Tin ba", "id": 7}]), encoding="utf-8"
    )
    ids = [i.id for i in _read(tmp_path)]
    assert ids == ["g1", "b.json:1", "7"]


def test_content_hash_changes_with_content_only(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Một\n\nHai", encoding="utf-8")
    first = _read(path)[0]
    path.write_text("Một\n\nHai", encoding="utf-8")
    again = _read(path)[0]
    path.write_text("Một\n\nBa", encoding="utf-8")
    changed = _read(path)[0]
    assert first.hash == again.hash != changed.hash
