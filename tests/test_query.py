"""Searching: accents, tone placement, ranking, syntax, fallback, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from search import service, store
from search.engine import LocalEngine
from search.errors import QueryError
from search.indexer import index_paths
from search.limits import MAX_QUERY_CHARS
from search.normalize import fold
from search.query import parse, run
from search.spelling import searched_form


def search(index_dir: Path, text: str, **kwargs):
    ix = store.open_index(index_dir)
    with ix.searcher() as s:
        return run(s, text, **kwargs)


def served(index_dir: Path, text: str, **kwargs):
    """Through the service, where paging and sort are checked."""
    return service.search(LocalEngine.open(index_dir), service.SearchRequest(q=text, **kwargs))


def ids(index_dir: Path, text: str, **kwargs) -> list[str]:
    return [h.id for h in search(index_dir, text, **kwargs).hits]


# Unaccented words from each seed's title → that seed must rank first.
SEED_QUERIES = {
    "000_79b2625c10f6956a.txt": "bac tu liem trao huy hieu dang",
    "001_f4567b4d3bda134d.txt": "phat dong dot thi dua cao diem dai hoi",
    "002_7f5c0ff51dbfc99e.txt": "nam tu liem bieu duong ket qua phong trao thi dua",
    "003_0abad921df26c789.txt": "to chuc co so dang hoan thanh xuat sac khen thuong",
    "004_752ea5e39524a483.txt": "su ngoc anh trao giay khen",
}


@pytest.mark.parametrize(("seed", "query"), SEED_QUERIES.items())
def test_each_seed_is_found_by_unaccented_title_words(seed_index, seed, query) -> None:
    assert ids(seed_index, query)[0] == seed


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("quan uy ba dinh", {"001_f4567b4d3bda134d.txt", "003_0abad921df26c789.txt"}),
        ("go vap", {"004_752ea5e39524a483.txt"}),
        ("Quận ủy Ba Đình", {"001_f4567b4d3bda134d.txt", "003_0abad921df26c789.txt"}),
        ("QUAN UY BA DINH", {"001_f4567b4d3bda134d.txt", "003_0abad921df26c789.txt"}),
    ],
)
def test_accent_insensitive_matching(seed_index, query, expected) -> None:
    assert expected <= set(ids(seed_index, query))


def test_dang_vien_finds_every_seed(seed_index) -> None:
    assert len(ids(seed_index, "dang vien")) == 5


def test_old_and_new_tone_placement_give_the_same_results(seed_index) -> None:
    for a, b in [("hoà bình", "hòa bình"), ("văn hoá", "văn hóa"), ("thuỷ", "thủy")]:
        ra, rb = search(seed_index, a), search(seed_index, b)
        assert [h.id for h in ra.hits] == [h.id for h in rb.hits]
        assert [h.score for h in ra.hits] == [h.score for h in rb.hits]
    assert ids(seed_index, "văn hoá")  # the seeds do say "văn hóa"


@pytest.fixture(scope="module")
def ba_index(tmp_path_factory) -> Path:
    """Two articles: one says "bà" once, the other says "ba" (no accent) often."""
    root = tmp_path_factory.mktemp("ba-archive")
    (root / "ba-accented.txt").write_text(
        "Tin thứ nhất\n\nHôm qua bà đến thăm khu phố và trò chuyện với người dân.",
        encoding="utf-8",
    )
    (root / "ba-plain.txt").write_text(
        "Tin thứ hai\n\nBa anh em Ba, ba người cùng ba lần đến thăm khu phố.",
        encoding="utf-8",
    )
    index_dir = root.parent / (root.name + "-ix")
    index_paths(index_dir, [root])
    return index_dir


def test_exact_accents_rank_above_folded_matches(ba_index) -> None:
    # Typed without accents, the article with most "ba" wins …
    assert ids(ba_index, "ba") == ["ba-plain.txt", "ba-accented.txt"]
    # … typed as "bà", the one that really says "bà" comes first, the other still matches.
    assert ids(ba_index, "bà") == ["ba-accented.txt", "ba-plain.txt"]


def test_phrase_query(seed_index) -> None:
    assert set(ids(seed_index, '"giai phong mat bang"')) == {
        "000_79b2625c10f6956a.txt",
        "002_7f5c0ff51dbfc99e.txt",
    }
    assert ids(seed_index, '"mat bang giai phong"') == []


def test_excluded_words(seed_index) -> None:
    with_ba = set(ids(seed_index, "dang vien"))
    without = set(ids(seed_index, "dang vien -dinh"))
    assert without and without < with_ba
    assert not without & {"001_f4567b4d3bda134d.txt", "003_0abad921df26c789.txt"}


def test_or_query(seed_index) -> None:
    # OR binds tighter than the implicit AND, so group with phrases (or parentheses).
    assert set(ids(seed_index, '"go vap" OR "bac tu liem"')) == {
        "004_752ea5e39524a483.txt",
        "000_79b2625c10f6956a.txt",
    }


def test_title_field_prefix(seed_index) -> None:
    # "Gò Vấp" is in seed 004's body but not in any title.
    assert ids(seed_index, "go vap")
    assert ids(seed_index, "title:vap") == []
    assert set(ids(seed_index, "title:khen")) == {
        "003_0abad921df26c789.txt",
        "004_752ea5e39524a483.txt",
    }


def test_all_words_then_fallback_to_any_word(seed_index) -> None:
    strict = search(seed_index, "ba dinh")
    assert not strict.fallback and strict.relaxed is None and strict.total == 2
    loose = search(seed_index, "ba dinh xyzzyplugh")
    assert loose.fallback and loose.total >= 2
    none = search(seed_index, "xyzzyplugh")
    assert none.total == 0 and not none.fallback


def test_unaccented_query_highlights_accented_text(seed_index) -> None:
    hit = search(seed_index, "quan uy ba dinh").hits[0]
    words = {s.text[a:b] for s in hit.snippets for a, b in s.matches}
    assert {"Ba", "Đình"} <= words
    assert {"Quận", "ủy"} & words or {"quận"} & words


def test_pagination_and_sort_by_date(seed_index) -> None:
    page1 = search(seed_index, "dang vien", limit=2, page=1)
    page3 = search(seed_index, "dang vien", limit=2, page=3)
    assert page1.total == 5 and len(page1.hits) == 2 and len(page3.hits) == 1
    by_date = search(seed_index, "dang vien", sort="date")
    dates = [h.date for h in by_date.hits if h.date]
    assert dates == sorted(dates, reverse=True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("!!! ??? ...", "no searchable words"),
        ("x" * (MAX_QUERY_CHARS + 1), "too long"),
    ],
)
def test_bad_queries_raise_query_error(text: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse(text)


@pytest.mark.parametrize(
    "text", ['"unclosed phrase', "(unbalanced", "title:", "a AND", "OR OR", "-", "*", "[a TO"]
)
def test_odd_syntax_never_crashes(seed_index, text: str) -> None:
    try:
        search(seed_index, text)
    except QueryError:
        pass


@pytest.mark.parametrize(("kwargs", "message"), [({"limit": 0}, "limit"), ({"limit": 101}, "limit"),
                                                 ({"page": 0}, "page"), ({"sort": "x"}, "sort")])
def test_bad_options_raise_query_error(seed_index, kwargs, message) -> None:
    with pytest.raises(QueryError, match=message):
        served(seed_index, "dang", **kwargs)


# ------------------------------------------------------------------ metadata filters (issue 3)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"place": "ba dinh"}, {"001_f4567b4d3bda134d.txt", "003_0abad921df26c789.txt"}),
        ({"place": "Hà Nội"}, {"000_79b2625c10f6956a.txt", "001_f4567b4d3bda134d.txt",
                               "002_7f5c0ff51dbfc99e.txt", "003_0abad921df26c789.txt"}),
        ({"place": "tphcm"}, {"004_752ea5e39524a483.txt"}),
        ({"place": "sai gon"}, {"004_752ea5e39524a483.txt"}),
        ({"since": "2023"}, {"000_79b2625c10f6956a.txt", "002_7f5c0ff51dbfc99e.txt"}),
        ({"until": "2022"}, {"001_f4567b4d3bda134d.txt"}),
        ({"since": "2023-02", "until": "2023-05-18"}, {"002_7f5c0ff51dbfc99e.txt"}),
        ({"author": "tran hoa"}, {"002_7f5c0ff51dbfc99e.txt"}),
        ({"author": "Trần Thảo"}, {"000_79b2625c10f6956a.txt"}),
        ({"source": "tdkt"}, {"001_f4567b4d3bda134d.txt"}),
        ({"place": "ba dinh", "since": "2023"}, set()),
    ],
)
def test_filters(seed_index, kwargs, expected) -> None:
    from search.filters import Filters

    assert set(ids(seed_index, "dang", filters=Filters(**kwargs))) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('place:"Ba Đình" thi dua', {"001_f4567b4d3bda134d.txt", "003_0abad921df26c789.txt"}),
        ("place:govap", set()),  # not a known place spelling → nothing tagged with it
        ('place:"go vap"', {"004_752ea5e39524a483.txt"}),
        ("date:2023", {"000_79b2625c10f6956a.txt", "002_7f5c0ff51dbfc99e.txt"}),
        ("date:2020-02", {"001_f4567b4d3bda134d.txt"}),
        ("dang date:[2022-06 TO 2023-06]", {"000_79b2625c10f6956a.txt", "002_7f5c0ff51dbfc99e.txt"}),
        ("date:[2021 TO]", {"000_79b2625c10f6956a.txt", "002_7f5c0ff51dbfc99e.txt"}),
        ('author:"trần hòa"', {"002_7f5c0ff51dbfc99e.txt"}),
        ('author:"tran thao" dang', {"000_79b2625c10f6956a.txt"}),
    ],
)
def test_metadata_query_syntax(seed_index, text, expected) -> None:
    assert set(ids(seed_index, text)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("date:2023-13", "bad date"), ("date:[2024 TO 2023]", "start is after"),
     ("date:[2023]", "bad date range"), ('place:"" x', "bad place")],
)
def test_bad_metadata_syntax(seed_index, text, message) -> None:
    with pytest.raises(QueryError, match=message):
        search(seed_index, text)


def test_facets_count_all_matches(seed_index) -> None:
    result = search(seed_index, "dang vien", limit=1, facets=True)
    assert result.total == 5 and len(result.hits) == 1
    facets = result.facets
    assert facets["place"] == {"Hà Nội": 4, "Ba Đình": 2, "Bắc Từ Liêm": 1, "Gò Vấp": 1,
                               "Nam Từ Liêm": 1, "TP.HCM": 1}
    assert facets["year"] == {"2023": 2, "2020": 1}  # two seeds state no date
    assert facets["source"] == {"Kinhtedothi": 1, "NTL": 1, "TĐKT": 1}
    assert set(facets["author"]) == {"Trần Thảo", "Cẩm Tú", "Trần Hòa", "Trung Anh", "An Nhiên"}


def test_hits_carry_every_extracted_field(seed_index) -> None:
    hit = search(seed_index, "go vap").hits[0].as_dict()
    assert hit["places"] == ["Gò Vấp", "TP.HCM"] and hit["provinces_2025"] == ["TP.HCM"]
    assert hit["people"] == ["Sử Ngọc Anh"] and hit["author"] == "An Nhiên"
    assert hit["summary"].startswith("Năm 2022") and hit["word_count"] > 400


# ------------------------------------------------------------------ cost bounds


def test_page_depth_is_bounded(seed_index) -> None:
    with pytest.raises(QueryError, match="page too deep") as info:
        served(seed_index, "dang", limit=100, page=101)
    assert info.value.param == "page"


def test_wide_patterns_are_refused_and_narrow_ones_run(seed_index, monkeypatch) -> None:
    from search import query

    assert ids(seed_index, "huy*")  # prefix queries work, folded
    monkeypatch.setattr(query, "MAX_EXPANSION", 5)
    with pytest.raises(QueryError, match="more than 5 different words"):
        search(seed_index, "t*")


def test_time_limit_returns_partial_results_flagged(seed_index) -> None:
    full = search(seed_index, "dang", time_limit=30)
    assert not full.partial and full.total == 5
    # One nanosecond: the deadline has passed before the first document is collected.
    cut = search(seed_index, "dang", time_limit=1e-9)
    assert cut.partial and cut.hits == [] and not cut.fallback
    assert cut.as_dict()["partial"] is True


def test_time_limit_keeps_filters(seed_index) -> None:
    from search.filters import Filters

    f = Filters(place="ba dinh", since="2020", until="2020")
    assert search(seed_index, "dang", filters=f, time_limit=30).total == 1
    assert search(seed_index, "dang", filters=f, time_limit=30, facets=True).total == 1


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [({"limit": 0}, "limit"), ({"page": 0}, "page"), ({"sort": "x"}, "sort")],
)
def test_query_errors_name_their_parameter(seed_index, kwargs, param) -> None:
    with pytest.raises(QueryError) as info:
        served(seed_index, "dang", **kwargs)
    assert info.value.param == param


def test_filter_errors_name_their_parameter(seed_index) -> None:
    from search.filters import Filters

    for kwargs, param in [({"since": "x"}, "since"), ({"until": "2023-99"}, "until"),
                          ({"place": "!!"}, "place"), ({"since": "2024", "until": "2023"}, "since")]:
        with pytest.raises(QueryError) as info:
            search(seed_index, "dang", filters=Filters(**kwargs))
        assert info.value.param == param, kwargs


def test_fallback_relaxes_to_all_but_one_word_before_any_word(seed_index) -> None:
    # "xyzzyq" is in no article (a typo); the other words pin down seed 000.
    result = search(seed_index, "bac tu liem huy hieu xyzzyq")
    assert result.fallback and result.relaxed == "all_but_one"
    assert [h.id for h in result.hits] == ["000_79b2625c10f6956a.txt"]
    # Two unknown words: all-but-one finds nothing, any-word still answers.
    loose = search(seed_index, "bac tu liem xyzzyq plughq")
    assert loose.fallback and loose.relaxed == "any_word"
    assert "000_79b2625c10f6956a.txt" in [h.id for h in loose.hits]
    assert len(loose.hits) > 1


# --------------------------------------------------------------------------- issue 6


def test_typo_tolerance_finds_words_one_edit_away(seed_index) -> None:
    typo = search(seed_index, "nhiemm vu", suggest=False)  # "nhiệm vụ" with a doubled m
    assert typo.total == 5 and typo.typos == 5 and not typo.fallback
    marks = {s.text[a:b] for h in typo.hits for s in h.snippets for a, b in s.matches}
    assert "nhiệm" in marks  # the word it stood for is highlighted
    strict = search(seed_index, "nhiemm vu", exact=True)
    assert strict.typos == 0 and (strict.total == 0 or strict.fallback)


def test_words_in_no_article_show_the_correction_first(seed_index) -> None:
    """No article holds "nhiemm": the did-you-mean's articles are the results."""
    fixed = search(seed_index, "nhiemm vu")
    assert fixed.corrected and fixed.suggestion == "Nhiệm vụ"
    assert fixed.total == 5 and fixed.typos == 0  # every typo match holds "nhiệm vụ"
    assert [h.id for h in fixed.hits] == ids(seed_index, "nhiệm vụ", exact=True)


