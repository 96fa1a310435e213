"""The index's own vocabulary: which words exist, how they are accented, how often.

Everything here is read from an open index — the term dictionaries of the folded
field (``text_f``) and of the exact-accent fields (``title``, ``body``), and the
positions of ``text_f`` for word pairs — so suggestions always speak the language of
the archive actually indexed, cost nothing at indexing time and never go stale.

* :func:`accent_forms` — the accented spellings a folded word has in the archive,
  with how often each occurs (``ba`` → ``bà``, ``bá``, ``ba`` …);
* :func:`near_words` — index words one edit away from a folded word (typos);
* :func:`span_docs` — the articles where folded words stand in a row, from an
  even spread of all candidates (so late articles count, and counts can be
  estimated rather than cut off); :func:`pair_count` / :func:`pair_seen` /
  :func:`pair_surfaces` — how often two (or more) folded words stand next to each
  other, whether they ever do, and how the archive spells that span (mid-sentence).

:class:`LocalLexicon` is these functions as the :class:`search.lexicons.Lexicon`
that spelling and readings take (:func:`of` wraps a searcher in one), and
:func:`text_spans` the reading of one article's text that any engine shares.

The accent map is built once per index reader (one pass over the exact fields'
term list) and cached for as long as the reader lives, or until its generation is
retired (:mod:`search.generations`).
"""

from __future__ import annotations

import re
import string
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable
from functools import lru_cache
from typing import TypeVar, cast

import numpy as np
from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from search import posting_arrays, postings, proximity
from search.generations import PerReader, registry
from search.lexicons import NEAR_WORDS, SPAN_ARTICLES, Lexicon, Neighbour, Spans, Surface
from search.normalize import fold, fold_aligned
from search.schema import EXACT_FIELDS, MATCH_FIELD, TITLE, stored_body

_LETTERS = string.ascii_lowercase

#: folded word → its accented spellings and how often each occurs, per reader.
_ACCENTS: PerReader[dict[str, dict[str, int]]] = registry.per_reader("lexicon accents")
#: The set of folded words, per reader.
_WORDS: PerReader[frozenset[str]] = registry.per_reader("lexicon words")
#: Answers of :func:`accent_forms`, :func:`pair_surfaces` and the pair counts of
#: :class:`LocalLexicon`, per reader: "did you mean" and the reading that ranks ask
#: about the same words in one request.
_ANSWERS: PerReader[dict[tuple[Hashable, ...], object]] = registry.per_reader(
    "lexicon answers")
#: Answers kept per reader (the oldest go first).
MAX_ANSWERS = 20_000


#: Whatever a remembered answer is.
T = TypeVar("T")


