"""The hard bounds that keep one request from costing too much, in one place.

The service checks every request against them (:func:`search.service.check`), the
HTTP API declares them in its OpenAPI document, the CLI in its option ranges, and
the query runner bounds pattern expansion with :data:`MAX_EXPANSION`; all read them
from here, so a front end cannot drift from the library (the page once clamped
``page`` to 100 while the library allowed 1,000).
"""

from __future__ import annotations

from typing import Literal, get_args

#: Longest query text, in characters.
MAX_QUERY_CHARS = 1000
#: Most hits per page.
MAX_LIMIT = 100
#: Highest page number.
MAX_PAGE = 1000
#: Deepest hit a page may reach (page × limit): collecting costs grow with it.
MAX_DEPTH = 10_000
#: Most index words one prefix/wildcard/fuzzy term may expand to.
MAX_EXPANSION = 1000
#: Seconds one HTTP query may run before it answers with what it has found.
QUERY_TIME_LIMIT = 5.0

#: The orders a search can be sorted in: by score, or newest first.
Sort = Literal["relevance", "date"]
SORTS: tuple[str, ...] = get_args(Sort)
