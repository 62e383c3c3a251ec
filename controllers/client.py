"""The controllers' API client: node.client's, plus patch and a few helpers."""

from __future__ import annotations

import aiohttp
import orjson

from node.client import (  # noqa: F401  (re-exported for the controllers)
    TRANSIENT, APIClient, APIError, Conflict, Gone, NotFound, error_from, pod_path)

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"


class ControllerClient(APIClient):
    """One aiohttp session for every controller of a process."""

    def __init__(self, server: str, token: str | None = None,
                 user_agent: str = "kctl-controller-manager"):
        super().__init__(server, token)
        self.headers["User-Agent"] = user_agent

    async def patch(self, path: str, patch: object,
                    content_type: str = MERGE_PATCH, timeout: float = 30) -> dict:
        async with self.session.patch(
                self.server + path, data=orjson.dumps(patch),
                headers={"Content-Type": content_type},
                timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            payload = await resp.read()
            if resp.status >= 400:
                raise error_from(resp.status, payload)
            return orjson.loads(payload) if payload else {}
