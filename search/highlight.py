"""Snippets: the best 1–3 fragments of an article with the matched words marked.

Matching works on both index forms of every word, so a query typed without accents
(``dang vien``) marks the accented words of the original text (``đảng viên``). The
text is tokenised with :func:`search.normalize.tokens`, the same function the index
uses, so what is marked is exactly what matched.

What is marked follows what the query means, not only what it folds to:

* **The reading.** A query typed without (or with partial) accents comes with its
  probable accented readings (``bong da viet nam`` → ``bóng đá việt nam``, from
  :func:`search.readings.readings`). Where a text writes a query word in the
  reading's form, only those occurrences are marked ("bóng đá", "Việt Nam"; not
  "đã", "năm"); a word the text never writes so is marked by its fold, as
  before, so an article that matched only after folding keeps its marks. Of
  several readings, a text follows the one it writes most words of side by
  side, then most words of, then the likeliest: an article about "bà Đinh" is
  marked as such under ``ba dinh``. Where no reading can be computed (quotes,
  fields, long queries), the words typed with accents are the reading
  (:func:`typed_reading`): ``"siêu bão"`` marks "siêu bão", not "siêu bạo".
* **Phrases.** Words a query asks for only in a row (``"giai phong mat bang"``)
  are marked only where they stand in a row, as the index matched them: a lone
  "phòng" elsewhere is not.
* **Best fragment first.** Fragments are chosen first for the longest run of the
  query's words standing side by side in the query's order, then for the most
  distinct words, then the most matches; the best comes first, the others follow
  in text order.

A :class:`Snippet` is plain text plus match offsets; front ends decide how to show
it (terminal colour, ``<mark>`` in HTML via :meth:`Snippet.html`, which escapes).
"""

from __future__ import annotations

import html
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress
from typing import NamedTuple, TypedDict

from search.normalize import fold, fold_aligned_with_seams, nfc, normalize_term, tokens

#: Target length of one fragment, in characters.
FRAGMENT_CHARS = 180

Span = tuple[int, int]
#: Word sequences: readings (exact forms) or phrases (folded forms), in query order.
Words = tuple[str, ...]


class SnippetDict(TypedDict):
    """A snippet as JSON: its text, the ``[start, end]`` of each match, and the HTML."""

    text: str
    matches: list[list[int]]
    html: str


@dataclass
class Snippet:
    """A fragment of text and the ``(start, end)`` offsets of marked words in it."""

    text: str
    matches: list[tuple[int, int]]

    def html(self) -> str:
        """The fragment as HTML: all text escaped, matches wrapped in ``<mark>``."""
        out, last = [], 0
        for start, end in self.matches:
            out.append(html.escape(self.text[last:start]))
            out.append(f"<mark>{html.escape(self.text[start:end])}</mark>")
            last = end
        out.append(html.escape(self.text[last:]))
        return "".join(out)

    def as_dict(self) -> SnippetDict:
        return {"text": self.text, "matches": [list(m) for m in self.matches], "html": self.html()}


class Marking(NamedTuple):
    """What one query asks the highlighter to mark (see the module docstring).

    *exact* and *folded* words are marked wherever they stand; the words of
    *phrases* (folded) that are in neither only where the phrase stands in a row.
    *readings* are the query's probable accented readings, likeliest first.
    """

    exact: set[str]
    folded: set[str]
    phrases: tuple[Words, ...] = ()
    readings: tuple[Words, ...] = ()


class _Word(NamedTuple):
    """One matched word of a text: where it stands and its two index forms."""

    start: int
    end: int
    folded: str
    exact: str


def find_matches(
    text: str,
    exact: set[str],
    folded: set[str],
    *,
    phrases: Sequence[Words] = (),
    readings: Sequence[Words] = (),
) -> list[Span]:
    """Offsets (into ``nfc(text)``) of the words of *text* to mark for a query.

    *exact* and *folded* words are wanted anywhere, *phrases* only in a row, and
    *readings* narrow each query word to its reading's spelling where the text
    writes it so (see the module docstring). Touching marks (the parts of a glued
    word) are merged.
    """
    words = _marked_words(nfc(text), exact, folded, phrases=phrases, readings=readings)
    return _joined((w.start, w.end) for w in words)


