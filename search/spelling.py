"""Did you mean: accent restoration, typo correction and Telex/VNI decoding for queries.

Vietnamese users often type without accents (``quan uy ba dinh``), make typos
(``Trần Đức Hoạ`` for ``Hoạt``), or type Telex/VNI with their keyboard tool off
(``quaanj uyr``, ``qua6n5 uy3``). :func:`suggest` proposes the query they meant,
using only the archive itself (see :mod:`search.lexicon`):

1. *Which words*: each typed word keeps its folded form when the archive knows it;
   Telex/VNI decodings (by ``bogo``) that give a known word, and — for a word the
   archive lacks, or one that stands next to none of its neighbours anywhere in
   the archive — known words one edit away, compete with it. A small bigram
   model (how often two folded words stand together, against how common each is)
   picks the most likely sequence; changing a word costs a fixed penalty, so a
   query that is already right (``giai phong mat bang``) stays as it is.
2. *Which accents*: the archive's own spellings of the chosen words decide — first
   of the whole span (``quan uy ba dinh`` is spelled ``Quận ủy Ba Đình`` wherever it
   occurs), else pair by pair from the archive's word-pair counts, so ``ba dinh``
   becomes ``Ba Đình`` rather than ``bà đinh``. Counts come from an even spread of
   all the articles that hold the words (:func:`search.lexicon.span_docs`), not
   the first ones in the index.
3. *What the user typed stands*: a word typed with accents the archive writes
   keeps them exactly, and no typed mark is ever taken away
   (:func:`keeps_accents`: ``Bà`` is never "corrected" to ``ba``); Telex/VNI
   keystrokes that spell an archive word keep that word (``quaanj`` → ``quận``).
   A word the archive itself writes only a few times, one edit from a far
   commoner one, is read as the archive's typo (``ngyen xuan phuc`` →
   ``Nguyễn Xuân Phúc``, not ``Ngyễn``).
4. *Capitals*: the first word is capitalised (a suggestion reads as a phrase);
   any other word takes a capital only when the archive clearly writes it so —
   in at least two thirds of its occurrences in the query's context, not counting
   sentence starts (``Ba Đình``, ``Nguyễn Xuân Phúc``, but ``Ủy ban nhân dân``).

The suggestion is ``None`` when the query is already what the archive would write.
:func:`readings` gives the probable accented readings of a query with their
probabilities, from the same statistics, for ranking.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from whoosh.searching import Searcher

from search import lexicon
from search.generations import PerReader, registry
from search.normalize import fold, has_accents, nfc, normalize_term, token_tuples
from search.syntax import has_syntax

#: Longest query (in words) that gets suggestions.
MAX_WORDS = 8
#: Log-probability cost of replacing a typed word by one an edit away.
EDIT_COST = math.log(1e-2)
#: Cost of keeping a word typed with accents the archive never writes that way.
UNSEEN_SPELLING_COST = math.log(0.1)
#: Cost of reading a word as Telex/VNI keystrokes: small, it is strong evidence.
IME_COST = math.log(0.3)
#: Weight of a unigram when a pair was never seen (stupid backoff).
BACKOFF = 0.4
#: Accent spellings considered per word.
MAX_FORMS = 6
#: Readings :func:`readings` returns by default, and partial readings it keeps
#: while extending them word by word.
MAX_READINGS = 3
BEAM = 12
#: A word the archive writes at most SUSPECT_TIMES times, one edit from a word
#: TYPO_RATIO times as frequent, is probably the archive's own typo (``Ngyễn Xuân
#: Phúc``, twice in 35k articles): keeping it costs as much as changing it, so the
#: archive's usage decides rather than the typo's few contexts.
SUSPECT_TIMES = 5
TYPO_RATIO = 50
#: Share of a word's occurrences (mid-sentence, in the query's context) that must
#: be capitalised for the suggestion to capitalise it.
CAPITAL_SHARE = 2 / 3

_ASCII_WORD = re.compile(r"^[a-z0-9]+$")


@dataclass
class Suggestion:
    """A query the user probably meant."""

    text: str
    corrected: bool  # words changed (typo, Telex/VNI), not only accents restored

    def as_dict(self) -> dict:
        return {"text": self.text, "corrected": self.corrected}


@lru_cache(maxsize=4096)
def ime_decode(word: str) -> tuple[str, ...]:
    """What *word* spells as Telex or VNI keystrokes (``quaanj`` → ``quận``), if anything.

    Only ASCII words with a keystroke that marks something are tried; a result must
    be letters only and carry marks.
    """
    lower = word.lower()
    if not _ASCII_WORD.match(lower) or len(lower) < 2:
        return ()
    import bogo  # small, pure Python; imported only when a query needs it

    out = []
    for rules in (None, "vni"):
        try:
            if rules is None:
                decoded = bogo.process_sequence(lower)
            else:
                decoded = bogo.process_sequence(lower, rules=bogo.get_vni_definition())
        except Exception:  # bogo gives up on odd sequences
            continue
        decoded = nfc(decoded)
        if decoded != lower and decoded.isalpha() and has_accents(decoded):
            out.append(normalize_term(decoded)[0])
    return tuple(dict.fromkeys(out))


def suggest(searcher: Searcher, text: str) -> Suggestion | None:
    """The query the user most likely meant, or ``None`` if *text* is already it."""
    text = nfc(text.strip())
    if not text or has_syntax(text):  # query syntax: not rewritten
        return None
    toks = token_tuples(text)
    if not toks or len(toks) > MAX_WORDS:
        return None
    reader = searcher.reader()
    typed = [t[1] for t in toks]
    slots = [_candidates(searcher, toks, i) for i in range(len(toks))]
    chosen = _best_words(searcher, slots)
    corrected = chosen != typed
    locked = [_lock(reader, toks[i], chosen[i]) for i in range(len(toks))]
    if not corrected and all(lock is not None for lock in locked):
        return None  # every word stands as typed: the archive could only change its case
    keep = [toks[i][0] if has_accents(toks[i][0]) else None for i in range(len(toks))]
    words = _accents(searcher, chosen, locked=locked, keep=keep)
    if words is None:
        return None
    words[0] = words[0][:1].upper() + words[0][1:]  # a suggestion reads as a phrase
    out, last = [], 0
    for tok, word in zip(toks, words, strict=True):
        out.append(text[last : tok[2]])
        out.append(word)
        last = tok[3]
    out.append(text[last:])
    suggestion = "".join(out)
    if suggestion.casefold() == text.casefold() or (
        not corrected and [normalize_term(w)[0] for w in words] == [t[0] for t in toks]
    ):
        return None
    return Suggestion(suggestion, corrected)


@dataclass(frozen=True)
class Reading:
    """One accented reading of a query, and how probable the archive makes it."""

    words: tuple[str, ...]  # exact forms, lowercase (``("đà", "nẵng")``)
    probability: float  # share among the readings returned (they sum to 1)


def readings(searcher: Searcher, text: str, limit: int = MAX_READINGS) -> list[Reading]:
    """The probable accented readings of *text*'s words, most probable first.

    For ranking: ``da nang`` reads ``đà nẵng`` far more often than ``da nắng``, and
    articles holding the likely reading can be ranked first, in proportion. The
    words are taken as typed (no typo correction; :func:`suggest` does that); a
    word typed with accents the archive writes keeps them exactly, any other
    typed mark is kept (:func:`keeps_accents`). Probabilities come from the same
    model as :func:`suggest`'s accents, counted in articles (how many articles
    write each pair so: :func:`search.lexicon.pair_surfaces`), by the word's own
    counts where a pair is unseen — and, for three words or more, mixed with how
    the archive spells the whole span where it occurs (trusted the more, the more
    often), which settles ``Quận ủy Ba Đình`` where the pairs alone lean to ``Quân
    ủy``. Then they are weighed as queries people type (:func:`_as_typed_queries`).
    Empty for query syntax, no words, or over :data:`MAX_WORDS` words.
    """
    text = nfc(text.strip())
    toks = token_tuples(text) if text and not has_syntax(text) else []
    if not toks or len(toks) > MAX_WORDS or limit < 1:
        return []
    reader = searcher.reader()
    words = [t[1] for t in toks]
    locked = [_lock(reader, t, t[1]) for t in toks]
    if all(lock is not None for lock in locked):  # typed with the archive's accents
        return [Reading(tuple(locked), 1.0)]  # type: ignore[arg-type]
    keep = [t[0] if has_accents(t[0]) else None for t in toks]
    forms = [_forms(reader, w, lock, k, most=READING_FORMS)
             for w, lock, k in zip(words, locked, keep, strict=True)]
    pairs = [_exact_pairs(searcher, words[i : i + 2], per_article=True)
             for i in range(len(words) - 1)]
    chain = _shares({path: math.exp(score) for score, path in _scored(forms, pairs, BEAM)})
    spans = Counter() if len(words) < 3 else Counter({
        exact: n for exact, n in _exact_pairs(searcher, words, per_article=True).items()
        if all(_allowed(e, lock, k) for e, lock, k in zip(exact, locked, keep, strict=True))
    })
    trust = sum(spans.values()) / (sum(spans.values()) + 1)  # the whole span, when seen
    span = _shares(spans)
    mixed = {path: trust * span.get(path, 0.0) + (1 - trust) * chain.get(path, 0.0)
             for path in chain.keys() | span.keys()}
    if len(words) > 1:
        mixed = _as_typed_queries(searcher, words, keep, mixed)
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


def _as_typed_queries(searcher: Searcher, words: list[str], keep: list[str | None],
                      weights: dict[tuple[str, ...], float]) -> dict[tuple[str, ...], float]:
    """*weights* of readings weighed as queries someone types rather than as text:
    people search for topics, not for function words or halves of longer phrases."""
    inside = _fragment_shares(searcher, words) if len(words) == 2 else {}
    out = {}
    for path, w in weights.items():
        for word, typed in zip(path, keep, strict=True):
            if typed is None and word in FUNCTION_WORDS:
                w *= FUNCTION_WORD_WEIGHT
        share = inside.get(path, 0.0)
        out[path] = w * (1 - share) if share >= FRAGMENT_SHARE else w
    return out


def _fragment_shares(searcher: Searcher, words: list[str]) -> dict[tuple[str, ...], float]:
    """Per exact reading of the span *words*: the largest share of its occurrences
    that one neighbouring word accompanies (on either side)."""
    sides: dict[tuple, Counter] = {}
    for (surface, side, word), n in lexicon.span_neighbours(searcher, words).items():
        path = tuple(normalize_term(s)[0] for s in surface)
        sides.setdefault((path, side), Counter())[word] += n
    shares: dict[tuple[str, ...], float] = {}
    for (path, _), around in sides.items():
        total = sum(around.values())
        top = max((n for word, n in around.items() if word), default=0)
        shares[path] = max(shares.get(path, 0.0), top / total)
    return shares


def _shares(weights: dict) -> dict:
    """*weights* scaled to sum to 1 (order kept)."""
    total = sum(weights.values())
    return {k: w / total for k, w in weights.items()} if total else {}


def _exact_pairs(searcher: Searcher, words: list[str], per_article: bool = False) -> Counter:
    """How often the archive writes the folded pair *words* as each exact pair (in
    how many articles, *per_article*)."""
    counts: Counter = Counter()
    for surface, n in lexicon.pair_surfaces(searcher, words, per_article=per_article).items():
        counts[tuple(normalize_term(s)[0] for s in surface)] += n
    return counts


# --------------------------------------------------------------------------- words


def _candidates(searcher: Searcher, toks: list, i: int) -> dict[str, float]:
    """Folded words that may stand in slot *i*, with the cost of choosing each."""
    reader = searcher.reader()
    exact, folded = toks[i][0], toks[i][1]
    out: dict[str, float] = {}
    times = lexicon.frequency(reader, folded)
    if times:
        unseen = has_accents(exact) and not _spelled(reader, exact, folded)
        out[folded] = UNSEEN_SPELLING_COST if unseen else 0.0
    for decoded in ime_decode(exact):
        f = fold(decoded)
        if f != folded and lexicon.frequency(reader, f) > 0:
            out.setdefault(f, IME_COST)
    for word in _typo_fixes(searcher, toks, i, times):
        if not has_accents(exact) or _marked_form(reader, word, exact):
            out.setdefault(word, EDIT_COST)
            if times:  # a suspected typo of the archive's own gets no credit for it
                out[folded] = min(out[folded], EDIT_COST)
    if not out:
        out[folded] = 0.0  # nothing better: keep it
    return out


def _typo_fixes(searcher: Searcher, toks: list, i: int, times: int) -> list[str]:
    """Index words one edit from the word at *i* that may be what was meant.

    Any of them for a word the archive lacks or never writes next to its query
    neighbours; for a rare word standing among them, only far commoner ones
    (:data:`SUSPECT_TIMES`, :data:`TYPO_RATIO`).
    """
    folded = toks[i][1]
    if len(folded) < 3 or folded.isdigit():
        return []
    if not times or _isolated(searcher, toks, i):
        return [w for w, _ in lexicon.near_words(searcher.reader(), folded)]
    if times > SUSPECT_TIMES:
        return []
    near = lexicon.near_words(searcher.reader(), folded)
    return [w for w, n in near if n >= TYPO_RATIO * times]


def _spelled(reader, exact: str, folded: str) -> bool:
    """True when *exact* carries accents and the archive writes it that way."""
    return has_accents(exact) and exact in dict(lexicon.accent_forms(reader, folded))


def _marks(word: str) -> Counter:
    """The accent marks a word carries (tones, hats, horns, breves, the stroke of đ)."""
    return Counter(c for c in unicodedata.normalize("NFD", word.lower().replace("đ", "d\u0335"))
                   if unicodedata.combining(c))


def keeps_accents(typed: str, suggested: str) -> bool:
    """True when *suggested* carries every accent mark *typed* does (maybe more).

    What the user typed with accents is what they meant: a suggestion may add a
    mark the archive writes (``Ba Đinh`` → ``Ba Đình``) or fix a letter
    (``Hoạ`` → ``Hoạt``), never take a typed mark away (``Bà`` → ``ba``).
    """
    return not (_marks(typed) - _marks(suggested))


def _marked_form(reader, folded: str, typed: str) -> bool:
    """True when the archive spells *folded* with every mark of *typed* somewhere."""
    return any(keeps_accents(typed, f) for f, _ in lexicon.accent_forms(reader, folded))


def _lock(reader, tok: tuple, chosen: str) -> str | None:
    """The spelling a slot must keep: the word as typed with accents when the archive
    writes it so, or the Telex/VNI word the keystrokes spell; else ``None``."""
    exact, folded = tok[0], tok[1]
    if chosen == folded and _spelled(reader, exact, folded):
        return exact
    hint = _ime_hint(tok, chosen)
    if hint is not None and hint in dict(lexicon.accent_forms(reader, chosen)):
        return hint
    return None


def _isolated(searcher: Searcher, toks: list, i: int) -> bool:
    """True when the word at *i* stands next to none of its query neighbours in the archive."""
    neighbours = []
    if i > 0:
        neighbours.append([toks[i - 1][1], toks[i][1]])
    if i + 1 < len(toks):
        neighbours.append([toks[i][1], toks[i + 1][1]])
    return bool(neighbours) and not any(_pair(searcher, p, seen_only=True) for p in neighbours)


def _pair(searcher: Searcher, words: list[str], seen_only: bool = False) -> int:
    """How often *words* stand together (cached per searcher); 0/1 with *seen_only*."""
    cache = _pair_cache(searcher)
    key = (tuple(words), seen_only)
    if key not in cache:
        if seen_only:
            cache[key] = int(lexicon.pair_seen(searcher, words))
        else:
            cache[key] = lexicon.pair_count(searcher, words)
    return cache[key]


#: How often query words stand together, per reader (one per searcher).
_PAIRS: PerReader[dict] = registry.per_reader("spelling pairs")


def _pair_cache(searcher: Searcher) -> dict:
    cache = _PAIRS.get(searcher.reader(), dict)
    if len(cache) > 20_000:
        cache.clear()
    return cache


def _best_words(searcher: Searcher, slots: list[dict[str, float]]) -> list[str]:
    """The folded word sequence a bigram model of the archive likes best (Viterbi)."""
    reader = searcher.reader()
    total = lexicon.total_words(reader)
    if all(len(s) == 1 for s in slots):
        return [next(iter(s)) for s in slots]

    def unigram(word: str) -> float:
        return max(lexicon.frequency(reader, word), 0.5) / total

    best = {w: (math.log(unigram(w)) + cost, [w]) for w, cost in slots[0].items()}
    for slot in slots[1:]:
        step = {}
        for word, cost in slot.items():
            options = []
            for prev, (score, path) in best.items():
                together = _pair(searcher, [prev, word]) if len(slot) > 1 or len(best) > 1 else 1
                if together:
                    p = together / max(lexicon.frequency(reader, prev), together)
                else:
                    p = BACKOFF * unigram(word)
                options.append((score + math.log(p) + cost, path + [word]))
            step[word] = max(options)
        best = step
    return max(best.values())[1]


# --------------------------------------------------------------------------- accents


def _ime_hint(tok: tuple, chosen: str) -> str | None:
    """The Telex/VNI reading of a typed word when it spells the chosen word."""
    for decoded in ime_decode(tok[0]):
        if fold(decoded) == chosen:
            return decoded
    return None


def _accents(searcher, words: list[str], *, locked: list[str | None],
             keep: list[str | None]) -> list[str] | None:
    """Surface spellings (accents and case as the archive writes them) for *words*.

    *locked* spellings stand as given; a slot with *keep* only takes spellings that
    carry every mark typed there (:func:`keeps_accents`).
    """
    reader = searcher.reader()
    if len(words) >= 2:
        spans = lexicon.pair_surfaces(searcher, words)
        spelled = _best_span(spans, locked, keep)
        if spelled is not None:
            return spelled
    forms = [_forms(reader, w, lock, k) for w, lock, k in zip(words, locked, keep, strict=True)]
    if any(not f for f in forms):
        return None
    seen: list[Counter] = [Counter() for _ in words]  # slot → exact → cased surfaces
    pairs = []
    for i in range(len(words) - 1):
        counts: Counter = Counter()
        for surface, n in lexicon.pair_surfaces(searcher, words[i : i + 2]).items():
            exact = tuple(normalize_term(s)[0] for s in surface)
            counts[exact] += n
            seen[i][(exact[0], surface[0])] += n
            seen[i + 1][(exact[1], surface[1])] += n
        pairs.append(counts)
    chosen = _scored(forms, pairs, 1)[0][1]
    return [_cased(seen[i], chosen[i]) for i in range(len(words))]


def _allowed(exact: str, lock: str | None, keep: str | None) -> bool:
    """Whether a slot may take the spelling *exact*."""
    if lock is not None:
        return exact == lock
    return keep is None or keeps_accents(keep, exact)


def _best_span(spans: Counter, locked: list[str | None],
               keep: list[str | None]) -> list[str] | None:
    """The archive's most common spelling of the whole span, honouring typed accents."""
    by_exact: Counter = Counter()
    cased: dict[tuple, Counter] = {}
    for surface, n in spans.items():
        exact = tuple(normalize_term(s)[0] for s in surface)
        if not all(_allowed(e, lock, k) for e, lock, k in zip(exact, locked, keep, strict=True)):
            continue
        by_exact[exact] += n
        cased.setdefault(exact, Counter())[surface] += n
    if not by_exact:
        return None
    exact = by_exact.most_common(1)[0][0]
    out = []
    for k, e in enumerate(exact):
        seen: Counter = Counter()
        for surface, n in cased[exact].items():
            seen[(e, surface[k])] += n
        out.append(_cased(seen, e))
    return out


