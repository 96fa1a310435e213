"""The cluster's shape: which daemons hold which shard, and how to reach them.

A :class:`Topology` names the coordinator (the searchd whose distributed index
fans a query out to the shards) and, for every shard, its replicas (mirrors of
one another). It is what every cluster client needs, so it is kept in one place
and stored on the coordinator itself (:data:`~search.sphinx.rtindex.META_INDEX`,
row :data:`TOPOLOGY_ROW_ID`): a client given only the engine URL
``sphinx://HOST:PORT`` reads it with :func:`discover`.

Routing is by a stable hash of vnsearch's article id (:func:`shard_of`), so an
article always goes to the same shard whoever writes it; searchd's own document
id is another stable hash of it (:func:`document_id`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pymysql
from pymysql.constants import CLIENT

from search.sphinx.rtindex import META_INDEX

#: The scheme of engine URLs naming a cluster's coordinator.
URL_SCHEME = "sphinx"
#: The topology row's document id and key in the coordinator's meta index.
TOPOLOGY_ROW_ID = 1
TOPOLOGY_KEY = "topology"
#: Seconds to wait for a daemon to accept a connection: local and LAN daemons
#: answer at once, and a dead one must not stall a query stream.
CONNECT_TIMEOUT = 2.0
#: Seconds a single SphinxQL read or write may take before the client gives up.
IO_TIMEOUT = 60.0
#: A daemon's role: the coordinator (distributed index, meta index) or a shard replica.
COORDINATOR = "coordinator"
REPLICA = "replica"
#: The first port ``place`` gives daemons on a real host (Sphinx's customary API port).
DEFAULT_PORT_BASE = 9312
#: searchd's document ids are positive signed 64-bit integers.
_ID_MASK = 2**63 - 1


@dataclass(frozen=True)
class Node:
    """One searchd: SphinxQL (MySQL protocol) for clients, the API port for agents."""

    host: str
    sql_port: int
    api_port: int

    @property
    def address(self) -> str:
        """``host:sql_port``, as errors and status show it."""
        return f"{self.host}:{self.sql_port}"


@dataclass(frozen=True)
class Shard:
    """One shard: its number and the replicas that each hold all of it."""

    number: int
    replicas: tuple[Node, ...]


@dataclass(frozen=True)
class Topology:
    """The coordinator and the shards it fans queries out to."""

    coordinator: Node
    shards: tuple[Shard, ...]

    @property
    def url(self) -> str:
        """The engine URL clients use: ``sphinx://HOST:PORT`` of the coordinator."""
        return f"{URL_SCHEME}://{self.coordinator.host}:{self.coordinator.sql_port}"

    def to_json(self) -> str:
        """The topology as JSON (stored on the coordinator and in ``cluster.json``)."""
        return json.dumps(self.to_dict(), sort_keys=True)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: nodes as ``{host, sql_port, api_port}``."""
        return {
            "coordinator": _node_dict(self.coordinator),
            "shards": [
                {"number": s.number, "replicas": [_node_dict(n) for n in s.replicas]}
                for s in self.shards
            ],
        }

    @classmethod
    def from_json(cls, text: str) -> Topology:
        """Read what :meth:`to_json` wrote; a ValueError says what is wrong."""
        try:
            return cls.from_dict(json.loads(text))
        except (KeyError, TypeError, ValueError) as exc:  # ValueError: bad JSON too
            raise ValueError(f"not a vnsearch cluster topology: {exc}") from exc

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Topology:
        """Read what :meth:`to_dict` made (ValueError if it is not a usable topology)."""
        shards = tuple(
            Shard(number=int(s["number"]), replicas=tuple(_node(n) for n in s["replicas"]))
            for s in data["shards"]
        )
        if [s.number for s in shards] != list(range(len(shards))) or not shards:
            raise ValueError("shards must be numbered 0, 1, ... in order, at least one")
        if not all(s.replicas for s in shards):
            raise ValueError("every shard needs at least one replica")
        return cls(coordinator=_node(data["coordinator"]), shards=shards)


@dataclass(frozen=True)
class Daemon:
    """One searchd of a topology: the coordinator, or replica *replica* of shard *shard*."""

    role: str
    node: Node
    shard: int | None = None
    replica: int | None = None

    @property
    def name(self) -> str:
        """A name unique in the cluster: ``coordinator`` or ``shard0-replica1``."""
        if self.role == COORDINATOR:
            return COORDINATOR
        return f"shard{self.shard}-replica{self.replica}"


def daemons(topology: Topology) -> list[Daemon]:
    """Every searchd of *topology*: the shard replicas, then the coordinator."""
    found = [Daemon(role=REPLICA, node=node, shard=shard.number, replica=number)
             for shard in topology.shards for number, node in enumerate(shard.replicas)]
    return [*found, Daemon(role=COORDINATOR, node=topology.coordinator)]


def _node_dict(node: Node) -> dict[str, Any]:
    return {"host": node.host, "sql_port": node.sql_port, "api_port": node.api_port}


def _node(data: dict[str, Any]) -> Node:
    return Node(host=str(data["host"]), sql_port=int(data["sql_port"]),
                api_port=int(data["api_port"]))


def _hash64(doc_id: str) -> int:
    """blake2b-8 of the UTF-8 id, as an unsigned integer: stable across runs and hosts."""
    digest = hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def shard_of(doc_id: str, shards: int) -> int:
    """The shard that holds article *doc_id* among *shards* (stable, uniform)."""
    if shards < 1:
        raise ValueError(f"a cluster needs at least one shard, not {shards}")
    return _hash64(doc_id) % shards


def document_id(doc_id: str) -> int:
    """searchd's document id for article *doc_id*: 63 bits of its hash, never 0."""
    return (_hash64(doc_id) & _ID_MASK) or 1


