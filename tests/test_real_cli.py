"""Every ``vnsearch`` command with every option over samples of the real archives.

The index (:func:`tests.conftest.real_archive`) mixes raw baomoi ``.txt`` files, VNTC
JSONL lines (NFD texts and exact duplicates among them), raw UTF-16 files with
space-laden names, the seeds and made-up articles with partial metadata. Queries are
drawn from the archive's own titles; :mod:`tests.real_checks` says what must hold.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from search.normalize import fold, terms
from tests.conftest import REPO, RealArchive
from tests.real_checks import (
    MARKER,
    OPTIONS,
    QUERIES,
    check_search,
    query_text,
    source_article,
    title_words,
)

pytestmark = pytest.mark.slow


def search_json(cli, real: RealArchive, query: str, *args: str) -> dict:
    result = cli("search", query, *args, "--json", "--index", real.index)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def show_json(cli, real: RealArchive, doc_id: str) -> dict:
    result = cli("show", doc_id, "--json", "--index", real.index)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def all_hits(cli, real: RealArchive, query: str, *args: str) -> list[dict]:
    """Every hit of a search, page by page (100 a page)."""
    hits: list[dict] = []
    page = 1
    while True:
        data = search_json(cli, real, query, *args, "--limit", "100", "--page", str(page))
        hits += data["hits"]
        if page >= -(-data["total"] // 100):
            return hits
        page += 1


@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("kind", QUERIES)
def test_search_every_query_with_every_option(cli, real_archive, kind, option) -> None:
    chosen = OPTIONS[option]
    query = query_text(real_archive, kind) + chosen.suffix
    result = cli("search", query, *chosen.cli_args(), "--json", "--index", real_archive.index)
    if not query.strip() and not chosen.params.keys() - {"facets", "sort", "page", "limit",
                                                         "exact"}:
        # No words and no filter: one clean error (a JSON object under --json).
        assert result.exit_code == 2 and json.loads(result.stdout)["error"]["param"] == "q"
        return
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    check_search(real_archive, data, query, chosen)
    if data["hits"]:  # what search prints, show finds
        first = data["hits"][0]
        assert show_json(cli, real_archive, first["id"])["title"] == first["title"]


@pytest.mark.parametrize("option", ["plain", "facets", "sort-date", "exact", "place", "page-2"])
@pytest.mark.parametrize("kind", ["accented", "unaccented", "phrase", "excluded"])
@pytest.mark.parametrize("group", ["utf16", "vntc", "seeds"])
def test_queries_from_each_archive_with_the_main_options(cli, real_archive, group, kind,
                                                         option) -> None:
    chosen = OPTIONS[option]
    query = query_text(real_archive, kind, group)
    data = search_json(cli, real_archive, query, *chosen.cli_args())
    check_search(real_archive, data, query, chosen)
    if option == "plain" and kind != "excluded":
        assert source_article(real_archive, group) in [h["id"] for h in data["hits"]], query


@pytest.mark.parametrize("option", ["plain", "facets", "sort-date", "all-together"])
@pytest.mark.parametrize("kind", ["unaccented", "phrase", "nothing", "madeup", "marker"])
def test_search_text_output(cli, real_archive, kind, option) -> None:
    chosen = OPTIONS[option]
    query = query_text(real_archive, kind)
    result = cli("search", query, *chosen.cli_args(), "--index", real_archive.index)
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    data = search_json(cli, real_archive, query, *chosen.cli_args())
    if not data["total"]:
        assert "No results" in result.stdout
        return
    assert f"{data['total']} result(s)" in result.stdout
    for hit in data["hits"]:
        assert hit["id"] in result.stdout
    if chosen.params.get("facets"):
        assert "place:" in result.stdout and "year:" in result.stdout


def test_the_source_article_is_found_by_its_title_words(cli, real_archive) -> None:
    doc_id = source_article(real_archive)
    for kind in ("accented", "unaccented", "phrase"):
        query = query_text(real_archive, kind)
        ids = [h["id"] for h in search_json(cli, real_archive, query, "--limit", "100")["hits"]]
        assert doc_id in ids, (kind, query)
    excluded = search_json(cli, real_archive, query_text(real_archive, "excluded"), "--limit", "100")
    assert doc_id not in {h["id"] for h in excluded["hits"]}


def _misspelt(words: list[str]) -> str:
    """The words typed without accents and each of 4+ letters with its last letter doubled."""
    return " ".join(w + w[-1] if len(w) >= 4 else w for w in (fold(w) for w in words))


@pytest.mark.parametrize("group", ["baomoi", "utf16", "vntc"])
def test_did_you_mean_restores_accents_and_fixes_typos_of_real_titles(
    cli, real_archive, group
) -> None:
    doc_id = next(i for i in real_archive.groups[group] if len(title_words(real_archive, i)) >= 4)
    words = title_words(real_archive, doc_id)[:4]
    plain = search_json(cli, real_archive, fold(" ".join(words)))
    assert plain["suggestion"] and plain["suggestion"].lower() == " ".join(words), plain["suggestion"]
    assert doc_id in [h["id"] for h in plain["hits"]]
    typed = _misspelt(words)
    fixed = search_json(cli, real_archive, typed)
    assert fold(fixed["suggestion"] or "").lower() == fold(" ".join(words)), (typed, fixed["suggestion"])
    assert doc_id in [h["id"] for h in fixed["hits"]], typed
    strict = search_json(cli, real_archive, typed, "--exact")
    assert not strict["corrected"] and not strict["typos"]
    text = cli("search", fold(" ".join(words)), "--index", real_archive.index).stdout
    assert text.startswith(f"Có phải bạn muốn tìm: {plain['suggestion']}")


@pytest.mark.parametrize("sort", ["relevance", "date"])
def test_paging_walks_every_hit_exactly_once(cli, real_archive, sort) -> None:
    query = query_text(real_archive, "unaccented")
    first = search_json(cli, real_archive, query, "--sort", sort, "--limit", "20")
    total, pages = first["total"], -(-first["total"] // 20)
    assert 40 < total <= 700, "the query should span several pages"
    seen: list[str] = []
    for page in range(1, pages + 1):
        data = search_json(cli, real_archive, query, "--sort", sort, "--limit", "20",
                           "--page", str(page))
        assert data["total"] == total
        seen += [h["id"] for h in data["hits"]]
    assert len(seen) == len(set(seen)) == total
    assert len(data["hits"]) == total - 20 * (pages - 1)  # the last page holds the rest
    beyond = search_json(cli, real_archive, query, "--sort", sort, "--limit", "20",
                         "--page", str(pages + 1))
    assert beyond["hits"] == [] and beyond["total"] == total
    assert len(all_hits(cli, real_archive, query, "--sort", sort)) == total
    text = cli("search", query, "--sort", sort, "--limit", "20", "--page", str(pages + 1),
               "--index", real_archive.index)
    assert text.exit_code == 0
    assert f"page {pages + 1} is past the last page ({pages}): try --page {pages}" in text.stdout


@pytest.mark.parametrize("kind", ["unaccented", "madeup", "filters-only"])
def test_facet_counts_equal_the_matches_carrying_each_value(cli, real_archive, kind) -> None:
    query = query_text(real_archive, kind)
    # --exact: a search that finds few articles would add typo matches, a wider one not.
    scope = ["--exact"] + (["--since", "1900"] if kind == "filters-only" else [])
    facets = search_json(cli, real_archive, query, *scope, "--facets")["facets"]
    for name in ("year", "author", "source"):
        for value, count in list(facets[name].items())[:4]:
            option = ["--since", value, "--until", value] if name == "year" else [f"--{name}", value]
            filtered = search_json(cli, real_archive, query, *scope, *option)
            assert filtered["total"] == count, (name, value)
    for place, count in list(facets["place"].items())[:3]:
        hits = all_hits(cli, real_archive, query, *scope, "--place", place)
        assert sum(place in h["places"] for h in hits) == count, place


def test_facets_when_some_most_or_all_matches_lack_metadata(cli, real_archive) -> None:
    # All: the made-up articles saying MARKER have no place.
    none = search_json(cli, real_archive, MARKER, "--facets")
    assert none["total"] == 4 and none["facets"]["place"] == {}
    assert none["facets"]["year"] == {"2023": 1} and none["facets"]["author"] == {"Nguyễn Văn An": 1}
    assert "place: —" in cli("search", MARKER, "--facets", "--index", real_archive.index).stdout
    # Some: the made-up articles, half with places, most with dates.
    some = search_json(cli, real_archive, query_text(real_archive, "madeup"), "--facets")["facets"]
    assert some["place"]["Đà Nẵng"] == 2 and some["source"] == {"Báo Thử": 2, "Tin Mới": 2}
    # Most: real articles carry no date, author or source.
    real = search_json(cli, real_archive, query_text(real_archive, "unaccented"), "--facets")
    assert sum(real["facets"]["year"].values()) < real["total"] / 2
    assert real["facets"]["place"], "real articles mention places"


@pytest.mark.parametrize("group", ["seeds", "baomoi", "utf16", "vntc", "madeup"])
def test_show_each_kind_of_article_by_id_and_prefix(cli, real_archive, group) -> None:
    for doc_id in real_archive.groups[group][:2] + [i for i in real_archive.nfd if
                                                    i in real_archive.groups[group]][:1]:
        data = show_json(cli, real_archive, doc_id)
        assert data["id"] == doc_id and data["title"] and data["body"]
        assert unicodedata.is_normalized("NFC", data["title"] + data["body"])
        text = cli("show", doc_id, "--index", real_archive.index)
        assert text.exit_code == 0 and data["title"] in text.stdout
    doc_id = real_archive.groups[group][0]
    if doc_id.endswith(".txt"):
        assert show_json(cli, real_archive, doc_id.removesuffix(".txt"))["id"] == doc_id
    missing = cli("show", doc_id + "-nope", "--index", real_archive.index)
    assert missing.exit_code == 1 and len(missing.stderr.strip().splitlines()) == 1


def test_articles_without_places_dates_or_authors_render(cli, real_archive) -> None:
    data = show_json(cli, real_archive, "madeup/5")
    assert data["places"] == [] and data["date"] is None and data.get("author") is None
    assert cli("show", "madeup/5", "--index", real_archive.index).exit_code == 0
    hits = search_json(cli, real_archive, MARKER, "--sort", "date", "--facets")["hits"]
    assert "madeup/5" in {h["id"] for h in hits}


def test_a_json_record_keeps_the_first_paragraph_of_its_body(cli, real_archive) -> None:
    # madeup/1 carries its own title; its one-paragraph body must not be taken for one.
    hits = search_json(cli, real_archive, '"bac qua song han"')["hits"]
    assert [h["id"] for h in hits] == ["madeup/1"]
    assert show_json(cli, real_archive, "madeup/1")["body"].startswith("Sáng nay thành phố Đà Nẵng")


def _accented_phrase(source_nfc: str) -> str:
    """Three NFC words of an article, from its first line holding an accented word."""
    for line in source_nfc.split("\n"):
        words = [w for w in terms(line) if w.isalpha()]
        for i, word in enumerate(words[:-2]):
            if fold(word) != word:
                return " ".join(words[i : i + 3])
    raise AssertionError("no accented words")


def test_nfd_utf16_and_duplicate_articles_are_found_by_their_nfc_words(cli, real_archive) -> None:
    assert len(real_archive.nfd) >= 8 and len(real_archive.duplicates) >= 2
    for doc_id in real_archive.nfd + real_archive.groups["utf16"][:3]:
        phrase = _accented_phrase(real_archive.texts[doc_id])
        ids = {h["id"] for h in search_json(cli, real_archive, f'"{phrase}"', "--limit", "100")["hits"]}
        assert doc_id in ids, (doc_id, phrase)
    for first, second in real_archive.duplicates:
        phrase = " ".join(title_words(real_archive, first)[:4])
        ids = {h["id"] for h in search_json(cli, real_archive, f'"{phrase}"', "--limit", "100")["hits"]}
        assert {first, second} <= ids, phrase


def test_suggest_completes_places_people_and_titles_of_the_archive(cli, real_archive) -> None:
    data = json.loads(cli("suggest", "ha n", "--json", "--index", real_archive.index).stdout)
    assert data["prefix"] == "ha n"
    assert any(s["text"] == "Hà Nội" and s["kind"] == "place" for s in data["suggestions"])
    for alias in ("tphcm", "sai g", "Sài Gòn"):  # another spelling a --place filter accepts
        found = json.loads(cli("suggest", alias, "--json", "--index", real_archive.index).stdout)
        places = [s["text"] for s in found["suggestions"] if s["kind"] == "place"]
        assert places[:1] == ["TP.HCM"], (alias, places)
    thu = json.loads(cli("suggest", "thu", "--json", "--index", real_archive.index).stdout)
    assert [s["text"] for s in thu["suggestions"]][0] == "Thủ Đức"  # a name, before an alias
    words = title_words(real_archive, source_article(real_archive))
    prefix = fold(" ".join(words[:2])) + " " + fold(words[2])[:2]
    found = json.loads(cli("suggest", prefix, "--limit", "20", "--json", "--index",
                           real_archive.index).stdout)["suggestions"]
    assert any(s["kind"] == "title" and s["id"] == source_article(real_archive) for s in found), found
    for s in found:
        assert s["kind"] in ("place", "person", "title") and s["text"]
        if s["kind"] == "title":
            assert s["id"] in real_archive.texts
    text = cli("suggest", prefix, "--index", real_archive.index)
    assert text.exit_code == 0 and "title" in text.stdout
    assert "No completions" in cli("suggest", "qzxqzx", "--index", real_archive.index).stdout


def test_stats(cli, real_archive) -> None:
    data = json.loads(cli("stats", "--json", "--index", real_archive.index).stdout)
    assert data["documents"] == sum(len(ids) for ids in real_archive.groups.values())
    assert data["size_bytes"] > 0 and data["last_indexed"]
    text = cli("stats", "--index", real_archive.index)
    assert text.exit_code == 0 and f"articles:     {data['documents']}" in text.stdout


@pytest.mark.parametrize("which", ["baomoi", "utf16", "vntc", "madeup"])
def test_extract_each_kind_of_file(cli, real_archive, which) -> None:
    roots = dict(zip(["seeds", "baomoi", "utf16", "vntc", "madeup"], real_archive.roots, strict=True))
    group = real_archive.groups[which]
    file = roots[which] if roots[which].is_file() else roots[which] / group[0]
    result = cli("extract", file, "--limit", "2", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    records = data if isinstance(data, list) else [data]
    assert len(records) == (2 if roots[which].is_file() else 1)
    for record in records:
        assert record["title"] and record["body"] and record["word_count"] > 0
        assert unicodedata.is_normalized("NFC", record["title"] + record["body"])
    if which == "madeup":
        assert records[0]["date"] == "2024-03-05T00:00:00" and records[0]["author"] == "Nguyễn Văn An"
    plain = cli("extract", file)
    assert plain.exit_code == 0 and records[0]["title"] in plain.stdout


def test_index_incremental_rerun_and_json(cli, real_archive, tmp_path: Path) -> None:
    archive = tmp_path / "baomoi"
    archive.mkdir()
    for doc_id in real_archive.groups["baomoi"][:60]:
        shutil.copy(real_archive.roots[1] / doc_id, archive / doc_id)
    index_dir = tmp_path / "ix"
    files = sorted(archive.glob("*.txt"))

    def index(*paths: Path) -> dict:
        result = cli("index", *paths, "--json", "--index", index_dir)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    first = index(archive)
    assert (first["added"], first["failed"], first["documents"]) == (len(files), [], len(files))
    again = index(archive)
    assert (again["added"], again["updated"], again["removed"], again["skipped"]) == (
        0, 0, 0, len(files))
    files[0].write_text("Bài đã sửa qwzrtp\nLời dẫn.\nNội dung mới ở Cần Thơ.", encoding="utf-8")
    files[1].unlink()
    shutil.copy(real_archive.roots[2] / real_archive.groups["utf16"][0], archive / "utf16 new.txt")
    changed = index()  # no PATH: the archives indexed before
    assert (changed["added"], changed["updated"], changed["removed"]) == (1, 1, 1)
    assert changed["documents"] == len(files)
    hits = search_json(cli, RealArchive(index=index_dir, roots=[archive]), "qwzrtp")["hits"]
    assert [h["id"] for h in hits] == [files[0].name]
    plain = cli("index", archive, "--index", index_dir)
    assert plain.exit_code == 0 and f"0 added, 0 updated, 0 removed, {len(files)} unchanged" in plain.stdout


def test_reindexing_one_json_archive_keeps_its_neighbours(cli, real_archive, tmp_path) -> None:
    folder = tmp_path / "archives"
    folder.mkdir()
    lines = real_archive.roots[3].read_text(encoding="utf-8").splitlines(keepends=True)
    (folder / "vntc.jsonl").write_text("".join(lines[:5]), encoding="utf-8")
    shutil.copy(real_archive.roots[4], folder / "madeup.json")
    index_dir = tmp_path / "ix"
    both = cli("index", folder / "vntc.jsonl", folder / "madeup.json", "--json", "--index", index_dir)
    assert both.exit_code == 0
    again = json.loads(cli("index", folder / "vntc.jsonl", "--json", "--index", index_dir).stdout)
    assert again["removed"] == 0
    assert cli("show", "madeup/1", "--index", index_dir).exit_code == 0
    rerun = json.loads(cli("index", "--json", "--index", index_dir).stdout)  # the archives before
    assert (rerun["added"], rerun["failed"], rerun["documents"]) == (0, [], 5 + 8)


def test_search_with_facets_as_a_subprocess_prints_no_traceback(real_archive) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "search", "search", query_text(real_archive, "unaccented"),
         "--facets", "--index", str(real_archive.index)],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "result(s)" in proc.stdout and "place:" in proc.stdout
