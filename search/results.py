"""What a search answers: the ranked hits, the page of them, and stored articles as JSON.

Every front end renders these same values (the CLI as text or ``--json``, the HTTP
API as JSON, the page through its templates), so their shape lives in one place:
:class:`Hit` and :class:`SearchResult` each have one ``as_dict()`` for JSON, and
:func:`article_json` is the one JSON shape of a stored article.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from whoosh.searching import Searcher

from search.highlight import Snippet
from search.normalize import nfc
from search.schema import META, PEOPLE, PLACES, WORD_COUNT, stored_body, stored_summary

if TYPE_CHECKING:
    from search.service import Notice


@dataclass(kw_only=True)
class Hit:
    """One ranked result, ready for any front end."""

    id: str
    path: str
    title: str
    date: datetime | None
    author: str | None
    source: str | None
    score: float
    snippets: list[Snippet]
    title_marks: Snippet
    fields: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": self.path,
            "title": self.title,
            "date": self.date.isoformat() if self.date else None,
            "author": self.author,
            "source": self.source,
            "score": round(self.score, 4),
            "snippets": [s.as_dict() for s in self.snippets],
            **self.fields,
        }


@dataclass(frozen=True, kw_only=True)
class SearchResult:
    """A page of hits and what produced it.

    ``notices`` are filled by :func:`search.service.search`, the one place that
    decides what the user is told; a result straight from the engine has none.
    """

    query: str
    total: int
    page: int
    limit: int
    took_ms: float
    hits: list[Hit]
    sort: str = "relevance"
    fallback: bool = False  # all-words found nothing; these hits match fewer words
    relaxed: str | None = None  # with fallback: "all_but_one" or "any_word"
    facets: dict[str, dict[str, int]] | None = None
    partial: bool = False  # the time limit cut the search short
    suggestion: str | None = None  # "did you mean": the query the user probably meant
    corrected: bool = False  # the query found nothing; these hits are for the suggestion
    typos: int = 0  # hits that match only through typo tolerance (ranked after exact ones)
    missing_one: int = 0  # hits that lack one of the words (ranked last)
    notices: tuple[Notice, ...] = ()

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))

    def as_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "limit": self.limit,
            "took_ms": round(self.took_ms, 2),
            "sort": self.sort,
            "fallback": self.fallback,
            "relaxed": self.relaxed,
            "partial": self.partial,
            "suggestion": self.suggestion,
            "corrected": self.corrected,
            "typos": self.typos,
            "missing_one": self.missing_one,
            "hits": [h.as_dict() for h in self.hits],
            "notices": [n.as_dict() for n in self.notices],
            **({"facets": self.facets} if self.facets is not None else {}),
        }


def extra_fields(stored: dict[str, Any], *, summary: str | None = None) -> dict[str, Any]:
    """Extracted metadata beyond the core hit fields, as JSON-ready values; the
    *summary* when the caller has unpacked it already (it is stored compressed)."""
    meta = stored.get(META) or {}
    return {
        "places": list(stored.get(PLACES) or []),
        "people": [p for p in (stored.get(PEOPLE) or "").split(", ") if p],
        "summary": stored_summary(stored) if summary is None else summary,
        "word_count": stored.get(WORD_COUNT),
        **{k: v for k, v in meta.items() if _jsonable(v)},
    }


def _jsonable(value: object) -> bool:
    return isinstance(value, str | int | float | bool | list | dict) or value is None


def get_article(searcher: Searcher, doc_id: str) -> dict[str, Any] | None:
    """The stored fields of one article, or ``None`` for an unknown id.

    An id prefix that names exactly one article also works (``001_f4567b4d3bda134d``
    for ``001_f4567b4d3bda134d.txt``).
    """
    doc_id = nfc(doc_id)  # ids are NFC; a terminal or browser may send NFD
    stored = searcher.document(id=doc_id)
    if stored is None and doc_id:
        candidates = [
            t.decode("utf-8") if isinstance(t, bytes) else t
            for _, t in zip(range(2), searcher.reader().expand_prefix("id", doc_id), strict=False)
        ]
        if len(candidates) == 1:
            stored = searcher.document(id=candidates[0])
    if not stored:
        return None
    article = dict(stored)
    article["body"] = stored_body(article)
    article["summary"] = stored_summary(article)
    article.pop("body_z", None)
    return article


def article_json(article: dict[str, Any]) -> dict[str, Any]:
    """An article's stored fields as one flat, JSON-ready dict (every extracted field)."""
    data = {k: v for k, v in article.items() if k != "meta"}
    data.update(article.get(META) or {})
    data["people"] = [p for p in str(data.get("people") or "").split(", ") if p]
    data.setdefault("places", [])
    for key in ("date", "author", "source"):  # one shape for every article, as in hits
        data.setdefault(key, None)
    if isinstance(data.get("date"), datetime):
        data["date"] = data["date"].isoformat()
    return data
