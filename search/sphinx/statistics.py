"""The archive statistics the cluster's re-ranking reads, as the cluster can give them.

:mod:`search.sphinx.rescore` scores searchd's best matches with the local BM25F,
which reads three statistics of the whole archive; this module gets them from the
cluster, not from any one shard (each weighs words by its own documents):

* how many articles it holds: one count, per vocabulary;
* each term's document frequency in a local field (``text_f``, ``title_f``, the
  exact ``title`` and ``body``): counted by searchd over every shard, the term in
  the matching fields (:data:`~search.sphinx.rescore.COUNTED_IN`), a query's
  missing terms in one multi-query round trip, and remembered for the
  vocabulary's life (a term's count moves only when articles are indexed);
* each field's average length: the folded title and body's is exact (the
  vocabulary's word total counts the same words, :mod:`search.sphinx.vocabulary`,
  over the articles); the others are that average times their share of its words
  in a sample of :data:`SAMPLE` articles (the first by row id, a hash: an even
  spread), as searchd keeps no field lengths. Measured against the local index's
  averages: within 0.7% at 3,000 VNTC articles and 1.5% at 10,000 (a 200-article
  sample put the title's 11% short at 3,000, which still left 738 of bench/cluster.py's
  740 known-item queries' top hits as locally; 740 with the exact averages).

A statistics object belongs to one loaded vocabulary
(:meth:`search.sphinx.engine.SphinxEngine.statistics`): indexing replaces both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import pymysql

from search.sphinx import rows
from search.sphinx.connection import quote
from search.sphinx.rescore import (
    COUNTED_IN,
    Analysed,
    Statistics,
    TermKey,
    analyse,
    length_ratios,
)
from search.sphinx.rtindex import DISTRIBUTED_INDEX
from search.sphinx.topology import Node, connect
from search.sphinx.vocabulary import Vocabulary

if TYPE_CHECKING:
    from search.sphinx.engine import Page

#: Articles whose fields' lengths give the ratios of the averages (read once per
#: vocabulary, in pages of :data:`SAMPLE_PAGE` rows: every shard sends the
#: coordinator a page's stored articles).
SAMPLE = 1000
SAMPLE_PAGE = 200
#: Count statements sent in one multi-query (searchd's ``max_batch_queries``).
BATCH = 32
#: Document frequencies remembered (all forgotten at once beyond this).
MAX_REMEMBERED = 200_000

#: Runs one SELECT on the cluster (the engine's, with its failover and errors).
Run = Callable[[str], "Page"]
#: What a word must be to reach MATCH as one token.
_TOKEN = re.compile(r"^\w+$")


class ClusterStatistics:
    """The statistics of the archive on a cluster, for one loaded vocabulary."""

    def __init__(self, coordinator: Node, vocabulary: Vocabulary, run: Run) -> None:
        self.coordinator = coordinator
        self.vocabulary = vocabulary
        self._run = run
        self._archive: tuple[int, dict[str, float]] | None = None
        self._frequencies: dict[TermKey, int] = {}

    def of(self, terms: Iterable[TermKey], *, remember: bool = True) -> Statistics:
        """The statistics for scoring *terms*. *remember* ``False`` (an answer a shard
        left out) uses what is counted now without keeping it."""
        documents, averages = self.archive(remember=remember)
        wanted = set(terms)
        missing = sorted(wanted - self._frequencies.keys())
        counted = self._count(missing) if missing else {}
        if remember:
            if len(self._frequencies) + len(counted) > MAX_REMEMBERED:
                self._frequencies.clear()
            self._frequencies.update(counted)
        known = {t: self._frequencies[t] for t in wanted if t in self._frequencies}
        return Statistics(documents, {**known, **counted}, averages)

    def archive(self, *, remember: bool = True) -> tuple[int, dict[str, float]]:
        """How many articles the cluster holds, and each scored field's average length."""
        if self._archive is not None:
            return self._archive
        whole = self._run(f"SELECT id FROM {DISTRIBUTED_INDEX} LIMIT 1")
        documents = max(1, whole.total)
        ratios, complete = self._length_ratios()
        per_article = self.vocabulary.total / documents
        found = documents, {name: per_article * ratio for name, ratio in ratios.items()}
        if remember and complete and not whole.partial:
            self._archive = found
        return found

    def _length_ratios(self) -> tuple[dict[str, float], bool]:
        """:func:`~search.sphinx.rescore.length_ratios` of the sample, and whether
        every shard answered."""
        analysed: list[Analysed] = []
        last, complete = 0, True
        while len(analysed) < SAMPLE:
            page = self._run(f"SELECT id, stored FROM {DISTRIBUTED_INDEX} WHERE id > {last} "
                             f"ORDER BY id ASC LIMIT {SAMPLE_PAGE} "
                             f"OPTION max_matches={SAMPLE_PAGE}")
            complete = complete and not page.partial
            for row in page.rows:
                article = rows.article(row["stored"])
                analysed.append(analyse(str(article.get("title") or ""),
                                        str(article.get("body") or "")))
            if len(page.rows) < SAMPLE_PAGE:
                break
            last = int(page.rows[-1]["id"])
        return length_ratios(analysed), complete

    def _count(self, terms: list[TermKey]) -> dict[TermKey, int]:
        """Each term's document frequency, counted by searchd over every shard."""
        counted = {t: 0 for t in terms}  # a word searchd cannot hold as one token: none
        countable = [t for t in terms if _TOKEN.match(rows.cluster_word(t[1]))]
        if not countable:
            return counted
        conn = connect(self.coordinator, batches=True)
        try:
            for start in range(0, len(countable), BATCH):
                chunk = countable[start : start + BATCH]
                counted.update(zip(chunk, _counts(conn, chunk), strict=True))
        except pymysql.err.MySQLError as exc:
            raise ConnectionError(f"the cluster could not count words: {exc}") from None
        finally:
            conn.close()
        return counted


def count_statement(term: TermKey) -> str:
    """The SELECT counting the articles holding *term* (field, word) in its field."""
    fieldname, word = term
    match = f"{COUNTED_IN[fieldname]} {rows.cluster_word(word)}"
    return f"SELECT COUNT(*) AS n FROM {DISTRIBUTED_INDEX} WHERE MATCH({quote(match)})"


def _counts(conn: pymysql.connections.Connection[object], terms: list[TermKey]) -> list[int]:
    """The counts of *terms*, sent as one multi-query."""
    with conn.cursor() as cur:
        cur.execute("; ".join(count_statement(t) for t in terms))
        answers = [cur.fetchall()]
        while cur.nextset():
            answers.append(cur.fetchall())
    return [int(answer[0][0]) if answer else 0 for answer in answers]
