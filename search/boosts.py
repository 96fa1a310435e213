"""Ranking boosts added to a parsed query: words typed together, and the likely reading.

A plain query's words only decide what matches; these optional parts (Whoosh's
``AndMaybe`` side) decide which matches rank first. :func:`proximity_boosts` favours
articles where the words typed stand together; :func:`reading_boosts` favours the
probable accented reading of an unaccented query (:mod:`search.readings`), so
``da nang`` ranks Đà Nẵng first. They live apart from :mod:`search.query`'s mapping
onto the index fields because they are tuned on the benchmark, not on the syntax.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from whoosh import query as wq
from whoosh.searching import Searcher

from search import lexicon, plan, syntax
from search.lexicons import Lexicon
from search.normalize import fold, has_accents
from search.readings import Reading
from search.schema import BODY, MATCH_FIELD, TITLE, TITLE_FIELD

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


def reading_boosts(parsed: wq.Query, readings: Sequence[Reading],
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


def ranks_by_reading(words: str) -> bool:
    """Whether a query of *words* is short enough for its likely reading to rank it."""
    return len(words.split()) <= MAX_READING_WORDS


def accents_of(source: Lexicon | Searcher,
               readings: Sequence[Reading]) -> dict[str, list[str]]:
    """The accented spellings of the readings' words written without marks (from
    *source*, the archive's vocabulary or a searcher on the local index)."""
    lex = lexicon.of(source)
    plain = {w for r in readings for w in r.words if not has_accents(w)}
    return {w: [f for f, _ in lex.accent_forms(w) if has_accents(f)][:PLAIN_RIVALS]
            for w in plain}

