"""Queries through the coordinator that survive a dead replica and own up to a dead shard.

searchd's coordinator answers a distributed query even when an agent failed: from the
other shards, with a warning naming the agent (``SHOW META``'s ``warning``). When a
replica has just died, its mirror is still picked now and then until the coordinator's
``nodeads`` strategy has seen it fail (Sphinx 2.2's own ``retry_count`` does not switch
mirrors), so :func:`select` runs such a query again, briefly, and the coordinator then
picks the live mirror. A warning left after the last attempt means a shard had no live
replica: the answer is :attr:`Answer.partial`, and clients say so rather than show
silently incomplete results.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pymysql.cursors

#: Times a query whose answer missed an agent is run in all, and the pause between runs
#: (seconds): the coordinator stops picking a dead mirror after a failure or two.
ATTEMPTS = 6
RETRY_PAUSE = 0.02
#: What searchd's warnings about a failed agent (a shard missing from the answer) say.
_AGENT_WARNING = "agent "


@dataclass(frozen=True)
class Answer:
    """The rows of a distributed query (as the cursor returns them: tuples, or dicts
    from a ``DictCursor``), searchd's ``SHOW META`` about it (``total_found``, ...) and
    its warnings."""

    rows: tuple[Any, ...]
    meta: dict[str, str]
    warnings: tuple[str, ...]

    @property
    def partial(self) -> bool:
        """Whether some shard did not answer (its articles are missing from *rows*)."""
        return any(is_agent_failure(w) for w in self.warnings)


def query_meta(cursor: pymysql.cursors.Cursor) -> dict[str, str]:
    """``SHOW META`` of the query *cursor* just ran: ``total_found``, ``warning``, ...

    Call it right after the query, on the same connection. Any cursor class will do.
    """
    cursor.execute("SHOW META")
    return dict(_pair(row) for row in cursor.fetchall())


def _pair(row: Any) -> tuple[str, str]:
    if isinstance(row, dict):
        return str(row["Variable_name"]), str(row["Value"])
    return str(row[0]), str(row[1])


def query_warnings(cursor: pymysql.cursors.Cursor) -> list[str]:
    """Warnings searchd attached to the query *cursor* just ran (empty when complete)."""
    return _warnings(query_meta(cursor))


def _warnings(meta: dict[str, str]) -> list[str]:
    warning = meta.get("warning", "").strip()
    return [warning] if warning else []


def is_agent_failure(warning: str) -> bool:
    """Whether *warning* says an agent (a shard replica) failed to answer."""
    return _AGENT_WARNING in warning


def select(cursor: pymysql.cursors.Cursor, sql: str, *, attempts: int = ATTEMPTS) -> Answer:
    """Run SELECT *sql* until every shard answered (or *attempts* ran out: partial)."""
    answer = _run(cursor, sql)
    for _ in range(attempts - 1):
        if not answer.partial:
            break
        time.sleep(RETRY_PAUSE)
        answer = _run(cursor, sql)
    return answer


def _run(cursor: pymysql.cursors.Cursor, sql: str) -> Answer:
    cursor.execute(sql)
    rows = tuple(cursor.fetchall())
    meta = query_meta(cursor)
    return Answer(rows=rows, meta=meta, warnings=tuple(_warnings(meta)))
