"""The query language: place:/date: terms, abbreviations, and what counts as syntax."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from search import store, syntax
from search.errors import QueryError
from search.filters import Filters
from search.indexer import index_paths
from search.syntax import has_syntax, split_filters
from tests.conftest import write_baomoi_sample

YEAR_2023 = (datetime(2023, 1, 1), datetime(2023, 12, 31, 23, 59, 59))


@pytest.mark.parametrize(
    ("text", "words", "places", "ranges"),
    [
        ('place:"Ba Đình" thi dua', ["thi", "dua"], ("Ba Đình",), ()),
        ("place:hanoi", [], ("hanoi",), ()),
        ("PLACE:hanoi tin", ["tin"], ("hanoi",), ()),  # the name is case-insensitive
        ("date:2023", [], (), (YEAR_2023,)),
        ("date:2023-06", [], (),
         ((datetime(2023, 6, 1), datetime(2023, 6, 30, 23, 59, 59)),)),
        ("date:15/6/2023", [], (),
         ((datetime(2023, 6, 15), datetime(2023, 6, 15, 23, 59, 59)),)),
        ("dang date:[2022-06 TO 2023-06]", ["dang"], (),
         ((datetime(2022, 6, 1), datetime(2023, 6, 30, 23, 59, 59)),)),
        ("date:[2021 TO]", [], (), ((datetime(2021, 1, 1), None),)),
        ("date:[TO 2021]", [], (), ((None, datetime(2021, 12, 31, 23, 59, 59)),)),
        ('a place:"Đà Nẵng" b date:2023 c', ["a", "b", "c"], ("Đà Nẵng",), (YEAR_2023,)),
        # Not filter terms: inside a phrase, glued to a word, or another field.
        ('"tin place:hanoi"', ['"tin', 'place:hanoi"'], (), ()),
        ("xdate:2023", ["xdate:2023"], (), ()),
        ("title:date", ["title:date"], (), ()),
    ],
)
def test_place_and_date_terms_become_filters(text, words, places, ranges) -> None:
    rest, found = split_filters(text)
    assert rest.split() == words
    assert found.places == places and found.date_ranges == ranges


@pytest.mark.parametrize(
    ("text", "message"),
    [("date:2023-13", "bad date '2023-13'"), ("date:32/1/2023", "bad date"),
     ("date:soon", "bad date 'soon': use YYYY"),
     ("date:[2024 TO 2023]", "the start is after the end"),
     ("date:[2023]", r"bad date range \[2023\]"), ("date:[2023 TO x]", "bad date 'x'")],
)
def test_bad_date_terms_are_errors_of_the_query(text, message) -> None:
    with pytest.raises(QueryError, match=message) as caught:
        split_filters(text)
    assert caught.value.param == "q"


def test_filter_terms_are_never_scored_words() -> None:
    # Parsed directly (not split off first), a filter term still adds no word.
    assert syntax.parser().parse('dang place:"Ba Đình" date:2023') == syntax.parser().parse("dang")


def test_split_adds_to_the_callers_filters_and_keeps_them() -> None:
    given = Filters(place="Hà Nội", since="2020")
    _, found = split_filters("tin place:hue date:2023", given)
    assert (found.place, found.since, found.places) == ("Hà Nội", "2020", ("hue",))
    assert found.date_ranges == (YEAR_2023,)
    assert given == Filters(place="Hà Nội", since="2020")


def parsed(text: str, **options: bool) -> object:
    return syntax.parser(**options).parse(text)


def written(text: str) -> object:
    return syntax.parser(abbreviations=False).parse(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tin UBND", 'tin (ubnd OR "ủy ban nhân dân")'),
        ("(UBND OR MTTQ) -x", '((ubnd OR "ủy ban nhân dân") OR (mttq OR "mặt trận tổ quốc")) -x'),
        ("KT-XH", '("kt xh" OR "kinh tế xã hội")'),  # "-" inside a name joins it
        ("TP & HCM", '("tp hcm" OR tphcm OR "tp hồ chí minh" OR "thành phố hồ chí minh")'),
        ("UBND,HĐND", '(ubnd OR "ủy ban nhân dân"),(hđnd OR "hội đồng nhân dân")'),
        ("ủy ban, nhân dân", "ủy ban, nhân dân"),  # a comma parts the words
        ("NOT UBND", 'NOT (ubnd OR "ủy ban nhân dân")'),
        # Protected: a phrase, a sign, a field, a pattern, a boost, after an open quote.
        ('"UBND quận" UBND', '"UBND quận" (ubnd OR "ủy ban nhân dân")'),
        ("-UBND +MTTQ", "-UBND +MTTQ"),
        ("title:UBND source:MTTQ", "title:UBND source:MTTQ"),
        ("UBND* UBND? UBND~ UBND^2", "UBND* UBND? UBND~ UBND^2"),
        ('MTTQ "UBND quận', '(mttq OR "mặt trận tổ quốc") "UBND quận'),
    ],
)
def test_abbreviations_expand_outside_protected_parts(text, expected) -> None:
    assert parsed(text) == written(expected)


def test_any_word_parser_joins_words_with_or() -> None:
    assert parsed("a b", any_word=True) == written("a OR b")


def test_abbreviations_expand_beside_filter_terms() -> None:
    words, found = split_filters("UBND place:hanoi")
    assert found.places == ("hanoi",)
    assert parsed(words) == written('(ubnd OR "ủy ban nhân dân")')


@pytest.mark.parametrize(
    "text",
    ['"a b"', "a:b", "title:x", "-x", "a -x", "+x", "x*", "x?", "x~", "x^2", "[a TO b]",
     "(a)", "a OR b", "NOT a", "a AND b", 'a "b', "place:hanoi", "OR", "{a TO b}"],
)
def test_query_syntax_is_recognised(text) -> None:
    assert has_syntax(text)


@pytest.mark.parametrize(
    "text", ["chính phủ", "quan uy ba dinh", "KT-XH", "a+b", "covid-19", "TP.HCM", "or not and"],
)
def test_plain_words_are_not_syntax(text) -> None:
    assert not has_syntax(text)


# ------------------------------------------------------------------ on a real archive


@pytest.fixture(scope="module")
def danang_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of baomoi-2017 articles: 40 from the start of the crawl, and the first
    20 that mention Đà Nẵng."""
    root = tmp_path_factory.mktemp("baomoi-place")
    texts, taken = write_baomoi_sample(root / "txt", {"Đà Nẵng": 20}, 40)
    assert taken["Đà Nẵng"] == 20
    summary = index_paths(root / "ix", [root / "txt"])
    assert summary.added == len(texts) and not summary.failed
    return root / "ix"


