"""Events about pods, as the kubelet records them (core/v1 Event).

Recording is best effort: a failure to post an event is logged at debug and
never blocks a pod. A repeat of the same event (same object, field, reason and
message) bumps ``count`` and ``lastTimestamp`` of the one already posted, as
client-go's event correlator does. The scheduler records through the same
class, as component ``default-scheduler`` with no host.
"""

from __future__ import annotations

import asyncio
import logging
import time

from node.client import TRANSIENT, APIClient
from node.status import now_rfc3339

log = logging.getLogger("node.events")

MAX_REMEMBERED = 4096


class EventRecorder:
    def __init__(self, client: APIClient, node_name: str, component: str = "kubelet",
                 instance: str = "", concurrency: int = 0):
        self.client = client
        self.node_name = node_name
        self.component = component
        self.instance = instance or node_name
        self._posted: dict[tuple, dict] = {}
        # One post at a time per key: a repeat emitted while the first is still
        # being created must bump its count, not create a second event.
        self._locks: dict[tuple, tuple[asyncio.Lock, int]] = {}
        self._tasks: set[asyncio.Task] = set()
        # 0: no limit. A busy scheduler bounds the posts in flight so that
        # events never crowd out its bindings.
        self._slots = asyncio.Semaphore(concurrency) if concurrency else None

    def emit(self, pod: dict, field_path: str, type_: str, reason: str,
             message: str) -> None:
        """Post an event about ``pod`` (and one of its containers) in the background."""
        task = asyncio.create_task(self._post(pod, field_path, type_, reason, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(self, pod: dict, field_path: str, type_: str, reason: str,
                    message: str) -> None:
        key = (pod["metadata"].get("uid"), field_path, reason, message)
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                if self._slots is None:
                    return await self._post_now(pod, field_path, type_, reason,
                                                message)
                async with self._slots:
                    return await self._post_now(pod, field_path, type_, reason,
                                                message)
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def _post_now(self, pod: dict, field_path: str, type_: str, reason: str,
                        message: str) -> None:
        meta = pod["metadata"]
        key = (meta.get("uid"), field_path, reason, message)
        namespace = meta.get("namespace", "default")
        path = f"/api/v1/namespaces/{namespace}/events"
        now = now_rfc3339()
        try:
            previous = self._posted.get(key)
            if previous is not None:
                previous["count"] = previous.get("count", 1) + 1
                previous["lastTimestamp"] = now
                name = previous["metadata"]["name"]
                self._posted[key] = await self.client.replace(f"{path}/{name}", previous)
                return
            event = self._event(pod, field_path, type_, reason, message, now)
            self._remember(key, await self.client.create(path, event))
        except TRANSIENT as err:
            self._posted.pop(key, None)
            log.debug("event %s %s/%s not recorded: %s", reason, namespace,
                      meta.get("name"), err)

    def _remember(self, key: tuple, event: dict) -> None:
        if len(self._posted) >= MAX_REMEMBERED:
            self._posted.pop(next(iter(self._posted)))
        self._posted[key] = event

    def _event(self, pod: dict, field_path: str, type_: str, reason: str,
               message: str, now: str) -> dict:
        meta = pod["metadata"]
        involved = {"kind": "Pod", "apiVersion": "v1",
                    "namespace": meta.get("namespace", "default"),
                    "name": meta["name"], "uid": meta.get("uid", ""),
                    "resourceVersion": meta.get("resourceVersion", "")}
        if field_path:
            involved["fieldPath"] = field_path
        return {
            "apiVersion": "v1",
            "kind": "Event",
            # The kubelet names events <object>.<unix nanoseconds in hex>.
            "metadata": {"name": f"{meta['name']}.{time.time_ns():x}",
                         "namespace": involved["namespace"]},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "source": ({"component": self.component, "host": self.node_name}
                       if self.node_name else {"component": self.component}),
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "type": type_,
            "eventTime": None,
            "reportingComponent": self.component,
            "reportingInstance": self.instance,
        }

    async def drain(self) -> None:
        """Wait for the events still being posted (used when the agent stops)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
