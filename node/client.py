"""The node agent's API client: requests, list+watch, status updates.

HTTP failures become a few typed errors carrying the server's Status message.
``list_watch`` lists, then watches from the list's resourceVersion, resumes
from the last resourceVersion it saw when a watch ends, and lists again when the
server answers 410 Gone, as client-go's reflector does. Failures back off
(doubling, capped), and so does a watch that keeps ending at once without an
event, so a server is never watched in a tight loop.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import AsyncIterator, Awaitable, Callable
from urllib.parse import quote

import aiohttp
import orjson

from node.backoff import RetryDelay

log = logging.getLogger("node.client")


class APIError(Exception):
    """An error answer of the API server, with its Status reason and message."""

    def __init__(self, code: int, reason: str, message: str):
        super().__init__(f"{code} {reason}: {message}")
        self.code = code
        self.reason = reason
        self.message = message


class NotFound(APIError):
    pass


class Conflict(APIError):
    pass


class Gone(APIError):
    pass


_ERRORS = {404: NotFound, 409: Conflict, 410: Gone}

# A watch that ends sooner than this without an event counts as a failure
# (controllers/informer.py uses the same threshold).
SHORT_WATCH = 1.0

# What a call to the API server can fail with that is worth retrying.
TRANSIENT = (APIError, aiohttp.ClientError, OSError, asyncio.TimeoutError)


def error_from(code: int, body: bytes) -> APIError:
    try:
        status = orjson.loads(body)
        reason, message = status.get("reason", ""), status.get("message", "")
    except (orjson.JSONDecodeError, AttributeError):
        reason, message = "", body.decode(errors="replace").strip()
    return _ERRORS.get(code, APIError)(code, reason, message)


def pod_path(namespace: str, name: str = "") -> str:
    path = f"/api/v1/namespaces/{quote(namespace)}/pods"
    return f"{path}/{quote(name)}" if name else path


class APIClient:
    """An aiohttp session bound to one API server."""

    def __init__(self, server: str, token: str | None = None,
                 sleep: Callable[[float], Awaitable] = asyncio.sleep,
                 clock: Callable[[], float] = time.monotonic):
        self.server = server.rstrip("/")
        # Injected, so that a test can see the delays between watches.
        self.sleep, self.clock = sleep, clock
        self.headers = {"Accept": "application/json",
                        "User-Agent": "kctl-node"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> "APIClient":
        self._session = aiohttp.ClientSession(
            headers=self.headers, read_bufsize=1 << 20,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10))
        return self

    async def __aexit__(self, *exc) -> None:
        if self._session is not None:
            await self._session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None, "use APIClient as an async context manager"
        return self._session

    async def request(self, method: str, path: str, body: object = None,
                      params: dict | None = None, timeout: float = 30) -> dict:
        data = orjson.dumps(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else None
        log.debug("request %s %s", method, path)
        async with self.session.request(
                method, self.server + path, data=data, params=params,
                headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            payload = await resp.read()
            if resp.status >= 400:
                raise error_from(resp.status, payload)
            return orjson.loads(payload) if payload else {}

    async def get(self, path: str, params: dict | None = None) -> dict:
        return await self.request("GET", path, params=params)

    async def create(self, path: str, obj: dict) -> dict:
        return await self.request("POST", path, obj)

    async def replace(self, path: str, obj: dict) -> dict:
        return await self.request("PUT", path, obj)

    async def delete(self, path: str, options: dict | None = None) -> dict:
        return await self.request("DELETE", path, options)

    async def update_status(self, path: str, obj: dict,
                            set_status: Callable[[dict], None]) -> dict:
        """PUT ``obj`` to ``path/status`` after ``set_status(obj)``; on 409, get the
        object again and retry, so the status lands on the current resourceVersion."""
        delay = RetryDelay(initial=0.05, cap=2.0)
        for _ in range(10):
            set_status(obj)
            try:
                return await self.replace(path + "/status", obj)
            except Conflict:
                await asyncio.sleep(delay())
                obj = await self.get(path)
        raise Conflict(409, "Conflict", f"status of {path} kept changing")

    async def list_watch(self, path: str, params: dict,
                         stop: asyncio.Event | None = None
                         ) -> AsyncIterator[tuple[str, object]]:
        """Yield ("LIST", items) after each list, then (type, object) per event."""
        delay = RetryDelay()
        resource_version = ""
        while stop is None or not stop.is_set():
            try:
                if not resource_version:
                    listed = await self.get(path, params)
                    resource_version = listed["metadata"].get("resourceVersion", "")
                    yield "LIST", listed.get("items") or []
                started, events = self.clock(), 0
                watch = self._watch(path, params, resource_version)
                async for event_type, obj in watch:
                    events += 1
                    version = obj.get("metadata", {}).get("resourceVersion")
                    if version:
                        resource_version = version
                    if event_type != "BOOKMARK":
                        yield event_type, obj
            except Gone:
                log.debug("watch %s: resourceVersion %s is gone; relisting",
                          path, resource_version)
                resource_version = ""
                continue
            except (aiohttp.ClientError, asyncio.TimeoutError, APIError,
                    orjson.JSONDecodeError) as err:
                wait = delay()
                log.debug("watch %s failed (%s); retrying in %.1fs", path, err, wait)
                await self.sleep(wait)
                continue
            await self._after_watch(path, delay, events, self.clock() - started)

    async def _after_watch(self, path: str, delay: RetryDelay, events: int,
                           lasted: float) -> None:
        """Back off after a watch that ended at once without events, as client-go's
        reflector does ("very short watch"): a server that ends every watch
        without an error must not be watched in a tight loop."""
        if events or lasted >= SHORT_WATCH:
            delay.reset()
            return
        wait = delay()
        log.debug("watch %s ended at once without events; watching again in %.1fs",
                  path, wait)
        await self.sleep(wait)

    async def _watch(self, path: str, params: dict, resource_version: str
                     ) -> AsyncIterator[tuple[str, dict]]:
        query = dict(params, watch="true", resourceVersion=resource_version,
                     allowWatchBookmarks="true",
                     # The reflector's spread of watch lengths: 5 to 10 minutes.
                     timeoutSeconds=str(random.randint(300, 600)))
        async with self.session.get(self.server + path, params=query) as resp:
            if resp.status >= 400:
                raise error_from(resp.status, await resp.read())
            async for line in resp.content:
                if not line.strip():
                    continue
                event = orjson.loads(line)
                if event.get("type") == "ERROR":
                    status = event.get("object") or {}
                    raise _ERRORS.get(status.get("code"), APIError)(
                        status.get("code", 500), status.get("reason", ""),
                        status.get("message", ""))
                yield event["type"], event["object"]
