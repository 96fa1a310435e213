"""Whoosh analyzers built on :mod:`search.normalize`.

Whoosh's stock ``RegexTokenizer`` + ``LowercaseFilter`` mangle decomposed (NFD) text
and know nothing of Vietnamese tone placement or accent folding. These tokenizers
delegate every decision to :func:`search.normalize.tokens`, so the index, the query
parser and the snippet highlighter see exactly the same words.

Three analyzers, one per index form of a word:

* :data:`FOLDED` — plain ASCII (``Đình`` → ``dinh``): what every query matches;
* :data:`EXACT` — NFC, lower case, canonical tone (``hoà`` → ``hòa``): for parsing
  queries;
* :data:`ACCENTED` — like :data:`EXACT` but only words that carry accents or ``đ``.
  The exact fields exist to rank ``bà`` above ``ba`` and to exclude ``-bà``; a word
  typed without accents never looks there, so indexing unaccented words in them
  would only cost postings.

They are module-level objects (not closures) so Whoosh can pickle them into the
index's schema and into its multiprocessing writers.
"""

from __future__ import annotations

from collections.abc import Iterator

from whoosh.analysis import Token, Tokenizer

from search.normalize import token_tuples

WordToken = tuple[str, str, int, int, int]  # (exact, folded, start, end, pos)

#: Separates the parts of a multi-part field value (title ⁋ body in ``text_f``).
#: It is whitespace, so it also separates words, and cleaned titles never contain it.
PART_SEPARATOR = "\u2029"
#: Positions left between parts, so that a phrase cannot span title and body.
PART_GAP = 10

# Whoosh indexes a document's fields one after another, and the same text comes back
# several times (``body``, then ``text_f`` = title ⁋ body, ``title`` then ``title_f``).
# A few remembered (text → tokens) entries, the oldest dropped first, let every
# text of a document be tokenised once.
_recent: dict[str, list[WordToken]] = {}
_RECENT_MAX = 8


def _tokens_once(value: str) -> list[WordToken]:
    toks = _recent.get(value)
    if toks is None:
        if len(_recent) >= _RECENT_MAX:
            del _recent[next(iter(_recent))]  # the oldest
        toks = _recent[value] = token_tuples(value)
    return toks


def _parts(value: str) -> Iterator[tuple[list[WordToken], int, int]]:
    """``(tokens, char offset, position offset)`` for each part of a field value."""
    char_offset = pos_offset = 0
    for part in value.split(PART_SEPARATOR):
        toks = _tokens_once(part)
        yield toks, char_offset, pos_offset
        char_offset += len(part) + 1
        if toks:
            pos_offset += toks[-1][4] + 1 + PART_GAP


class VietnameseTokenizer(Tokenizer):
    """Yield the exact, folded or accented-only form of every word."""

    MODES = ("exact", "folded", "accented")

    def __init__(self, mode: str = "exact"):
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}")
        self.mode = mode

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VietnameseTokenizer) and other.mode == self.mode

    def __hash__(self) -> int:
        return hash((type(self), self.mode))

    def __call__(  # noqa: PLR0913, PLR0917 - Whoosh's tokenizer protocol
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        folded = self.mode == "folded"
        accented_only = self.mode == "accented"
        for toks, char_offset, pos_offset in _parts(value):
            for exact, folded_form, start, end, pos in toks:
                if accented_only and exact == folded_form:
                    continue
                t.text = folded_form if folded else exact
                t.boost = 1.0
                t.stopped = False
                if keeporiginal:
                    t.original = t.text
                if positions:
                    t.pos = start_pos + pos_offset + pos
                if chars:
                    t.startchar = start_char + char_offset + start
                    t.endchar = start_char + char_offset + end
                yield t


EXACT = VietnameseTokenizer("exact")
FOLDED = VietnameseTokenizer("folded")
ACCENTED = VietnameseTokenizer("accented")
