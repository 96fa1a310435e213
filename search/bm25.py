"""Whole-list BM25F scoring for plain word queries, with numpy.

Whoosh scores a query one matching document at a time, in Python: on 84k VNTC
articles that is ~13 µs per match, and everyday words match most of an archive
(``việt nam`` 16k articles, ``hien co mot so`` 38k), so a two-word query cost
hundreds of milliseconds, nearly all of it spent walking and scoring matches
nobody reads past the tenth.

Most queries have one shape: required words (all must occur in ``text_f``) and
optional boosts (title, exact-accent words) that only add to the score. For that
shape this module reads each word's posting list as arrays — block by block,
decoded once and kept in a bounded cache, since the same everyday words recur in
query after query — intersects them with numpy, and computes the very sum Whoosh
would: the same BM25F formula, the same global statistics, the same (quantised)
field lengths, the same tie order (lower document number first). Tests compare
the two on real archives hit for hit.

Phrases (word positions checked on arrays too) and ``a ANDNOT b`` fit the same
plan. Optional phrases — proximity boosts, the likely reading (a :class:`Shared`
"all of" item, scaled per article by how its words are written) — are checked
lazily, best candidates first, within a rescoring window (:func:`_settle`).
Everything else (patterns, other boolean shapes, facets, date order) is left to
Whoosh: :func:`plan` returns ``None`` for it.
"""

from __future__ import annotations

import threading
import time
import weakref
import zlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain
from pickle import loads
from typing import NamedTuple

import numpy as np
from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher
from whoosh.collectors import TimeLimit
from whoosh.matching.wrappers import FilterMatcher
from whoosh.scoring import BM25F
from whoosh.searching import Results, Searcher
from whoosh.util.numeric import _length_byte_cache

#: Bytes of decoded arrays kept (the everyday words' postings and positions).
CACHE_BYTES = 256 * 1024 * 1024
#: Whoosh's quantised field lengths: stored byte → length.
_BYTE_TO_LENGTH = np.asarray(_length_byte_cache, dtype=np.float64)

_EMPTY_IDS = np.empty(0, dtype=np.int64)
_EMPTY_WEIGHTS = np.empty(0, dtype=np.float64)


#: What a plan is made of: a word, or a phrase of words in a row (slop 1); an
#: optional item may also be an ``And`` of these ("all of": the likely reading's
#: exact words where the words typed stand together).
Item = wq.Term | wq.Phrase | wq.And


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

    def __init__(self, subqueries, shares: Sequence[Share] = (), boost: float = 1.0):
        super().__init__(subqueries, boost=boost)
        self.shares = tuple(shares)

    def apply(self, fn) -> Shared:
        return Shared([fn(q) for q in self.subqueries], self.shares, boost=self.boost)

    def normalize(self) -> Shared:
        return self  # built whole: merging or dropping a part would change its sum

    def simplify(self, ixreader) -> Shared:
        return self

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other) and self.shares == getattr(other, "shares", None)

    def __hash__(self) -> int:
        return super().__hash__() ^ hash(self.shares)


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


def usable(searcher: Searcher) -> bool:
    """Whether *searcher* scores with plain BM25F (our formula) on whoosh3 segments."""
    w = searcher.weighting
    return type(w) is BM25F and not w._field_B and (w.B, w.K1) == (0.75, 1.2)


def search(searcher: Searcher, the_plan: Plan, limit: int,
           allow: np.ndarray | None = None, deadline: float | None = None) -> Results:
    """The top *limit* documents for *the_plan*, as Whoosh ``Results`` (exact total).

    *allow*: sorted global document numbers a hit must be among (a filter).
    *deadline* (``time.monotonic()``): past it, raise Whoosh's ``TimeLimit`` before
    the next segment, as a time-limited Whoosh collector would.
    """
    parent = searcher.get_parent()
    ids_parts, score_parts, total = [], [], 0
    for sub, offset in searcher.leaf_searchers():
        if deadline is not None and time.monotonic() > deadline:
            raise TimeLimit
        reader = sub.reader()
        ids, scores, pending = _score_segment(parent, reader, the_plan)
        keep = None
        if the_plan.excluded is not None and len(ids):
            keep = ~in_sorted(ids, _score_segment(parent, reader, the_plan.excluded)[0])
        if allow is not None and len(ids):
            allowed_here = in_sorted(ids + offset, allow)
            keep = allowed_here if keep is None else keep & allowed_here
        if keep is not None:
            ids, scores = ids[keep], scores[keep]
            pending = [p._replace(bonus=p.bonus[keep]) for p in pending]
        total += len(ids)
        ids, scores = _settle(reader, ids, scores, pending, limit)
        if len(ids):
            ids_parts.append(ids + offset)
            score_parts.append(scores)
    ids = np.concatenate(ids_parts) if ids_parts else _EMPTY_IDS
    scores = np.concatenate(score_parts) if score_parts else _EMPTY_WEIGHTS
    top = _top(ids, scores, limit)
    results = Results(searcher, None, [(float(scores[i]), int(ids[i])) for i in top])
    results._total = total
    return results


