"""Vietnamese text normalisation: the one place that decides what a "word" is.

Every other module (indexing, querying, highlighting, metadata extraction) gets its
words from :func:`tokens`, so the index and the query always agree on:

* **Unicode form** — text is NFC-normalised first. Decomposed (NFD) input, which some
  archives contain, would otherwise be cut apart by a ``\\w+`` tokenizer.
* **Tone placement** — Vietnamese has two conventions for where the tone mark sits in
  the open syllables ``oa``, ``oe``, ``uy`` (old ``hòa``/``thủy`` vs new ``hoà``/``thuỷ``).
  Both spell the same word, so :func:`canonical_tone` moves the mark to the old-style
  position (``hòa``, ``thủy``, ``khỏe``, ``hóa``), the form most Vietnamese news uses.
  Closed syllables (``hoàn``, ``toàn``) and ``qu``/``gi`` onsets (``quý``, ``quốc``) are
  already unambiguous and stay as they are.
* **Case** — terms are lower-cased.
* **Separators** — anything that is not a letter or digit separates words: NBSP,
  zero-width spaces and joiners, smart quotes, underscores.
* **Glued words** — a missing space shows up as CamelCase inside a word (``NamTừ``);
  such a word also yields its parts (``nam``, ``từ``).
* **Accent folding** — :func:`fold` maps a term to plain ASCII (``đ``→``d``, all tone
  and vowel marks stripped) for the accent-insensitive fields.

Folding and tone canonicalisation are done per distinct *token* and memoised, so the
per-token cost on a real archive is one dictionary lookup. The fold itself uses a
``str.translate`` table that ``unidecode`` fills lazily, one code point at a time
(calling ``unidecode`` per token was measured ≈4.5× slower).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from unidecode import unidecode

__all__ = [
    "Token",
    "canonical_tone",
    "fold",
    "has_accents",
    "nfc",
    "normalize_term",
    "place_key",
    "terms",
    "tokens",
]

# A word is a run of letters/digits (``\w`` without the underscore). Combining marks
# are included so that stray NFD marks left after NFC stay inside their word.
_WORD = re.compile(r"[^\W_]+")

# Combining tone marks: grave, acute, tilde, hook above, dot below.
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
_VOWELS = frozenset("aăâeêioôơuưyAĂÂEÊIOÔƠUƯYàáảãạ")
# Open-syllable nuclei whose tone position differs between the old and new styles.
_AMBIGUOUS_NUCLEI = frozenset({"oa", "oe", "uy"})


#: Texts from this long on have their :func:`nfc` remembered, the last
#: :data:`NFC_REMEMBERED` of them (a shorter one is checked faster than looked up).
NFC_REMEMBERED_FROM = 256
NFC_REMEMBERED = 8


class Token(NamedTuple):
    """One word of a text, with both of its index forms and where it stands."""

    exact: str  # NFC, lower-cased, canonical tone placement ("hòa")
    folded: str  # ASCII, accents and đ folded ("hoa")
    start: int  # character offsets into the NFC text
    end: int
    pos: int  # word position (glued parts get consecutive positions)


def nfc(text: str) -> str:
    """Return *text* in Unicode NFC (cheap when it already is)."""
    if text.isascii():
        return text
    if len(text) >= NFC_REMEMBERED_FROM:
        return _remembered_nfc(text)
    return _nfc(text)


@lru_cache(maxsize=NFC_REMEMBERED)
def _remembered_nfc(text: str) -> str:
    """:func:`nfc` of a long text, remembered for the last few: indexing asks it of
    an article's text and of its body several times over (the steps of extraction,
    the place scan, the word ids), and each asking read the whole text."""
    return _nfc(text)


def _nfc(text: str) -> str:
    if unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


def canonical_tone(word: str) -> str:
    """Move the tone mark of one syllable to its canonical (old-style) place.

    ``hoà``→``hòa``, ``thuỷ``→``thủy``, ``khoẻ``→``khỏe``; ``hoàn``, ``quý``,
    ``quốc`` are returned unchanged. Case is preserved. Words that are not a single
    Vietnamese syllable with one tone mark are returned as given (NFC).
    """
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFD", word)
    tones = [c for c in decomposed if c in _TONES]
    if len(tones) != 1:
        return unicodedata.normalize("NFC", word)
    base = unicodedata.normalize("NFC", decomposed.replace(tones[0], ""))
    lower = base.lower()
    start = _nucleus_start(lower)
    if start is None:
        return unicodedata.normalize("NFC", word)
    end = start
    while end < len(lower) and lower[end] in _VOWELS:
        end += 1
    nucleus = lower[start:end]
    if nucleus not in _AMBIGUOUS_NUCLEI:
        return unicodedata.normalize("NFC", word)
    target = start if end == len(lower) else start + 1  # open: first vowel; closed: second
    return unicodedata.normalize("NFC", base[: target + 1] + tones[0] + base[target + 1 :])


def _nucleus_start(lower: str) -> int | None:
    """Index of the first vowel of the syllable's nucleus, skipping ``qu``/``gi`` onsets."""
    for i, ch in enumerate(lower):
        if ch in _VOWELS:
            if i > 0 and lower[i - 1] == "q" and ch == "u":
                continue
            if (
                i > 0
                and lower[i - 1] == "g"
                and ch == "i"
                and i + 1 < len(lower)
                and lower[i + 1] in _VOWELS
            ):
                continue
            return i
    return None


