"""The benchmark's own pieces: query forms, span choice, the FTS5 and vnsearch adapters."""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from bench import short_queries as sq
from bench.engines import Fts5, Vnsearch, split_article
from bench.quality import (
    build_items,
    ceiling,
    distinctive_span,
    evaluate,
    new_style,
    query_forms,
    surface_words,
    typo,
)
from tests.conftest import vntc_records

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
    assert engine.search("dang vien") == ["a"]  # … and the engine folds đ itself
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


def test_cold_profile_compares_each_querys_cold_and_warm_run(archive: Path, tmp_path: Path) -> None:
    from bench.cold_profile import profiled_pass, report

    engine = Vnsearch(tmp_path)
    engine.build(archive)
    engine.open()
    queries: list[tuple[str, str | None]] = [("dang vien", None), ("nang nong", "X"),
                                             ("go vap", None), ("quan", None)]
    cold = profiled_pass(engine, queries)
    warm = profiled_pass(engine, queries)
    engine.close()
    text = report(queries, cold, warm, band_size=2, top=5)
    assert text.startswith("4 queries; the 2 around the cold median:")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    assert 0 < len(rows) <= 5
    assert all(" search/" not in row and ".py:" in row for row in rows)  # vnsearch's own
    diffs = [float(row.split("|")[1]) for row in rows]
    assert diffs == sorted(diffs, reverse=True)  # what the cold run pays most first


def test_cold_bounds_times_each_pass_and_fts5s_cold_one(archive: Path, tmp_path: Path) -> None:
    from bench.cold_bounds import PASSES, one_repetition, report
    from search import posting_arrays

    Vnsearch(tmp_path).build(archive)
    Fts5(tmp_path).build(archive)
    queries: list[tuple[str, str | None]] = [("dang vien", None), ("nang nong", "X"),
                                             ("go vap", None), ("quan", None)]
    run = one_repetition(tmp_path, queries)
    assert set(run) == {*PASSES, "fts5 cold"} and all(ms > 0 for ms in run.values())
    assert posting_arrays.cache_stats()["budget"] >= posting_arrays.CACHE_BYTES
    text = report([run, run])
    assert text.startswith("2 repetitions, each in a fresh process")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "×" in line]
    assert [row.split(" | ")[0][2:] for row in rows[1:]] == list(PASSES.values())
    assert f"{run['cold'] / run['fts5 cold']:.2f}×" in rows[1]


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
    # vnsearch's first hits hold every word, as FTS5's; those lacking one follow them
    held = found["vnsearch"][: len(found["fts5"])]
    assert held and set(held) == set(found["fts5"])
    assert all(i in {r["id"] for r in recs} for i in found["vnsearch"])


def test_chart_series_keeps_growth_points_in_size_order() -> None:
    from bench.chart import series

    report = {"sizes": [
        {"size": 30, "kind": "vntc", "engines": {"vnsearch": {"p50_ms": 3.0}, "fts5": {}}},
        {"size": 10, "engines": {"vnsearch": {"p50_ms": 1.0}}},  # an older file: no kind
        {"size": 35, "kind": "baomoi", "engines": {"vnsearch": {"p50_ms": 9.0}}},
        {"size": 20, "kind": "generated", "engines": {"vnsearch": {"p50_ms": 5.0}}},
    ]}
    assert series(report, "p50_ms") == {("vnsearch", "vntc"): [(10, 1.0), (30, 3.0)],
                                        ("vnsearch", "generated"): [(20, 5.0)]}


def test_growth_is_compared_within_one_kind_of_archive() -> None:
    from bench.run import growth_lines

    report = {"sizes": [
        {"size": 10, "kind": "vntc", "engines": {"vnsearch": {"p95_ms": 2.0}}},
        {"size": 40, "kind": "vntc", "engines": {"vnsearch": {"p95_ms": 4.0}}},
        {"size": 80, "kind": "generated", "engines": {"vnsearch": {"p95_ms": 50.0}}},
    ]}
    text = "\n".join(growth_lines(report))
    assert "| 10 → 40 |" in text
    assert "2.00× for 4.00× (exponent 0.50)" in text  # p95 ∝ √size
    assert "generated" not in text  # one generated point: nothing to compare it with


