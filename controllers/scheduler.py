"""The scheduler: binds pending pods to nodes, as kube-scheduler does.

Two informers (list, then watch from the list's resourceVersion, relist on
410 Gone) keep the cache of nodes and of the pods placed on each. Pending
pods whose ``schedulerName`` is ``default-scheduler`` go through one queue:
filter every node, score the feasible ones, assume the pod on the best and
send the Binding in the background, several in flight, so the next pod is
placed while the server still answers. A pod that fits nowhere gets
PodScheduled=False/Unschedulable and a FailedScheduling event, and waits
until a node or a pod changes, or ``scheduler_resync_period`` passes.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import Counter

from controllers.client import (
    STRATEGIC_MERGE_PATCH, TRANSIENT, Conflict, NotFound, pod_path)
from controllers.scheduling.cache import TERMINAL_PHASES, SchedulerCache
from controllers.scheduling.filters import PodInfo, filter_node, fit_error_message
from controllers.scheduling.score import best_node
from node.events import EventRecorder
from node.status import now_rfc3339

log = logging.getLogger("controllers.scheduler")

SCHEDULER_NAME = "default-scheduler"
# Bindings in flight at once: enough to hide the server's latency, few enough
# that the server is not swamped.
BINDINGS_IN_FLIGHT = 16
# A binding that failed for a transient reason is tried again after this long.
RETRY_DELAY = 1.0


def is_pending(pod: dict) -> bool:
    """Whether this scheduler should place ``pod``."""
    spec, meta = pod.get("spec") or {}, pod.get("metadata") or {}
    return (not spec.get("nodeName")
            and (spec.get("schedulerName") or SCHEDULER_NAME) == SCHEDULER_NAME
            and not meta.get("deletionTimestamp")
            and (pod.get("status") or {}).get("phase") not in TERMINAL_PHASES)


def _scheduling_input(pod: dict) -> tuple:
    """What a change of makes an unschedulable pod worth another try."""
    return pod.get("spec"), (pod.get("metadata") or {}).get("labels")


def _node_input(info) -> tuple:
    return (info.labels, info.taints, info.unschedulable, info.allocatable,
            info.readiness_taint)


# TODO: the queue is first come, first served and retries every unschedulable
# pod at once when something changes; kube-scheduler orders by priority, backs
# off each pod (1 s doubling to 10 s) and preempts lower-priority pods. None of
# that is here yet because no priority classes are served.
class Scheduler:
    name = "scheduler"

    def __init__(self, options):
        self.options = options
        self.cache = SchedulerCache()
        self.active: dict[str, dict] = {}  # uid -> pod, in arrival order
        self.unschedulable: dict[str, dict] = {}
        self.binding: set[str] = set()
        self._wakeup = asyncio.Event()
        self._synced = {"pods": asyncio.Event(), "nodes": asyncio.Event()}
        self._tasks: set[asyncio.Task] = set()

    async def run(self, client, stop: asyncio.Event) -> None:
        self.client = client
        self.events = EventRecorder(
            client, "", component=SCHEDULER_NAME,
            instance=f"{SCHEDULER_NAME}-{socket.gethostname().lower()}",
            concurrency=4)
        self._slots = asyncio.Semaphore(BINDINGS_IN_FLIGHT)
        loops = [asyncio.create_task(coro) for coro in (
            self._inform("/api/v1/nodes", "nodes", self._on_node, stop),
            self._inform("/api/v1/pods", "pods", self._on_pod, stop),
            self._schedule_loop(stop), self._resync_loop(stop))]
        try:
            await stop.wait()
        finally:
            for task in loops + list(self._tasks):
                task.cancel()
            await asyncio.gather(*loops, *self._tasks, return_exceptions=True)
            await self.events.drain()

    # -- informers ------------------------------------------------------------

    async def _inform(self, path: str, what: str, handle, stop) -> None:
        async for event_type, obj in self.client.list_watch(path, {}, stop):
            handle(event_type, obj)
            if event_type == "LIST":
                self._synced[what].set()
                log.info("scheduler: %d %s listed", len(obj), what)

    def _on_node(self, event_type: str, obj) -> None:
        if event_type == "LIST":
            self.cache.replace_nodes(obj)
            self._move_all_to_active()
            return
        name = obj["metadata"]["name"]
        if event_type == "DELETED":
            self.cache.remove_node(name)
            return
        before = self.cache.nodes.get(name)
        was = _node_input(before) if before is not None else None
        info = self.cache.set_node(obj)
        if _node_input(info) != was:
            self._move_all_to_active()

    def _on_pod(self, event_type: str, obj) -> None:
        if event_type == "LIST":
            self.cache.replace_pods(obj)
            for pod in obj:
                self._queue_if_pending(pod)
            return
        uid = obj["metadata"]["uid"]
        if event_type == "DELETED":
            freed = uid in self.cache.placed
            self.cache.pod_gone(uid)
            self._drop(uid)
            if freed:
                self._move_all_to_active()
            return
        placed = uid in self.cache.placed
        self.cache.observe_pod(obj)
        if placed and uid not in self.cache.placed:
            self._move_all_to_active()  # it ended: its resources are free
        self._queue_if_pending(obj)

    def _queue_if_pending(self, pod: dict) -> None:
        uid = pod["metadata"]["uid"]
        if uid in self.binding:
            return
        if not is_pending(pod):
            self._drop(uid)
            return
        waiting = self.unschedulable.get(uid)
        if waiting is None:
            self.active[uid] = pod
            self._wakeup.set()
        elif _scheduling_input(waiting) != _scheduling_input(pod):
            del self.unschedulable[uid]
            self.active[uid] = pod
            self._wakeup.set()
        else:
            self.unschedulable[uid] = pod

    def _drop(self, uid: str) -> None:
        self.active.pop(uid, None)
        self.unschedulable.pop(uid, None)

    def _move_all_to_active(self) -> None:
        if self.unschedulable:
            log.debug("%d unschedulable pods to try again", len(self.unschedulable))
            self.active.update(self.unschedulable)
            self.unschedulable.clear()
            self._wakeup.set()

    async def _resync_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(),
                                       self.options.scheduler_resync_period)
            except asyncio.TimeoutError:
                self._move_all_to_active()

    # -- scheduling -------------------------------------------------------------

    async def _schedule_loop(self, stop: asyncio.Event) -> None:
        await self._synced["nodes"].wait()
        await self._synced["pods"].wait()
        while not stop.is_set():
            if not self.active:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            uid = next(iter(self.active))
            pod = self.active.pop(uid)
            # A free slot first: the pod is placed against the newest cache.
            await self._slots.acquire()
            try:
                self._schedule_one(uid, pod)
            except Exception:
                self._slots.release()
                raise

    def _schedule_one(self, uid: str, pod: dict) -> None:
        info = PodInfo.of(pod)
        feasible, reasons = [], Counter()
        for node in self.cache.nodes.values():
            rejected = filter_node(info, node)
            if rejected:
                reasons.update(rejected)
            else:
                feasible.append(node)

        if not feasible:
            self._slots.release()
            self.unschedulable[uid] = pod
            message = fit_error_message(len(self.cache.nodes), reasons)
            log.debug("%s/%s unschedulable: %s", pod["metadata"].get("namespace"),
                      pod["metadata"]["name"], message)
            self._spawn(self._report_unschedulable(pod, message))
            return
        node = best_node(info, feasible)
        self.cache.assume(uid, node.name, info.request)
        self.binding.add(uid)
        self._spawn(self._bind(uid, pod, node.name))

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _bind(self, uid: str, pod: dict, node: str) -> None:
        meta = pod["metadata"]
        namespace, name = meta.get("namespace", "default"), meta["name"]
        binding = {"apiVersion": "v1", "kind": "Binding",
                   "metadata": {"name": name, "namespace": namespace, "uid": uid},
                   "target": {"apiVersion": "v1", "kind": "Node", "name": node}}
        try:
            await self.client.create(pod_path(namespace, name) + "/binding", binding)
        except (NotFound, Conflict) as err:
            # Deleted, or bound by someone else: the watch tells the rest.
            log.debug("binding %s/%s to %s refused: %s", namespace, name, node, err)
            self.cache.forget(uid)
            return
        except TRANSIENT as err:
            log.warning("binding %s/%s to %s failed: %s", namespace, name, node, err)
            self.cache.forget(uid)
            self._spawn(self._retry_later(uid, pod))
            return
        finally:
            self.binding.discard(uid)
            self._slots.release()
        log.debug("bound %s/%s to %s", namespace, name, node)
        self.events.emit(pod, "", "Normal", "Scheduled",
                         f"Successfully assigned {namespace}/{name} to {node}")

    async def _retry_later(self, uid: str, pod: dict) -> None:
        await asyncio.sleep(RETRY_DELAY)
        if uid not in self.active and uid not in self.unschedulable:
            self.active[uid] = pod
            self._wakeup.set()

    async def _report_unschedulable(self, pod: dict, message: str) -> None:
        """PodScheduled=False on the pod's status, and a FailedScheduling event."""
        meta = pod["metadata"]
        self.events.emit(pod, "", "Warning", "FailedScheduling", message)
        current = next((c for c in (pod.get("status") or {}).get("conditions") or []
                        if c.get("type") == "PodScheduled"), {})
        if (current.get("status"), current.get("reason"), current.get("message")) \
                == ("False", "Unschedulable", message):
            return
        transition = (current.get("lastTransitionTime")
                      if current.get("status") == "False" else None)
        condition = {"type": "PodScheduled", "status": "False",
                     "reason": "Unschedulable", "message": message,
                     "lastProbeTime": None,
                     "lastTransitionTime": transition or now_rfc3339()}
        path = pod_path(meta.get("namespace", "default"), meta["name"]) + "/status"
        try:
            await self.client.patch(path, {"status": {"conditions": [condition]}},
                                    STRATEGIC_MERGE_PATCH)
        except (NotFound, Conflict):
            pass
        except TRANSIENT as err:
            log.warning("status of %s/%s not written: %s", meta.get("namespace"),
                        meta["name"], err)