class _FoldTable(dict[int, str]):
    """A ``str.translate`` table filled on demand from ``unidecode``.

    Only ASCII letters and digits survive folding; everything else a code point
    transliterates to (spaces, punctuation: ``½`` → `` 1/2``) is dropped, so a folded
    term is always one plain word.
    """

    def __missing__(self, codepoint: int) -> str:
        ascii_ = unidecode(chr(codepoint)).lower()
        value = "".join(c for c in ascii_ if c.isalnum())
        self[codepoint] = value
        return value


_FOLD_TABLE = _FoldTable({cp: chr(cp).lower() for cp in range(128)})
for _cp in list(range(0xC0, 0x250)) + list(range(0x1E00, 0x1F00)) + list(range(0x300, 0x370)):
    _FOLD_TABLE[_cp]  # noqa: B018 - pre-fill the Latin and combining ranges
_FOLD_TABLE[ord("đ")] = "d"
_FOLD_TABLE[ord("Đ")] = "d"


def fold(text: str) -> str:
    """Fold *text* to lower-case ASCII: ``Quận ủy Ba Đình`` → ``quan uy ba dinh``.

    Meant for single terms (what :func:`tokens` yields); on longer text it still folds
    letter by letter, but drops non-alphanumeric transliterations.
    """
    if text.isascii():
        return text.lower()
    folded = text.translate(_FOLD_TABLE).lower()
    return folded or text.lower()


class _AlignedFoldTable(dict[int, str]):
    """A translate table mapping every character to exactly one character.

    Letters and digits fold as in :func:`fold`; anything that folds to nothing
    becomes a space (a separator), anything that folds to several letters (``ß``,
    ``½``) becomes ``\x01``, which no query word contains.
    """

    def __missing__(self, codepoint: int) -> str:
        folded = _FOLD_TABLE[codepoint]
        value = folded if len(folded) == 1 else (" " if not folded else "\x01")
        self[codepoint] = value
        return value


_ALIGNED_TABLE = _AlignedFoldTable({cp: chr(cp).lower() for cp in range(128)})


class _CaseTable(dict[int, str]):
    """A translate table: upper-case letters → ``U``, lower-case → ``l``, rest → space."""

    def __missing__(self, codepoint: int) -> str:
        ch = chr(codepoint)
        value = "U" if ch.isupper() else ("l" if ch.islower() else " ")
        self[codepoint] = value
        return value


_CASE_TABLE = _CaseTable()
# The two seams _split_glued cuts at: lower→Upper ("NamTừ") and the last capital of
# a run that starts a lower-case word ("TPHồ" → "TP" + "Hồ"); the cut is one
# character into the match. A lookahead, so seams that share letters all count.
_SEAM = re.compile("(?=lU|UUl)")


def has_glued_words(text: str) -> bool:
    """True when *text* has a glued word (``NamTừ``, ``TPHồ``): words that
    :func:`tokens` splits but a plain fold does not."""
    return bool(glued_seams(text))


def glued_seams(text: str) -> list[int]:
    """Offsets in *text* where :func:`tokens` starts a part of a glued word
    (``NamTừ`` → ``[3]``): the seams a plain fold does not see."""
    return _seams(text, _codes(text))


