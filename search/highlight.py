"""Snippets: the best 1–3 fragments of an article with the matched words marked.

Matching works on both index forms of every word, so a query typed without accents
(``dang vien``) marks the accented words of the original text (``đảng viên``). The
text is tokenised with :func:`search.normalize.tokens`, the same function the index
uses, so what is marked is exactly what matched.

A :class:`Snippet` is plain text plus match offsets; front ends decide how to show
it (terminal colour, ``<mark>`` in HTML via :meth:`Snippet.html`, which escapes).
"""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from search.normalize import fold_aligned, glued_seams, tokens

#: Target length of one fragment, in characters.
FRAGMENT_CHARS = 180


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

    def as_dict(self) -> dict:
        return {"text": self.text, "matches": [list(m) for m in self.matches], "html": self.html()}


def find_matches(text: str, exact: set[str], folded: set[str]) -> list[tuple[int, int]]:
    """Offsets of the words of *text* whose exact or folded form is wanted.

    Fast path: every query word reaches the index through its folded form, so when
    *folded* is given it alone decides. The whole text is folded at once (for
    Vietnamese each letter folds to one ASCII letter, so the offsets stay aligned)
    and one regular expression finds the words. Where a glued word's part starts
    (``NamTừ``), the fold is upper-cased: the regex takes an upper-case letter as a
    word boundary too, as the tokenizer splits there. Text that is not NFC, or
    where a match straddles a seam without being the whole glued word (so is no
    token), takes the word-by-word path. Empty words mark nothing.
    """
    folded = {w for w in folded if w}
    if folded:
        flat = fold_aligned(text)
        if flat is not None:
            seams = glued_seams(text)
            if not seams:
                return _joined(m.span() for m in _words_regex(frozenset(folded)).finditer(flat))
            ends = [*seams[1:], len(flat)]
            flat = flat[:seams[0]] + "".join(
                flat[a].upper() + flat[a + 1 : b] for a, b in zip(seams, ends, strict=True))
            spans = [m.span() for m in _words_regex(frozenset(folded)).finditer(flat)]
            if all(_is_token(span, seams) for span in spans):
                return _joined(spans)
    return _token_matches(text, exact, folded)


def _is_token(span: tuple[int, int], seams: list[int]) -> bool:
    """True when a match is a token: a whole word, or a part between seams."""
    start, end = span
    inside = bisect_right(seams, start) < len(seams) and seams[bisect_right(seams, start)] < end
    return not inside or (start not in seams and end not in seams)


def _joined(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans with touching ones merged: the parts of one glued word mark it once."""
    found: list[tuple[int, int]] = []
    for start, end in spans:
        if found and start == found[-1][1]:
            found[-1] = (found[-1][0], end)
        else:
            found.append((start, end))
    return found


def _token_matches(text: str, exact: set[str], folded: set[str]) -> list[tuple[int, int]]:
    """Word-by-word matching with :func:`search.normalize.tokens` (exact and folded)."""
    found: list[tuple[int, int]] = []
    for tok in tokens(text):
        if tok.exact in exact or tok.folded in folded:
            if found and tok.start <= found[-1][1]:  # a glued word and its parts
                found[-1] = (min(found[-1][0], tok.start), max(found[-1][1], tok.end))
            else:
                found.append((tok.start, tok.end))
    return found


@lru_cache(maxsize=256)
def _words_regex(words: frozenset[str]) -> re.Pattern:
    """A regex matching any of *words* (folded, so lower-case ASCII) as whole words,
    longest first. A word starts after a non-word character or at an upper-case
    letter (a glued word's seam, see :func:`find_matches`) and ends likewise."""
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?:(?<![^\W_])|(?=[A-Z]))(?ai:{alternatives})(?![^\W_A-Z])")


def mark_all(text: str, exact: set[str], folded: set[str]) -> Snippet:
    """The whole of a short text (a title) with its matches marked."""
    return Snippet(text, find_matches(text, exact, folded))


def snippets(
    text: str,
    exact: set[str],
    folded: set[str],
    limit: int = 3,
    width: int = FRAGMENT_CHARS,
) -> list[Snippet]:
    """Up to *limit* fragments of *text* around its densest groups of matches.

    With no match in the text (the hit matched on its title only), the opening of
    the text is returned, unmarked, so every hit still shows some context.
    """
    matches = find_matches(text, exact, folded)
    if not matches:
        return [_fragment(text, 0, width, [])] if text.strip() else []
    windows = _best_windows(text, matches, limit, width)
    return [_fragment(text, start, width, matches) for start in sorted(windows)]


def _best_windows(
    text: str, matches: list[tuple[int, int]], limit: int, width: int
) -> list[int]:
    """Start offsets of up to *limit* non-overlapping windows holding the most matches."""
    scored = []
    stop = 0  # matches[i:stop] fit in the window starting at match i (ends only grow)
    for i, (start, _) in enumerate(matches):
        stop = max(stop, i)
        while stop < len(matches) and matches[stop][1] <= start + width:
            stop += 1
        words = {text[s:e].lower() for s, e in matches[i:stop]}
        scored.append((len(words), stop - i, -start, start))
    scored.sort(reverse=True)
    chosen: list[int] = []
    for *_, start in scored:
        if all(abs(start - other) >= width for other in chosen):
            chosen.append(start)
        if len(chosen) == limit:
            break
    return chosen


def _fragment(text: str, anchor: int, width: int, matches: list[tuple[int, int]]) -> Snippet:
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
    # Flatten line breaks: a snippet is one line of context.
    body = " ".join(piece.split())
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    inside = [(s - start, e - start) for s, e in matches if s >= start and e <= end]
    spans = _remap(piece, body, inside)
    shift = len(prefix)
    return Snippet(prefix + body + suffix, [(s + shift, e + shift) for s, e in spans])


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
    runs = [(m.start(), m.end()) for m in _SPACES.finditer(piece)]
    starts = [a for a, _ in runs]
    removed, total = [], 0  # characters dropped by the runs up to and including each
    for a, b in runs:
        total += b - a if a == 0 else b - a - 1
        removed.append(total)

    def at(i: int) -> int:  # *i* is not inside a run
        k = bisect_right(starts, i)
        return i - (removed[k - 1] if k else 0)

    out = []
    for s, e in spans:
        if piece[s].isspace() or piece[e - 1].isspace():
            continue  # matches are words: they neither start nor end with a space
        out.append((at(s), at(e - 1) + 1))
    return [(s, e) for s, e in out if body[s:e].strip()]


_SPACES = re.compile(r"\s+")
