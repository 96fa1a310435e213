"""Running a user's query: parse, map onto the exact and folded fields, search, widen.

The query language (Whoosh's, with ``place:``/``date:`` terms and abbreviations) is
:mod:`search.syntax`'s; its filters are :mod:`search.filters`'. The parsed tree is
then rewritten here: each word becomes
"its exact form in the exact fields (boosted) OR its folded form in the folded
fields", and only the folded form when the user typed it without accents. That one
rewrite gives accent-insensitive matching, exact-accent-first ranking, ``hoà`` =
``hòa`` (both normalise to one term), and title-over-body weighting. The optional
ranking boosts are :mod:`search.boosts`'.

All words are required; when that finds few articles, long words also match words
one edit away, and when it finds nothing the query is widened step by step
(:mod:`search.relax`), and the result says so (``fallback``). :func:`run` holds that
order; collecting the matches is :mod:`search.searching`'s, marking the page's
hits :mod:`search.marking`'s.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence

from whoosh import query as wq
from whoosh.searching import Searcher

from search import lexicon, spelling, syntax
from search.boosts import accents_of, proximity_boosts, ranks_by_reading, reading_boosts
from search.errors import QueryError
from search.filters import Filters, build_filter
from search.highlight import Marking
from search.lexicons import Lexicon
from search.limits import MAX_EXPANSION, Sort
from search.marking import marking_of, page_hits
from search.negation import Without
from search.normalize import fold, has_accents
from search.readings import Reading, readings
from search.relax import TYPO_WHEN_FEWER, has_many_words, left_out, required_part, with_typos
from search.results import SearchResult
from search.schema import (
    EXACT_BOOST,
    EXACT_FIELDS,
    ID,
    MATCH_FIELD,
    TITLE,
    TITLE_BOOST,
    TITLE_FIELD,
)
from search.searching import Found, Searching
from search.syntax import split_filters


def parse(text: str, any_word: bool = False, readings: Sequence[Reading] = (),
          accents: Mapping[str, Sequence[str]] | None = None) -> wq.Query:
    """Parse *text* into a Whoosh query over the real index fields.

    The result is ``AndMaybe(required, boosts)``: *required* decides which articles
    match (folded forms in ``text_f``), *boosts* (title and exact-accent terms) only
    add to the score of articles that match anyway. Raises :class:`QueryError` for
    empty, over-long or unparsable queries. *readings* (from
    :func:`search.readings.readings`, with *accents*) add :func:`reading_boosts`.
    """
    parsed = syntax.parse_text(text, any_word=any_word)
    rewritten = _rewrite(parsed, negated=False)
    if rewritten is None:
        raise QueryError("query has no searchable words")
    required, boosts = rewritten
    if not any_word:
        boosts += proximity_boosts(parsed) + reading_boosts(parsed, readings, accents)
    required = required.normalize()
    if required is wq.NullQuery:
        raise QueryError("query has no searchable words")
    if not boosts:
        return required
    return wq.AndMaybe(required, wq.Or(boosts))


# A rewritten query: what must match, and the optional boosts that rank the matches.
Rewritten = tuple[wq.Query, list[wq.Query]]


def _word(fieldname: str, word: str, negated: bool) -> Rewritten:
    """One word → required folded term, optional title and exact-accent boosts."""
    folded = fold(word)
    accented = has_accents(word)
    if negated:  # "-bà" excludes exactly bà; "-ba" excludes every ba/bà/bá …
        if accented:
            return wq.Or([wq.Term(f, word) for f in EXACT_FIELDS]), []
        return wq.Term(MATCH_FIELD, folded), []
    if fieldname == TITLE:
        exact: list[wq.Query] = [wq.Term(TITLE, word, boost=EXACT_BOOST)] if accented else []
        return wq.Term(TITLE_FIELD, folded), exact
    boosts: list[wq.Query] = [wq.Term(TITLE_FIELD, folded, boost=TITLE_BOOST)]
    if accented:
        boosts += [wq.Term(f, word, boost=EXACT_BOOST) for f in EXACT_FIELDS]
    return wq.Term(MATCH_FIELD, folded), boosts


def _phrase(fieldname: str, words: list[str], slop: int, negated: bool) -> Rewritten:
    folded = [fold(w) for w in words]
    field = TITLE_FIELD if fieldname == TITLE else MATCH_FIELD
    required = wq.Phrase(field, folded, slop=slop)
    if negated:
        return required, []
    boosts: list[wq.Query] = []
    if field == MATCH_FIELD:
        boosts.append(wq.Phrase(TITLE_FIELD, folded, slop=slop, boost=TITLE_BOOST))
    exact_fields = (TITLE,) if fieldname == TITLE else EXACT_FIELDS
    boosts += [
        wq.Term(f, w, boost=EXACT_BOOST) for w in words if has_accents(w) for f in exact_fields
    ]
    return required, boosts


def _pattern(cls: type, fieldname: str, text: str) -> Rewritten:
    """Prefix/wildcard/fuzzy queries run on the folded forms."""
    pattern = fold(text) if cls is not wq.Wildcard else _fold_wildcard(text)
    field = TITLE_FIELD if fieldname == TITLE else MATCH_FIELD
    return cls(field, pattern), []


def user_form(q: wq.Query) -> str:
    """A query part as the user would type it: no internal field names
    (``text_f:a*`` → ``a*``, ``text:{a TO b}`` → ``{a TO b}``)."""
    if isinstance(q, wq.Prefix):
        return f"{q.text}*"
    if isinstance(q, wq.FuzzyTerm):
        return f"{q.text}~{q.maxdist}"
    if isinstance(q, wq.Wildcard | wq.Term):
        return str(q.text)
    if isinstance(q, wq.TermRange):
        left, right = "[" if q.startexcl is False else "{", "]" if q.endexcl is False else "}"
        return f"{left}{q.start or ''} TO {q.end or ''}{right}"
    return re.sub(r"\b\w+:", "", str(q))


def _fold_wildcard(text: str) -> str:
    return "".join(ch if ch in "*?" else fold(ch) for ch in text)


def _rewrite(q: wq.Query, negated: bool) -> Rewritten | None:
    """Map a parsed query onto the index fields (see :func:`parse`)."""
    if isinstance(q, wq.Not | wq.AndNot):
        return _rewrite_negation(q, negated)
    if isinstance(q, wq.Phrase | wq.Term | wq.Prefix | wq.Wildcard | wq.FuzzyTerm):
        return _leaf(q.fieldname, q, negated)
    if isinstance(q, wq.compound.CompoundQuery):
        return _rewrite_compound(q, negated)
    if q is wq.NullQuery:
        return None
    if isinstance(q, wq.Every):  # "*" alone: every article
        return wq.Every(), []
    return _other_leaf(q, negated)


def _rewrite_negation(q: wq.Not | wq.AndNot, negated: bool) -> Rewritten | None:
    """``NOT a`` and ``a ANDNOT b``: what is excluded flips *negated* (see :func:`_word`)."""
    if isinstance(q, wq.Not):
        inner = _rewrite(q.query, not negated)
        return (wq.Not(inner[0]), []) if inner is not None else None
    a, b = _rewrite(q.a, negated), _rewrite(q.b, not negated)
    if a is None:
        return None
    return (Without(a[0], b[0]), a[1]) if b is not None else a


def _rewrite_compound(q: wq.compound.CompoundQuery, negated: bool) -> Rewritten | None:
    """ANDs, ORs and binary shapes keep their shape; their parts are rewritten."""
    if isinstance(q, wq.BinaryQuery):  # "+a b" is AndMaybe(a, b); also Require, Otherwise
        a, b = _rewrite(q.a, negated), _rewrite(q.b, negated)
        if a is None or b is None:
            return a or b
        return type(q)(a[0], b[0]), a[1] + b[1]
    children = [c for c in (_rewrite(s, negated) for s in q.subqueries) if c is not None]
    if not children:
        return None
    return type(q)([c[0] for c in children], boost=q.boost), [b for c in children for b in c[1]]


def _other_leaf(q: wq.Query, negated: bool) -> Rewritten:
    """Ranges and other leaves on text fields: search the words they contain."""
    words = [t for _, t in q.iter_all_terms()] if hasattr(q, "iter_all_terms") else []
    if not words:
        raise QueryError(f"unsupported query syntax: {user_form(q)}")
    parts = [_word(syntax.DEFAULT_FIELD, w, negated) for w in words]
    return wq.And([p[0] for p in parts]), [b for p in parts for b in p[1]]


def _leaf(fieldname: str, q: wq.Query, negated: bool) -> Rewritten:
    if fieldname in syntax.META_FIELDS:
        if isinstance(q, wq.Phrase):
            return wq.Phrase(fieldname, [fold(w) for w in q.words], slop=q.slop), []
        return (wq.Term(fieldname, fold(q.text)) if isinstance(q, wq.Term) else q), []
    if fieldname == ID:
        return (wq.Term(ID, q.text) if isinstance(q, wq.Term) else q), []
    if isinstance(q, wq.Phrase):
        return _phrase(fieldname, list(q.words), q.slop, negated)
    if isinstance(q, wq.FuzzyTerm):
        return _pattern(wq.FuzzyTerm, fieldname, q.text)
    if isinstance(q, wq.Prefix):
        return _pattern(wq.Prefix, fieldname, q.text)
    if isinstance(q, wq.Wildcard):
        return _pattern(wq.Wildcard, fieldname, q.text)
    return _word(fieldname, q.text, negated)


def check_expansions(q: wq.Query, searcher: Searcher) -> None:
    """Refuse prefix/wildcard/fuzzy terms that would expand to too many words."""
    reader = searcher.reader()
    for leaf in q.leaves():
        if isinstance(leaf, wq.MultiTerm):
            count = sum(
                1 for _ in zip(range(MAX_EXPANSION + 1), leaf.expanded_terms(reader), strict=False)
            )
            if count > MAX_EXPANSION:
                raise QueryError(
                    f"'{user_form(leaf)}' matches more than {MAX_EXPANSION} different words; "
                    "make the pattern longer"
                )


def run(
    searcher: Searcher,
    text: str,
    limit: int = 10,
    page: int = 1,
    sort: Sort = "relevance",
    filters: Filters | None = None,
    facets: bool = False,
    time_limit: float | None = None,
    with_snippets: bool = True,
    exact: bool = False,
    suggest: bool = True,
) -> SearchResult:
    """Search with the library's full behaviour (what :class:`search.engine.LocalEngine` runs).

    *text* may carry ``place:`` and ``date:`` terms; they join *filters*. A query of
    filters only (``place:"ba dinh" date:2023``) lists every matching article.
    With *time_limit* (seconds), a search that runs longer returns what it found so
    far, marked ``partial``. ``with_snippets=False`` skips highlighting, for callers
    that only need the ranked hits.

    Unless *exact*: when the words match fewer than
    :data:`search.relax.TYPO_WHEN_FEWER` articles, words of
    :data:`search.relax.TYPO_MIN_LETTERS`+ letters (4+ for a word the archive
    lacks: :func:`search.relax.typo_alternatives`) also match index words one
    edit away, and those articles follow the exact ones (a fixed threshold, not the
    page size, so every page of one query agrees on the total); when all of those
    are still fewer, the articles holding all the words but one follow them
    (``missing_one``). With *suggest*, the result carries a
    "did you mean" (:mod:`search.spelling`); when no article holds the words as
    typed and the suggestion changes them, the suggestion's results are shown
    (``corrected``), followed by the typed words' typo matches they lack. Only when
    nothing is found at all are words dropped (``fallback``/``relaxed``).

    Paging and sort are taken as given: :func:`search.service.check` is where
    they are checked against :mod:`search.limits`, for every front end.
    """
    started = time.perf_counter()
    words, flt = _filtered(text, filters)
    vocabulary = lexicon.of(searcher)
    q, likely = _first_query(searcher, words, flt)
    search = Searching(searcher=searcher, limit=limit, page=page, sort=sort, flt=flt,
                       facets=facets, time_limit=time_limit)
    found = search.run(q)
    typo_q = None
    if not exact and words.strip():
        found, typo_q = _with_typo_matches(search, q, found, vocabulary)
        found = _with_missing_one(search, q, typo_q, found)
    suggestion = spelling.suggest(vocabulary, words) if suggest and words.strip() else None
    corrected, typed = False, words
    if suggestion and suggestion.corrected and not exact and _none_as_typed(found):
        searched = spelling.searched_form(words, suggestion.text)
        fixed = _corrected(search, searched, typed=(q, typo_q), found=found)
        if fixed is not None:
            (q, found, likely), corrected, typed = fixed, True, searched
    relaxed_by = None
    if found.empty and has_many_words(q):
        relaxed = _relaxed(search, q, words)
        if relaxed is not None:
            q, found, relaxed_by = relaxed
    hits = page_hits(searcher, found, q, typo_q=typo_q, page=page, limit=limit,
                      with_snippets=with_snippets, typed=typed, readings=likely)
    return SearchResult(
        query=text, total=found.total, page=page, limit=limit,
        took_ms=(time.perf_counter() - started) * 1000, hits=hits,
        sort=sort, fallback=relaxed_by is not None, relaxed=relaxed_by,
        facets=found.facets() if facets else None, partial=found.partial,
        suggestion=suggestion.text if suggestion else None, corrected=corrected,
        typos=found.typos, missing_one=found.missing_one,
    )


def _first_query(searcher: Searcher, words: str,
                 flt: wq.Query | None) -> tuple[wq.Query, list[Reading] | None]:
    """The query as typed, and its likely readings (``None`` when too long to read;
    empty for a query of filters only, which lists every matching article)."""
    if not words.strip():
        if flt is None:
            raise QueryError("empty query: type some words to search for")
        return wq.Every(), []
    vocabulary = lexicon.of(searcher)
    likely = readings(vocabulary, words) if ranks_by_reading(words) else None
    q = parse(words, readings=likely or (), accents=accents_of(vocabulary, likely or ()))
    check_expansions(q, searcher)
    return q, likely


def _with_typo_matches(search: Searching, q: wq.Query, found: Found,
                       vocabulary: Lexicon) -> tuple[Found, wq.Query | None]:
    """*found* followed by the articles only words one edit away match, when the
    exact words match few; and the widened query (``None`` when not widened)."""
    if found.total >= TYPO_WHEN_FEWER or found.partial:
        return found, None
    typo_q = with_typos(q, vocabulary)
    if typo_q is None:
        return found, None
    return found.then(search.run(Without(typo_q, required_part(q)))), typo_q


def _with_missing_one(search: Searching, q: wq.Query, typo_q: wq.Query | None,
                      found: Found) -> Found:
    """*found* followed by the articles holding all the words but one, when the words
    (exact or one typo away) match fewer than :data:`~search.relax.TYPO_WHEN_FEWER`.

    A slip that makes another real word (``cha`` for ``chia``) matches exactly
    elsewhere and is no typo to tolerate, so the article meant lacks one word; it
    comes after every article holding them all. A query that finds nothing is
    relaxed the same way, but as the ``fallback`` (:func:`run`)."""
    if not found.total or found.total >= TYPO_WHEN_FEWER or found.partial:
        return found
    more = _missing_one(search, q, _held(q, typo_q))
    return found if more is None else found.then_missing_one(more)


def _held(q: wq.Query, typo_q: wq.Query | None) -> wq.Query:
    """What decides the matches of the words as typed, or widened by typos when
    they were: the articles lacking a word are those it does not match."""
    return required_part(typo_q if typo_q is not None else q)


def _missing_one(search: Searching, q: wq.Query, *held: wq.Query) -> Found | None:
    """The articles holding all of *q*'s words but one that none of *held* match
    (``None`` for a query too short or too long to leave a word out)."""
    found = left_out(q)
    if found is None:
        return None
    parts, relaxed = found
    shown = held[0] if len(held) == 1 else wq.Or(list(held))
    return search.run_disjoint([Without(p, shown) for p in parts], Without(relaxed, shown))


def _none_as_typed(found: Found) -> bool:
    """Whether no article holds the words as typed: *found* is empty, or holds only
    articles matched through words one edit away or lacking a word."""
    return not found.partial and found.total == found.typos + found.missing_one


def _corrected(search: Searching, text: str, *, typed: tuple[wq.Query, wq.Query | None],
               found: Found) -> tuple[wq.Query, Found, list[Reading] | None] | None:
    """The did-you-mean *text*'s query, what it finds and its readings, when it finds
    something (``None`` when not): its matches first, then what the *typed* query
    (as typed, and widened by typos) *found*, without them: its typo matches, then
    the articles lacking one of its words. Nothing found before is lost.

    The did-you-mean weighs the whole query's context (``vurus h5n1`` → ``virus
    H5N1``), where typo tolerance widens each word alone: when the words as typed
    are in no article, the correction's articles are the likelier ones."""
    try:
        fixed_q, likely = _first_query(search.searcher, text, search.flt)
    except QueryError:
        return None
    fixed = search.run(fixed_q)
    if fixed.empty:
        return None
    q, typo_q = typed
    shown = required_part(fixed_q)
    if typo_q is not None and found.typos:
        fixed = fixed.then(search.run(Without(typo_q, shown)))
    if found.missing_one:
        more = _missing_one(search, q, _held(q, typo_q), shown)
        if more is not None:
            fixed = fixed.then_missing_one(more)
    return fixed_q, fixed, likely


