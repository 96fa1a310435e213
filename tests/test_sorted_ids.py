"""Set operations on sorted id arrays (:mod:`search.sorted_ids`) agree with numpy's
own (which sort again on every call)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from search.sorted_ids import (
    common,
    common_docs,
    found_at,
    in_sorted,
    segment_span,
    sorted_unique,
    union,
)

ids = st.lists(st.integers(0, 200), max_size=60).map(lambda xs: np.unique(np.asarray(
    xs, dtype=np.int64)))
values = st.lists(st.integers(-5, 210), max_size=60).map(lambda xs: np.asarray(
    xs, dtype=np.int64))


@given(values, ids)
def test_in_sorted_is_isin(vals: np.ndarray, sorted_ids: np.ndarray) -> None:
    assert in_sorted(vals, sorted_ids).tolist() == np.isin(vals, sorted_ids).tolist()


@given(ids, values)
def test_found_at_points_at_the_value(sorted_ids: np.ndarray, vals: np.ndarray) -> None:
    at, here = found_at(sorted_ids, vals)
    assert here.tolist() == np.isin(vals, sorted_ids).tolist()
    assert (sorted_ids[at[here]] == vals[here]).all()


@given(values)
def test_sorted_unique_counts_runs(vals: np.ndarray) -> None:
    vals = np.sort(vals)
    distinct, counts = sorted_unique(vals)
    expected = np.unique(vals, return_counts=True)
    assert distinct.tolist() == expected[0].tolist()
    assert counts.tolist() == expected[1].tolist()


@given(ids, ids)
def test_common_is_intersect1d(a: np.ndarray, b: np.ndarray) -> None:
    assert common(a, b).tolist() == np.intersect1d(a, b).tolist()


@given(st.lists(ids, min_size=1, max_size=12))
def test_union_is_unique_of_all(lists: list[np.ndarray]) -> None:
    assert union(lists).tolist() == np.unique(np.concatenate(lists)).tolist()


@given(st.lists(ids, min_size=1, max_size=4), st.none() | ids)
def test_common_docs_is_the_intersection(lists: list[np.ndarray],
                                         within: np.ndarray | None) -> None:
    expected = set(range(-10, 300)) if within is None else set(within.tolist())
    for one in lists:
        expected &= set(one.tolist())
    assert common_docs(lists, within).tolist() == sorted(expected)


def test_found_at_agrees_for_few_and_many_values() -> None:
    """A few values are binary-searched, many looked up in a table: same answers
    (int32 posting ids, as the cache keeps them; values past either end)."""
    rng = np.random.default_rng(7)
    sorted_ids = np.unique(rng.integers(0, 50_000, 20_000)).astype(np.int32)
    for n in (10, 40_000):
        vals = np.sort(rng.integers(-3, 50_010, n))
        at, here = found_at(sorted_ids, vals)
        assert here.tolist() == np.isin(vals, sorted_ids).tolist()
        assert (sorted_ids[at[here]] == vals[here]).all()
        assert in_sorted(vals, sorted_ids).tolist() == here.tolist()


@given(ids, st.integers(0, 200), st.integers(0, 80))
def test_segment_span_is_the_segments_documents(a: np.ndarray, offset: int, size: int) -> None:
    lo, hi = segment_span(a, offset, size)
    assert a[lo:hi].tolist() == [x for x in a.tolist() if offset <= x < offset + size]
