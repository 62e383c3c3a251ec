"""A shared informer: one resource's objects, listed and watched into a cache.

Usage, from a controller's ``run(client, stop)``::

    pods = Informer(client, "/api/v1/pods")
    pods.add_handlers(on_add=..., on_update=..., on_delete=...)
    task = asyncio.create_task(pods.run(stop))
    await pods.wait_synced()
    pods.get("default", "web-1"); pods.list("default"); pods.owned_by(uid)

It lists, then watches from the list's resourceVersion with bookmarks,
resumes from the last resourceVersion it saw when a watch ends, and lists
again on 410 Gone, as client-go's reflector does. Failures back off
(doubling, capped) and so does a watch that keeps ending at once, so a
broken server is never polled in a tight loop.

Handlers are plain functions called in the informer's task, in the order of
the events: ``on_add(obj)``, ``on_update(old, new)``, ``on_delete(obj)``.
They must not block: a controller enqueues a key (``controllers.workqueue``)
and does its work elsewhere. After a relist the cache is replaced and the
handlers hear the difference (adds, updates of changed objects, deletes of
objects that went missing while the watch was down). The objects handed out
are the cache's own: treat them as read-only.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import defaultdict
from typing import AsyncIterator, Callable

import aiohttp
import orjson

from node.backoff import RetryDelay
from node.client import APIClient, APIError, Gone, error_from

log = logging.getLogger("controllers.informer")

# A watch that ends sooner than this without an event counts as a failure.
SHORT_WATCH = 1.0


def object_key(obj: dict) -> str:
    """``namespace/name``, or ``name`` for a cluster-scoped object (client-go's
    MetaNamespaceKeyFunc): the key a work queue holds."""
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace")
    return f"{namespace}/{meta.get('name', '')}" if namespace else meta.get("name", "")


def split_key(key: str) -> tuple[str, str]:
    """``(namespace, name)`` of a key; the namespace is "" when cluster-scoped."""
    namespace, _, name = key.rpartition("/")
    return namespace, name


class Informer:
    """List+watch cache of one resource. ``path`` is its collection path, e.g.
    ``/api/v1/pods`` (every namespace) or
    ``/apis/apps/v1/namespaces/ns/replicasets``; ``params`` are list and watch
    query parameters (``labelSelector``, ``fieldSelector``)."""

    def __init__(self, client: APIClient, path: str, params: dict | None = None):
        self.client = client
        self.path = path
        self.params = dict(params or {})
        self.resource_version = ""
        self.synced = asyncio.Event()
        self._objects: dict[str, dict] = {}
        self._by_namespace: dict[str, set[str]] = defaultdict(set)
        self._by_owner: dict[str, set[str]] = defaultdict(set)
        self._handlers: list[tuple[Callable | None, ...]] = []

    def add_handlers(self, on_add: Callable[[dict], None] | None = None,
                     on_update: Callable[[dict, dict], None] | None = None,
                     on_delete: Callable[[dict], None] | None = None) -> None:
        """Register handlers; add them before ``run`` to hear the first list."""
        self._handlers.append((on_add, on_update, on_delete))

    # Reads of the cache.

    def get(self, namespace: str, name: str) -> dict | None:
        return self._objects.get(f"{namespace}/{name}" if namespace else name)

    def get_key(self, key: str) -> dict | None:
        return self._objects.get(key)

    def list(self, namespace: str | None = None, selector=None) -> list[dict]:
        """Objects of one namespace (None: all), those ``selector.matches`` their
        labels when a selector (e.g. ``server.selectors.LabelSelector``) is given."""
        keys = self._objects if namespace is None else self._by_namespace.get(
            namespace, ())
        objects = [self._objects[key] for key in keys]
        if selector is None:
            return objects
        return [o for o in objects if selector.matches(o["metadata"].get("labels"))]

    def owned_by(self, uid: str) -> list[dict]:
        """Objects with an ownerReference to ``uid``."""
        return [self._objects[key] for key in self._by_owner.get(uid, ())]

    def owner_uids(self) -> list[str]:
        """Every uid some cached object names as an owner."""
        return list(self._by_owner)

    async def wait_synced(self, timeout: float | None = None) -> bool:
        """Wait for the first list to be in the cache; False on timeout."""
        try:
            await asyncio.wait_for(self.synced.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    # The loop.

    async def run(self, stop: asyncio.Event) -> None:
        """List and watch until ``stop`` is set."""
        loop = asyncio.create_task(self._list_and_watch())
        try:
            await stop.wait()
        finally:
            loop.cancel()
            await asyncio.gather(loop, return_exceptions=True)

    async def _list_and_watch(self) -> None:
        delay = RetryDelay(initial=0.2, cap=30.0)
        while True:
            started, events = time.monotonic(), 0
            try:
                if not self.resource_version:
                    await self._relist()
                async for event_type, obj in self._watch():
                    events += 1
                    self._apply(event_type, obj)
            except Gone:
                log.debug("watch %s: resourceVersion %s is gone; relisting",
                          self.path, self.resource_version)
                self.resource_version = ""
                continue
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError, APIError,
                    orjson.JSONDecodeError, KeyError) as err:
                wait = delay()
                log.debug("watch %s failed (%s); retrying in %.1fs", self.path,
                          err, wait)
                await asyncio.sleep(wait)
                continue
            if events == 0 and time.monotonic() - started < SHORT_WATCH:
                await asyncio.sleep(delay())
            else:
                delay.reset()

    async def _relist(self) -> None:
        listed = await self.client.get(self.path, self.params)
        fresh = {object_key(obj): obj for obj in listed.get("items") or []}
        for key in [key for key in self._objects if key not in fresh]:
            self._notify(2, self._remove(key))
        for key, obj in fresh.items():
            old = self._objects.get(key)
            self._store(key, obj)
            if old is None:
                self._notify(0, obj)
            elif _version(old) != _version(obj):
                self._notify(1, old, obj)
        self.resource_version = listed["metadata"].get("resourceVersion", "")
        self.synced.set()

    async def _watch(self) -> AsyncIterator[tuple[str, dict]]:
        seconds = random.randint(300, 600)  # the reflector's spread of watch lengths
        query = dict(self.params, watch="true", allowWatchBookmarks="true",
                     resourceVersion=self.resource_version,
                     timeoutSeconds=str(seconds))
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10,
                                        sock_read=seconds + 60)
        async with self.client.session.get(self.client.server + self.path,
                                           params=query, timeout=timeout) as resp:
            if resp.status >= 400:
                raise error_from(resp.status, await resp.read())
            async for line in resp.content:
                if line.strip():
                    yield _event(orjson.loads(line))

    def _apply(self, event_type: str, obj: dict) -> None:
        version = _version(obj)
        if version:
            self.resource_version = version
        if event_type == "BOOKMARK":
            return
        key = object_key(obj)
        if event_type == "DELETED":
            self._remove(key)
            self._notify(2, obj)
            return
        old = self._objects.get(key)
        self._store(key, obj)
        if old is None:
            self._notify(0, obj)
        else:
            self._notify(1, old, obj)

    # The cache and its indexes.

    def _store(self, key: str, obj: dict) -> None:
        self._unindex(key)
        self._objects[key] = obj
        meta = obj["metadata"]
        self._by_namespace[meta.get("namespace", "")].add(key)
        for ref in meta.get("ownerReferences") or []:
            self._by_owner[ref.get("uid", "")].add(key)

    def _remove(self, key: str) -> dict | None:
        self._unindex(key)
        return self._objects.pop(key, None)

    def _unindex(self, key: str) -> None:
        old = self._objects.get(key)
        if old is None:
            return
        meta = old["metadata"]
        _discard(self._by_namespace, meta.get("namespace", ""), key)
        for ref in meta.get("ownerReferences") or []:
            _discard(self._by_owner, ref.get("uid", ""), key)

    def _notify(self, which: int, *args) -> None:
        for handlers in self._handlers:
            handler = handlers[which]
            if handler is None:
                continue
            try:
                handler(*args)
            except Exception:
                log.error("handler for %s failed", self.path, exc_info=True)


def _event(event: dict) -> tuple[str, dict]:
    if event.get("type") == "ERROR":
        status = event.get("object") or {}
        code = status.get("code", 500)
        raise error_from(code, orjson.dumps(status))
    return event["type"], event["object"]


def _version(obj: dict) -> str:
    return (obj.get("metadata") or {}).get("resourceVersion", "")


def _discard(index: dict[str, set[str]], value: str, key: str) -> None:
    keys = index.get(value)
    if keys is not None:
        keys.discard(key)
        if not keys:
            del index[value]


async def run_synced(informers: list, stop: asyncio.Event, body) -> None:
    """Run ``informers`` until ``stop``, and ``body()`` once all have synced;
    the informers end with it (a controller's whole ``run``)."""
    tasks = [asyncio.create_task(i.run(stop)) for i in informers]
    try:
        for informer in informers:
            await informer.wait_synced()
        await body()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