def _every(index_dir: Path, text: str, **kwargs) -> list[str]:
    return ids(index_dir, text, limit=500, **kwargs)


@pytest.mark.parametrize("typed", [
    "Các trờưng đại học",       # "trường": typo matches alone put the article 8th
    "Triển khai chơưng trình",  # "chương"
])
def test_correction_first_then_the_typo_matches_it_lacks(vntc_index, typed) -> None:
    fixed = search(vntc_index, typed, limit=500)
    assert fixed.corrected and fixed.suggestion
    first = _every(vntc_index, searched_form(typed, fixed.suggestion), exact=True)
    got = [h.id for h in fixed.hits]
    assert got[: len(first)] == first  # the correction's articles, in its own order
    before = search(vntc_index, typed, limit=500, suggest=False)  # typo matches only
    assert before.total == before.typos > 0
    assert set(got[len(first):]) == {h.id for h in before.hits} - set(first)
    assert fixed.typos == fixed.total - len(first) > 0  # nothing lost, nothing twice
    assert len(set(got)) == len(got) == fixed.total


def test_corrected_results_page_through_every_tier_once(vntc_index) -> None:
    typed = "Các trờưng đại học"
    whole = search(vntc_index, typed, limit=210)
    assert whole.corrected and whole.typos and whole.total <= 210  # 185 + 17 typo matches
    pages = [search(vntc_index, typed, limit=70, page=p) for p in (1, 2, 3)]
    assert [h.id for p in pages for h in p.hits] == [h.id for h in whole.hits]
    assert {p.total for p in pages} == {whole.total} and {p.typos for p in pages} == {whole.typos}
    by_date = search(vntc_index, typed, limit=10, sort="date")
    assert by_date.corrected and by_date.total == whole.total


