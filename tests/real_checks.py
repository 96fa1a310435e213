"""What a correct answer over the real-archive index looks like.

The real-archive tier (``test_real_cli.py``, ``test_real_http.py``) runs every CLI
command and HTTP endpoint with every option over :func:`tests.conftest.real_archive`.
Both front ends answer a search with the same JSON object, so one set of checks
serves both: this module holds the queries (drawn from the archive's own titles), the
options (one name each, rendered as CLI flags or HTTP parameters) and
:func:`check_search`, which asserts what must hold of any answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from search.dates import date_bounds, date_range
from search.normalize import fold, terms
from tests.conftest import RealArchive

#: A query no article matches (nor any word one typo away).
NOTHING = "qzxqzx wvkwvk"
#: Words every made-up article holds; the made-up articles without a place also hold MARKER.
MADEUP_WORDS = "xtmadeup"
MARKER = "quxvodanh"


@dataclass(frozen=True)
class Option:
    """One search option set, as CLI flags or HTTP parameters, plus a query suffix
    for the in-query filter syntax (``place:"…"``, ``date:…``)."""

    params: dict[str, object] = field(default_factory=dict)
    suffix: str = ""

    def cli_args(self) -> list[str]:
        args: list[str] = []
        for name, value in self.params.items():
            if value is True:
                args.append(f"--{name}")
            else:
                args += [f"--{name}", str(value)]
        return args

    def http_params(self) -> dict[str, str]:
        return {k: "true" if v is True else str(v) for k, v in self.params.items()}

    @property
    def page(self) -> int:
        return int(self.params.get("page", 1))  # type: ignore[call-overload]

    @property
    def limit(self) -> int:
        return int(self.params.get("limit", 10))  # type: ignore[call-overload]


#: Every search option, alone and in combination.
OPTIONS: dict[str, Option] = {
    "plain": Option(),
    "facets": Option({"facets": True}),
    "sort-date": Option({"sort": "date"}),
    "sort-relevance": Option({"sort": "relevance"}),
    "page-2": Option({"page": 2}),
    "limit-3": Option({"limit": 3}),
    "limit-100": Option({"limit": 100}),
    "exact": Option({"exact": True}),
    "place": Option({"place": "Hà Nội"}),
    "place-unaccented": Option({"place": "da nang"}),
    "since": Option({"since": "2023"}),
    "until": Option({"until": "2023-12"}),
    "since-until": Option({"since": "2022-01", "until": "2024-03-31"}),
    "author": Option({"author": "nguyen van an"}),
    "source": Option({"source": "Tin Mới"}),
    "in-query-place": Option(suffix=' place:"Hà Nội"'),
    "in-query-date": Option(suffix=" date:2024"),
    "in-query-range": Option(suffix=" date:[2023-06 TO 2024-06]"),
    "all-together": Option(
        {"facets": True, "sort": "date", "place": "Đà Nẵng", "since": "2024", "limit": 2},
    ),
}

#: Query kinds, resolved against the archive by :func:`query_text`.
QUERIES = ("accented", "unaccented", "phrase", "excluded", "nothing", "madeup", "marker",
           "nfd", "filters-only")


def title_words(real: RealArchive, doc_id: str) -> list[str]:
    """The first run of 3+ consecutive words (accented, lowercase, letters only) of an
    article's first line, so that any slice of them is a phrase of the title."""
    first_line = real.texts[doc_id].strip().split("\n", 1)[0]
    runs: list[list[str]] = [[]]
    for word in terms(first_line):
        if word.isalpha():
            runs[-1].append(word)
        else:
            runs.append([])
    return next((run for run in runs if len(run) >= 3), [])


def source_article(real: RealArchive, group: str = "baomoi") -> str:
    """The article of *group* that title-word queries are drawn from."""
    return next(i for i in real.groups[group] if len(title_words(real, i)) >= 4)


def query_text(real: RealArchive, kind: str, group: str = "baomoi") -> str:
    """The query of one *kind*, drawn from the titles of the archive's *group*."""
    words = title_words(real, source_article(real, group))
    nfd_words = title_words(real, real.nfd[0])
    return {
        "accented": " ".join(words[:2]),
        "unaccented": fold(" ".join(words[:2])),
        "phrase": '"' + " ".join(words[:3]) + '"',
        "excluded": f"{fold(' '.join(words[:2]))} -{fold(words[2])}",
        "nothing": NOTHING,
        "madeup": MADEUP_WORDS,
        "marker": MARKER,
        "nfd": " ".join(nfd_words[:3]),
        "filters-only": "",
    }[kind]


def folded_terms(text: str) -> list[str]:
    return terms(text, folded=True)