def _seams(text: str, codes: npt.NDArray[np.uint32] | None) -> list[int]:
    """:func:`glued_seams` of *text*, through the array of its *codes* where there
    is one (:func:`_codes`). Most texts have no seam: one look at the case
    string's bytes says so."""
    case = None if codes is None else _looked_up(codes, _array_of(_CASE_TABLE))
    if case is None:
        return [m.start() + 1 for m in _SEAM.finditer(text.translate(_CASE_TABLE))]
    cases = case.tobytes()
    if b"lU" not in cases and b"UUl" not in cases:
        return []
    upper = case == _UPPER
    lower = case == _LOWER
    after_lower = np.flatnonzero(lower[:-1] & upper[1:]) + 1
    capital_run = np.flatnonzero(upper[:-2] & upper[1:-1] & lower[2:]) + 1
    if not len(capital_run):
        seams: list[int] = after_lower.tolist()
    else:
        seams = np.union1d(after_lower, capital_run).tolist()
    return seams


_UPPER, _LOWER = ord("U"), ord("l")


def fold_aligned(text: str) -> str | None:
    """*text* folded to lower-case ASCII character for character, or ``None`` when
    *text* is not in NFC (offsets into the fold would not point into *text*).

    One pass over the whole text: the highlighter uses it to find matches without
    tokenising article bodies word by word.
    """
    if not (text.isascii() or unicodedata.is_normalized("NFC", text)):
        return None
    return _lookup(text, _ALIGNED_TABLE)


def fold_aligned_with_seams(text: str) -> tuple[str, list[int]] | None:
    """:func:`fold_aligned` and :func:`glued_seams` of *text* at once (``None``
    when it is not in NFC): the highlighter needs both of every article body, and
    both read the text's code points, which are taken once here."""
    if not (text.isascii() or unicodedata.is_normalized("NFC", text)):
        return None
    codes = _codes(text)
    flat = None if codes is None else _looked_up(codes, _array_of(_ALIGNED_TABLE))
    folded = text.translate(_ALIGNED_TABLE) if flat is None else flat.tobytes().decode("ascii")
    return folded, _seams(text, codes)


#: Code points below this are mapped through numpy arrays (:func:`_lookup`): all of
#: Latin, Vietnamese (U+1EA0–U+1EF9) and the usual punctuation (U+2010–U+2026).
_ARRAY_SPAN = 0x2100
_ARRAYS: dict[int, np.ndarray] = {}  # id of a translate table → its array, built on first use


def _lookup(text: str, table: dict[int, str]) -> str:
    """``text.translate(table)`` for a table mapping each character to one ASCII
    character, several times faster on long Vietnamese text (see :func:`_mapped`)."""
    out = _mapped(text, table)
    return text.translate(table) if out is None else out.tobytes().decode("ascii")


def _mapped(text: str, table: dict[int, str]) -> np.ndarray | None:
    """*text* through *table* as an array of ASCII codes: the code points index a
    numpy array. ``None`` for short text (not worth it) and for text with a
    character beyond the array's span or mapping to anything but one ASCII one."""
    return _through(text, _array_of(table))


def _through(text: str, array: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8] | None:
    """*text*'s code points looked up in *array* (one per code point below
    :data:`_ARRAY_SPAN`); ``None`` for short text (not worth it), a character
    beyond the array, or one the array maps to 0."""
    codes = _codes(text)
    return None if codes is None else _looked_up(codes, array)


def _codes(text: str) -> npt.NDArray[np.uint32] | None:
    """*text*'s code points as an array to look up (:func:`_looked_up`); ``None``
    for short text (not worth it) or a character beyond :data:`_ARRAY_SPAN`."""
    if len(text) < 64:
        return None
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    return None if codes.max() >= _ARRAY_SPAN else codes


def _looked_up(codes: npt.NDArray[np.uint32],
               array: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8] | None:
    """*codes* looked up in *array*; ``None`` when one maps to 0. (``take`` is
    several times faster than indexing with an array, and the codes are in range.)"""
    out = array.take(codes)
    return out if out.all() else None


def _array_of(table: dict[int, str]) -> npt.NDArray[np.uint8]:
    """*table* as an array over the code points below :data:`_ARRAY_SPAN`: each
    one's ASCII code, 0 where it maps to anything else."""
    array = _ARRAYS.get(id(table))
    if array is None:  # the tables are module-level singletons: their id is stable
        mapped = [table[cp] for cp in range(_ARRAY_SPAN)]
        array = np.frombuffer("".join(
            m if len(m) == 1 and m.isascii() else "\x00" for m in mapped).encode(), np.uint8)
        _ARRAYS[id(table)] = array
    return array