def _marked_words(
    text: str, exact: set[str], folded: set[str], *, phrases: Sequence[Words],
    readings: Sequence[Words],
) -> list[_Word]:
    """The matched words of NFC *text*, filtered by the reading and the phrases."""
    wanted = _wanted(frozenset(exact), frozenset(folded), tuple(phrases))
    words = _matched_words(text, exact, wanted.folded)
    words = _under_reading(text, words, readings)
    return _in_phrases(text, words, wanted.runs, only_together=wanted.only_together)


class _Wanted(NamedTuple):
    """What a query looks for in each text: its folded words (anywhere or in
    phrases), its phrases of several words, and the words wanted only in those."""

    folded: frozenset[str]
    runs: tuple[Words, ...]
    only_together: frozenset[str]


@lru_cache(maxsize=64)
def _wanted(exact: frozenset[str], folded: frozenset[str], phrases: tuple[Words, ...]) -> _Wanted:
    """:class:`_Wanted` of a query's marking: worked out once for the texts of a
    page (a title and a body a hit), not once a text. Empty words mark nothing."""
    runs = tuple(p for p in phrases if len(p) > 1)
    loose = {w for w in folded if w} | {w for p in phrases if len(p) == 1 for w in p}
    only_together = {w for p in runs for w in p} - loose - {fold(e) for e in exact}
    return _Wanted(frozenset(w for w in loose | only_together if w), runs,
                   frozenset(only_together))


def _matched_words(text: str, exact: set[str], folded: frozenset[str]) -> list[_Word]:
    """Every word of NFC *text* whose exact or folded form is wanted, in order.

    Fast path: every query word reaches the index through its folded form, so when
    *folded* is given it alone decides. The whole text is folded at once (for
    Vietnamese each letter folds to one ASCII letter, so the offsets stay aligned)
    and the words are looked for in the fold (:func:`_folded_spans`). Where a glued
    word's part starts (``NamTừ``), the fold is upper-cased: that letter starts a
    word too, as the tokenizer splits there. Text where a match straddles a seam
    takes the word-by-word path: either it is no token, or it is a whole glued
    word, which the tokenizer also yields part by part (the reading and the phrases
    may keep a part and drop the whole). *folded* has no empty word.
    """
    if folded:
        aligned = fold_aligned_with_seams(text)
        if aligned is not None:
            flat, seams = aligned
            if seams:
                ends = [*seams[1:], len(flat)]
                flat = flat[:seams[0]] + "".join(
                    flat[a].upper() + flat[a + 1 : b] for a, b in zip(seams, ends, strict=True))
            spans = _folded_spans(flat, folded, seams)
            if spans is not None:
                return _words_at(text, flat, spans, cased=bool(seams))
    return _token_words(text, exact, folded)


def _folded_spans(flat: str, words: frozenset[str], seams: list[int]) -> list[Span] | None:
    """Where *words* stand as whole words in *flat* (a fold with its seams
    upper-cased), in order; ``None`` when a match straddles a seam.

    Words of plain letters and digits (all of a query's, in practice) are looked
    for one literal at a time, which the regex engine scans for far faster than
    for a set of alternatives that each start with a boundary test; then a word
    is one part of a glued word (lower-case, or capitalised at its seam), and
    what spells a word across a seam is looked for among the glued words alone
    (:func:`_spelled_across_seams`). Other words take :func:`_words_regex`.
    """
    if not all(_PLAIN.fullmatch(w) for w in words):
        spans = [m.span() for m in _words_regex(words).finditer(flat)]
    elif seams and _spelled_across_seams(flat, words, seams):
        return None
    else:
        found = [m.span() for p in _plain_patterns(words, capitals=bool(seams))
                 for m in p.finditer(flat)]
        spans = sorted(found) if len(found) > 1 else found
    if seams and any(_straddles(span, seams) for span in spans):
        return None
    return spans


