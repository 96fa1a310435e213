"""Whole-list BM25F scoring for plain word queries, with numpy.

Whoosh scores a query one matching document at a time, in Python: on 84k VNTC
articles that is ~13 µs per match, and everyday words match most of an archive
(``việt nam`` 16k articles, ``hien co mot so`` 38k), so a two-word query cost
hundreds of milliseconds, nearly all of it spent walking and scoring matches
nobody reads past the tenth.

For the query shapes of :mod:`search.plan` (required words, optional boosts that
only add to the score), this module intersects the words' posting arrays
(:mod:`search.posting_arrays`) with numpy and computes the very sum Whoosh would:
the same BM25F formula, the same global statistics, the same (quantised) field
lengths, the same tie order (lower document number first). Tests compare the two
on real archives hit for hit.

Required phrases are checked on word positions while matching
(:func:`search.proximity.in_a_row`); optional phrases — proximity boosts, the likely
reading — are left to :mod:`search.proximity`, which checks them lazily, best
candidates first, within a rescoring window (:func:`search.proximity.settle`).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Sequence

import numpy as np
from whoosh import query as wq
from whoosh.collectors import TimeLimit
from whoosh.reading import IndexReader
from whoosh.scoring import BM25F
from whoosh.searching import Results, Searcher
from whoosh.sorting import FacetMap

from search import proximity
from search.generations import PerReader, registry
from search.plan import Item, Plan, Shared
from search.posting_arrays import EMPTY_WEIGHTS, field_lengths, postings_of
from search.sorted_ids import (
    EMPTY_IDS,
    SEARCH_STEPS,
    common,
    common_docs,
    in_sorted,
    segment_span,
    union,
)

#: A term's posting list as arrays: sorted segment-local ids and its weight in each.
Postings = tuple[np.ndarray, np.ndarray]


def usable(searcher: Searcher) -> bool:
    """Whether *searcher* scores with BM25F (our formula; its parameters, per field
    too, are read from the scorer Whoosh would use: see :meth:`_TermScores._bm25`)."""
    return type(searcher.weighting) is BM25F


def search(  # noqa: PLR0913, PLR0917 - query.py calls it so
        searcher: Searcher, the_plan: Plan, limit: int,
        allow: np.ndarray | None = None, deadline: float | None = None,
        keep_matches: bool = False) -> CountedResults:
    """The top *limit* documents for *the_plan*, as Whoosh ``Results`` (exact total).

    *allow*: sorted global document numbers a hit must be among (a filter).
    *deadline* (``time.monotonic()``): past it, raise Whoosh's ``TimeLimit`` before
    the next segment, as a time-limited Whoosh collector would. With
    *keep_matches*, the results keep every match (:attr:`CountedResults.matched`:
    facets and the date order are read from them).
    """
    parent = searcher.get_parent()
    ids_parts, score_parts, total = [], [], 0
    matched: list[np.ndarray] = []
    for sub, offset in searcher.leaf_searchers():
        if deadline is not None and time.monotonic() > deadline:
            raise TimeLimit
        reader = sub.reader()
        allowed = None if allow is None else _segment_part(allow, offset, reader.doc_count_all())
        ids, scores, pending = _score_segment(parent, reader, the_plan, allow=allowed)
        total += len(ids)
        if keep_matches:
            matched.append(ids + offset)
        ids, scores = proximity.settle(reader, ids, scores, pending=pending, limit=limit)
        if len(ids):
            ids_parts.append(ids + offset)
            score_parts.append(scores)
    ids = np.concatenate(ids_parts) if ids_parts else EMPTY_IDS
    scores = np.concatenate(score_parts) if score_parts else EMPTY_WEIGHTS
    top = _top(ids, scores, limit)
    hits = [(float(scores[i]), int(ids[i])) for i in top]
    every = (np.concatenate(matched) if matched else EMPTY_IDS) if keep_matches else None
    return CountedResults(searcher, hits, total=total, matched=every)


def no_results(searcher: Searcher) -> CountedResults:
    """An empty ``Results`` (a search cut short before it found anything)."""
    return CountedResults(searcher, [], total=0)


def merged(searcher: Searcher, parts: Sequence[CountedResults], limit: int) -> CountedResults:
    """The *limit* best hits of searches that share no document, as one ``Results``
    (higher score first, then lower document number, as :func:`search` orders; the
    total is theirs summed; their matches, when every part kept them)."""
    top = sorted((hit for r in parts for hit in r.top_n), key=lambda sd: (-sd[0], sd[1]))
    kept = [r.matched for r in parts]
    every = None if any(m is None for m in kept) else np.sort(
        np.concatenate([m for m in kept if m is not None] or [EMPTY_IDS]))
    return CountedResults(searcher, top[:limit], total=sum(len(r) for r in parts),
                          matched=every)


class CountedResults(Results):
    """Whoosh ``Results`` whose match count the scorer already knows.

    Whoosh's own ``Results`` counts its matches by asking the collector that made
    it; the whole-list scorer has no collector, but counted every match while
    intersecting, so ``len()`` returns that count.
    """

    def __init__(self, searcher: Searcher, top_n: list[tuple[float, int]], *, total: int,
                 matched: np.ndarray | None = None,
                 facetmaps: dict[str, FacetMap] | None = None) -> None:
        super().__init__(searcher, None, top_n, facetmaps=facetmaps)
        self.total = total
        #: Every match (sorted global numbers), when kept for facets or the date order.
        self.matched = matched

    def __len__(self) -> int:
        return self.total


def _top(ids: np.ndarray, scores: np.ndarray, limit: int) -> np.ndarray:
    """Indexes of the *limit* best: higher score first, then lower document number."""
    if len(ids) > limit * 4:
        cut = np.partition(scores, len(scores) - limit)[len(scores) - limit]
        candidates = np.flatnonzero(scores >= cut)
    else:
        candidates = np.arange(len(ids))
    order = np.lexsort((ids[candidates], -scores[candidates]))
    return candidates[order[:limit]]


def _segment_part(allow: np.ndarray, offset: int, size: int) -> np.ndarray:
    """The segment-local numbers of the documents of *allow* (sorted global
    numbers) in the segment of *size* documents starting at *offset*."""
    lo, hi = segment_span(allow, offset, size)
    part: np.ndarray = allow[lo:hi] - offset
    return part


def _score_segment(parent: Searcher, reader: IndexReader, the_plan: Plan, *,
                   allow: np.ndarray | None) -> tuple[np.ndarray, np.ndarray,
                                                      list[proximity.Pending]]:
    """Matching segment-local document numbers, their scores without the optional
    phrases, and those phrases, left to check.

    Matches that the plan excludes or that *allow* (sorted segment-local numbers,
    a filter) leaves out are dropped before anything is scored.

    Groups are intersected rarest first (phrases last, as checking word positions
    costs most and is cheapest on the fewest documents); then each term's BM25 is
    computed for the matched documents only, summed in the plan's own order so
    that equal documents get bit-for-bit equal scores in every segment. An
    optional phrase (a proximity boost) is not checked here: its words' scores are
    returned as a pending bonus, for :func:`search.proximity.settle` to check on the best
    candidates only.
    """
    n_required = sum(len(group) for group in the_plan.required)
    every = _Items(reader, the_plan)
    items, words, lists, item_docs = every.items, every.words, every.lists, every.docs
    matched = _kept(reader, the_plan, every.matched(), allow=allow)
    if not len(matched):
        return EMPTY_IDS, EMPTY_WEIGHTS, []
    scores = np.zeros(len(matched), dtype=np.float64)
    pending: list[proximity.Pending] = []
    terms = _TermScores(parent, reader, matched)
    for i, item in enumerate(items):
        phrases = _phrases(reader, item)
        if i >= n_required and (phrases or isinstance(item, wq.And)):
            bonus = _bonus(terms, words[i], lists[i])
            if bonus is not None:
                pending.append(_pending(reader, item, matched, phrases=phrases, bonus=bonus))
        else:
            hit = in_sorted(matched, item_docs(i, matched)) if phrases else None
            _add(scores, terms, words=words[i], lists=lists[i], hit=hit)
    return matched, scores, pending


class _Items:
    """A plan's items in one segment: their words, the words' posting lists (each
    distinct word looked up once) and, once asked, the documents each item
    matches."""

    def __init__(self, reader: IndexReader, the_plan: Plan) -> None:
        self.reader, self.plan = reader, the_plan
        self.items = [it for group in the_plan.required for it in group] + list(the_plan.optional)
        self.words = [_words(it) for it in self.items]
        self.lists = _term_lists(reader, self.words)
        self.found: dict[int, np.ndarray] = {}  # item → the documents it matches

    def docs(self, i: int, within: np.ndarray | None) -> np.ndarray:
        """The documents item *i* matches (among *within*, the first time it is asked)."""
        if i not in self.found:
            self.found[i] = _item_docs(self.reader, self.items[i], self.lists[i], within=within)
        return self.found[i]

    def matched(self) -> np.ndarray:
        """The documents matching the plan's required groups (its exclusion aside)."""
        found = _matched(self.plan, self.items, self.lists, item_docs=self.docs)
        return EMPTY_IDS if found is None else found