_SPACE = ord(" ")
#: Place names whose filter key (:func:`place_key`) is remembered: every indexed
#: article's places and provinces are keyed, from a gazetteer of a few hundred.
PLACE_KEYS_REMEMBERED = 4096


@lru_cache(maxsize=8)
def folded_words(text: str) -> tuple[list[str], list[int]]:
    """The folded words of *text* and where each starts (glued words as their parts).

    For metadata scans (places, word counts) that need every word but not the
    exact forms: a long text is folded and cut through lookup arrays; a short one,
    or one with characters beyond them, goes through :func:`tokens`.
    Remembered for the last few texts (extraction scans a body for places and
    counts its words), so callers must not modify the lists.
    """
    text = nfc(text)
    codes = _codes(text)  # taken once for the seams and the words
    seams = _seams(text, codes)
    found = None if codes is None else _long_folded_words(codes, seams)
    if found is not None:
        return found
    toks = token_tuples(text)
    kept = [t for i, t in enumerate(toks) if not (i + 1 < len(toks) and toks[i + 1][4] == t[4])]
    return [t[1] for t in kept], [t[2] for t in kept]


def _long_folded_words(codes: npt.NDArray[np.uint32],
                       seams: list[int]) -> tuple[list[str], list[int]] | None:
    """:func:`folded_words` of a long text, given its *codes* (:func:`_codes`),
    through a lookup array (each word character's fold, a space for the rest), a
    glued word cut before each seam. ``None`` when the array cannot say it (a
    character whose fold is not one letter or digit)."""
    folded = _looked_up(codes, _word_folds())
    if folded is None:
        return None
    in_word = folded != _SPACE
    starts = np.empty(len(folded), dtype=bool)
    starts[0] = in_word[0]
    starts[1:] = in_word[1:] & ~in_word[:-1]
    if seams:  # a glued word's parts are words: cut it before each
        starts[seams] = True
        folded = np.insert(folded, seams, _SPACE)
    return folded.tobytes().decode("ascii").split(), np.flatnonzero(starts).tolist()


@lru_cache(maxsize=1)
def _word_folds() -> npt.NDArray[np.uint8]:
    """Per code point below :data:`_ARRAY_SPAN`: a space for what :func:`tokens`
    does not cut words of, the fold of a letter or digit when it is one ASCII
    letter or digit, else 0."""
    out = np.zeros(_ARRAY_SPAN, dtype=np.uint8)
    for cp in range(_ARRAY_SPAN):
        char = chr(cp)
        if not char.isalnum():  # what _WORD takes
            out[cp] = _SPACE
            continue
        folded = fold(char)
        if len(folded) == 1 and folded.isascii() and folded.isalnum():
            out[cp] = ord(folded)
    return out


def has_accents(word: str) -> bool:
    """True when folding changes *word* beyond case (it carries marks or ``đ``)."""
    return not word.isascii()


# Memo of raw word → (exact term, folded term). A news archive has a few tens of
# thousands of distinct surface forms, so this stays small while making per-token
# work a single lookup.
_TERM_CACHE: dict[str, tuple[str, str]] = {}
_TERM_CACHE_LIMIT = 500_000


def normalize_term(word: str) -> tuple[str, str]:
    """Return the ``(exact, folded)`` index terms of one word (memoised)."""
    cached = _TERM_CACHE.get(word)
    if cached is not None:
        return cached
    exact = canonical_tone(word).lower() if not word.isascii() else word.lower()
    pair = (exact, fold(exact))
    if len(_TERM_CACHE) < _TERM_CACHE_LIMIT:
        _TERM_CACHE[word] = pair
    return pair


def _split_glued(word: str) -> list[tuple[str, int]]:
    """Split a CamelCase-glued word into ``(part, offset)`` pairs (one pair if none).

    A seam is an upper-case letter that follows a lower-case one (``NamTừ``), or that
    ends a run of capitals and starts a lower-case word (``TPHồ`` → ``TP`` + ``Hồ``).
    """
    if word.islower() or word.isupper() or word.istitle():
        return [(word, 0)]
    cuts = [0]
    for i in range(1, len(word)):
        if not word[i].isupper():
            continue
        before = word[i - 1]
        after = word[i + 1] if i + 1 < len(word) else ""
        if before.islower() or (before.isupper() and after.islower()):
            cuts.append(i)
    if len(cuts) == 1:
        return [(word, 0)]
    bounds = [*cuts, len(word)]
    return [(word[a:b], a) for a, b in zip(bounds, bounds[1:], strict=False)]


