"""Did you mean: accent restoration, typo correction and Telex/VNI decoding for queries.

Vietnamese users often type without accents (``quan uy ba dinh``), make typos
(``Trần Đức Hoạ`` for ``Hoạt``), or type Telex/VNI with their keyboard tool off
(``quaanj uyr``, ``qua6n5 uy3``). :func:`suggest` proposes the query they meant,
using only the archive itself (its :class:`search.lexicons.Lexicon`: the local
index's own, :mod:`search.lexicon`, or a cluster's, :mod:`search.sphinx.lexicon`):

1. *Which words*: each typed word keeps its folded form when the archive knows it;
   Telex/VNI decodings (by ``bogo``) that give a known word, and — for a word the
   archive lacks, or one that stands next to none of its neighbours anywhere in
   the archive — known words one edit away, compete with it (the commonest, and
   rarer ones that stand next to a query neighbour somewhere: ``gữa sân`` →
   ``giữa sân``; a neighbour the archive lacks is no evidence against a word, and
   a word typed with accents the archive writes is kept). A small bigram
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
   (:func:`search.accents.keeps_accents`: ``Bà`` is never "corrected" to ``ba``); Telex/VNI
   keystrokes that spell an archive word keep that word (``quaanj`` → ``quận``),
   but a word the archive knows is read as keystrokes only where it stands next
   to none of its neighbours (``berns nhận định`` is not ``bén nhận định``). A
   word typed with accents the archive never writes may be one slip of a finger
   from the word meant, marks and all (``thđế`` → ``thuế``).
   A word the archive itself writes only a few times, one edit from a far
   commoner one, is read as the archive's typo (``ngyen xuan phuc`` →
   ``Nguyễn Xuân Phúc``, not ``Ngyễn``).
4. *Capitals*: the first word is capitalised (a suggestion reads as a phrase);
   any other word takes a capital only when the archive clearly writes it so —
   in at least two thirds of its occurrences in the query's context, not counting
   sentence starts (``Ba Đình``, ``Nguyễn Xuân Phúc``, but ``Ủy ban nhân dân``).

The suggestion is ``None`` when the query is already what the archive would write.
The accent model it shares with the probable readings that rank results
(:mod:`search.readings`) is :mod:`search.accents`'.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from whoosh.searching import Searcher

from search import lexicon
from search.accents import (
    MAX_WORDS,
    TokenTuple,
    ime_decode,
    keeps_accents,
    kept_spelling,
    likeliest,
    may_take,
    spellings,
    writes_so,
)
from search.lexicons import NEAR_WORDS, Lexicon
from search.normalize import fold, has_accents, nfc, normalize_term, token_tuples
from search.syntax import has_syntax

#: Log-probability cost of replacing a typed word by one an edit away.
EDIT_COST = math.log(1e-2)
#: Cost of keeping a word typed with accents the archive never writes that way.
UNSEEN_SPELLING_COST = math.log(0.1)
#: Cost of reading a word as Telex/VNI keystrokes: small, it is strong evidence.
IME_COST = math.log(0.3)
#: Weight of a unigram when a pair was never seen (stupid backoff).
BACKOFF = 0.4
#: A word the archive writes at most SUSPECT_TIMES times, one edit from a word
#: TYPO_RATIO times as frequent, is probably the archive's own typo (``Ngyễn Xuân
#: Phúc``, twice in 35k articles): keeping it costs as much as changing it, so the
#: archive's usage decides rather than the typo's few contexts.
SUSPECT_TIMES = 5
TYPO_RATIO = 50
#: Words one edit from a typo that may be chosen for fitting their neighbours,
#: beyond the :data:`~search.lexicons.NEAR_WORDS` commonest.
NEAR_IN_CONTEXT = 40
#: Share of a word's occurrences (mid-sentence, in the query's context) that must
#: be capitalised for the suggestion to capitalise it.
CAPITAL_SHARE = 2 / 3


@dataclass
class Suggestion:
    """A query the user probably meant."""

    text: str
    corrected: bool  # words changed (typo, Telex/VNI), not only accents restored

    def as_dict(self) -> dict[str, str | bool]:
        return {"text": self.text, "corrected": self.corrected}


def searched_form(typed: str, suggestion: str) -> str:
    """The *suggestion* for the *typed* query as its results are searched: a word
    typed without marks loses the marks the suggestion guessed for it.

    The guess is one reading; searched unmarked, the word is ranked by its likely
    readings like any word typed so (``ngori`` → ``ngồi`` shown, ``ngoi`` searched:
    the article meant may say "ngoài"). Marks the user typed stay."""
    said, shown = token_tuples(typed), token_tuples(suggestion)
    if len(said) != len(shown):
        return suggestion
    out, last = [], 0
    for was, tok in zip(said, shown, strict=True):
        word = suggestion[tok[2] : tok[3]]
        out += [suggestion[last : tok[2]], word if has_accents(was[0]) else fold(word)]
        last = tok[3]
    return "".join([*out, suggestion[last:]])


def suggest(source: Lexicon | Searcher, text: str) -> Suggestion | None:
    """The query the user most likely meant, or ``None`` if *text* is already it.

    *source* is the archive's vocabulary: any engine's :class:`~search.lexicons.Lexicon`,
    or a Whoosh searcher on the local index (read through :func:`search.lexicon.of`).
    """
    text = nfc(text.strip())
    if not text or has_syntax(text):  # query syntax: not rewritten
        return None
    toks = token_tuples(text)
    if not toks or len(toks) > MAX_WORDS:
        return None
    words_of = lexicon.of(source)
    typed = [t[1] for t in toks]
    slots = [_candidates(words_of, toks, i) for i in range(len(toks))]
    chosen = _best_words(words_of, slots)
    corrected = chosen != typed
    locked = [kept_spelling(words_of, toks[i], chosen[i]) for i in range(len(toks))]
    if not corrected and all(lock is not None for lock in locked):
        return None  # every word stands as typed: the archive could only change its case
    keep = [_kept_marks(words_of, toks[i][0], chosen[i]) for i in range(len(toks))]
    words = _accents(words_of, chosen, locked=locked, keep=keep)
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


# --------------------------------------------------------------------------- words


def _candidates(lex: Lexicon, toks: list[TokenTuple], i: int) -> dict[str, float]:
    """Folded words that may stand in slot *i*, with the cost of choosing each."""
    exact, folded = toks[i][0], toks[i][1]
    out: dict[str, float] = {}
    times = lex.frequency(folded)
    if times:
        unseen = has_accents(exact) and not writes_so(lex, exact, folded)
        out[folded] = UNSEEN_SPELLING_COST if unseen else 0.0
    isolated = not times or _isolated(lex, toks, i)
    if isolated:
        for decoded in ime_decode(exact):
            f = fold(decoded)
            if f != folded and lex.frequency(f) > 0:
                out.setdefault(f, IME_COST)
    for word in _typo_fixes(lex, toks, i, times=times, isolated=isolated):
        if not has_accents(exact) or _marked_form(lex, word, exact) or (
                not times and _one_edit_form(lex, word, exact)):
            out.setdefault(word, EDIT_COST)
            if times:  # a suspected typo of the archive's own gets no credit for it
                out[folded] = min(out[folded], EDIT_COST)
    if not out:
        out[folded] = 0.0  # nothing better: keep it
    return out


def _kept_marks(lex: Lexicon, typed: str, chosen: str) -> str | None:
    """The typed word whose marks the suggestion must keep in its slot: the word
    typed with accents, unless it was changed to a word no spelling of which keeps
    them all (a slip that added a mark: ``thđế`` → ``thuế``)."""
    if not has_accents(typed):
        return None
    if fold(typed) != chosen and not _marked_form(lex, chosen, typed):
        return None
    return typed


def _typo_fixes(lex: Lexicon, toks: list[TokenTuple], i: int, *, times: int,
                isolated: bool) -> list[str]:
    """Index words one edit from the word at *i* (*times* in the archive, *isolated*
    from its query neighbours there) that may be what was meant.

    Any of them for a word the archive lacks or never writes next to its query
    neighbours; for a rare word standing among them, only far commoner ones
    (:data:`SUSPECT_TIMES`, :data:`TYPO_RATIO`).
    """
    folded = toks[i][1]
    if len(folded) < 3 or folded.isdigit():
        return []
    if not times or (isolated and not writes_so(lex, toks[i][0], folded)):
        return _near_in_context(lex, toks, i)
    if times > SUSPECT_TIMES:
        return []
    near = lex.near_words(folded)
    return [w for w, n in near if n >= TYPO_RATIO * times]


def _near_in_context(lex: Lexicon, toks: list[TokenTuple], i: int) -> list[str]:
    """Archive words one edit from the word at *i*: the :data:`NEAR_WORDS`
    commonest, and any of the next :data:`NEAR_IN_CONTEXT` that stands next to a
    query neighbour in the archive. A short syllable has dozens of neighbours
    (``gua``: ``qua``, ``cua``, ``gia`` … all commoner than ``giua``); the one
    that fits the words around it is the one meant (``gữa sân`` → ``giữa sân``)."""
    near = [w for w, _ in lex.near_words(toks[i][1], NEAR_IN_CONTEXT)]
    known = _known_neighbours(lex, toks, i)
    return near[:NEAR_WORDS] + [
        w for w in near[NEAR_WORDS:]
        if any(lex.pair_seen(p) for p in _pairs_with(toks, known, at=i, word=w))]


def _marked_form(lex: Lexicon, folded: str, typed: str) -> bool:
    """True when the archive spells *folded* with every mark of *typed* somewhere."""
    return any(keeps_accents(typed, f) for f, _ in lex.accent_forms(folded))


def _one_edit_form(lex: Lexicon, folded: str, typed: str) -> bool:
    """True when the archive spells *folded* one letter's edit from *typed*, accents
    and all: a slip of the finger on a word typed with accents may add a mark
    (``thđế`` for ``thuế``) or drop one, and then no spelling keeps every typed mark."""
    typed = typed.lower()
    return any(one_edit(typed, form) for form, _ in lex.accent_forms(folded))


def one_edit(a: str, b: str) -> bool:
    """True when *a* and *b* (NFC) differ by one deletion, insertion, substitution
    or swap of neighbouring letters."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    if len(a) == len(b):
        swapped = (head + 1 < len(a) and a[head] == b[head + 1] and a[head + 1] == b[head]
                   and a[head + 2 :] == b[head + 2 :])
        return swapped or a[head + 1 :] == b[head + 1 :]
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return longer[head + 1 :] == shorter[head:]


