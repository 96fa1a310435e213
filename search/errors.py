"""The one error a request can fail with, raised at every layer it is checked.

The query language (:mod:`search.syntax`), the filters (:mod:`search.filters`), the
search run (:mod:`search.query`) and the service (:mod:`search.service`) all refuse
a request the same way, so front ends catch one type and report the parameter it
names: the CLI as its one line on stderr (or JSON under ``--json``) with exit code 2,
the HTTP API as a 400 answer ``{"error": {"param", "message"}}``.
"""

from __future__ import annotations


class QueryError(ValueError):
    """The query cannot be run; the message says why, in one line.

    ``param`` names the input at fault (``q``, ``limit``, ``page``, ``sort``,
    ``since``, ``until``, ``place``, ``author``, ``source``) for front ends that
    report errors per parameter.
    """

    def __init__(self, message: str, param: str = "q") -> None:
        super().__init__(message)
        self.param = param
