"""Marking a page of hits: what a query marks, and each hit's snippets and title under it.

Highlighting (:mod:`search.highlight`) marks text, not queries. This turns a mapped
query (:mod:`search.query`) into the :class:`~search.highlight.Marking` it needs,
expanding patterns against the index's vocabulary and leaving out what the query
excludes, so a snippet marks exactly what made the article match; and builds the
page's :class:`~search.results.Hit` s with it, typo matches marked with the words one
edit away and exact matches without them.
"""

from __future__ import annotations

from collections.abc import Sequence

from whoosh import query as wq
from whoosh.searching import Hit as WhooshHit
from whoosh.searching import Searcher

from search.highlight import Marking, mark_all, snippets, typed_reading
from search.normalize import fold
from search.readings import Reading, readings
from search.results import Hit, extra_fields
from search.schema import (
    AUTHOR,
    DATE,
    EXACT_FIELDS,
    ID,
    MATCH_FIELD,
    PATH,
    SOURCE,
    TITLE,
    TITLE_FIELD,
    stored_texts,
)
from search.searching import Found


def page_hits(  # noqa: PLR0913 - paging and marking options, all keyword-only
    searcher: Searcher, found: Found, q: wq.Query, *, typo_q: wq.Query | None,
    page: int, limit: int, with_snippets: bool, typed: str = "",
    readings: Sequence[Reading] | None = None,
) -> list[Hit]:
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
    exact = marking_of(searcher, q, typed=typed, likely=readings)
    typos = exact
    if typo_q is not None and found.typos:
        typos = highlight_terms(wq.Or([q, typo_q]), searcher)._replace(readings=exact.readings)
    first_missing = found.total - found.missing_one
    first_typo = first_missing - found.typos
    return [
        _hit(hit, typos if first_typo <= n < first_missing else exact, True)
        for n, hit in enumerate(hits, (page - 1) * limit)
    ]


def marking_of(searcher: Searcher, q: wq.Query, *, typed: str,
               likely: Sequence[Reading] | None) -> Marking:
    """What to mark for the parsed *q* of the *typed* words, following their probable
    readings (*likely*, or computed here when the ranking did not), else the words
    typed with accents."""
    if likely is None:
        likely = readings(searcher, typed)
    words = tuple(r.words for r in likely)
    as_typed = typed_reading(typed)
    if not words and as_typed:
        words = (as_typed,)
    return highlight_terms(q, searcher)._replace(readings=words)


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



def _hit(hit: WhooshHit, marking: Marking, with_snippets: bool = True) -> Hit:
    """One hit for the result page: its stored fields, snippets and title marked."""
    stored = hit.fields()
    summary, body = stored_texts(stored)  # one decompression for both
    body = body if with_snippets else ""
    title = stored.get(TITLE, "")
    return Hit(
        id=stored[ID],
        path=stored.get(PATH, ""),
        title=title,
        date=stored.get(DATE),
        author=stored.get(AUTHOR),
        source=stored.get(SOURCE),
        score=float(hit.score or 0.0),
        snippets=snippets(body, marking.exact, marking.folded, phrases=marking.phrases,
                          readings=marking.readings),
        title_marks=mark_all(title, marking.exact, marking.folded, phrases=marking.phrases,
                             readings=marking.readings),
        fields=extra_fields(stored, summary=summary),
    )
