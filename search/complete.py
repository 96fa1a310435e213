"""Autocomplete: what the user may be typing, from the archive's places, people and titles.

``complete(searcher, "ba d")`` → ``Ba Đình`` (a place), ``Bà Đoàn …`` (a person),
titles whose words start so. Matching is accent-insensitive and works from any
word of a name (``dinh`` finds ``Ba Đình``); a title matches when its words
contain every complete word typed and one starting with the last, unfinished one
(one of the few most frequent such words, see :data:`TITLE_EXPANSIONS`). Titles
that begin with what was typed come first.

Names come from the ``place_name`` and ``people_name`` term lists (a place also
under the gazetteer's other spellings: ``tphcm``, ``sai gon`` → ``TP.HCM``), and title words
from ``title_f``, gathered once per index reader into sorted lists, so a keystroke
costs binary searches plus an unscored walk that stops at the first few titles.
"""

from __future__ import annotations

import bisect
import heapq
from dataclasses import dataclass
from typing import TypedDict

from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from search import postings
from search.generations import PerReader, registry
from search.normalize import fold, token_tuples
from search.places import other_spellings
from search.schema import ID, PEOPLE_NAME, PLACE_NAME, TITLE, TITLE_FIELD

#: Most completions one request may ask for.
MAX_LIMIT = 50
#: Longest prefix looked at (characters).
MAX_PREFIX = 200
#: Index fields whose whole values are completed, and what they are called.
NAME_FIELDS = {PLACE_NAME: "place", PEOPLE_NAME: "person"}
#: Fewest letters of an unfinished word before titles are searched by prefix
#: (one letter would expand to thousands of words).
TITLE_MIN_PREFIX = 2
#: Most index words an unfinished title word stands for (the most frequent ones).
TITLE_EXPANSIONS = 8
#: Name keys this short (the first keystrokes, shared by every user) are ranked
#: once per index reader and remembered.
SHORT_KEY = 2
#: Most leaps the title walk takes per keystroke: two common words that seldom
#: meet in a title (parts of a person's name) are left to the name completions
#: rather than delay the keystroke (see :mod:`search.postings`).
TITLE_WALK_STEPS = 300

_NAMES: PerReader[_Names] = registry.per_reader("complete names")
_TITLE_TERMS: PerReader[_TitleTerms] = registry.per_reader("complete titles")


@dataclass
class Completion:
    """One completion: the text to search for, what it is, and how common."""

    text: str
    kind: str  # "place", "person" or "title"
    count: int  # articles that name it (1 for a title)
    id: str | None = None  # the article, for a title

    def as_dict(self) -> CompletionDict:
        return {"text": self.text, "kind": self.kind, "count": self.count, "id": self.id}


class CompletionDict(TypedDict):
    """A completion as JSON."""

    text: str
    kind: str
    count: int
    id: str | None


@dataclass
class _Names:
    keys: list[tuple[str, int, int]]  # (folded text from a word start, entry, rank)
    entries: list[tuple[str, str, int]]  # (display name, kind, count)
    short: dict[tuple[str, int], list[int]]  # ranked entries of short keys, as asked


def _names(searcher: Searcher) -> _Names:
    reader = searcher.reader()
    return _NAMES.get(reader, lambda: _gather_names(reader))


def _gather_names(reader: IndexReader) -> _Names:
    entries: list[tuple[str, str, int]] = []
    keys: list[tuple[str, int, int]] = []
    for fieldname, kind in NAME_FIELDS.items():
        if fieldname not in reader.schema:
            continue
        for term, info in reader.iter_field(fieldname):
            name = term.decode("utf-8") if isinstance(term, bytes) else term
            entry = len(entries)
            entries.append((name, kind, int(info.doc_frequency())))
            aliases = other_spellings(name) if kind == "place" else ()
            for n, spelling in enumerate((name, *aliases)):  # "tphcm", "sai g" → TP.HCM
                words = [t[1] for t in token_tuples(spelling)]
                for i in range(len(words)):
                    keys.append((" ".join(words[i:]), entry, _key_rank(n > 0, i)))
    keys.sort()
    return _Names(keys, entries, {})


