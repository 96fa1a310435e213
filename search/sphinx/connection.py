"""SphinxQL text helpers shared by the cluster's ingestion and its engine: literals.

searchd parses every value of a statement from its text, so a string that reaches it
unescaped can break the statement (a quote in an author's name) or change a query
(an ``@`` or a ``"`` in a search term). Everything that builds SphinxQL renders its
values through these few functions, so escaping is decided once.

* :func:`quote` — a string literal (``'...'``, backslashes and quotes escaped);
* :func:`match_escape` — text safe inside ``MATCH('...')`` as plain words (the
  query-syntax operators escaped), before :func:`quote`;
* :func:`values` — a parenthesised tuple of literals for ``INSERT``/``REPLACE``;
* :func:`id_list` — ``(1,2,3)`` for ``WHERE id IN ...``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

#: Characters searchd's full-text query syntax gives a meaning to.
MATCH_OPERATORS = frozenset('\\()|-!@~"&/^$=<')

#: A value one column of a row can take: text, a number, a multi-value attribute.
Value = str | int | float | Sequence[int]


def quote(text: str) -> str:
    """*text* as a SphinxQL string literal.

    Only ``\\`` and ``'`` are special inside searchd's literals; control characters
    are passed through (searchd keeps them), and the JSON vnsearch stores escapes
    its own.
    """
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def match_escape(text: str) -> str:
    """*text* with full-text query operators escaped, so searchd reads plain words."""
    return "".join("\\" + ch if ch in MATCH_OPERATORS else ch for ch in text)


def literal(value: Value) -> str:
    """One value as SphinxQL: a quoted string, a number, or ``(a,b)`` for an MVA."""
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    return "(" + ",".join(str(int(v)) for v in value) + ")"


def values(row: Iterable[Value]) -> str:
    """``(v1, v2, ...)``: one row of an ``INSERT``/``REPLACE``."""
    return "(" + ", ".join(literal(v) for v in row) + ")"


def id_list(ids: Iterable[int]) -> str:
    """``(1,2,3)`` for ``WHERE id IN``; searchd ids are integers, never quoted."""
    return "(" + ",".join(str(int(i)) for i in ids) + ")"
