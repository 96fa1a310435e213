"""vnsearch's own Whoosh codec: postings as packed integer arrays numpy reads directly.

Whoosh's default codec (W3) pickles every posting block and every posting's
positions, so reading them as arrays meant reaching into its private internals.
This package plugs into Whoosh's official extension point (``whoosh.codec.base``)
instead, one concept per module:

* :mod:`search.codec.packing` — the integer encoding (at the narrowest width, gaps where they pay);
* :mod:`search.codec.postings` — posting lists as packed columns: writer, term infos,
  Whoosh's matcher, and the arrays the fast scorer reads;
* :mod:`search.codec.terms` — the term dictionary (Whoosh's ``TermsReader`` API);
* :mod:`search.codec.perdoc` — per-document data: field lengths, stored fields, columns;
* :mod:`search.codec.version` — the format version every file starts with;
* :mod:`search.codec.vncodec` — the :class:`~search.codec.vncodec.VnCodec`, its segment,
  and how a caller reaches a segment's arrays from a Whoosh reader.
"""
