"""Whoosh analyzers built on :mod:`search.normalize`.

Whoosh's stock ``RegexTokenizer`` + ``LowercaseFilter`` mangle decomposed (NFD) text
and know nothing of Vietnamese tone placement or accent folding. These tokenizers
delegate every decision to :func:`search.normalize.tokens`, so the index, the query
parser and the snippet highlighter see exactly the same words.

Two analyzers exist, one per index form of a word:

* :data:`EXACT` — NFC, lower case, canonical tone (``hoà`` → ``hòa``);
* :data:`FOLDED` — plain ASCII (``Đình`` → ``dinh``), for accent-insensitive search.

They are module-level objects (not closures) so Whoosh can pickle them into the
index's schema and into its multiprocessing writers.
"""

from __future__ import annotations

from collections.abc import Iterator

from whoosh.analysis import Token, Tokenizer

from search.normalize import Token as WordToken
from search.normalize import tokens

# Whoosh indexes a document's fields in sorted order, so ``body`` is analysed right
# before ``body_f`` (and ``title`` before ``title_f``) from the very same string. One
# remembered (text, tokens) pair lets the second pass skip tokenising again.
_last: tuple[str, list[WordToken]] = ("", [])


def _tokens_once(value: str) -> list[WordToken]:
    global _last
    if _last[0] is value:
        return _last[1]
    toks = list(tokens(value))
    _last = (value, toks)
    return toks


class VietnameseTokenizer(Tokenizer):
    """Yield the exact or the folded form of every word, with positions and offsets."""

    def __init__(self, folded: bool = False):
        self.folded = folded

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VietnameseTokenizer) and other.folded == self.folded

    def __hash__(self) -> int:
        return hash((type(self), self.folded))

    def __call__(  # noqa: PLR0913 - Whoosh's tokenizer protocol
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
        **kwargs,
    ) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        folded = self.folded
        for tok in _tokens_once(value):
            t.text = tok.folded if folded else tok.exact
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = t.text
            if positions:
                t.pos = start_pos + tok.pos
            if chars:
                t.startchar = start_char + tok.start
                t.endchar = start_char + tok.end
            yield t


EXACT = VietnameseTokenizer(folded=False)
FOLDED = VietnameseTokenizer(folded=True)