def test_correction_keeps_the_articles_lacking_a_word(vntc_index) -> None:
    typed = "Phụ nữ ngihện ma"  # "nghiện"; few articles: those lacking a word follow
    before = search(vntc_index, typed, limit=500, suggest=False)
    assert before.missing_one and before.total == before.typos + before.missing_one
    fixed = search(vntc_index, typed, limit=500)
    assert fixed.corrected and fixed.missing_one
    assert {h.id for h in fixed.hits} == {h.id for h in before.hits} | set(
        _every(vntc_index, fixed.suggestion or "", exact=True))
    tail = [h.id for h in fixed.hits][fixed.total - fixed.missing_one:]
    assert set(tail) <= {h.id for h in before.hits[before.total - before.missing_one:]}


def test_words_some_article_holds_are_not_replaced(vntc_index) -> None:
    """A rare word the archive holds keeps its own results; the did-you-mean is offered."""
    typed = "nguyet"  # few articles, so typo matches follow: not a correction
    result = search(vntc_index, typed)
    assert not result.corrected and result.total > result.typos > 0


def test_short_words_get_no_typo_tolerance(seed_index) -> None:
    assert search(seed_index, "qan", suggest=False).total == 0  # "quan", 3 letters typed
    held = search(seed_index, "thu", suggest=False)  # "thư", a word the seeds hold
    assert held.total and not held.typos


