"""The taint eviction controller: pods go from nodes tainted NoExecute.

As kube-controller-manager's taint-eviction-controller (the NoExecute taint
manager, split out of node lifecycle in 1.29) does, for every NoExecute taint,
the node lifecycle controller's unreachable and not-ready ones as much as a
user's:

- a pod on a node with a NoExecute taint it does not tolerate is deleted at
  once;
- a pod that tolerates every such taint, one of them for tolerationSeconds, is
  deleted that long after the taint was added (its ``timeAdded``; for a taint
  without one, since this controller first saw it); kube takes the first
  toleration that matches each taint, then the shortest of their seconds;
- a pod that tolerates them all forever stays;
- before the delete it records the event TaintManagerEviction and sets the
  pod's condition DisruptionTarget (reason DeletionByTaintManager);
- a pending eviction is cancelled, with the event "Cancelling deletion of Pod
  ns/name", when the taint goes, the node goes or the pod comes to tolerate it.

Pods get 300 s tolerations of the unreachable and not-ready taints from the API
server's DefaultTolerationSeconds admission (``server/registry/pods.py``), so
this is also how the pods of a lost node go, five minutes after it is tainted.
https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/#taint-based-evictions
"""

from __future__ import annotations

import asyncio
import calendar
import logging
import time

from controllers.client import TRANSIENT, NotFound, pod_path
from controllers.events import ControllerEventRecorder
from controllers.informer import Informer, object_key, run_synced
from controllers.nodelifecycle import CONTROLLED_TAINTS

log = logging.getLogger("controllers.tainteviction")

COMPONENT = "taint-eviction-controller"
DISRUPTION_TARGET = {
    "type": "DisruptionTarget", "status": "True",
    "reason": "DeletionByTaintManager",
    "message": "Taint manager: deleting due to NoExecute taint",
}
# The longest wait between two passes when nothing wakes the loop sooner.
MAX_TICK = 5.0


class TaintEvictionController:
    name = "tainteviction"

    def __init__(self, options):
        self.eviction_timeout = options.pod_eviction_timeout
        self._wake = asyncio.Event()
        self._scheduled: dict[str, tuple[str, float]] = {}  # key: (uid, deadline)
        self._evicted: set[str] = set()  # uids deleted already
        self._first_seen: dict[tuple, float] = {}  # taints without timeAdded

    async def run(self, client, stop: asyncio.Event) -> None:
        self.client = client
        self.events = ControllerEventRecorder(client, COMPONENT)
        self.nodes = Informer(client, "/api/v1/nodes")
        self.pods = Informer(client, "/api/v1/pods")
        self.nodes.add_handlers(on_add=self._poke, on_update=self._node_changed,
                                on_delete=self._poke)
        self.pods.add_handlers(on_add=self._poke, on_update=self._pod_changed,
                               on_delete=self._poke)
        await run_synced([self.nodes, self.pods], stop,
                         lambda: self._loop(stop))

    def _poke(self, _obj: dict) -> None:
        self._wake.set()

    def _node_changed(self, old: dict, new: dict) -> None:
        if no_execute_taints(old) != no_execute_taints(new):
            self._wake.set()

    def _pod_changed(self, old: dict, new: dict) -> None:
        if old.get("spec") != new.get("spec") or bool(
                old["metadata"].get("deletionTimestamp")) != bool(
                new["metadata"].get("deletionTimestamp")):
            self._wake.set()

    async def _loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            try:
                wait = await self.sync()
            except TRANSIENT as err:
                log.warning("taint eviction pass failed: %s", err)
                wait = 1.0
            timeout = max(0.05, min(wait if wait is not None else MAX_TICK, MAX_TICK))
            try:
                await asyncio.wait_for(_first(stop.wait(), self._wake.wait()), timeout)
            except asyncio.TimeoutError:
                pass

    async def sync(self) -> float | None:
        """Evict the pods whose time is up, schedule or cancel the others;
        return the seconds until the next deadline, None if none is pending."""
        now = time.time()
        deadlines = self._deadlines(now)
        for key in set(self._scheduled) - set(deadlines):
            pod = self.pods.get_key(key)
            if pod is not None and pod["metadata"].get("deletionTimestamp"):
                del self._scheduled[key]  # going anyway: nothing to cancel
            else:
                self._cancel(key)
        soonest = None
        for key, (pod, deadline) in deadlines.items():
            uid = pod["metadata"].get("uid", "")
            if deadline <= now:
                self._scheduled.pop(key, None)
                await self._evict(pod)
                continue
            if key in self._scheduled and self._scheduled[key][0] != uid:
                self._scheduled.pop(key)  # a new pod of the same name
            self._scheduled[key] = (uid, deadline)
            soonest = deadline - now if soonest is None else min(soonest,
                                                                 deadline - now)
        return soonest

    def _deadlines(self, now: float) -> dict[str, tuple[dict, float]]:
        """Each pod that must go from a tainted node, and when (epoch seconds)."""
        tainted = {}
        for node in self.nodes.list():
            taints = no_execute_taints(node)
            if taints:
                tainted[node["metadata"]["name"]] = self._dated(node, taints, now)
        self._first_seen = {k: v for k, v in self._first_seen.items()
                            if k[0] in tainted}
        pods = self.pods.list()
        self._evicted &= {p["metadata"].get("uid") for p in pods}
        deadlines = {}
        for pod in pods:
            taints = tainted.get((pod.get("spec") or {}).get("nodeName") or "")
            if not taints or pod["metadata"].get("deletionTimestamp") or \
                    pod["metadata"].get("uid") in self._evicted:
                continue
            deadline = self.eviction_deadline(pod, taints)
            if deadline is not None:
                deadlines[object_key(pod)] = (pod, deadline)
        return deadlines

    def _dated(self, node: dict, taints: list[dict], now: float) -> list[dict]:
        """The taints, each with the epoch second it was added as ``added``."""
        name = node["metadata"]["name"]
        dated = []
        for taint in taints:
            added = _epoch(taint.get("timeAdded"))
            if added is None:
                seen = (name, taint.get("key"), taint.get("value"), taint.get("effect"))
                added = self._first_seen.setdefault(seen, now)
            dated.append(dict(taint, added=added))
        return dated

    def eviction_deadline(self, pod: dict, taints: list[dict]) -> float | None:
        """When (epoch seconds) ``pod`` must go because of ``taints`` (each with
        its ``added`` second); None: it tolerates them all forever."""
        tolerations = (pod.get("spec") or {}).get("tolerations") or []
        deadline = None
        for taint in taints:
            seconds = tolerated_seconds(tolerations, taint)
            if self.eviction_timeout is not None and taint.get("key") in \
                    CONTROLLED_TAINTS:
                seconds = min(seconds, self.eviction_timeout)
            if seconds == float("inf"):
                continue
            when = taint["added"] + seconds
            deadline = when if deadline is None else min(deadline, when)
        return deadline

    def _cancel(self, key: str) -> None:
        self._scheduled.pop(key)
        namespace, _, name = key.partition("/")
        log.info("pod %s: eviction cancelled", key)
        self.events.event(_pod_reference(namespace, name), "Normal",
                          "TaintManagerEviction", f"Cancelling deletion of Pod {key}")

    async def _evict(self, pod: dict) -> None:
        meta = pod["metadata"]
        key, path = object_key(pod), pod_path(meta["namespace"], meta["name"])
        self.events.event(_pod_reference(meta["namespace"], meta["name"]), "Normal",
                          "TaintManagerEviction", f"Marking for deletion Pod {key}")
        try:
            await self.client.update_status(path, await self.client.get(path),
                                            _set_disruption_target)
            # A plain delete, as kube's: the pod's own grace period applies.
            await self.client.delete(path)
        except NotFound:
            return
        self._evicted.add(meta.get("uid"))
        log.info("pod %s deleted: node %s is tainted NoExecute", key,
                 pod["spec"].get("nodeName"))