def _kept(reader: IndexReader, the_plan: Plan, matched: np.ndarray, *,
          allow: np.ndarray | None) -> np.ndarray:
    """*matched* without the documents the plan excludes, and among *allow* if given."""
    if the_plan.excluded is not None and len(matched):
        matched = matched[~in_sorted(matched, _Items(reader, the_plan.excluded).matched())]
    if allow is not None and len(matched):
        matched = matched[in_sorted(matched, allow)]
    return matched


def _add(scores: np.ndarray, terms: _TermScores, *, words: list[wq.Term],
         lists: list[Postings], hit: np.ndarray | None) -> None:
    """Add an item's ``boost × BM25`` per word to *scores* (per match), in the
    plan's order; with *hit* (a required phrase's mask), in those matches only."""
    for term, postings in zip(words, lists, strict=True):
        if len(postings[0]):
            at, values = terms.of(term, postings)
            if hit is not None:
                keep = hit[at]
                at, values = at[keep], values[keep]
            _added(scores, at, values * term.boost if term.boost != 1 else values)


def _bonus(terms: _TermScores, words: list[wq.Term], lists: list[Postings]) -> np.ndarray | None:
    """An optional phrase's (or "all of" item's) ``boost × BM25`` summed per match,
    where the match holds every word of it (``None``: no match does), for
    :func:`search.proximity.settle` to add where the words also stand in a row."""
    if not all(len(ids) for ids, _ in lists):
        return None
    bonus = np.zeros(len(terms.matched), dtype=np.float64)
    # Of the words only some matches hold: how many each match holds, how many there are.
    held, partly = np.zeros(len(terms.matched), dtype=np.int32), 0
    for term, postings in zip(words, lists, strict=True):
        at, values = terms.of(term, postings)
        if len(at) < len(bonus):
            held[at] += 1
            partly += 1
        _added(bonus, at, values * term.boost if term.boost != 1 else values)
    if partly:
        everywhere = held == partly
        if not everywhere.any():
            return None
        bonus[~everywhere] = 0.0
    return bonus


