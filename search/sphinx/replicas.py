"""A shard's replicas as one writer: every write to every live replica, and repair.

Each shard is held whole by every one of its replicas (mirrors the coordinator
picks among). Ingestion writes through a :class:`ShardWriter`: a statement is
*acknowledged* once every replica still live has run it. A replica that stops
answering (killed, its host gone) is dropped from the writer for the rest of the
run, with a notice, and the run goes on with its siblings; only a shard left with
no live replica fails the run (:class:`ShardDown`), since its articles would be lost.

A replica that was down misses writes; it is brought back in line by the next
run (:meth:`ShardWriter.repair`), which compares ``(id, content_hash)`` between
the replicas and copies to the stale one what differs from the *reference*, the
replica that completed the latest run, deleting what the reference no longer
holds. Which replica completed which run is recorded beside the cluster, on the
coordinator's meta index (:func:`read_runs` / :func:`record_run`), because a
replica's own content cannot say whether it is missing a deletion.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple, TypeAlias

import pymysql

from search.sphinx import rows
from search.sphinx.connection import id_list, quote, values
from search.sphinx.rtindex import META_INDEX, SHARD_INDEX
from search.sphinx.topology import Node, Shard, connect, document_id

#: Rows read per SELECT when listing a replica's whole content.
PAGE_ROWS = 10_000
#: Rows copied per statement when repairing a replica.
COPY_ROWS = 200
#: searchd drops the connection on a statement longer than its ``max_packet_size``
#: (8 MiB unless configured): statements that write rows stay under
#: :data:`MAX_STATEMENT_BYTES`, and a statement of several rows under
#: :data:`BATCH_BYTES`.
MAX_STATEMENT_BYTES = 8 * 1024 * 1024 - 64 * 1024
BATCH_BYTES = 4 * 1024 * 1024
#: MySQL client error codes that mean the server is gone, not that the statement is bad.
LOST_CONNECTION = frozenset({2003, 2006, 2013, 2055})

#: A SphinxQL connection (pymysql's, which ships no types).
Connection: TypeAlias = Any
Notice: TypeAlias = Callable[[str], None]


class ShardDown(RuntimeError):
    """A shard has no live replica: its writes cannot be acknowledged."""


class Held(NamedTuple):
    """What a replica holds of one article: enough to decide what a run does to it."""

    doc_id: str
    hash: str
    root: str
    path: str


def is_lost(exc: BaseException) -> bool:
    """Whether *exc* says the daemon is unreachable (rather than the SQL wrong)."""
    if isinstance(exc, ConnectionError | pymysql.err.InterfaceError | OSError):
        return True
    return isinstance(exc, pymysql.err.OperationalError) and bool(exc.args) \
        and exc.args[0] in LOST_CONNECTION


def run_key(shard: int, node: Node) -> str:
    """The meta-index key recording the last run replica *node* of *shard* completed."""
    return f"run:{shard}:{node.host}:{node.sql_port}"


class ShardWriter:
    """The live replicas of one shard, written together."""

    def __init__(self, shard: Shard, notice: Notice) -> None:
        self.number = shard.number
        self.index = SHARD_INDEX.format(shard=shard.number)
        self.notice = notice
        self.live: list[tuple[Node, Connection]] = []
        self.lost: list[Node] = []
        for node in shard.replicas:
            try:
                self.live.append((node, connect(node)))
            except ConnectionError:
                self._drop(node, None, "is down")
        self._pool = ThreadPoolExecutor(max_workers=len(shard.replicas),
                                        thread_name_prefix=f"shard{shard.number}")
        if not self.live:
            self._pool.shutdown()
            raise ShardDown(f"shard {self.number} has no live replica "
                            f"({', '.join(n.address for n in shard.replicas)})")

    def _drop(self, node: Node, conn: Connection | None, why: str) -> None:
        self.lost.append(node)
        self.live = [(n, c) for n, c in self.live if n != node]
        if conn is not None:
            conn.close()
        self.notice(f"replica {node.address} of shard {self.number} {why}: writing to its "
                    f"siblings; the next `vnsearch index` brings it back in line")

    def execute(self, sql: str) -> None:
        """Run *sql* on every live replica at once; returns when all of them have it."""
        live = list(self.live)
        outcomes = list(self._pool.map(lambda nc: _attempt(nc[1], sql), live))
        for (node, conn), exc in zip(live, outcomes, strict=True):
            if exc is None:
                continue
            if not is_lost(exc):
                raise exc
            self._drop(node, conn, "stopped answering")
        if not self.live:
            raise ShardDown(f"shard {self.number} lost its last live replica; "
                            f"its writes cannot be acknowledged")

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of *sql* from the first live replica that answers (all hold the same)."""
        while self.live:
            node, conn = self.live[0]
            try:
                return _fetch(conn, sql)
            except Exception as exc:
                if not is_lost(exc):
                    raise
                self._drop(node, conn, "stopped answering")
        raise ShardDown(f"shard {self.number} has no live replica left to read from")

    def replace(self, batch: list[rows.Row]) -> None:
        """Write *batch* (one multi-row ``REPLACE``) to every live replica."""
        if batch:
            self.execute(replace_sql(self.index, batch))

    def delete(self, ids: list[int]) -> None:
        """Delete searchd ids *ids* from every live replica."""
        if ids:
            self.execute(f"DELETE FROM {self.index} WHERE id IN {id_list(ids)}")

    def held(self) -> dict[int, Held]:
        """searchd id → :class:`Held` of every article the shard holds."""
        columns = "id, doc_id, content_hash, root, path"
        return {int(r[0]): Held(*map(str, r[1:])) for r in self._scan(self.query, columns)}

    def stored(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        """searchd id → stored article JSON, for the ids the shard holds."""
        out: dict[int, dict[str, Any]] = {}
        for chunk in _chunks(ids, COPY_ROWS):
            got = self.query(f"SELECT id, stored FROM {self.index} WHERE id IN "
                             f"{id_list(chunk)} LIMIT {len(chunk)}")
            out.update((int(i), rows.stored_of(s)) for i, s in got)
        return out

    def _scan(self, read: Callable[[str], list[tuple[Any, ...]]],
              columns: str) -> Iterator[tuple[Any, ...]]:
        """Every row's *columns*, in pages by ascending id."""
        last = 0
        while True:
            page = read(f"SELECT {columns} FROM {self.index} WHERE id > {last} "
                        f"ORDER BY id ASC LIMIT {PAGE_ROWS} OPTION max_matches={PAGE_ROWS}")
            yield from page
            if len(page) < PAGE_ROWS:
                return
            last = int(page[-1][0])

    def repair(self, runs: dict[str, int]) -> int:
        """Bring every live replica in line with the reference (the one that completed
        the latest run, by *runs*); the number of rows copied or deleted."""
        if len(self.live) < 2:
            return 0
        ranked = sorted(self.live, key=lambda nc: -runs.get(run_key(self.number, nc[0]), 0))
        (ref_node, ref_conn), others = ranked[0], ranked[1:]
        reference = self._hashes(ref_conn)
        fixed = 0
        for node, conn in others:
            try:
                fixed += self._align(conn, ref_conn, reference)
            except Exception as exc:
                if not is_lost(exc):
                    raise
                self._drop(node, conn, "stopped answering")
        if fixed:
            self.notice(f"shard {self.number}: {fixed} article(s) brought in line with "
                        f"replica {ref_node.address}")
        return fixed

    def _hashes(self, conn: Connection) -> dict[int, str]:
        scan = self._scan(lambda sql: _fetch(conn, sql), "id, content_hash")
        return {int(i): str(h) for i, h in scan}

    def _align(self, conn: Connection, ref_conn: Connection, reference: dict[int, str]) -> int:
        """Copy to *conn* what differs from *reference*; delete what it lacks."""
        mine = self._hashes(conn)
        stale = [i for i, h in reference.items() if mine.get(i) != h]
        extra = [i for i in mine if i not in reference]
        for chunk in _chunks(stale, COPY_ROWS):
            got = _fetch(ref_conn, f"SELECT stored FROM {self.index} WHERE id IN "
                                   f"{id_list(chunk)} LIMIT {len(chunk)}")
            copies = [rows.row_from_stored(rows.stored_of(s)) for (s,) in got]
            for batch in batches(copies):
                with conn.cursor() as cur:
                    cur.execute(replace_sql(self.index, batch))
        for chunk in _chunks(extra, PAGE_ROWS):
            with conn.cursor() as cur:
                cur.execute(f"DELETE FROM {self.index} WHERE id IN {id_list(chunk)}")
        return len(stale) + len(extra)

    def nodes(self) -> list[Node]:
        """The replicas still live."""
        return [node for node, _ in self.live]

    def close(self) -> None:
        for _, conn in self.live:
            conn.close()
        self.live = []
        self._pool.shutdown()


def batches(written: list[rows.Row]) -> Iterator[list[rows.Row]]:
    """*written* cut into statements of at most :data:`BATCH_BYTES` (one row each
    when bigger)."""
    batch: list[rows.Row] = []
    size = 0
    for row in written:
        if batch and size + row.size > BATCH_BYTES:
            yield batch
            batch, size = [], 0
        batch.append(row)
        size += row.size
    if batch:
        yield batch


def replace_sql(index: str, batch: list[rows.Row]) -> str:
    """One multi-row ``REPLACE`` of *batch* into *index*."""
    return (f"REPLACE INTO {index} ({', '.join(rows.COLUMNS)}) VALUES "
            + ", ".join(values(row.values) for row in batch))


def read_runs(coordinator: Connection, keys: Iterable[str]) -> dict[str, int]:
    """Key → the last run each replica completed (absent: none recorded)."""
    ids = {document_id(k): k for k in keys}
    got = _fetch(coordinator, f"SELECT id, value FROM {META_INDEX} WHERE id IN "
                              f"{id_list(ids)} LIMIT {len(ids)}")
    return {ids[int(i)]: int(json.loads(_text(v)).get("run", 0)) for i, v in got}


def record_run(coordinator: Connection, keys: Iterable[str], run: int) -> None:
    """Record that the replicas of *keys* completed run number *run*."""
    body = json.dumps({"run": run})
    rows_sql = [f"({document_id(k)}, {quote(k)}, {quote(k)}, {quote(body)})" for k in keys]
    if rows_sql:
        with coordinator.cursor() as cur:
            cur.execute(f"REPLACE INTO {META_INDEX} (id, name, key, value) VALUES "
                        + ", ".join(rows_sql))


def _attempt(conn: Connection, sql: str) -> BaseException | None:
    """Run *sql* on *conn*; the exception it raised, if any (one replica's outcome)."""
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    except Exception as exc:
        return exc
    return None


def _fetch(conn: Connection, sql: str) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(sql)
        return list(cur.fetchall())


def _text(value: object) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
