"""The cluster's lexicon: what spelling and readings ask, answered beside and by the cluster.

:class:`ClusterLexicon` is the :class:`search.lexicons.Lexicon` of a
Sphinx/Manticore cluster, so the did-you-mean (:mod:`search.spelling`), the
accent readings (:mod:`search.readings`) and typo tolerance
(:func:`search.relax.typo_alternatives`) run on it as on the local index:

* words, their accent spellings and counts, and words one edit away come from the
  vocabulary kept beside the cluster (:mod:`search.sphinx.vocabulary`), in memory;
* word pairs are phrase queries to the cluster itself: whether ``a b`` occurs
  (``MATCH('@(title,body) "a b"')``, one row), how often (searchd's ``hit_count``
  ranking factor counts each word of each phrase occurrence, so the sum over the
  matching articles divided by the words is the number of occurrences; read from
  at most :data:`PAIR_SAMPLE` articles, pseudo-random by row id, and scaled by
  ``total_found`` beyond), and how the archive spells it: up to
  :data:`~search.lexicons.SPAN_ARTICLES` articles holding the phrase (the first by
  row id: a hash of the article id, so an even sample), whose stored text is read
  by the local index's own reader of spans (:func:`search.lexicon.text_spans`).

Every answer is remembered for the lexicon's life (one per engine, replaced when
the vocabulary changes: :meth:`search.sphinx.engine.SphinxEngine.lexicon`), except
one a shard with no live replica left out (``partial``): that is used once.
Counts may differ a little from the local index's (it estimates pair counts from
a spread sample and reads spans from other articles of a common span), not the
spellings chosen on the same articles in practice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from search.errors import QueryError
from search.lexicon import neighbours_of, surfaces_of, text_spans
from search.lexicons import NEAR_WORDS, SPAN_ARTICLES, Neighbour, Spans, Surface
from search.sphinx import rows, sphinxql
from search.sphinx.connection import quote
from search.sphinx.rtindex import DISTRIBUTED_INDEX
from search.sphinx.vocabulary import Vocabulary

if TYPE_CHECKING:
    from search.sphinx.engine import Page

#: Articles whose phrase hits are summed for a pair count (more are estimated).
PAIR_SAMPLE = 1000
#: Answers remembered per kind (all forgotten at once beyond this).
MAX_ANSWERS = 20_000
#: searchd's ranking that makes an article's weight its hits of the query's words.
HIT_RANKER = "expr('sum(hit_count)')"

#: Runs one SELECT on the cluster (the engine's, with its failover and errors).
Run = Callable[[str], "Page"]


class ClusterLexicon:
    """The vocabulary kept beside the cluster, and the cluster's own phrase counts."""

    def __init__(self, vocabulary: Vocabulary, run: Run) -> None:
        self.vocabulary = vocabulary
        self._run = run
        self._pairs: dict[tuple[tuple[str, ...], bool], int] = {}
        self._spans: dict[tuple[str, ...], list[Spans]] = {}

    def frequency(self, folded: str) -> int:
        return self.vocabulary.frequency(folded)

    def total_words(self) -> int:
        return self.vocabulary.total_words()

    def accent_forms(self, folded: str) -> list[tuple[str, int]]:
        return self.vocabulary.accent_forms(folded)

    def near_words(self, folded: str, limit: int = NEAR_WORDS) -> list[tuple[str, int]]:
        return self.vocabulary.near_words(folded, limit)

    def pair_seen(self, words: list[str]) -> bool:
        return bool(self._pair(words, seen_only=True))

    def pair_count(self, words: list[str]) -> int:
        return self._pair(words, seen_only=False)

    def pair_surfaces(self, words: list[str], *, per_article: bool = False) -> Counter[Surface]:
        return surfaces_of(self._read_spans(words), per_article=per_article)

    def span_neighbours(self, words: list[str]) -> Counter[Neighbour]:
        return neighbours_of(self._read_spans(words))

    def _pair(self, words: list[str], *, seen_only: bool) -> int:
        return _remembered(self._pairs, (tuple(words), seen_only),
                           lambda: self._count(words, seen_only=seen_only))

    def _count(self, words: list[str], *, seen_only: bool) -> tuple[int, bool]:
        """Whether (1/0) or how often *words* stand together in the cluster's
        articles, and whether every shard answered."""
        match = self._phrase(words)
        if match is None:
            return 0, True
        if seen_only:
            page = self._run(_ids_statement(match, 1))
            return int(page.total > 0), not page.partial
        page = self._run(f"SELECT id, WEIGHT() AS hits FROM {DISTRIBUTED_INDEX} "
                         f"WHERE MATCH({quote(match)}) ORDER BY id ASC "
                         f"LIMIT {PAIR_SAMPLE} OPTION ranker={HIT_RANKER}, "
                         f"max_matches={PAIR_SAMPLE}")
        if not page.rows:
            return 0, not page.partial
        hits = sum(int(row["hits"]) for row in page.rows) / len(words)
        return round(hits * max(1.0, page.total / len(page.rows))), not page.partial

    def _read_spans(self, words: list[str]) -> list[Spans]:
        """:func:`search.lexicon.text_spans` of the articles read for the span *words*."""
        return _remembered(self._spans, tuple(words), lambda: self._spans_of(words))

    def _spans_of(self, words: list[str]) -> tuple[list[Spans], bool]:
        match = self._phrase(words)
        if match is None:
            return [], True
        found = self._run(_ids_statement(match, SPAN_ARTICLES))
        ids = [int(row["id"]) for row in found.rows]
        if not ids:
            return [], not found.partial
        stored = self._run(sphinxql.stored_statement(ids))
        per_doc = []
        for row in sorted(stored.rows, key=lambda r: int(r["id"])):
            article = rows.article(row["stored"])
            per_doc.append(text_spans(article.get("title") or "", article.get("body") or "",
                                      words))
        return per_doc, not (found.partial or stored.partial)

    def _phrase(self, words: list[str]) -> str | None:
        """MATCH for the folded *words* standing together; ``None`` when no article
        can hold them (a word the vocabulary lacks, or no row can hold)."""
        if not all(self.vocabulary.frequency(w) for w in words):
            return None
        try:
            return sphinxql.folded_phrase(words)
        except QueryError:
            return None


K = TypeVar("K")
V = TypeVar("V")


def _remembered(answers: dict[K, V], key: K, answer: Callable[[], tuple[V, bool]]) -> V:
    """*answers*[*key*], worked out (``(value, whole)``) when missing; a value some
    shard left out of (not *whole*) is used once, not remembered."""
    if key in answers:
        return answers[key]
    value, whole = answer()
    if whole:
        if len(answers) >= MAX_ANSWERS:
            answers.clear()
        answers[key] = value
    return value


def _ids_statement(match: str, limit: int) -> str:
    """The first *limit* row ids matching *match*, by id (an even sample: ids are hashes)."""
    return (f"SELECT id FROM {DISTRIBUTED_INDEX} WHERE MATCH({quote(match)}) "
            f"ORDER BY id ASC LIMIT {limit} OPTION max_matches={limit}")
