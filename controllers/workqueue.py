"""A work queue of object keys, with client-go's workqueue guarantees.

A key is in the queue at most once however often it is added; a key being
processed is never handed to a second worker, and when it is added meanwhile
it is queued again once ``done`` is called. ``add_rate_limited`` delays a key
that keeps failing (doubling per failure until ``forget``), as client-go's
per-item exponential limiter does. ``process`` runs workers over a queue.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Awaitable, Callable

log = logging.getLogger("controllers.workqueue")


class WorkQueue:
    def __init__(self, base_delay: float = 0.05, max_delay: float = 60.0):
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._queue: deque[str] = deque()
        self._queued: set[str] = set()
        self._processing: set[str] = set()
        self._dirty: set[str] = set()
        self._failures: dict[str, int] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._ready = asyncio.Condition()
        self._shut_down = False

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, key: str) -> None:
        if self._shut_down:
            return
        if key in self._processing:
            self._dirty.add(key)
        elif key not in self._queued:
            self._queued.add(key)
            self._queue.append(key)
            asyncio.get_running_loop().create_task(self._wake())

    def add_after(self, key: str, delay: float) -> None:
        """Add ``key`` after ``delay`` seconds; an earlier pending time wins."""
        if delay <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        timer = self._timers.get(key)
        if timer is not None and timer.when() <= loop.time() + delay:
            return
        if timer is not None:
            timer.cancel()
        self._timers[key] = loop.call_later(delay, self._fire, key)

    def add_rate_limited(self, key: str) -> None:
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        self.add_after(key, min(self.base_delay * 2 ** failures, self.max_delay))

    def forget(self, key: str) -> None:
        self._failures.pop(key, None)

    async def get(self) -> str | None:
        """The next key to process, or None once the queue is shut down."""
        async with self._ready:
            await self._ready.wait_for(lambda: self._queue or self._shut_down)
            if self._shut_down:
                return None
            key = self._queue.popleft()
            self._queued.discard(key)
            self._processing.add(key)
            return key

    def done(self, key: str) -> None:
        self._processing.discard(key)
        if key in self._dirty:
            self._dirty.discard(key)
            self.add(key)

    async def shut_down(self) -> None:
        self._shut_down = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        async with self._ready:
            self._ready.notify_all()

    def _fire(self, key: str) -> None:
        self._timers.pop(key, None)
        self.add(key)

    async def _wake(self) -> None:
        async with self._ready:
            self._ready.notify()


async def process(queue: WorkQueue, sync: Callable[[str], Awaitable[None]],
                  stop: asyncio.Event, workers: int = 5, name: str = "") -> None:
    """Run ``workers`` loops calling ``sync(key)`` until ``stop`` is set; a
    failing key is retried with ``add_rate_limited``."""
    async def worker() -> None:
        while (key := await queue.get()) is not None:
            try:
                await sync(key)
                queue.forget(key)
            except asyncio.CancelledError:
                raise
            except Exception as err:
                if _expected(err):
                    log.debug("%s: sync %s failed (%s); retrying", name, key, err)
                else:
                    log.error("%s: sync %s failed; retrying", name, key,
                              exc_info=True)
                queue.add_rate_limited(key)
            finally:
                queue.done(key)

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    try:
        await stop.wait()
    finally:
        await queue.shut_down()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _expected(err: Exception) -> bool:
    from controllers.client import TRANSIENT

    return isinstance(err, TRANSIENT)