def test_build_memory_is_the_builders_own_and_its_process_trees() -> None:
    """The build child's peak is its own, not the bench parent's carried over exec;
    the sampled peak covers the child's own children too."""
    import sys

    from bench.index_rate import run_sampled

    repo = Path(__file__).resolve().parent.parent
    hold = "block = bytearray(120 * 2**20); block[::4096] = b'x' * len(block[::4096])"
    held = bytearray(300 * 2**20)
    held[::4096] = b"x" * len(held[::4096])  # resident, not just reserved
    out, _, returncode, _ = run_sampled(
        [sys.executable, "-c", f"from bench.run import own_peak_rss\n{hold}\nprint(own_peak_rss())"],
        text=True, cwd=repo)
    del held
    assert returncode == 0
    assert 120 * 2**20 <= int(out) < 250 * 2**20  # its 120 MB, not the parent's 300
    grandchild = f"import time\n{hold}\ntime.sleep(0.5)"
    _, _, returncode, peak = run_sampled(
        [sys.executable, "-c", f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {grandchild!r}])"])
    assert returncode == 0
    assert peak >= 120 * 2**20


def test_fts5_finds_dang_in_an_article_saying_dang_with_d_stroke(archive: Path, tmp_path: Path) -> None:
    """``remove_diacritics`` leaves ``đ`` alone; the adapter folds it on both sides,
    as a competent FTS5 user would."""
    engine = Fts5(tmp_path)
    engine.build(archive)
    engine.open()
    assert engine.search("dang") == ["a"]
    assert engine.search("Đảng") == ["a"]
    assert engine.search("DANG VIEN") == ["a"]
    engine.close()


def test_tantivy_runs_and_queries(archive: Path, tmp_path: Path) -> None:
    """Every word must match (``conjunction_by_default``): two words that stand in
    different articles find nothing, though each alone finds its article."""
    pytest.importorskip("tantivy")
    from bench.engines import Tantivy

    engine = Tantivy(tmp_path)
    assert engine.build(archive)["documents"] == 3
    engine.open()
    assert engine.search("phuong") == ["b"]
    assert engine.search("nang") == ["c"]
    assert engine.search("phuong nang") == []
    assert engine.search("dang vien") == ["a"]  # ascii_fold folds đ
    assert engine.search("le hoi am thuc") == ["b"]
    engine.close()


# --------------------------------------------------------------------------- short queries

NEWS = {
    "dn.txt": "Du lịch Đà Nẵng\nĐÀ NẴNG hút khách.\nBãi biển Đà Nẵng đẹp.",
    "sun.txt": "Chăm sóc da\nDa cháy nắng vào mùa hè.\nBảo vệ làn da khỏi nắng.",
    "tone.txt": "Hoà bình\nGiữ gìn hoà bình.\nNgười dân mong hòa bình.",
    "apart.txt": "Đà và Nẵng\nCon đà trôi.\nNẵng là một chữ lạ.",
}


def test_relevance_needs_the_intended_words_side_by_side() -> None:
    keys = {name: sq.phrase_key(text) for name, text in NEWS.items()}
    query = sq.ShortQuery("Đà Nẵng", "ambiguous")
    assert [n for n, k in keys.items() if sq.is_relevant(k, query)] == ["dn.txt"]  # not "da … nắng", not apart
    assert sq.is_relevant(sq.phrase_key("BÃI BIỂN ĐÀ NẴNG"), "đà nẵng")  # case
    assert sq.is_relevant(keys["tone.txt"], "hòa bình") and sq.is_relevant(keys["tone.txt"], "hoà bình")
    assert sq.is_relevant(sq.phrase_key("cafe\u0301 sa\u0300i go\u0300n"), "cafe sài gòn") is False
    assert sq.is_relevant(sq.phrase_key("Sa\u0300i Go\u0300n"), "Sài Gòn")  # NFD text
    assert not sq.is_relevant(sq.phrase_key("đà nẵngx"), "đà nẵng")  # whole words only
    assert not sq.is_relevant(sq.phrase_key("da nang"), "đà nẵng")  # folded is not the reading


