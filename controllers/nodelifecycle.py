"""The nodelifecycle controller (being written: this stub only waits for stop)."""

from __future__ import annotations

import asyncio


class NodeLifecycleController:
    name = "nodelifecycle"

    def __init__(self, options):
        self.options = options

    async def run(self, client, stop: asyncio.Event) -> None:
        # TODO: the nodelifecycle is being written; until then it does nothing.
        await stop.wait()
