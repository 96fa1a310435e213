"""The HTML pages of ``vnsearch serve``: the search page and the article page.

The markup lives in Jinja2 templates (``search/templates``), the CSS and script in
``search/static``; this module turns what the library returns (a
:class:`~search.results.SearchResult`, an article's fields, the query's
:class:`~search.highlight.Marking`) into the small values the templates show, so the
templates only place them and the HTTP routes only gather them.

Why one escaping function: every string a template prints goes through
``html.escape`` (the environment's ``finalize``), the same function
:meth:`Snippet.html` uses around its ``<mark>`` tags, so article text, the query and
URLs are escaped alike and an article containing ``<script>`` shows it as text.
Autoescaping stays on as well; only :meth:`Snippet.html` output is trusted markup.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from search.filters import Filters
from search.highlight import Marking, Snippet, mark_all
from search.results import Hit, SearchResult
from search.service import deepest_page

#: Results per page of the search page.
PAGE_SIZE = 10
#: Page links shown on each side of the current page ("1 … 4 5 [6] 7 8 … 20").
PAGE_WINDOW = 2
#: Values listed per facet.
FACET_VALUES = 10
#: Places shown in a hit's meta line.
HIT_PLACES = 3
#: The search page's facets: name, label.
FACETS = (("place", "Nơi"), ("year", "Năm"))
#: What the sort control offers: value, label.
SORT_LABELS = (("relevance", "Liên quan nhất"), ("date", "Mới nhất"))
#: Paragraphs of a stored body are separated by a blank line.
PARAGRAPH = "\n\n"


def _escape(value: object) -> object:
    """Every printed string escaped by ``html.escape`` (see the module docstring)."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return Markup(html.escape(value))
    return value


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("search", "templates"),
        autoescape=True,
        finalize=_escape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["marked"] = lambda snippet: Markup(snippet.html())
    return env


def render(template: str, **values: Any) -> str:
    """Template *template* (a file of ``search/templates``) filled with *values*."""
    return _environment().get_template(template).render(**values)


@dataclass(frozen=True, kw_only=True)
class PageQuery:
    """What the search page was asked for: its URL parameters.

    ``year`` is what a year facet link sets; ``since``/``until`` (the date inputs)
    take precedence over it where given.
    """

    q: str = ""
    page: int = 1
    place: str | None = None
    year: str | None = None
    since: str | None = None
    until: str | None = None
    sort: str = "relevance"

    @property
    def empty(self) -> bool:
        """Nothing to search for: the page shows only the form."""
        return not (self.q.strip() or self.place or self.year or self.since or self.until)

    @property
    def filtered(self) -> bool:
        """Whether a place, a year or a date range restricts the search."""
        return bool(self.place or self.year or self.dated)

    def unfiltered(self, q: str) -> str:
        """The URL of a search for *q* in the same order, without any filter."""
        return PageQuery(q=q, sort=self.sort).link()

    @property
    def dated(self) -> bool:
        """Whether the date inputs restrict the search (the year facet then steps aside)."""
        return bool(self.since or self.until)

    def filters(self) -> Filters:
        """The library filters this page asks for."""
        if self.dated:
            return Filters(place=self.place, since=self.since, until=self.until)
        return Filters(place=self.place, since=self.year, until=self.year)

    def link(self, **changes: object) -> str:
        """The URL of this page with *changes*; a change to anything but ``page``
        goes back to page 1. Defaults (page 1, relevance) are left out."""
        if "page" not in changes:
            changes["page"] = 1
        moved = replace(self, **changes)  # type: ignore[arg-type]
        params = {
            "q": moved.q, "page": moved.page if moved.page != 1 else None,
            "place": moved.place, "year": None if moved.dated else moved.year,
            "since": moved.since, "until": moved.until,
            "sort": moved.sort if moved.sort != "relevance" else None,
        }
        return "/?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})


@dataclass(frozen=True, kw_only=True)
class FacetLink:
    """One value of a facet: a link that filters by it, or clears it when it is on."""

    value: str
    count: int
    href: str
    on: bool


@dataclass(frozen=True, kw_only=True)
class HitView:
    """One hit as the results list shows it."""

    href: str
    title: Snippet
    meta: str
    snippets: Sequence[Snippet]


def search_page(asked: PageQuery, result: SearchResult | None = None, *,
                error: str | None = None) -> str:
    """The search page: the form, and *result* (with the notices the service decided
    for it) or *error*."""
    if result is None:
        return render("search.html", asked=asked, sorts=SORT_LABELS, result=None, error=error,
                      title="vnsearch" if asked.empty or error else f"{asked.q} — vnsearch")
    shown = asked.q if not result.corrected else result.suggestion or asked.q
    last = min(result.pages, deepest_page(result.limit))
    return render(
        "search.html", asked=asked, sorts=SORT_LABELS, result=result, error=None,
        title=f"{asked.q} — vnsearch",
        notices={n.kind: n for n in result.notices},
        facets=facet_rows(asked, result),
        hits=[hit_view(hit, shown) for hit in result.hits],
        pages=page_numbers(min(result.page, last), last),
        last_page=last,
        relaxations=unfiltered_links(asked),
    )


