"""One article as one row of the cluster's real-time index, and back.

vnsearch stays the analyser (:mod:`search.sphinx.rtindex`): an article reaches
searchd as its words already normalised by :func:`search.normalize.token_tuples`,
the same tokens the local index holds, written as space-separated text that
searchd only has to split on spaces:

* ``title`` / ``body`` — every word folded (``Đà Nẵng`` → ``da nang``): what every
  query matches, like the local ``text_f`` / ``title_f``;
* ``title_exact`` / ``body_exact`` — every word in its exact form (lower case,
  canonical tone: ``đà nẵng``), position-aligned with the folded field (token *i*
  of one is token *i* of the other), for exact-reading boosts and ``-bà``.

Title and body are separate fields, so a phrase cannot span them, as the local
index's part gap ensures. A glued word (``NamTừ``, or ``TUYểN`` as broken casing
writes ``TUYỂN``) is indexed as its parts in place, as locally; the local index
also keeps the glued whole at the first part's position, which a space-separated
field cannot express without shifting every later position, so the cluster
appends each whole at the end of the field, behind a ``_`` token (:data:`GAP`):
it matches as a word (``tuyển``, ``namtừ``), and counts in the vocabulary, but
a phrase through it (``"x namtừ"``) matches only locally.

A word holding a character outside searchd's charset (:data:`rtindex.CHARSET_TABLE`,
e.g. ``中``, or a fold that yields punctuation) would be cut in two by searchd, and
only in one of the two aligned fields; :func:`cluster_word` spells such a
character ``_<hex>_`` (``_`` never occurs inside a vnsearch word), so every word
stays one token. Queries must spell their words the same way.

The row is built from the article's *stored* form (:func:`stored_article`): the
JSON kept in the ``stored`` attribute (what is shown and highlighted) is all a row
needs, so a replica is repaired from a sibling's stored JSON alone
(:func:`row_from_stored`), and a repaired row is the same as a written one.
"""

from __future__ import annotations

import calendar
import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from search.archive import Record
from search.documents import stored_meta
from search.extract import Article
from search.normalize import place_key, token_tuples
from search.sphinx.connection import Value
from search.sphinx.rtindex import ATTRIBUTES, CHARSET_TABLE, FIELDS
from search.sphinx.topology import document_id

#: The columns of an ``INSERT``/``REPLACE`` of a row, in the order :class:`Row` holds them.
COLUMNS: tuple[str, ...] = ("id", *FIELDS, *(name for name, _ in ATTRIBUTES))

#: A word's (folded, exact) forms: what the vocabulary counts.
WordForms = tuple[str, str]


def _charset_pattern(table: str) -> re.Pattern[str]:
    """A regex matching one character *outside* a searchd ``charset_table``."""
    ranges = []
    for item in (part.strip() for part in table.split(",")):
        low, _, high = item.partition("..")
        ranges.append((_code(low), _code(high or low)))
    body = "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b != a else "")
                   for a, b in ranges)
    return re.compile(f"[^{body}]")


def _code(spec: str) -> int:
    """``U+00E0`` or a single character, as a code point."""
    return int(spec[2:], 16) if spec.upper().startswith("U+") else ord(spec)


_OUTSIDE = _charset_pattern(CHARSET_TABLE)


def cluster_word(word: str) -> str:
    """*word* as one searchd token: characters outside the charset as ``_<hex>_``."""
    if _OUTSIDE.search(word) is None:
        return word
    return _OUTSIDE.sub(lambda m: f"_{ord(m.group()):x}_", word)


class _ClusterWords(dict[str, str]):
    """word → :func:`cluster_word` (a memo: an archive has a few tens of thousands of
    distinct words, and the row builder's hot loop is one lookup per token)."""

    def __missing__(self, word: str) -> str:
        safe = cluster_word(word)
        if len(self) < _MEMO_LIMIT:
            self[word] = safe
        return safe


_MEMO_LIMIT = 500_000
_CLUSTER_WORDS = _ClusterWords()


def place_hash(name: str) -> int:
    """The ``places``/``provinces`` attribute value of a place name: a 63-bit hash of
    its folded key (:func:`search.normalize.place_key`), as ``place:`` filters use."""
    return document_id(place_key(name))


@dataclass(frozen=True)
class Tokens:
    """One text as aligned folded and exact token strings, and its words' counts."""

    folded: str
    exact: str
    words: Counter[WordForms]


