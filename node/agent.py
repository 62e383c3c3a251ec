"""``kctl node``: the node agent's command line and its main coroutine.

The agent registers its Node, keeps the Lease and node status current, serves
container logs on its own HTTP endpoint, and runs the pods bound to it. When
it stops it leaves its containers running, as a kubelet does: the next agent
with the same data dir adopts them.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import signal
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import click

from node.backoff import DEFAULT_BASE, DEFAULT_CAP, RestartBackoff, parse_duration
from node.client import APIClient
from node.events import EventRecorder
from node.logs import make_app, serve
from node.manager import PodManager
from node.pods import NodeContext
from node.registration import NodeRegistration, NodeSettings, RegistrationRefused
from node.state import StateStore

log = logging.getLogger("node.agent")

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@dataclass
class AgentSettings:
    """Everything ``kctl node`` can be told; defaults are the kubelet's."""

    server: str = "http://127.0.0.1:8080"
    name: str = field(default_factory=lambda: default_name())
    data_dir: Path | None = None
    address: str = "127.0.0.1"
    port: int = 0
    max_pods: int = 110
    token: str | None = None
    node_ip: str | None = None
    backoff_base: float = DEFAULT_BASE
    backoff_max: float = DEFAULT_CAP
    sync_frequency: float = 60.0
    lease_duration: int = 40
    status_update_frequency: float = 10.0
    status_report_frequency: float = 300.0
    shutdown_grace_period: float = 0.0
    keep_pods_on_shutdown: bool = False

    def resolved_data_dir(self) -> Path:
        return self.data_dir or default_data_dir(self.name)


def default_name() -> str:
    # Node names are DNS subdomains: the kubelet lowercases the hostname too.
    return socket.gethostname().lower()


def default_data_dir(name: str) -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share")
    return Path(base) / "kctl" / f"node-{name}"


