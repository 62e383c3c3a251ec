"""``kctl serve``: run the API server, and by default one node agent and the
controllers (scheduler included) beside it, each in a process of its own."""

from __future__ import annotations

import asyncio
import ctypes
import fcntl
import ipaddress
import logging
import os
import signal
import socket
import ssl
import subprocess
import sys

import click

from controllers.manager import Duration, UnknownController, enabled_controllers

# The longest request line or header taken, as Go's net/http (1 MiB).
MAX_HEADER_BYTES = 1 << 20
log = logging.getLogger("server")

# Seconds a child process (node agent, controllers) has to stop on SIGTERM
# before it is killed.
CHILD_GRACE = {"node": 30.0, "controllers": 5.0}


class ServeError(Exception):
    """A reason to refuse to start, said in one line."""


def default_data_dir() -> str:
    base = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return os.path.join(base, "kctl")


@click.command("serve")
@click.option("--address", default="127.0.0.1", show_default=True,
              help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int,
              help="Port to listen on (0 picks a free one).")
@click.option("--data-dir", default=default_data_dir, show_default=True,
              help="Where the store and the kubeconfig are kept.")
@click.option("--token-file", help="CSV of token,user,uid: every request must "
              "carry one of these bearer tokens.")
@click.option("--tls-cert-file", help="Serve HTTPS with this certificate.")
@click.option("--tls-private-key-file", help="The key of --tls-cert-file.")
@click.option("--service-cluster-ip-range", default="10.0.0.0/24",
              show_default=True, help="Where services' cluster IPs come from.")
@click.option("--service-node-port-range", default="30000-32767",
              show_default=True, help="The ports NodePort and LoadBalancer "
                                      "services' nodePorts come from.")
@click.option("--no-node", is_flag=True, help="Do not run a node agent.")
@click.option("--controllers", "controller_list", default="*", show_default=True,
              help="Controllers to run, in kube-controller-manager's syntax: "
                   "'*' every one on by default, 'name' one on, '-name' one "
                   "off; empty runs none.")
@click.option("--no-controllers", is_flag=True,
              help="Run neither the scheduler nor any controller.")
@click.option("--node-monitor-grace-period", type=Duration(), default="40s",
              show_default=True, help="How long a node's Lease may go unrenewed "
                                      "before the node is marked Unknown.")
@click.option("--node-monitor-period", type=Duration(), default="5s",
              show_default=True, help="How often nodes' Leases are checked.")
@click.option("--pod-eviction-timeout", type=Duration(), default=None,
              help="Delete pods of a node tainted unreachable or not-ready "
                   "after this long, whatever they tolerate  [default: each "
                   "pod's tolerationSeconds, 300s unless it says otherwise]")
@click.option("--pod-gc-quarantine-time", type=Duration(), default="40s",
              show_default=True, help="How long a pod's node must be missing "
                                      "before the pod is force-deleted.")
@click.option("--watch-bookmark-interval", default=60.0, show_default=True,
              type=float, help="Seconds between BOOKMARK events of a watch.")
@click.option("--compact-interval", default=30.0, show_default=True, type=float,
              help="Seconds between compactions of the store's history.")
@click.option("--keep-revisions", default=1000, show_default=True, type=int,
              help="Revisions of history compaction always keeps.")
@click.option("--keep-seconds", default=300.0, show_default=True, type=float,
              help="Seconds of history compaction always keeps.")
@click.option("--event-ttl", default=3600.0, show_default=True, type=float,
              help="Seconds an event is kept after it last happened.")
@click.option("-v", "--verbose", count=True, help="Log more (-v: debug).")
def serve_command(**options) -> None:
    """Run a Kubernetes API server on an embedded SQLite store.

    \b
    Examples:
      kctl serve
      kctl serve --port 6443 --data-dir ./cluster --no-node
    """
    _logging(options.pop("verbose"))
    if not 0 <= options["port"] <= 65535:
        # Checked before the data directory is made; bind() would say only
        # OverflowError.
        click.echo(f"error: invalid --port {options['port']}: must be from 0 "
                   f"to 65535", err=True)
        sys.exit(1)
    try:
        options["controllers"] = _controller_args(options)
    except UnknownController as error:
        click.echo(f"error: --controllers: {error}", err=True)
        sys.exit(2)
    try:
        asyncio.run(serve(**options))
    except ServeError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)