def facet_rows(asked: PageQuery, result: SearchResult) -> list[tuple[str, list[FacetLink]]]:
    """Each facet with values: its label and links (clicking one that is on clears it)."""
    rows = []
    for name, label in FACETS:
        current = getattr(asked, name) if name != "year" or not asked.dated else None
        # A year replaces a date range (the range would otherwise win over it).
        dates: dict[str, object] = {"since": None, "until": None} if name == "year" else {}
        links = [
            FacetLink(value=value, count=count, on=current == value,
                      href=asked.link(**{name: None if current == value else value}, **dates))
            for value, count in list((result.facets or {}).get(name, {}).items())[:FACET_VALUES]
        ]
        if links:
            rows.append((label, links))
    return rows


def hit_view(hit: Hit, query: str) -> HitView:
    """*hit* for the results list; its link carries *query* so the article page marks it."""
    places = ", ".join(hit.fields.get("places", [])[:HIT_PLACES])
    meta = [hit.date.strftime("%d/%m/%Y") if hit.date else None, places or None,
            hit.source, hit.author]
    return HitView(href=article_link(hit.id, query), title=hit.title_marks,
                   meta=" · ".join(m for m in meta if m), snippets=hit.snippets)


def article_link(doc_id: str, query: str = "") -> str:
    """The article page of *doc_id*, marking *query*'s words when given."""
    path = "/a/" + quote(doc_id)
    return path + "?" + urlencode({"q": query}) if query.strip() else path


def page_numbers(current: int, last: int, window: int = PAGE_WINDOW) -> list[int | None]:
    """Page numbers to link: the first, the last and *window* around *current*;
    ``None`` stands for the gap between them."""
    if last <= 1:
        return []
    wanted = {1, last, *range(max(1, current - window), min(last, current + window) + 1)}
    out: list[int | None] = []
    for n in sorted(wanted):
        if out and n - (out[-1] or 0) > 1:
            out.append(None)
        out.append(n)
    return out


def unfiltered_links(asked: PageQuery) -> list[tuple[str, str]]:
    """For a page with no results: the same words without each filter in use."""
    links = []
    if asked.place:
        links.append((f"bỏ lọc nơi «{asked.place}»", asked.link(place=None)))
    if asked.year and not asked.dated:
        links.append((f"bỏ lọc năm {asked.year}", asked.link(year=None)))
    if asked.dated:
        links.append(("bỏ lọc ngày", asked.link(since=None, until=None, year=None)))
    if asked.q.strip() and len(links) > 1:
        links.append(("bỏ mọi bộ lọc", asked.unfiltered(asked.q)))
    return links


def article_page(article: dict[str, Any], *, query: str = "",
                 marking: Marking | None = None) -> str:
    """The article page: its fields (:func:`search.results.article_json`), the title and
    body marked with *marking* (the query's words, as the results page marks them)."""
    marks = marking or Marking(set(), set())
    options = {"phrases": marks.phrases, "readings": marks.readings}
    title, text = str(article.get("title", "")), str(article.get("body", ""))
    if query.strip():
        heading = mark_all(title, marks.exact, marks.folded, **options)
        body = mark_all(text, marks.exact, marks.folded, **options)
    else:  # as stored: no NFC pass when there is nothing to mark
        heading, body = Snippet(title, []), Snippet(text, [])
    meta = [str(article.get("date") or "")[:10], article.get("author"), article.get("source"),
            ", ".join(article.get("places") or [])]
    return render(
        "article.html", title=title, query=query,
        heading=heading,
        meta=" · ".join(str(m) for m in meta if m),
        paragraphs=paragraphs(body),
        back=PageQuery(q=query).link() if query.strip() else "/",
        marked=len(body.matches),
    )


def paragraphs(text: Snippet) -> list[Snippet]:
    """*text* cut at its blank lines, each paragraph keeping its own marks."""
    out = []
    start = 0
    while start <= len(text.text):
        end = text.text.find(PARAGRAPH, start)
        end = len(text.text) if end < 0 else end
        if end > start:
            inside = [(a - start, b - start) for a, b in text.matches if start <= a and b <= end]
            out.append(Snippet(text.text[start:end], inside))
        start = end + len(PARAGRAPH)
    return out


def not_found_page() -> str:
    """The article page of an id the index does not hold."""
    return render("not_found.html", title="Không tìm thấy")