def tokens_of(text: str) -> Tokens:
    """The aligned folded/exact fields of *text*, one token per word position.

    A glued word's whole (which shares its first part's position) is moved to the
    end, behind a :data:`GAP` token (see the module docstring).
    """
    toks = token_tuples(text)
    wholes: list[tuple[str, str, int, int, int]] = []
    if toks and toks[-1][4] + 1 != len(toks):  # glued words: set their wholes apart
        last = len(toks) - 1
        wholes = [t for i, t in enumerate(toks) if i < last and toks[i + 1][4] == t[4]]
        toks = [t for i, t in enumerate(toks) if i == last or toks[i + 1][4] != t[4]]
    exact = [t[0] for t in toks]
    folded = [t[1] for t in toks]
    safe = _CLUSTER_WORDS.__getitem__
    words = Counter(zip(folded, exact, strict=True))
    folded_text, exact_text = " ".join(map(safe, folded)), " ".join(map(safe, exact))
    if wholes:
        words.update((t[1], t[0]) for t in wholes)
        folded_text += "".join(f" {GAP} {safe(t[1])}" for t in wholes)
        exact_text += "".join(f" {GAP} {safe(t[0])}" for t in wholes)
    return Tokens(folded_text, exact_text, words)


#: The token set before each glued word's whole at the end of a field: no query
#: word is ``_``, so a whole never stands next to a word it could form a phrase with.
GAP = "_"


@dataclass(frozen=True)
class Row:
    """One article as the cluster holds it: searchd's id, the values of
    :data:`COLUMNS`, and the words it adds to the vocabulary."""

    id: int
    doc_id: str
    content_hash: str
    values: tuple[Value, ...]
    words: Counter[WordForms]
    size: int  # bytes of its text values, near what it adds to a statement


def stored_article(record: Record, root: str, article: Article) -> dict[str, Any]:
    """The JSON kept in a row's ``stored`` attribute: every stored field of the
    local index (:func:`search.documents.to_document`), body and lede in clear."""
    return {
        "id": record.id,
        "path": record.path,
        "root": root,
        "hash": record.hash,
        "title": article.title,
        "body": article.body,
        "summary": article.summary,
        "date": article.date.isoformat() if article.date else None,
        "author": article.author,
        "source": article.source,
        "people": ", ".join(article.people) if article.people else None,
        "places": list(article.places),
        "word_count": article.word_count,
        "meta": stored_meta(record, article),
    }


def to_row(record: Record, root: str, article: Article) -> Row:
    """The row of an analysed article (*root*: the PATH it was indexed under)."""
    return row_from_stored(stored_article(record, root, article))


def row_from_stored(stored: dict[str, Any]) -> Row:
    """The row whose ``stored`` JSON is *stored* (a new article, or a sibling
    replica's copy when repairing)."""
    title = tokens_of(stored["title"])
    body = tokens_of(stored["body"])
    date = _parse_date(stored.get("date"))
    provinces = (stored.get("meta") or {}).get("provinces_2025") or []
    by_column: dict[str, Value] = {
        "id": document_id(stored["id"]),
        "title": title.folded,
        "title_exact": title.exact,
        "body": body.folded,
        "body_exact": body.exact,
        "doc_id": stored["id"],
        "content_hash": stored["hash"],
        "path": stored["path"],
        "root": stored["root"],
        "date": _timestamp(date),
        "year": date.year if date else 0,
        "word_count": int(stored.get("word_count") or 0),
        "author": stored.get("author") or "",
        "source": stored.get("source") or "",
        "places": sorted({place_hash(p) for p in stored.get("places") or []}),
        "provinces": sorted({place_hash(p) for p in provinces}),
        "stored": json.dumps(stored, ensure_ascii=False, separators=(",", ":")),
    }
    size = sum(len(v.encode("utf-8")) for v in by_column.values() if isinstance(v, str))
    return Row(id=int(by_column["id"]),  # type: ignore[arg-type]  # document_id's int
               doc_id=stored["id"], content_hash=stored["hash"],
               values=tuple(by_column[c] for c in COLUMNS), words=title.words + body.words,
               size=size + ROW_OVERHEAD)


#: Bytes a row adds to a statement beyond its text values (numbers, quotes, commas).
ROW_OVERHEAD = 512


def _parse_date(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _timestamp(date: datetime | None) -> int:
    """searchd's ``timestamp`` (unsigned seconds since 1970, the date read as UTC):
    0 for no date; a date before 1970 becomes 1 (the ``year`` attribute keeps it)."""
    if date is None:
        return 0
    return max(1, calendar.timegm(date.timetuple()))


def stored_of(value: object) -> dict[str, Any]:
    """A ``stored`` attribute as searchd returns it (text or bytes), parsed.

    Control characters inside its strings are accepted (``strict=False``): the
    JSON written escapes them, yet on all 84k VNTC articles searchd handed back one
    unescaped, and an article must still be readable (its snippet, its page)."""
    text = value.decode("utf-8") if isinstance(value, bytes) else str(value)
    data = json.loads(text, strict=False)
    if not isinstance(data, dict):
        raise ValueError("a stored article must be a JSON object")
    return data


def article(value: object) -> dict[str, Any]:
    """A ``stored`` attribute as :func:`search.results.get_article` gives an article
    (date as a datetime), ready for :func:`search.results.article_json`."""
    data = stored_of(value)
    data["date"] = _parse_date(data.get("date"))
    return data
