"""Autocomplete: places, people and titles from a prefix, accents optional."""

from __future__ import annotations

from pathlib import Path

import pytest

from search import store
from search.complete import complete


def texts(index_dir: Path, prefix: str, **kwargs) -> list[tuple[str, str]]:
    with store.open_index(index_dir).searcher() as s:
        return [(c.text, c.kind) for c in complete(s, prefix, **kwargs)]


def test_place_from_unaccented_prefix(seed_index) -> None:
    assert texts(seed_index, "ba d")[0] == ("Ba Đình", "place")
    assert texts(seed_index, "Ba Đ")[0] == ("Ba Đình", "place")
    assert ("Gò Vấp", "place") in texts(seed_index, "go v")


def test_name_from_any_of_its_words(seed_index) -> None:
    assert ("Ba Đình", "place") in texts(seed_index, "dinh")
    assert ("Trần Đức Hoạt", "person") in texts(seed_index, "hoat")


def test_people(seed_index) -> None:
    found = texts(seed_index, "tran")
    assert ("Trần Đức Hoạt", "person") in found and ("Trần Thanh Long", "person") in found


def test_names_starting_with_the_prefix_come_first(seed_index) -> None:
    found = [t for t, kind in texts(seed_index, "h") if kind != "title"]
    assert found[0] == "Hà Nội"  # starts with h, cited by most seeds
    starts = [t.lower().startswith(("h", "hồ")) for t in found]
    assert starts == sorted(starts, reverse=True)


def test_titles(seed_index) -> None:
    found = texts(seed_index, "quan ba dinh phat d")
    assert found == [("Quận Ba Đình phát động đợt thi đua cao điểm chào mừng Đại hội Đảng bộ quận lần thứ 26", "title")]
    assert ("title", "004_752ea5e39524a483.txt") in [
        (c.kind, c.id) for c in _complete(seed_index, "bi thu quan uy su ngoc")
    ]


def _complete(index_dir: Path, prefix: str):
    with store.open_index(index_dir).searcher() as s:
        return complete(s, prefix)


@pytest.mark.parametrize("prefix", ["", "   ", "…", "xyzzyq"])
def test_nothing_to_complete(seed_index, prefix) -> None:
    assert texts(seed_index, prefix) == []


def test_limit_and_counts(vntc_index) -> None:
    with store.open_index(vntc_index).searcher() as s:
        found = complete(s, "nguyen", limit=5)
        assert len(found) == 5
        names = [c for c in found if c.kind == "person"]
        assert names and all(c.text.startswith("Nguyễn") for c in names)
        assert [c.count for c in names] == sorted((c.count for c in names), reverse=True)
        assert complete(s, "ha n")[0].text == "Hà Nội"
