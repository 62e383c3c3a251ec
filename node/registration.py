"""The Node object, its Lease heartbeat and its status, as the kubelet keeps them.

On start the agent creates its Node, or takes over an existing one of the same
name. It then renews its Lease in ``kube-node-lease`` every quarter of the
lease duration (10 s of 40 s), and posts the node status when it changes and
at least every ``node_status_report_frequency`` (5 minutes), checking every
``node_status_update_frequency`` (10 s). Failed calls are retried with growing
delays, never in a tight loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from node import version
from node.backoff import RetryDelay
from node.client import TRANSIENT, APIClient, APIError, Conflict, NotFound
from node.status import now_rfc3339

log = logging.getLogger("node.registration")

LEASE_NAMESPACE = "kube-node-lease"
HOST_ANNOTATION = "kctl.dev/kubelet-host"
# The kubelet's default hard eviction thresholds, which allocatable leaves out.
EVICTION_MEMORY_KI = 100 * 1024
EVICTION_NODEFS_FRACTION = 0.10
ARCHES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le",
          "s390x": "s390x", "riscv64": "riscv64"}


@dataclass
class NodeSettings:
    name: str
    host_ip: str
    endpoint_host: str
    endpoint_port: int
    data_dir: Path
    max_pods: int = 110
    lease_duration: int = 40
    status_update_frequency: float = 10.0
    status_report_frequency: float = 300.0


def architecture() -> str:
    machine = platform.machine()
    return ARCHES.get(machine, machine)


def _read(path: str, default: str = "") -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return default


def os_image() -> str:
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return platform.system()


def meminfo() -> dict[str, int]:
    """/proc/meminfo in KiB."""
    values = {}
    for line in _read("/proc/meminfo").splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[key] = int(parts[0])
    return values


def capacity(settings: NodeSettings) -> tuple[dict, dict]:
    """Capacity and allocatable, read from the host."""
    memory_ki = meminfo().get("MemTotal", 0)
    disk = os.statvfs(settings.data_dir)
    disk_bytes = disk.f_blocks * disk.f_frsize
    cap = {"cpu": str(os.cpu_count() or 1),
           "ephemeral-storage": f"{disk_bytes // 1024}Ki",
           "hugepages-1Gi": "0", "hugepages-2Mi": "0",
           "memory": f"{memory_ki}Ki", "pods": str(settings.max_pods)}
    alloc = dict(cap, memory=f"{max(memory_ki - EVICTION_MEMORY_KI, 0)}Ki")
    alloc["ephemeral-storage"] = str(int(disk_bytes * (1 - EVICTION_NODEFS_FRACTION)))
    return cap, alloc


def pressure(settings: NodeSettings) -> dict[str, bool]:
    """Whether the host is short of memory or disk, by the default thresholds."""
    available_ki = meminfo().get("MemAvailable", EVICTION_MEMORY_KI + 1)
    disk = os.statvfs(settings.data_dir)
    free = disk.f_bavail / disk.f_blocks if disk.f_blocks else 1.0
    return {"MemoryPressure": available_ki < EVICTION_MEMORY_KI,
            "DiskPressure": free < EVICTION_NODEFS_FRACTION,
            "PIDPressure": False}


# Condition type -> (reason, message) when False, and when True.
_PRESSURE_TEXT = {
    "MemoryPressure": (("KubeletHasSufficientMemory",
                        "kubelet has sufficient memory available"),
                       ("KubeletHasInsufficientMemory",
                        "kubelet has insufficient memory available")),
    "DiskPressure": (("KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                     ("KubeletHasDiskPressure", "kubelet has disk pressure")),
    "PIDPressure": (("KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                    ("KubeletHasInsufficientPID", "kubelet has insufficient PID available")),
}


def conditions(settings: NodeSettings, old: list[dict], now: str,
               shutting_down: bool = False) -> list[dict]:
    """MemoryPressure, DiskPressure, PIDPressure and Ready, with their times."""
    previous = {c["type"]: c for c in old}
    wanted = []
    for kind, under in pressure(settings).items():
        reason, message = _PRESSURE_TEXT[kind][under]
        wanted.append((kind, "True" if under else "False", reason, message))
    if shutting_down:
        wanted.append(("Ready", "False", "KubeletNotReady", "node is shutting down"))
    else:
        wanted.append(("Ready", "True", "KubeletReady",
                       "kubelet is posting ready status"))
    out = []
    for kind, status, reason, message in wanted:
        before = previous.get(kind)
        transition = (before["lastTransitionTime"]
                      if before and before.get("status") == status else now)
        out.append({"type": kind, "status": status, "lastHeartbeatTime": now,
                    "lastTransitionTime": transition, "reason": reason,
                    "message": message})
    return out


def node_status(settings: NodeSettings, old: dict, now: str,
                shutting_down: bool = False) -> dict:
    cap, alloc = capacity(settings)
    kctl = version()
    machine_id = _read("/etc/machine-id")
    return {
        "capacity": cap,
        "allocatable": alloc,
        "conditions": conditions(settings, old.get("conditions") or [], now,
                                 shutting_down),
        "addresses": [{"type": "InternalIP", "address": settings.host_ip},
                      {"type": "Hostname", "address": socket.gethostname()}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": settings.endpoint_port}},
        "nodeInfo": {
            "machineID": machine_id,
            "systemUUID": _read("/sys/class/dmi/id/product_uuid", machine_id),
            "bootID": _read("/proc/sys/kernel/random/boot_id"),
            "kernelVersion": platform.release(),
            "osImage": os_image(),
            "containerRuntimeVersion": f"process://{kctl}",
            "kubeletVersion": f"kctl-{kctl}",
            "kubeProxyVersion": "",
            "operatingSystem": "linux",
            "architecture": architecture(),
        },
    }


def node_object(settings: NodeSettings, now: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": settings.name,
            "labels": {
                "beta.kubernetes.io/arch": architecture(),
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": architecture(),
                "kubernetes.io/hostname": settings.name,
                "kubernetes.io/os": "linux",
            },
            "annotations": {HOST_ANNOTATION: settings.endpoint_host},
        },
        "spec": {},
        "status": node_status(settings, {}, now),
    }


def _without_heartbeats(status: dict) -> dict:
    conds = [{k: v for k, v in c.items() if k != "lastHeartbeatTime"}
             for c in status.get("conditions") or []]
    return dict(status, conditions=conds)


class RegistrationRefused(Exception):
    """The server will not take this node as it is: retrying cannot help."""


def is_permanent(err: Exception) -> bool:
    """Whether a failed registration is the node's fault, not the server's
    passing trouble: a 4xx other than 409 (taken over) and 429 (throttled),
    or a server address no request can be sent to."""
    if isinstance(err, APIError):
        return 400 <= err.code < 500 and err.code not in (409, 429)
    return isinstance(err, aiohttp.InvalidURL)


class NodeRegistration:
    """Keeps the Node and its Lease current while the agent runs."""

    def __init__(self, client: APIClient, settings: NodeSettings):
        self.client = client
        self.settings = settings
        self.node: dict | None = None
        self._reported_at = 0.0

    @property
    def node_path(self) -> str:
        return f"/api/v1/nodes/{self.settings.name}"

    async def register(self, stop: asyncio.Event) -> None:
        """Create the Node or take it over; retry until it works or we stop.
        Raise RegistrationRefused when the server refuses the node itself."""
        delay = RetryDelay(initial=0.5, cap=30.0)
        while not stop.is_set():
            try:
                self.node = await self._register_once()
                self._reported_at = time.monotonic()
                log.info("node %s registered", self.settings.name)
                return
            except TRANSIENT as err:
                if is_permanent(err):
                    raise RegistrationRefused(
                        f'node "{self.settings.name}" was not registered: '
                        f"{getattr(err, 'message', None) or err}") from err
                wait = delay()
                log.warning("node %s: registration failed (%s); retrying in %.1fs",
                            self.settings.name, err, wait)
                await _sleep_or_stop(stop, wait)

    async def _register_once(self) -> dict:
        wanted = node_object(self.settings, now_rfc3339())
        try:
            return await self.client.create("/api/v1/nodes", wanted)
        except Conflict:
            pass
        existing = await self.client.get(self.node_path)
        meta = existing["metadata"]
        meta["labels"] = {**(meta.get("labels") or {}), **wanted["metadata"]["labels"]}
        meta["annotations"] = {**(meta.get("annotations") or {}),
                               **wanted["metadata"]["annotations"]}
        updated = await self.client.replace(self.node_path, existing)
        return await self.client.update_status(
            self.node_path, updated,
            lambda obj: obj.__setitem__("status", node_status(
                self.settings, obj.get("status") or {}, now_rfc3339())))

    async def status_loop(self, stop: asyncio.Event) -> None:
        """Post the node status on change, and at least every report period."""
        while not stop.is_set():
            await _sleep_or_stop(stop, self.settings.status_update_frequency)
            try:
                await self._post_status_if_needed()
            except TRANSIENT as err:
                log.warning("node %s: status update failed: %s", self.settings.name, err)

    async def _post_status_if_needed(self) -> None:
        assert self.node is not None
        old = self.node.get("status") or {}
        wanted = node_status(self.settings, old, now_rfc3339())
        due = (time.monotonic() - self._reported_at
               >= self.settings.status_report_frequency)
        if not due and _without_heartbeats(wanted) == _without_heartbeats(old):
            return

        def set_status(obj: dict) -> None:
            obj["status"] = node_status(self.settings, obj.get("status") or {},
                                        now_rfc3339())

        self.node = await self.client.update_status(self.node_path, self.node,
                                                    set_status)
        self._reported_at = time.monotonic()
        log.debug("node %s: status posted", self.settings.name)

    async def report_shutdown(self, timeout: float) -> None:
        """Say the node is going away: Ready turns False, so no pod is sent here.
        Best effort within ``timeout``: the server may be gone already."""
        if self.node is None:
            return

        def set_status(obj: dict) -> None:
            obj["status"] = node_status(self.settings, obj.get("status") or {},
                                        now_rfc3339(), shutting_down=True)

        try:
            self.node = await asyncio.wait_for(self.client.update_status(
                self.node_path, self.node, set_status), timeout)
        except (*TRANSIENT, asyncio.TimeoutError) as err:
            log.warning("node %s: shutdown not reported: %r", self.settings.name, err)

    # -- the Lease ----------------------------------------------------------------

    @property
    def lease_path(self) -> str:
        return (f"/apis/coordination.k8s.io/v1/namespaces/{LEASE_NAMESPACE}/"
                f"leases/{self.settings.name}")

    def _lease(self) -> dict:
        owner = []
        if self.node is not None:
            owner = [{"apiVersion": "v1", "kind": "Node", "name": self.settings.name,
                      "uid": self.node["metadata"].get("uid", "")}]
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": self.settings.name, "namespace": LEASE_NAMESPACE,
                         "ownerReferences": owner},
            "spec": {"holderIdentity": self.settings.name,
                     "leaseDurationSeconds": self.settings.lease_duration,
                     "renewTime": micro_time()},
        }

    async def lease_loop(self, stop: asyncio.Event) -> None:
        """Renew the Lease every quarter of its duration, as the kubelet does."""
        interval = self.settings.lease_duration * 0.25
        delay = RetryDelay(initial=0.2, cap=interval)
        lease: dict | None = None
        while not stop.is_set():
            try:
                lease = await self._renew(lease)
                delay.reset()
                wait = interval
            except TRANSIENT as err:
                lease = None
                wait = delay()
                log.warning("node %s: lease renewal failed (%s); retrying in %.1fs",
                            self.settings.name, err, wait)
            await _sleep_or_stop(stop, wait)

    async def _renew(self, lease: dict | None) -> dict:
        if lease is None:
            try:
                lease = await self.client.get(self.lease_path)
            except NotFound:
                path = self.lease_path.rsplit("/", 1)[0]
                return await self.client.create(path, self._lease())
        lease["spec"].update(holderIdentity=self.settings.name,
                             leaseDurationSeconds=self.settings.lease_duration,
                             renewTime=micro_time())
        renewed = await self.client.replace(self.lease_path, lease)
        log.debug("lease %s renewed rv=%s", self.settings.name,
                  renewed["metadata"].get("resourceVersion"))
        return renewed


def micro_time() -> str:
    """metav1.MicroTime: RFC 3339 with microseconds."""
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + \
        f".{int(now % 1 * 1e6):06d}Z"


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except asyncio.TimeoutError:
        pass
