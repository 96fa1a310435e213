"""The SphinxQL of a search request: the MATCH of its words, the WHERE of its filters.

vnsearch parses a query with its own parser (:mod:`search.syntax`: quotes, ``-``,
``OR``, ``title:``, abbreviations) and this module writes the parsed tree in
searchd's extended query syntax over the pre-analysed fields of
:mod:`search.sphinx.rtindex`:

* a word matches its folded form in ``title`` or ``body`` (all words required), so
  matching is accent-insensitive and ``hoà`` = ``hòa`` (the parser already wrote
  both canonically);
* a word typed with accents, or read so by the query's likeliest reading, is also
  looked for in its exact form (``title_exact``/``body_exact``) as an alternative:
  ``(@(title,body) ba | @(title_exact,body_exact) bà)``. The exact fields are
  position-aligned twins of the folded ones, so an exact match is always a folded
  match too: the alternative never changes *which* articles match, only how they
  rank (more keywords hit: exact-accent first). searchd's ``MAYBE`` would say it more
  directly, but Sphinx 2.2.11 evaluates ``MAYBE`` as ``AND`` (checked on the daemon),
  which would drop articles;
* with typo tolerance (``near``), each word that decides the match also matches the
  archive's words one edit away, ``(@(title,body) nguyen | @(title,body) nguyn)``,
  and :func:`typo_only` finds the articles only those find (they follow the others);
* phrases, ``-`` exclusions (exact when typed with accents, folded otherwise, as
  locally), ``OR`` groups and abbreviations keep their shape; proximity is the
  ranker's (:data:`RANKER`: the longest run of query words standing together, per
  field, squared and weighted by :data:`FIELD_WEIGHTS`, then BM25).

What the cluster cannot run is refused with a :class:`search.errors.QueryError`
naming it (patterns, fuzzy terms, ranges, metadata fields in the query), never
answered with something else. Filters (``place:``, ``date:``, ``--place`` …) become
conditions on attributes (:func:`conditions`); facets are ``GROUP BY`` statements
(:func:`facet_statement`).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from whoosh import query as wq

from search import syntax
from search.errors import QueryError
from search.filters import Filters, date_ranges_of, resolve_place
from search.limits import Sort
from search.normalize import fold, has_accents, nfc, terms
from search.readings import Reading
from search.schema import BODY, ID, TITLE
from search.sphinx.connection import quote
from search.sphinx.rows import cluster_word, place_hash
from search.sphinx.rtindex import DISTRIBUTED_INDEX

#: Where a word is looked for: folded forms (what matches) and exact forms (what ranks).
FOLDED_FIELDS = "@(title,body)"
EXACT_FIELDS = "@(title_exact,body_exact)"
TITLE_FOLDED = "@title"
TITLE_EXACT = "@title_exact"

#: Per-field weights: a title match weighs more than a body match (as the local
#: ``title_f`` boost), an exact-accent match more than its folded twin.
FIELD_WEIGHTS = {"title": 3, "title_exact": 4, "body": 1, "body_exact": 2}
#: searchd's ranking: the longest run of query words standing together in a field
#: (its ``lcs``: proximity, natively), squared (the local engine's phrase boosts
#: reward a whole run far more than its pieces), times the field's weight; plus its
#: BM25 estimate scaled down for long articles (searchd's ``bm25`` factor ignores
#: length, which the local BM25 does not). ``bm25a``/``bm25f`` would say length
#: directly, but Sphinx 2.2.11 keeps no field lengths for real-time indexes: with
#: ``index_field_lengths = 1`` both stay at 0.5 for every article (checked on the
#: daemon, RAM and disk chunks). Weights tuned on 100 VNTC known items (x4 query
#: forms) against the local ranking, bench/cluster.py's set: ``lcs`` x30 → ``lcs²``
#: x30 moved top-1 agreement 0.862 → 0.884 at 3,000 articles and 0.831 → 0.878 at
#: 10,000 (x20: 0.882/0.866, x50: 0.884/0.870; ``lcs³``, ``exact_hit`` and
#: ``bm25`` length scales 200/800 no better). Title 3 / title_exact 4 as before.
#: (``word_count`` here is the attribute, the article's words, not the field factor
#: of that name: searchd resolves the attribute first, even inside ``sum()``.)
#: By relevance this order now only chooses the matches the engine re-ranks as the
#: local engine does (:mod:`search.sphinx.rescore`, the best 30: known-item top-1
#: agreement 100% at 3,000 and 10,000 articles); past them, it is the order shown.
LENGTH_WORDS = 400
PROXIMITY_WEIGHT = 30
RANKER = (f"expr('sum(lcs*lcs*user_weight)*{PROXIMITY_WEIGHT}"
          f"+bm25*{LENGTH_WORDS}/(word_count+{LENGTH_WORDS})')")
#: Matches searchd keeps per query (and per shard) at least (its default); more for
#: deeper pages (the total it reports counts every match either way).
DEFAULT_MATCHES = 1000
#: Values of a facet read before the top ones are chosen (ties broken by name).
FACET_READ = 1000
#: The facet name → the attribute it groups by.
FACET_ATTRIBUTES = {"place": "places", "year": "year", "source": "source", "author": "author"}

#: What a token reaches MATCH as: letters, digits and ``_`` (:func:`rows.cluster_word`
#: spells any other character of a word so, as the rows do).
_TOKEN = re.compile(r"^\w+$")


@dataclass
class Compiled:
    """A query's MATCH text, and what its results page marks (for the highlighter)."""

    match: str
    exact: set[str] = field(default_factory=set)
    folded: set[str] = field(default_factory=set)
    phrases: list[tuple[str, ...]] = field(default_factory=list)
    #: The plain words of an all-words query (for relaxing it), else empty.
    plain: list[str] = field(default_factory=list)
    #: The part of :attr:`match` that decides which articles match, and the
    #: alternatives that only rank them.
    required: str = ""
    boosts: list[str] = field(default_factory=list)
    #: Whether some word also matches archive words one edit away.
    widened: bool = False