def _relaxed(search: Searching, q: wq.Query,
             words: str) -> tuple[wq.Query, Found, str] | None:
    """Step by step, for a query whose words match nothing: all words but one (a
    word the archive lacks), then any word; the first query that finds something,
    what it found and its name (``None`` when neither does). As nothing holds every
    word, the ANDs leaving one word out share no article and are scored apart
    (:meth:`~search.searching.Searching.run_disjoint`)."""
    found = left_out(q)
    if found is not None:
        parts, whole = found
        more = search.run_disjoint(parts, whole)
        if more.total or more.partial:
            return whole, more, "all_but_one"
    any_word = parse(words, any_word=True)
    more = search.run(any_word)
    return (any_word, more, "any_word") if more.total or more.partial else None


def _filtered(text: str, filters: Filters | None) -> tuple[str, wq.Query | None]:
    """*text*'s words, and the filter for *filters* with *text*'s ``place:``/``date:``
    terms added."""
    words, combined = split_filters(text, filters)
    return words, build_filter(combined)


def query_marking(searcher: Searcher, text: str) -> Marking:
    """What the results page marks for the query *text* (parsed, read and expanded
    as :func:`run` does; ``place:``/``date:`` terms mark nothing), so that a whole
    article opened from a result can be marked the same way.

    Raises :class:`QueryError` where :func:`run` would (bad syntax, too many
    expansions).
    """
    words, _ = split_filters(text, Filters())
    if not words.strip():
        return Marking(set(), set())
    q, likely = _first_query(searcher, words, None)
    return marking_of(searcher, q, typed=words, likely=likely)
