"""Autocomplete: what the user may be typing, from the archive's places, people and titles.

``complete(searcher, "ba d")`` → ``Ba Đình`` (a place), ``Bà Đoàn …`` (a person),
titles whose words start so. Matching is accent-insensitive and works from any
word of a name (``dinh`` finds ``Ba Đình``); a title matches when its words
contain every complete word typed and one starting with the last, unfinished one.

Names come from the ``place_name`` and ``people_name`` term lists, gathered once
per index reader into a sorted list of word-start keys, so each keystroke costs a
binary search plus one small title query.
"""

from __future__ import annotations

import bisect
import weakref
from dataclasses import dataclass

from whoosh import query as wq
from whoosh.searching import Searcher

from search.normalize import fold, token_tuples
from search.schema import TITLE_FIELD

#: Most completions one request may ask for.
MAX_LIMIT = 50
#: Longest prefix looked at (characters).
MAX_PREFIX = 200
#: Index fields whose whole values are completed, and what they are called.
NAME_FIELDS = {"place_name": "place", "people_name": "person"}
#: Fewest letters of an unfinished word before titles are searched by prefix
#: (one letter would expand to thousands of words).
TITLE_MIN_PREFIX = 2

_NAMES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass
class Completion:
    """One completion: the text to search for, what it is, and how common."""

    text: str
    kind: str  # "place", "person" or "title"
    count: int  # articles that name it (1 for a title)
    id: str | None = None  # the article, for a title

    def as_dict(self) -> dict:
        return {"text": self.text, "kind": self.kind, "count": self.count, "id": self.id}


@dataclass
class _Names:
    keys: list[tuple[str, int]]  # (folded text from a word start, entry), sorted
    entries: list[tuple[str, str, int]]  # (display name, kind, count)


def _names(searcher: Searcher) -> _Names:
    reader = searcher.reader()
    cached = _NAMES.get(reader)
    if cached is not None:
        return cached
    entries: list[tuple[str, str, int]] = []
    keys: list[tuple[str, int]] = []
    for fieldname, kind in NAME_FIELDS.items():
        if fieldname not in reader.schema:
            continue
        for term, info in reader.iter_field(fieldname):
            name = term.decode("utf-8") if isinstance(term, bytes) else term
            entry = len(entries)
            entries.append((name, kind, int(info.doc_frequency())))
            words = [t[1] for t in token_tuples(name)]
            for i in range(len(words)):
                keys.append((" ".join(words[i:]), entry))
    keys.sort()
    names = _Names(keys, entries)
    try:
        _NAMES[reader] = names
    except TypeError:
        pass
    return names


def complete(searcher: Searcher, prefix: str, limit: int = 10) -> list[Completion]:
    """Up to *limit* completions of *prefix*: names first (most cited first), then titles."""
    words = [t[1] for t in token_tuples(prefix[:MAX_PREFIX])]
    if not words:
        return []
    unfinished = not prefix[:MAX_PREFIX].endswith((" ", "\u00a0"))
    names = _complete_names(searcher, " ".join(words), limit)
    titles = _complete_titles(searcher, words, unfinished, limit)
    room = max(limit - len(titles), (limit + 1) // 2)
    picked = names[:room]
    return picked + titles[: limit - len(picked)]


def _complete_names(searcher: Searcher, key: str, limit: int) -> list[Completion]:
    names = _names(searcher)
    found: dict[int, bool] = {}  # entry → matched from the name's first word
    i = bisect.bisect_left(names.keys, (key, -1))
    while i < len(names.keys) and names.keys[i][0].startswith(key):
        entry = names.keys[i][1]
        name = names.entries[entry][0]
        starts = fold(name).startswith(key) or found.get(entry, False)
        found[entry] = starts
        i += 1
    ranked = sorted(found, key=lambda e: (not found[e], -names.entries[e][2], names.entries[e][0]))
    out = []
    for entry in ranked[:limit]:
        name, kind, count = names.entries[entry]
        out.append(Completion(name, kind, count))
    return out


def _complete_titles(
    searcher: Searcher, words: list[str], unfinished: bool, limit: int
) -> list[Completion]:
    whole, last = (words[:-1], words[-1]) if unfinished else (words, None)
    parts: list[wq.Query] = [wq.Term(TITLE_FIELD, w) for w in whole]
    short = last is not None and len(last) < TITLE_MIN_PREFIX
    if short and not whole:
        return []
    if last is not None and not short:
        parts.append(wq.Prefix(TITLE_FIELD, last))
    # A one-letter last word would expand to thousands of index words: match the
    # whole words, then keep the titles with a word starting with that letter.
    results = searcher.search(wq.And(parts), limit=limit * 5 if short else limit)
    hits = [h for h in results if not short or _has_word_starting(h.get("title") or "", last)]
    out, seen = [], set()
    for hit in hits[:limit]:
        title = hit.get("title") or ""
        if title and title not in seen:
            seen.add(title)
            out.append(Completion(title, "title", 1, hit.get("id")))
    return out


def _has_word_starting(title: str, letters: str) -> bool:
    return any(t[1].startswith(letters) for t in token_tuples(title))
