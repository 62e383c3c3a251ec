"""The node lifecycle controller: node health from Leases, taints, evictions.

As kube-controller-manager's node lifecycle controller does:

- a node whose Lease in kube-node-lease (or Ready heartbeat) has not been
  renewed for ``--node-monitor-grace-period`` gets its conditions set to
  Unknown (``NodeStatusUnknown``, "Kubelet stopped posting node status."),
  an event NodeNotReady, and its pods' Ready condition set to False;
- a node whose Ready condition is Unknown is tainted
  ``node.kubernetes.io/unreachable``, one whose Ready is False
  ``node.kubernetes.io/not-ready``, each NoSchedule and NoExecute (the
  NoExecute taint with its timeAdded); the taints go when Ready is True again;
- the taint manager part: a pod on a node with a NoExecute taint it does not
  tolerate is deleted at once; one that tolerates it for tolerationSeconds is
  deleted that long after the taint's timeAdded; ``--pod-eviction-timeout``,
  when set, bounds that wait whatever the pod tolerates.

Health is judged by when this controller saw a heartbeat change, on its own
clock, so a skewed node clock does not matter (kube does the same).
https://kubernetes.io/docs/concepts/architecture/nodes/#node-controller
"""

from __future__ import annotations

import asyncio
import calendar
import logging
import time
from dataclasses import dataclass
from urllib.parse import quote

from controllers.client import TRANSIENT, Conflict, NotFound, pod_path
from controllers.informer import Informer
from node.events import EventRecorder

log = logging.getLogger("controllers.nodelifecycle")

