"""The pod manager: watches this node's pods and keeps one worker per pod.

It lists and watches pods with ``fieldSelector=spec.nodeName=<node>``, hands
each event to the pod's worker, wakes every worker on the resync period, admits
pods up to ``--max-pods`` (the kubelet rejects the rest as OutOfpods), and
after its first list stops the processes of pods that no longer exist.
"""

from __future__ import annotations

import asyncio
import logging

from node.pods import NodeContext, PodWorker
from node.runtime import process as proc

log = logging.getLogger("node.manager")

SHUTDOWN_REPORT_TIME = 5.0


class PodManager:
    def __init__(self, ctx: NodeContext, max_pods: int, sync_frequency: float):
        self.ctx = ctx
        self.max_pods = max_pods
        self.sync_frequency = sync_frequency
        self.workers: dict[str, PodWorker] = {}
        self.listed = asyncio.Event()
        self._orphans: asyncio.Task | None = None
        self._saved = ctx.store.load_all()

    async def run(self, stop: asyncio.Event) -> None:
        path = "/api/v1/pods"
        params = {"fieldSelector": f"spec.nodeName={self.ctx.node_name}"}
        resync = asyncio.create_task(self._resync(stop))
        try:
            async for event_type, obj in self.ctx.client.list_watch(path, params, stop):
                if event_type == "LIST":
                    await self._relisted(obj)
                else:
                    self._dispatch(event_type, obj)
        finally:
            resync.cancel()

    async def _relisted(self, pods: list[dict]) -> None:
        """A (re)list: workers for every pod, and removal of those now missing."""
        present = {pod["metadata"]["uid"] for pod in pods}
        for uid, worker in list(self.workers.items()):
            if uid not in present:
                worker.removed()
        for pod in pods:
            self._dispatch("ADDED", pod)
        if not self.listed.is_set():
            self.listed.set()
            # In the background: a grace period must not hold up the watch.
            self._orphans = asyncio.create_task(self._stop_orphans(present))

    def _dispatch(self, event_type: str, pod: dict) -> None:
        meta = pod["metadata"]
        uid = meta["uid"]
        log.debug("event %s pod=%s/%s rv=%s", event_type, meta.get("namespace"),
                  meta["name"], meta.get("resourceVersion"))
        worker = self.workers.get(uid)
        if event_type == "DELETED":
            if worker is not None:
                worker.update(pod)
                worker.removed()
            return
        if worker is not None:
            worker.update(pod)
            return
        if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed") \
                and uid not in self._saved and not meta.get("deletionTimestamp"):
            return  # finished before this agent knew it: nothing to run
        self._add(pod)

    def _add(self, pod: dict) -> None:
        uid = pod["metadata"]["uid"]
        rejection = None
        if uid not in self._saved and self.active() >= self.max_pods:
            rejection = ("OutOfpods",
                         "Node didn't have enough resource: pods, requested: 1, "
                         f"used: {self.active()}, capacity: {self.max_pods}")
            log.warning("pod %s/%s rejected: %s", pod["metadata"].get("namespace"),
                        pod["metadata"]["name"], rejection[1])
        worker = PodWorker(self.ctx, pod, self._saved.pop(uid, None), rejection)
        self.workers[uid] = worker
        worker.start().add_done_callback(lambda _: self._forget(uid, worker))

    def _forget(self, uid: str, worker: PodWorker) -> None:
        if self.workers.get(uid) is worker:
            del self.workers[uid]

    def active(self) -> int:
        """Pods that hold a slot: admitted and not finished."""
        return sum(1 for w in self.workers.values()
                   if w.rejection is None and not w.done and not w.is_terminal())

    async def _stop_orphans(self, present: set[str]) -> None:
        """Stop the processes of pods deleted while the agent was away."""
        orphans = {uid: self._saved.pop(uid) for uid in list(self._saved)
                   if uid not in present}
        await asyncio.gather(*(self._stop_orphan(state) for state in orphans.values()))

    async def _stop_orphan(self, state: dict) -> None:
        for record in (state.get("containers") or {}).values():
            if record.get("state") != "running" or not record.get("process"):
                continue
            identity = proc.ProcessIdentity.from_dict(record["process"])
            process = proc.ContainerProcess.adopt(identity)
            if process is not None:
                log.info("stopping container %s of deleted pod %s/%s", record["name"],
                         state.get("namespace"), state.get("name"))
                await process.stop(state.get("grace", 30))
        self.ctx.store.remove(state.get("uid", ""), state.get("namespace", ""),
                              state.get("name", ""))

    async def _resync(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(self.sync_frequency)
            for worker in list(self.workers.values()):
                worker.wake.set()

    def find(self, namespace: str, name: str) -> PodWorker | None:
        """The worker of a pod by name; the newest one if several share it."""
        found = [w for w in self.workers.values()
                 if w.namespace == namespace and w.name == name]
        return found[-1] if found else None

    async def shutdown(self, grace: float = 0, keep_pods: bool = False) -> None:
        """Stop the workers. With a ``grace`` period the node is going away: the
        containers are stopped within it and their pods reported Failed, or,
        with ``keep_pods``, left for the next agent to start again; without a
        grace period the containers keep running for the next agent."""
        # A cancelled worker's task forgets it: keep the list first.
        workers = list(self.workers.values())
        for worker in workers:
            if worker.task is not None:
                worker.task.cancel()
        await asyncio.gather(*(w.task for w in workers if w.task),
                             return_exceptions=True)
        if grace > 0:
            await self._shut_down_pods(workers, grace, keep_pods)
        for worker in workers:
            worker.save()
            worker.stop_watching()

    async def _shut_down_pods(self, workers: list[PodWorker], grace: float,
                              keep_pods: bool) -> None:
        log.info("node %s is shutting down: stopping %d pods within %gs",
                 self.ctx.node_name, len(workers), grace)
        # The statuses get a little time of their own after the grace period: a
        # server that does not answer must not hold the agent up for longer.
        results = await asyncio.gather(
            *(w.shut_down_node(grace, SHUTDOWN_REPORT_TIME, keep_pods)
              for w in workers),
            return_exceptions=True)
        for worker, result in zip(workers, results):
            if isinstance(result, BaseException):
                log.warning("pod %s: status at shutdown not reported: %r",
                            worker.key, result)
