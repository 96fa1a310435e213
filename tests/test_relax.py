"""Widening a query: all words but one (exclusions kept)."""

from __future__ import annotations

from search.query import parse
from search.relax import all_but_one


def test_all_but_one_keeps_exclusions() -> None:
    relaxed = all_but_one(parse("dang vien ba dinh -go"))
    assert relaxed is not None and "NOT" in str(relaxed)
    assert all_but_one(parse("dang vien")) is None  # too short to relax
