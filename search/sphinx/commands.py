"""The ``vnsearch cluster`` commands: lay out, start, stop and inspect a cluster.

``config`` writes searchd configurations for real hosts (and says how to start them);
``up``/``down``/``status`` run a local cluster on loopback for tests, demos and
benchmarks (:mod:`search.sphinx.daemons`); ``register`` stores a cluster's topology
on its coordinator so clients need only the engine URL. ``up`` and ``config`` print
that URL (``sphinx://HOST:PORT``) as their last line, for scripts to pick up.

A typer sub-app that :mod:`search.cli` mounts. The cluster modules need pymysql (the
``cluster`` extra); they are imported when a command runs, so the rest of vnsearch
works without it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from search.sphinx.daemons import DaemonStatus
    from search.sphinx.topology import Topology

cluster_app = typer.Typer(
    name="cluster",
    help="Run vnsearch's index on a Sphinx/Manticore cluster: configure, start, stop, inspect.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

ClusterDir = Annotated[
    Path, typer.Option("--dir", help="The cluster's directory (configurations, data, logs).")
]
Shards = Annotated[int, typer.Option("--shards", min=1, max=64, help="Number of shards.")]
Replicas = Annotated[
    int, typer.Option("--replicas", min=1, max=8, help="Copies of each shard (mirrors).")
]
#: What to install when pymysql is missing.
_EXTRA_HINT = "the cluster commands need pymysql: pip install 'vnsearch[cluster]'"


def _fail(message: str, *, as_json: bool = False) -> NoReturn:
    """One error line on stderr (a JSON error object on stdout under ``--json``); exit 1."""
    if as_json:
        _emit({"error": {"message": message, "param": None}})
    else:
        typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _emit(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _require_pymysql(*, as_json: bool = False) -> None:
    try:
        import pymysql  # noqa: F401 - only whether it is there
    except ImportError:
        _fail(_EXTRA_HINT, as_json=as_json)


@cluster_app.command("up")
def up_cmd(  # noqa: PLR0917 - typer: each command-line option is a parameter
    directory: ClusterDir,
    shards: Shards = 2,
    replicas: Replicas = 2,
    host: Annotated[str, typer.Option("--host", help="Loopback address to listen on.")]
    = "127.0.0.1",
) -> None:
    """Start a local cluster in DIR on free ports (or restart what of it is down).

    Prints each daemon, then the engine URL to use as the last line.

    Example: vnsearch cluster up --shards 2 --replicas 2 --dir /tmp/vncluster
    """
    _require_pymysql()
    from search.sphinx import daemons

    try:
        topology = daemons.up(directory, shards=shards, replicas=replicas, host=host)
        statuses = daemons.status(directory)
    except (daemons.ClusterError, ConnectionError) as exc:
        _fail(str(exc))
    for daemon in statuses:
        typer.echo(_status_line(daemon))
    typer.echo(topology.url)


@cluster_app.command("down")
def down_cmd(directory: ClusterDir) -> None:
    """Stop every daemon of the local cluster in DIR (its data stays for the next up)."""
    _require_pymysql()
    from search.sphinx import daemons

    try:
        daemons.down(directory)
    except daemons.ClusterError as exc:
        _fail(str(exc))
    typer.echo(f"stopped the cluster in {directory}")


@cluster_app.command("status")
def status_cmd(
    directory: ClusterDir,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Each daemon of the local cluster in DIR: role, shard, ports, pid, alive, healthy."""
    _require_pymysql(as_json=as_json)
    from search.sphinx import daemons

    try:
        topology = daemons.load(directory)
        statuses = daemons.status(directory)
    except daemons.ClusterError as exc:
        _fail(str(exc), as_json=as_json)
    if as_json:
        _emit({"url": topology.url, "daemons": [s.to_dict() for s in statuses]})
        return
    for daemon in statuses:
        typer.echo(_status_line(daemon))
    typer.echo(topology.url)


def _status_line(daemon: DaemonStatus) -> str:
    state = "healthy" if daemon.healthy else ("alive, not answering" if daemon.alive else "down")
    return (f"{daemon.name:<18} {daemon.host}:{daemon.sql_port} (api {daemon.api_port}) "
            f"pid {daemon.pid or '-'}: {state}")


@cluster_app.command("config")
def config_cmd(  # noqa: PLR0913, PLR0917 - typer: each command-line option is a parameter
    directory: ClusterDir,
    hosts: Annotated[
        list[str],
        typer.Option("--host", help="A host (address) of the cluster; repeat for each host."),
    ],
    shards: Shards = 2,
    replicas: Replicas = 2,
    coordinator: Annotated[
        str | None, typer.Option(help="Host of the coordinator (default: the first --host).")
    ] = None,
    data_dir: Annotated[
        str, typer.Option(help="Where daemons keep their data on their hosts.")
    ] = "/var/lib/vnsearch",
    port_base: Annotated[
        int, typer.Option(min=1, max=65000, help="First port of the daemons on each host.")
    ] = 9312,
) -> None:
    """Write searchd configurations for a cluster on real hosts, and say how to start it.

    Each shard's replicas go to distinct hosts. Writes DIR/cluster.json and one
    DIR/HOST/NAME.conf per daemon, then prints the commands to run on each host and,
    last, the engine URL.

    Example: vnsearch cluster config --host 10.0.0.1 --host 10.0.0.2 --dir conf/
    """
    _require_pymysql()
    from search.sphinx.topology import place

    try:
        topology = place(hosts, shards=shards, replicas=replicas, coordinator=coordinator,
                         port_base=port_base)
    except ValueError as exc:
        _fail(str(exc))
    written = _write_host_configs(topology, directory=directory, data_dir=data_dir)
    count = sum(len(commands) for commands in written.values())
    typer.echo(f"wrote {count} searchd configurations under {directory}")
    for host, commands in written.items():
        typer.echo(f"copy {directory / host}/ to {host}, and there, in that directory:")
        for command in commands:
            typer.echo(f"  {command}")
    typer.echo("then store the topology on the coordinator (from any machine that reaches it):")
    typer.echo(f"  vnsearch cluster register --dir {directory}")
    typer.echo(topology.url)


def _write_host_configs(topology: Topology, *, directory: Path,
                        data_dir: str) -> dict[str, list[str]]:
    """Write each daemon's configuration; the commands that start them, by host."""
    from search.sphinx.config import render
    from search.sphinx.daemons import CLUSTER_FILE
    from search.sphinx.topology import daemons

    directory.mkdir(parents=True, exist_ok=True)
    (directory / CLUSTER_FILE).write_text(topology.to_json() + "\n", encoding="utf-8")
    commands: dict[str, list[str]] = {}
    for daemon in daemons(topology):
        home = f"{data_dir.rstrip('/')}/{daemon.name}"
        conf = directory / daemon.node.host / f"{daemon.name}.conf"
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text(render(topology, daemon, data_dir=home), encoding="utf-8")
        commands.setdefault(daemon.node.host, []).append(
            f"mkdir -p {home}/binlog && searchd --config {conf.name}   # {daemon.role}"
        )
    return commands


@cluster_app.command("register")
def register_cmd(directory: ClusterDir) -> None:
    """Store the topology in DIR/cluster.json on its coordinator (after `cluster config`)."""
    _require_pymysql()
    from search.sphinx import daemons
    from search.sphinx.topology import register

    try:
        topology = daemons.load(directory)
        register(topology)
    except (daemons.ClusterError, ConnectionError, ValueError) as exc:
        _fail(str(exc))
    typer.echo(topology.url)