#: A word of plain lower-case ASCII letters and digits.
_PLAIN = re.compile(r"[a-z0-9]+")
#: A run of letters and digits in a fold.
_RUN = re.compile(r"[A-Za-z0-9]+")
#: The start of a glued word's part in a fold (an upper-cased letter).
_PART = re.compile(r"(?=[A-Z])")
#: Above this many words, one pattern of alternatives scans once instead of one
#: pattern a word.
_ONE_PATTERN_AFTER = 8


def _plain_patterns(words: frozenset[str], *, capitals: bool) -> list[re.Pattern[str]]:
    """Patterns finding the plain *words* in a fold as whole words or glued parts:
    one a word (remembered a word, as queries share words), or one for all past
    :data:`_ONE_PATTERN_AFTER` words (an expanded prefix)."""
    if len(words) > _ONE_PATTERN_AFTER:
        return [_words_pattern(tuple(sorted(words, key=lambda w: (-len(w), w))), capitals)]
    return [_words_pattern((w,), capitals) for w in words]


@lru_cache(maxsize=4096)
def _words_pattern(words: tuple[str, ...], capitals: bool) -> re.Pattern[str]:
    """A pattern finding any of the plain *words* (longest first) in a fold.

    A word is lower-case after no letter or digit, or (with *capitals*)
    capitalised anywhere (the start of a glued word's part); either way it ends
    where no lower-case letter or digit follows. Each alternative starts with its
    literal, so the engine skips to where one could start.
    """
    alternatives = []
    for word in words:
        alternatives.append(f"{word}(?<![A-Za-z0-9]{word})")
        if capitals and word[0].isalpha():
            alternatives.append(word[0].upper() + word[1:])
    return re.compile(f"(?:{'|'.join(alternatives)})(?![a-z0-9])")


def _spelled_across_seams(flat: str, words: frozenset[str], seams: list[int]) -> bool:
    """True when parts of a glued word in *flat*, two or more side by side, spell
    one of *words* (then a match would straddle a seam)."""
    checked = -1  # glued words end at or before this offset have been checked
    for seam in seams:
        if seam < checked or not flat[seam].isupper():
            continue
        start = seam
        while start and flat[start - 1].isalnum():
            start -= 1
        glued = _RUN.match(flat, start)
        assert glued is not None  # the seam's letter is one
        checked = glued.end()
        parts = [p.lower() for p in _PART.split(glued.group()) if p]
        for i in range(len(parts) - 1):
            spelled = parts[i]
            for part in parts[i + 1 :]:
                spelled += part
                if spelled in words:
                    return True
    return False


def _words_at(text: str, flat: str, spans: list[Span], *, cased: bool) -> list[_Word]:
    """The words of *text* at *spans*, with their folds from *flat* (lower-cased
    when upper-case letters mark its seams: *cased*)."""
    if cased:
        return [_Word(s, e, flat[s:e].lower(), normalize_term(text[s:e])[0]) for s, e in spans]
    return [_Word(s, e, flat[s:e], normalize_term(text[s:e])[0]) for s, e in spans]


def _straddles(span: Span, seams: list[int]) -> bool:
    """True when a glued word's seam lies inside a match."""
    start, end = span
    after = bisect_right(seams, start)
    return after < len(seams) and seams[after] < end


def _joined(spans: Iterable[Span]) -> list[Span]:
    """Spans (in order of their starts) with touching or overlapping ones merged:
    the parts of one glued word mark it once."""
    found: list[Span] = []
    for start, end in spans:
        if found and start <= found[-1][1]:
            found[-1] = (found[-1][0], max(found[-1][1], end))
        else:
            found.append((start, end))
    return found


def _token_words(text: str, exact: set[str], folded: AbstractSet[str]) -> list[_Word]:
    """Word-by-word matching with :func:`search.normalize.tokens` (exact and folded);
    a glued word comes before its parts."""
    return [_Word(t.start, t.end, t.folded, t.exact) for t in tokens(text)
            if t.exact in exact or t.folded in folded]