def test_query_forms_and_half_split() -> None:
    q = sq.ShortQuery("Đà Nẵng", "ambiguous", 1206)
    assert (q.accented, q.unaccented) == ("Đà Nẵng", "da nang")
    assert q.half == sq.half_of("da nang") == sq.half_of("Đà Nẵng")  # by the folded query
    halves = [sq.half_of(f"query {i}") for i in range(200)]
    assert set(halves) == {"tune", "report"} and 70 < halves.count("tune") < 130
    assert halves == [sq.half_of(f"query {i}") for i in range(200)]  # fixed


def test_precision_and_ndcg_at_10() -> None:
    relevant = {"a", "b", "c"}
    assert sq.precision_at(["a", "x", "b"], relevant) == pytest.approx(0.2)  # empty places count 0
    assert sq.precision_at([f"r{i}" for i in range(12)], {f"r{i}" for i in range(12)}) == 1.0
    assert sq.ndcg_at(["a", "b", "c"], relevant) == pytest.approx(1.0)
    assert sq.ndcg_at(["x", "a"], {"a"}) == pytest.approx(1 / math.log2(3))
    ideal = 1 + 1 / math.log2(3) + 0.5
    assert sq.ndcg_at(["a", "x", "b"], relevant) == pytest.approx((1 + 0.5) / ideal)
    assert sq.ndcg_at(["x"], set()) == 0.0


def test_query_set_round_trips_through_the_tsv(tmp_path: Path) -> None:
    queries = [sq.ShortQuery("Đà Nẵng", "ambiguous", 1206), sq.ShortQuery("bóng đá", "ambiguous", 1297)]
    sq.write_queries(queries, tmp_path / "q.tsv")
    assert sq.read_queries(tmp_path / "q.tsv") == queries
    assert "Đà Nẵng\tda nang\tambiguous\t1206\t" in (tmp_path / "q.tsv").read_text("utf-8")


def test_make_queries_picks_the_frequent_reading_of_a_shared_spelling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sq, "MIN_ARTICLES", 3)
    monkeypatch.setattr(sq, "MIN_RIVAL_ARTICLES", 1)
    texts = [
        "Giá vàng tăng mạnh. Bệnh viện đa khoa Quảng Ninh.",
        "Hôm qua giá vàng giảm. Bệnh viện đa khoa ở Quảng Ninh mở.",
        "Người mua giá vàng cao. Bệnh viện đa khoa tỉnh Thừa Thiên Huế.",
        "Ông già vàng da. Viện đa ngành. Về Quảng Ninh. Bão tan.",
        "Bệnh viện đa khoa Hà Nội. Quảng Ninh, Đà Nẵng, Thừa Thiên Huế.",
        "Thừa Thiên Huế mưa. Thừa Thiên Huế nắng. Ở Thừa Thiên Huế, Thừa Thiên Huế",
    ]
    queries = {q.unaccented: q for q in sq.make_queries(texts)}
    assert queries["gia vang"].intended == "giá vàng" and queries["gia vang"].articles == 3
    assert "vien da" not in queries  # a fragment of "bệnh viện đa khoa"
    assert queries["quang ninh"].intended == "Quảng Ninh" and queries["quang ninh"].kind == "everyday"
    assert queries["thua thien hue"].kind == "everyday"
    assert "thua thien" not in queries and "thien hue" not in queries  # swallowed by the trigram
    assert "ninh mo" not in queries and "ninh da" not in queries  # names stop at punctuation
    assert queries["da nang"].intended == "Đà Nẵng"  # curated: always there
    assert all(not set(q.intended.lower().split()) & sq.STOPWORDS or q.unaccented in sq.CURATED
               for q in queries.values())