def _isolated(lex: Lexicon, toks: list[TokenTuple], i: int) -> bool:
    """True when the word at *i* stands next to none of its query neighbours in the
    archive. Neighbours the archive lacks say nothing (``miễn thđế``: the slip is
    ``thđế``'s, not ``miễn``'s)."""
    neighbours = _pairs_with(toks, _known_neighbours(lex, toks, i), at=i,
                             word=toks[i][1])
    return bool(neighbours) and not any(lex.pair_seen(p) for p in neighbours)


def _known_neighbours(lex: Lexicon, toks: list[TokenTuple], i: int) -> list[int]:
    """The slots beside *i* whose words the archive knows: only they can say
    whether a word in slot *i* stands where the archive writes it."""
    return [j for j in (i - 1, i + 1) if 0 <= j < len(toks) and lex.frequency(toks[j][1])]


def _pairs_with(toks: list[TokenTuple], neighbours: list[int], *, at: int,
                word: str) -> list[list[str]]:
    """The word pairs *word*, standing in slot *at*, makes with the folded words of
    the *neighbours* slots, in reading order."""
    return [[toks[j][1], word] if j < at else [word, toks[j][1]] for j in neighbours]


def _best_words(lex: Lexicon, slots: list[dict[str, float]]) -> list[str]:
    """The folded word sequence a bigram model of the archive likes best (Viterbi)."""
    total = lex.total_words()
    if all(len(s) == 1 for s in slots):
        return [next(iter(s)) for s in slots]

    def unigram(word: str) -> float:
        return max(lex.frequency(word), 0.5) / total

    best = {w: (math.log(unigram(w)) + cost, [w]) for w, cost in slots[0].items()}
    for slot in slots[1:]:
        step = {}
        for word, cost in slot.items():
            options = []
            for prev, (score, path) in best.items():
                together = lex.pair_count([prev, word]) if len(slot) > 1 or len(best) > 1 else 1
                if together:
                    p = together / max(lex.frequency(prev), together)
                else:
                    p = BACKOFF * unigram(word)
                options.append((score + math.log(p) + cost, path + [word]))
            step[word] = max(options)
        best = step
    return max(best.values())[1]