#: The in-query filters (``place:"Hà Nội"``, ``date:[2023 TO 2024]``): not words to show.
_FILTER_SYNTAX = re.compile(r'(place|date):("[^"]*"|\[[^\]]*\]|\S+)')


def _positive_words(query: str) -> set[str]:
    """Folded words a hit must show: the query's words minus excluded ones and syntax."""
    words: set[str] = set()
    for part in _FILTER_SYNTAX.sub(" ", query).replace('"', " ").split():
        if part.startswith("-") or ":" in part:
            continue
        words.update(folded_terms(part))
    return words


def _excluded_words(query: str) -> set[str]:
    return {w for part in query.split() if part.startswith("-") for w in folded_terms(part[1:])}


def check_search(real: RealArchive, data: dict, query: str, option: Option) -> None:
    """Everything that must hold of one search answer over the real archive."""
    assert data["page"] == option.page and data["limit"] == option.limit
    total, hits = data["total"], data["hits"]
    on_page = max(0, min(option.limit, total - (option.page - 1) * option.limit))
    assert len(hits) == on_page, (total, len(hits))
    for hit in hits:
        assert hit["id"] in real.texts, f"{hit['id']} is not an article of the archive"
    _check_filters(hits, option)
    if option.params.get("sort") == "date":
        _check_newest_first(hits)
    assert ("facets" in data) == bool(option.params.get("facets"))
    for counts in (data.get("facets") or {}).values():
        assert all(0 < n <= total for n in counts.values())
    if not (data["fallback"] or data["corrected"]):
        exact_hits = hits[: max(0, total - data["typos"] - (option.page - 1) * option.limit)]
        _check_matches(real, exact_hits, query)
    if query == NOTHING:
        assert total == 0 and hits == []


def _check_filters(hits: list[dict], option: Option) -> None:
    """Every hit carries the place, date, author and source the options ask for."""
    params, suffix = option.params, option.suffix
    place = params.get("place") or ("Hà Nội" if "place:" in suffix else None)
    for hit in hits:
        if place:
            held = hit["places"] + hit.get("provinces_2025", [])
            assert fold(str(place)) in {fold(p) for p in held}, (hit["id"], held)
        low, high = _date_bounds(option)
        if low or high:
            assert hit["date"], f"{hit['id']} has no date but passed a date filter"
            when = datetime.fromisoformat(hit["date"])
            assert (low is None or when >= low) and (high is None or when <= high), hit["id"]
        for name in ("author", "source"):
            if params.get(name):
                assert set(folded_terms(str(params[name]))) <= set(
                    folded_terms(hit[name] or "")
                ), (hit["id"], hit[name])


def _date_bounds(option: Option) -> tuple[datetime | None, datetime | None]:
    """The date range an option set allows (inclusive), from its options or its suffix."""
    params, suffix = option.params, option.suffix
    low = date_bounds(str(params["since"]))[0] if params.get("since") else None
    high = date_bounds(str(params["until"]))[1] if params.get("until") else None
    if "date:[" in suffix:
        low, high = date_range(suffix.split("[", 1)[1].rstrip("]"))
    elif "date:" in suffix:
        low, high = date_bounds(suffix.split("date:", 1)[1])
    return low, high


def _check_newest_first(hits: list[dict]) -> None:
    """Dates never increase down the list, and undated articles come after dated ones."""
    dates = [h["date"] for h in hits]
    dated = [d for d in dates if d]
    assert dated == sorted(dated, reverse=True), dates
    assert dates[: len(dated)] == dated, f"an undated article is listed before a dated one: {dates}"


def _check_matches(real: RealArchive, hits: list[dict], query: str) -> None:
    """Hits hold the query's words (folded), show some of them, and lack excluded ones."""
    wanted, excluded = _positive_words(query), _excluded_words(query)
    phrase_part = _FILTER_SYNTAX.sub(" ", query)
    phrase = folded_terms(phrase_part.split('"')[1]) if phrase_part.count('"') == 2 else []
    for hit in hits:
        text = folded_terms(real.texts[hit["id"]])
        assert not excluded & set(text), f"{hit['id']} holds an excluded word of {query!r}"
        if phrase:
            assert " ".join(phrase) in " ".join(text), f"{hit['id']} lacks the phrase {phrase}"
        if not wanted:
            continue
        marked = {
            w for s in hit["snippets"] for a, b in s["matches"] for w in folded_terms(s["text"][a:b])
        }
        assert marked <= wanted, f"{hit['id']}: marked {marked - wanted}, not words of {query!r}"
        shown = set(folded_terms(hit["title"])) | {
            w for s in hit["snippets"] for w in folded_terms(s["text"])
        }
        assert shown & wanted, f"{hit['id']}: neither title nor snippets show {wanted}"