#: How one raw word is indexed: ``(exact, folded, offset, length, advance)`` per
#: term — one term for most words, the whole and its parts for a glued one.
WordPlan = tuple[tuple[str, str, int, int, int], ...]


# Memo of raw word → its "plan": ((exact, folded, offset, length, advances), ...).
# Most words have a one-entry plan; a glued word has the whole plus its parts.
_PLAN_CACHE: dict[str, WordPlan] = {}


def _plan(word: str) -> WordPlan:
    parts = _split_glued(word)
    plan: WordPlan
    if len(parts) == 1:
        plan = (normalize_term(word) + (0, len(word), 1),)
    else:
        # The glued whole is kept too (same position as its first part), so "namtừ"
        # still matches; the parts take consecutive positions for phrases.
        plan = (normalize_term(word) + (0, len(word), 0),) + tuple(
            normalize_term(part) + (offset, len(part), 1) for part, offset in parts
        )
    if len(_PLAN_CACHE) < _TERM_CACHE_LIMIT:
        _PLAN_CACHE[word] = plan
    return plan


def raw_words(text: str) -> list[str]:
    """The raw words of NFC *text*, as :func:`token_tuples` cuts them before
    normalising: for callers that normalise each distinct word once
    (:func:`word_plan`) rather than every occurrence.

    A long text is cut through a lookup array (every character that is not a
    letter or digit becomes a space) and ``str.split``: a third less time than the
    regex on article bodies, the indexer's biggest texts.
    """
    codes = _codes(text)
    if codes is None:
        return _WORD.findall(text)
    return _word_chars().take(codes).tobytes().decode("utf-32-le").split()


@lru_cache(maxsize=1)
def _word_chars() -> npt.NDArray[np.uint32]:
    """Per code point below :data:`_ARRAY_SPAN`: itself when :data:`_WORD` takes
    it (``[^\\W_]`` is ``str.isalnum``), else a space."""
    return np.array([cp if chr(cp).isalnum() else _SPACE for cp in range(_ARRAY_SPAN)],
                    dtype=np.uint32)


def word_plan(word: str) -> WordPlan:
    """The terms :func:`token_tuples` makes of one raw word (memoised): each with
    its offset in the word, length and how many positions it advances."""
    return _PLAN_CACHE.get(word) or _plan(word)


def token_tuples(text: str) -> list[tuple[str, str, int, int, int]]:
    """:func:`tokens` as plain ``(exact, folded, start, end, pos)`` tuples.

    The indexer's hot loop: building a named tuple per word costs more than the
    dictionary lookup that normalises it.
    """
    text = nfc(text)
    out: list[tuple[str, str, int, int, int]] = []
    append = out.append
    pos = 0
    cache = _PLAN_CACHE
    for match in _WORD.finditer(text):
        word = match.group()
        plan = cache.get(word) or _plan(word)
        start = match.start()
        if len(plan) == 1:
            exact, folded, _, length, _ = plan[0]
            append((exact, folded, start, start + length, pos))
            pos += 1
            continue
        for exact, folded, offset, length, advance in plan:
            append((exact, folded, start + offset, start + offset + length, pos))
            pos += advance
    return out


def tokens(text: str) -> Iterator[Token]:
    """Split *text* into normalised :class:`Token` s.

    Offsets refer to ``nfc(text)``; callers that need to slice the text must slice
    the NFC form (the indexer stores text in NFC for that reason).
    """
    return map(Token._make, token_tuples(text))


@lru_cache(maxsize=PLACE_KEYS_REMEMBERED)
def place_key(name: str) -> str:
    """A place name as a filter key: folded words joined by spaces (``TP.HCM`` → ``tp hcm``)."""
    return " ".join(t.folded for t in tokens(name))


def terms(text: str, folded: bool = False) -> list[str]:
    """The list of exact (or folded) terms of *text*: a convenience for tests and queries."""
    return [t.folded if folded else t.exact for t in tokens(text)]