def test_short_query_run_on_a_tiny_archive(tmp_path: Path) -> None:
    folder = tmp_path / "news"
    folder.mkdir()
    for name, text in NEWS.items():
        (folder / name).write_text(text, encoding="utf-8")
    queries = [sq.ShortQuery("Đà Nẵng", "ambiguous"), sq.ShortQuery("hòa bình", "everyday")]
    report = sq.run(folder, queries, halves=["both"], engines=["fts5", "vnsearch"], work=tmp_path)
    for name in ("fts5", "vnsearch"):
        rows = {(r["intended"], r["typed"]): r for r in report["engines"][name]["rows"]}
        assert rows[("Đà Nẵng", "accented")]["relevant"] == 1
        assert rows[("Đà Nẵng", "accented")]["ndcg10"] == 1.0  # the only relevant article first
        assert rows[("hòa bình", "unaccented")]["p10"] == pytest.approx(0.1)
    table = sq.markdown(report)
    assert "| both (2) | unaccented |" in table and "| everyday (1) | accented |" in table


def test_committed_query_set_is_well_formed() -> None:
    """The fixed query set: 1–3 words, the issue's examples in it, both halves fed."""
    queries = sq.read_queries()
    assert 80 <= len(queries) <= 130
    assert all(1 <= len(q.intended.split()) <= 3 for q in queries)
    assert all(q.unaccented != q.intended.lower() for q in queries)  # accents matter in each
    assert set(sq.CURATED) <= {q.unaccented for q in queries}
    assert len({q.unaccented for q in queries}) == len(queries)
    halves = Counter(q.half for q in queries)
    assert min(halves.values()) >= 0.35 * len(queries)
    assert Counter(q.kind for q in queries)["everyday"] >= 30


@pytest.fixture(scope="module")
def baomoi_sample() -> list[str]:
    """The first 3,000 articles of the baomoi-2017 crawl, as texts."""
    import tarfile

    from tests.conftest import shared_file

    texts = []
    with tarfile.open(shared_file("baomoi-2017.tar.gz")) as tar:
        for member in tar:
            if member.isfile() and member.name.endswith(".txt"):
                texts.append(tar.extractfile(member).read().decode("utf-8", errors="replace"))
                if len(texts) == 3000:
                    break
    return texts


def test_relevance_on_real_baomoi_articles(baomoi_sample: list[str]) -> None:
    """On real articles, ``Đà Nẵng`` is judged by its accented words side by side:
    articles that hold ``da nang`` only after folding (đa năng, đã nâng …) are not
    relevant, whatever the case of the city's name."""
    from search.normalize import fold

    keys = [sq.phrase_key(t) for t in baomoi_sample]
    relevant = [k for k in keys if sq.is_relevant(k, "Đà Nẵng")]
    folded_only = [k for k in keys if " da nang " in fold(k) and k not in relevant]
    assert len(relevant) >= 30 and folded_only
    assert not any(" đà nẵng " in k for k in folded_only)
    shouting = [t for t in baomoi_sample if "ĐÀ NẴNG" in t]
    assert shouting and all(sq.is_relevant(sq.phrase_key(t), "Đà Nẵng") for t in shouting)
    bong_da_only_folded = [k for k in keys if " bong da " in fold(k) and " bóng đá " not in k]
    assert bong_da_only_folded  # "bóng đã" …
    assert not any(sq.is_relevant(k, "bóng đá") for k in bong_da_only_folded)


