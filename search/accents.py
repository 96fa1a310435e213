"""The archive's accent model: which spellings a typed word may take, and how likely each is.

A query typed without accents (``quan uy ba dinh``) stands for some accented
spelling; the archive itself says which (its :class:`search.lexicons.Lexicon`,
whichever engine holds it). This module holds what the did-you-mean
(:mod:`search.spelling`) and the probable readings that rank results
(:mod:`search.readings`) share: a word's accent spellings with their shares
(:func:`spellings`), the likeliest spellings of a whole query from the archive's
word-pair counts (:func:`likeliest`), and the rules that what the user typed stands:
a typed mark is never taken away (:func:`keeps_accents`), a word typed with the
archive's accents or spelled by Telex/VNI keystrokes (:func:`ime_decode`) is kept
exactly (:func:`kept_spelling`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from functools import lru_cache

from search.lexicons import Lexicon
from search.normalize import fold, has_accents, nfc, normalize_term

#: Longest query (in words) the model reads (suggestions and readings alike).
MAX_WORDS = 8
#: Accent spellings considered per word.
MAX_FORMS = 6
#: Partial spellings kept while extending them word by word.
BEAM = 12

#: A typed word as :func:`search.normalize.token_tuples` gives it: exact form,
#: folded form, start, end, position.
TokenTuple = tuple[str, str, int, int, int]

_ASCII_WORD = re.compile(r"^[a-z0-9]+$")


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


def writes_so(words: Lexicon, exact: str, folded: str) -> bool:
    """True when *exact* carries accents and the archive (*words*) writes it that way."""
    return has_accents(exact) and exact in dict(words.accent_forms(folded))


def _marks(word: str) -> Counter[str]:
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


def kept_spelling(words: Lexicon, tok: TokenTuple, chosen: str) -> str | None:
    """The spelling a slot must keep: the word as typed with accents when the archive
    writes it so, or the Telex/VNI word the keystrokes spell; else ``None``."""
    exact, folded = tok[0], tok[1]
    if chosen == folded and writes_so(words, exact, folded):
        return exact
    hint = _ime_hint(tok, chosen)
    if hint is not None and hint in dict(words.accent_forms(chosen)):
        return hint
    return None


def _ime_hint(tok: TokenTuple, chosen: str) -> str | None:
    """The Telex/VNI reading of a typed word when it spells the chosen word."""
    for decoded in ime_decode(tok[0]):
        if fold(decoded) == chosen:
            return decoded
    return None


def may_take(exact: str, lock: str | None, keep: str | None) -> bool:
    """Whether a slot may take the spelling *exact*."""
    if lock is not None:
        return exact == lock
    return keep is None or keeps_accents(keep, exact)


def spellings(words: Lexicon, word: str, *, lock: str | None, keep: str | None,
              most: int = MAX_FORMS) -> list[tuple[str, float]]:
    """Exact spellings for one slot with their share of the word's occurrences.

    A slot typed with accents the archive never writes for this word keeps the
    typed spelling rather than lose a mark.
    """
    if lock is not None:
        return [(lock, 1.0)]
    counted = [(f, n) for f, n in words.accent_forms(word) if may_take(f, None, keep)]
    counted = counted[:most] or [(keep if keep is not None and fold(keep) == word else word, 1)]
    total = sum(n for _, n in counted)
    return [(f, n / total) for f, n in counted]


def likeliest(forms: list[list[tuple[str, float]]], pairs: list[Counter[tuple[str, ...]]],
              limit: int) -> list[tuple[float, tuple[str, ...]]]:
    """The *limit* likeliest spellings of the whole query, ``(log-score, words)``.

    Each neighbouring pair of spellings scores how often the archive writes that
    pair among its spellings of the folded pair, smoothed by the two words' own
    shares (an unseen pair is rare, not impossible); a query scores the product.
    A pair's evidence is thus never discounted by its first word's frequency:
    ``Đà Nẵng`` beats ``đã nặng`` although ``đã`` is by far the commonest ``da``,
    and ``Ba Đình`` beats ``bà đinh`` after ``Quận ủy``.
    """
    beam: list[tuple[float, tuple[str, ...]]] = [
        (math.log(share), (form,)) for form, share in forms[0]]
    shares = [dict(slot) for slot in forms]
    for i, slot in enumerate(forms[1:]):
        counts = pairs[i]
        seen = sum(counts.values())
        step: list[tuple[float, tuple[str, ...]]] = []
        for score, path in beam:
            before = 0.0 if i == 0 else score  # the first pair replaces the first word's share
            for form, share in slot:
                n = counts.get((path[-1], form), 0)
                p = (n + shares[i][path[-1]] * share) / (seen + 1)
                step.append((before + math.log(p), path + (form,)))
        beam = sorted(step, reverse=True)[: max(limit, BEAM)]
    return sorted(beam, reverse=True)[:limit]
