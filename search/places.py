"""The gazetteer: which places an article is about, accent-insensitively.

The data is ``search/data/places.json`` (edit it, not this code): Vietnam's 63
provinces and centrally-run cities as they were before 1 July 2025, each with the
province it belongs to after Resolution 202/2025/QH15, and the districts of Hà Nội
and TP.HCM with their parent city. An archive spans both systems, so an article keeps
the names it used and is also tagged with the post-2025 province.

Matching runs over the folded words of :func:`search.normalize.folded_words` (so ``Ba Dinh``,
``Ba Đình`` and the glued ``NamTừ Liêm`` all count), with two guards against ordinary
words: in article text a name must be capitalised (``Long An`` the province, not
``long an``), and numbered districts need ``quận`` in front (``Quận 1``).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import compress, count
from typing import NamedTuple

from search.normalize import folded_words, nfc

#: Words that may stand before a numbered district name ("quận 1", "Q.1").
_NUMBERED_PREFIXES = {"quan", "q"}
#: A name right after these is a ward, commune or street, not the unit of that name
#: ("phường Điện Biên" is in Ba Đình; "đường Hà Nội" is a street in many cities).
_NOT_AFTER = {"phuong", "xa", "duong", "pho", "ngo", "hem"}
#: A name right before these is part of a longer name ("Điện Biên Phủ").
_NOT_BEFORE = {"phu"}


@dataclass(frozen=True)
class Place:
    """One administrative unit of the gazetteer."""

    name: str
    type: str
    parent: str | None
    province_2025: str


@dataclass(frozen=True)
class Gazetteer:
    """Places by name, and name spellings indexed by their first folded word."""

    by_name: dict[str, Place]
    # first folded word → [(folded words, place name, needs a "quận" prefix)], longest first
    spellings: dict[str, list[tuple[tuple[str, ...], str, bool]]]
    # place name → its other spellings as the gazetteer writes them
    aliases: dict[str, tuple[str, ...]]
    # the one-word spellings, and the first two words of the longer ones: most
    # words that start a spelling start none here, told without trying each
    single: frozenset[str]
    pairs: frozenset[tuple[str, str]]


def _folded(name: str) -> tuple[str, ...]:
    return tuple(folded_words(name)[0])


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The shipped gazetteer, loaded once."""
    raw = json.loads(
        resources.files("search").joinpath("data/places.json").read_text(encoding="utf-8")
    )
    by_name: dict[str, Place] = {}
    spellings: dict[str, list[tuple[tuple[str, ...], str, bool]]] = {}
    aliases: dict[str, tuple[str, ...]] = {}
    for entry in raw["places"]:
        place = Place(entry["name"], entry["type"], entry.get("parent"), entry["province_2025"])
        by_name[place.name] = place
        aliases[place.name] = tuple(entry.get("aliases", []))
        needs_prefix = bool(entry.get("needs_prefix"))
        for spelling in [place.name, *entry.get("aliases", [])]:
            words = _folded(spelling)
            if needs_prefix:
                words = words[1:]  # "Quận 1" → ("1",), and the prefix is checked on match
            if words:
                spellings.setdefault(words[0], []).append((words, place.name, needs_prefix))
    for options in spellings.values():
        options.sort(key=lambda o: -len(o[0]))
    every = [words for options in spellings.values() for words, _, _ in options]
    return Gazetteer(by_name, spellings, aliases,
                     single=frozenset(w[0] for w in every if len(w) == 1),
                     pairs=frozenset((w[0], w[1]) for w in every if len(w) > 1))


def other_spellings(name: str) -> tuple[str, ...]:
    """The gazetteer's other spellings of the place *name* (``TP.HCM`` → ``TPHCM``,
    ``Sài Gòn`` …), so that autocomplete knows a place by any name a filter accepts."""
    return gazetteer().aliases.get(name, ())


def mentions(text: str, require_capitals: bool = True) -> list[str]:
    """Canonical names of the places *text* mentions, in order of mention (repeats kept)."""
    gaz = gazetteer()
    text = nfc(text)
    folded, starts = folded_words(text)
    words = _Words(text, folded, starts)
    found: list[str] = []
    free = 0  # the first word not inside a mention already found
    starting, single, pairs, last = gaz.spellings, gaz.single, gaz.pairs, len(folded) - 1
    # the words that start a spelling, told apart at C speed (a body has thousands)
    for i in compress(count(), map(starting.__contains__, folded)):
        if i < free or not (folded[i] in single
                            or (i < last and (folded[i], folded[i + 1]) in pairs)):
            continue
        match = _match_at(gaz, words, i, require_capitals=require_capitals)
        if match is not None:
            length, name = match
            found.append(name)
            free = i + length
    return found


class _Words(NamedTuple):
    """A text, its folded words and where each starts in it."""

    text: str
    folded: list[str]
    starts: list[int]


def _match_at(gaz: Gazetteer, words: _Words, i: int, *,
              require_capitals: bool) -> tuple[int, str] | None:
    """The longest place spelling starting at word *i*, as (words, name), if any."""
    text, folded, starts = words
    for spelling, name, needs_prefix in gaz.spellings.get(folded[i], ()):
        n = len(spelling)
        if tuple(folded[i : i + n]) != spelling:
            continue
        before = folded[i - 1] if i > 0 else ""
        after = folded[i + n] if i + n < len(folded) else ""
        if needs_prefix and before not in _NUMBERED_PREFIXES:
            continue
        if not needs_prefix and (before in _NOT_AFTER or after in _NOT_BEFORE):
            continue
        if require_capitals and not needs_prefix and not text[starts[i]].isupper():
            continue
        return n, name
    return None


def tag(title: str, body: str) -> tuple[list[str], list[str]]:
    """Places an article is about, and the post-2025 provinces they belong to.

    Returns ``(places, provinces_2025)``.

    Districts come before cities and provinces (the most specific place first), each
    group most-mentioned first, ties by first mention; a district brings its city.
    """
    named = mentions(title) + mentions(body)
    if not named:
        return [], []
    gaz = gazetteer()
    counts = Counter(named)
    first_seen = {name: i for i, name in reversed(list(enumerate(named)))}
    ordered = sorted(
        counts,
        key=lambda n: (gaz.by_name[n].parent is None, -counts[n], first_seen[n]),
    )
    places: list[str] = []
    for name in ordered:
        parent = gaz.by_name[name].parent
        for item in (name, parent):
            if item and item not in places:
                places.append(item)
    provinces: list[str] = []
    for name in places:
        province = gaz.by_name[name].province_2025
        if province not in provinces:
            provinces.append(province)
    return places, provinces


def canonical_places(query: str) -> list[str]:
    """The places a user means by *query* (any case, accents optional; aliases resolved).

    ``ba dinh`` → ``["Ba Đình"]``, ``tphcm`` → ``["TP.HCM"]``, ``quan 1`` → ``["Quận 1"]``.
    Empty when the query names no known place.
    """
    return list(dict.fromkeys(mentions(query, require_capitals=False)))