#: The archive words a typed word (folded) also matches under typo tolerance.
Near = Callable[[str], Sequence[str]]


def parse(text: str) -> wq.Query:
    """*text* parsed by vnsearch's own parser (abbreviations expanded)."""
    return syntax.parse_text(text)


def compile_query(text: str, readings: Sequence[Reading] = (), *,
                  near: Near | None = None) -> Compiled:
    """The MATCH text of the words *text* (no ``place:``/``date:`` terms left in it).

    *readings* are its probable accented readings (likeliest first): where the
    likeliest gives a word marks, articles writing it so rank first. With *near*
    (typo tolerance, :func:`search.relax.typo_alternatives` over the cluster's
    vocabulary), each word that decides the match also matches the words *near*
    gives (``(@(title,body) nguyen | @(title,body) nguyn)``), as the local
    :func:`search.relax.with_typos` widens it: not phrases, not excluded words.
    """
    parsed = parse(text)
    if parsed is wq.NullQuery or _only_negations(parsed):
        raise QueryError("query has no searchable words (the cluster cannot search for "
                         "exclusions alone)")
    out = Compiled(match="")
    writer = _Writer(out, _reading_of(parsed, readings), near=near)
    required = writer.write(parsed, negated=False)
    if not required.strip():
        raise QueryError("query has no searchable words")
    out.required, out.boosts = required, writer.boosts
    out.match = _with_boosts(required, writer.boosts)
    out.plain = _plain_words(parsed) or []
    return out


def _with_boosts(required: str, boosts: Sequence[str]) -> str:
    """*required* matches; an article also holding a boost ranks higher (the
    alternative never changes which articles match)."""
    return required if not boosts else f"{required} | ({required} ({' | '.join(boosts)}))"


