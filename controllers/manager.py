"""Run controllers in one asyncio loop: ``kctl controllers`` and its library call.

``--controllers`` reads as kube-controller-manager's flag: a comma list where
``*`` means every controller on by default, ``name`` turns one on and
``-name`` turns one off; the first item naming a controller wins.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import signal
import sys

import click

from controllers import CONTROLLERS, DISABLED_BY_DEFAULT
from controllers.client import ControllerClient
from controllers.options import ControllerOptions

log = logging.getLogger("controllers.manager")

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# A controller whose run() failed starts again after this long, doubling to the cap.
RESTART_DELAY, RESTART_CAP = 1.0, 60.0


class UnknownController(ValueError):
    pass


def enabled_controllers(items: list[str] | str) -> set[str]:
    """The names ``--controllers`` turns on (kube-controller-manager's rules)."""
    if isinstance(items, str):
        items = [item.strip() for item in items.split(",") if item.strip()]
    for item in items:
        name = item.removeprefix("-")
        if item != "*" and name not in CONTROLLERS:
            raise UnknownController(f"{name!r} is not in the list of known "
                                    f"controllers: {', '.join(sorted(CONTROLLERS))}")
    return {name for name in CONTROLLERS if _is_enabled(name, items)}


def _is_enabled(name: str, items: list[str]) -> bool:
    star = False
    for item in items:
        if item == name:
            return True
        if item == "-" + name:
            return False
        star = star or item == "*"
    return star and name not in DISABLED_BY_DEFAULT


def load(name: str, options: ControllerOptions):
    module, _, attribute = CONTROLLERS[name].partition(":")
    return getattr(importlib.import_module(module), attribute)(options)


async def run_controllers(server_url: str, token: str | None, enabled: set[str],
                          options: ControllerOptions | None = None,
                          stop: asyncio.Event | None = None) -> None:
    """Run the ``enabled`` controllers until ``stop`` (or SIGTERM/SIGINT) is set."""
    options = options or ControllerOptions()
    stop = stop or _stop_on_signals()
    controllers = [load(name, options) for name in sorted(enabled)]
    async with ControllerClient(server_url, token) as client:
        log.info("controllers started against %s: %s", server_url,
                 ", ".join(c.name for c in controllers) or "none")
        tasks = [asyncio.create_task(_supervise(c, client, stop), name=c.name)
                 for c in controllers]
        await stop.wait()
        # Each controller returns once stop is set; one that does not is cancelled.
        _, pending = await asyncio.wait(tasks, timeout=5) if tasks else ((), ())
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    log.info("controllers stopped")


async def _supervise(controller, client, stop: asyncio.Event) -> None:
    """Run one controller; restart it with a growing delay when it fails."""
    delay = RESTART_DELAY
    while not stop.is_set():
        try:
            await controller.run(client, stop)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.error("controller %s failed; restarting in %.0fs", controller.name,
                      delay, exc_info=True)
        try:
            await asyncio.wait_for(stop.wait(), delay)
        except asyncio.TimeoutError:
            delay = min(delay * 2, RESTART_CAP)


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


class Duration(click.ParamType):
    """A Go-style duration (40s, 5m, 1m30s, 200ms) or a number of seconds."""

    name = "duration"

    def convert(self, value, param, ctx):
        from node.backoff import parse_duration

        if isinstance(value, (int, float)):
            return float(value)
        try:
            return parse_duration(value)
        except ValueError as err:
            self.fail(str(err), param, ctx)


@click.command("controllers", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--server", default="http://127.0.0.1:8080", show_default=True,
              help="URL of the API server.")
@click.option("--token", envvar="KCTL_TOKEN", help="Bearer token for the API server.")
@click.option("--controllers", "controller_list", default="*", show_default=True,
              help="Controllers to run: '*' is every controller on by default, "
                   "'name' turns one on, '-name' turns one off. Known: "
                   + ", ".join(sorted(CONTROLLERS)) + ".")
@click.option("--node-monitor-grace-period", type=Duration(), default="40s",
              show_default=True, help="How long a node's Lease may go unrenewed "
                                      "before the node is marked Unknown.")
@click.option("--node-monitor-period", type=Duration(), default="5s",
              show_default=True, help="How often node Leases are checked.")
@click.option("--pod-eviction-timeout", type=Duration(), default=None,
              help="Evict pods from a node tainted unreachable or not-ready "
                   "after this long, whatever they tolerate  [default: each "
                   "pod's tolerationSeconds, 300s unless the pod says otherwise]")
@click.option("--pod-gc-quarantine-time", type=Duration(), default="40s",
              show_default=True, help="How long a pod's node must be missing "
                                      "before the pod is force-deleted.")
@click.option("--scheduler-resync-period", type=Duration(), default="5m",
              show_default=True, help="How often unschedulable pods are retried "
                                      "even when no node or pod changed.")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["debug", "info", "warning", "error"]))
def controllers_command(server, token, controller_list, node_monitor_grace_period,
                        node_monitor_period, pod_eviction_timeout,
                        pod_gc_quarantine_time, scheduler_resync_period, log_level):
    """Run the scheduler and controllers against an API server.

    \b
    Examples:
      # Everything, against the server on this machine
      kctl controllers
      # Only the scheduler
      kctl controllers --server http://10.0.0.5:8080 --controllers=scheduler
      # Everything but node lifecycle, with a shorter grace period
      kctl controllers --controllers='*,-nodelifecycle'
    """
    logging.basicConfig(level=log_level.upper(), format=LOG_FORMAT, stream=sys.stderr)
    try:
        enabled = enabled_controllers(controller_list)
    except UnknownController as err:
        raise click.BadParameter(str(err), param_hint="'--controllers'")
    options = ControllerOptions(
        node_monitor_grace_period=node_monitor_grace_period,
        node_monitor_period=node_monitor_period,
        pod_eviction_timeout=pod_eviction_timeout,
        pod_gc_quarantine_time=pod_gc_quarantine_time,
        scheduler_resync_period=scheduler_resync_period)
    asyncio.run(run_controllers(server, token, enabled, options))