def _controller_args(options: dict) -> list[str] | None:
    """The arguments of ``python -m controllers``, or None to run none."""
    listed = options.pop("controller_list")
    grace = options.pop("node_monitor_grace_period")
    period = options.pop("node_monitor_period")
    eviction = options.pop("pod_eviction_timeout")
    quarantine = options.pop("pod_gc_quarantine_time")
    if options.pop("no_controllers") or not enabled_controllers(listed):
        return None
    args = ["--controllers", listed, "--node-monitor-grace-period", f"{grace}s",
            "--node-monitor-period", f"{period}s",
            "--pod-gc-quarantine-time", f"{quarantine}s"]
    if eviction is not None:
        args += ["--pod-eviction-timeout", f"{eviction}s"]
    return args


def _logging(verbosity: int) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbosity else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


async def serve(*, address: str, port: int, data_dir: str, token_file: str | None,
                tls_cert_file: str | None, tls_private_key_file: str | None,
                no_node: bool = False, controllers: list[str] | None = None,
                **tuning) -> None:
    from aiohttp import web

    from server.app import APIServer, ServerOptions, build_app

    stop = _stop_on_signals()
    _check_exposure(address, token_file)
    tls = _tls_context(tls_cert_file, tls_private_key_file)
    data_dir = os.path.abspath(os.path.expanduser(data_dir))
    lock = _lock_data_dir(data_dir)
    sock = _bind(address, port)
    options = ServerOptions(data_dir=data_dir, address=address,
                            port=sock.getsockname()[1], token_file=token_file,
                            tls_cert_file=tls_cert_file,
                            tls_private_key_file=tls_private_key_file, **tuning)
    try:
        api = APIServer(options)
    except (OSError, ValueError) as error:
        raise ServeError(str(error))
    # Go's net/http takes request lines and headers up to 1 MiB; aiohttp's
    # 8 KiB default refused long selectors with a plain-text 400.
    runner = web.AppRunner(build_app(api), handle_signals=False, access_log=None,
                           max_line_size=MAX_HEADER_BYTES,
                           max_field_size=MAX_HEADER_BYTES)
    await runner.setup()
    await web.SockSite(runner, sock, ssl_context=tls, shutdown_timeout=10).start()
    url = f"{'https' if tls else 'http'}://{_host(address)}:{options.port}"
    log.info("kctl API server listening on %s, data in %s", url, data_dir)
    kubeconfig = write_kubeconfig(data_dir, url, api, tls_cert_file)
    print(f"export KUBECONFIG={kubeconfig}", flush=True)
    children = {}
    if controllers is not None:
        children["controllers"] = _start_controllers(url, api, controllers)
    if not no_node:
        children["node"] = _start_node(url, data_dir, api)
    await stop.wait()
    log.info("shutting down")
    # The node agent first, while the controllers still run: its pods end as
    # they would on any node going away. Both, while the API still answers.
    for name in ("node", "controllers"):
        if name in children:
            await asyncio.to_thread(_stop, children[name], CHILD_GRACE[name])
    await _stop_listening(runner)
    await runner.cleanup()
    lock.close()


async def _stop_listening(runner) -> None:
    """Close the listening socket a moment before aiohttp's shutdown does.

    aiohttp closes idle connections once, right after it stops listening. A
    connection accepted just before has not yet begun to wait for a request
    (its task starts on a later turn of the loop before Python 3.12): it is
    missed, never closed, and holds the stop for the whole shutdown timeout.
    """
    for site in runner.sites:
        await site.stop()
    await asyncio.sleep(0.05)


