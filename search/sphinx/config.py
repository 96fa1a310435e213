"""searchd configurations for a cluster's daemons, rendered from its topology.

Each shard replica holds one real-time index (:func:`search.sphinx.rtindex.index_settings`);
the coordinator holds the distributed index that lists every shard's replicas as
mirrors of one agent, plus the small meta index with the topology. The same
rendering serves a local test cluster (:mod:`search.sphinx.daemons`) and real hosts
(``vnsearch cluster config``), so what the tests run is what is deployed.

Sphinx 2.2 needs ``workers = threads`` and a binlog for real-time indexes; clients
speak SphinxQL on the ``:mysql41`` listener, agents the binary API on the other.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from search.sphinx.rtindex import (
    DISTRIBUTED_INDEX,
    META_INDEX,
    SHARD_INDEX,
    index_settings,
    meta_index_settings,
)
from search.sphinx.topology import COORDINATOR, Daemon, Shard, Topology

#: How the coordinator picks among a shard's mirrors: skip the ones that failed lately.
HA_STRATEGY = "nodeads"
#: Milliseconds the coordinator waits to connect to an agent before trying a mirror:
#: short, so a killed replica costs a query little.
AGENT_CONNECT_TIMEOUT_MS = 300
#: Milliseconds an agent may take to answer a query.
AGENT_QUERY_TIMEOUT_MS = 30_000
#: Times the coordinator retries a failed agent, and the pause between tries.
#: Manticore's documentation says each retry picks a mirror afresh; Sphinx 2.2.11 was
#: seen not to (a query right after a replica died came back without its shard), so
#: clients also re-run such a query (:mod:`search.sphinx.failover`).
AGENT_RETRY_COUNT = 3
AGENT_RETRY_DELAY_MS = 50
#: Milliseconds between the coordinator's pings of idle mirrors (their health).
HA_PING_INTERVAL_MS = 500
#: Names of the files each daemon keeps in its data directory.
CONFIG_FILE = "searchd.conf"
PID_FILE = "searchd.pid"
LOG_FILE = "searchd.log"
#: An address to listen on every interface of a real host.
ANY_ADDRESS = "0.0.0.0"


def render(topology: Topology, daemon: Daemon, *, data_dir: str,
           listen_host: str | None = None, watchdog: bool = True) -> str:
    """The configuration of *daemon*, keeping its files under *data_dir*.

    *listen_host* is the address searchd binds (default: the node's own host).
    *watchdog* keeps searchd's own restarter process: wanted on real hosts; a local
    test cluster turns it off so that a killed daemon stays down until ``up``.
    """
    if daemon.role == COORDINATOR:
        indexes = _coordinator_indexes(topology, data_dir)
    else:
        assert daemon.shard is not None
        name = SHARD_INDEX.format(shard=daemon.shard)
        indexes = [_block(f"index {name}", index_settings(_join(data_dir, name)))]
    settings = _searchd_settings(daemon, data_dir=data_dir, listen_host=listen_host)
    searchd = _block("searchd", [*settings, f"watchdog = {int(watchdog)}"])
    return "\n".join([*indexes, searchd])


def _coordinator_indexes(topology: Topology, data_dir: str) -> list[str]:
    meta = _block(f"index {META_INDEX}", meta_index_settings(_join(data_dir, META_INDEX)))
    settings = ["type = distributed"]
    settings += [f"agent = {agent_line(shard)}" for shard in topology.shards]
    settings += [
        f"ha_strategy = {HA_STRATEGY}",
        f"agent_connect_timeout = {AGENT_CONNECT_TIMEOUT_MS}",
        f"agent_query_timeout = {AGENT_QUERY_TIMEOUT_MS}",
    ]
    return [meta, _block(f"index {DISTRIBUTED_INDEX}", settings)]


def agent_line(shard: Shard) -> str:
    """``h1:p1|h2:p2:vnsearch_shardN``: one agent whose mirrors are the shard's replicas."""
    mirrors = "|".join(f"{node.host}:{node.api_port}" for node in shard.replicas)
    return f"{mirrors}:{SHARD_INDEX.format(shard=shard.number)}"


def _searchd_settings(daemon: Daemon, *, data_dir: str, listen_host: str | None) -> list[str]:
    host = listen_host or daemon.node.host
    settings = [
        f"listen = {host}:{daemon.node.api_port}",
        f"listen = {host}:{daemon.node.sql_port}:mysql41",
        f"log = {_join(data_dir, LOG_FILE)}",
        f"query_log = {_join(data_dir, 'query.log')}",
        f"pid_file = {_join(data_dir, PID_FILE)}",
        f"binlog_path = {_join(data_dir, 'binlog')}",
        "workers = threads",
        "max_children = 64",
        "read_timeout = 5",
        "client_timeout = 300",
        "seamless_rotate = 1",
        "preopen_indexes = 1",
        "unlink_old = 1",
    ]
    if daemon.role == COORDINATOR:
        settings += [f"ha_ping_interval = {HA_PING_INTERVAL_MS}",
                     f"agent_retry_count = {AGENT_RETRY_COUNT}",
                     f"agent_retry_delay = {AGENT_RETRY_DELAY_MS}"]
    return settings


def _block(header: str, settings: list[str]) -> str:
    body = "".join(f"    {line}\n" for line in settings)
    return f"{header}\n{{\n{body}}}\n"


def _join(directory: str, name: str) -> str:
    return str(PurePosixPath(directory) / name)
