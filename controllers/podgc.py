"""The pod garbage collector: pods no kubelet will ever finish are force-deleted.

As kube-controller-manager's pod-garbage-collector-controller (PodGC) does:

- orphaned pods: a pod bound to a node that does not exist (deleted, or a
  nodeName never registered), Terminating or not, once the node has been
  missing for the quarantine time (40 s; ``--pod-gc-quarantine-time``) and the
  API server confirms it is gone, gets the condition DisruptionTarget (reason
  DeletionByPodGC) and phase Failed, then is deleted with grace 0;
- a Terminating pod bound to no node is marked Failed and deleted with grace 0;
- a Terminating pod on a node that is not Ready and tainted
  ``node.kubernetes.io/out-of-service`` likewise (NodeOutOfServiceVolumeDetach).

https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-garbage-collection
"""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import quote

from controllers.client import TRANSIENT, NotFound, pod_path
from controllers.informer import Informer, object_key, run_synced

log = logging.getLogger("controllers.podgc")

# kube's gcCheckPeriod: a pass at least this often, and on every change.
GC_CHECK_PERIOD = 20.0
TAINT_OUT_OF_SERVICE = "node.kubernetes.io/out-of-service"
ORPHANED = {"type": "DisruptionTarget", "status": "True",
            "reason": "DeletionByPodGC", "message": "PodGC: node no longer exists"}


class PodGCController:
    name = "podgc"

    def __init__(self, options):
        self.quarantine = options.pod_gc_quarantine_time
        self._missing: dict[str, float] = {}  # node name: when seen missing
        self._wake = asyncio.Event()

    async def run(self, client, stop: asyncio.Event) -> None:
        self.client = client
        self.nodes = Informer(client, "/api/v1/nodes")
        self.pods = Informer(client, "/api/v1/pods")
        for informer in (self.nodes, self.pods):
            informer.add_handlers(on_add=self._poke, on_delete=self._poke,
                                  on_update=lambda old, new: self._poke(new))
        await run_synced([self.nodes, self.pods], stop,
                         lambda: self._loop(stop))

    def _poke(self, _obj: dict) -> None:
        self._wake.set()

    async def _loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()
            try:
                wait = await self.gc()
            except TRANSIENT as err:
                log.warning("pod GC pass failed: %s", err)
                wait = 1.0
            timeout = max(0.05, min(wait, GC_CHECK_PERIOD))
            try:
                await asyncio.wait_for(_first(stop.wait(), self._wake.wait()), timeout)
            except asyncio.TimeoutError:
                pass

    async def gc(self) -> float:
        """One pass; the seconds until a quarantine ends (or the check period)."""
        # TODO: no --terminated-pod-gc-threshold (deleting the oldest ended pods
        # beyond a count): its kube default, 12500, is more than a kctl cluster
        # holds, and nothing here needs it sooner.
        nodes = {n["metadata"]["name"]: n for n in self.nodes.list()}
        pods = self.pods.list()
        for pod in pods:
            if _terminating(pod) and _out_of_service(nodes.get(_node_of(pod))):
                await self._force_delete(pod, "its node is out of service")
            elif pod["metadata"].get("deletionTimestamp") and not _node_of(pod):
                await self._force_delete(pod, "it is terminating and unscheduled")
        return await self._gc_orphaned(pods, nodes)

    async def _gc_orphaned(self, pods: list[dict], nodes: dict[str, dict]) -> float:
        now = time.monotonic()
        missing = {_node_of(p) for p in pods
                   if _node_of(p) and _node_of(p) not in nodes}
        self._missing = {name: self._missing.get(name, now) for name in missing}
        soonest = GC_CHECK_PERIOD
        for name, since in self._missing.items():
            left = since + self.quarantine - now
            if left > 0:
                soonest = min(soonest, left)
            elif await self._node_gone(name):
                for pod in (p for p in pods if _node_of(p) == name):
                    await self._force_delete(pod, f"node {name} no longer exists",
                                             ORPHANED)
        return soonest

    async def _node_gone(self, name: str) -> bool:
        # The cache may lag: the server has the last word, as kube asks it.
        try:
            await self.client.get(f"/api/v1/nodes/{quote(name)}")
        except NotFound:
            return True
        return False

    async def _force_delete(self, pod: dict, why: str,
                            condition: dict | None = None) -> None:
        """kube's markFailedAndDeletePodWithCondition: Failed (with the
        condition) unless the pod ended already, then a delete with grace 0."""
        meta = pod["metadata"]
        path = pod_path(meta["namespace"], meta["name"])
        try:
            if _phase(pod) not in ("Succeeded", "Failed"):
                await self.client.update_status(
                    path, await self.client.get(path),
                    lambda live: _mark_failed(live, condition))
            await self.client.delete(path, {"gracePeriodSeconds": 0})
        except NotFound:
            return
        log.info("pod %s force-deleted: %s", object_key(pod), why)


def _mark_failed(pod: dict, condition: dict | None) -> None:
    status = pod.setdefault("status", {})
    status["phase"] = "Failed"
    if condition is None:
        return
    conditions = status.setdefault("conditions", [])
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for existing in conditions:
        if existing.get("type") == condition["type"]:
            if existing.get("status") != condition["status"]:
                existing["lastTransitionTime"] = now
            existing.update(condition)
            return
    conditions.append(dict(condition, lastTransitionTime=now))


def _node_of(pod: dict) -> str:
    return (pod.get("spec") or {}).get("nodeName") or ""


def _phase(pod: dict) -> str:
    return (pod.get("status") or {}).get("phase") or ""


def _terminating(pod: dict) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp")) and _phase(pod) not in (
        "Succeeded", "Failed")


def _out_of_service(node: dict | None) -> bool:
    if node is None:
        return False
    ready = next((c for c in (node.get("status") or {}).get("conditions") or []
                  if c.get("type") == "Ready"), {})
    taints = (node.get("spec") or {}).get("taints") or []
    return ready.get("status") != "True" and any(
        t.get("key") == TAINT_OUT_OF_SERVICE for t in taints)


async def _first(*coroutines) -> None:
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