def _check_exposure(address: str, token_file: str | None) -> None:
    try:
        loopback = ipaddress.ip_address(address).is_loopback
    except ValueError:
        loopback = address == "localhost"
    if not loopback and not token_file:
        raise ServeError(f"refusing to serve on {address} without authentication: "
                         "pass --token-file (and --tls-cert-file) to expose the "
                         "API beyond this machine")


def _tls_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    if not cert and not key:
        return None
    if not cert or not key:
        raise ServeError("--tls-cert-file and --tls-private-key-file go together")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as error:
        raise ServeError(f"cannot load the TLS certificate {cert}: {error}")
    return context


def _lock_data_dir(data_dir: str):
    try:
        os.makedirs(data_dir, exist_ok=True)
        lock = open(os.path.join(data_dir, "lock"), "a+")
    except OSError as error:
        raise ServeError(f"cannot use data directory {data_dir}: "
                         f"{error.strerror}")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise ServeError(f"data directory {data_dir} is in use by another "
                         "kctl serve")
    return lock


def _bind(address: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address, port))
    except OSError as error:
        sock.close()
        if error.errno == 98:
            raise ServeError(f"port {port} on {address} is already in use")
        raise ServeError(f"cannot listen on {address}:{port}: {error.strerror}")
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def _host(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def write_kubeconfig(data_dir: str, url: str, api, ca_file: str | None) -> str:
    import yaml

    cluster: dict = {"server": url}
    if ca_file:
        cluster["certificate-authority"] = os.path.abspath(ca_file)
    user: dict = {}
    if api.authenticator is not None:
        user["token"] = api.authenticator.any_token()
    config = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "kctl", "cluster": cluster}],
        "users": [{"name": "kctl", "user": user}],
        "contexts": [{"name": "kctl", "context": {"cluster": "kctl",
                                                  "user": "kctl"}}],
        "current-context": "kctl",
        "preferences": {},
    }
    path = os.path.join(data_dir, "kubeconfig")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(config, f, sort_keys=False)
    return path


def _start_node(url: str, data_dir: str, api) -> subprocess.Popen:
    # The node goes away with the server: its containers stop, within our
    # grace, and start again with the next `kctl serve`, as a laptop's cluster
    # comes back after a reboot.
    command = [sys.executable, "-m", "node", "--server", url,
               "--data-dir", os.path.join(data_dir, "node"),
               "--shutdown-grace-period", f"{CHILD_GRACE['node'] - 10:g}s",
               "--keep-pods-on-shutdown",
               "--log-level", _child_log_level()]
    env = dict(os.environ)
    if api.authenticator is not None:
        env["KCTL_NODE_TOKEN"] = api.authenticator.any_token()
    log.debug("starting a node agent: %s", " ".join(command))
    return subprocess.Popen(command, env=env, start_new_session=True,
                            preexec_fn=_die_with_parent)


def _start_controllers(url: str, api, args: list[str]) -> subprocess.Popen:
    command = [sys.executable, "-m", "controllers", "--server", url, *args,
               "--log-level", _child_log_level()]
    env = dict(os.environ)
    if api.authenticator is not None:
        env["KCTL_TOKEN"] = api.authenticator.any_token()
    log.debug("starting the controllers: %s", " ".join(command))
    return subprocess.Popen(command, env=env, start_new_session=True,
                            preexec_fn=_die_with_parent)


def _child_log_level() -> str:
    """The node agent and the controllers share our stderr: they report
    warnings and errors only, unless -v asked for everything."""
    return "debug" if log.isEnabledFor(logging.DEBUG) else "warning"


def _die_with_parent() -> None:
    """In the child, before exec: be sent SIGTERM when kctl serve dies, even
    by SIGKILL, so no node agent or controllers process outlives its server."""
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop(process: subprocess.Popen, grace: float = 30.0) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM, installed before anything is said,
    so that a signal right after the kubeconfig line still stops cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