def _remembered(reader: IndexReader, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """``compute()``, remembered for *reader* under *key* (a bounded memo)."""
    memo = _ANSWERS.get(reader, dict)
    if key in memo:
        return cast(T, memo[key])  # the key names what was computed, so its type
    if len(memo) >= MAX_ANSWERS:
        del memo[next(iter(memo))]
    memo[key] = value = compute()
    return value


def _text(term: bytes | str) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


def frequency(reader: IndexReader, folded: str) -> int:
    """How many times *folded* occurs in the archive (title and body)."""
    try:
        return int(reader.frequency(MATCH_FIELD, folded))
    except Exception:  # a word the index has never seen
        return 0


def total_words(reader: IndexReader) -> int:
    """How many words the archive holds (for turning counts into probabilities)."""
    return max(1, int(reader.field_length(MATCH_FIELD)))


def _accent_map(reader: IndexReader) -> dict[str, dict[str, int]]:
    """folded word → its accented spellings → their counts (title and body)."""
    return _ACCENTS.get(reader, lambda: _build_accent_map(reader))


def _build_accent_map(reader: IndexReader) -> dict[str, dict[str, int]]:
    """One walk over the exact fields' terms in every segment, counts and all: as
    quick as listing the words alone, where looking each spelling's count up
    afterwards cost a third of a millisecond a query."""
    built: dict[str, dict[str, float]] = defaultdict(dict)
    for leaf, _ in reader.leaf_readers():
        for fieldname in EXACT_FIELDS:
            for term, weight in posting_arrays.term_weights(leaf, fieldname):
                word = _text(term)
                forms = built[fold(word)]
                forms[word] = forms.get(word, 0.0) + weight
    return {folded: {word: int(n) for word, n in forms.items()} for folded, forms in built.items()}


def accent_forms(reader: IndexReader, folded: str) -> list[tuple[str, int]]:
    """Every spelling of *folded* in the archive with its count, most frequent first.

    The exact fields index only words that carry marks, so the unaccented spelling's
    count is what is left of the folded word's count once the accented ones are
    taken away.
    """
    return list(_remembered(reader, ("forms", folded), lambda: _accent_forms(reader, folded)))


def _accent_forms(reader: IndexReader, folded: str) -> tuple[tuple[str, int], ...]:
    forms = list(_accent_map(reader).get(folded, {}).items())
    plain = frequency(reader, folded) - sum(n for _, n in forms)
    if plain > 0:
        forms.append((folded, plain))
    forms.sort(key=lambda fn: -fn[1])
    return tuple(forms)


def edits1(word: str) -> set[str]:
    """Every ASCII string one deletion, transposition, substitution or insertion away."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    transposes = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    inserts = {a + c + b for a, b in splits for c in _LETTERS}
    return (deletes | transposes | replaces | inserts) - {word}


def _vocabulary(reader: IndexReader) -> frozenset[str]:
    """Every folded word of the archive (one pass over the term list, then cached)."""
    return _WORDS.get(reader, lambda: frozenset(_text(t) for t in reader.lexicon(MATCH_FIELD)))


def near_words(reader: IndexReader, folded: str, limit: int = NEAR_WORDS) -> list[tuple[str, int]]:
    """Index words one edit from *folded*, most frequent first (at most *limit*)."""
    vocabulary = _vocabulary(reader)
    found = [(w, frequency(reader, w)) for w in edits1(folded) & vocabulary]
    found.sort(key=lambda wn: (-wn[1], wn[0]))
    return found[:limit]


#: Candidate articles (holding every word of a span) whose positions are read to
#: count the span: beyond this, a spread of them stands for the rest.
SPAN_SAMPLE = 1000
#: Runs of neighbouring candidates the sample is made of (at most), and the
#: shortest run: each run costs a few posting blocks to decode per word.
SPAN_RUNS = 8
RUN_LENGTH = 64
#: The first, quick sample (enough for a common span).
FIRST_SAMPLE = 128
#: Sentence ends: a capital right after one says nothing about the word.
_SENTENCE_START = re.compile(r"(?:^|[.!?:…\n])[\s\"'“‘(\[«-]*$")


def span_docs(searcher: Searcher, words: list[str],
              sample: int = SPAN_SAMPLE) -> tuple[list[tuple[Searcher, int, int]], float]:
    """Articles where *words* (folded) stand in a row, ``(leaf, docnum, times)``, and
    how many articles each one found stands for.

    Every article holding all the words is a candidate; when there are more than
    *sample* of them, an even spread across the whole index is checked instead of
    the first ones, so a span that occurs only late in the archive (``Quận ủy Ba
    Đình`` among thousands of articles with ``quan``, ``uy``, ``ba`` and ``dinh``)
    is still seen in proportion, and counts are estimated rather than cut off.
    The candidates of a span asked about again (the full sample after the quick
    one) come from :func:`search.posting_arrays.common_postings`' recent ones.
    """
    found: list[tuple[Searcher, int, int]] = []
    leaves = []
    for leaf, _ in searcher.leaf_searchers():
        reader = leaf.reader()
        btexts = [reader.schema[MATCH_FIELD].to_bytes(w) for w in words]
        if all((MATCH_FIELD, b) in reader for b in btexts):
            ids = posting_arrays.common_postings(reader, MATCH_FIELD, btexts)
            if len(ids):
                leaves.append((leaf, btexts, ids))
    total = sum(len(ids) for _, _, ids in leaves)
    if not total:
        return [], 1.0
    share = min(1.0, sample / total)
    for leaf, btexts, ids in leaves:
        if share < 1.0:
            ids = ids[_spread(len(ids), max(1, round(len(ids) * share)))]
        docs, times = proximity.in_a_row(leaf.reader(), MATCH_FIELD, btexts, docs=ids)
        found += [(leaf, d, t) for d, t in zip(docs.tolist(), times.tolist(), strict=True)]
    return found, 1.0 / share


def _spread(n: int, k: int) -> np.ndarray:
    """*k* of the indexes ``0..n-1``, as :data:`SPAN_RUNS` evenly spaced runs of
    neighbours: spread over the whole list, yet each run reads few posting blocks.
    Too few for two runs (a small segment's share), *k* single indexes evenly spread:
    one run would see only the segment's first articles."""
    runs = min(SPAN_RUNS, k // RUN_LENGTH)
    if runs < 2:
        return np.unique(np.linspace(0, n - 1, k).astype(np.int64))
    length = k // runs
    starts = np.linspace(0, n - length, runs).astype(np.int64)
    return np.unique((starts[:, None] + np.arange(length)[None, :]).ravel())


def enough_span_docs(searcher: Searcher, words: list[str],
                     wanted: int) -> tuple[list[tuple[Searcher, int, int]], float]:
    """:func:`span_docs` from a small sample first, the full one only when that
    finds fewer than *wanted* articles: an everyday pair is settled in a glance."""
    found, scale = span_docs(searcher, words, sample=FIRST_SAMPLE)
    if len(found) < wanted and scale > 1.0:
        found, scale = span_docs(searcher, words)
    return found, scale


def pair_count(searcher: Searcher, words: list[str]) -> int:
    """How many times *words* stand together in that order in the archive (estimated
    from a spread sample of the candidate articles when there are very many)."""
    found, scale = enough_span_docs(searcher, words, 1)
    return round(sum(times for _, _, times in found) * scale)


def pair_seen(searcher: Searcher, words: list[str]) -> bool:
    """Whether *words* stand together anywhere (a bounded walk: a glance for common
    words that seldom meet, which then read as "not together")."""
    return any(True for _ in postings.in_a_row(searcher, MATCH_FIELD, words, wanted=1))


def pair_surfaces(searcher: Searcher, words: list[str], *, max_docs: int = SPAN_ARTICLES,
                  per_article: bool = False) -> Counter[Surface]:
    """How the archive spells the span *words* (folded): surfaces → count.

    Reads up to *max_docs* (:data:`~search.lexicons.SPAN_ARTICLES`) articles holding the span,
    spread evenly over all that do, and returns a Counter of ``tuple`` s of
    original-case surface words (``("Quận", "ủy", "Ba", "Đình")``). Occurrences
    at the start of a sentence are left out when there are others: their capital
    is the sentence's, not the word's, and case is what callers read from here.
    With *per_article*, a surface counts once per article that writes it: how
    many articles say "truyền thông", not how often one article on tradition
    repeats "truyền thống". The span is found with one regex over the
    character-aligned fold of each text (no
    tokenising), like the highlighter's fast path. Remembered per reader.
    """
    return surfaces_of(_read_spans(searcher, words, max_docs), per_article=per_article)


def surfaces_of(per_doc: list[Spans], *, per_article: bool = False) -> Counter[Surface]:
    """The surfaces of a span in the articles read (:func:`text_spans` of each):
    mid-sentence ones, else those at sentence starts; once per article with
    *per_article*."""
    inside: Counter[Surface] = Counter()
    starting: Counter[Surface] = Counter()
    for doc_inside, doc_starting, _ in per_doc:
        inside.update(dict.fromkeys(doc_inside, 1) if per_article else doc_inside)
        starting.update(dict.fromkeys(doc_starting, 1) if per_article else doc_starting)
    return inside or starting


def span_neighbours(searcher: Searcher, words: list[str],
                    max_docs: int = SPAN_ARTICLES) -> Counter[Neighbour]:
    """The folded words right before and after the span *words*, as ``(surface,
    side, word)`` → count (side ``-1`` before, ``1`` after), from the articles
    :func:`pair_surfaces` reads: "sử dụng xe" says ``dụng xe`` is part of a longer
    phrase, which nobody types alone."""
    return neighbours_of(_read_spans(searcher, words, max_docs))


def neighbours_of(per_doc: list[Spans]) -> Counter[Neighbour]:
    """The words around a span in the articles read (:func:`text_spans` of each)."""
    out: Counter[Neighbour] = Counter()
    for _, _, around in per_doc:
        out.update(around)
    return out


def _read_spans(searcher: Searcher, words: list[str],
                max_docs: int) -> list[Spans]:
    """Remembered :func:`_surfaces_per_doc`."""
    return _remembered(searcher.reader(), ("surfaces", tuple(words), max_docs),
                       lambda: _surfaces_per_doc(searcher, words, max_docs))


_WORD_BEFORE = re.compile(r"([a-z0-9]+)[^a-z0-9]{1,3}$")
_WORD_AFTER = re.compile(r"^[^a-z0-9]{1,3}([a-z0-9]+)")


def _surfaces_per_doc(searcher: Searcher, words: list[str],
                      max_docs: int) -> list[Spans]:
    """Per article read: the span's surfaces mid-sentence and at a sentence start,
    and the words around it (:func:`span_neighbours`)."""
    found, _ = enough_span_docs(searcher, words, max_docs)
    if len(found) > max_docs:
        found = [found[round(k * (len(found) - 1) / (max_docs - 1))] for k in range(max_docs)]
    per_doc = []
    for leaf, docnum, _ in found:
        stored = leaf.stored_fields(docnum)
        per_doc.append(text_spans(stored.get(TITLE) or "", stored_body(stored), words))
    return per_doc


@lru_cache(maxsize=4096)
def _span_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """The folded *words* in a row, each a whole word, in a fold.

    It starts with the first word's literal and checks the character before it
    afterwards (a look-behind after the literal, not before it), so the regex
    engine skips to where the word stands instead of trying every position: ten
    times faster over an article, the same matches."""
    first, *rest = (re.escape(w) for w in words)
    return re.compile(f"({first})(?<![a-z0-9]{first})"
                      + "".join(f"[^a-z0-9]{{1,3}}({w})" for w in rest) + r"(?![a-z0-9])")


def text_spans(title: str, body: str, words: list[str]) -> Spans:
    """Where one article (its *title* and *body*) writes the span *words* (folded):
    its surfaces mid-sentence and at a sentence start, and the words around it.
    Any engine's articles are read so, from their stored text (the title ends a
    sentence of its own)."""
    text = f"{title}\n{body}"
    pattern = _span_pattern(tuple(words))
    flat = fold_aligned(text)
    inside: Counter[Surface] = Counter()
    starting: Counter[Surface] = Counter()
    around: Counter[Neighbour] = Counter()
    if flat is not None:
        for m in pattern.finditer(flat):
            surface = tuple(text[m.start(g) : m.end(g)] for g in range(1, len(words) + 1))
            at_start = _SENTENCE_START.search(text, max(0, m.start() - 4), m.start())
            (starting if at_start else inside)[surface] += 1
            before = _WORD_BEFORE.search(flat, max(0, m.start() - 24), m.start())
            after = _WORD_AFTER.search(flat[m.end() : m.end() + 24])
            around[(surface, -1, before.group(1) if before else "")] += 1
            around[(surface, 1, after.group(1) if after else "")] += 1
    return inside, starting, around


# --------------------------------------------------------------------------- the protocol

class LocalLexicon:
    """:class:`search.lexicons.Lexicon` over an open Whoosh searcher: the functions
    above, remembered per reader as they are."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher

    def frequency(self, folded: str) -> int:
        return frequency(self.searcher.reader(), folded)

    def total_words(self) -> int:
        return total_words(self.searcher.reader())

    def accent_forms(self, folded: str) -> list[tuple[str, int]]:
        return accent_forms(self.searcher.reader(), folded)

    def near_words(self, folded: str, limit: int = NEAR_WORDS) -> list[tuple[str, int]]:
        return near_words(self.searcher.reader(), folded, limit)

    def pair_seen(self, words: list[str]) -> bool:
        return bool(self._pair(words, seen_only=True))

    def pair_count(self, words: list[str]) -> int:
        return self._pair(words, seen_only=False)

    def _pair(self, words: list[str], *, seen_only: bool) -> int:
        """How often (or whether: 1/0) *words* stand together, remembered per reader:
        one query asks about the same pairs several times."""
        return _remembered(self.searcher.reader(), ("pair", tuple(words), seen_only),
                           lambda: int(pair_seen(self.searcher, words)) if seen_only
                           else pair_count(self.searcher, words))

    def pair_surfaces(self, words: list[str], *, per_article: bool = False) -> Counter[Surface]:
        return pair_surfaces(self.searcher, words, per_article=per_article)

    def span_neighbours(self, words: list[str]) -> Counter[Neighbour]:
        return span_neighbours(self.searcher, words)


def of(source: Lexicon | Searcher | IndexReader) -> Lexicon:
    """*source* as a :class:`~search.lexicons.Lexicon`: a Whoosh searcher (or reader)
    is read through :class:`LocalLexicon`, any other lexicon stands as it is."""
    if isinstance(source, Searcher):
        return LocalLexicon(source)
    if isinstance(source, IndexReader):
        return LocalLexicon(Searcher(source, closereader=False))
    return source