def _added(into: np.ndarray, at: np.ndarray, values: np.ndarray) -> None:
    """``into[at] += values``; a word every match holds (the query's own words) is
    added to the whole array at once, without gathering and scattering it."""
    if len(at) == len(into):
        into += values
    else:
        into[at] += values


def _term_lists(reader: IndexReader, words: list[list[wq.Term]]) -> list[list[Postings]]:
    """Each item's words' posting lists, each distinct word looked up once: a word
    comes back in the plan's phrases, boosts and likely reading."""
    known: dict[tuple[str, str], Postings] = {}
    for term in (t for ws in words for t in ws):
        key = (term.fieldname, term.text)
        if key not in known:
            known[key] = postings_of(reader, term)
    return [[known[t.fieldname, t.text] for t in ws] for ws in words]


class _TermScores:
    """Per term of one segment's scoring: which matches hold it, and its BM25 in
    those without the term's boost. Worked out once per term, as the same term
    comes back in several items (the word, its phrases, the likely reading), each
    with its own boost."""

    def __init__(self, parent: Searcher, reader: IndexReader, matched: np.ndarray) -> None:
        self.parent, self.reader, self.matched = parent, reader, matched
        self.known: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        self.rank: np.ndarray | None = None  # per document: its index in matched, or -1
        self.every: np.ndarray | None = None  # every match's index
        #: Per field: :func:`_length_norms` of every match (the query's own words').
        self.norms: dict[str, np.ndarray] = {}

    def of(self, term: wq.Term, postings: Postings) -> tuple[np.ndarray, np.ndarray]:
        """``(at, values)``: the indexes of the matches holding the term (ascending),
        and its unboosted BM25 in each."""
        key = (term.fieldname, term.text)
        if key not in self.known:
            at, where = self._held(postings[0])
            self.known[key] = at, self._bm25(term, at=at, weights=postings[1][where])
        return self.known[key]

    def _bm25(self, term: wq.Term, *, at: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """BM25 of *term* (its boost aside) in the matches *at*, as Whoosh computes it."""
        field = self.reader.schema[term.fieldname]
        weights = weights.astype(np.float64)  # cached as float32 or smaller, exactly
        if not field.scorable:  # Whoosh scores these by weight alone
            return weights
        btext = field.to_bytes(term.text)
        idf = self.parent.idf(term.fieldname, btext)
        b, k1 = _parameters(self.parent, term.fieldname, btext)
        norms = _length_norms(self.parent, self.reader, term.fieldname, b=b, k1=k1)
        if len(at) < len(self.matched):
            norms = norms[self.matched[at]]
        else:  # in every match: the norms of the field's matches, picked out once
            if term.fieldname not in self.norms:
                self.norms[term.fieldname] = norms[self.matched]
            norms = self.norms[term.fieldname]
        score: np.ndarray = idf * ((weights * (k1 + 1)) / (weights + norms))
        return score

    def _held(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which matches hold a posting list's documents: ``(at, where)``, indexes
        into the matches and into the list. A list not much longer than the
        matches is walked through a per-document table of the matches (built once
        for the segment); the matches are binary-searched in a longer one."""
        if len(ids) > SEARCH_STEPS * len(self.matched):
            spot = np.searchsorted(ids, self.matched)
            spot[spot == len(ids)] = 0
            at = (ids[spot] == self.matched).nonzero()[0]
            return at, spot[at]
        if self.rank is None:
            self.rank = np.full(self.reader.doc_count_all(), -1, dtype=np.int32)
            self.rank[self.matched] = np.arange(len(self.matched), dtype=np.int32)
        ranks = self.rank[ids]
        where = (ranks >= 0).nonzero()[0]
        if len(where) < len(self.matched):
            return ranks[where], where
        if self.every is None:
            self.every = np.arange(len(self.matched))
        return self.every, where


def _pending(reader: IndexReader, item: Item, matched: np.ndarray, *,
             phrases: list[tuple[str, list[bytes]]], bonus: np.ndarray) -> proximity.Pending:
    """An optional item left to check, with its *bonus* per matched document. A
    likely reading of one word is scaled here by the share of its uses written so;
    one with a phrase is scaled once the phrase is checked, on the few matches
    checked (:func:`search.proximity.settle`), not on every match."""
    if type(item) is not Shared:
        return proximity.Pending(phrases, bonus)
    if phrases:
        return proximity.Pending(phrases, bonus, shared=item)
    held = bonus.nonzero()[0]  # elsewhere the bonus is 0 whatever it is scaled by
    spelled, whole = proximity.spelled(reader, item, matched[held])
    for n in spelled:  # one word: the share of its uses written so
        bonus[held] *= np.clip(np.divide(n, whole, out=np.zeros(len(n)), where=whole > 0),
                               0.0, 1.0)
    return proximity.Pending(phrases, bonus)


def _phrases(reader: IndexReader, item: Item) -> list[tuple[str, list[bytes]]]:
    """The phrases of two or more words in *item*, as (field, words as bytes)."""
    parts = item.subqueries if isinstance(item, wq.And) else [item]
    return [(p.fieldname, [reader.schema[p.fieldname].to_bytes(w) for w in p.words])
            for p in parts if type(p) is wq.Phrase and len(p.words) > 1]


def _matched(the_plan: Plan, items: list[Item], lists: list[list[Postings]], *,
             item_docs: Callable[[int, np.ndarray | None], np.ndarray]) -> np.ndarray | None:
    """The documents holding some item of every required group (``None``: none do)."""
    order, start = [], 0
    for group in the_plan.required:
        stop = start + len(group)
        phrase = any(type(items[i]) is wq.Phrase for i in range(start, stop))
        size = sum(min(len(ids) for ids, _ in lists[i]) for i in range(start, stop))
        order.append((phrase, size, start, stop))
        start = stop
    matched: np.ndarray | None = None
    for _, _, lo, hi in sorted(order):
        docs = [item_docs(i, matched) for i in range(lo, hi)]
        ids = docs[0] if len(docs) == 1 else union(docs)
        matched = ids if matched is None else common(matched, ids)
        if not len(matched):
            return None
    return matched


def _words(item: Item) -> list[wq.Term]:
    """The terms an item scores with (a phrase: each word, with the phrase's boost)."""
    if type(item) is wq.Term:
        return [item]
    if isinstance(item, wq.And):
        return [t for part in item.subqueries for t in _words(part)]
    return [wq.Term(item.fieldname, w, boost=item.boost) for w in item.words]


def _item_docs(reader: IndexReader, item: Item, lists: list[Postings], *,
               within: np.ndarray | None) -> np.ndarray:
    """Documents holding *item* (a phrase: its words in a row), among *within* if given."""
    if type(item) is wq.Term:
        ids: np.ndarray = lists[0][0]
        return ids
    candidates = common_docs([ids for ids, _ in lists], within)
    if not len(candidates) or len(item.words) == 1:
        return candidates
    field = reader.schema[item.fieldname]
    btexts = [field.to_bytes(w) for w in item.words]
    return proximity.in_a_row(reader, item.fieldname, btexts, docs=candidates)[0]


#: Each weighting's (B, K1) per field, as its scorers have them.
_PARAMETERS: weakref.WeakKeyDictionary[BM25F, dict[str, tuple[float, float]]] = (
    weakref.WeakKeyDictionary())


def _parameters(parent: Searcher, fieldname: str, btext: bytes) -> tuple[float, float]:
    """``(B, K1)`` Whoosh scores *fieldname* with: read from the scorer it would make
    (public attributes; B may be set per field), once per weighting and field, as
    making a scorer looks the term up in every segment. *btext* must be in the index."""
    per_field = _PARAMETERS.setdefault(parent.weighting, {})
    if fieldname not in per_field:
        scorer = parent.weighting.scorer(parent, fieldname, btext)
        per_field[fieldname] = (scorer.B, scorer.K1)
    return per_field[fieldname]


#: Per segment reader and field: the :func:`_length_norms` last worked out, and the
#: ``(B, K1, avgfl)`` it was worked out for. One per field: a segment reader that
#: lives on through later commits (a refreshed searcher reuses it) sees a new
#: average length each time, and must not keep one array per commit.
_NORMS: PerReader[dict[str, tuple[tuple[float, float, float], np.ndarray]]] = (
    registry.per_reader("bm25 length norms"))


def _length_norms(parent: Searcher, reader: IndexReader, fieldname: str, *, b: float,
                  k1: float) -> np.ndarray:
    """BM25's length part, ``K1 × ((1 − B) + B × length / average length)``, for
    every document of the segment: it depends on the document and field, not the
    word, so it is worked out once per segment and field (the same operations, in
    the same order, as on a word's documents: the same values) and each word's
    documents pick theirs out."""
    stats = (b, k1, parent.avg_field_length(fieldname) or 1)
    known = _NORMS.get(reader, dict)
    found = known.get(fieldname)
    if found is None or found[0] != stats:
        avgfl = stats[2]
        found = known[fieldname] = (stats, k1 * ((1 - b) + b * field_lengths(reader, fieldname)
                                                 / avgfl))
    return found[1]
