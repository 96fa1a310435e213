"""The probable accented readings of a typed query, weighed as queries people type.

``da nang`` reads ``Đà Nẵng`` far more often than ``da nắng``: :func:`readings`
gives each likely reading with its probability, from the archive's own spellings
(the accent model of :mod:`search.accents`), counted in articles. The ranking
boosts articles holding the likely reading (:mod:`search.boosts`) and the page
marks under it (:mod:`search.highlight`). It is not the did-you-mean
(:mod:`search.spelling`): no word is corrected here, only accents are read.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from whoosh.searching import Searcher

from search import lexicon
from search.accents import BEAM, MAX_WORDS, kept_spelling, likeliest, may_take, spellings
from search.lexicons import Lexicon
from search.normalize import has_accents, nfc, normalize_term, token_tuples
from search.syntax import has_syntax

#: Readings :func:`readings` returns by default.
MAX_READINGS = 3

K = TypeVar("K")


@dataclass(frozen=True)
class Reading:
    """One accented reading of a query, and how probable the archive makes it."""

    words: tuple[str, ...]  # exact forms, lowercase (``("đà", "nẵng")``)
    probability: float  # share among the readings returned (they sum to 1)


def readings(source: Lexicon | Searcher, text: str, limit: int = MAX_READINGS) -> list[Reading]:
    """The probable accented readings of *text*'s words, most probable first.

    For ranking: ``da nang`` reads ``đà nẵng`` far more often than ``da nắng``, and
    articles holding the likely reading can be ranked first, in proportion. The
    words are taken as typed (no typo correction; :func:`search.spelling.suggest`
    does that); a
    word typed with accents the archive writes keeps them exactly, any other
    typed mark is kept (:func:`search.accents.keeps_accents`). Probabilities come
    from the same model as the did-you-mean's accents, counted in articles (how many articles
    write each pair so: :meth:`search.lexicons.Lexicon.pair_surfaces`), by the word's own
    counts where a pair is unseen — and, for three words or more, mixed with how
    the archive spells the whole span where it occurs (trusted the more, the more
    often), which settles ``Quận ủy Ba Đình`` where the pairs alone lean to ``Quân
    ủy``. Then they are weighed as queries people type (:func:`_as_typed_queries`).
    Empty for query syntax, no words, or over :data:`MAX_WORDS` words. *source*
    is the archive's vocabulary (a :class:`~search.lexicons.Lexicon`, or a Whoosh
    searcher on the local index).
    """
    text = nfc(text.strip())
    toks = token_tuples(text) if text and not has_syntax(text) else []
    if not toks or len(toks) > MAX_WORDS or limit < 1:
        return []
    lex = lexicon.of(source)
    words = [t[1] for t in toks]
    locked = [kept_spelling(lex, t, t[1]) for t in toks]
    as_typed = tuple(lock for lock in locked if lock is not None)
    if len(as_typed) == len(locked):  # typed with the archive's accents
        return [Reading(as_typed, 1.0)]
    keep = [t[0] if has_accents(t[0]) else None for t in toks]
    forms = [spellings(lex, w, lock=lock, keep=k, most=READING_FORMS)
             for w, lock, k in zip(words, locked, keep, strict=True)]
    pairs = [_exact_pairs(lex, words[i : i + 2], per_article=True)
             for i in range(len(words) - 1)]
    chain = _shares({path: math.exp(score) for score, path in likeliest(forms, pairs, BEAM)})
    spans: Counter[tuple[str, ...]] = Counter() if len(words) < 3 else Counter({
        exact: n for exact, n in _exact_pairs(lex, words, per_article=True).items()
        if all(may_take(e, lock, k) for e, lock, k in zip(exact, locked, keep, strict=True))
    })
    trust = sum(spans.values()) / (sum(spans.values()) + 1)  # the whole span, when seen
    span = _shares(spans)
    mixed = {path: trust * span.get(path, 0.0) + (1 - trust) * chain.get(path, 0.0)
             for path in chain.keys() | span.keys()}
    if len(words) > 1:
        mixed = _as_typed_queries(lex, words, keep=keep, weights=mixed)
    top = sorted(mixed.items(), key=lambda pp: (-pp[1], pp[0]))[:limit]
    return [Reading(path, p) for path, p in _shares(dict(top)).items()]


#: Accent spellings per word that :func:`readings` weighs (counting them is cheap).
READING_FORMS = 12
#: Function words: a reading that makes a word typed without accents one of these
#: (``cho đội`` for ``cho doi``) is seldom what a two- or three-word query means
#: (``chờ đợi``); such a reading keeps this share of its weight, per word.
FUNCTION_WORDS = frozenset("""
của các và là có với cho này đó do đã những nhưng được trong thì khi để từ về nay
vẫn còn cũng cùng chỉ bị sẽ đang rất một không chưa ra vào lên tại theo như mà nên
vì nếu hay hoặc đến tới sau trước trên dưới đây thế nào gì mỗi mọi cả lại
""".split())
FUNCTION_WORD_WEIGHT = 0.2


#: A two-word reading the archive writes mostly inside one longer phrase (this
#: share of its occurrences or more after, or before, the same word: "sử dụng xe"
#: for ``dụng xe``) keeps only the share of occurrences that stand alone.
FRAGMENT_SHARE = 0.5


def _as_typed_queries(lex: Lexicon, words: list[str], *, keep: list[str | None],
                      weights: dict[tuple[str, ...], float]) -> dict[tuple[str, ...], float]:
    """*weights* of readings weighed as queries someone types rather than as text:
    people search for topics, not for function words or halves of longer phrases."""
    inside = _fragment_shares(lex, words) if len(words) == 2 else {}
    out: dict[tuple[str, ...], float] = {}
    for path, w in weights.items():
        for word, typed in zip(path, keep, strict=True):
            if typed is None and word in FUNCTION_WORDS:
                w *= FUNCTION_WORD_WEIGHT
        share = inside.get(path, 0.0)
        out[path] = w * (1 - share) if share >= FRAGMENT_SHARE else w
    return out


def _fragment_shares(lex: Lexicon, words: list[str]) -> dict[tuple[str, ...], float]:
    """Per exact reading of the span *words*: the largest share of its occurrences
    that one neighbouring word accompanies (on either side)."""
    sides: dict[tuple[tuple[str, ...], int], Counter[str]] = {}
    for (surface, side, word), n in lex.span_neighbours(words).items():
        path = tuple(normalize_term(s)[0] for s in surface)
        sides.setdefault((path, side), Counter())[word] += n
    shares: dict[tuple[str, ...], float] = {}
    for (path, _), around in sides.items():
        total = sum(around.values())
        top = max((n for word, n in around.items() if word), default=0)
        shares[path] = max(shares.get(path, 0.0), top / total)
    return shares


def _shares(weights: Mapping[K, float]) -> dict[K, float]:
    """*weights* scaled to sum to 1 (order kept)."""
    total = sum(weights.values())
    return {k: w / total for k, w in weights.items()} if total else {}


def _exact_pairs(lex: Lexicon, words: list[str],
                 per_article: bool = False) -> Counter[tuple[str, ...]]:
    """How often the archive writes the folded pair *words* as each exact pair (in
    how many articles, *per_article*)."""
    counts: Counter[tuple[str, ...]] = Counter()
    for surface, n in lex.pair_surfaces(words, per_article=per_article).items():
        counts[tuple(normalize_term(s)[0] for s in surface)] += n
    return counts