def test_items_count_the_articles_that_share_their_span() -> None:
    """On real VNTC articles: a span is the article's alone unless another article
    holds it in the same part; a copy of an article shares both its spans, and the
    ceiling says no engine can then be sure to rank the source first."""
    records = [json.loads(line) for line in vntc_records(300)]
    alone = build_items(records, 40)
    assert alone and all(item.shared >= 1 for item in alone)
    copied = records + [dict(r, id=r["id"] + "-copy") for r in records[:300]]
    items = build_items(copied, 40)
    assert all(item.shared >= 2 for item in items if not item.doc_id.endswith("-copy"))
    assert ceiling(items) <= 0.75 < ceiling(alone)


class _Oracle:
    """An engine that always ranks the source article first (for the report's sums)."""

    def __init__(self) -> None:
        self.by_query: dict[str, str] = {}

    def search(self, query: str, snippets: bool = False) -> list[str]:
        return [self.by_query.get(query, "")]


def test_report_gives_mrr_over_distinct_items_and_the_ceiling() -> None:
    records = [json.loads(line) for line in vntc_records(200)]
    items = build_items(records + [dict(records[0], id="copy")], 30)
    oracle = _Oracle()
    rng = random.Random(11)
    for item in items:  # the queries evaluate() will type, in its order
        for query in query_forms(item.words, rng).values():
            oracle.by_query.setdefault(query, item.doc_id)
    out = evaluate(oracle, items)
    assert out["_ceiling"] == ceiling(items) and out["_distinct"] <= out["_items"]
    assert out["as_written"]["mrr10_distinct"] == 1.0


def test_every_benchmark_finds_the_corpora_through_vnsearch_shared(tmp_path: Path) -> None:
    """``$VNSEARCH_SHARED`` points the benchmarks at the corpora, as it does the tests."""
    code = ("import bench.run, bench.bench_core, bench.short_queries, bench.corpora as c; "
            "print(c.VNTC, bench.run.VNTC, bench.bench_core.BAOMOI, bench.short_queries.BAOMOI)")
    env = {**os.environ, "VNSEARCH_SHARED": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=Path(__file__).parent.parent,
                         capture_output=True, text=True, check=True).stdout.split()
    corpora = tmp_path / "corpora"
    assert out == [str(corpora / "vntc.jsonl.gz")] * 2 + [str(corpora / "baomoi-2017.tar.gz")] * 2


def test_pair_table_counts_spellings_per_article_and_their_neighbours() -> None:
    """The spelling-table estimate counts a pair where two words stand together (at
    most three characters apart, as the span reading has it, and never across two
    texts), each spelling once an article, and the words on either side."""
    from bench.pair_table import ID_BITS, Ids, batch_keys, id_arrays
    from search.normalize import token_tuples

    exact, folded = Ids(), Ids()
    texts = ["Đà Nẵng nắng. Đà Nẵng", "Da nang", "đà nẵng"]  # articles 0, 0, 1
    rows = [id_arrays(token_tuples(t), exact=exact, folded=folded) for t in texts]
    text = np.repeat(np.arange(3), [len(r) for r in rows])
    pairs, once, around = batch_keys(np.concatenate(rows), text, np.array([0, 0, 1])[text])
    da_nang = (folded("da") << ID_BITS) | folded("nang")
    assert Counter(pairs.tolist()) == {da_nang: 4, (folded("nang") << ID_BITS) | folded("nang"): 1,
                                       (folded("nang") << ID_BITS) | folded("da"): 1}
    accented = (exact("đà") << ID_BITS) | exact("nẵng")
    assert Counter(once.tolist())[accented] == 2  # article 0 writes it twice: counted once
    assert Counter(once.tolist())[(exact("da") << ID_BITS) | exact("nang")] == 1
    # "Đà Nẵng nắng": after "đà nẵng" stands "nang"; nothing before it.
    shift = ID_BITS + 1
    sides = {(k >> 1) & ((1 << ID_BITS) - 1) for k in around.tolist()
             if k >> shift == accented}
    assert folded("nang") in sides and 0 in sides
