"""Which queries the whole-list scorer takes: the :class:`Plan` of a Whoosh query.

Most queries have one shape: required words (all must occur in ``text_f``) and
optional boosts (title, exact-accent words) that only add to the score. :func:`plan`
recognises that shape — with phrases, ``Or`` alternatives (typos, abbreviations) and
``a ANDNOT b`` within it — as required groups and optional items, for
:mod:`search.bm25` to score whole posting lists at a time. Everything else
(patterns, other boolean shapes, facets, date order) is left to Whoosh: :func:`plan`
returns ``None`` for it.

It also holds :class:`Shared`, the query node of the likely reading: an "all of"
item that :mod:`search.query` builds and whose score is scaled per article by how
its words are written (:func:`search.proximity.spelled`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, TypeAlias

from whoosh import query as wq
from whoosh.reading import IndexReader

#: What a plan is made of: a word, or a phrase of words in a row (slop 1); an
#: optional item may also be an ``And`` of these ("all of": the likely reading's
#: exact words where the words typed stand together).
Item: TypeAlias = wq.Term | wq.Phrase | wq.And


@dataclass(frozen=True)
class Plan:
    """A query this module can score: required groups and optional items.

    Each required group is a tuple of alternative items (an ``Or``; usually just
    one): a document matches when every group has at least one item in it. An
    item is a term or an exact phrase. A document's score is the sum of
    ``boost × BM25`` over the terms of every item it contains, required or
    optional — exactly Whoosh's And/Or/AndMaybe sum (a phrase scores as the
    intersection of its words, as Whoosh's ``SpanNear2`` does).
    """

    required: tuple[tuple[Item, ...], ...]
    optional: tuple[Item, ...]
    #: Documents matching this plan are left out (``a ANDNOT b``: typo matches
    #: that are not exact matches).
    excluded: Plan | None = None


def plan(q: wq.Query) -> Plan | None:
    """The :class:`Plan` of *q*, or ``None`` when *q* has another shape."""
    if isinstance(q, wq.AndNot) and q.boost == 1:
        kept, left_out = plan(q.a), plan(q.b)
        if kept is None or left_out is None or kept.excluded is not None:
            return None
        return Plan(kept.required, kept.optional, left_out)
    optional: tuple[Item, ...] = ()
    if isinstance(q, wq.AndMaybe):
        boosts = _items(q.b, all_of=True)
        if boosts is None:
            return None
        q, optional = q.a, boosts
    parts = q.subqueries if type(q) is wq.And and q.boost == 1 else [q]
    groups = []
    for part in parts:
        group = _items(part)
        if not group:
            return None
        groups.append(group)
    if not groups:
        return None
    return Plan(tuple(groups), optional)


def _is_item(q: wq.Query) -> bool:
    if type(q) is wq.Term:
        return True
    return type(q) is wq.Phrase and q.slop == 1 and bool(q.words) and q.char_ranges is None


class Share(NamedTuple):
    """How much of a word's use (*whole*, a term) its *parts* are (summed weights),
    or, with *rest*, what is left once they are taken away."""

    parts: tuple[wq.Term, ...]
    whole: wq.Term
    rest: bool = False


class Shared(wq.And):
    """An "all of" item whose score, per document, is scaled by the product of its
    :attr:`shares` (each between 0 and 1).

    For the likely reading: an article holding the folded phrase ``ba dinh`` and
    the exact word ``đình`` somewhere ("gia đình") is not yet an article saying
    "Ba Đình"; the share of its ``dinh`` written ``đình``, and of its ``ba``
    written without marks (not "bà Đinh"), says how likely it is. Whoosh itself
    scores it as the plain ``And`` (all present, no scaling).
    """

    def __init__(self, subqueries: Sequence[wq.Query], shares: Sequence[Share] = (),
                 boost: float = 1.0) -> None:
        super().__init__(subqueries, boost=boost)
        self.shares = tuple(shares)

    def apply(self, fn: Callable[[wq.Query], wq.Query]) -> Shared:
        return Shared([fn(q) for q in self.subqueries], self.shares, boost=self.boost)

    def normalize(self) -> Shared:
        return self  # built whole: merging or dropping a part would change its sum

    def simplify(self, ixreader: IndexReader) -> Shared:
        return self

    def __eq__(self, other: object) -> bool:
        same: bool = super().__eq__(other)
        return same and self.shares == getattr(other, "shares", None)

    def __hash__(self) -> int:
        whole: int = super().__hash__()
        return whole ^ hash(self.shares)


def _is_all_of(q: wq.Query) -> bool:
    parts = len(q.subqueries) if type(q) in (wq.And, Shared) else 0
    return (parts > 1 or type(q) is Shared and parts == 1) and q.boost == 1 and all(
        _is_item(s) for s in q.subqueries)


def _items(q: wq.Query, all_of: bool = False) -> tuple[Item, ...] | None:
    """The items of a plain ``Or`` of items (or one item), else ``None``; with
    *all_of*, an ``And`` of items counts as one item too."""
    def fits(s: wq.Query) -> bool:
        return _is_item(s) or all_of and _is_all_of(s)

    if fits(q):
        return (q,)
    if type(q) is wq.Or and q.boost == 1 and q.scale is None and q.minmatch in (0, None):
        if q.subqueries and all(fits(s) for s in q.subqueries):
            return tuple(q.subqueries)
    return None
