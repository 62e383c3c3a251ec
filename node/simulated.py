"""Simulated nodes: ``kctl node --simulate --count N``, as KWOK fakes kubelets.

One process and one asyncio loop hold N nodes. Each is registered like the
real agent's Node (labels, capacity, conditions, addresses, nodeInfo, with
container runtime ``simulated://``), renews its Lease and posts its status.
Pods bound to them are moved to Running through the status fields the real
agent sets, without starting any process; a pod being deleted is deleted at
once (grace 0, uid precondition), there being nothing to stop.

One watch of all pods serves every node: a watch per node with a field
selector would cost N connections.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from dataclasses import dataclass, field

from node import version
from node.client import TRANSIENT, APIClient, Conflict, NotFound, pod_path
from node.registration import (
    HOST_ANNOTATION, NodeRegistration, NodeSettings, _sleep_or_stop)
from node.status import now_rfc3339, qos_class, with_transition_times

log = logging.getLogger("node.simulated")

# KWOK's default fake node, less the pods, which --max-pods sets.
DEFAULT_CAPACITY = {"cpu": "32", "memory": "256Gi", "ephemeral-storage": "100Gi"}
_QUANTITY = re.compile(r"^[+-]?[0-9.]+([eEinumkKMGTP]*[-+]?[0-9]*)$")
# Status writes and registrations in flight at once.
CONCURRENCY = 16
READY_CONDITIONS = ("PodReadyToStartContainers", "Initialized", "Ready",
                    "ContainersReady", "PodScheduled")


@dataclass
class SimulatedSettings:
    server: str = "http://127.0.0.1:8080"
    count: int = 1
    name_prefix: str = "sim-"
    token: str | None = None
    node_ip: str = "127.0.0.1"
    max_pods: int = 110
    capacity: dict = field(default_factory=lambda: dict(DEFAULT_CAPACITY))
    lease_duration: int = 40
    status_update_frequency: float = 10.0
    status_report_frequency: float = 300.0

    def names(self) -> list[str]:
        width = len(str(self.count - 1))
        return [f"{self.name_prefix}{i:0{width}d}" for i in range(self.count)]


def parse_capacity(text: str) -> dict:
    """``cpu=4,memory=8Gi`` as a dict; ValueError on a bad item."""
    capacity = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep or not name or not _QUANTITY.match(value):
            raise ValueError(f"expected NAME=QUANTITY, got {item!r}")
        capacity[name] = value
    return capacity


def simulated_status(settings: NodeSettings, capacity: dict, old: dict,
                     now: str) -> dict:
    cap = {**capacity, "pods": str(settings.max_pods)}
    previous = {c["type"]: c for c in old.get("conditions") or []}
    conditions = []
    for kind, status, reason, message in (
            ("MemoryPressure", "False", "KubeletHasSufficientMemory",
             "kubelet has sufficient memory available"),
            ("DiskPressure", "False", "KubeletHasNoDiskPressure",
             "kubelet has no disk pressure"),
            ("PIDPressure", "False", "KubeletHasSufficientPID",
             "kubelet has sufficient PID available"),
            ("Ready", "True", "KubeletReady", "kubelet is posting ready status")):
        before = previous.get(kind)
        transition = (before["lastTransitionTime"]
                      if before and before.get("status") == status else now)
        conditions.append({"type": kind, "status": status, "lastHeartbeatTime": now,
                           "lastTransitionTime": transition, "reason": reason,
                           "message": message})
    kctl = version()
    return {
        "capacity": cap,
        "allocatable": dict(cap),
        "conditions": conditions,
        "addresses": [{"type": "InternalIP", "address": settings.host_ip},
                      {"type": "Hostname", "address": settings.name}],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 0}},
        "nodeInfo": {
            "machineID": "", "systemUUID": "", "bootID": "",
            "kernelVersion": "", "osImage": "",
            "containerRuntimeVersion": f"simulated://{kctl}",
            "kubeletVersion": f"kctl-{kctl}", "kubeProxyVersion": "",
            "operatingSystem": "linux", "architecture": "amd64",
        },
    }


def simulated_node(settings: NodeSettings, capacity: dict, now: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": settings.name,
            "labels": {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": settings.name,
                "kubernetes.io/os": "linux",
                "type": "simulated",
            },
            "annotations": {HOST_ANNOTATION: settings.host_ip},
        },
        "spec": {},
        "status": simulated_status(settings, capacity, {}, now),
    }


def running_status(pod: dict, host_ip: str, now: str) -> dict:
    """The status the real agent writes for a pod whose containers all run."""
    spec, old = pod["spec"], pod.get("status") or {}
    conditions = [{"type": kind, "status": "True"} for kind in READY_CONDITIONS]
    kept = [c for c in old.get("conditions") or []
            if c.get("type") not in READY_CONDITIONS]
    start = old.get("startTime") or now
    status = {
        "phase": "Running",
        "conditions": kept + with_transition_times(
            conditions, old.get("conditions") or [], now),
        "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
        "podIP": host_ip, "podIPs": [{"ip": host_ip}],
        "startTime": start,
        "containerStatuses": sorted(
            (_running(c, start) for c in spec.get("containers") or []),
            key=lambda s: s["name"]),
        "qosClass": old.get("qosClass") or qos_class(spec),
    }
    if spec.get("initContainers"):
        status["initContainerStatuses"] = [
            _completed(c, start) for c in spec["initContainers"]]
    return status


def _running(container: dict, start: str) -> dict:
    return {"name": container["name"], "state": {"running": {"startedAt": start}},
            "lastState": {}, "ready": True, "restartCount": 0,
            "image": container.get("image", ""), "imageID": "",
            "containerID": f"simulated://{container['name']}", "started": True}


def _completed(container: dict, start: str) -> dict:
    container_id = f"simulated://{container['name']}"
    return {"name": container["name"],
            "state": {"terminated": {"exitCode": 0, "reason": "Completed",
                                     "startedAt": start, "finishedAt": start,
                                     "containerID": container_id}},
            "lastState": {}, "ready": True, "restartCount": 0,
            "image": container.get("image", ""), "imageID": "",
            "containerID": f"simulated://{container['name']}", "started": False}


def is_running(pod: dict) -> bool:
    status = pod.get("status") or {}
    return status.get("phase") == "Running" and any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or [])


class SimulatedRegistration(NodeRegistration):
    """The real agent's Lease and status loops over a simulated Node."""

    def __init__(self, client: APIClient, settings: NodeSettings, capacity: dict):
        super().__init__(client, settings)
        self.capacity = capacity

    def _status(self, obj: dict) -> None:
        obj["status"] = simulated_status(self.settings, self.capacity,
                                         obj.get("status") or {}, now_rfc3339())

    async def _register_once(self) -> dict:
        wanted = simulated_node(self.settings, self.capacity, now_rfc3339())
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
        return await self.client.update_status(self.node_path, updated, self._status)

    async def _post_status_if_needed(self) -> None:
        # Nothing about a simulated node changes: only the periodic report.
        if time.monotonic() - self._reported_at < self.settings.status_report_frequency:
            return
        self.node = await self.client.update_status(self.node_path, self.node,
                                                    self._status)
        self._reported_at = time.monotonic()


