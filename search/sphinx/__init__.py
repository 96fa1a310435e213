"""vnsearch on a Sphinx/Manticore cluster (issue 19): vnsearch analyses, the cluster matches.

Articles reach the cluster pre-analysed (:mod:`search.sphinx.rtindex`): folded words
and exact canonical-accent words as whitespace-separated, position-aligned tokens,
so searchd needs no Vietnamese support and matches what the local index matches.
"""