def parse_url(url: str) -> tuple[str, int]:
    """``sphinx://HOST:PORT`` → (HOST, PORT), PORT being the coordinator's SphinxQL port."""
    parts = urlsplit(url.strip())
    if parts.scheme != URL_SCHEME:
        raise ValueError(f"engine URL {url!r} must start with {URL_SCHEME}://")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"engine URL {url!r} must be just {URL_SCHEME}://HOST:PORT")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"engine URL {url!r} has a bad port: {exc}") from exc
    if not parts.hostname or port is None:
        raise ValueError(f"engine URL {url!r} must name a host and a port: "
                         f"{URL_SCHEME}://HOST:PORT")
    return parts.hostname, port


def connect(node: Node, *, timeout: float = CONNECT_TIMEOUT,
            batches: bool = False) -> pymysql.connections.Connection[Any]:
    """A SphinxQL connection to *node* (autocommit); ConnectionError names it if refused.

    With *batches*, one ``execute`` may send several statements separated by ``;``
    (searchd answers them as one multi-query: one round trip, each result set read
    with ``nextset``)."""
    try:
        return pymysql.connect(
            host=node.host, port=node.sql_port, user="", password="", charset="utf8",
            autocommit=True, connect_timeout=timeout, read_timeout=IO_TIMEOUT,
            write_timeout=IO_TIMEOUT,
            # searchd speaks no TLS; without this pymysql builds a TLS context (loading
            # the system's certificates, ~0.1 s) on every connection.
            ssl_disabled=True,
            client_flag=CLIENT.MULTI_STATEMENTS if batches else 0,
        )
    except pymysql.err.OperationalError as exc:
        raise ConnectionError(f"searchd at {node.address} is not answering: {exc}") from exc


def healthy(node: Node, *, timeout: float = 1.0) -> bool:
    """Whether searchd at *node* answers SphinxQL now (a live replica, a ready daemon)."""
    try:
        conn = connect(node, timeout=timeout)
    except ConnectionError:
        return False
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW STATUS")
            return bool(cur.fetchall())
    except pymysql.err.MySQLError:
        return False
    finally:
        conn.close()


def discover(url: str) -> Topology:
    """The topology stored on the coordinator named by engine URL *url*."""
    host, port = parse_url(url)
    node = Node(host=host, sql_port=port, api_port=0)
    conn = connect(node)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT value FROM {META_INDEX} WHERE id = {TOPOLOGY_ROW_ID}")
            row = cur.fetchone()
    except pymysql.err.MySQLError as exc:
        raise ValueError(f"{url} is not a vnsearch cluster coordinator: {exc}") from exc
    finally:
        conn.close()
    if row is None:
        raise ValueError(f"{url} holds no cluster topology (was `vnsearch cluster up` run?)")
    return Topology.from_json(_json_text(row[0]))


def _json_text(value: object) -> str:
    """searchd returns JSON attributes as text (bytes from some clients)."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def register(topology: Topology) -> None:
    """Store *topology* on its coordinator, where :func:`discover` reads it."""
    text = topology.to_json()
    sql = (f"REPLACE INTO {META_INDEX} (id, name, key, value) VALUES "
           f"({TOPOLOGY_ROW_ID}, '{TOPOLOGY_KEY}', '{TOPOLOGY_KEY}', '{_quote(text)}')")
    conn = connect(topology.coordinator)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    except pymysql.err.MySQLError as exc:
        raise ValueError(f"searchd at {topology.coordinator.address} did not take the "
                         f"topology (is it a vnsearch coordinator?): {exc}") from exc
    finally:
        conn.close()


def place(hosts: list[str], *, shards: int, replicas: int, coordinator: str | None = None,
          port_base: int = DEFAULT_PORT_BASE) -> Topology:
    """A topology spreading *shards* x *replicas* over real *hosts*.

    Replica *r* of shard *s* goes to host ``(s * replicas + r) mod len(hosts)``, so a
    shard's replicas are on distinct hosts and each host holds a fair share. The
    daemons on one host take ports from *port_base* up, two each (API, then SphinxQL);
    the coordinator (on *coordinator*, default the first host) after them.
    """
    if not hosts or shards < 1 or replicas < 1:
        raise ValueError("a cluster needs at least one host, one shard and one replica")
    if replicas > len(hosts):
        raise ValueError(f"{replicas} replicas of a shard need {replicas} distinct hosts; "
                         f"only {len(hosts)} given")
    taken: dict[str, int] = {}

    def node(host: str) -> Node:
        slot = taken.get(host, 0)
        taken[host] = slot + 1
        return Node(host=host, sql_port=port_base + 2 * slot + 1, api_port=port_base + 2 * slot)

    placed = tuple(
        Shard(number=s, replicas=tuple(node(hosts[(s * replicas + r) % len(hosts)])
                                       for r in range(replicas)))
        for s in range(shards)
    )
    return Topology(coordinator=node(coordinator or hosts[0]), shards=placed)


def _quote(text: str) -> str:
    """A SphinxQL string literal's body: backslashes and quotes escaped."""
    return text.replace("\\", "\\\\").replace("'", "\\'")
