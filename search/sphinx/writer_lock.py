"""One indexing run at a time per cluster: a lock row on the coordinator.

Two runs writing at once would repair replicas against each other's half-written
state and lose each other's vocabulary counts (:mod:`search.sphinx.vocabulary`
adds deltas to what it reads). The lock is one row of the coordinator's meta
index, written with ``INSERT``, which searchd refuses when the id exists: the run
whose insert succeeds holds it, and deletes it when it ends. The row names its
holder (host, pid, since). A lock left by a dead process on this host (a run
killed with SIGKILL) is taken over with a notice, as the local writer lock does
(:mod:`search.lock`); one held from another host is reported with the statement
that clears it, for when that run is known to be dead.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable

import pymysql

from search.lock import IndexBusy, pid_alive
from search.sphinx.connection import quote
from search.sphinx.replicas import Connection
from search.sphinx.rtindex import META_INDEX
from search.sphinx.topology import document_id

#: The lock row's key and id in the meta index.
LOCK_KEY = "writer"
LOCK_ID = document_id(LOCK_KEY)


def _me() -> dict[str, object]:
    return {"host": socket.gethostname(), "pid": os.getpid(),
            "since": time.strftime("%Y-%m-%d %H:%M:%S")}


def _row_sql(verb: str, holder: dict[str, object]) -> str:
    value = quote(json.dumps(holder))
    return (f"{verb} INTO {META_INDEX} (id, name, key, value) VALUES "
            f"({LOCK_ID}, {quote(LOCK_KEY)}, {quote(LOCK_KEY)}, {value})")


def holder(conn: Connection) -> dict[str, object] | None:
    """Who holds the lock (``host``, ``pid``, ``since``), or None when it is free."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT value FROM {META_INDEX} WHERE id = {LOCK_ID}")
        row = cur.fetchone()
    if row is None:
        return None
    text = row[0].decode("utf-8") if isinstance(row[0], bytes) else str(row[0])
    data = json.loads(text)
    return data if isinstance(data, dict) else {}


def acquire(conn: Connection, *, where: str, notice: Callable[[str], None]) -> None:
    """Take the lock of the cluster whose coordinator is *conn* (*where* names it),
    or raise :class:`search.lock.IndexBusy` naming the run that holds it."""
    try:
        with conn.cursor() as cur:
            cur.execute(_row_sql("INSERT", _me()))
        return
    except pymysql.err.ProgrammingError as exc:
        if "duplicate id" not in str(exc):
            raise
    held = holder(conn) or {}
    pid, host = held.get("pid"), held.get("host")
    if host == socket.gethostname() and isinstance(pid, int) and not pid_alive(pid):
        notice(f"cleared a stale lock on the cluster at {where} left by vnsearch pid {pid} "
               f"(no longer running, it did not finish)")
        with conn.cursor() as cur:
            cur.execute(_row_sql("REPLACE", _me()))
        return
    raise IndexBusy(
        f"another vnsearch run (pid {pid} on {host}, since {held.get('since')}) is writing "
        f"to the cluster at {where}; if that run is dead, clear its lock on the "
        f"coordinator with: DELETE FROM {META_INDEX} WHERE id = {LOCK_ID}")


def release(conn: Connection) -> None:
    """Give the lock back, if this process holds it."""
    held = holder(conn)
    if held and held.get("pid") == os.getpid() and held.get("host") == socket.gethostname():
        with conn.cursor() as cur:
            cur.execute(f"DELETE FROM {META_INDEX} WHERE id = {LOCK_ID}")