def test_a_four_letter_word_no_article_holds_matches_its_neighbours(seed_index) -> None:
    widened = search(seed_index, "quam", suggest=False)  # "quan": no article says "quam"
    assert widened.total == widened.typos > 0
    assert search(seed_index, "quam", suggest=False, exact=True).total == 0


def test_typo_matches_rank_below_exact_matches(vntc_index) -> None:
    exact = ids(vntc_index, "nguyet", limit=100, exact=True)  # "Nguyệt", "nguyệt"
    assert 0 < len(exact) < 100
    tolerant = search(vntc_index, "nguyet", limit=100)
    got = [h.id for h in tolerant.hits]
    assert got[: len(exact)] == exact  # every exact match first, in the same order
    assert tolerant.typos == tolerant.total - len(exact) > 0  # then "Nguyễn" …
    assert not set(got[len(exact):]) & set(exact)


def test_typo_matches_are_paged_after_exact_ones(vntc_index) -> None:
    exact_total = search(vntc_index, "nguyet", exact=True).total
    pages = [search(vntc_index, "nguyet", limit=7, page=p) for p in (1, 2, 3)]
    whole = search(vntc_index, "nguyet", limit=21)
    assert [h.id for p in pages for h in p.hits] == [h.id for h in whole.hits]
    assert all(p.total == whole.total for p in pages) and whole.total > exact_total
    assert 7 < exact_total < 21  # the pages cross from exact to typo matches


