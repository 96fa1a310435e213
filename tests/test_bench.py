"""The benchmark's own pieces: query forms, span choice, the FTS5 and vnsearch adapters."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest

from bench.engines import Fts5, Vnsearch, split_article
from bench.quality import distinctive_span, new_style, query_forms, surface_words, typo

DOCS = [
    {"id": "a", "text": "Quận ủy Ba Đình\nĐảng viên quận Ba Đình hòa bình.", "source": "X"},
    {"id": "b", "text": "Gò Vấp\nPhường Gò Vấp tổ chức lễ hội ẩm thực.", "source": "Y"},
    {"id": "c", "text": "Thời tiết\nNắng nóng kéo dài ở miền Trung.", "source": "X"},
]


@pytest.mark.parametrize(
    ("word", "other"),
    [("hòa", "hoà"), ("hoà", "hòa"), ("thủy", "thuỷ"), ("khỏe", "khoẻ"), ("hoàn", "hoàn"),
     ("quý", "quý"), ("ba", "ba")],
)
def test_tone_swap(word: str, other: str) -> None:
    assert new_style(word) == other


def test_typo_changes_exactly_one_word_by_one_edit() -> None:
    words = ["phong", "trào", "thi", "đua", "yêu", "nước"]
    for seed in range(30):
        changed = typo(words, random.Random(seed))
        diffs = [(a, b) for a, b in zip(words, changed, strict=True) if a != b]
        assert len(diffs) == 1
        a, b = diffs[0]
        assert len(a) >= 4 and abs(len(a) - len(b)) <= 1


def test_query_forms() -> None:
    forms = query_forms(["bảo", "vệ", "hòa", "bình"], random.Random(1))
    assert forms["unaccented"] == "bao ve hoa binh"
    assert forms["tone_swapped"] == "bảo vệ hoà bình"
    assert sorted(forms["shuffled"].split()) == sorted(forms["as_written"].split())
    assert forms["shuffled"] != forms["as_written"]


def test_distinctive_span_prefers_rare_words() -> None:
    words = surface_words("và của và của tên lửa đạn đạo và của và")
    df = Counter({"va": 100, "cua": 100, "ten": 2, "lua": 2, "dan": 1, "dao": 1})
    span = distinctive_span(words, df, 100, random.Random(0))
    assert {"đạn", "đạo"} <= set(span)


def test_split_article() -> None:
    assert split_article("Tiêu đề\nThân bài\nhai") == ("Tiêu đề", "Thân bài\nhai")


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in DOCS), "utf-8")
    return path


def test_fts5_engine(archive: Path, tmp_path: Path) -> None:
    engine = Fts5(tmp_path)
    assert engine.build(archive)["documents"] == 3
    engine.open()
    assert engine.search("go vap") == ["b"]  # remove_diacritics folds ò, ấ
    assert engine.search("dang vien") == []  # … but not đ
    assert engine.search("Đảng viên") == ["a"]
    assert engine.search("quan", source="Y") == []
    assert engine.search('"!!!"') == []
    engine.close()


def test_vnsearch_engine(archive: Path, tmp_path: Path) -> None:
    engine = Vnsearch(tmp_path)
    assert engine.build(archive)["documents"] == 3
    engine.open()
    assert engine.search("dang vien") == ["a"]
    assert engine.search("nang nong", source="X") == ["c"]
    assert engine.search("nang nong", source="Y") == []
    engine.close()


def test_make_archive_is_deterministic_and_parseable(tmp_path: Path) -> None:
    from bench.make_archive import generate
    from search.extract import extract

    generate(30, tmp_path / "a", "txt", seed=5)
    generate(30, tmp_path / "b", "txt", seed=5)
    files_a = sorted((tmp_path / "a").rglob("*.txt"))
    files_b = sorted((tmp_path / "b").rglob("*.txt"))
    assert len(files_a) == 30
    assert [f.read_bytes() for f in files_a] == [f.read_bytes() for f in files_b]
    articles = [extract(f.read_text(encoding="utf-8")) for f in files_a]
    assert all(a.title for a in articles)
    assert sum(a.date is not None for a in articles) >= 27
    assert sum(a.author is not None for a in articles) >= 27
    generate(5, tmp_path / "c.jsonl", "jsonl", seed=5)
    lines = (tmp_path / "c.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5 and json.loads(lines[0])["id"] == "gen-0000000"


def test_engines_read_a_directory_of_raw_files(tmp_path: Path) -> None:
    """``run.py --baomoi`` hands every engine a folder of .txt files; ids must agree
    across engines (the relative path) so results are comparable."""
    from bench.engines import records

    corpus = Path(__file__).resolve().parent.parent / "corpus"
    recs = list(records(corpus))
    assert [r["id"] for r in recs] == sorted(p.name for p in corpus.glob("*.txt"))
    assert all(r["text"].strip() for r in recs)
    found = {}
    for engine in (Vnsearch(tmp_path), Fts5(tmp_path)):
        assert engine.build(corpus)["documents"] == len(recs)
        engine.open()
        found[engine.name] = engine.search("Quận ủy Ba Đình")
        engine.close()
    assert found["vnsearch"] and set(found["vnsearch"]) == set(found["fts5"])
    assert all(i in {r["id"] for r in recs} for i in found["vnsearch"])


def test_chart_series_keeps_growth_points_in_size_order() -> None:
    from bench.chart import series

    report = {"sizes": [
        {"size": 30, "kind": "vntc", "engines": {"vnsearch": {"p50_ms": 3.0}, "fts5": {}}},
        {"size": 10, "engines": {"vnsearch": {"p50_ms": 1.0}}},  # an older file: no kind
        {"size": 35, "kind": "baomoi", "engines": {"vnsearch": {"p50_ms": 9.0}}},
    ]}
    assert series(report, "p50_ms") == {"vnsearch": [(10, 1.0), (30, 3.0)]}
