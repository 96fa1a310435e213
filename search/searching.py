"""Collecting the matches of one mapped query: by the fast scorer or a Whoosh collector.

:func:`search.query.run` asks :class:`Searching` for the same request's matches
several times (the query, its typo matches, a correction, relaxations), so the
request's settings are held once here. By relevance, the usual query shapes go to
the whole-list scorer (:mod:`search.bm25`); by date, with facets, or for other
shapes, to a Whoosh collector with the filter and the deadline around it.
:class:`Searching` is also the seam where the scoring tests compare the two, hit for
hit (``tests/same_as_whoosh.py``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from whoosh import query as wq
from whoosh.collectors import (
    Collector,
    FilterCollector,
    TimeLimit,
    TopCollector,
    WrappingCollector,
)
from whoosh.searching import Hit as WhooshHit
from whoosh.searching import Results, Searcher
from whoosh.sorting import Count

from search import bm25, plan
from search.filters import (
    DATE_ORDER,
    FACET_SIZE,
    FACETS,
    facet_counts,
    facet_maps,
    newest_first,
)
from search.limits import Sort
from search.posting_arrays import allowed


class _Deadline(WrappingCollector):
    """Stops collecting with :class:`TimeLimit` once *deadline* has passed.

    Whoosh's own ``TimeLimitCollector`` walks its child's matches itself, which
    bypasses a ``FilterCollector`` around it and so ignores filters; checking the
    clock per collected document keeps the filter in charge.
    """

    def __init__(self, child: Collector, deadline: float) -> None:
        self.child = child
        self.deadline = deadline

    def collect(self, sub_docnum: int) -> Any:
        if time.monotonic() > self.deadline:
            raise TimeLimit
        return self.child.collect(sub_docnum)


@dataclass
class Found:
    """Ranked matches of one or more searches, in order: exact, then typo matches,
    then those lacking one word."""

    parts: list[Results] = field(default_factory=list)  # best first
    partial: bool = False
    typos: int = 0  # the last matches but :attr:`missing_one`: only typo alternatives find them
    missing_one: int = 0  # the very last: they lack one of the words

    @property
    def total(self) -> int:
        return sum(len(r) for r in self.parts)

    @property
    def empty(self) -> bool:
        """Nothing found, and not for lack of time: worth widening the query."""
        return self.total == 0 and not self.partial

    def then(self, more: Found) -> Found:
        """These matches followed by *more* (which are counted as typo matches)."""
        return Found(self.parts + more.parts, self.partial or more.partial, more.total)

    def then_missing_one(self, more: Found) -> Found:
        """These matches followed by *more*, which lack one of the words."""
        return Found(self.parts + more.parts, self.partial or more.partial, self.typos,
                     more.total)

    def page(self, page: int, limit: int) -> list[WhooshHit]:
        hits = [hit for r in self.parts for hit in r]
        return hits[(page - 1) * limit : page * limit]

    def facets(self) -> dict[str, dict[str, int]]:
        merged: dict[str, dict[str, int]] = {}
        for r in self.parts:
            for name, counts in facet_counts(r).items():
                into = merged.setdefault(name, {})
                for key, n in counts.items():
                    into[key] = into.get(key, 0) + n
        return {
            name: dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:FACET_SIZE])
            for name, c in merged.items()
        }


@dataclass(frozen=True, kw_only=True)
class Searching:
    """One request's search settings, to run the query and its fallbacks alike.

    Also the seam where Whoosh's own collectors and the fast scorer are compared
    (``tests/same_as_whoosh.py``): both answer :meth:`run`.
    """

    searcher: Searcher
    limit: int
    page: int = 1
    sort: Sort = "relevance"
    flt: wq.Query | None = None
    facets: bool = False
    time_limit: float | None = None

    def run(self, q: wq.Query) -> Found:
        """The top ``page × limit`` matches of *q* (and whether time ran out).

        By relevance, the usual query shapes (words, phrases, their ORs, boosts)
        are scored whole posting lists at a time (:mod:`search.bm25`: same scores,
        ~10× faster on big archives). Other shapes use a plain top-N collector
        that scores and counts every match once: Whoosh's default (block-quality
        skipping, matcher replacement) skips nothing in our query shape, yet it
        approximates scores once the top N fill up and forgets the match count, so
        ``len(results)`` walks every match a second time.
        """
        limit = self.page * self.limit
        deadline = time.monotonic() + self.time_limit if self.time_limit else None
        the_plan = plan.plan(q) if bm25.usable(self.searcher) else None
        if the_plan is not None and self.sort in ("relevance", "date"):
            found = self._scored(the_plan, limit, deadline)
            finished = found if found.partial else self._finished(found.parts[0])
            if finished is not None:
                return finished
        return self._collected(q, limit, deadline)

    def run_disjoint(self, parts: Sequence[wq.Query], whole: wq.Query) -> Found:
        """:meth:`run` for *whole*, whose matches are those of *parts*, which share
        none: each part goes to the fast scorer, and their best are merged by score,
        or their matches ordered newest first (a shape Whoosh alone would take, such
        as an OR of ANDs, would be walked and scored match by match). When a part
        has another shape, *whole* goes to :meth:`run`."""
        plans = [plan.plan(p) for p in parts]
        if not bm25.usable(self.searcher) or not plans or any(p is None for p in plans):
            return self.run(whole)
        limit = self.page * self.limit
        deadline = time.monotonic() + self.time_limit if self.time_limit else None
        found = [self._scored(p, limit, deadline) for p in plans if p is not None]
        results = bm25.merged(self.searcher, [cast(bm25.CountedResults, f.parts[0])
                                              for f in found], limit)
        if any(f.partial for f in found):
            return Found([results], partial=True)
        return self._finished(results) or self.run(whole)

    def _finished(self, results: Results) -> Found | None:
        """The fast scorer's *results* as the request wants them: newest first by
        date (:func:`~search.filters.newest_first`), with facets when asked
        (:func:`~search.filters.facet_maps`), both read from every match rather
        than by a collector walking and scoring them again. ``None`` when the date
        keys or the facets cannot be read so."""
        matched = cast(bm25.CountedResults, results).matched
        if matched is None:
            return Found([results])
        top = results.top_n
        if self.sort == "date":
            newest = newest_first(self.searcher, matched, self.page * self.limit)
            if newest is None:
                return None
            top = cast(list[tuple[float, int]], newest)
        maps = facet_maps(self.searcher, matched) if self.facets else {}
        if maps is None:
            return None
        return Found([bm25.CountedResults(self.searcher, top, total=len(matched),
                                          matched=matched, facetmaps=maps)])

    def _scored(self, the_plan: plan.Plan, limit: int, deadline: float | None) -> Found:
        """By the fast scorer (:mod:`search.bm25`); every match kept when the facets
        or the date order are read from them (:meth:`_finished`)."""
        allow = allowed(self.searcher, self.flt) if self.flt is not None else None
        keep = self.facets or self.sort == "date"
        try:
            return Found([bm25.search(self.searcher, the_plan, limit, allow, deadline, keep)])
        except TimeLimit:
            return Found([bm25.no_results(self.searcher)], partial=True)

    def _collected(self, q: wq.Query, limit: int, deadline: float | None) -> Found:
        """By a Whoosh collector: by date, with facets, or a shape the fast path lacks."""
        collector: Collector
        if self.sort == "date" or self.facets:
            kwargs: dict[str, Any] = {"limit": limit}
            if self.sort == "date":
                kwargs.update(sortedby=DATE_ORDER, reverse=True)
            if self.facets:
                kwargs.update(groupedby=FACETS, maptype=Count)
            collector = self.searcher.collector(**kwargs)
        else:
            collector = TopCollector(limit, usequality=False, replace=0)
        if deadline is not None:
            collector = _Deadline(collector, deadline)
        if self.flt is not None:
            collector = FilterCollector(collector, allow=self.flt)
        partial = False
        try:
            self.searcher.search_with_collector(q, collector)
        except TimeLimit:
            partial = True
        return Found([collector.results()], partial)