def test_articles_lacking_one_word_follow_when_few_hold_them_all(seed_index) -> None:
    whole = search(seed_index, "quan uy ba dinh")
    held = ids(seed_index, "quan uy ba dinh", exact=True)  # --exact: the words as typed
    got = [h.id for h in whole.hits]
    assert len(held) == 2 and got[:2] == held and whole.missing_one == 2 == whole.total - 2
    pages = [search(seed_index, "quan uy ba dinh", limit=1, page=p) for p in (1, 2, 3, 4)]
    assert [h.id for p in pages for h in p.hits] == got  # paged across the tiers alike
    assert all(p.total == 4 and p.missing_one == 2 for p in pages)
    assert search(seed_index, "dang").missing_one == 0  # one word: nothing to leave out


@pytest.mark.parametrize(("typed", "source"), [
    ("cay tnhh phuong nam", "XH_NLD_ (4119).txt"),  # "cty": the slip makes a real word
    ("dong cho le duan", "XH_NLD_ (4739).txt"),  # "đồng chí", typed "cho" (chợ)
])
def test_a_slip_that_makes_a_real_word_still_finds_the_article(vntc_index, typed, source) -> None:
    r = search(vntc_index, typed)
    got = [h.id.rsplit("/", 1)[-1] for h in r.hits]
    assert source in got and got.index(source) >= r.total - r.missing_one > 0
    assert source not in [i.rsplit("/", 1)[-1] for i in ids(vntc_index, typed, exact=True)]


