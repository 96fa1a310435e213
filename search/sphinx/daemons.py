"""A cluster's searchd daemons on this machine: start, stop, and ask how they are.

``up`` lays out a directory (``cluster.json`` with the topology, one sub-directory
per daemon holding its configuration, data, binlog, log and pid file), starts one
searchd per shard replica and a coordinator on free loopback ports, waits until
each answers SphinxQL and stores the topology on the coordinator, so a client
needs only the engine URL. It is idempotent: on an existing directory it starts
only the daemons that are not running, with the same ports and data, which is
how a killed replica or coordinator is brought back (real-time data persists
through searchd's binlog). This is for tests, demos and benchmarks; real hosts
get their configurations from ``vnsearch cluster config``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from search import lock
from search.sphinx.config import CONFIG_FILE, LOG_FILE, PID_FILE, render
from search.sphinx.topology import (
    Daemon,
    Node,
    Shard,
    Topology,
    daemons,
    healthy,
    register,
)

#: The topology of a local cluster, in its directory.
CLUSTER_FILE = "cluster.json"
#: The searchd program (Sphinx 2.2 or Manticore); ``VNSEARCH_SEARCHD`` overrides it.
SEARCHD = os.environ.get("VNSEARCH_SEARCHD", "searchd")
#: Seconds a daemon may take to answer SphinxQL after it is started.
START_TIMEOUT = 30.0
#: Seconds a daemon may take to stop after SIGTERM before it is killed.
STOP_TIMEOUT = 15.0
#: Seconds between checks while waiting for daemons.
POLL_INTERVAL = 0.05


@dataclass(frozen=True)
class DaemonStatus:
    """What ``cluster status`` reports for one daemon."""

    name: str
    role: str
    shard: int | None
    replica: int | None
    host: str
    sql_port: int
    api_port: int
    pid: int | None
    alive: bool
    healthy: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return asdict(self)


class ClusterError(RuntimeError):
    """A daemon would not start, or a directory holds no (or another) cluster."""


def up(directory: Path, *, shards: int = 2, replicas: int = 2,
       host: str = "127.0.0.1") -> Topology:
    """Start (or restart what is down of) the local cluster in *directory*; its topology."""
    directory = directory.resolve()
    topology = _existing(directory, shards=shards, replicas=replicas)
    if topology is None:
        topology = _allocate(shards=shards, replicas=replicas, host=host)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / CLUSTER_FILE).write_text(topology.to_json() + "\n", encoding="utf-8")
    for daemon in daemons(topology):
        _write_config(directory, topology, daemon)
    down_now = [d for d in daemons(topology) if not _running(directory, d)]
    try:
        for daemon in down_now:
            _start(directory, daemon)
        for daemon in down_now:
            _wait_ready(directory, daemon)
    except ClusterError:  # leave nothing half-started behind
        _stop([pid for d in down_now if (pid := _live_pid(directory, d)) is not None])
        raise
    register(topology)
    return topology


def down(directory: Path) -> None:
    """Stop every daemon of the cluster in *directory*; its data stays for the next ``up``.

    SIGTERM (what ``searchd --stopwait`` sends: searchd saves its real-time indexes and
    exits), then SIGKILL for any daemon still there after :data:`STOP_TIMEOUT`.
    """
    directory = directory.resolve()
    topology = load(directory)
    _stop([pid for d in daemons(topology) if (pid := _live_pid(directory, d)) is not None])


def _stop(pids: list[int]) -> None:
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline and any(_pid_alive(pid) for pid in pids):
        time.sleep(POLL_INTERVAL)
    for pid in pids:
        if _pid_alive(pid):
            _signal(pid, signal.SIGKILL)


def status(directory: Path) -> list[DaemonStatus]:
    """Each daemon of the cluster in *directory*: role, ports, pid, alive, healthy."""
    directory = directory.resolve()
    topology = load(directory)
    return [_status(directory, daemon) for daemon in daemons(topology)]


def load(directory: Path) -> Topology:
    """The topology of the local cluster in *directory*; ClusterError if there is none."""
    path = directory / CLUSTER_FILE
    if not path.is_file():
        raise ClusterError(f"{directory} holds no cluster (no {CLUSTER_FILE}; run `cluster up`)")
    try:
        return Topology.from_json(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ClusterError(f"{path}: {exc}") from exc


def pid_of(directory: Path, daemon: Daemon) -> int | None:
    """The pid of *daemon* if it is running, else None (tests kill replicas by it)."""
    return _live_pid(directory.resolve(), daemon)


def daemon_dir(directory: Path, daemon: Daemon) -> Path:
    """Where *daemon* keeps its configuration, data, binlog, log and pid file."""
    return directory / daemon.name


def _existing(directory: Path, *, shards: int, replicas: int) -> Topology | None:
    if not (directory / CLUSTER_FILE).exists():
        return None
    topology = load(directory)
    shape = (len(topology.shards), len(topology.shards[0].replicas))
    if shape != (shards, replicas):
        raise ClusterError(f"{directory} holds a cluster of {shape[0]} shards x {shape[1]} "
                           f"replicas, not {shards} x {replicas}")
    return topology


def _allocate(*, shards: int, replicas: int, host: str) -> Topology:
    """A topology on *host* whose ports are free now (all bound at once: no repeats)."""
    if shards < 1 or replicas < 1:
        raise ClusterError(f"a cluster needs at least 1 shard and 1 replica, "
                           f"not {shards} x {replicas}")
    ports = iter(_free_ports(host, 2 * (shards * replicas + 1)))
    def node() -> Node:
        return Node(host=host, sql_port=next(ports), api_port=next(ports))
    return Topology(
        coordinator=node(),
        shards=tuple(Shard(number=s, replicas=tuple(node() for _ in range(replicas)))
                     for s in range(shards)),
    )


def _free_ports(host: str, count: int) -> list[int]:
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((host, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def _write_config(directory: Path, topology: Topology, daemon: Daemon) -> None:
    home = daemon_dir(directory, daemon)
    (home / "binlog").mkdir(parents=True, exist_ok=True)
    (home / CONFIG_FILE).write_text(render(topology, daemon, data_dir=str(home),
                                                      watchdog=False),
                                    encoding="utf-8")


def _start(directory: Path, daemon: Daemon) -> None:
    """Run searchd on *daemon*'s configuration; it detaches once it has its listeners.

    Its ports are checked first: searchd retries a taken port for minutes instead of
    failing, and the ports ``up`` chose may have been taken since the cluster was laid out.
    """
    home = daemon_dir(directory, daemon)
    for port in (daemon.node.sql_port, daemon.node.api_port):
        if not _port_free(daemon.node.host, port):
            raise ClusterError(f"port {daemon.node.host}:{port} of {daemon.name} is taken by "
                               f"another program; stop it, or lay out a new cluster directory")
    try:
        done = subprocess.run([SEARCHD, "--config", str(home / CONFIG_FILE)],
                              capture_output=True, text=True, timeout=START_TIMEOUT,
                              check=False, cwd=home)
    except FileNotFoundError as exc:
        raise ClusterError(f"{SEARCHD} not found: install Sphinx (Debian's sphinxsearch) "
                           f"or Manticore") from exc
    except subprocess.TimeoutExpired as exc:
        raise ClusterError(f"searchd for {daemon.name} did not start within "
                           f"{START_TIMEOUT:.0f} s: {_tail(_log(home))}") from exc
    if done.returncode != 0:
        raise ClusterError(f"searchd for {daemon.name} failed to start "
                           f"(exit {done.returncode}): {_tail(done.stdout + done.stderr)}"
                           f"{_tail(_log(home))}")
    _wait_pid(directory, daemon)


def _wait_pid(directory: Path, daemon: Daemon) -> None:
    """Wait for the detached searchd's pid file (written just after its parent exits)."""
    deadline = time.monotonic() + START_TIMEOUT
    while _live_pid(directory, daemon) is None:
        if time.monotonic() > deadline:
            raise ClusterError(f"searchd for {daemon.name} wrote no pid file: "
                               f"{_tail(_log(daemon_dir(directory, daemon)))}")
        time.sleep(POLL_INTERVAL)


