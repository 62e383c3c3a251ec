"""Liveness, readiness and startup probes, with Kubernetes' timing rules.

A probe worker ticks every ``periodSeconds``, from the moment the container
starts; a tick before ``initialDelaySeconds`` is skipped. A result counts only
after ``successThreshold`` successes or ``failureThreshold`` failures in a row.
Readiness starts as failure, liveness as success; until the startup probe has
succeeded the other two do not run. A failed liveness or startup probe puts the
worker on hold: the pod worker restarts the container and new probes begin.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from dataclasses import dataclass
from typing import Callable

import aiohttp

log = logging.getLogger("node.probes")

USER_AGENT = "kube-probe/1.32"
# The kubelet keeps at most this much of an exec probe's output.
MAX_OUTPUT = 10 * 1024


@dataclass(frozen=True)
class ProbeTiming:
    initial_delay: float = 0
    period: float = 10
    timeout: float = 1
    success_threshold: int = 1
    failure_threshold: int = 3

    @classmethod
    def of(cls, probe: dict) -> "ProbeTiming":
        return cls(probe.get("initialDelaySeconds", 0), probe.get("periodSeconds", 10),
                   probe.get("timeoutSeconds", 1), probe.get("successThreshold", 1),
                   probe.get("failureThreshold", 3))


def resolve_port(port: object, container: dict) -> int:
    """A probe's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int) or (isinstance(port, str) and port.isdigit()):
        return int(port)
    for item in container.get("ports") or []:
        if item.get("name") == port:
            return int(item["containerPort"])
    raise ValueError(f"couldn't find port: {port} in container")


async def http_probe(action: dict, container: dict, timeout: float,
                     session: aiohttp.ClientSession) -> tuple[bool, str]:
    host = action.get("host") or "127.0.0.1"
    port = resolve_port(action.get("port"), container)
    scheme = action.get("scheme", "HTTP").lower()
    path = action.get("path") or "/"
    if not path.startswith("/"):
        path = "/" + path
    url = f"{scheme}://{host}:{port}{path}"
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    headers.update({h["name"]: h["value"] for h in action.get("httpHeaders") or []})
    try:
        async with session.get(url, headers=headers, ssl=False,
                               timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            await resp.read()
            if 200 <= resp.status < 400:
                return True, ""
            return False, f"HTTP probe failed with statuscode: {resp.status}"
    except asyncio.TimeoutError:
        return False, (f'Get "{url}": context deadline exceeded '
                       "(Client.Timeout exceeded while awaiting headers)")
    except aiohttp.ClientError as err:
        return False, f'Get "{url}": {dial_error(host, port, err)}'


def dial_error(host: str, port: int, err: Exception) -> str:
    cause = getattr(err, "os_error", None) or err
    if isinstance(cause, ConnectionRefusedError):
        return f"dial tcp {host}:{port}: connect: connection refused"
    return str(err)


async def tcp_probe(action: dict, container: dict, timeout: float) -> tuple[bool, str]:
    host = action.get("host") or "127.0.0.1"
    port = resolve_port(action.get("port"), container)
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except asyncio.TimeoutError:
        return False, f"dial tcp {host}:{port}: i/o timeout"
    except ConnectionRefusedError:
        return False, f"dial tcp {host}:{port}: connect: connection refused"
    except (OSError, socket.gaierror) as err:
        return False, f"dial tcp {host}:{port}: {err}"
    writer.close()
    return True, ""


async def exec_probe(action: dict, env: dict, cwd: str,
                     timeout: float) -> tuple[bool, str]:
    command = action.get("command") or []
    try:
        proc = await asyncio.create_subprocess_exec(
            *command, env=env, cwd=cwd, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            start_new_session=True)
    except OSError as err:
        return False, f'exec: "{command[0] if command else ""}": {err.strerror}'
    try:
        output, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        await proc.wait()
        return False, f"command {' '.join(command)!r} timed out"
    text = output[:MAX_OUTPUT].decode(errors="replace")
    return proc.returncode == 0, text


class ProbeWorker:
    """Runs one probe of one container run and keeps its thresholded result."""

    def __init__(self, kind: str, probe: dict, run: "ContainerProbes"):
        self.kind = kind  # "liveness", "readiness" or "startup"
        self.probe = probe
        self.timing = ProbeTiming.of(probe)
        self.run = run
        self.result = {"readiness": False, "liveness": True, "startup": None}[kind]
        self._last: bool | None = None
        self._streak = 0
        self.on_hold = False

    async def loop(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.on_hold:
            if self._may_probe(loop.time()):
                await self._probe_once()
            await asyncio.sleep(self.timing.period)

    def _may_probe(self, now: float) -> bool:
        if now - self.run.started_at < self.timing.initial_delay:
            return False
        if self.kind == "startup":
            return not self.run.started
        return self.run.started

    async def _probe_once(self) -> None:
        ok, message = await self.run.check(self.probe, self.timing.timeout)
        if ok != self._last:
            self._last, self._streak = ok, 0
        self._streak += 1
        if not ok:
            self.run.event(f"{self.kind.capitalize()} probe failed: {message}")
        needed = self.timing.success_threshold if ok else self.timing.failure_threshold
        if self._streak < needed or self.result == ok:
            return
        self.result = ok
        log.debug("probe %s %s result=%s", self.kind, self.run.name, ok)
        if not ok and self.kind in ("liveness", "startup"):
            self.on_hold = True
            self.run.failure = f"Container {self.run.name} failed {self.kind} probe"
        self.run.changed()


class ContainerProbes:
    """The probes of one container run and what they conclude."""

    def __init__(self, container: dict, env: dict, cwd: str,
                 session: aiohttp.ClientSession, on_change: Callable[[], None],
                 on_event: Callable[[str], None]):
        self.name = container["name"]
        self.container = container
        self.env = env
        self.cwd = cwd
        self.session = session
        self.on_change = on_change
        self.on_event = on_event
        self.started_at = asyncio.get_running_loop().time()
        self.failure: str | None = None
        self.workers = {kind: ProbeWorker(kind, container[f"{kind}Probe"], self)
                        for kind in ("startup", "liveness", "readiness")
                        if container.get(f"{kind}Probe")}
        self._tasks: list[asyncio.Task] = []

    @property
    def started(self) -> bool:
        startup = self.workers.get("startup")
        return startup is None or bool(startup.result)

    @property
    def ready(self) -> bool:
        readiness = self.workers.get("readiness")
        return self.started and (readiness is None or readiness.result)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(w.loop(), name=f"probe {self.name} {k}")
                       for k, w in self.workers.items()]

    def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks = []

    def changed(self) -> None:
        self.on_change()

    def event(self, message: str) -> None:
        self.on_event(message)

    async def check(self, probe: dict, timeout: float) -> tuple[bool, str]:
        try:
            if "httpGet" in probe:
                return await http_probe(probe["httpGet"], self.container, timeout,
                                        self.session)
            if "tcpSocket" in probe:
                return await tcp_probe(probe["tcpSocket"], self.container, timeout)
            if "exec" in probe:
                return await exec_probe(probe["exec"], self.env, self.cwd, timeout)
        except ValueError as err:
            return False, str(err)
        # TODO: grpc probes need a gRPC health client, which is not a dependency.
        return False, "the process runtime supports exec, httpGet and tcpSocket probes"