def _ids(cli, index: Path, text: str, *options: str) -> list[str]:
    result = cli("search", text, "--json", "--limit", "100", "--index", index, *options)
    assert result.exit_code == 0, result.output
    return [hit["id"] for hit in json.loads(result.stdout)["hits"]]


@pytest.mark.slow
def test_place_and_date_terms_on_a_real_archive(cli, danang_index) -> None:
    with store.open_index(danang_index).searcher() as s:
        tagged = {d["id"] for d in s.documents() if "Đà Nẵng" in (d.get("places") or [])}
    assert len(tagged) >= 10  # most articles that say Đà Nẵng are tagged with it
    assert set(_ids(cli, danang_index, 'place:"Đà Nẵng"')) == tagged
    assert set(_ids(cli, danang_index, "place:da-nang")) == tagged  # the spelling folds away
    words = _ids(cli, danang_index, 'thanh pho place:"Đà Nẵng"')
    assert words and set(words) <= tagged
    assert words == _ids(cli, danang_index, "thanh pho", "--place", "Đà Nẵng")
    # The crawl carries no dates: any date term keeps nothing, as the option does.
    assert _ids(cli, danang_index, 'place:"Đà Nẵng" date:2017') == []
    assert _ids(cli, danang_index, 'place:"Đà Nẵng"', "--since", "2017") == []