def _wait_ready(directory: Path, daemon: Daemon) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if healthy(daemon.node):
            return
        if time.monotonic() > deadline:
            home = daemon_dir(directory, daemon)
            raise ClusterError(f"searchd for {daemon.name} at {daemon.node.address} did not "
                               f"answer within {START_TIMEOUT:.0f} s: {_tail(_log(home))}")
        time.sleep(POLL_INTERVAL)


def _status(directory: Path, daemon: Daemon) -> DaemonStatus:
    pid = _live_pid(directory, daemon)
    return DaemonStatus(
        name=daemon.name, role=daemon.role, shard=daemon.shard, replica=daemon.replica,
        host=daemon.node.host, sql_port=daemon.node.sql_port, api_port=daemon.node.api_port,
        pid=pid, alive=pid is not None, healthy=pid is not None and healthy(daemon.node),
    )


def _running(directory: Path, daemon: Daemon) -> bool:
    return _live_pid(directory, daemon) is not None


def _live_pid(directory: Path, daemon: Daemon) -> int | None:
    """The pid in *daemon*'s pid file, if that process is alive and is a searchd."""
    path = daemon_dir(directory, daemon) / PID_FILE
    try:
        pid = int(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None
    return pid if _pid_alive(pid) and _is_searchd(pid) else None


def _pid_alive(pid: int) -> bool:
    return lock.pid_alive(pid) and not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A killed child not yet reaped still has a pid: it is dead all the same."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def _is_searchd(pid: int) -> bool:
    """Whether *pid* runs searchd (a stale pid file may name a reused pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc: trust the pid file
    return b"searchd" in cmdline


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _log(home: Path) -> str:
    try:
        return (home / LOG_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _tail(text: str, lines: int = 5) -> str:
    return " | ".join(text.strip().splitlines()[-lines:])
