"""Running a user's query: parse, expand to the exact and folded fields, search, snip.

The query language (Whoosh's, with ``place:``/``date:`` terms and abbreviations) is
:mod:`search.syntax`'s; its filters are :mod:`search.filters`'. The parsed tree is
then rewritten here: each word becomes
"its exact form in the exact fields (boosted) OR its folded form in the folded
fields", and only the folded form when the user typed it without accents. That one
rewrite gives accent-insensitive matching, exact-accent-first ranking, ``hoà`` =
``hòa`` (both normalise to one term), and title-over-body weighting.

All words are required; when that finds nothing the query is re-run with any word
allowed, and the result says so (``fallback``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from whoosh import query as wq
from whoosh.collectors import FilterCollector, TimeLimit, TopCollector, WrappingCollector
from whoosh.searching import Searcher
from whoosh.sorting import Count

from search import abbrev, bm25, lexicon, plan, spelling, syntax
from search.errors import QueryError
from search.filters import (
    DATE_ORDER,
    FACET_SIZE,
    FACETS,
    Filters,
    build_filter,
    facet_counts,
)
from search.highlight import Marking, mark_all, snippets, typed_reading
from search.limits import MAX_EXPANSION, MAX_QUERY_CHARS, Sort
from search.negation import Without
from search.normalize import fold, has_accents
from search.posting_arrays import allowed
from search.results import Hit, SearchResult, extra_fields
from search.schema import (
    BODY,
    EXACT_BOOST,
    EXACT_FIELDS,
    ID,
    MATCH_FIELD,
    TITLE,
    TITLE_BOOST,
    TITLE_FIELD,
    stored_body,
)
from search.syntax import split_filters


def parse(text: str, any_word: bool = False, readings: Sequence[spelling.Reading] = (),
          accents: Mapping[str, Sequence[str]] | None = None) -> wq.Query:
    """Parse *text* into a Whoosh query over the real index fields.

    The result is ``AndMaybe(required, boosts)``: *required* decides which articles
    match (folded forms in ``text_f``), *boosts* (title and exact-accent terms) only
    add to the score of articles that match anyway. Raises :class:`QueryError` for
    empty, over-long or unparsable queries. *readings* (from
    :func:`search.spelling.readings`, with *accents*) add :func:`reading_boosts`.
    """
    text = text.strip()
    if not text:
        raise QueryError("empty query: type some words to search for")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"query too long ({len(text)} characters; the limit is {MAX_QUERY_CHARS})")
    try:
        parsed = syntax.parser(any_word=any_word).parse(text)
    except abbrev.AbbreviationError as exc:
        raise QueryError(str(exc)) from None
    except Exception:  # Whoosh raises assorted errors on odd syntax
        raise QueryError(
            "cannot parse query: check its quotes and brackets, and that + and - stand "
            "right before a word or phrase"
        ) from None
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


#: Extra weight when all the words typed stand together, in order, in the article,
#: and again in its title; and, for 3+ words, per pair of neighbours that does.
#: Tuned on one half of 1,172 known items from 10,000 VNTC articles (bench/quality.py:
#: items split by a hash of their article id and part): 1/1/0.5, 2/2/1, 4/4/2, 4/1/2,
#: 8/4/4 tried; MRR@10 plateaus from 4/4/2 (unaccented 0.851 → 0.925 on that half).
PROXIMITY_BOOST = 4.0
PROXIMITY_TITLE_BOOST = 4.0
PROXIMITY_PAIR_BOOST = 2.0


def proximity_boosts(parsed: wq.Query) -> list[wq.Query]:
    """Optional phrase boosts for words typed together (``quan uy ba dinh``).

    Words a user types side by side usually stand side by side in the article they
    mean. Matching stays all-words-anywhere; these only add score, so articles where
    the words stand together (in the title above all) rank first and no match is
    lost. Only for plain all-words queries: no fields, phrases, ORs or exclusions.
    """
    parts = parsed.subqueries if type(parsed) is wq.And else []
    if not 2 <= len(parts) <= MAX_PROXIMITY_WORDS or not all(
        type(q) is wq.Term and q.fieldname == syntax.DEFAULT_FIELD for q in parts
    ):
        return []
    words = [q.text for q in parts]
    folded = [fold(w) for w in words]
    if not all(folded):
        return []
    boosts: list[wq.Query] = [
        wq.Phrase(MATCH_FIELD, folded, boost=PROXIMITY_BOOST),
        wq.Phrase(TITLE_FIELD, folded, boost=PROXIMITY_TITLE_BOOST),
    ]
    if len(folded) > 2:
        boosts += [wq.Phrase(MATCH_FIELD, folded[i : i + 2], boost=PROXIMITY_PAIR_BOOST)
                   for i in range(len(folded) - 1)]
    return boosts


#: Longest plain query that gets proximity boosts (each is a positions check).
MAX_PROXIMITY_WORDS = 8

#: Extra weight, times the reading's probability, of an article holding a likely
#: reading's exact words where the words typed stand together.
READING_BOOST = 8.0
#: Where a reading is looked for: exact field, and the folded field holding the
#: words typed together.
READING_FIELDS = ((BODY, MATCH_FIELD), (TITLE, TITLE_FIELD))
#: Readings less probable than this add nothing (they would only add cost).
MIN_READING_SHARE = 0.1


def _plain_words(parsed: wq.Query) -> list[str] | None:
    """The words of a plain all-words query (no fields, phrases, ORs or exclusions)."""
    parts = parsed.subqueries if type(parsed) is wq.And else [parsed]
    if not 1 <= len(parts) <= MAX_PROXIMITY_WORDS or not all(
            type(q) is wq.Term and q.fieldname == syntax.DEFAULT_FIELD for q in parts):
        return None
    return [q.text for q in parts]


def reading_boosts(parsed: wq.Query, readings: Sequence[spelling.Reading],
                   accents: Mapping[str, Sequence[str]] | None = None) -> list[wq.Query]:
    """Optional boosts for the likely accented readings of a plain query.

    ``da nang`` is Đà Nẵng far more often than "da … nắng". An article holding a
    reading's exact words in its body, where the words typed stand together, gains
    :data:`READING_BOOST` × the reading's probability × the share of each word's
    uses in it that can be written that way (:class:`search.plan.Shared`); in its
    title, again. So the likely reading ranks first, a rare one lower,
    folding-only matches last, and none is lost.

    The exact fields hold accented words only: a reading's word without marks
    counts through what is left of its folded uses once its commonest accented
    spellings (*accents*: folded word → them) are taken away. When the likeliest
    reading has no marks at all (``ba``, mostly written so), no reading is
    boosted: a rarer accented one (``bà``) must not overtake it.
    """
    words = _plain_words(parsed)
    if not words or not readings or not any(has_accents(w) for w in readings[0].words):
        return []  # the likeliest reading has no marks: the exact fields cannot show it
    folded = [fold(w) for w in words]
    boosts: list[wq.Query] = []
    for reading in readings:
        if reading.probability < MIN_READING_SHARE or [fold(w) for w in reading.words] != folded:
            continue
        accented = [w for w in reading.words if has_accents(w)]
        if not accented:
            continue
        boost = READING_BOOST * reading.probability
        for exact, folded_field in READING_FIELDS:
            terms: list[wq.Query] = [wq.Term(exact, w, boost=boost) for w in accented]
            shares = [plan.Share((wq.Term(exact, w),), wq.Term(folded_field, fold(w)))
                      for w in accented]
            shares += [plan.Share(tuple(wq.Term(exact, a) for a in (accents or {}).get(w, ())),
                                  wq.Term(folded_field, w), rest=True)
                       for w in reading.words if not has_accents(w) and (accents or {}).get(w)]
            if len(folded) > 1:
                terms.insert(0, wq.Phrase(folded_field, folded, boost=boost))
            boosts.append(plan.Shared(terms, shares))
    return boosts


#: Accented spellings counted against a reading's word written without marks (the
#: commonest: they hold nearly all of its other uses).
PLAIN_RIVALS = 3


#: Longest query whose likely reading drives its ranking: a longer one is settled
#: by its words standing together, and the reading's boosts cost posting lists and
#: phrase checks per reading. (Its page still marks under the reading: that is
#: computed for the page alone.)
MAX_READING_WORDS = 3


def _reads(words: str) -> bool:
    return len(words.split()) <= MAX_READING_WORDS


def accents_of(searcher: Searcher, readings: Sequence[spelling.Reading]) -> dict[str, list[str]]:
    """The accented spellings of the readings' words written without marks."""
    reader = searcher.reader()
    plain = {w for r in readings for w in r.words if not has_accents(w)}
    return {w: [f for f, _ in lexicon.accent_forms(reader, w) if has_accents(f)][:PLAIN_RIVALS]
            for w in plain}


