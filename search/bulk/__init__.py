"""Bulk indexing: new articles written as whole codec segments, on both cores.

Whoosh's own writer handles every posting in Python several times over; here a
batch of articles becomes one segment at once. One concept per module:

* :mod:`search.bulk.builder` — the segment builder: a batch of documents written
  through the codec in whole posting lists (the bytes Whoosh's writer would write);
* :mod:`search.bulk.grouped` — a batch's postings as collected, and grouped by term;
* :mod:`search.bulk.runs` — a builder's postings spilled to run files when they
  outgrow its memory budget, and merged term by term into its segment;
* :mod:`search.bulk.workers` — the builders of one indexing run: batches dealt to
  worker processes (or built in this one), and the merge policy that adds the
  finished segments to the run's commit through Whoosh's writer;
* :mod:`search.bulk.merging` — merges of segments on commit: each term's posting
  lists read as arrays, renumbered, concatenated and written whole (no posting
  goes through Whoosh's posting pool).
"""
