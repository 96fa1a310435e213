"""The cluster's vocabulary: which words its articles hold, how each is accented, how often.

The local index reads these from its own term dictionaries (:mod:`search.lexicon`);
searchd's are spread over shards and hold escaped tokens, so ingestion keeps the
counts itself, beside the cluster, in the coordinator's meta index
(:data:`~search.sphinx.rtindex.META_INDEX`): one row per folded word, key
``word:<folded>``, value ``{"forms": {exact: occurrences}}`` (every exact spelling,
unaccented included), plus one row ``words:total``. Counts are occurrences in title
and body, like the local ``text_f`` frequencies.

API for the engine (did-you-mean, typo expansion, readings):

* :func:`load` ``(topology) -> Vocabulary``: the whole vocabulary in memory (one
  paged read, seconds for a big archive; load once per engine and reload after
  indexing, or when :func:`stored_total` no longer matches ``Vocabulary.total``);
* :class:`Vocabulary` — ``frequency(folded)``, ``total_words()``,
  ``accent_forms(folded)`` (spellings with counts, most frequent first, as
  :func:`search.lexicon.accent_forms`), ``near_words(folded, limit)`` (words one
  edit away, as :func:`search.lexicon.near_words`), ``words`` (the folded set);
* word *pairs* are not kept here: whether and how often ``a b`` stands in a row
  is a phrase query to the cluster itself (``MATCH('@(title,body) "a b"')``), and
  how the archive spells it is read from the stored text of a few articles that
  phrase finds (:class:`search.sphinx.lexicon.ClusterLexicon`, which puts the two
  together as the engine's :class:`search.lexicons.Lexicon`).

Ingestion updates it with :func:`apply` (a delta of word counts: articles written
add their words, replaced and deleted ones take theirs away), at least every
few thousand articles and when a run stops for any reason; a ``rebuild=True``
run of :func:`search.sphinx.ingest.index_paths` clears and recounts it (for a
vocabulary that drifted: a run killed between writing rows and recording their
words). One indexing run at a time per cluster: unlike the local index's writer
lock, this is not enforced (two runs would lose each other's counts).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from search.lexicon import edits1
from search.sphinx import rows
from search.sphinx.connection import id_list, quote
from search.sphinx.replicas import Connection
from search.sphinx.rows import WordForms
from search.sphinx.rtindex import META_INDEX
from search.sphinx.topology import Topology, connect, document_id

#: Key prefix of the word rows, and the key of the total row.
WORD_PREFIX = "word:"
TOTAL_KEY = "words:total"
#: Rows read or written per statement.
CHUNK = 500


@dataclass
class Vocabulary:
    """Folded word → its exact spellings with their occurrence counts."""

    forms: dict[str, dict[str, int]] = field(default_factory=dict)
    total: int = 0

    @property
    def words(self) -> frozenset[str]:
        """Every folded word of the archive."""
        return frozenset(self.forms)

    def frequency(self, folded: str) -> int:
        """How many times *folded* occurs (title and body)."""
        return sum(self.forms.get(folded, {}).values())

    def total_words(self) -> int:
        """How many words the archive holds (at least 1: a divisor)."""
        return max(1, self.total)

    def accent_forms(self, folded: str) -> list[tuple[str, int]]:
        """Every spelling of *folded* with its count, most frequent first."""
        found = self.forms.get(folded, {})
        return sorted(found.items(), key=lambda fn: (-fn[1], fn[0]))

    def near_words(self, folded: str, limit: int = 8) -> list[tuple[str, int]]:
        """Archive words one edit from *folded*, most frequent first (at most *limit*)."""
        found = [(w, self.frequency(w)) for w in edits1(folded) if w in self.forms]
        found.sort(key=lambda wn: (-wn[1], wn[0]))
        return found[:limit]


def load(topology: Topology) -> Vocabulary:
    """The vocabulary kept on *topology*'s coordinator."""
    conn = connect(topology.coordinator)
    try:
        vocabulary = Vocabulary()
        for key, value in _scan(conn):
            if key.startswith(WORD_PREFIX):
                vocabulary.forms[key[len(WORD_PREFIX):]] = value.get("forms", {})
            elif key == TOTAL_KEY:
                vocabulary.total = int(value.get("n", 0))
        return vocabulary
    finally:
        conn.close()


