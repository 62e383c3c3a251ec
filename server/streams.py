"""Streams that are not watches (a followed pods/log, a pods/exec relay), ended
together when the server stops.

Such a stream lasts as long as its container or its client: a quiet
``kctl logs -f`` would hold the stop for aiohttp's whole shutdown timeout. The
server's stop sets ``closing``; each stream waits on it beside its own work and
ends cleanly (the log's chunked body is finished, the WebSocket closed with
1001 Going Away), as kube-apiserver ends its long requests on shutdown.
"""

from __future__ import annotations

import asyncio
from typing import Awaitable


class Streams:
    def __init__(self) -> None:
        self.closing = asyncio.Event()

    def close(self) -> None:
        """End every stream now, and any that starts later at once."""
        self.closing.set()

    async def until_closed(self, *work: Awaitable) -> bool:
        """Run ``work`` until the first of it ends or the streams close; cancel
        the rest. True when the close came first."""
        tasks = [asyncio.ensure_future(w) for w in work]
        closing = asyncio.ensure_future(self.closing.wait())
        try:
            await asyncio.wait([*tasks, closing], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (*tasks, closing):
                task.cancel()
            await asyncio.gather(*tasks, closing, return_exceptions=True)
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception():
                raise task.exception()
        return self.closing.is_set()