@lru_cache(maxsize=256)
def _words_regex(words: frozenset[str]) -> re.Pattern[str]:
    """A regex matching any of *words* (folded, so lower-case ASCII) as whole words,
    longest first. A word starts after a non-word character or at an upper-case
    letter (a glued word's seam, see :func:`find_matches`) and ends likewise."""
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?:(?<![^\W_])|(?=[A-Z]))(?ai:{alternatives})(?![^\W_A-Z])")


def typed_reading(query: str) -> Words:
    """The words of *query* typed with accents, as the index spells them, in order.

    For queries :func:`search.readings.readings` does not read (quotes, fields,
    operators, many words): what the user typed with accents is what they meant.
    """
    return tuple(t.exact for t in tokens(query) if t.exact != t.folded)


def _under_reading(text: str, words: list[_Word], readings: Sequence[Words]) -> list[_Word]:
    """*words* narrowed to the reading this text follows.

    The text follows the reading it writes most words of side by side (``Nam Từ
    Liêm`` over ``năm``), then the one it writes most words of, then the
    likeliest. A query word the text writes in that reading's form keeps only
    those occurrences; one it never writes so keeps all its folded matches.
    """
    if not readings or not words:
        return words
    exacts = [w.exact for w in words]
    written = set(exacts)
    reading = readings[0]
    if len(readings) > 1:  # max() keeps the first (likeliest) of ties
        reading = max(readings, key=lambda r: _reading_evidence(text, words, r, exacts=exacts))
    forms: dict[str, set[str]] = {}
    for exact, folded in _reading_parts(reading).folds:
        if exact in written:
            forms.setdefault(folded, set()).add(exact)
    if not forms:
        return words
    return [w for w in words if w.folded not in forms or w.exact in forms[w.folded]]


class _ReadingParts(NamedTuple):
    """A reading's words as a set, its pairs of words side by side, and each
    word with its fold."""

    spelled: frozenset[str]
    pairs: frozenset[tuple[str, str]]
    folds: tuple[tuple[str, str], ...]


@lru_cache(maxsize=256)
def _reading_parts(reading: Words) -> _ReadingParts:
    """:class:`_ReadingParts` of *reading*: once a query, not once a text."""
    return _ReadingParts(frozenset(reading), frozenset(zip(reading, reading[1:], strict=False)),
                         tuple((exact, fold(exact)) for exact in reading))


def _reading_evidence(text: str, words: list[_Word], reading: Words, *,
                      exacts: list[str]) -> tuple[int, int]:
    """How well the text follows *reading*: the most of its words the text writes
    side by side, then how many of them it writes, in its spelling (*exacts*:
    the exact forms of *words*). A reading it writes none of has none."""
    parts = _reading_parts(reading)
    written = parts.spelled.intersection(exacts)
    if not written:
        return 0, 0
    runs = _run_lengths(text, words, parts.pairs, keys=exacts)
    spelled = parts.spelled
    return max(n for n, exact in zip(runs, exacts, strict=True) if exact in spelled), len(written)


def _in_phrases(text: str, words: list[_Word], runs: Sequence[Words], *,
                only_together: AbstractSet[str]) -> list[_Word]:
    """*words* without the phrase words that stand outside every phrase occurrence."""
    if not only_together:
        return words
    keep = [w.folded not in only_together for w in words]
    for run in runs:
        size = len(run)
        for i in range(len(words) - size + 1):
            if words[i].folded == run[0] and _stands_in_a_row(text, words[i : i + size], run):
                keep[i : i + size] = [True] * size
    return [w for w, kept in zip(words, keep, strict=True) if kept]


def _stands_in_a_row(text: str, words: Sequence[_Word], run: Words) -> bool:
    """True when *words* are *run*'s words, each right after the one before."""
    return len(words) == len(run) and all(
        w.folded == r for w, r in zip(words, run, strict=True)
    ) and all(_adjacent(text, a, b) for a, b in zip(words, words[1:], strict=False))