def typo_only(widened: Compiled, exact: Compiled) -> str:
    """MATCH for the articles only typo alternatives find: *widened* (the query
    compiled with ``near``) without what *exact* (as typed) matches. They follow
    the exact matches, as locally (:func:`search.query.run`). In parentheses: searchd
    binds ``|`` tighter than ``-``, so ``a -b | c`` would be ``a -(b | c)``."""
    return _with_boosts(f"(({widened.required}) -({exact.required}))", widened.boosts)


def missing_one(plain: Sequence[str], *held: Compiled) -> str:
    """MATCH for the articles holding all the *plain* words but one that none of
    *held* (the query as typed, or widened by typo alternatives; and its correction)
    matches: they follow those, as locally (:func:`search.query.run`)."""
    without = " ".join(f"-({h.required})" for h in held)
    return f"(({relaxed_match(plain, len(plain) - 1)}) {without})"


def folded_phrase(words: Sequence[str]) -> str:
    """MATCH for the folded *words* standing together, in title or body."""
    return f'{FOLDED_FIELDS} "{" ".join(_token(w) for w in words)}"'


def _plain_words(parsed: wq.Query) -> list[str] | None:
    """The words of a plain all-words query typed in the default field, else ``None``."""
    parts = parsed.subqueries if type(parsed) is wq.And else [parsed]
    if all(type(p) is wq.Term and p.fieldname == syntax.DEFAULT_FIELD for p in parts):
        return [str(p.text) for p in parts]
    return None


def _reading_of(parsed: wq.Query, readings: Sequence[Reading]) -> dict[str, str]:
    """Folded word → its accented form in the likeliest reading, for a plain query."""
    words = _plain_words(parsed)
    if not words or not readings or len(readings[0].words) != len(words):
        return {}
    return {fold(w): r for w, r in zip(words, readings[0].words, strict=True)
            if has_accents(r) and not has_accents(w)}


def _only_negations(q: wq.Query) -> bool:
    if isinstance(q, wq.Not):
        return True
    if type(q) is wq.And:
        return all(_only_negations(s) for s in q.subqueries)
    return False


def _token(word: str) -> str:
    """A word for MATCH, spelled as the rows spell it (never an operator of searchd's)."""
    token = cluster_word(word)
    if not _TOKEN.match(token):
        raise QueryError(f"the cluster cannot search for {word!r}")
    return token


def _unsupported(what: str) -> QueryError:
    return QueryError(f"the cluster cannot run {what} (the local index can: use --index)")


