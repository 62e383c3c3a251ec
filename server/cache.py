"""The watch cache: every current object as JSON bytes, and their changes.

Like kube-apiserver's cacher, it is fed by one watch on the store and serves
every list, get and watch from memory. Each object is kept once, serialized,
with its resourceVersion already in it, so a list is a join of bytes and a
watch event is encoded once for all watchers.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections import deque
from typing import AsyncIterator, Callable, Iterator

import orjson

from server.registry import Kind, Registry
from server.store import CompactedError, Event, KeyValue, Store

log = logging.getLogger(__name__)

# Recent events kept per resource for watches that resume; older ones are
# read back from the store's history.
RING_SIZE = 4096
# Events read from the store's history at a time, for a watch that resumes
# from before the ring: a long backlog is sent page by page, not held whole.
HISTORY_PAGE = 1000
# A watcher that falls this many events behind is closed, as kube-apiserver
# closes a watcher too slow to keep up; the client resumes from its last event.
WATCHER_BACKLOG = 20000
# How long a read waits for a resourceVersion the cache has not reached, as
# kube-apiserver's watch cache blocks (blockTimeout in watch_cache.go).
FRESH_TIMEOUT = 3.0

Filter = Callable[["Entry"], bool]


def encode_kept(obj: object) -> bytes:
    """JSON bytes to keep for long: a copy sized to fit.

    What orjson.dumps returns holds its whole growth buffer (4 KiB at least,
    8 KiB past about 1 KiB), so a cached pod of 1 KiB cost four to eight.
    """
    return bytes(memoryview(orjson.dumps(obj)))


class Entry:
    """One stored object as the cache keeps it."""

    __slots__ = ("key", "namespace", "name", "revision", "create_revision", "data",
                 "labels", "fields", "row")

    def __init__(self, kind: Kind, kv: KeyValue, obj: dict):
        meta = obj["metadata"]
        meta["resourceVersion"] = str(kv.mod_revision)
        self.key = kv.key
        self.namespace = meta.get("namespace", "")
        self.name = meta["name"]
        self.revision = kv.mod_revision
        self.create_revision = kv.create_revision
        self.data = encode_kept(obj)
        self.labels = meta.get("labels") or {}
        self.fields = kind.field_values(obj)
        self.row = None  # Table cells, computed on first use (server.tables)

    def object(self) -> dict:
        return orjson.loads(self.data)


class WatchEvent:
    """An event of one resource, with its wire form made once per type."""

    __slots__ = ("type", "entry", "prev", "revision", "_frames")

    def __init__(self, type: str, entry: Entry, prev: Entry | None, revision: int):
        self.type = type
        self.entry = entry
        self.prev = prev
        self.revision = revision
        self._frames: dict[str, bytes] = {}

    def frame(self, type: str | None = None) -> bytes:
        type = type or self.type
        frame = self._frames.get(type)
        if frame is None:
            entry = self.entry
            if type == "DELETED" and self.type == "MODIFIED":
                entry = self.prev  # the object left the watcher's selection
            data = entry.data
            if entry.revision != self.revision:
                obj = entry.object()
                obj["metadata"]["resourceVersion"] = str(self.revision)
                data = orjson.dumps(obj)
            frame = b'{"type":"' + type.encode() + b'","object":' + data + b"}\n"
            self._frames[type] = frame
        return frame


class Watcher:
    def __init__(self, resource: "ResourceCache", namespace: str, match: Filter):
        self.resource = resource
        self.namespace = namespace
        self.match = match
        self.queue: asyncio.Queue = asyncio.Queue()
        self.closed = False

    def offer(self, event: WatchEvent) -> None:
        if self.closed:
            return
        seen = self.translate(event)
        if seen is None:
            return
        if self.queue.qsize() >= WATCHER_BACKLOG:
            log.warning("closing a watch of %s that fell %d events behind",
                        self.resource.prefix, WATCHER_BACKLOG)
            self.close()
            return
        self.queue.put_nowait((seen, event))

    def translate(self, event: WatchEvent) -> str | None:
        """The type this watcher sees the event as, or None, as selectors do."""
        if self.namespace and event.entry.namespace != self.namespace:
            return None
        now = event.type != "DELETED" and self.match(event.entry)
        before = event.prev is not None and self.match(event.prev)
        if event.type == "DELETED":
            return "DELETED" if self.match(event.entry) else None
        if now and before:
            return "MODIFIED"
        if now:
            return "ADDED"
        if before:
            return "DELETED"
        return None

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.queue.put_nowait(None)
            self.resource.watchers.discard(self)


class ResourceCache:
    def __init__(self, kind: Kind, prefix: str):
        self.kind = kind
        self.prefix = prefix
        self.entries: dict[str, Entry] = {}
        self._keys: list[str] | None = []
        self.ring: deque[WatchEvent] = deque()
        # Every event of this resource after ``floor`` is in the ring.
        self.floor = 0
        self.watchers: set[Watcher] = set()

    def keys(self) -> list[str]:
        if self._keys is None:
            self._keys = sorted(self.entries)
        return self._keys

    def apply(self, event: Event, revision_floor: int) -> WatchEvent:
        kv = event.kv
        prev = self.entries.get(kv.key)
        entry = Entry(self.kind, kv, orjson.loads(kv.value))
        if event.type == "DELETE":
            del self.entries[kv.key]
            self._keys = None
            change = WatchEvent("DELETED", entry, prev, kv.mod_revision)
        else:
            self.entries[kv.key] = entry
            if prev is None:
                self._keys = None
            change = WatchEvent("ADDED" if prev is None else "MODIFIED",
                                entry, prev, kv.mod_revision)
        self.ring.append(change)
        if len(self.ring) > RING_SIZE:
            self.floor = self.ring.popleft().revision
        for watcher in list(self.watchers):
            watcher.offer(change)
        return change

    def select(self, namespace: str, match: Filter | None) -> Iterator[Entry]:
        keys = self.keys()
        if namespace:
            low = f"{self.prefix}{namespace}/"
            start = bisect.bisect_left(keys, low)
            end = bisect.bisect_left(keys, low[:-1] + "0")  # "0" follows "/"
            keys = keys[start:end]
        entries = self.entries
        if match is None:
            return (entries[k] for k in keys)
        return (e for e in (entries[k] for k in keys) if match(e))


class Cache:
    def __init__(self, store: Store, registry: Registry):
        self.store = store
        self.registry = registry
        self.resources: dict[str, ResourceCache] = {}
        for kind in registry.kinds:
            prefix = resource_prefix(kind)
            self.resources[prefix] = ResourceCache(kind, prefix)
        self.revision = 0
        self._waiters: list[tuple[int, asyncio.Future]] = []
        self._task: asyncio.Task | None = None
        self.closing = False

    def resource(self, kind: Kind) -> ResourceCache:
        return self.resources[resource_prefix(kind)]

    async def start(self) -> None:
        kvs, revision, _ = await self.store.range("/registry/")
        for kv in kvs:
            resource = self._resource_of(kv.key)
            if resource is not None:
                entry = Entry(resource.kind, kv, orjson.loads(kv.value))
                resource.entries[kv.key] = entry
        for resource in self.resources.values():
            resource._keys = None
            resource.floor = revision
        self.revision = revision
        stream = self.store.watch("/registry/", revision + 1)
        self._task = asyncio.create_task(self._follow(stream))

    def register(self, watcher: Watcher) -> None:
        """Start offering the resource's changes to ``watcher``."""
        watcher.resource.watchers.add(watcher)
        if self.closing:
            watcher.close()  # a watch that came in as the server stops

    def close_watches(self) -> None:
        """End every watch, and any that starts later, but go on following the
        store: writes still in flight wait for the cache to see their revision.
        """
        self.closing = True
        for resource in self.resources.values():
            for watcher in list(resource.watchers):
                watcher.close()

    async def stop(self) -> None:
        self.close_watches()
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def _resource_of(self, key: str) -> ResourceCache | None:
        # "/registry/pods/ns/name" or "/registry/<group>/<resource>/..."
        parts = key.split("/")
        for depth in (3, 4):
            resource = self.resources.get("/".join(parts[:depth]) + "/")
            if resource is not None:
                return resource
        return None

    async def _follow(self, stream) -> None:
        async for events in stream:
            for event in events:
                resource = self._resource_of(event.kv.key)
                if resource is not None:
                    resource.apply(event, self.revision)
            self.revision = events[-1].kv.mod_revision
            self._wake()

    def _wake(self) -> None:
        waiting = []
        for revision, future in self._waiters:
            if revision <= self.revision:
                if not future.done():
                    future.set_result(None)
            else:
                waiting.append((revision, future))
        self._waiters = waiting

    async def wait_for(self, revision: int) -> None:
        """Return once the cache has seen ``revision`` (read your own writes)."""
        if revision <= self.revision:
            return
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((revision, future))
        await future

    async def wait_fresh(self, revision: int,
                         timeout: float = FRESH_TIMEOUT) -> bool:
        """Whether the cache reaches ``revision`` within ``timeout`` seconds:
        a read at a resourceVersion newer than the cache's waits for it."""
        if revision <= self.revision:
            return True
        future = asyncio.get_running_loop().create_future()
        waiter = (revision, future)
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(future, timeout)
            return True
        except asyncio.TimeoutError:
            return False
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    async def history(self, resource: ResourceCache, after: int,
                      until: int) -> AsyncIterator[list[WatchEvent]]:
        """Events of ``resource`` in (after, until], in batches, from the ring
        or, when it does not reach back far enough, from the store.

        The history kept is the store's: what it has compacted away is gone
        for watches too, even while the ring still holds it, so that the
        retention a user sets means one thing.
        """
        compacted = self.store.compact_revision()
        if after < compacted:
            raise CompactedError(compacted)
        if after >= resource.floor:
            yield [e for e in resource.ring if after < e.revision <= until]
            return
        while after < until:
            events = await self.store.history(resource.prefix, after, until,
                                              limit=HISTORY_PAGE)
            if events:
                yield [_replayed(resource.kind, event) for event in events]
            if len(events) < HISTORY_PAGE:
                return
            after = events[-1].kv.mod_revision


def _replayed(kind: Kind, event: Event) -> WatchEvent:
    """A change read back from the store, typed against the object before it:
    an update is MODIFIED, and a selector sees it enter or leave."""
    entry = Entry(kind, event.kv, orjson.loads(event.kv.value))
    prev = None
    if event.prev_kv is not None:
        prev = Entry(kind, event.prev_kv, orjson.loads(event.prev_kv.value))
    if event.type == "DELETE":
        type = "DELETED"
    else:
        type = "ADDED" if prev is None else "MODIFIED"
    return WatchEvent(type, entry, prev, entry.revision)


def resource_prefix(kind: Kind) -> str:
    if kind.group:
        return f"/registry/{kind.group}/{kind.resource}/"
    return f"/registry/{kind.resource}/"


def object_key(kind: Kind, namespace: str, name: str) -> str:
    prefix = resource_prefix(kind)
    return f"{prefix}{namespace}/{name}" if kind.namespaced else f"{prefix}{name}"
