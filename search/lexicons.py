"""What the did-you-mean and the accent readings ask of an archive's vocabulary.

:mod:`search.spelling` (did you mean, typo fixes), :mod:`search.readings` (the
probable accented readings that rank results) and the typo tolerance of
:mod:`search.relax` need the same few facts about the words an archive holds,
whichever engine holds it: the :class:`Lexicon` protocol names exactly those. The
local Whoosh index answers them from its own term dictionaries and positions
(:class:`search.lexicon.LocalLexicon`); a Sphinx/Manticore cluster from the
vocabulary kept beside it and phrase queries to the cluster
(:class:`search.sphinx.lexicon.ClusterLexicon`). So one model of Vietnamese
spelling serves both, and both engines suggest the same thing on the same articles.
"""

from __future__ import annotations

from collections import Counter
from typing import Protocol

#: A span's words as the archive writes them: ``("Quận", "ủy", "Ba", "Đình")``.
Surface = tuple[str, ...]
#: A surface, which side of it (``-1`` before, ``1`` after) and the folded word there.
Neighbour = tuple[Surface, int, str]
#: What one article says about a span: its surfaces mid-sentence, at a sentence
#: start, and the words around it.
Spans = tuple[Counter[Surface], Counter[Surface], Counter[Neighbour]]

#: Words one edit away that :meth:`Lexicon.near_words` gives by default.
NEAR_WORDS = 8
#: Articles read for how a span is spelled (:meth:`Lexicon.pair_surfaces`): enough
#: for its usual spellings and case, few enough to read per query. The likely
#: reading's probabilities come from these counts, so this sets their noise: on
#: baomoi-2017, 24 articles put ``nha trang`` = "Nha Trang" at 0.56 where all of
#: them say 0.81 (mean error of the intended reading over the short-query set
#: 0.029, worst 0.26); 48 articles: 0.012, worst 0.09.
SPAN_ARTICLES = 48


class Lexicon(Protocol):
    """An archive's vocabulary, as spelling and readings read it (all words folded)."""

    def frequency(self, folded: str) -> int:
        """How many times *folded* occurs in the archive (title and body)."""
        ...

    def total_words(self) -> int:
        """How many words the archive holds (at least 1: a divisor)."""
        ...

    def accent_forms(self, folded: str) -> list[tuple[str, int]]:
        """Every spelling of *folded* in the archive with its count, most frequent first
        (the unaccented spelling among them, counted by what the others leave)."""
        ...

    def near_words(self, folded: str, limit: int = NEAR_WORDS) -> list[tuple[str, int]]:
        """Archive words one edit from *folded*, most frequent first (at most *limit*)."""
        ...

    def pair_seen(self, words: list[str]) -> bool:
        """Whether *words* ever stand together, in that order."""
        ...

    def pair_count(self, words: list[str]) -> int:
        """How many times *words* stand together in that order (may be estimated)."""
        ...

    def pair_surfaces(self, words: list[str], *, per_article: bool = False) -> Counter[Surface]:
        """How the archive spells the span *words*, case kept, from a sample of the
        articles holding it (sentence starts left out when there are others); with
        *per_article*, a surface counts once per article writing it."""
        ...

    def span_neighbours(self, words: list[str]) -> Counter[Neighbour]:
        """The folded words right before and after the span *words*, by surface and
        side, from the articles :meth:`pair_surfaces` reads."""
        ...