@dataclass
class _Writer:
    """Writes a parsed query tree as searchd's extended syntax, noting what to mark."""

    out: Compiled
    reading: dict[str, str]
    #: Typo alternatives of a word that decides the match (``None``: none).
    near: Near | None = None
    #: Exact forms (typed with accents, or the likeliest reading's) that rank an
    #: article higher without deciding whether it matches.
    boosts: list[str] = field(default_factory=list)

    def write(self, q: wq.Query, negated: bool) -> str:
        if isinstance(q, wq.Not):
            return f"-({self.write(q.query, not negated)})"
        if isinstance(q, wq.AndNot):
            return f"({self.write(q.a, negated)} -({self.write(q.b, not negated)}))"
        if isinstance(q, wq.AndMaybe | wq.Require):
            return self._binary(q, negated)
        if type(q) is wq.And:
            return "(" + " ".join(self.write(s, negated) for s in q.subqueries) + ")"
        if type(q) is wq.Or:
            return "(" + " | ".join(self.write(s, negated) for s in q.subqueries) + ")"
        if type(q) is wq.Term:
            return self._term(q, negated)
        if type(q) is wq.Phrase:
            return self._phrase(q, negated)
        raise _unsupported(_form_of(q))

    def _binary(self, q: wq.AndMaybe | wq.Require, negated: bool) -> str:
        """``+a b`` (b only ranks: ``(a | a b)`` keeps a's matches) or a requirement;
        their words are not widened by typo tolerance, as locally."""
        near, self.near = self.near, None
        a, b = self.write(q.a, negated), self.write(q.b, negated)
        self.near = near
        return f"({a} | ({a} {b}))" if isinstance(q, wq.AndMaybe) else f"({a} {b})"

    def _fields(self, fieldname: str) -> tuple[str, str]:
        if fieldname == TITLE:
            return TITLE_FOLDED, TITLE_EXACT
        if fieldname in (syntax.DEFAULT_FIELD, BODY):
            return FOLDED_FIELDS, EXACT_FIELDS
        if fieldname == ID:
            raise _unsupported("id: terms (use vnsearch show ID)")
        raise _unsupported(f"{fieldname}: terms (use --author or --source where they apply)")

    def _term(self, q: wq.Term, negated: bool) -> str:
        folded_at, exact_at = self._fields(q.fieldname)
        word = str(q.text)
        folded = _token(fold(word))
        if negated:  # "-bà" excludes exactly bà; "-ba" every ba/bà/bá
            return f"{exact_at} {_token(word)}" if has_accents(word) else f"{folded_at} {folded}"
        exact = word if has_accents(word) else self.reading.get(folded)
        self.out.folded.add(folded)
        if exact is not None:
            self.out.exact.add(exact)
            self.boosts.append(f"{exact_at} {_token(exact)}")
        alternatives = self._alternatives(fold(word))
        if alternatives:
            self.out.folded.update(alternatives)
            self.out.widened = True
            return "(" + " | ".join(f"{folded_at} {_token(w)}"
                                    for w in [fold(word), *alternatives]) + ")"
        return f"{folded_at} {folded}"

    def _alternatives(self, folded: str) -> list[str]:
        """The archive words *folded* also matches (typo tolerance), as searchd tokens."""
        if self.near is None:
            return []
        return [w for w in self.near(folded) if _TOKEN.match(cluster_word(w))]

    def _phrase(self, q: wq.Phrase, negated: bool) -> str:
        folded_at, exact_at = self._fields(q.fieldname)
        words = [str(w) for w in q.words]
        folded = " ".join(_token(fold(w)) for w in words)
        near = f"~{(len(words) - 1) * (q.slop - 1)}" if q.slop > 1 else ""
        plain = f'{folded_at} "{folded}"{near}'
        if negated:
            return plain
        self.out.phrases.append(tuple(fold(w) for w in words))
        if any(has_accents(w) for w in words):
            exact = " ".join(_token(w) for w in words)
            self.boosts.append(f'{exact_at} "{exact}"{near}')
        return plain


def _form_of(q: wq.Query) -> str:
    """What the user typed that the cluster cannot run, in their words."""
    if isinstance(q, wq.Prefix | wq.Wildcard):
        return "prefix or wildcard patterns (word*, w?rd)"
    if isinstance(q, wq.FuzzyTerm):
        return "fuzzy terms (word~)"
    if isinstance(q, wq.TermRange | wq.NumericRange | wq.DateRange):
        return "ranges ([a TO b])"
    if isinstance(q, wq.Every):
        return "'*' alone (give words, or place:/date: terms only)"
    return f"this query form ({type(q).__name__})"


def relaxed_match(words: Sequence[str], keep: int) -> str:
    """MATCH for plain *words* with at least *keep* of them (searchd's quorum)."""
    folded = " ".join(_token(fold(w)) for w in words)
    return f'{FOLDED_FIELDS} "{folded}"/{keep}'


# --------------------------------------------------------------------------- filters

@dataclass(frozen=True)
class Where:
    """A filter as searchd takes it: select expressions (searchd 2.2's WHERE cannot
    OR attribute tests, so an OR is computed as a named expression) and conditions."""

    expressions: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()


