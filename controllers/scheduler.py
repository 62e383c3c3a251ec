"""The scheduler controller (being written: this stub only waits for stop)."""

from __future__ import annotations

import asyncio


class Scheduler:
    name = "scheduler"

    def __init__(self, options):
        self.options = options

    async def run(self, client, stop: asyncio.Event) -> None:
        # TODO: the scheduler is being written; until then it does nothing.
        await stop.wait()