def required_part(q: wq.Query) -> wq.Query:
    """The part of a parsed query that decides what matches."""
    return q.a if isinstance(q, wq.AndMaybe) else q


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
        required = wq.Term(TITLE_FIELD, folded)
        boosts = [wq.Term(TITLE, word, boost=EXACT_BOOST)] if accented else []
        return required, boosts
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
    if isinstance(q, wq.Not):
        inner = _rewrite(q.query, not negated)
        return (wq.Not(inner[0]), []) if inner is not None else None
    if isinstance(q, wq.AndNot):
        a, b = _rewrite(q.a, negated), _rewrite(q.b, not negated)
        if a is None:
            return None
        return (Without(a[0], b[0]), a[1]) if b is not None else a
    if isinstance(q, wq.Phrase | wq.Term | wq.Prefix | wq.Wildcard | wq.FuzzyTerm):
        return _leaf(q.fieldname, q, negated)
    if isinstance(q, wq.BinaryQuery):  # "+a b" is AndMaybe(a, b); also Require, Otherwise
        a, b = _rewrite(q.a, negated), _rewrite(q.b, negated)
        if a is None or b is None:
            return a or b
        return type(q)(a[0], b[0]), a[1] + b[1]
    if isinstance(q, wq.compound.CompoundQuery):
        children = [c for c in (_rewrite(s, negated) for s in q.subqueries) if c is not None]
        if not children:
            return None
        return type(q)([c[0] for c in children], boost=q.boost), [b for c in children for b in c[1]]
    if q is wq.NullQuery:
        return None
    if isinstance(q, wq.Every):  # "*" alone: every article
        return wq.Every(), []
    # Ranges and other leaves on text fields: search the words they contain.
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


