"""The cluster's best matches re-ranked as the local engine ranks them.

searchd decides which articles match, and its expression ranker
(:data:`search.sphinx.sphinxql.RANKER`) orders them; but its factors cannot say
the local BM25F: Sphinx 2.2.11 keeps no field lengths for real-time indexes
(``bm25a``/``bm25f`` see 0.5 for every article), its ``bm25`` saturates no term by
length, ``sum()`` iterates fields, not words, and each shard weighs a word by its
own frequencies. Tuning that ranker stopped at 88% known-item top-1 agreement with
the local engine at 3,000 and 10,000 VNTC articles, falling as the archive grew.

So the cluster engine reads the stored text of searchd's best :data:`WINDOW`
matches and scores them here with the local engine's own parts, and the page
follows that order:

* the query is the local one (:func:`search.query.parse`, with the same accent
  readings) and its :func:`search.plan.plan`: required groups, optional boosts;
* an article's words, their positions and the fields' lengths are what the local
  index holds: each scored field of :func:`search.schema.build_schema` analysed by
  that field's own analyser, lengths quantised as Whoosh stores them;
* a term scores Whoosh's :func:`whoosh.scoring.bm25` with the parameters of
  Whoosh's default :class:`~whoosh.scoring.BM25F` (the local engine's weighting)
  and Whoosh's own IDF (:meth:`~whoosh.scoring.WeightingModel.idf`), over the
  whole archive's statistics (:class:`Statistics`: its articles, each term's
  document frequency as the cluster counts it, the fields' average lengths);
* an item adds its terms' scores where it is present (a phrase: its words in a
  row), an "all of" item where all of its parts are, the likely reading's
  (:class:`search.plan.Shared`) scaled by the share of its words written so, as
  :mod:`search.bm25` and :mod:`search.proximity` add them.

Matches below the window keep searchd's order (the local engine, which checks
phrase boosts on its best 64 candidates only, is itself approximate that far
down). Queries whose plan this cannot score (another shape, a metadata field)
keep searchd's order throughout.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

from whoosh import query as wq
from whoosh.analysis import Composable
from whoosh.scoring import BM25F, bm25
from whoosh.util.numeric import byte_to_length, length_to_byte

from search import plan
from search.schema import BODY, MATCH_FIELD, TITLE, TITLE_FIELD, build_schema, match_text

#: searchd's best matches re-scored by the local formula (the rest keep searchd's
#: order). More candidates cost their stored text and its analysis (~1 ms an
#: article). Known-item top-1 agreement (bench/cluster.py's queries) with 10 / 20 /
#: 30 / 50: at 10,000 articles 99.5% / 99.7% / 100% / -, at 84,132 (100 items)
#: 90.5% / 90.9% / 91.2% / 92.2% for ~121 / 134 / 140 / 155 ms a query; most of
#: what is left there is duplicate articles with equal scores.
WINDOW = 30

#: The local fields a plan may score, and where searchd counts a term of each:
#: the folded title and body, the folded title, the exact title, the exact body.
COUNTED_IN: dict[str, str] = {
    MATCH_FIELD: "@(title,body)",
    TITLE_FIELD: "@title",
    TITLE: "@title_exact",
    BODY: "@body_exact",
}

#: The local engine's weighting: Whoosh's default BM25F (its B and K1 are read here).
WEIGHTING = BM25F()

#: A term of a plan: its local field and word.
TermKey = tuple[str, str]


@dataclass(frozen=True)
class Statistics:
    """The whole archive's statistics BM25F reads, under the names Whoosh's
    weighting asks a searcher for them (:meth:`whoosh.scoring.WeightingModel.idf`
    calls ``get_parent``, ``doc_frequency`` and ``doc_count_all``)."""

    documents: int
    #: (local field, word) → how many articles hold the word in that field.
    frequencies: Mapping[TermKey, int]
    #: Local field → its average length over the archive (words).
    average_lengths: Mapping[str, float]

    def get_parent(self) -> Statistics:
        return self

    def doc_count_all(self) -> int:
        return self.documents

    def doc_frequency(self, fieldname: str, text: str) -> int:
        return self.frequencies.get((fieldname, text), 0)


@dataclass(frozen=True)
class Analysed:
    """One article's scored fields as the local index holds them: each word's
    positions per field, and each field's (quantised) length."""

    positions: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    lengths: dict[str, float] = field(default_factory=dict)
    #: Each field's length before quantising (what its average is made of).
    words: dict[str, int] = field(default_factory=dict)

    def frequency(self, fieldname: str, word: str) -> int:
        """How many times *word* occurs in the field (its BM25 weight)."""
        return len(self.positions.get(fieldname, {}).get(word, ()))


@cache
def _analyser(fieldname: str) -> Composable:
    """The analyser the local schema indexes a field with."""
    analyser: Composable = build_schema()[fieldname].analyzer
    return analyser


def analyse(title: str, body: str, terms: Collection[TermKey] = ()) -> Analysed:
    """An article's scored fields, from its title and body as stored: every field's
    length, and the positions of *terms* (a plan's: :func:`plan_terms`), as the
    field's own analyser yields them to the local index."""
    values = {MATCH_FIELD: match_text(title, body), TITLE_FIELD: title, TITLE: title,
              BODY: body}
    out = Analysed()
    for fieldname, value in values.items():
        wanted = {word for name, word in terms if name == fieldname}
        at: dict[str, list[int]] = {}
        length = 0
        for token in _analyser(fieldname)(value, positions=True):
            length += 1
            if token.text in wanted:
                at.setdefault(token.text, []).append(token.pos)
        out.positions[fieldname] = at
        out.words[fieldname] = length
        out.lengths[fieldname] = byte_to_length(length_to_byte(length)) if length else 0.0
    return out


