"""Watch: a chunked stream of ``{"type", "object"}`` lines, one per change.

A watch registers with the resource's cache before it reads anything, so no
change falls between what it replays (the current objects, or the history
after the client's resourceVersion) and what it is sent live.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Callable

import orjson
from aiohttp import web

from server import tables
from server.cache import Entry, Watcher, WatchEvent
from server.errors import Gone, Timeout
from server.handlers import selection
from server.list_options import list_options
from server.request import (API, RequestInfo, query_bool, query_int,
                            wants_table)
from server.store import CompactedError

log = logging.getLogger(__name__)

# Without timeoutSeconds a watch ends after 30 to 60 minutes, as
# kube-apiserver's --min-request-timeout spreads them.
MIN_REQUEST_TIMEOUT = 1800


def _event_frame(type: str, data: bytes) -> bytes:
    return b'{"type":"' + type.encode() + b'","object":' + data + b"}\n"


class Stream:
    """One client's watch: how to encode and where to write."""

    def __init__(self, request: web.Request, info: RequestInfo,
                 response: web.StreamResponse):
        self.kind = info.kind
        self.response = response
        self.table = wants_table(request)
        self.include = request.query.get("includeObject", "Metadata")
        self.headers_sent = False

    def encode(self, type: str, entry: Entry, event: WatchEvent | None) -> bytes:
        if not self.table:
            return event.frame(type) if event else _event_frame(type, entry.data)
        if event and type == "DELETED" and event.type == "MODIFIED":
            entry = event.prev
        meta = {"resourceVersion": str(event.revision if event else entry.revision)}
        body = tables.table(self.kind, [entry], meta, self.include,
                            headers=not self.headers_sent)
        self.headers_sent = True
        return _event_frame(type, body)

    async def send(self, frame: bytes) -> None:
        await self.response.write(frame)


async def watch(request: web.Request, info: RequestInfo) -> web.StreamResponse:
    api = request.app[API]
    resource = api.cache.resource(info.kind)
    options = list_options(request, watch=True)
    match = _with_name(selection(request, info), info.name)
    since = options.revision
    timeout = query_int(request, "timeoutSeconds")
    if timeout is None:
        timeout = MIN_REQUEST_TIMEOUT * (1 + random.random())
    deadline = time.monotonic() + timeout  # the replay counts against it too
    bookmarks = query_bool(request, "allowWatchBookmarks")
    # Without sendInitialEvents a watch from a resourceVersion replays what
    # followed it; with it, the state at least as new is sent as ADDED events.
    send_initial = options.send_initial_events
    if send_initial is None:
        send_initial = since == 0
    fresh = await api.cache.wait_fresh(since)

    watcher = Watcher(resource, info.namespace, match or (lambda e: True))
    api.cache.register(watcher)
    revision = api.cache.revision
    initial = list(resource.select(info.namespace, match)) if send_initial else []
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    try:
        response.enable_chunked_encoding()
        await response.prepare(request)
        stream = Stream(request, info, response)
        if not fresh:
            # Once a watch is accepted kube-apiserver reports what fails it
            # as an ERROR event, as its watch cache does this one.
            error = Timeout.too_large_resource_version(since, revision)
            await stream.send(_event_frame("ERROR", orjson.dumps(error.status())))
            return response
        for entry in initial:
            await stream.send(stream.encode("ADDED", entry, None))
        if options.send_initial_events and bookmarks:
            # What client-go's WatchList waits for before it calls the
            # initial state synced (KEP-3157); kube's watch cache sends it to
            # a watch that allows bookmarks.
            await stream.send(_bookmark(stream.kind, revision, initial_end=True))
        elif since and not send_initial and since < revision:
            if not await _replay(api, resource, watcher, stream, since, revision):
                return response
        await _follow(watcher, stream, deadline, bookmarks,
                      api.options.watch_bookmark_interval, lambda: api.cache.revision)
        return response
    except ConnectionResetError:
        # The client went away mid-stream (a watch ended by its client, a
        # killed process): nothing to answer and nothing to log.
        return response
    finally:
        watcher.close()


def _with_name(match, name: str):
    if not name:
        return match
    if match is None:
        return lambda e: e.name == name
    return lambda e: e.name == name and match(e)


async def _replay(api, resource, watcher: Watcher, stream: Stream, since: int,
                  until: int) -> bool:
    """Send the history the client missed; False if it is compacted away."""
    try:
        async for history in api.cache.history(resource, since, until):
            frames = [stream.encode(seen, event.entry, event)
                      for event in history
                      if (seen := watcher.translate(event)) is not None]
            if frames:
                await stream.send(b"".join(frames))
    except CompactedError as compacted:
        error = Gone(f"too old resource version: {since} "
                     f"({compacted.compact_revision + 1})")
        await stream.send(_event_frame("ERROR", orjson.dumps(error.status())))
        return False
    return True


async def _follow(watcher: Watcher, stream: Stream, deadline: float,
                  bookmarks: bool, bookmark_interval: float,
                  current: Callable[[], int]) -> None:
    next_bookmark = time.monotonic() + bookmark_interval
    while True:
        now = time.monotonic()
        wait = deadline - now
        if bookmarks:
            wait = min(wait, next_bookmark - now)
        if wait <= 0 and now >= deadline:
            return
        try:
            item = await asyncio.wait_for(watcher.queue.get(), max(wait, 0))
        except asyncio.TimeoutError:
            # With nothing queued, every change up to the cache's revision
            # has been sent or filtered out: the client may resume from it.
            if bookmarks and time.monotonic() >= next_bookmark:
                await stream.send(_bookmark(stream.kind, current()))
                next_bookmark = time.monotonic() + bookmark_interval
            continue
        items = _queued(watcher.queue, item)
        frames = [stream.encode(seen, event.entry, event)
                  for seen, event in filter(None, items)]
        if frames:
            await stream.send(b"".join(frames))
        if items[-1] is None:
            return


def _queued(queue: asyncio.Queue, first) -> list:
    """The item waited for and every one queued behind it, up to the close.

    A store commit reaches the cache as one batch of events, all queued before
    this watcher runs: writing them as one chunk costs one send instead of
    one per event, which is most of a busy watch's cost.
    """
    items = [first]
    while items[-1] is not None and not queue.empty():
        items.append(queue.get_nowait())
    return items


def _bookmark(kind, revision: int, initial_end: bool = False) -> bytes:
    meta = {"resourceVersion": str(revision)}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    obj = {"kind": kind.kind, "apiVersion": kind.api_version, "metadata": meta}
    return _event_frame("BOOKMARK", orjson.dumps(obj))