def conditions(filters: Filters) -> Where:
    """The attribute tests of *filters*; :class:`QueryError` where one cannot restrict."""
    expressions: list[str] = []
    tests: list[str] = []
    for n, place in enumerate(([filters.place] if filters.place else []) + list(filters.places)):
        keys = resolve_place(place)
        if not keys:
            raise QueryError(f"bad place {place!r}: give a place name such as \"Ba Đình\"",
                             "place")
        hashes = ", ".join(str(place_hash(k)) for k in keys)
        expressions.append(f"IN(places, {hashes}) OR IN(provinces, {hashes}) AS in_place{n}")
        tests.append(f"in_place{n} = 1")
    tests += _date_tests(filters)
    tests += _name_tests(filters)
    return Where(tuple(expressions), tuple(tests))


def timestamp(moment: datetime) -> int:
    """A naive (archive-local) date as the timestamp the cluster stores."""
    return calendar.timegm(moment.timetuple())


def _date_tests(filters: Filters) -> list[str]:
    ranges = date_ranges_of(filters)
    tests = []
    for start, end in ranges:  # undated articles (date 0) match no date range
        tests.append(f"date >= {max(1, timestamp(start)) if start else 1}")
        if end:
            tests.append(f"date <= {timestamp(end)}")
    return tests


def _name_tests(filters: Filters) -> list[str]:
    """Author and source: the whole name as the article gives it (searchd 2.2 compares
    string attributes whole, so the words inside a name cannot be matched as the
    local index matches them)."""
    tests = []
    for name, value in (("author", filters.author), ("source", filters.source)):
        if value:
            if not terms(value, folded=True):
                raise QueryError(f"bad {name} {value!r}", name)
            tests.append(f"{name} = {quote(nfc(value.strip()))}")
    return tests


# --------------------------------------------------------------------------- statements

#: What a page of hits and a facet's groups select (rows are read by these names).
#: Neither carries the stored article: every shard sends the coordinator its whole
#: top ``max_matches`` rows, which with article JSON overflowed searchd's packet size
#: (an any-word fallback at 10k articles); a page's articles are read by id after.
HIT_SELECT = ("id", "doc_id", "WEIGHT() AS score")
FACET_SELECT = ("GROUPBY() AS value", "COUNT(*) AS n")

@dataclass(frozen=True, kw_only=True)
class Select:
    """One page of a search, as searchd is asked for it."""

    match: str | None
    where: Where
    sort: Sort = "relevance"
    offset: int = 0
    limit: int = 10

    def sql(self) -> str:
        columns = [*HIT_SELECT, *self.where.expressions]
        order = "ORDER BY date DESC, WEIGHT() DESC" if self.sort == "date" else (
            "ORDER BY WEIGHT() DESC, id ASC")
        return (f"SELECT {', '.join(columns)} FROM {DISTRIBUTED_INDEX}{_where(self)} {order} "
                f"LIMIT {self.offset}, {self.limit} "
                f"OPTION ranker={RANKER}, field_weights=({_weights()}), "
                f"max_matches={max(DEFAULT_MATCHES, self.offset + self.limit)}")


def facet_statement(name: str, match: str | None, where: Where) -> str:
    """The GROUP BY counting one facet's values over every match."""
    attribute = FACET_ATTRIBUTES[name]
    columns = [*FACET_SELECT, *where.expressions]
    select = Select(match=match, where=where)
    return (f"SELECT {', '.join(columns)} FROM {DISTRIBUTED_INDEX}{_where(select)} "
            f"GROUP BY {attribute} ORDER BY n DESC LIMIT {FACET_READ} "
            f"OPTION max_matches={FACET_READ}")


def stored_statement(ids: Sequence[int]) -> str:
    """The stored articles of the rows with searchd ids *ids* (a page's hits)."""
    listed = ", ".join(str(int(i)) for i in ids)
    return (f"SELECT id, stored FROM {DISTRIBUTED_INDEX} WHERE id IN ({listed}) "
            f"LIMIT {len(ids)}")


def _where(select: Select) -> str:
    tests = ([f"MATCH({quote(select.match)})"] if select.match else []) + list(
        select.where.conditions)
    return f" WHERE {' AND '.join(tests)}" if tests else ""


def _weights() -> str:
    return ", ".join(f"{name}={weight}" for name, weight in FIELD_WEIGHTS.items())
