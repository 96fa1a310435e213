"""The gazetteer: aliases, accent-insensitivity, glued words, false-positive guards."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from search.places import canonical_places, gazetteer, mentions, tag


def test_data_covers_provinces_and_city_districts() -> None:
    data = json.loads(resources.files("search").joinpath("data/places.json").read_text("utf-8"))
    entries = data["places"]
    top = [e for e in entries if e["parent"] is None]
    assert len(top) == 63
    assert len({e["province_2025"] for e in top}) == 34
    assert sum(e["parent"] == "Hà Nội" for e in entries) == 30
    assert {"Gò Vấp", "Thủ Đức", "Quận 1", "Củ Chi"} <= {
        e["name"] for e in entries if e["parent"] == "TP.HCM"
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ba dinh", ["Ba Đình"]),
        ("Ba Đình", ["Ba Đình"]),
        ("BA DINH", ["Ba Đình"]),
        ("tphcm", ["TP.HCM"]),
        ("TP.HCM", ["TP.HCM"]),
        ("TP Hồ Chí Minh", ["TP.HCM"]),
        ("sai gon", ["TP.HCM"]),
        ("quan 1", ["Quận 1"]),
        ("nam tu liem", ["Nam Từ Liêm"]),
        ("thua thien hue", ["Huế"]),
        ("dak lak", ["Đắk Lắk"]),
        ("xyz", []),
        ("", []),
    ],
)
def test_user_queries_resolve_to_canonical_places(query, expected) -> None:
    assert canonical_places(query) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Quận NamTừ Liêm tổ chức hội nghị", ["Nam Từ Liêm"]),  # glued words
        ("Chủ tịch Hồ Chí Minh và tư tưởng Hồ Chí Minh", []),  # the person, not the city
        ("một con đường long an toàn", []),  # lower case: ordinary words
        ("Tỉnh Long An và TP HCM", ["Long An", "TP.HCM"]),
        ("xây dựng phường Điện Biên là phường điểm", []),  # a ward of Ba Đình
        ("Chiến thắng Điện Biên Phủ", []),
        ("tại quận 1 và quận 12", ["Quận 1", "Quận 12"]),
        ("có 1 người", []),  # a bare number is not Quận 1
    ],
)
def test_mentions_in_article_text(text, expected) -> None:
    assert mentions(text) == expected


def test_tag_puts_districts_first_and_adds_the_parent_and_2025_province() -> None:
    places, provinces = tag("Tin Bình Dương", "Hà Nội và Hà Nội, quận Gò Vấp; tỉnh Bình Dương")
    assert places == ["Gò Vấp", "TP.HCM", "Bình Dương", "Hà Nội"]
    assert provinces == ["TP.HCM", "Hà Nội"]


def test_reform_merges_are_mapped() -> None:
    gaz = gazetteer()
    assert gaz.by_name["Bình Dương"].province_2025 == "TP.HCM"
    assert gaz.by_name["Hà Giang"].province_2025 == "Tuyên Quang"
    assert gaz.by_name["Hà Nội"].province_2025 == "Hà Nội"


def test_mentions_in_a_long_text_match_its_sentences_one_by_one() -> None:
    # a long text's words are told apart through lookup arrays (capitals, digits);
    # what it mentions must be what its sentences mention one by one
    sentences = ["Quận NamTừ Liêm tổ chức hội nghị.", "một con đường long an toàn.",
                 "Tỉnh Long An và TP HCM.", "tại quận 1 và quận 12,", "có 1 người.",
                 "xây dựng phường Điện Biên.", "Đoàn đến Hà Nội, rồi ĐÀ NẴNG.",
                 "quận ƨ là chữ lạ,", "ở đà nẵng thì không."]
    text = " ".join(sentences * 3)
    assert len(text) > 200
    expected = [name for s in sentences * 3 for name in mentions(s)]
    assert mentions(text) == expected
    assert "Quận 2" in expected  # "ƨ" folds to "2", lower-case: after "quận", it counts