# --------------------------------------------------------------------------- accents


def _accents(lex: Lexicon, words: list[str], *, locked: list[str | None],
             keep: list[str | None]) -> list[str] | None:
    """Surface spellings (accents and case as the archive writes them) for *words*.

    *locked* spellings stand as given; a slot with *keep* only takes spellings that
    carry every mark typed there (:func:`search.accents.keeps_accents`).
    """
    if len(words) >= 2:
        spans = lex.pair_surfaces(words)
        spelled = _best_span(spans, locked, keep)
        if spelled is not None:
            return spelled
    forms = [spellings(lex, w, lock=lock, keep=k)
             for w, lock, k in zip(words, locked, keep, strict=True)]
    if any(not f for f in forms):
        return None
    # Per slot: (exact, cased surface) → count.
    seen: list[Counter[tuple[str, str]]] = [Counter() for _ in words]
    pairs: list[Counter[tuple[str, ...]]] = []
    for i in range(len(words) - 1):
        counts: Counter[tuple[str, ...]] = Counter()
        for surface, n in lex.pair_surfaces(words[i : i + 2]).items():
            exact = tuple(normalize_term(s)[0] for s in surface)
            counts[exact] += n
            seen[i][(exact[0], surface[0])] += n
            seen[i + 1][(exact[1], surface[1])] += n
        pairs.append(counts)
    chosen = likeliest(forms, pairs, 1)[0][1]
    return [_cased(seen[i], chosen[i]) for i in range(len(words))]


def _best_span(spans: Counter[tuple[str, ...]], locked: list[str | None],
               keep: list[str | None]) -> list[str] | None:
    """The archive's most common spelling of the whole span, honouring typed accents."""
    by_exact: Counter[tuple[str, ...]] = Counter()
    cased: dict[tuple[str, ...], Counter[tuple[str, ...]]] = {}
    for surface, n in spans.items():
        exact = tuple(normalize_term(s)[0] for s in surface)
        if not all(may_take(e, lock, k) for e, lock, k in zip(exact, locked, keep, strict=True)):
            continue
        by_exact[exact] += n
        cased.setdefault(exact, Counter())[surface] += n
    if not by_exact:
        return None
    exact = by_exact.most_common(1)[0][0]
    out: list[str] = []
    for k, e in enumerate(exact):
        seen: Counter[tuple[str, str]] = Counter()
        for surface, n in cased[exact].items():
            seen[(e, surface[k])] += n
        out.append(_cased(seen, e))
    return out


def _cased(seen: Counter[tuple[str, str]], exact: str) -> str:
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
