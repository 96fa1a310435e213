"""vnsearch: full-text search over archives of Vietnamese news articles.

One core library with thin front ends. The modules, in the order data flows:

* archive → ``archive`` (files, encodings, JSON records; ``encodings`` for legacy
  Vietnamese code pages), ``extract`` (title, byline, source, people, lede), ``dates``,
  ``places``;
* normalise → ``normalize`` (what a word is: NFC, tone placement, folding),
  ``analysis`` (Whoosh tokenizers over it), ``abbrev`` (abbreviations);
* index → ``schema`` (fields), ``indexer`` (incremental, failure-safe), ``store``
  (opening and replacing the index), ``lock``, ``interrupt``, ``pool``;
* query → ``query`` (parsing, filters, the search run), ``negation``,
  ``spelling`` (did you mean, the probable readings), ``lexicon`` (the index's own
  vocabulary and word pairs), ``complete`` (autocomplete);
* score → ``bm25`` (whole posting lists with numpy), ``postings`` (bounded walks);
* highlight → ``highlight`` (snippets under the query's reading);
* service → ``engine`` (the seam under the service: the local Whoosh index, later a
  cluster), ``service`` (requests checked against ``limits``, notices decided once),
  ``results`` (hits, result pages and articles, one JSON shape each);
* front ends → ``cli`` (the ``vnsearch`` command), ``http`` with ``http_models``,
  ``http_assets`` and ``pages`` (the search and article pages from ``templates/``)
  (``vnsearch serve``): shells over ``service``.
"""

__version__ = "0.1.0"