#: A letter or digit: what makes a word (as :func:`search.normalize.tokens` splits).
_WORD_CHAR = re.compile(r"[^\W_]")


def _adjacent(text: str, first: _Word, second: _Word) -> bool:
    """True when no other word stands between two matched words (as a phrase
    query sees them: punctuation between them does not count)."""
    return second.start <= first.end or not _WORD_CHAR.search(text, first.end, second.start)


def _side_by_side(text: str, first: _Word, second: _Word) -> bool:
    """True when two matched words stand together in one phrase of the text: only
    spaces between them. Stricter than :func:`_adjacent`, for the evidence that
    picks a reading and a fragment ("Quận ủy; bà …" does not say "ủy bà")."""
    return second.start <= first.end or text[first.end : second.start].isspace()


def mark_all(
    text: str,
    exact: set[str],
    folded: set[str],
    *,
    phrases: Sequence[Words] = (),
    readings: Sequence[Words] = (),
) -> Snippet:
    """The whole of a short text (a title) with its matches marked."""
    text = nfc(text)
    return Snippet(text, find_matches(text, exact, folded, phrases=phrases, readings=readings))


def snippets(  # noqa: PLR0913 - query.py passes a marking's parts; one Marking after its split
    text: str,
    exact: set[str],
    folded: set[str],
    *,
    limit: int = 3,
    width: int = FRAGMENT_CHARS,
    phrases: Sequence[Words] = (),
    readings: Sequence[Words] = (),
) -> list[Snippet]:
    """Up to *limit* fragments of *text* around its best groups of matches, the
    best first (where the query's words stand together), the others in text order.

    With no match in the text (the hit matched on its title only), the opening of
    the text is returned, unmarked, so every hit still shows some context.
    """
    text = nfc(text)
    words = _marked_words(text, exact, folded, phrases=phrases, readings=readings)
    if not words:
        return [_fragment(text, 0, width=width, matches=[])] if text.strip() else []
    matches = _joined((w.start, w.end) for w in words)
    pairs = _query_pairs(tuple(phrases), tuple(readings))
    best, *others = _best_windows(text, words, pairs, limit=limit, width=width)
    return [_fragment(text, start, width=width, matches=matches)
            for start in [best, *sorted(others)]]


@lru_cache(maxsize=64)
def _query_pairs(phrases: tuple[Words, ...],
                 readings: tuple[Words, ...]) -> frozenset[tuple[str, str]]:
    """Folded word pairs the query has side by side (its phrases and its reading):
    once a query, not once a text."""
    sequences = [*phrases, *([fold(w) for w in r] for r in readings)]
    return frozenset((s[i], s[i + 1]) for s in sequences for i in range(len(s) - 1))


def _best_windows(
    text: str, words: list[_Word], pairs: AbstractSet[tuple[str, str]], *, limit: int, width: int
) -> list[int]:
    """Start offsets of up to *limit* non-overlapping windows, best first.

    A window (starting at a matched word, *width* characters long) scores by the
    longest run of matched words standing together in the query's order
    (*pairs*), then by its distinct words, then by its matches.
    """
    runs = _run_lengths(text, words, pairs, keys=[w.folded for w in words])
    chained = [j for j, run in enumerate(runs) if run > 1]  # the other words count 1
    exacts = [w.exact for w in words]
    ends = [w.end for w in words]
    scored = []
    stop = 0  # words[i:stop] fit in the window starting at word i (ends only grow)
    for i, start in enumerate([w.start for w in words]):
        stop = max(stop, i)
        while stop < len(ends) and ends[stop] <= start + width:
            stop += 1
        together = 1
        if chained:
            inside = chained[bisect_left(chained, i) : bisect_left(chained, stop)]
            together = max((min(runs[j], j - i + 1) for j in inside), default=1)
        distinct = len(set(exacts[i:stop])) if stop - i > 1 else stop - i
        scored.append((together, distinct, stop - i, -start, start))
    scored.sort(reverse=True)
    chosen: list[int] = []
    for *_, start in scored:
        if all(abs(start - other) >= width for other in chosen):
            chosen.append(start)
        if len(chosen) == limit:
            break
    return chosen