def _scan(conn: Connection) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(key, value)`` of every meta row, in pages by ascending id."""
    last = 0
    while True:
        with conn.cursor() as cur:
            cur.execute(f"SELECT id, key, value FROM {META_INDEX} WHERE id > {last} "
                        f"ORDER BY id ASC LIMIT {PAGE} OPTION max_matches={PAGE}")
            page = list(cur.fetchall())
        for _, key, value in page:
            yield str(key), _json(value)
        if len(page) < PAGE:
            return
        last = int(page[-1][0])


#: Meta rows read per page by :func:`load`.
PAGE = 10_000


def _json(value: object) -> dict[str, Any]:
    text = value.decode("utf-8") if isinstance(value, bytes) else str(value)
    data = json.loads(text) if text else {}
    return data if isinstance(data, dict) else {}


def apply(conn: Connection, delta: Counter[WordForms]) -> None:
    """Add *delta* (``(folded, exact) → occurrences``, negative for words taken
    away) to the vocabulary on the coordinator at *conn*."""
    by_word: dict[str, Counter[str]] = defaultdict(Counter)
    for (folded, exact), n in delta.items():
        if n:
            by_word[folded][exact] += n
    words = sorted(by_word)
    for start in range(0, len(words), CHUNK):
        _apply_chunk(conn, {w: by_word[w] for w in words[start : start + CHUNK]})
    _add_total(conn, sum(delta.values()))


def _apply_chunk(conn: Connection, changes: dict[str, Counter[str]]) -> None:
    keys = {document_id(WORD_PREFIX + w): w for w in changes}
    with conn.cursor() as cur:
        cur.execute(f"SELECT id, value FROM {META_INDEX} WHERE id IN {id_list(keys)} "
                    f"LIMIT {len(keys)}")
        current = {keys[int(i)]: _json(v).get("forms", {}) for i, v in cur.fetchall()}
    kept: list[str] = []
    gone: list[int] = []
    for word, change in changes.items():
        forms = Counter(current.get(word, {}))
        forms.update(change)
        forms = Counter({e: n for e, n in forms.items() if n > 0})
        if forms:
            kept.append(_row(WORD_PREFIX + word, {"forms": dict(forms)}))
        else:
            gone.append(document_id(WORD_PREFIX + word))
    with conn.cursor() as cur:
        if kept:
            cur.execute(f"REPLACE INTO {META_INDEX} (id, name, key, value) VALUES "
                        + ", ".join(kept))
        if gone:
            cur.execute(f"DELETE FROM {META_INDEX} WHERE id IN {id_list(gone)}")


def stored_total(conn: Connection) -> int:
    """The word total kept on the coordinator at *conn*: one cheap read, so a loaded
    :class:`Vocabulary` can tell whether an indexing run has changed it since."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT value FROM {META_INDEX} WHERE id = {document_id(TOTAL_KEY)}")
        got = cur.fetchone()
    return int(_json(got[0]).get("n", 0)) if got else 0


def _add_total(conn: Connection, change: int) -> None:
    total = stored_total(conn)
    with conn.cursor() as cur:
        cur.execute(f"REPLACE INTO {META_INDEX} (id, name, key, value) VALUES "
                    + _row(TOTAL_KEY, {"n": max(0, total + change)}))


def _row(key: str, value: dict[str, Any]) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return f"({document_id(key)}, {quote(key)}, {quote(key)}, {quote(text)})"


def clear(conn: Connection) -> None:
    """Remove every vocabulary row (before :func:`rebuild` counts afresh)."""
    ids = [document_id(key) for key, _ in _scan(conn)
           if key.startswith(WORD_PREFIX) or key == TOTAL_KEY]
    for start in range(0, len(ids), CHUNK * 10):
        with conn.cursor() as cur:
            cur.execute(f"DELETE FROM {META_INDEX} WHERE id IN "
                        f"{id_list(ids[start : start + CHUNK * 10])}")


def words_of(stored: Iterable[dict[str, Any]]) -> Counter[WordForms]:
    """The words of stored articles, as a vocabulary delta (for :func:`apply`)."""
    total: Counter[WordForms] = Counter()
    for article in stored:
        total.update(rows.row_from_stored(article).words)
    return total