def highlight_terms(q: wq.Query, searcher: Searcher) -> Marking:
    """The terms a query can match, for marking snippets: exact and folded words
    (marked anywhere) and phrases (folded; their words marked where they stand in a
    row, unless the query also wants them alone).

    Prefix, wildcard and fuzzy parts are expanded against the index vocabulary;
    excluded (``NOT``) parts are left out. A phrase with slop counts as its words.
    """
    exact: set[str] = set()
    folded: set[str] = set()
    phrases: dict[tuple[str, ...], None] = {}  # ordered, without repeats
    positive = _without_negations(q)
    if positive is None:
        return Marking(exact, folded)
    reader = searcher.reader()
    # Not Query.existing_terms(): in Whoosh it skips every field after the first.
    for leaf in positive.leaves():
        if isinstance(leaf, wq.Phrase) and leaf.slop == 1 and leaf.fieldname in (
            MATCH_FIELD, TITLE_FIELD, *EXACT_FIELDS
        ):
            phrases[tuple(fold(w) for w in leaf.words)] = None
            continue
        for fieldname, text in leaf.expanded_terms(reader, phrases=True):
            text = text.decode("utf-8") if isinstance(text, bytes) else text
            if fieldname in EXACT_FIELDS:
                exact.add(text)
            elif fieldname in (MATCH_FIELD, TITLE_FIELD):
                folded.add(text)
    # A phrase's accented words are exact boosts too; alone they are no match.
    in_phrases = {w for p in phrases for w in p} - folded
    exact = {w for w in exact if fold(w) not in in_phrases}
    return Marking(exact, folded, tuple(phrases))


