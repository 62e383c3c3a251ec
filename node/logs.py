"""The agent's HTTP endpoint: container logs as the kubelet serves them, exec
(see :mod:`node.exec`) and /healthz.

``GET /containerLogs/{namespace}/{pod}/{container}`` takes the query of a
PodLogOptions (follow, previous, timestamps, tailLines, sinceSeconds,
sinceTime, limitBytes, and the old ``tail``) and answers the log as plain text,
streaming while ``follow`` is set and the container runs. Errors are plain
text with the kubelet's messages; the API server proxies ``pods/log`` here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from aiohttp import web

from node.exec import serve_exec
from node.pods import LogUnavailable, PodWorker
from node.runtime.logfile import LogFile, Record, parse_record, parse_rfc3339, \
    run_files

log = logging.getLogger("node.logs")

_TRUE = {"1", "t", "T", "true", "TRUE", "True"}
_FALSE = {"0", "f", "F", "false", "FALSE", "False"}


class BadQuery(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class LogOptions:
    follow: bool = False
    previous: bool = False
    timestamps: bool = False
    tail_lines: int | None = None
    since_nanos: int | None = None
    limit_bytes: int | None = None


def _bool(query, name: str) -> bool:
    value = query.get(name, "false")
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise BadQuery(400, '{"message": "Unable to decode query."}')


def _int(query, name: str) -> int | None:
    if name not in query:
        return None
    try:
        return int(query[name])
    except ValueError:
        raise BadQuery(400, '{"message": "Unable to decode query."}') from None


def parse_options(query, now: Callable[[], float] = time.time) -> LogOptions:
    """PodLogOptions from a query, validated as ValidatePodLogOptions does."""
    query = dict(query)
    if query.get("tail"):  # the kubelet's old name for tailLines; "all" = no limit
        if query["tail"] != "all":
            query["tailLines"] = query["tail"]
    options = LogOptions(_bool(query, "follow"), _bool(query, "previous"),
                         _bool(query, "timestamps"), _int(query, "tailLines"),
                         None, _int(query, "limitBytes"))
    since_seconds = _int(query, "sinceSeconds")
    invalid = BadQuery(422, '{"message": "Invalid request."}')
    if since_seconds is not None and query.get("sinceTime"):
        raise invalid
    if (options.tail_lines is not None and options.tail_lines < 0) or \
            (options.limit_bytes is not None and options.limit_bytes < 1) or \
            (since_seconds is not None and since_seconds < 1):
        raise invalid
    if since_seconds is not None:
        options.since_nanos = int((now() - since_seconds) * 1e9)
    elif query.get("sinceTime"):
        try:
            options.since_nanos = parse_rfc3339(query["sinceTime"])
        except ValueError:
            raise BadQuery(400, '{"message": "Unable to decode query."}') from None
    return options


class _Tail:
    """Reads records from a file handle, keeping a line still being written."""

    def __init__(self, path: Path):
        self.handle = open(path, "rb")
        self._pending = b""

    def records(self) -> Iterator[Record]:
        data = self._pending + self.handle.read()
        lines = data.split(b"\n")
        self._pending = lines.pop()
        for line in lines:
            record = parse_record(line)
            if record is not None:
                yield record

    def close(self) -> None:
        self.handle.close()


class LogStream:
    """Writes one log request's records to a response, honouring the options."""

    def __init__(self, resp: web.StreamResponse, options: LogOptions):
        self.resp = resp
        self.options = options
        self.left = options.limit_bytes

    def done(self) -> bool:
        return self.left is not None and self.left <= 0

    async def write(self, records: Iterator[Record]) -> None:
        chunk = bytearray()
        for record in records:
            if self.options.since_nanos and record.nanos < self.options.since_nanos:
                continue
            data = record.render(self.options.timestamps)
            if self.left is not None:
                data = data[:self.left]
                self.left -= len(data)
            chunk += data
            if self.done():
                break
        if chunk:
            await self.resp.write(bytes(chunk))

    async def copy(self, log_dir: Path, index: int, live: LogFile | None) -> None:
        files = run_files(log_dir, index)
        waiter = live.waiter() if live else None
        history: Iterator[Record] | deque = self._history(files[:-1])
        current = _Tail(files[-1]) if files else None
        if current is not None:
            history = _chain(history, current.records())
        if self.options.tail_lines is not None:
            history = deque(history, maxlen=self.options.tail_lines)
        await self.write(iter(history))
        if self.options.follow and live is not None and current is not None:
            current = await self._follow(live, current, waiter)
        if current is not None:
            current.close()

    @staticmethod
    def _history(paths: list[Path]) -> Iterator[Record]:
        for path in paths:
            tail = _Tail(path)
            yield from tail.records()
            tail.close()

    async def _follow(self, live: LogFile, current: _Tail,
                      waiter: asyncio.Event) -> _Tail:
        generation = live.generation
        while not self.done():
            if live.generation != generation:
                # Rotated: finish the old file through the open handle, then go
                # on with the new one.
                await self.write(current.records())
                current.close()
                current = _Tail(live.path)
                generation = live.generation
            elif live.closed:
                await self.write(current.records())
                return current
            else:
                await waiter.wait()
                waiter = live.waiter()
            await self.write(current.records())
        return current


def _chain(*iterators: Iterator[Record]) -> Iterator[Record]:
    for iterator in iterators:
        yield from iterator


def make_app(find: Callable[[str, str], PodWorker | None]) -> web.Application:
    """The endpoint's application; ``find(namespace, name)`` gives a pod's worker."""

    async def container_logs(request: web.Request) -> web.StreamResponse:
        namespace = request.match_info["namespace"]
        pod = request.match_info["pod"]
        container = request.match_info["container"]
        log.debug("request GET containerLogs %s/%s/%s %s", namespace, pod, container,
                  request.query_string)
        try:
            options = parse_options(request.query)
        except BadQuery as err:
            return web.Response(status=err.status, text=str(err))
        worker = find(namespace, pod)
        if worker is None:
            return web.Response(status=404, text=f'pod "{pod}" does not exist')
        if worker.spec_of(container) is None:
            return web.Response(status=404,
                                text=f'container "{container}" not found in pod "{pod}"')
        try:
            log_dir, index, live = worker.log_target(container, options.previous)
        except LogUnavailable as err:
            return web.Response(status=400, text=str(err))
        resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        await LogStream(resp, options).copy(log_dir, index, live)
        await resp.write_eof()
        return resp

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def exec_in_container(request: web.Request) -> web.StreamResponse:
        return await serve_exec(request, find)

    app = web.Application()
    app.router.add_get("/containerLogs/{namespace}/{pod}/{container}", container_logs)
    app.router.add_get("/exec/{namespace}/{pod}/{container}", exec_in_container)
    app.router.add_get("/healthz", healthz)
    return app


async def serve(app: web.Application, address: str, port: int
                ) -> tuple[web.AppRunner, int]:
    """Start the endpoint; return its runner and the port it got."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, address, port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # the port 0 resolved to
    return runner, bound