class SimulatedPods:
    """Moves the pods bound to the simulated nodes to Running; deletes them."""

    def __init__(self, client: APIClient, nodes: set[str], host_ip: str):
        self.client = client
        self.nodes = nodes
        self.host_ip = host_ip
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._latest: dict[str, dict] = {}

    async def run(self, stop: asyncio.Event) -> None:
        workers = [asyncio.create_task(self._work()) for _ in range(CONCURRENCY)]
        try:
            async for event_type, obj in self.client.list_watch("/api/v1/pods", {},
                                                                stop):
                for pod in obj if event_type == "LIST" else [obj]:
                    if event_type != "DELETED":
                        self._observe(pod)
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    def _observe(self, pod: dict) -> None:
        if (pod.get("spec") or {}).get("nodeName") not in self.nodes:
            return
        deleting = bool(pod["metadata"].get("deletionTimestamp"))
        phase = (pod.get("status") or {}).get("phase")
        if not deleting and (is_running(pod) or phase in ("Succeeded", "Failed")):
            return
        uid = pod["metadata"]["uid"]
        if uid not in self._latest:
            self._queue.put_nowait(uid)
        self._latest[uid] = pod

    async def _work(self) -> None:
        while True:
            uid = await self._queue.get()
            pod = self._latest.pop(uid, None)
            if pod is None:
                continue
            try:
                await self._sync(pod)
            except TRANSIENT as err:
                log.warning("pod %s/%s: %s", pod["metadata"].get("namespace"),
                            pod["metadata"]["name"], err)
                await asyncio.sleep(1.0)
                if uid not in self._latest:
                    self._latest[uid] = pod
                    self._queue.put_nowait(uid)

    async def _sync(self, pod: dict) -> None:
        meta = pod["metadata"]
        path = pod_path(meta.get("namespace", "default"), meta["name"])
        try:
            if meta.get("deletionTimestamp"):
                await self.client.delete(path, {
                    "gracePeriodSeconds": 0, "preconditions": {"uid": meta["uid"]}})
                return
            now = now_rfc3339()
            await self.client.update_status(
                path, pod, lambda obj: obj.__setitem__(
                    "status", running_status(obj, self.host_ip, now)))
        except (NotFound, Conflict):
            pass  # gone, or another object under the same name now


async def run_simulated(settings: SimulatedSettings,
                        stop: asyncio.Event | None = None) -> None:
    """Run the simulated nodes until ``stop`` (or SIGTERM/SIGINT) is set."""
    from node.agent import _stop_on_signals

    stop = stop or _stop_on_signals()
    async with APIClient(settings.server, settings.token) as client:
        registrations = [SimulatedRegistration(client, NodeSettings(
            name=name, host_ip=settings.node_ip, endpoint_host=settings.node_ip,
            endpoint_port=0, data_dir=None, max_pods=settings.max_pods,
            lease_duration=settings.lease_duration,
            status_update_frequency=settings.status_update_frequency,
            status_report_frequency=settings.status_report_frequency),
            settings.capacity) for name in settings.names()]
        await _register_all(registrations, stop)
        log.info("%d simulated nodes registered: %s..%s", len(registrations),
                 registrations[0].settings.name, registrations[-1].settings.name)
        pods = SimulatedPods(client, set(settings.names()), settings.node_ip)
        loops = [asyncio.create_task(pods.run(stop))]
        for registration in registrations:
            spread = settings.lease_duration * 0.25
            loops.append(asyncio.create_task(
                _jittered(registration.lease_loop, spread, stop)))
            loops.append(asyncio.create_task(
                _jittered(registration.status_loop, spread, stop)))
        await stop.wait()
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
    log.info("simulated nodes stopped")


async def _register_all(registrations: list, stop: asyncio.Event) -> None:
    slots = asyncio.Semaphore(CONCURRENCY)

    async def register(registration):
        async with slots:
            await registration.register(stop)

    await asyncio.gather(*(register(r) for r in registrations))


async def _jittered(loop, spread: float, stop: asyncio.Event) -> None:
    # Spread N nodes' renewals over the period rather than all at once.
    await _sleep_or_stop(stop, random.uniform(0, spread))
    await loop(stop)