def no_results(searcher: Searcher) -> Results:
    """An empty ``Results`` (a search cut short before it found anything)."""
    results = Results(searcher, None, [])
    results._total = 0
    return results


def _top(ids: np.ndarray, scores: np.ndarray, limit: int) -> np.ndarray:
    """Indexes of the *limit* best: higher score first, then lower document number."""
    if len(ids) > limit * 4:
        cut = np.partition(scores, len(scores) - limit)[len(scores) - limit]
        candidates = np.flatnonzero(scores >= cut)
    else:
        candidates = np.arange(len(ids))
    order = np.lexsort((ids[candidates], -scores[candidates]))
    return candidates[order[:limit]]


class _Pending(NamedTuple):
    """An optional item not checked yet: the phrases it needs, and what it adds to
    each match that holds them."""

    phrases: list[tuple[str, list[bytes]]]  # (field, words) that must stand in a row
    bonus: np.ndarray  # per match: boost × BM25 of its words; 0 where a word is missing
    #: Per share of a :class:`Shared` item with a phrase: how many times each match
    #: writes the word that way (its bonus is scaled by the share of the phrase's
    #: occurrences that can be so written, once they are counted).
    spelled: tuple[np.ndarray, ...] = ()


def _score_segment(parent: Searcher, reader,
                   the_plan: Plan) -> tuple[np.ndarray, np.ndarray, list[_Pending]]:
    """Matching segment-local document numbers, their scores without the optional
    phrases, and those phrases, left to check.

    Groups are intersected rarest first (phrases last, as checking word positions
    costs most and is cheapest on the fewest documents); then each term's BM25 is
    computed for the matched documents only, summed in the plan's own order so
    that equal documents get bit-for-bit equal scores in every segment. An
    optional phrase (a proximity boost) is not checked here: its words' scores are
    returned as a pending bonus, for :func:`_settle` to check on the best
    candidates only.
    """
    n_required = sum(len(group) for group in the_plan.required)
    items = [it for group in the_plan.required for it in group] + list(the_plan.optional)
    words = [_words(it) for it in items]
    lists = [[_postings_of(reader, t) for t in ws] for ws in words]
    found: dict[int, np.ndarray] = {}  # item → the documents it matches

    def item_docs(i: int, within: np.ndarray | None) -> np.ndarray:
        if i not in found:
            found[i] = _item_docs(reader, items[i], lists[i], within)
        return found[i]

    matched = _matched(the_plan, items, lists, item_docs)
    if matched is None:
        return _EMPTY_IDS, _EMPTY_WEIGHTS, []
    scores = np.zeros(len(matched), dtype=np.float64)
    pending: list[_Pending] = []
    for i, item in enumerate(items):
        phrases = _phrases(reader, item)
        deferred = i >= n_required and (phrases or isinstance(item, wq.And))
        hit = in_sorted(matched, item_docs(i, matched)) if phrases and not deferred else None
        bonus = np.zeros(len(matched), dtype=np.float64) if deferred else scores
        present = np.ones(len(matched), dtype=bool)
        for term, (ids, weights) in zip(words[i], lists[i], strict=True):
            if not len(ids):
                present[:] = False
                continue
            where, here = _found_at(ids, matched)
            present &= here
            if hit is not None:
                here &= hit
            bonus[here] += _bm25(parent, reader, term, matched[here], weights[where[here]])
        if deferred and present.any():
            bonus[~present] = 0.0
            spelled: tuple[np.ndarray, ...] = ()
            if type(item) is Shared:
                spelled, whole = _spelled(reader, item, matched)
                if not phrases:  # one word: the share of its uses written so
                    for n in spelled:
                        bonus *= np.clip(np.divide(n, whole, out=np.zeros(len(n)),
                                                   where=whole > 0), 0.0, 1.0)
                    spelled = ()
            pending.append(_Pending(phrases, bonus, spelled))
    return matched, scores, pending