def scorable(the_plan: plan.Plan | None) -> bool:
    """Whether every term of *the_plan* is in a field this module scores."""
    return the_plan is not None and all(
        fieldname in COUNTED_IN for fieldname, _ in plan_terms(the_plan))


def plan_terms(the_plan: plan.Plan) -> set[TermKey]:
    """Every (field, word) *the_plan* scores: what :class:`Statistics` must count."""
    items = [it for group in the_plan.required for it in group] + list(the_plan.optional)
    out = {(t.fieldname, str(t.text)) for it in items for t in _terms(it)}
    for it in items:
        if isinstance(it, plan.Shared):
            for share in it.shares:
                out.update((t.fieldname, str(t.text)) for t in (*share.parts, share.whole))
    return out


def scores(the_plan: plan.Plan, articles: Sequence[Analysed], stats: Statistics) -> list[float]:
    """Each article's local score for *the_plan* (0 for one it does not match)."""
    items = [it for group in the_plan.required for it in group] + list(the_plan.optional)
    return [sum(_item_score(it, article, stats) for it in items) for article in articles]


def _terms(item: wq.Query) -> list[wq.Term]:
    """The terms an item scores with (a phrase: each word, with the phrase's boost),
    as :mod:`search.bm25` reads them."""
    if type(item) is wq.Term:
        return [item]
    if isinstance(item, wq.And):
        return [t for part in item.subqueries for t in _terms(part)]
    return [wq.Term(item.fieldname, w, boost=item.boost) for w in item.words]


def _item_score(item: wq.Query, article: Analysed, stats: Statistics) -> float:
    """What *item* adds to *article*'s score: its terms' BM25 where it is present
    (every part; a phrase's words in a row), a likely reading's scaled by its shares."""
    parts = item.subqueries if isinstance(item, wq.And) else [item]
    times = 0
    for part in parts:
        if type(part) is wq.Phrase and len(part.words) > 1:
            times = _in_a_row(article, part.fieldname, [str(w) for w in part.words])
            if not times:
                return 0.0
        elif not all(article.frequency(t.fieldname, str(t.text)) for t in _terms(part)):
            return 0.0
    value = sum(_term_score(t, article, stats) for t in _terms(item))
    if isinstance(item, plan.Shared):
        value *= _share_factor(item, article, times)
    return value


def _term_score(term: wq.Term, article: Analysed, stats: Statistics) -> float:
    """``boost × BM25`` of *term* in *article*, as Whoosh's BM25F scores it."""
    tf = article.frequency(term.fieldname, str(term.text))
    if not tf:
        return 0.0
    idf = WEIGHTING.idf(stats, term.fieldname, str(term.text))
    avgfl = stats.average_lengths.get(term.fieldname) or 1
    score = float(bm25(idf, tf, article.lengths[term.fieldname], avgfl, WEIGHTING.B,
                       WEIGHTING.K1))
    return score * float(term.boost)


def _share_factor(item: plan.Shared, article: Analysed, times: int) -> float:
    """The likely reading's scale in *article*: per share, the part of its word's
    uses written so; against the phrase's occurrences (*times*) when the item has
    a phrase, else against the word's uses (:func:`search.proximity.spelled`'s
    last whole, as :mod:`search.bm25` divides by it)."""
    counts: list[float] = []
    whole = 0.0
    for share in item.shares:
        whole = float(article.frequency(share.whole.fieldname, str(share.whole.text)))
        parts = float(sum(article.frequency(t.fieldname, str(t.text)) for t in share.parts))
        counts.append(max(0.0, whole - parts) if share.rest else parts)
    factor = 1.0
    for n in counts:
        if times:
            factor *= min(1.0, n / times)
        else:
            factor *= min(1.0, max(0.0, n / whole)) if whole > 0 else 0.0
    return factor


def _in_a_row(article: Analysed, fieldname: str, words: list[str]) -> int:
    """How many times *words* stand in a row in the field (distinct end positions,
    as :func:`search.proximity.in_a_row` counts them)."""
    at = article.positions.get(fieldname, {})
    last = len(words) - 1
    ends: set[int] | None = None
    for k, word in enumerate(words):
        here = {p + (last - k) for p in at.get(word, ())}
        ends = here if ends is None else ends & here
        if not ends:
            return 0
    return len(ends or ())


def order(the_plan: plan.Plan, articles: Sequence[Analysed],
          stats: Statistics) -> list[tuple[int, float]]:
    """``(index into articles, score)``, best first; equal scores keep their order."""
    found = scores(the_plan, articles, stats)
    ranked = sorted(range(len(found)), key=lambda i: -found[i])
    return [(i, found[i]) for i in ranked]


def length_ratios(articles: Sequence[Analysed]) -> dict[str, float]:
    """Each scored field's words per word of the folded title and body, summed over
    *articles* (a sample): the ratio that turns the archive's word total into each
    field's average length."""
    totals: Counter[str] = Counter()
    for article in articles:
        totals.update(article.words)
    base = totals[MATCH_FIELD] or 1
    return {name: totals[name] / base for name in COUNTED_IN}
