"""Widening a query that finds too little: typo tolerance, then relaxation.

Both answer "the words as typed are not enough" without giving up the words:
:func:`with_typos` lets long words also match index words one edit away (their
articles follow the exact ones), and :func:`all_but_one` lets any one word of a
plain query be missing before :func:`search.query.run` falls back to any word. They
are rewrites of an already mapped query (:mod:`search.query`), so the fast scorer
takes them like any other.
"""

from __future__ import annotations

from whoosh import query as wq
from whoosh.reading import IndexReader

from search import lexicon
from search.lexicons import Lexicon
from search.negation import Without
from search.schema import MATCH_FIELD, TITLE_FIELD


def required_part(q: wq.Query) -> wq.Query:
    """The part of a parsed query that decides what matches."""
    return q.a if isinstance(q, wq.AndMaybe) else q


#: Typo tolerance joins in when the exact words match fewer articles than this.
TYPO_WHEN_FEWER = 50
#: Shortest word (folded letters) that typo tolerance applies to.
TYPO_MIN_LETTERS = 5
#: Shortest word the archive lacks that typo tolerance applies to: as typed it
#: matches nothing, so its neighbours take no place from an exact match.
TYPO_MIN_LETTERS_UNKNOWN = 4
#: Weight of a typo-tolerant match relative to the word typed.
TYPO_BOOST = 0.5


def typo_alternatives(words: Lexicon, folded: str) -> list[str]:
    """The archive words a typed word (folded) also matches under typo tolerance:
    those one edit away, most frequent first, for a word of
    :data:`TYPO_MIN_LETTERS`+ letters (shorter ones have too many neighbours), or
    of :data:`TYPO_MIN_LETTERS_UNKNOWN`+ letters when the archive lacks it
    (``chíh``: without them, only a right did-you-mean could find ``chính``)."""
    if not folded.isalpha() or len(folded) < TYPO_MIN_LETTERS_UNKNOWN:
        return []
    if len(folded) < TYPO_MIN_LETTERS and words.frequency(folded) > 0:
        return []
    return [w for w, _ in words.near_words(folded)]


def with_typos(q: wq.Query, source: Lexicon | IndexReader) -> wq.Query | None:
    """*q* with each required word of 5+ letters (4+ the archive lacks) also
    matching words one edit away (:func:`typo_alternatives`, from *source*: the
    archive's vocabulary, or the local index's reader).

    Only the words that decide the match are widened (not phrases, not excluded
    words); ``None`` when no word has a near neighbour in the index.
    """
    words = lexicon.of(source)
    changed = False

    def widen(node: wq.Query) -> wq.Query:
        nonlocal changed
        if isinstance(node, wq.Term) and node.fieldname in (MATCH_FIELD, TITLE_FIELD):
            near = typo_alternatives(words, node.text)
            if near:
                changed = True
                return wq.Or([node] + [
                    wq.Term(node.fieldname, w, boost=TYPO_BOOST) for w in near
                ])
            return node
        if isinstance(node, wq.AndNot):
            return Without(widen(node.a), node.b)
        if isinstance(node, wq.And | wq.Or) and not isinstance(node, wq.Not):
            return type(node)([widen(c) for c in node.subqueries], boost=node.boost)
        return node

    required = widen(required_part(q))
    if not changed:
        return None
    return wq.AndMaybe(required, q.b) if isinstance(q, wq.AndMaybe) else required


#: Longest query (in words) that gets the all-but-one relaxation (n intersections).
MAX_RELAX_WORDS = 8
#: Shortest query (in words) that gets it.
MIN_RELAX_WORDS = 3


def all_but_one(q: wq.Query) -> wq.Query | None:
    """*q* with any one of its required words allowed to be missing, or ``None``.

    Only for plain all-words queries of :func:`may_leave_one_out` length; excluded
    words stay excluded. Whoosh's ``Or(minmatch=…)`` is not implemented, so this is
    the OR of the ANDs that each leave one word out (:func:`left_out`).
    """
    found = left_out(q)
    return None if found is None else found[1]


def left_out(q: wq.Query) -> tuple[list[wq.Query], wq.Query] | None:
    """*q* as one query per word left out (with *q*'s boosts and exclusions each),
    and their OR (:func:`all_but_one`); ``None`` for other shapes and lengths.

    Without the articles that hold every word, the parts share no article (one
    lacking word *i* matches only the query leaving *i* out), so each can be scored
    on its own by the whole-list scorer and their best merged
    (:meth:`search.searching.Searching.run_disjoint`): Whoosh's collector would
    walk and score every match of the OR one by one.
    """
    found = _left_out(q)
    if found is None:
        return None
    ands, excluded = found

    def as_q(part: wq.Query) -> wq.Query:
        kept = part if excluded is None else Without(part, excluded)
        return wq.AndMaybe(kept, q.b) if isinstance(q, wq.AndMaybe) else kept

    return [as_q(part) for part in ands], as_q(wq.Or(ands))


def _left_out(q: wq.Query) -> tuple[list[wq.Query], wq.Query | None] | None:
    """The ANDs that each leave one of *q*'s required words out (its negated words
    kept in each), and what *q* excludes besides; ``None`` for other shapes and for
    a length :func:`may_leave_one_out` refuses."""
    required = required_part(q)
    excluded = None
    if isinstance(required, wq.AndNot):  # "a b c -d": relax the words, keep -d
        required, excluded = required.a, required.b
    if not isinstance(required, wq.And):
        return None
    words = [c for c in required.subqueries if not isinstance(c, wq.Not)]
    negations = [c for c in required.subqueries if isinstance(c, wq.Not)]
    if not may_leave_one_out(len(words)):
        return None
    ands: list[wq.Query] = [wq.And([w for j, w in enumerate(words) if j != i] + negations)
                            for i in range(len(words))]
    return ands, excluded


def may_leave_one_out(words: int) -> bool:
    """Whether a plain query of *words* words is relaxed to all but one of them:
    from :data:`MIN_RELAX_WORDS` (two words less one is a single everyday word) to
    :data:`MAX_RELAX_WORDS` (one intersection a word left out)."""
    return MIN_RELAX_WORDS <= words <= MAX_RELAX_WORDS


def has_many_words(q: wq.Query) -> bool:
    """Whether *q* requires several words (so dropping some can find more)."""
    return isinstance(required_part(q), wq.And | wq.AndNot)