def _run_lengths(text: str, words: list[_Word], pairs: AbstractSet[tuple[str, str]], *,
                 keys: list[str]) -> list[int]:
    """For each matched word, how many matched words end with it standing side by
    side in the query's order (1 when it does not follow the one before so); the
    *pairs* are of the words' *keys* (their folded or their exact forms)."""
    runs = [1] * len(words)
    if not pairs:
        return runs
    pairs_in_text = zip(keys, keys[1:], strict=False)
    followed = compress(range(1, len(keys)), map(pairs.__contains__, pairs_in_text))
    for i in followed:  # in order: the run before i is final
        if _side_by_side(text, words[i - 1], words[i]):
            runs[i] = runs[i - 1] + 1
    return runs


def _fragment(text: str, anchor: int, *, width: int, matches: list[tuple[int, int]]) -> Snippet:
    """Cut a fragment starting a little before *anchor*, on word boundaries."""
    lead = width // 5
    start = max(0, anchor - lead)
    if start > 0:
        space = _last_space(text, 0, start + 1)
        if anchor - space < width // 2:  # also when space == -1: start at the top
            start = space + 1
    end = min(len(text), start + width)
    if end < len(text):
        space = _last_space(text, start, end)
        end = space if space > anchor else end
    piece = text[start:end]
    body = _one_line(piece)
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    # The matches wholly inside. Joined matches neither touch nor overlap: of those
    # that start before the end, only the last can cross it.
    first = bisect_left(matches, (start,))
    stop = bisect_left(matches, (end,), lo=first)
    if stop > first and matches[stop - 1][1] > end:
        stop -= 1
    inside = [(s - start, e - start) for s, e in matches[first:stop]]
    spans = _remap(piece, body, inside)
    shift = len(prefix)
    return Snippet(prefix + body + suffix, [(s + shift, e + shift) for s, e in spans])


def _one_line(piece: str) -> str:
    """*piece* with its line breaks flattened (a snippet is one line of context):
    each run of whitespace one space, none at the ends. A piece whose only
    whitespace is lone spaces inside stands as it is (the usual fragment: any other
    whitespace character is unprintable)."""
    if piece.isprintable() and "  " not in piece and piece[:1] != " " and piece[-1:] != " ":
        return piece
    return " ".join(piece.split())


def _last_space(text: str, lo: int, hi: int) -> int:
    """Index of the last whitespace character in ``text[lo:hi]``, or -1."""
    for i in range(min(hi, len(text)) - 1, lo - 1, -1):
        if text[i].isspace():
            return i
    return -1


def _remap(piece: str, body: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Translate offsets in *piece* to offsets in its whitespace-collapsed form *body*
    (``" ".join(piece.split())``): each run of whitespace became one space, or none
    at the ends."""
    if body == piece:  # nothing collapsed (the usual fragment): offsets stand
        return [(s, e) for s, e in spans if body[s:e].strip()]
    runs = [m.span() for m in _DROPPING_SPACES.finditer(piece)]
    starts = [a for a, _ in runs]
    removed = [0]  # characters dropped by the first k runs, for each k
    for a, b in runs:
        removed.append(removed[-1] + (b - a if a == 0 else b - a - 1))
    out = []
    for s, e in spans:
        if piece[s].isspace() or piece[e - 1].isspace():
            continue  # matches are words: they neither start nor end with a space
        # Neither s nor e - 1 is inside a run: the runs before them moved them.
        out.append((s - removed[bisect_right(starts, s)],
                    e - removed[bisect_right(starts, e - 1)]))
    return [(s, e) for s, e in out if body[s:e].strip()]


#: The runs of whitespace that collapsing drops characters of: several in a row,
#: or any at the start (a lone space or line break inside only becomes a space).
_DROPPING_SPACES = re.compile(r"^\s+|\s\s+")
