"""The accent model shared by did-you-mean and the readings: Telex/VNI, typed marks kept."""

from __future__ import annotations

import pytest

from search.accents import ime_decode, keeps_accents


@pytest.mark.parametrize(
    ("keys", "word"),
    [("quaanj", "quận"), ("ddinhf", "đình"), ("uyr", "ủy"), ("quan65", "quận"),
     ("qua6n5", "quận"), ("vieetj", "việt"), ("thuyr", "thủy")],
)
def test_ime_decode(keys, word) -> None:
    assert word in ime_decode(keys)


@pytest.mark.parametrize("plain", ["dang", "ba", "quận", "nam", "hcm", ""])
def test_ime_decode_leaves_plain_words(plain) -> None:
    assert ime_decode(plain) == ()


@pytest.mark.parametrize(
    ("typed", "suggested", "keeps"),
    [
        ("bà", "ba", False),
        ("Bà", "bà", True),  # case is not an accent
        ("Ba Đinh", "Ba Đình", True),  # a mark added
        ("hoạ", "hoạt", True),  # a letter fixed, the mark kept
        ("đà", "da", False),
        ("đà", "dà", False),  # the stroke of đ is a mark too
        ("quận", "quân", False),
        ("ba", "bà", True),
    ],
)
def test_keeps_accents(typed, suggested, keeps) -> None:
    assert keeps_accents(typed, suggested) is keeps