TAINT_UNREACHABLE = "node.kubernetes.io/unreachable"
TAINT_NOT_READY = "node.kubernetes.io/not-ready"
CONTROLLED_TAINTS = (TAINT_UNREACHABLE, TAINT_NOT_READY)
UNKNOWN_REASON = "NodeStatusUnknown"
UNKNOWN_MESSAGE = "Kubelet stopped posting node status."
NEVER_REASON = "NodeStatusNeverUpdated"
NEVER_MESSAGE = "Kubelet never posted node status."
# The longest wait between two passes when nothing wakes the loop sooner.
MAX_TICK = 1.0


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
        self.eviction_timeout = options.pod_eviction_timeout
        self._health: dict[str, Health] = {}
        self._wake = asyncio.Event()
        self._evicted: set[str] = set()  # pod uids deleted already
        self._tasks: set[asyncio.Task] = set()  # events being posted

    async def run(self, client, stop: asyncio.Event) -> None:
        self.client = client
        self.events = EventRecorder(client, "", component="node-controller")
        self.nodes = Informer(client, "/api/v1/nodes")
        self.leases = Informer(
            client, "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases")
        self.pods = Informer(client, "/api/v1/pods")
        self.nodes.add_handlers(on_update=self._taints_changed)
        informers = [asyncio.create_task(i.run(stop))
                     for i in (self.nodes, self.leases, self.pods)]
        try:
            for informer in (self.nodes, self.leases, self.pods):
                await informer.wait_synced()
            await self._loop(stop)
        finally:
            for task in informers:
                task.cancel()
            await asyncio.gather(*informers, return_exceptions=True)

    def _taints_changed(self, old: dict, new: dict) -> None:
        if _no_execute(old) != _no_execute(new):
            self._wake.set()

    async def _loop(self, stop: asyncio.Event) -> None:
        next_monitor = 0.0
        while not stop.is_set():
            now = time.monotonic()
            if now >= next_monitor:
                await self._guard(self.monitor_nodes())
                next_monitor = now + self.period
            wait = await self._guard(self.evict_pods()) or MAX_TICK
            self._wake.clear()
            timeout = max(0.05, min(wait, next_monitor - time.monotonic(), MAX_TICK))
            try:
                await asyncio.wait_for(_first(stop.wait(), self._wake.wait()), timeout)
            except asyncio.TimeoutError:
                pass

    async def _guard(self, coroutine):
        try:
            return await coroutine
        except TRANSIENT as err:
            log.warning("node lifecycle pass failed: %s", err)
            return None

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

    # Eviction (the NoExecute taint manager).

    async def evict_pods(self) -> float | None:
        """Delete the pods whose time on a NoExecute-tainted node is up; return
        the seconds until the next such deadline, or None if none is pending."""
        now = time.time()
        soonest = None
        for node in self.nodes.list():
            taints = _no_execute(node)
            if not taints:
                continue
            for pod in self._pods_on(node["metadata"]["name"]):
                if pod["metadata"].get("deletionTimestamp"):
                    continue
                deadline = self.eviction_deadline(pod, taints)
                if deadline is None:
                    continue
                if deadline <= now:
                    await self._evict(pod, node["metadata"]["name"])
                else:
                    wait = deadline - now
                    soonest = wait if soonest is None else min(soonest, wait)
        return soonest

    def eviction_deadline(self, pod: dict, taints: list[dict]) -> float | None:
        """When (epoch seconds) ``pod`` must go because of ``taints``; None: never."""
        tolerations = (pod.get("spec") or {}).get("tolerations") or []
        deadline = None
        for taint in taints:
            added = _epoch(taint.get("timeAdded")) or time.time()
            seconds = _tolerated_seconds(tolerations, taint)
            if self.eviction_timeout is not None:
                seconds = min(seconds, self.eviction_timeout)
            if seconds == float("inf"):
                continue
            when = added + seconds
            deadline = when if deadline is None else min(deadline, when)
        return deadline

    async def _evict(self, pod: dict, node_name: str) -> None:
        # TODO: no per-zone rate limit (--node-eviction-rate,
        # --unhealthy-zone-threshold) and no DisruptionTarget condition before
        # the delete: a cluster here is one zone of a few nodes.
        meta = pod["metadata"]
        if meta.get("uid") in self._evicted:
            return
        try:
            # A plain delete: the pod's own grace period applies.
            await self.client.delete(pod_path(meta["namespace"], meta["name"]))
        except NotFound:
            return
        self._evicted.add(meta.get("uid"))
        log.info("pod %s/%s deleted: node %s is tainted NoExecute", meta["namespace"],
                 meta["name"], node_name)
        self.events.emit(pod, "", "Normal", "TaintManagerEviction",
                         f"Marking for deletion Pod {meta['namespace']}/{meta['name']}")

    def _pods_on(self, node_name: str) -> list[dict]:
        return [p for p in self.pods.list()
                if (p.get("spec") or {}).get("nodeName") == node_name
                and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]


async def _first(*coroutines) -> None:
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


def _condition(obj: dict, kind: str) -> dict | None:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return condition
    return None


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _epoch(timestamp: str | None) -> float | None:
    if not timestamp:
        return None
    try:
        parsed = time.strptime(timestamp[:19], "%Y-%m-%dT%H:%M:%S")
        return float(calendar.timegm(parsed))
    except ValueError:
        return None


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


def _no_execute(node: dict) -> list[dict]:
    return [t for t in _taints(node) if t.get("effect") == "NoExecute"]


def _tolerated_seconds(tolerations: list[dict], taint: dict) -> float:
    """How long ``tolerations`` bear ``taint``: 0 if not at all, inf if forever
    (the shortest tolerationSeconds of those that match, as kube takes)."""
    seconds = None
    for toleration in tolerations:
        if not _tolerates(toleration, taint):
            continue
        value = toleration.get("tolerationSeconds")
        value = float("inf") if value is None else max(float(value), 0.0)
        seconds = value if seconds is None else min(seconds, value)
    return 0.0 if seconds is None else seconds


def _tolerates(toleration: dict, taint: dict) -> bool:
    """core/v1 Toleration.ToleratesTaint."""
    if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return not key or key == taint.get("key")
    return key == taint.get("key") and (toleration.get("value") or "") == (
        taint.get("value") or "")