def _without_negations(q: wq.Query) -> wq.Query | None:
    if isinstance(q, wq.Not):
        return None
    if isinstance(q, wq.AndMaybe):
        kept = [c for c in (_without_negations(q.a), _without_negations(q.b)) if c is not None]
        return wq.Or(kept) if kept else None
    if isinstance(q, wq.AndNot):
        return _without_negations(q.a)
    if isinstance(q, wq.compound.CompoundQuery):
        kept = [c for c in (_without_negations(s) for s in q.subqueries) if c is not None]
        return type(q)(kept) if kept else None
    return q


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

    Unless *exact*: when the words match fewer than :data:`TYPO_WHEN_FEWER`
    articles, words of :data:`TYPO_MIN_LETTERS`+ letters also match index words one
    edit away, and those articles follow the exact ones (a fixed threshold, not the
    page size, so every page of one query agrees on the total). With *suggest*, the result carries a
    "did you mean" (:mod:`search.spelling`); when the query finds nothing at all
    and the suggestion changes its words, the suggestion's results are shown
    (``corrected``). Only then are words dropped (``fallback``/``relaxed``).

    Paging and sort are taken as given: :func:`search.service.check` is where
    they are checked against :mod:`search.limits`, for every front end.
    """
    started = time.perf_counter()
    words, flt = _filtered(text, filters)
    likely: list[spelling.Reading] | None = []
    if not words.strip():
        if flt is None:
            raise QueryError("empty query: type some words to search for")
        q: wq.Query = wq.Every()
    else:
        likely = spelling.readings(searcher, words) if _reads(words) else None
        q = parse(words, readings=likely or (), accents=accents_of(searcher, likely or ()))
        check_expansions(q, searcher)
    search = _Searching(searcher, limit, page, sort, flt, facets, time_limit)
    found = search.run(q)
    typo_q = None
    if not exact and words.strip() and found.total < TYPO_WHEN_FEWER and not found.partial:
        typo_q = with_typos(q, searcher.reader())
        if typo_q is not None:
            found = found.then(search.run(Without(typo_q, required_part(q))))
    suggestion = spelling.suggest(searcher, words) if suggest and words.strip() else None
    corrected = False
    relaxed_by = None
    if found.total == 0 and not found.partial and suggestion and suggestion.corrected and not exact:
        fixed = parse(suggestion.text)
        more = search.run(fixed)
        if more.total or more.partial:
            q, typo_q, found, corrected = fixed, None, more, True
    if found.total == 0 and not found.partial and _has_many_words(q):
        # Relax step by step: all words but one (a word the archive lacks), then any word.
        for mode, relaxed in (("all_but_one", all_but_one(q)),
                              ("any_word", parse(words, any_word=True))):
            if relaxed is None:
                continue
            more = search.run(relaxed)
            if more.total or more.partial:
                q, found, relaxed_by = relaxed, more, mode
                break
    typed = suggestion.text if corrected and suggestion else words
    hits = _page_hits(searcher, found, q, typo_q, page, limit, with_snippets, typed=typed,
                      readings=None if corrected else likely)
    took = (time.perf_counter() - started) * 1000
    return SearchResult(
        query=text, total=found.total, page=page, limit=limit, took_ms=took, hits=hits,
        sort=sort, fallback=relaxed_by is not None, relaxed=relaxed_by,
        facets=found.facets() if facets else None, partial=found.partial,
        suggestion=suggestion.text if suggestion else None, corrected=corrected,
        typos=found.typos,
    )


def _filtered(text: str, filters: Filters | None) -> tuple[str, wq.Query | None]:
    """*text*'s words, and the filter for *filters* with *text*'s ``place:``/``date:``
    terms added."""
    words, combined = split_filters(text, filters)
    return words, build_filter(combined)


def _page_hits(searcher: Searcher, found: _Found, q: wq.Query, typo_q: wq.Query | None,
               page: int, limit: int, with_snippets: bool, *, typed: str = "",
               readings: Sequence[spelling.Reading] | None = None) -> list[Hit]:
    """The page's hits, marked with the words that matched them: an exact match shows
    the query's words, only a typo match also the words one edit away (else "chính
    phủ" would mark every "hình" of an article that says "chính phủ" too).

    Marks follow the probable accented readings of the *typed* words (computed once
    for the page, only when it has hits to mark, unless the ranking already did:
    *readings*), so ``bong da`` marks "bóng đá", not every "đã"; where there is
    none (query syntax), the words typed with accents (:mod:`search.highlight`).
    """
    hits = found.page(page, limit)
    if not with_snippets or not hits:
        return [_hit(hit, Marking(set(), set()), False) for hit in hits]
    exact = _marking(searcher, q, typed, readings)
    typos = exact
    if typo_q is not None and found.typos:
        typos = highlight_terms(wq.Or([q, typo_q]), searcher)._replace(readings=exact.readings)
    first_typo = found.total - found.typos
    return [
        _hit(hit, typos if n >= first_typo else exact, True)
        for n, hit in enumerate(hits, (page - 1) * limit)
    ]


def _marking(searcher: Searcher, q: wq.Query, typed: str,
             readings: Sequence[spelling.Reading] | None) -> Marking:
    """What to mark for the parsed *q* of the *typed* words, following their probable
    readings (*readings*, or computed here when the ranking did not), else the words
    typed with accents."""
    if readings is None:
        readings = spelling.readings(searcher, typed)
    words = tuple(r.words for r in readings)
    as_typed = typed_reading(typed)
    if not words and as_typed:
        words = (as_typed,)
    return highlight_terms(q, searcher)._replace(readings=words)


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
    likely = spelling.readings(searcher, words) if _reads(words) else None
    q = parse(words, readings=likely or (), accents=accents_of(searcher, likely or ()))
    check_expansions(q, searcher)
    return _marking(searcher, q, words, likely)


#: Typo tolerance joins in when the exact words match fewer articles than this.
TYPO_WHEN_FEWER = 50
#: Shortest word (folded letters) that typo tolerance applies to.
TYPO_MIN_LETTERS = 5
#: Weight of a typo-tolerant match relative to the word typed.
TYPO_BOOST = 0.5


def with_typos(q: wq.Query, reader) -> wq.Query | None:
    """*q* with each required word of 5+ letters also matching words one edit away.

    Only the words that decide the match are widened (not phrases, not excluded
    words); ``None`` when no word has a near neighbour in the index.
    """
    changed = False

    def widen(node: wq.Query) -> wq.Query:
        nonlocal changed
        if isinstance(node, wq.Term) and node.fieldname in (MATCH_FIELD, TITLE_FIELD):
            word = node.text
            if len(word) >= TYPO_MIN_LETTERS and word.isalpha():
                near = lexicon.near_words(reader, word)
                if near:
                    changed = True
                    return wq.Or([node] + [
                        wq.Term(node.fieldname, w, boost=TYPO_BOOST) for w, _ in near
                    ])
            return node
        if isinstance(node, wq.AndNot):
            return Without(widen(node.a), node.b)
        if isinstance(node, wq.And | wq.Or) and not isinstance(node, wq.Not):
            return type(node)([widen(c) for c in node.subqueries], boost=node.boost)
        return node

    required = widen(required_part(q))
    if not changed:
        return None
    return wq.AndMaybe(required, q.b) if isinstance(q, wq.AndMaybe) else required


def check_expansions(q: wq.Query, searcher: Searcher) -> None:
    """Refuse prefix/wildcard/fuzzy terms that would expand to too many words."""
    reader = searcher.reader()
    for leaf in q.leaves():
        if isinstance(leaf, wq.MultiTerm):
            count = sum(
                1 for _ in zip(range(MAX_EXPANSION + 1), leaf._btexts(reader), strict=False)
            )
            if count > MAX_EXPANSION:
                raise QueryError(
                    f"'{user_form(leaf)}' matches more than {MAX_EXPANSION} different words; "
                    "make the pattern longer"
                )


#: Longest query (in words) that gets the all-but-one relaxation (n intersections).
MAX_RELAX_WORDS = 8


def all_but_one(q: wq.Query) -> wq.Query | None:
    """*q* with any one of its required words allowed to be missing, or ``None``.

    Only for plain all-words queries of 3 to :data:`MAX_RELAX_WORDS` words; excluded
    words stay excluded. Whoosh's ``Or(minmatch=…)`` is not implemented, so this is
    the OR of the ANDs that each leave one word out.
    """
    required = required_part(q)
    excluded = None
    if isinstance(required, wq.AndNot):  # "a b c -d": relax the words, keep -d
        required, excluded = required.a, required.b
    if not isinstance(required, wq.And):
        return None
    words = [c for c in required.subqueries if not isinstance(c, wq.Not)]
    negations = [c for c in required.subqueries if isinstance(c, wq.Not)]
    if not 3 <= len(words) <= MAX_RELAX_WORDS:
        return None
    relaxed: wq.Query = wq.Or(
        [wq.And([w for j, w in enumerate(words) if j != i] + negations) for i in range(len(words))]
    )
    if excluded is not None:
        relaxed = Without(relaxed, excluded)
    return wq.AndMaybe(relaxed, q.b) if isinstance(q, wq.AndMaybe) else relaxed


def _has_many_words(q: wq.Query) -> bool:
    return isinstance(required_part(q), wq.And | wq.AndNot)


class _Deadline(WrappingCollector):
    """Stops collecting with :class:`TimeLimit` once *deadline* has passed.

    Whoosh's own ``TimeLimitCollector`` walks its child's matches itself, which
    bypasses a ``FilterCollector`` around it and so ignores filters; checking the
    clock per collected document keeps the filter in charge.
    """

    def __init__(self, child, deadline: float):
        self.child = child
        self.deadline = deadline

    def collect(self, sub_docnum):
        if time.monotonic() > self.deadline:
            raise TimeLimit
        return self.child.collect(sub_docnum)


@dataclass
class _Found:
    """Ranked matches of one or more searches, in order (exact before typo matches)."""

    parts: list = field(default_factory=list)  # whoosh Results, best first
    partial: bool = False
    typos: int = 0

    @property
    def total(self) -> int:
        return sum(len(r) for r in self.parts)

    def then(self, more: _Found) -> _Found:
        """These matches followed by *more* (which are counted as typo matches)."""
        return _Found(self.parts + more.parts, self.partial or more.partial, more.total)

    def page(self, page: int, limit: int) -> list:
        hits = [hit for r in self.parts for hit in r]
        return hits[(page - 1) * limit : page * limit]

    def facets(self) -> dict[str, dict[str, int]]:
        merged: dict[str, dict[str, int]] = {}
        for r in self.parts:
            for name, counts in facet_counts(r).items():
                into = merged.setdefault(name, {})
                for key, n in counts.items():
                    into[key] = into.get(key, 0) + n
        return {
            name: dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:FACET_SIZE])
            for name, c in merged.items()
        }


@dataclass
class _Searching:
    """One request's search settings, to run the query and its fallbacks alike."""

    searcher: Searcher
    limit: int
    page: int
    sort: str
    flt: wq.Query | None
    facets: bool
    time_limit: float | None

    def run(self, q: wq.Query) -> _Found:
        """The top ``page × limit`` matches of *q* (and whether time ran out).

        By relevance, the usual query shapes (words, phrases, their ORs, boosts)
        are scored whole posting lists at a time (:mod:`search.bm25`: same scores,
        ~10× faster on big archives). Other shapes use a plain top-N collector
        that scores and counts every match once: Whoosh's default (block-quality
        skipping, matcher replacement) skips nothing in our query shape, yet it
        approximates scores once the top N fill up and forgets the match count, so
        ``len(results)`` walks every match a second time.
        """
        limit = self.page * self.limit
        deadline = time.monotonic() + self.time_limit if self.time_limit else None
        if self.sort == "relevance" and not self.facets and bm25.usable(self.searcher):
            the_plan = plan.plan(q)
            if the_plan is not None:
                allow = allowed(self.searcher, self.flt) if self.flt is not None else None
                try:
                    return _Found([bm25.search(self.searcher, the_plan, limit, allow, deadline)])
                except TimeLimit:
                    return _Found([bm25.no_results(self.searcher)], partial=True)
        if self.sort == "date" or self.facets:
            kwargs: dict = {"limit": limit}
            if self.sort == "date":
                kwargs.update(sortedby=DATE_ORDER, reverse=True)
            if self.facets:
                kwargs.update(groupedby=FACETS, maptype=Count)
            collector = self.searcher.collector(**kwargs)
        else:
            collector = TopCollector(limit, usequality=False, replace=0)
        if deadline is not None:
            collector = _Deadline(collector, deadline)
        if self.flt is not None:
            collector = FilterCollector(collector, allow=self.flt)
        partial = False
        try:
            self.searcher.search_with_collector(q, collector)
        except TimeLimit:
            partial = True
        return _Found([collector.results()], partial)


def _hit(hit, marking: Marking, with_snippets: bool = True) -> Hit:
    stored = hit.fields()
    body = stored_body(stored) if with_snippets else ""
    title = stored.get("title", "")
    options = {"phrases": marking.phrases, "readings": marking.readings}
    return Hit(
        id=stored["id"],
        path=stored.get("path", ""),
        title=title,
        date=stored.get("date"),
        author=stored.get("author"),
        source=stored.get("source"),
        score=float(hit.score or 0.0),
        snippets=snippets(body, marking.exact, marking.folded, **options),
        title_marks=mark_all(title, marking.exact, marking.folded, **options),
        fields=extra_fields(stored),
    )
