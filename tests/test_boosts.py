"""Ranking boosts: words typed together (proximity) only for plain word queries."""

from __future__ import annotations

from search.query import parse


def _proximity_phrases(text: str) -> list:
    q = parse(text)
    boosts = getattr(getattr(q, "b", None), "subqueries", [])
    return [b for b in boosts if type(b).__name__ == "Phrase" and b.fieldname == "text_f"]


def test_proximity_applies_to_plain_word_queries_only() -> None:
    # All four words together, and each neighbouring pair.
    assert [p.words for p in _proximity_phrases("quan uy ba dinh")] == [
        ["quan", "uy", "ba", "dinh"], ["quan", "uy"], ["uy", "ba"], ["ba", "dinh"]]
    for text in ('"quan uy" ba', "quan OR uy", "quan -uy", "title:quan uy", "quan"):
        assert _proximity_phrases(text) == [], text
