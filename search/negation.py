"""``a ANDNOT b`` that leaves out every document of ``b``.

Whoosh's ``AndNotMatcher`` checks its first document against ``b`` only when ``b``
happens to start on that very document: when ``b``'s postings begin earlier in the
segment and reach the first document of ``a`` later, that document is kept. On a
real archive ``"chinh phu" -tuyen`` then listed an article saying "tuyên truyền"
(one per segment at most, on every path that runs Whoosh's matchers: date sort,
facets, typo matches). :class:`Without` is Whoosh's ``AndNot`` with a matcher that
settles the first document too, built through the public extension points (a query
subclass overriding ``matcher``, a matcher subclass using only the matcher API).
"""

from __future__ import annotations

from whoosh import query as wq
from whoosh.matching import AndNotMatcher, Matcher
from whoosh.searching import SearchContext, Searcher


class CheckedAndNotMatcher(AndNotMatcher):
    """Whoosh's ``AndNotMatcher``, but its first document is checked against ``b``."""

    def __init__(self, a: Matcher, b: Matcher) -> None:
        super().__init__(a, b)
        self._settle_first()

    def reset(self) -> None:
        super().reset()
        self._settle_first()

    def _settle_first(self) -> None:
        a, b = self.a, self.b
        if a.is_active() and b.is_active() and b.id() < a.id():
            b.skip_to(a.id())
            if b.is_active() and b.id() == a.id():
                self.next()  # moves past every further document of b too


class Without(wq.AndNot):
    """``a ANDNOT b`` (same scoring: only ``a`` scores) that excludes all of ``b``."""

    def matcher(self, searcher: Searcher, context: SearchContext | None = None) -> Matcher:
        scored = self.a.matcher(searcher, context)
        excluded = self.b.matcher(searcher, searcher.boolean_context())
        return CheckedAndNotMatcher(scored, excluded)