def test_typo_matches_come_before_those_lacking_a_word(vntc_index) -> None:
    # "ruouu": a typo of "rượu" (without the did-you-mean, whose articles would come first)
    r = search(vntc_index, "nha uong ruouu vuot", limit=100, suggest=False)
    assert r.typos and r.missing_one and r.total <= 100
    assert len({h.id for h in r.hits}) == r.total  # each article once, in one tier
    first_missing = r.total - r.missing_one
    for hit in r.hits[first_missing - r.typos : first_missing]:  # the typo matches
        marked = {fold(s.text[a:b]).lower() for s in hit.snippets for a, b in s.matches}
        assert {"ruou", "vuot"} <= marked  # every word, "rượu" one edit from "ruouu"


def test_query_that_finds_nothing_shows_the_correction(seed_index) -> None:
    r = search(seed_index, "quaanj uyr")
    assert r.corrected and r.suggestion == "Quận ủy" and r.total == 5
    assert not r.fallback
    assert not search(seed_index, "quaanj uyr", exact=True).corrected


def test_suggestion_shown_with_results(seed_index) -> None:
    r = search(seed_index, "quan uy ba dinh")
    assert r.suggestion == "Quận ủy Ba Đình" and not r.corrected
    assert r.total == 4 and r.missing_one == 2  # two articles hold all four words
    assert r.as_dict()["suggestion"] == "Quận ủy Ba Đình"
    assert search(seed_index, "quan uy ba dinh", suggest=False).suggestion is None


def test_abbreviation_query_finds_the_full_form(vntc_index) -> None:
    short = set(ids(vntc_index, "HĐND", limit=100))
    full = set(ids(vntc_index, "hoi dong nhan dan", limit=100))
    assert short == full and len(short) > len(ids(vntc_index, '"HĐND"', limit=100))


@pytest.fixture(scope="module")
def near_index(tmp_path_factory) -> Path:
    """"Đà Nẵng" side by side (in the body; in the title) and "da … nắng" apart, the
    apart one saying both words more often."""
    root = tmp_path_factory.mktemp("near-archive")
    (root / "apart.txt").write_text(
        "Chăm sóc làn da mùa hè\n\nLàn da cần được che chắn khi trời nắng. Da khô, da "
        "dầu đều sợ nắng gắt; nắng trưa hại da nhất.", encoding="utf-8")
    (root / "body.txt").write_text(
        "Du lịch miền Trung\n\nDu khách đổ về Đà Nẵng dịp nghỉ lễ, phố biển kín phòng.",
        encoding="utf-8")
    (root / "title.txt").write_text(
        "Đà Nẵng đón khách\n\nPhố biển kín phòng dịp nghỉ lễ, du khách đông.",
        encoding="utf-8")
    index_dir = root.parent / (root.name + "-ix")
    index_paths(index_dir, [root])
    return index_dir


def test_words_typed_together_rank_articles_where_they_stand_together(near_index) -> None:
    """Proximity is a scored component, not a filter: in the title > side by side in
    the body > apart, and the apart article still matches."""
    assert ids(near_index, "da nang") == ["title.txt", "body.txt", "apart.txt"]
    assert search(near_index, "da nang").total == 3