def detect_node_ip() -> str:
    """The address of the interface with the default route, else loopback."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.254.254.254", 1))  # UDP connect sends no packet
        return probe.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    finally:
        probe.close()


class DataDirBusy(Exception):
    pass


class InvalidServer(Exception):
    pass


def check_server_url(url: str) -> None:
    """Refuse a --server no request could reach, before retrying forever."""
    try:
        parts = urlsplit(url)
        parts.port  # raises ValueError on a port that is not a number
    except ValueError as err:
        raise InvalidServer(f'invalid --server "{url}": {err}') from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidServer(f'invalid --server "{url}": want an http:// or '
                               "https:// URL with a host")


def lock_data_dir(data_dir: Path) -> int:
    """Hold a lock on the data dir: two agents on one dir would run pods twice."""
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / "agent.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DataDirBusy(f"another node agent is using {data_dir}") from None
    return fd


async def run_agent(settings: AgentSettings, stop: asyncio.Event | None = None) -> None:
    """Run the agent until ``stop`` is set (or SIGTERM/SIGINT when it is not given)."""
    stop = stop or _stop_on_signals()
    data_dir = settings.resolved_data_dir()
    lock = lock_data_dir(data_dir)
    host_ip = settings.node_ip or detect_node_ip()
    try:
        async with APIClient(settings.server, settings.token) as client, \
                aiohttp.ClientSession() as http:
            ctx = NodeContext(
                client=client, store=StateStore(data_dir),
                events=EventRecorder(client, settings.name),
                backoff=RestartBackoff(settings.backoff_base, settings.backoff_max),
                http=http, node_name=settings.name, host_ip=host_ip,
                retry_period=min(10.0, settings.sync_frequency))
            await _run(settings, ctx, stop)
    finally:
        os.close(lock)


async def _run(settings: AgentSettings, ctx: NodeContext, stop: asyncio.Event) -> None:
    manager = PodManager(ctx, settings.max_pods, settings.sync_frequency)
    runner, port = await serve(make_app(manager.find), settings.address, settings.port)
    log.info("node %s: serving container logs on %s:%d", settings.name,
             settings.address, port)
    wildcard = settings.address in ("0.0.0.0", "::", "")
    registration = NodeRegistration(ctx.client, NodeSettings(
        name=settings.name, host_ip=ctx.host_ip,
        endpoint_host=ctx.host_ip if wildcard else settings.address,
        endpoint_port=port, data_dir=ctx.store.data_dir, max_pods=settings.max_pods,
        lease_duration=settings.lease_duration,
        status_update_frequency=settings.status_update_frequency,
        status_report_frequency=settings.status_report_frequency))
    try:
        await registration.register(stop)
        loops = [asyncio.create_task(coro, name=name) for name, coro in (
            ("lease", registration.lease_loop(stop)),
            ("node status", registration.status_loop(stop)),
            ("pods", manager.run(stop)))]
        loops.append(asyncio.create_task(stop.wait(), name="stop"))
        done, _ = await asyncio.wait(loops, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task.get_name() != "stop" and task.exception() is not None:
                log.error("the %s loop failed", task.get_name(),
                          exc_info=task.exception())
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
    finally:
        grace = settings.shutdown_grace_period
        if grace > 0:
            await registration.report_shutdown(timeout=5)
        await manager.shutdown(grace, keep_pods=settings.keep_pods_on_shutdown)
        await ctx.events.drain()
        await runner.cleanup()
        log.info("node %s: stopped; %s", settings.name,
                 "its pods were stopped" if grace > 0 else
                 "containers keep running for the next agent")


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


def _run_simulated(server, token, node_ip, max_pods, count, name_prefix, capacity,
                   lease_duration, status_update_frequency,
                   status_report_frequency) -> None:
    from node.simulated import SimulatedSettings, parse_capacity, run_simulated

    try:
        resources = parse_capacity(capacity)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="'--capacity'")
    asyncio.run(run_simulated(SimulatedSettings(
        server=server, count=count, name_prefix=name_prefix, token=token,
        node_ip=node_ip or "127.0.0.1", max_pods=max_pods, capacity=resources,
        lease_duration=lease_duration, status_update_frequency=status_update_frequency,
        status_report_frequency=status_report_frequency)))


class Duration(click.ParamType):
    """A Go-style duration (10s, 1m30s, 200ms) or a number of seconds."""

    name = "duration"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)):
            return float(value)
        try:
            return parse_duration(value)
        except ValueError as err:
            self.fail(str(err), param, ctx)


@click.command("node", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--server", default="http://127.0.0.1:8080", show_default=True,
              help="URL of the API server.")
@click.option("--name", default=None, help="Node name  [default: the hostname]")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="State, logs and working dirs  [default: "
                   "$XDG_DATA_HOME/kctl/node-NAME or ~/.local/share/kctl/node-NAME]")
@click.option("--address", default="127.0.0.1", show_default=True,
              help="Address the container log endpoint listens on.")
@click.option("--port", default=0, show_default=True, type=int,
              help="Port of the container log endpoint; 0 picks a free one.")
@click.option("--max-pods", default=110, show_default=True, type=int,
              help="Pods this node runs at most.")
# kctl serve hands its node agent a token in KCTL_NODE_TOKEN.
@click.option("--token", envvar=["KCTL_NODE_TOKEN", "KCTL_TOKEN"],
              help="Bearer token for the API server.")
@click.option("--node-ip", help="Address published as the node's InternalIP and "
                                "the pods' IP  [default: the default route's]")
@click.option("--sync-frequency", type=Duration(), default="1m", show_default=True,
              help="How often every pod is reconciled even without events.")
@click.option("--restart-backoff-base", type=Duration(), default="10s",
              show_default=True, help="First delay of a crash-looping container.")
@click.option("--restart-backoff-max", type=Duration(), default="5m",
              show_default=True, help="Longest delay of a crash-looping container; "
                                      "a run twice this long resets the back-off.")
@click.option("--node-lease-duration-seconds", type=int, default=40, show_default=True,
              help="Lease duration; the Lease is renewed every quarter of it.")
@click.option("--node-status-update-frequency", type=Duration(), default="10s",
              show_default=True, help="How often the node status is checked.")
@click.option("--node-status-report-frequency", type=Duration(), default="5m",
              show_default=True, help="Longest time between node status posts.")
@click.option("--simulate", is_flag=True,
              help="Register simulated nodes whose pods run without processes.")
@click.option("--count", default=1, show_default=True, type=click.IntRange(1),
              help="With --simulate: how many nodes.")
@click.option("--name-prefix", default="sim-", show_default=True,
              help="With --simulate: nodes are named PREFIX0, PREFIX1, ...")
@click.option("--capacity", default="cpu=32,memory=256Gi,ephemeral-storage=100Gi",
              show_default=True, help="With --simulate: each node's capacity.")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]))
@click.option("--shutdown-grace-period", type=Duration(), default="0s",
              show_default=True,
              help="On SIGTERM, stop the pods within this time and report them "
                   "Failed, as a node shutting down does; 0 leaves the "
                   "containers running for the next agent.")
@click.option("--keep-pods-on-shutdown", is_flag=True,
              help="With --shutdown-grace-period: stop the containers but leave "
                   "their pods to the next agent, which starts them again, as "
                   "after a reboot without graceful node shutdown. kctl serve "
                   "runs its node so.")
def node_command(server, name, data_dir, address, port, max_pods, token, node_ip,
                 sync_frequency, restart_backoff_base, restart_backoff_max,
                 node_lease_duration_seconds, node_status_update_frequency,
                 node_status_report_frequency, simulate, count, name_prefix,
                 capacity, log_level, shutdown_grace_period,
                 keep_pods_on_shutdown):
    """Run a node agent: a kubelet that runs pods as local processes.

    \b
    Examples:
      # Join the API server on this machine, named after the host
      kctl node
      # A second node with its own data dir
      kctl node --server http://10.0.0.5:8080 --name worker-2
      # 100 simulated nodes, sim-00 to sim-99
      kctl node --simulate --count 100
    """
    logging.basicConfig(level=log_level.upper(), format=LOG_FORMAT, stream=sys.stderr)
    try:
        check_server_url(server)
    except InvalidServer as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)
    if simulate:
        _run_simulated(server, token, node_ip, max_pods, count, name_prefix, capacity,
                       node_lease_duration_seconds, node_status_update_frequency,
                       node_status_report_frequency)
        return
    settings = AgentSettings(
        server=server, name=name or default_name(), data_dir=data_dir,
        address=address, port=port, max_pods=max_pods, token=token, node_ip=node_ip,
        backoff_base=restart_backoff_base, backoff_max=restart_backoff_max,
        sync_frequency=sync_frequency, lease_duration=node_lease_duration_seconds,
        status_update_frequency=node_status_update_frequency,
        status_report_frequency=node_status_report_frequency,
        shutdown_grace_period=shutdown_grace_period,
        keep_pods_on_shutdown=keep_pods_on_shutdown)
    try:
        asyncio.run(run_agent(settings))
    except (DataDirBusy, RegistrationRefused) as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)