def _spelled(reader, item: Shared,
             docs: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Per share of *item*: how many times each of *docs* writes the word that way
    (its parts, or for a *rest* share what is left of the whole); and the whole's
    count (of the last share).

    Word counts cannot tell which of an article's ``da`` stands in ``da nang``;
    they bound it: an article writing ``đà`` at least as often as the phrase occurs
    can say "Đà Nẵng" every time (however many ``đã`` it also has), one writing
    ``bà`` everywhere and ``ba`` nowhere cannot say "Ba Đình".
    """
    out = []
    whole = np.zeros(len(docs), dtype=np.float64)
    for share in item.shares:
        whole = _weights_in(reader, share.whole, docs)
        parts = sum((_weights_in(reader, t, docs) for t in share.parts),
                    np.zeros(len(docs), dtype=np.float64))
        out.append(np.maximum(0.0, whole - parts) if share.rest else parts)
    return tuple(out), whole


def _weights_in(reader, term: wq.Term, docs: np.ndarray) -> np.ndarray:
    """A term's weight (occurrences) in each of *docs* (0 where it is absent)."""
    ids, weights = _postings_of(reader, term)
    out = np.zeros(len(docs), dtype=np.float64)
    at, here = _found_at(ids, docs)
    out[here] = weights[at[here]]
    return out


def _phrases(reader, item: Item) -> list[tuple[str, list[bytes]]]:
    """The phrases of two or more words in *item*, as (field, words as bytes)."""
    parts = item.subqueries if isinstance(item, wq.And) else [item]
    return [(p.fieldname, [reader.schema[p.fieldname].to_bytes(w) for w in p.words])
            for p in parts if type(p) is wq.Phrase and len(p.words) > 1]


def _matched(the_plan: Plan, items: list[Item], lists: list,
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
        ids = docs[0] if len(docs) == 1 else np.unique(np.concatenate(docs))
        matched = ids if matched is None else np.intersect1d(matched, ids, assume_unique=True)
        if not len(matched):
            return None
    return matched


#: Candidates whose optional phrases are checked in the first round (at least).
FIRST_CHECK = 64
#: Most candidates whose optional phrases are checked, per segment: a rescoring
#: window. Word positions are dear in Whoosh's format (each posting's a pickle);
#: past the window, matches keep their scores without the phrase boosts.
MAX_CHECK = 64


def _settle(reader, ids: np.ndarray, scores: np.ndarray, pending: list[_Pending],
            limit: int) -> tuple[np.ndarray, np.ndarray]:
    """The segment's best *limit* matches with their pending phrases checked.

    A phrase can only add its bonus, so ``score + every bonus`` bounds what a match
    can reach. Candidates are checked best bound first, in growing rounds, until
    the *limit*-th best settled score beats every unchecked bound: the same top
    *limit* as checking every match, for word positions read on a few hundred
    articles instead of thousands (``da nang`` matches a third of an archive).
    Returns the checked matches only (sorted ids), the top *limit* among them —
    or, once :data:`MAX_CHECK` are checked without settling, every match, those
    past the window without their phrase boosts.
    """
    if not pending or not len(ids):
        return ids, scores
    bound = scores + np.sum([p.bonus for p in pending], axis=0)
    order = np.lexsort((ids, -bound))
    settled = scores.copy()
    done, step = 0, max(FIRST_CHECK, 4 * limit)
    while done < len(order):
        batch = np.sort(order[done : done + step])
        together = _phrases_among(reader, ids, batch, pending)
        for p in pending:
            hit = batch[p.bonus[batch] > 0]
            times = np.ones(len(hit), dtype=np.int64)
            for fieldname, btexts in p.phrases:
                if len(hit):
                    found, counts = together[(fieldname, tuple(btexts))]
                    docs = ids[hit]
                    keep = in_sorted(docs, found)
                    hit, times = hit[keep], counts[np.searchsorted(found, docs[keep])]
            gain = p.bonus[hit]
            for n in p.spelled:  # of the phrase's occurrences, the share written so
                gain = gain * np.minimum(1.0, n[hit] / times)
            settled[hit] += gain
        done += len(batch)
        if done >= len(order) or done >= limit and _beats(
                settled[order[:done]], limit, bound[order[done]]):
            break
        if done >= MAX_CHECK:  # the rest keep their scores without the phrases
            return ids, settled
        step = min(step * 2, MAX_CHECK - done)
    checked = np.sort(order[:done])
    return ids[checked], settled[checked]


def _phrases_among(reader, ids: np.ndarray, batch: np.ndarray,
                   pending: list[_Pending]) -> dict[tuple, tuple[np.ndarray, np.ndarray]]:
    """Each distinct phrase of *pending*, checked once on every candidate of *batch*
    that some item needs it for: ``(field, words)`` → (documents, times). The
    proximity boost and the likely reading ask about the same words in a row."""
    wanted: dict[tuple, list[np.ndarray]] = {}
    for p in pending:
        candidates = batch[p.bonus[batch] > 0]
        for fieldname, btexts in p.phrases:
            wanted.setdefault((fieldname, tuple(btexts)), []).append(candidates)
    read: dict[tuple, np.ndarray] = {}  # a word's positions, shared by the phrases
    out = {}
    for (fieldname, btexts), parts in wanted.items():
        docs = ids[np.unique(np.concatenate(parts))]
        out[(fieldname, btexts)] = (in_a_row(reader, fieldname, list(btexts), docs, read)
                                    if len(docs) else (_EMPTY_IDS, _EMPTY_IDS))
    return out


def _read_once(read: dict, reader, fieldname: str, btext: bytes,
               docs: np.ndarray) -> np.ndarray:
    """:func:`_positions`, read once per word and set of documents: the whole-query
    phrase and the neighbour pairs of a proximity boost share their words."""
    key = (fieldname, btext, docs.tobytes())
    if key not in read:
        read[key] = _positions(reader, fieldname, btext, docs)
    return read[key]


def _beats(settled: np.ndarray, limit: int, bound: float) -> bool:
    """Whether the *limit*-th best of *settled* is above *bound* (with a margin for
    the rounding of sums taken in another order)."""
    kth = np.partition(settled, len(settled) - limit)[len(settled) - limit]
    return bool(kth > bound + 1e-9 * max(1.0, abs(bound)))


def _words(item: Item) -> list[wq.Term]:
    """The terms an item scores with (a phrase: each word, with the phrase's boost)."""
    if type(item) is wq.Term:
        return [item]
    if isinstance(item, wq.And):
        return [t for part in item.subqueries for t in _words(part)]
    return [wq.Term(item.fieldname, w, boost=item.boost) for w in item.words]


def _item_docs(reader, item: Item, lists: list, within: np.ndarray | None) -> np.ndarray:
    """Documents holding *item* (a phrase: its words in a row), among *within* if given."""
    if type(item) is wq.Term:
        return lists[0][0]
    candidates = common_docs([ids for ids, _ in lists], within)
    if not len(candidates) or len(item.words) == 1:
        return candidates
    field = reader.schema[item.fieldname]
    btexts = [field.to_bytes(w) for w in item.words]
    return in_a_row(reader, item.fieldname, btexts, candidates)[0]


def in_sorted(values: np.ndarray, sorted_ids: np.ndarray) -> np.ndarray:
    """Which of *values* are in *sorted_ids* (a mask): one binary search each.

    ``np.isin`` sorts (or hashes) both arrays again on every call; ours are sorted
    already, and phrases and proximity boosts ask this for every match.
    """
    return _found_at(sorted_ids, values)[1]


def _found_at(sorted_ids: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of *values* is in *sorted_ids*, and whether it is there
    (where it is not, the index is meaningless)."""
    if not len(sorted_ids):
        return np.zeros(len(values), dtype=np.int64), np.zeros(len(values), dtype=bool)
    at = np.searchsorted(sorted_ids, values)
    at[at == len(sorted_ids)] = 0
    return at, sorted_ids[at] == values


def sorted_unique(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of a sorted array, and how often each occurs."""
    if not len(values):
        return values, _EMPTY_IDS
    change = np.empty(len(values), dtype=bool)
    change[0] = True
    np.not_equal(values[1:], values[:-1], out=change[1:])
    starts = np.flatnonzero(change)
    return values[starts], np.diff(starts, append=len(values))


def common_docs(id_lists: list[np.ndarray], within: np.ndarray | None = None) -> np.ndarray:
    """The documents in every one of *id_lists* (sorted ids), and in *within* if
    given: intersected shortest first, stopping once none are left."""
    candidates = within
    for ids in sorted(id_lists, key=len):
        candidates = ids if candidates is None else np.intersect1d(
            candidates, ids, assume_unique=True)
        if not len(candidates):
            return _EMPTY_IDS
    return _EMPTY_IDS if candidates is None else candidates


def in_a_row(reader, fieldname: str, btexts: list[bytes], docs: np.ndarray,
             read: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Which of *docs* (sorted segment-local ids holding every word) have the words
    in a row, and how many times each.

    The rarest words are checked first: once two words must stand together, few
    documents remain, and an everyday word's positions are read for those only.
    *read* (a dict kept by the caller) shares positions read between calls: the
    proximity phrases of one query start from the same rarest word.
    """
    last = len(btexts) - 1
    rarest_first = sorted(range(len(btexts)),
                          key=lambda k: len(_entry(reader, fieldname, btexts[k]).ids))
    keys = None  # doc << 32 | where the last word would stand
    for k in rarest_first:
        at = (_positions(reader, fieldname, btexts[k], docs) if read is None
              else _read_once(read, reader, fieldname, btexts[k], docs)) + (last - k)
        keys = at if keys is None else keys[in_sorted(keys, at)]
        if not len(keys):
            return _EMPTY_IDS, _EMPTY_IDS
        docs = sorted_unique(keys >> 32)[0]
    assert keys is not None
    return sorted_unique(keys >> 32)


def _btext(reader, term: wq.Term) -> bytes | None:
    if term.fieldname not in reader.schema:
        return None
    try:
        return reader.schema[term.fieldname].to_bytes(term.text)
    except ValueError:
        return None


def _postings_of(reader, term: wq.Term) -> tuple[np.ndarray, np.ndarray]:
    btext = _btext(reader, term)
    if btext is None or (term.fieldname, btext) not in reader:
        return _EMPTY_IDS, _EMPTY_WEIGHTS
    return postings(reader, term.fieldname, btext)


def _bm25(parent: Searcher, reader, term: wq.Term, docs: np.ndarray,
          weights: np.ndarray) -> np.ndarray:
    """``boost × BM25`` of *term* in *docs* (segment-local), as Whoosh computes it."""
    field = reader.schema[term.fieldname]
    weights = weights.astype(np.float64)  # cached as float32, Whoosh's own precision
    if not field.scorable:  # Whoosh scores these by weight alone
        return weights * term.boost
    btext = field.to_bytes(term.text)
    idf = parent.idf(term.fieldname, btext)
    avgfl = parent.avg_field_length(term.fieldname) or 1
    fl = field_lengths(reader, term.fieldname)[docs]
    b, k1 = 0.75, 1.2
    score = idf * ((weights * (k1 + 1)) / (weights + k1 * ((1 - b) + b * fl / avgfl)))
    return score * term.boost if term.boost != 1 else score


# --------------------------------------------------------------------------- posting lists


class _Cache:
    """Decoded arrays, least recently used dropped first once *budget* bytes are held."""

    def __init__(self, budget: int):
        self.budget = budget
        self.used = 0
        self.items: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key, value: tuple) -> None:
        size = _nbytes(value)
        if size > self.budget:
            return
        with self.lock:
            if key in self.items:
                return
            self.items[key] = value
            self.used += size
            while self.used > self.budget:
                _, dropped = self.items.popitem(last=False)
                self.used -= _nbytes(dropped)

    def drop(self, tokens: set) -> int:
        """Drop the entries of readers with these tokens; how many went."""
        with self.lock:
            stale = [key for key in self.items if key[0] in tokens]
            for key in stale:
                self.used -= _nbytes(self.items.pop(key))
        return len(stale)


def _nbytes(value: tuple) -> int:
    """Bytes held by a cached tuple of arrays and ``bytes``."""
    return sum(a.nbytes if isinstance(a, np.ndarray) else len(a)
               for a in value if a is not None)


#: One cache for the process: every searcher on the same segments shares it (the
#: HTTP server keeps a pool of searchers), and the budget bounds them all.
_CACHE = _Cache(CACHE_BYTES)


def configure(budget: int) -> None:
    """Start afresh with a cache of *budget* bytes."""
    global _CACHE
    _CACHE = _Cache(budget)


def release(searcher: Searcher, keep: Searcher | None = None) -> int:
    """Drop the cached arrays of *searcher*'s segments (say, an index about to be
    replaced or closed for good), except those *keep* still reads; returns how many
    entries went.

    The cache would evict them in time, but a full cache of a closed index's
    lists makes every new entry pay for an eviction first.
    """
    return _CACHE.drop(_tokens_of(searcher) - (_tokens_of(keep) if keep is not None else set()))


def _tokens_of(searcher: Searcher) -> set:
    return {_token(leaf.reader()) for leaf, _ in searcher.leaf_searchers()}


def cache_stats() -> dict:
    """How full the cache is: ``{"bytes", "budget", "entries"}``."""
    return {"bytes": _CACHE.used, "budget": _CACHE.budget, "entries": len(_CACHE.items)}


_tokens: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_tokens_lock = threading.Lock()


def _token(reader) -> tuple:
    """What a reader's arrays depend on: its segment, immutable once written, and
    which of its documents are deleted (a set that only grows). Readers of the same
    segment state share cache entries; a changed one never sees stale ones."""
    with _tokens_lock:
        token = _tokens.get(reader)
    if token is None:
        if reader.is_atomic() and hasattr(reader, "segment"):
            deleted = reader.deleted_docs_set
            token = (reader.segment().segment_id(), len(deleted), hash(deleted))
        elif reader.is_atomic():
            token = ("reader", id(reader))  # an empty index: nothing to cache
        else:
            token = tuple(_token(r) for r, _ in reader.leaf_readers())
        with _tokens_lock:
            _tokens[reader] = token
    return token


class _Postings(NamedTuple):
    ids: np.ndarray  # sorted segment-local document numbers (int32: half the cache)
    weights: np.ndarray  # the term's frequency in each (float32, as Whoosh stores it)
    blocks: np.ndarray | None  # per block: last id, data offset, data end, compressed


def postings(reader, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Sorted segment-local ids holding a term, and the term's weight (frequency) in each.

    Deleted documents are left out, as Whoosh's own matchers leave them out.
    """
    return _entry(reader, fieldname, btext)[:2]


def _entry(reader, fieldname: str, btext: bytes) -> _Postings:
    key = (_token(reader), fieldname, btext)
    found = _CACHE.get(key)
    if found is None:
        found = _read_postings(reader, fieldname, btext)
        _CACHE.put(key, found)
    return found


def _leaf_matcher(reader, fieldname: str, btext: bytes) -> tuple:
    """The term's own posting matcher, and the deleted documents Whoosh's wrapper
    around it would skip (``None`` when none are)."""
    matcher = reader.postings(fieldname, btext)
    if isinstance(matcher, FilterMatcher):
        return matcher.child, matcher._ids
    return matcher, None


def _read_block(postfile, start: int, end: int, compressed: int) -> tuple:
    """One whoosh3 block, whole: ``(ids, weights, position values)``, ids decoded."""
    data = postfile.get(start, end - start)
    block = loads(zlib.decompress(data) if compressed else data)
    return np.cumsum(np.asarray(block[0], dtype=np.int64)), block[1], block[2]


def _read_postings(reader, fieldname: str, btext: bytes) -> _Postings:
    matcher, deleted = _leaf_matcher(reader, fieldname, btext)
    if isinstance(matcher, W3LeafMatcher):
        found = _read_blocks(matcher)
    else:  # short lists stored inline in the term's entry
        pairs = []
        while matcher.is_active():
            pairs.append((matcher.id(), matcher.weight()))
            matcher.next()
        ids = np.fromiter((p[0] for p in pairs), dtype=np.int32, count=len(pairs))
        weights = np.fromiter((p[1] for p in pairs), dtype=np.float32, count=len(pairs))
        found = _Postings(ids, weights, None)
    if deleted:
        keep = ~np.isin(found.ids, np.fromiter(deleted, dtype=np.int64, count=len(deleted)))
        found = _Postings(found.ids[keep], found.weights[keep], found.blocks)
    return found


def _read_blocks(m: W3LeafMatcher) -> _Postings:
    """Decode every block of a whoosh3 posting list without per-posting Python,
    noting where each block lies so positions can be read block by block later."""
    if m._byteids:
        raise TypeError("byte ids are not document postings")
    gap_parts, weight_parts, lengths, blocks = [], [], [], []
    postfile = m._postfile
    while True:
        length = m._blocklength
        blocks.append((m._maxid, m._dataoffset, m._nextoffset, 1 if m._compression else 0))
        data = postfile.get(m._dataoffset, m._nextoffset - m._dataoffset)
        gaps, weights, _ = _ids_and_weights(data, bool(m._compression), length)
        gap_parts.append(gaps)
        lengths.append(length)
        if weights is None:
            weights = (1.0,) * length
        elif isinstance(weights, int | float):
            weights = (float(weights),) * length
        weight_parts.append(weights)
        if m._lastblock:
            break
        m._goto(m._nextoffset)
    # One conversion for the whole list: each block's ids are gaps from 0, so the
    # running sum restarts at every block.
    total = sum(lengths)
    ids = np.cumsum(np.fromiter(chain.from_iterable(gap_parts), dtype=np.int64, count=total))
    counts = np.asarray(lengths, dtype=np.int64)
    before = np.concatenate(([0], ids[np.cumsum(counts)[:-1] - 1]))
    ids -= np.repeat(before, counts)
    weights = np.fromiter(chain.from_iterable(weight_parts), dtype=np.float32, count=total)
    return _Postings(ids.astype(np.int32), weights, np.asarray(blocks, dtype=np.int64))


# A whoosh3 block is the zlib-compressed pickle (protocol 2) of ``(ids, weights,
# values)``. Protocol 2 has no bytes opcode, so each value (a posting's positions)
# unpickles through a call to ``_codecs.encode``: most of a block's decoding time.
# The values come last, so for ids and weights only the head of the block is
# inflated and unpickled with a ``None`` in place of the values.
_VALUES_START = b"(c_codecs\nencode\n"
#: Inflated bytes that always hold a block's ids and weights: at most 5 bytes per id
#: (``J`` + int32) and 9 per weight (``G`` + double), plus the pickle's framing.
_HEAD_PER_POSTING, _HEAD_EXTRA = 14, 64


def _ids_and_weights(data: bytes, compressed: bool, length: int) -> tuple:
    """``(id gaps, weights, None)`` of a block, without unpickling its values."""
    if compressed:
        inflater = zlib.decompressobj()
        head = inflater.decompress(data, length * _HEAD_PER_POSTING + _HEAD_EXTRA)
    else:
        inflater, head = None, data
    cut = head.find(_VALUES_START)
    if length > 3 and cut > 0:  # 4+ values pickle as MARK … TUPLE, so "(" opens them
        try:
            block = loads(head[:cut] + b"N\x87.")
        except Exception:  # the marker's bytes inside an id or weight: read it all
            block = None
        if isinstance(block, tuple) and len(block) == 3 and len(block[0]) == length:
            return block
    if inflater is not None:
        head += inflater.decompress(inflater.unconsumed_tail) + inflater.flush()
    return loads(head)


def _positions(reader, fieldname: str, btext: bytes, docs: np.ndarray) -> np.ndarray:
    """``doc << 32 | position`` of every occurrence of a term in *docs* (sorted ids
    that all hold it).

    When *docs* are a good share of the term's list (an everyday word in a phrase),
    the positions of the whole list are decoded once and cached; otherwise only
    the blocks holding *docs* are decoded, and cached block by block (the first
    blocks of an everyday word serve query after query).
    """
    entry = _entry(reader, fieldname, btext)
    key = (_token(reader), "positions", fieldname, btext)
    whole = _CACHE.get(key)
    if whole is None and entry.blocks is not None and _touched(entry, docs) * _WHOLE_SHARE >= len(
            entry.blocks):
        whole = _all_positions(reader, fieldname, btext, entry)
        _CACHE.put(key, whole)
    if whole is not None:
        return _gather(entry.ids, *whole, docs)
    return _some_positions(reader, fieldname, btext, docs, entry)


def _gather(ids: np.ndarray, starts: np.ndarray, flat: np.ndarray,
            docs: np.ndarray) -> np.ndarray:
    """``doc << 32 | position`` for *docs* (a sorted subset of *ids*) from decoded
    positions: ``flat[starts[i]:starts[i + 1]]`` belong to ``ids[i]``."""
    at = np.searchsorted(ids, docs)
    counts = starts[at + 1] - starts[at]
    # Index of every wanted position in *flat*: each doc's run, back to back.
    first = np.repeat(starts[at] - np.cumsum(counts) + counts, counts)
    gather = first + np.arange(int(counts.sum()))
    return (np.repeat(docs.astype(np.int64), counts) << 32) | flat[gather]


#: Decode a term's whole position list when the documents asked for lie in at least
#: this share (1/N) of its blocks: reading those blocks costs most of the whole anyway.
_WHOLE_SHARE = 4


def _touched(entry: _Postings, docs: np.ndarray) -> int:
    """How many of the term's blocks hold some of *docs*."""
    return len(np.unique(np.searchsorted(entry.blocks[:, 0], docs)))


def _all_positions(reader, fieldname: str, btext: bytes,
                   entry: _Postings) -> tuple[np.ndarray, np.ndarray]:
    """Every position of a term: ``starts`` (one per posting, plus the end) into
    ``flat``, the positions of each posting in turn."""
    postfile = _leaf_matcher(reader, fieldname, btext)[0]._postfile
    gaps = _Gaps()
    ids = []
    for _, start, end, compressed in entry.blocks.tolist():
        block_ids, _, values = _read_block(postfile, start, end, compressed)
        ids.append(block_ids)
        gaps.add(values)
    starts, flat = gaps.positions()
    counts = np.diff(starts)
    if len(counts) != len(entry.ids):  # deleted documents were left out of the ids
        keep = np.isin(np.concatenate(ids), entry.ids, assume_unique=True)
        kept = counts[keep]
        flat = flat[np.repeat(keep, counts)]
        starts = np.zeros(len(kept) + 1, dtype=np.int64)
        np.cumsum(kept, out=starts[1:])
    return starts.astype(np.int32), flat.astype(np.int32)  # halves the cache's share


# Whoosh stores a posting's positions as a 4-byte count and the pickle (protocol 2)
# of the list of gaps: ``\x80\x02]q\x00`` then, for one gap, the gap and ``a.``;
# for more, ``(``, the gaps and ``e.``. A gap under 256 pickles as ``K`` + one byte,
# under 65,536 as ``M`` + two. So a posting whose pickle has exactly the length of
# all-``K`` gaps (the usual case), or of one ``M`` first gap (the first position is
# absolute) and ``K`` gaps after, is read straight from the bytes, all postings at
# once with numpy. Anything else (a bigger gap, 1,000+ positions) is unpickled.
_K, _M, _MARK = ord("K"), ord("M"), ord("(")


class _Gaps:
    """Position gaps of many postings, gathered in order, decoded in bulk."""

    def __init__(self) -> None:
        self.values: list[bytes] = []
        self.other = 0  # postings that needed the unpickler (for tests)

    def add(self, values) -> None:
        self.values.extend(values)

    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        """``(starts, positions)``: posting *i* holds ``positions[starts[i]:starts[i + 1]]``."""
        values = self.values
        if not values:
            return np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)
        raw = np.frombuffer(b"".join(values), dtype=np.uint8)
        lens = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
        offs = np.zeros(len(values), dtype=np.int64)
        np.cumsum(lens[:-1], out=offs[1:])
        head = raw[offs[:, None] + np.arange(4)].astype(np.int64)
        n = head[:, 0] << 24 | head[:, 1] << 16 | head[:, 2] << 8 | head[:, 3]
        first_at = offs + np.where(n == 1, 9, 10)  # the first gap's opcode
        opcode = raw[np.minimum(first_at, len(raw) - 1)]
        many_ok = (n > 1) & (raw[np.minimum(offs + 9, len(raw) - 1)] == _MARK)
        # First gap byte and where the K gaps start, for the two readable shapes.
        all_k = ((n == 1) & (lens == 13) | many_ok & (lens == 12 + 2 * n)) & (opcode == _K)
        m_first = ((n == 1) & (lens == 14) | many_ok & (lens == 13 + 2 * n)) & (opcode == _M)
        counts = n.copy()
        unread = ~(all_k | m_first)
        slow = np.flatnonzero(unread)
        lists = _unpickle_lists([values[i] for i in slow.tolist()])
        counts[slow] = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        self.other = len(slow)
        starts = np.zeros(len(values) + 1, dtype=np.int64)
        np.cumsum(counts, out=starts[1:])
        gaps = np.empty(int(starts[-1]), dtype=np.int64)
        # K gaps: every other byte from the first K opcode's argument on.
        k_from = np.where(all_k, first_at + 1, first_at + 4)  # past M, its two bytes, K
        k_count = np.where(all_k, n, np.where(m_first, n - 1, 0))
        k_dest = np.where(all_k, starts[:-1], starts[:-1] + 1)
        run = np.repeat(np.arange(len(values)), k_count)
        within = np.arange(len(run)) - np.repeat(np.cumsum(k_count) - k_count, k_count)
        k_src = k_from[run] + 2 * within
        if len(k_src) and not (raw[k_src - 1] == _K).all():
            raise ValueError("unexpected opcode in a positions pickle")
        gaps[k_dest[run] + within] = raw[k_src]
        m = np.flatnonzero(m_first)
        gaps[starts[m]] = raw[first_at[m] + 1].astype(np.int64) | raw[first_at[m] + 2].astype(
            np.int64) << 8
        if len(slow):
            at = np.repeat(starts[slow], counts[slow])
            at += np.arange(len(at)) - np.repeat(np.cumsum(counts[slow]) - counts[slow],
                                                 counts[slow])
            gaps[at] = np.fromiter(chain.from_iterable(lists), dtype=np.int64, count=len(at))
        return starts, _absolute(starts, counts, gaps)


def _unpickle_lists(values: list[bytes]) -> list[list[int]]:
    """The gap lists of position values, unpickled in one call.

    Each value's pickle (after its 4-byte count) is ``\\x80\\x02``, ops that push one
    list, and ``.``; the ops of all of them between a MARK and LIST build the list
    of lists at once, without a call and a new unpickler per posting.
    """
    if not values:
        return []
    return loads(b"\x80\x02(" + b"".join(v[6:-1] for v in values) + b"l.")


def _absolute(starts: np.ndarray, counts: np.ndarray, deltas: np.ndarray) -> np.ndarray:
    """Per-posting runs of gaps (run *i* is ``deltas[starts[i]:starts[i + 1]]``, of
    ``counts[i]``) → absolute positions, each run summed from 0."""
    total = np.cumsum(deltas)
    before = np.concatenate(([0], total))[starts[:-1]]  # running sum before each run
    return total - np.repeat(before, counts)


def _some_positions(reader, fieldname: str, btext: bytes, docs: np.ndarray,
                    entry: _Postings) -> np.ndarray:
    """:func:`_positions` for a few documents: decode just the blocks holding them."""
    matcher = _leaf_matcher(reader, fieldname, btext)[0]
    if entry.blocks is None or not isinstance(matcher, W3LeafMatcher):  # an inline list
        out: list[int] = []
        wanted = set(docs.tolist())
        while matcher.is_active():
            doc = matcher.id()
            if doc in wanted:
                out.extend((doc << 32) | p for p in matcher.value_as("positions"))
            matcher.next()
        return np.asarray(sorted(out), dtype=np.int64)
    which = np.searchsorted(entry.blocks[:, 0], docs)
    chosen: list[bytes] = []  # the position values of *docs*, in order
    for b in np.unique(which).tolist():
        key = (_token(reader), "block", fieldname, btext, b)
        block = _CACHE.get(key)
        if block is None:
            block_ids, _, values = _read_block(matcher._postfile, *entry.blocks[b].tolist()[1:])
            # Kept as one bytes object and offsets: a tuple of small bytes costs 3× more.
            offsets = np.zeros(len(values) + 1, dtype=np.int64)
            np.cumsum(np.fromiter(map(len, values), dtype=np.int64, count=len(values)),
                      out=offsets[1:])
            block = (block_ids.astype(np.int32), offsets, b"".join(values))
            _CACHE.put(key, block)
        ids, offsets, joined = block
        for i in np.searchsorted(ids, docs[which == b]).tolist():
            chosen.append(joined[offsets[i]:offsets[i + 1]])
    gaps = _Gaps()
    gaps.add(chosen)
    starts, positions = gaps.positions()
    return (np.repeat(docs.astype(np.int64), np.diff(starts)) << 32) | positions


def field_lengths(reader, fieldname: str) -> np.ndarray:
    """Every document's (quantised) length in *fieldname*, as Whoosh scores with it."""
    key = (_token(reader), "lengths", fieldname)
    found = _CACHE.get(key)
    if found is None:
        count = reader.doc_count_all()
        # Whoosh keeps lengths in a per-field byte column; it has no public bulk read.
        column = reader._perdoc._cached_reader(f"_{fieldname}_len", LENGTHS_COLUMN)
        if column is None:
            raw = np.zeros(count, dtype=np.uint8)
        else:
            raw = np.fromiter((column[i] for i in range(count)), dtype=np.uint8, count=count)
        found = (_BYTE_TO_LENGTH[raw],)
        _CACHE.put(key, found)
    return found[0]


# --------------------------------------------------------------------------- filters

def allowed(searcher: Searcher, flt: wq.Query) -> np.ndarray:
    """Sorted global document numbers that pass the filter *flt*.

    Terms and their And/Or come from the cached posting arrays; anything else
    (date ranges …) is walked once by Whoosh and remembered, as the same filters
    (a source, a place, a year) come back request after request.
    """
    if type(flt) is wq.Term:
        parts = []
        for sub, offset in searcher.leaf_searchers():
            reader = sub.reader()
            btext = _btext(reader, flt)
            if btext is not None and (flt.fieldname, btext) in reader:
                parts.append(postings(reader, flt.fieldname, btext)[0] + offset)
        return np.concatenate(parts) if parts else _EMPTY_IDS
    if type(flt) in (wq.And, wq.Or) and flt.subqueries:
        sets = [allowed(searcher, s) for s in flt.subqueries]
        out = sets[0]
        for other in sets[1:]:
            if type(flt) is wq.And:
                out = np.intersect1d(out, other, assume_unique=True)
            else:
                out = np.union1d(out, other)
        return out
    key = (_token(searcher.reader()), "filter", repr(flt))
    found = _CACHE.get(key)
    if found is None:
        found = (np.unique(np.fromiter(searcher.docs_for_query(flt), dtype=np.int64)),)
        _CACHE.put(key, found)
    return found[0]
