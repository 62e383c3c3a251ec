"""The node lifecycle controller: node health from Leases, taints, evictions.

As kube-controller-manager's node lifecycle controller does:

- a node whose Lease in kube-node-lease (or Ready heartbeat) has not been
  renewed for ``--node-monitor-grace-period`` gets its conditions set to
  Unknown (``NodeStatusUnknown``, "Kubelet stopped posting node status."),
  an event NodeNotReady, and its pods' Ready condition set to False;
- a node whose Ready condition is Unknown is tainted
  ``node.kubernetes.io/unreachable``, one whose Ready is False
  ``node.kubernetes.io/not-ready``, each NoSchedule and NoExecute (the
  NoExecute taint with its timeAdded); the taints go when Ready is True again.

It evicts no pod itself: the NoExecute taints are acted on by the taint
eviction controller (``controllers/tainteviction.py``), as kube's node
lifecycle controller leaves them to the taint-eviction-controller since 1.29,
so a node's own taints and a user's are one rule and the two never race.

Health is judged by when this controller saw a heartbeat change, on its own
clock, so a skewed node clock does not matter (kube does the same).
https://kubernetes.io/docs/concepts/architecture/nodes/#node-controller
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from urllib.parse import quote

from controllers.client import TRANSIENT, Conflict, NotFound, pod_path
from controllers.informer import Informer, run_synced
from node.events import EventRecorder

log = logging.getLogger("controllers.nodelifecycle")

TAINT_UNREACHABLE = "node.kubernetes.io/unreachable"
TAINT_NOT_READY = "node.kubernetes.io/not-ready"
CONTROLLED_TAINTS = (TAINT_UNREACHABLE, TAINT_NOT_READY)
UNKNOWN_REASON = "NodeStatusUnknown"
UNKNOWN_MESSAGE = "Kubelet stopped posting node status."
NEVER_REASON = "NodeStatusNeverUpdated"
NEVER_MESSAGE = "Kubelet never posted node status."


@dataclass
class Health:
    """The last heartbeats seen of a node, and when (monotonic) they changed."""

    renew_time: str = ""
    ready_heartbeat: str = ""
    probed_at: float = 0.0


class NodeLifecycleController:
    name = "nodelifecycle"

    def __init__(self, options):
        self.grace = options.node_monitor_grace_period
        self.period = options.node_monitor_period
        self._health: dict[str, Health] = {}
        self._tasks: set[asyncio.Task] = set()  # events being posted

    async def run(self, client, stop: asyncio.Event) -> None:
        self.client = client
        self.events = EventRecorder(client, "", component="node-controller")
        self.nodes = Informer(client, "/api/v1/nodes")
        self.leases = Informer(
            client, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases")
        self.pods = Informer(client, "/api/v1/pods")
        await run_synced([self.nodes, self.leases, self.pods], stop,
                         lambda: self._loop(stop))

    async def _loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.monitor_nodes()
            except TRANSIENT as err:
                log.warning("node lifecycle pass failed: %s", err)
            try:
                await asyncio.wait_for(stop.wait(), self.period)
            except asyncio.TimeoutError:
                pass

    # Node health.

    async def monitor_nodes(self) -> None:
        names = set()
        for node in self.nodes.list():
            name = node["metadata"]["name"]
            names.add(name)
            if self._stale(node):
                await self._mark_unknown(name)
                await self._sync_taints(name)  # from the node as now stored
            elif _wanted_taints(node, _taints(node)) != _taints(node):
                await self._sync_taints(name)
        for gone in set(self._health) - names:
            del self._health[gone]

    def _stale(self, node: dict) -> bool:
        """Whether the node's heartbeats stopped for longer than the grace period."""
        name = node["metadata"]["name"]
        lease = self.leases.get("kube-node-lease", name) or {}
        renew_time = (lease.get("spec") or {}).get("renewTime") or ""
        ready = _condition(node, "Ready") or {}
        heartbeat = ready.get("lastHeartbeatTime") or ""
        now = time.monotonic()
        health = self._health.get(name)
        if health is None:
            # First sight: the grace period starts now, as kube's does.
            self._health[name] = Health(renew_time, heartbeat, now)
            return False
        if (renew_time, heartbeat) != (health.renew_time, health.ready_heartbeat):
            health.renew_time, health.ready_heartbeat = renew_time, heartbeat
            health.probed_at = now
            return False
        return now - health.probed_at > self.grace and ready.get("status") != "Unknown"

    async def _mark_unknown(self, name: str) -> None:
        path = f"/api/v1/nodes/{quote(name)}"
        marked = {}

        def set_unknown(node: dict) -> None:
            marked.update(_unknown_conditions(node.setdefault("status", {})))

        try:
            node = await self.client.update_status(path, await self.client.get(path),
                                                   set_unknown)
        except NotFound:
            return
        log.info("node %s: no heartbeat for %.0fs; conditions Unknown", name,
                 self.grace)
        if marked.get("Ready") != "Unknown":
            self._node_event(node, "NodeNotReady",
                             f"Node {name} status is now: NodeNotReady")
            await self._mark_pods_not_ready(name)

    def _node_event(self, node: dict, reason: str, message: str) -> None:
        task = asyncio.create_task(self._post_node_event(node, reason, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post_node_event(self, node: dict, reason: str, message: str) -> None:
        # Node events live in "default" and name the node as its own uid, as
        # kube's node controller records them.
        name, now = node["metadata"]["name"], _now()
        event = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{name}.{time.time_ns():x}", "namespace": "default"},
            "involvedObject": {"kind": "Node", "apiVersion": "v1", "name": name,
                               "uid": name},
            "reason": reason, "message": message,
            "source": {"component": "node-controller"},
            "firstTimestamp": now, "lastTimestamp": now, "count": 1,
            "type": "Normal", "reportingComponent": "node-controller",
        }
        try:
            await self.client.create("/api/v1/namespaces/default/events", event)
        except TRANSIENT as err:
            log.debug("event %s for node %s not recorded: %s", reason, name, err)

    async def _mark_pods_not_ready(self, node_name: str) -> None:
        """kube's MarkPodsNotReady: every pod of the node is no longer Ready."""
        for pod in self._pods_on(node_name):
            ready = _condition(pod, "Ready")
            if ready is None or ready.get("status") == "False":
                continue
            meta = pod["metadata"]
            path = pod_path(meta["namespace"], meta["name"])
            try:
                await self.client.update_status(path, await self.client.get(path),
                                                _set_pod_not_ready)
            except NotFound:
                continue
            self.events.emit(pod, "", "Warning", "NodeNotReady", "Node is not ready")

    # Taints.

    async def _sync_taints(self, name: str) -> None:
        # TODO: no per-zone rate limit on the NoExecute taints (kube's
        # --node-eviction-rate, --unhealthy-zone-threshold): a kctl cluster is
        # one zone of a few nodes, where kube's limiter would not hold back.
        path = f"/api/v1/nodes/{quote(name)}"
        for _ in range(5):
            try:
                node = await self.client.get(path)
            except NotFound:
                return
            current = _taints(node)
            wanted = _wanted_taints(node, current)
            if wanted == current:
                return
            node.setdefault("spec", {})["taints"] = wanted
            try:
                await self.client.replace(path, node)
            except Conflict:
                continue
            except NotFound:
                return
            log.info("node %s: taints now %s", name,
                     ", ".join(f"{t['key']}:{t['effect']}" for t in wanted) or "none")
            return

    def _pods_on(self, node_name: str) -> list[dict]:
        return [p for p in self.pods.list()
                if (p.get("spec") or {}).get("nodeName") == node_name
                and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]


def _condition(obj: dict, kind: str) -> dict | None:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return condition
    return None


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _unknown_conditions(status: dict) -> dict[str, str]:
    """Set every condition Unknown; return each condition's status before."""
    now = _now()
    conditions = status.setdefault("conditions", [])
    before = {c.get("type"): c.get("status") for c in conditions}
    if "Ready" not in before:
        conditions.append({"type": "Ready", "status": "Unknown", "reason": NEVER_REASON,
                           "message": NEVER_MESSAGE, "lastHeartbeatTime": now,
                           "lastTransitionTime": now})
    for condition in conditions:
        if condition.get("status") != "Unknown":
            condition.update(status="Unknown", reason=UNKNOWN_REASON,
                             message=UNKNOWN_MESSAGE, lastTransitionTime=now)
    return before


def _set_pod_not_ready(pod: dict) -> None:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready" and condition.get("status") != "False":
            condition.update(status="False", lastTransitionTime=_now())


def _wanted_taints(node: dict, current: list[dict]) -> list[dict]:
    """The node's taints with the Ready-driven ones as its Ready condition says."""
    # TODO: kube also taints by the other conditions (memory-, disk-, pid-pressure,
    # network-unavailable) and spec.unschedulable; only Ready's taints are kept
    # here, as no node agent reports pressure that would matter yet.
    ready = (_condition(node, "Ready") or {}).get("status")
    key = {"Unknown": TAINT_UNREACHABLE, "False": TAINT_NOT_READY}.get(ready)
    kept = [t for t in current if t.get("key") not in CONTROLLED_TAINTS or
            t.get("key") == key]
    if key is None:
        return kept
    have = {t.get("effect") for t in kept if t.get("key") == key}
    if "NoSchedule" not in have:
        kept.append({"key": key, "effect": "NoSchedule"})
    if "NoExecute" not in have:
        kept.append({"key": key, "effect": "NoExecute", "timeAdded": _now()})
    return kept


def _taints(node: dict) -> list[dict]:
    return (node.get("spec") or {}).get("taints") or []
