"""The cluster's shape and daemons: topology, configurations, up/down/status, faults.

Real searchd daemons on loopback (Debian's sphinxsearch), nothing mocked: one
2 shards x 2 replicas cluster for the module, filled with raw SphinxQL rows, through
whose coordinator the fault tests query while replicas, a whole shard and the
coordinator are killed with SIGKILL. Skipped with the reason when searchd is absent.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest
from typer.testing import CliRunner

from search.cli import app
from search.sphinx import daemons
from search.sphinx.config import agent_line, render
from search.sphinx.failover import Answer, select
from search.sphinx.rtindex import DISTRIBUTED_INDEX, SHARD_INDEX
from search.sphinx.topology import (
    COORDINATOR,
    Daemon,
    Node,
    Shard,
    Topology,
    connect,
    discover,
    document_id,
    healthy,
    parse_url,
    place,
    shard_of,
)
from search.sphinx.topology import daemons as daemons_of
from tests.cluster_checks import sigkill

#: Articles in the module's cluster: every one has the words "ha noi" in its title.
ARTICLES = 400
ALL_QUERY = (f"SELECT doc_id FROM {DISTRIBUTED_INDEX} WHERE MATCH('ha noi') "
             f"LIMIT {ARTICLES} OPTION max_matches={ARTICLES}")

needs_searchd = pytest.mark.skipif(
    shutil.which(daemons.SEARCHD) is None,
    reason=f"{daemons.SEARCHD} (Debian's sphinxsearch) is not installed",
)


# --------------------------------------------------------------------------- shape


def test_shard_of_is_a_stable_uniform_hash() -> None:
    ids = [f"vntc/{i:05d}.txt" for i in range(4000)]
    expected = [int.from_bytes(hashlib.blake2b(i.encode(), digest_size=8).digest(), "big") % 4
                for i in ids]
    assert [shard_of(i, 4) for i in ids] == expected
    counts = [expected.count(s) for s in range(4)]
    assert min(counts) > 850 and max(counts) < 1150
    assert shard_of("bài-viết-đà-nẵng", 3) == shard_of("bài-viết-đà-nẵng", 3)
    with pytest.raises(ValueError, match="at least one shard"):
        shard_of("x", 0)


def test_document_id_is_positive_63_bits() -> None:
    ids = {document_id(f"doc{i}") for i in range(2000)}
    assert len(ids) == 2000
    assert all(0 < i < 2**63 for i in ids)


@pytest.mark.parametrize(("url", "expected"), [
    ("sphinx://127.0.0.1:9306", ("127.0.0.1", 9306)),
    ("sphinx://search-1.example:9412/", ("search-1.example", 9412)),
])
def test_parse_url(url: str, expected: tuple[str, int]) -> None:
    assert parse_url(url) == expected


@pytest.mark.parametrize(("url", "problem"), [
    ("http://127.0.0.1:9306", "must start with sphinx://"),
    ("sphinx://127.0.0.1", "must name a host and a port"),
    ("sphinx://:9306", "must name a host and a port"),
    ("sphinx://h:port", "bad port"),
    ("sphinx://h:70000", "bad port"),
    ("sphinx://h:9306/vnsearch", "just sphinx://HOST:PORT"),
])
def test_parse_url_names_the_problem(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_url(url)


def test_topology_json_round_trip() -> None:
    topology = place(["10.0.0.1", "10.0.0.2", "10.0.0.3"], shards=3, replicas=2)
    assert Topology.from_json(topology.to_json()) == topology
    with pytest.raises(ValueError, match="not a vnsearch cluster topology"):
        Topology.from_json('{"shards": []}')
    data = topology.to_dict()
    with pytest.raises(ValueError, match="at least one"):
        Topology.from_dict({**data, "shards": []})
    with pytest.raises(ValueError, match="numbered 0, 1"):
        Topology.from_dict({**data, "shards": data["shards"][1:]})
    with pytest.raises(ValueError, match="at least one replica"):
        Topology.from_dict({**data, "shards": [{"number": 0, "replicas": []}]})


def test_place_spreads_each_shards_replicas_over_distinct_hosts() -> None:
    hosts = ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    topology = place(hosts, shards=3, replicas=2, port_base=9400)
    for shard in topology.shards:
        assert len({node.host for node in shard.replicas}) == 2
    nodes = [d.node for d in daemons_of(topology)]
    ports = [(n.host, p) for n in nodes for p in (n.sql_port, n.api_port)]
    assert len(set(ports)) == len(ports)
    assert topology.coordinator.host == "10.0.0.1"
    assert min(p for _, p in ports) == 9400
    with pytest.raises(ValueError, match="3 replicas of a shard need 3 distinct hosts"):
        place(hosts[:2], shards=2, replicas=3)


def test_coordinator_config_lists_each_shards_replicas_as_mirrors() -> None:
    shard = Shard(number=1, replicas=(Node("10.0.0.1", 9313, 9312), Node("10.0.0.2", 9315, 9314)))
    assert agent_line(shard) == "10.0.0.1:9312|10.0.0.2:9314:vnsearch_shard1"
    topology = Topology(coordinator=Node("10.0.0.1", 9317, 9316), shards=(shard,))
    text = render(topology, Daemon(role=COORDINATOR, node=topology.coordinator),
                  data_dir="/srv/vn/coordinator")
    assert "type = distributed" in text
    assert f"agent = {agent_line(shard)}" in text
    assert "ha_strategy = nodeads" in text
    assert "listen = 10.0.0.1:9317:mysql41" in text
    assert "binlog_path = /srv/vn/coordinator/binlog" in text


# --------------------------------------------------------------------------- daemons


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Topology]]:
    """2 shards x 2 replicas + a coordinator, with ARTICLES rows on every replica."""
    if shutil.which(daemons.SEARCHD) is None:
        pytest.skip(f"{daemons.SEARCHD} (Debian's sphinxsearch) is not installed")
    directory = tmp_path_factory.mktemp("cluster")
    try:
        topology = daemons.up(directory, shards=2, replicas=2)
        _fill(topology, ARTICLES)
        yield directory, topology
    finally:
        if (directory / daemons.CLUSTER_FILE).exists():
            daemons.down(directory)


def _fill(topology: Topology, count: int) -> None:
    """Write article rows straight to every replica of their shard (raw SphinxQL)."""
    for shard in topology.shards:
        rows = [_row(f"doc{i}") for i in range(count)
                if shard_of(f"doc{i}", len(topology.shards)) == shard.number]
        sql = (f"REPLACE INTO {SHARD_INDEX.format(shard=shard.number)} "
               "(id, title, title_exact, body, body_exact, doc_id, content_hash, stored) "
               "VALUES " + ", ".join(rows))
        for node in shard.replicas:
            conn = connect(node)
            with conn.cursor() as cur:
                cur.execute(sql)
            conn.close()


def _row(doc_id: str) -> str:
    return (f"({document_id(doc_id)}, 'tin ha noi', 'tin hà nội', 'so {doc_id}', "
            f"'số {doc_id}', '{doc_id}', 'hash-{doc_id}', '{{}}')")


def _query(topology: Topology) -> Answer:
    conn = connect(topology.coordinator)
    try:
        with conn.cursor() as cur:
            return select(cur, ALL_QUERY)
    finally:
        conn.close()


def test_select_reads_any_cursor_and_keeps_searchds_meta(cluster: tuple[Path, Topology]) -> None:
    _, topology = cluster
    conn = connect(topology.coordinator)
    try:
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            answer = select(cur, ALL_QUERY)
    finally:
        conn.close()
    assert {row["doc_id"] for row in answer.rows} == {f"doc{i}" for i in range(ARTICLES)}
    assert answer.meta["total_found"] == str(ARTICLES)
    assert not answer.partial and answer.warnings == ()


def _ids(answer: Answer) -> set[str]:
    return {str(row[0]) for row in answer.rows}


def _replica(topology: Topology, shard: int, replica: int) -> Daemon:
    return next(d for d in daemons_of(topology) if (d.shard, d.replica) == (shard, replica))


def _rows_on(node: Node, shard: int) -> int:
    conn = connect(node)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT COUNT(*) FROM {SHARD_INDEX.format(shard=shard)}")
            return int(cur.fetchone()[0])
    finally:
        conn.close()


@needs_searchd
def test_up_starts_every_daemon_and_stores_the_topology(cluster: tuple[Path, Topology]) -> None:
    directory, topology = cluster
    statuses = daemons.status(directory)
    assert [(s.role, s.shard, s.replica) for s in statuses] == [
        ("replica", 0, 0), ("replica", 0, 1), ("replica", 1, 0), ("replica", 1, 1),
        ("coordinator", None, None),
    ]
    assert all(s.alive and s.healthy and s.pid for s in statuses)
    assert discover(topology.url) == topology
    assert daemons.load(directory) == topology
    assert _ids(_query(topology)) == {f"doc{i}" for i in range(ARTICLES)}


@needs_searchd
def test_discover_names_what_is_wrong(cluster: tuple[Path, Topology]) -> None:
    _, topology = cluster
    replica = topology.shards[0].replicas[0]
    with pytest.raises(ValueError, match="is not a vnsearch cluster coordinator"):
        discover(f"sphinx://{replica.address}")
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(ConnectionError, match=f"127.0.0.1:{port} is not answering"):
        discover(f"sphinx://127.0.0.1:{port}")


@needs_searchd
def test_up_again_starts_nothing_new(cluster: tuple[Path, Topology]) -> None:
    directory, topology = cluster
    pids = [s.pid for s in daemons.status(directory)]
    assert daemons.up(directory, shards=2, replicas=2) == topology
    assert [s.pid for s in daemons.status(directory)] == pids
    with pytest.raises(daemons.ClusterError, match="2 shards x 2 replicas, not 3 x 2"):
        daemons.up(directory, shards=3, replicas=2)


@needs_searchd
def test_sigkill_of_a_replica_during_a_query_stream_fails_no_query(
    cluster: tuple[Path, Topology],
) -> None:
    directory, topology = cluster
    everything = {f"doc{i}" for i in range(ARTICLES)}
    victim = _replica(topology, shard=0, replica=0)
    killer = threading.Timer(0.2, sigkill, args=(directory, victim))
    killer.start()
    answers = [_query(topology) for _ in range(300)]
    killer.join()
    assert daemons.pid_of(directory, victim) is None
    assert [a for a in answers if a.partial or _ids(a) != everything] == []
    daemons.up(directory, shards=2, replicas=2)
    status = next(s for s in daemons.status(directory) if s.name == victim.name)
    assert status.healthy
    expected = sum(shard_of(f"doc{i}", 2) == 0 for i in range(ARTICLES))
    assert _rows_on(victim.node, shard=0) == expected


@needs_searchd
def test_a_whole_shard_down_is_reported_partial(cluster: tuple[Path, Topology]) -> None:
    directory, topology = cluster
    for replica in (0, 1):
        sigkill(directory, _replica(topology, shard=1, replica=replica))
    try:
        down = {s.name for s in daemons.status(directory) if not (s.alive or s.healthy)}
        assert down == {"shard1-replica0", "shard1-replica1"}
        assert not healthy(topology.shards[1].replicas[0])
        answer = _query(topology)
        assert answer.partial
        assert any("agent" in w for w in answer.warnings)
        assert _ids(answer) == {f"doc{i}" for i in range(ARTICLES) if shard_of(f"doc{i}", 2) == 0}
    finally:
        daemons.up(directory, shards=2, replicas=2)
    answer = _query(topology)
    assert not answer.partial and len(answer.rows) == ARTICLES


@needs_searchd
def test_coordinator_restart_gives_the_same_results(cluster: tuple[Path, Topology]) -> None:
    directory, topology = cluster
    before = _query(topology)
    coordinator = next(d for d in daemons_of(topology) if d.role == COORDINATOR)
    sigkill(directory, coordinator)
    with pytest.raises(ConnectionError, match=topology.coordinator.address):
        connect(topology.coordinator)
    daemons.up(directory, shards=2, replicas=2)
    after = _query(topology)
    assert not after.partial and sorted(after.rows) == sorted(before.rows)
    assert discover(topology.url) == topology


@needs_searchd
def test_up_that_cannot_start_a_daemon_leaves_none_running(tmp_path: Path) -> None:
    topology = daemons.up(tmp_path, shards=1, replicas=1)
    daemons.down(tmp_path)
    coordinator = topology.coordinator
    with socket.socket() as squatter:
        # the port may be in TIME_WAIT from the coordinator's last connections
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind((coordinator.host, coordinator.sql_port))
        squatter.listen()
        with pytest.raises(daemons.ClusterError, match=f"port {coordinator.address} of "
                                                        "coordinator is taken"):
            daemons.up(tmp_path, shards=1, replicas=1)
    assert not any(s.alive for s in daemons.status(tmp_path))


# --------------------------------------------------------------------------- the commands


@needs_searchd
def test_cluster_commands_up_status_down(tmp_path: Path) -> None:
    runner = CliRunner()
    directory = tmp_path / "c"
    try:
        up = runner.invoke(app, ["cluster", "up", "--shards", "1", "--replicas", "2",
                                 "--dir", str(directory)])
        assert up.exit_code == 0, up.output
        url = up.output.strip().splitlines()[-1]
        assert url.startswith("sphinx://127.0.0.1:")
        assert discover(url).url == url
        status = runner.invoke(app, ["cluster", "status", "--dir", str(directory), "--json"])
        data = json.loads(status.output)
        assert data["url"] == url
        assert [d["role"] for d in data["daemons"]] == ["replica", "replica", "coordinator"]
        assert all(d["healthy"] for d in data["daemons"])
        again = runner.invoke(app, ["cluster", "up", "--shards", "1", "--replicas", "2",
                                    "--dir", str(directory)])
        assert again.output.strip().splitlines()[-1] == url
    finally:
        down = runner.invoke(app, ["cluster", "down", "--dir", str(directory)])
    assert down.exit_code == 0, down.output
    status = runner.invoke(app, ["cluster", "status", "--dir", str(directory), "--json"])
    assert not any(d["alive"] for d in json.loads(status.output)["daemons"])


def test_cluster_status_without_a_cluster_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["cluster", "status", "--dir", str(tmp_path), "--json"])
    assert result.exit_code == 1
    assert "holds no cluster" in json.loads(result.output)["error"]["message"]


def _free_port_base(hosts: list[str], count: int) -> int:
    """A port from which *count* ports are free on every host of *hosts*."""
    for base in range(21000, 60000, 97):
        if all(_port_free(host, base + i) for host in hosts for i in range(count)):
            return base
    raise AssertionError("no free port range")


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


@needs_searchd
def test_configs_for_real_hosts_run_as_a_cluster(tmp_path: Path) -> None:
    """``cluster config`` for two hosts (two loopback addresses), started as printed."""
    hosts = ["127.0.0.1", "127.0.0.2"]
    base = _free_port_base(hosts, 6)
    conf_dir, data_dir = tmp_path / "conf", tmp_path / "data"
    runner = CliRunner()
    result = runner.invoke(app, ["cluster", "config", "--host", hosts[0], "--host", hosts[1],
                                 "--shards", "2", "--replicas", "2", "--port-base", str(base),
                                 "--data-dir", str(data_dir), "--dir", str(conf_dir)])
    assert result.exit_code == 0, result.output
    url = result.output.strip().splitlines()[-1]
    commands = [line.strip() for line in result.output.splitlines() if "searchd --config" in line]
    assert len(commands) == 5
    try:
        for host in hosts:
            for conf in sorted((conf_dir / host).glob("*.conf")):
                (data_dir / conf.stem / "binlog").mkdir(parents=True)
                subprocess.run([daemons.SEARCHD, "--config", conf.name], cwd=conf.parent,
                               check=True, capture_output=True, timeout=30)
        registered = _register_when_ready(runner, conf_dir)
        assert registered.strip().splitlines()[-1] == url
        topology = discover(url)
        _fill(topology, 100)
        assert _ids(_query(topology)) == {f"doc{i}" for i in range(100)}
    finally:
        _stop_by_pid_files(data_dir)


def _register_when_ready(runner: CliRunner, conf_dir: Path) -> str:
    deadline = time.monotonic() + 30
    while True:
        result = runner.invoke(app, ["cluster", "register", "--dir", str(conf_dir)])
        if result.exit_code == 0 or time.monotonic() > deadline:
            assert result.exit_code == 0, result.output
            return result.output
        time.sleep(0.1)


def _stop_by_pid_files(data_dir: Path) -> None:
    """SIGTERM each daemon named by a pid file under *data_dir*; SIGKILL it if it lingers.

    Real-host configurations keep searchd's watchdog (the daemon's parent process), which
    exits with a daemon stopped by SIGTERM; a lingering one is killed first, so that it
    cannot start the daemon again.
    """
    pids = [int(f.read_text().strip()) for f in data_dir.glob("*/searchd.pid")]
    watchdogs = [ppid for pid in pids if (ppid := _searchd_parent(pid)) is not None]
    for pid in pids:
        _send(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_exists(pid) for pid in pids + watchdogs):
        time.sleep(0.05)
    for pid in watchdogs + pids:
        _send(pid, signal.SIGKILL)


def _searchd_parent(pid: int) -> int | None:
    try:
        ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        cmdline = Path(f"/proc/{ppid}/cmdline").read_bytes()
    except (OSError, IndexError, ValueError):
        return None
    return ppid if b"searchd" in cmdline else None


def _send(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _exists(pid: int) -> bool:
    """Whether *pid* runs (an exited daemon waiting to be reaped by init does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
