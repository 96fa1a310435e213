"""Filters: an immutable value, the Whoosh filter built from it, and its errors."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest
from whoosh import query as wq
from whoosh.sorting import Count

from search import store
from search.errors import QueryError
from search.filters import (
    DATE_ORDER,
    FACETS,
    Filters,
    build_filter,
    facet_counts,
    resolve_place,
)
from search.syntax import split_filters


def test_filters_cannot_be_changed() -> None:
    filters = Filters(place="Hà Nội")
    with pytest.raises(dataclasses.FrozenInstanceError):
        filters.place = "Huế"  # type: ignore[misc]
    assert isinstance(filters.places, tuple) and isinstance(filters.date_ranges, tuple)


def test_three_queries_with_one_filters_value_each_get_their_own_place() -> None:
    shared = Filters(source="tdkt")
    found = [split_filters(f"tin place:{p}", shared)[1] for p in ("hue", "hanoi", "vinh")]
    assert [f.places for f in found] == [("hue",), ("hanoi",), ("vinh",)]
    assert shared == Filters(source="tdkt") and shared.places == ()
    assert all(f.source == "tdkt" for f in found)


def test_adding_makes_a_new_value() -> None:
    first = Filters(places=("hue",))
    second = first.adding(places=["vinh"], date_ranges=[(datetime(2023, 1, 1), None)])
    assert first == Filters(places=("hue",))
    assert second.places == ("hue", "vinh") and second.date_ranges == ((datetime(2023, 1, 1), None),)


def test_no_restriction_builds_no_filter() -> None:
    assert build_filter(Filters()) is None
    assert build_filter(Filters(author="", source="")) is None


def test_a_place_matches_its_unit_or_its_province_under_every_alias() -> None:
    assert resolve_place("TPHCM") == resolve_place("Thành phố Hồ Chí Minh") == ["tp hcm"]
    built = build_filter(Filters(place="tphcm"))
    assert built == wq.Or([wq.Term("place", "tp hcm"), wq.Term("province", "tp hcm")])


def test_options_and_query_terms_combine_into_one_and() -> None:
    built = build_filter(Filters(place="hue", since="2023", author="Trần Hòa",
                                 date_ranges=((None, datetime(2024, 1, 1)),)))
    assert isinstance(built, wq.And)
    assert wq.DateRange("date", None, datetime(2024, 1, 1)) in built.subqueries
    assert wq.DateRange("date", datetime(2023, 1, 1), None) in built.subqueries
    assert wq.And([wq.Term("author", "tran"), wq.Term("author", "hoa")]) in built.subqueries


@pytest.mark.parametrize(
    ("filters", "param", "message"),
    [(Filters(place="!!"), "place", "bad place '!!'"),
     (Filters(places=("",)), "place", "bad place ''"),
     (Filters(since="2023-13"), "since", "bad date '2023-13'"),
     (Filters(until="soon"), "until", "bad date 'soon'"),
     (Filters(since="2024", until="2023"), "since", "--since is after --until"),
     (Filters(author="!!"), "author", "bad author '!!'"),
     (Filters(source="..."), "source", "bad source")],
)
def test_filters_that_restrict_nothing_are_errors(filters, param, message) -> None:
    with pytest.raises(QueryError, match=message) as caught:
        build_filter(filters)
    assert caught.value.param == param


def test_facets_and_date_order_count_from_the_index(seed_index) -> None:
    with store.open_index(seed_index).searcher() as s:
        results = s.search(wq.Every(), groupedby=FACETS, maptype=Count, sortedby=DATE_ORDER,
                           reverse=True)
        counts = facet_counts(results)
        dates = [hit.get("date") for hit in results]
    assert set(counts) == {"place", "year", "source", "author"}
    assert counts["place"]["Hà Nội"] >= 4 and all(1000 <= int(y) <= 9999 for y in counts["year"])
    dated = [d for d in dates if d]
    assert dated == sorted(dated, reverse=True)
    assert dates[: len(dated)] == dated  # undated articles come last