def _pod_reference(namespace: str, name: str) -> dict:
    # kube's taint manager refers to the pod by name only, without its uid.
    return {"kind": "Pod", "apiVersion": "v1",
            "metadata": {"namespace": namespace, "name": name}}


def _set_disruption_target(pod: dict) -> None:
    """apipod.UpdatePodCondition: the transition time moves only with the status."""
    conditions = pod.setdefault("status", {}).setdefault("conditions", [])
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for condition in conditions:
        if condition.get("type") == DISRUPTION_TARGET["type"]:
            if condition.get("status") != DISRUPTION_TARGET["status"]:
                condition["lastTransitionTime"] = now
            condition.update(DISRUPTION_TARGET)
            return
    conditions.append(dict(DISRUPTION_TARGET, lastTransitionTime=now))


async def _first(*coroutines) -> None:
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


def _epoch(timestamp: str | None) -> float | None:
    if not timestamp:
        return None
    try:
        parsed = time.strptime(timestamp[:19], "%Y-%m-%dT%H:%M:%S")
        return float(calendar.timegm(parsed))
    except ValueError:
        return None


def no_execute_taints(node: dict) -> list[dict]:
    taints = (node.get("spec") or {}).get("taints") or []
    return [t for t in taints if t.get("effect") == "NoExecute"]


def tolerated_seconds(tolerations: list[dict], taint: dict) -> float:
    """How long ``tolerations`` bear ``taint``: 0 if not at all, inf if forever.
    The first toleration that matches counts, as in kube's
    GetMatchingTolerations; a tolerationSeconds of 0 or less is 0."""
    for toleration in tolerations:
        if tolerates(toleration, taint):
            value = toleration.get("tolerationSeconds")
            return float("inf") if value is None else max(float(value), 0.0)
    return 0.0


def tolerates(toleration: dict, taint: dict) -> bool:
    """core/v1 Toleration.ToleratesTaint."""
    if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return not key or key == taint.get("key")
    return key == taint.get("key") and (toleration.get("value") or "") == (
        taint.get("value") or "")
