"""The service: what every front end asks of the library, checked and decided once.

The CLI and the HTTP server are shells around this module: they parse their inputs,
call it and render what it returns. Whatever must be the same for both lives here:
which notices a result carries (a correction, a suggestion, a fallback, typo
matches, a page past the last, no results), so neither front end decides them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from search.query import SearchResult

NoticeKind = Literal["corrected", "suggestion", "fallback", "typos", "past_last_page", "no_results"]


@dataclass(frozen=True, kw_only=True)
class Notice:
    """Something the user should be told about a result, decided once for every front end."""

    kind: NoticeKind
    #: corrected/suggestion: the suggested query (front ends link or bold it)
    query: str | None = None
    relaxed: str | None = None  # fallback: "all_but_one" or "any_word"
    count: int | None = None  # typos: hits one typo away; past_last_page: the last page

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "query": self.query, "relaxed": self.relaxed,
                "count": self.count}


def notices(result: SearchResult) -> tuple[Notice, ...]:
    """The notices of *result*, in the order front ends show them.

    A correction (the query found nothing; these hits are for the suggestion) or
    else a plain suggestion; a fallback (not every word matched); then either no
    results at all or a page past the last; and how many hits match only a word one
    typo away.
    """
    found: list[Notice] = []
    if result.corrected:
        found.append(Notice(kind="corrected", query=result.suggestion))
    elif result.suggestion:
        found.append(Notice(kind="suggestion", query=result.suggestion))
    if result.fallback:
        found.append(Notice(kind="fallback", relaxed=result.relaxed))
    if not result.total:
        found.append(Notice(kind="no_results"))
    elif not result.hits:
        found.append(Notice(kind="past_last_page", count=result.pages))
    if result.typos:
        found.append(Notice(kind="typos", count=result.typos))
    return tuple(found)
