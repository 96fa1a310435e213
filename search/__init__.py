"""vnsearch: full-text search over archives of Vietnamese news articles.

One core library with thin front ends. The modules, in the order data flows:

* archive → ``archive`` (files, encodings, JSON records; ``encodings`` for legacy
  Vietnamese code pages), ``extract`` (title, byline, source, people, lede), ``dates``,
  ``places``;
* normalise → ``normalize`` (what a word is: NFC, tone placement, folding),
  ``analysis`` (Whoosh tokenizers over it), ``abbrev`` (abbreviations);
* index → ``schema`` (fields), ``compression`` (how stored text is compressed),
  ``documents`` (what an article becomes in the index),
  ``indexer`` (the incremental, failure-safe run), ``bulk`` (new articles written as
  whole codec segments by worker processes; segments merged by concatenating their
  arrays), ``safe_writer`` (the Whoosh writer
  that commits them whole or leaves no trace), ``store``
  (opening and replacing the index), ``lock``, ``interrupt``,
  ``generations`` (an open index generation: the searcher pool, and the one registry
  of caches released when the next generation lands);
* query → ``syntax`` (the query language: Whoosh's parser with ``place:``/``date:``
  and abbreviations as plugins), ``filters`` (place, date, author and source
  restrictions; facets), ``query`` (the parsed tree mapped onto the index fields,
  and the run: exact words, typo matches, correction, relaxation, in that order),
  ``boosts`` (ranking for words typed together and the likely reading), ``relax``
  (typo tolerance, all words but one), ``negation``, ``accents`` (the archive's
  accent model: spellings per word, typed marks kept, Telex/VNI), ``readings`` (the
  probable accented readings of a query), ``spelling`` (did you mean), ``lexicons``
  (what spelling and readings ask of a vocabulary, any engine's), ``lexicon`` (the
  index's own vocabulary and word pairs), ``complete`` (autocomplete);
* score → ``searching`` (one query's matches: the fast path or a Whoosh collector),
  ``plan`` (which query shapes the fast path takes), ``bm25`` (whole posting
  lists with numpy), ``proximity`` (words in a row, checked lazily),
  ``posting_arrays`` (posting lists as cached arrays) over ``codec`` (vnsearch's own
  Whoosh codec, which every index is written with: posting lists as packed integer
  columns), ``sorted_ids``, ``postings`` (bounded walks);
* highlight → ``marking`` (what a query marks; the page's hits marked with it),
  ``highlight`` (snippets under the query's reading);
* service → ``engine`` (the seam under the service: the local Whoosh index, or a
  Sphinx/Manticore cluster through ``sphinx``, where vnsearch still analyses and
  writes the query), ``service`` (requests checked against ``limits``, notices decided once),
  ``results`` (hits, result pages and articles, one JSON shape each), ``errors``
  (the one error a request fails with);
* front ends → ``cli`` (the ``vnsearch`` command), ``http`` with ``http_models``,
  ``http_assets`` and ``pages`` (the search and article pages from ``templates/``)
  (``vnsearch serve``): shells over ``service``.
"""

__version__ = "0.1.0"