def _forms(reader, word: str, lock: str | None, keep: str | None,
           most: int = MAX_FORMS) -> list[tuple[str, float]]:
    """Exact spellings for one slot with their share of the word's occurrences.

    A slot typed with accents the archive never writes for this word keeps the
    typed spelling rather than lose a mark.
    """
    if lock is not None:
        return [(lock, 1.0)]
    forms = [(f, n) for f, n in lexicon.accent_forms(reader, word) if _allowed(f, None, keep)]
    forms = forms[:most] or [(keep if keep is not None and fold(keep) == word else word, 1)]
    total = sum(n for _, n in forms)
    return [(f, n / total) for f, n in forms]


def _scored(forms: list[list[tuple[str, float]]], pairs: list[Counter],
            limit: int) -> list[tuple[float, tuple[str, ...]]]:
    """The *limit* likeliest spellings of the whole query, ``(log-score, words)``.

    Each neighbouring pair of spellings scores how often the archive writes that
    pair among its spellings of the folded pair, smoothed by the two words' own
    shares (an unseen pair is rare, not impossible); a query scores the product.
    A pair's evidence is thus never discounted by its first word's frequency:
    ``Đà Nẵng`` beats ``đã nặng`` although ``đã`` is by far the commonest ``da``,
    and ``Ba Đình`` beats ``bà đinh`` after ``Quận ủy``.
    """
    beam = [(math.log(share), (form,)) for form, share in forms[0]]
    shares = [dict(slot) for slot in forms]
    for i, slot in enumerate(forms[1:]):
        counts = pairs[i]
        seen = sum(counts.values())
        step = []
        for score, path in beam:
            before = 0.0 if i == 0 else score  # the first pair replaces the first word's share
            for form, share in slot:
                n = counts.get((path[-1], form), 0)
                p = (n + shares[i][path[-1]] * share) / (seen + 1)
                step.append((before + math.log(p), path + (form,)))
        beam = sorted(step, reverse=True)[: max(limit, BEAM)]
    return sorted(beam, reverse=True)[:limit]


def _cased(seen: Counter, exact: str) -> str:
    """*exact* with capitals where the archive clearly writes them, from *seen*
    (``(exact, surface)`` → count, mid-sentence where known).

    A word gets the archive's capitalised surface only when at least
    :data:`CAPITAL_SHARE` of its occurrences carry one: ``Ba Đình`` and ``Nguyễn``
    do, ``nhân dân`` (``Ủy ban Nhân dân`` 156 times, ``Ủy ban nhân dân`` 185 in
    baomoi-2017) does not; near ties read as lowercase rather than by sample luck.
    """
    surfaces = Counter({surface: n for (e, surface), n in seen.items() if e == exact})
    capitals = Counter({w: n for w, n in surfaces.items() if w != w.lower()})
    if capitals and sum(capitals.values()) >= CAPITAL_SHARE * sum(surfaces.values()):
        return capitals.most_common(1)[0][0]
    return exact