def complete(searcher: Searcher, prefix: str, limit: int = 10) -> list[Completion]:
    """Up to *limit* completions of *prefix*: names first (most cited first), then titles."""
    words = [t[1] for t in token_tuples(prefix[:MAX_PREFIX])]
    if not words:
        return []
    unfinished = not prefix[:MAX_PREFIX].endswith((" ", "\u00a0"))
    names = _complete_names(searcher, " ".join(words), limit)
    titles = _complete_titles(searcher, words, unfinished=unfinished, limit=limit)
    room = max(limit - len(titles), (limit + 1) // 2)
    picked = names[:room]
    return picked + titles[: limit - len(picked)]


def _complete_names(searcher: Searcher, key: str, limit: int) -> list[Completion]:
    names = _names(searcher)
    if len(key) <= SHORT_KEY:
        ranked = names.short.get((key, limit))
        if ranked is None:
            ranked = names.short[(key, limit)] = _rank_names(names, key, limit)
    else:
        ranked = _rank_names(names, key, limit)
    return [Completion(*names.entries[entry]) for entry in ranked]


def _key_rank(alias: bool, word: int) -> int:
    """How well a key matches: a name that starts so (0), a later word of a name (1),
    another spelling of a place (2: "thu" is "Thủ Đức" before "Thủ đô Hà Nội")."""
    return 2 if alias else (0 if word == 0 else 1)


def _rank_names(names: _Names, key: str, limit: int) -> list[int]:
    """Entries with a word starting *key*: those whose name starts so first, then
    those matched from a later word, then from another spelling; the most cited first
    within each."""
    found: dict[int, int] = {}  # entry → best rank of its keys that match
    i = bisect.bisect_left(names.keys, (key,))
    while i < len(names.keys) and names.keys[i][0].startswith(key):
        _, entry, rank = names.keys[i]
        found[entry] = min(rank, found.get(entry, rank))
        i += 1
    return heapq.nsmallest(
        limit, found, key=lambda e: (found[e], -names.entries[e][2], names.entries[e][0])
    )


def _complete_titles(
    searcher: Searcher, words: list[str], *, unfinished: bool, limit: int
) -> list[Completion]:
    whole, last = (words[:-1], words[-1]) if unfinished else (words, None)
    groups = [[w] for w in whole]
    short = last is not None and len(last) < TITLE_MIN_PREFIX
    if short and not whole:
        return []
    if last is not None and not short:
        groups.append(_expand(searcher, last))
    # A one-letter last word would expand to thousands of index words: match the
    # whole words, then keep the titles with a word starting with that letter.
    wanted = limit * 5 if short else limit
    found = postings.together(searcher, TITLE_FIELD, groups, wanted=wanted,
                              steps=TITLE_WALK_STEPS)
    hits = [searcher.stored_fields(d) for d in found]
    if short and last is not None:
        hits = [h for h in hits if _has_word_starting(h.get(TITLE) or "", last)]
    typed = " ".join(words)
    hits.sort(key=lambda h: not fold(h.get(TITLE) or "").startswith(typed))  # stable
    out: list[Completion] = []
    seen: set[str] = set()
    for hit in hits:
        title = hit.get(TITLE) or ""
        if title and title not in seen and len(out) < limit:
            seen.add(title)
            out.append(Completion(title, "title", 1, hit.get(ID)))
    return out


def _expand(searcher: Searcher, start: str) -> list[str]:
    """The :data:`TITLE_EXPANSIONS` title words starting with *start* found in most titles.

    Matching every word that starts so (what ``Prefix`` does) costs seconds on a
    large archive for two letters; the most frequent few are what a user who has
    typed so little most likely means, and one more letter narrows the choice.
    """
    terms = _title_terms(searcher)
    lo = bisect.bisect_left(terms.words, start)
    hi = bisect.bisect_left(terms.words, start + "\uffff")
    if hi - lo <= TITLE_EXPANSIONS:
        return terms.words[lo:hi]
    best = heapq.nlargest(TITLE_EXPANSIONS, range(lo, hi), key=terms.counts.__getitem__)
    return [terms.words[i] for i in best]


@dataclass
class _TitleTerms:
    words: list[str]  # every folded title word, sorted
    counts: list[int]  # titles containing each


def _title_terms(searcher: Searcher) -> _TitleTerms:
    reader = searcher.reader()
    return _TITLE_TERMS.get(reader, lambda: _gather_title_terms(reader))


def _gather_title_terms(reader: IndexReader) -> _TitleTerms:
    words, counts = [], []
    for term, info in reader.iter_field(TITLE_FIELD):
        words.append(term.decode("utf-8") if isinstance(term, bytes) else term)
        counts.append(int(info.doc_frequency()))
    return _TitleTerms(words, counts)


def _has_word_starting(title: str, letters: str) -> bool:
    return any(t[1].startswith(letters) for t in token_tuples(title))
