"""The agent's API client (node/client.py): list+watch as client-go's reflector
does it, and status updates that retry on conflict."""

import asyncio

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from node.client import APIClient
from tests.node.helpers import run


def pod(name, rv):
    return {"metadata": {"name": name, "uid": name, "resourceVersion": rv}}


class FakePods:
    """A pods endpoint: two lists (rv 10, then 20) and three scripted watches."""

    def __init__(self):
        self.requests = []
        self.lists = iter([("10", [pod("a", "9")]), ("20", [pod("b", "19")])])
        self.watches = iter([
            [{"type": "ADDED", "object": pod("c", "11")},
             {"type": "MODIFIED", "object": pod("c", "12")}],
            [{"type": "ERROR", "object": {"kind": "Status", "code": 410,
                                          "reason": "Expired",
                                          "message": "too old resource version"}}],
            [{"type": "BOOKMARK", "object": pod("", "25")},
             {"type": "DELETED", "object": pod("b", "26")}],
        ])

    async def handle(self, request):
        query = dict(request.query)
        self.requests.append(query)
        if query.get("watch") != "true":
            rv, items = next(self.lists)
            return web.json_response({"metadata": {"resourceVersion": rv},
                                      "items": items})
        resp = web.StreamResponse()
        await resp.prepare(request)
        for event in next(self.watches, []):
            await resp.write(orjson.dumps(event) + b"\n")
        return resp


def test_list_watch_resumes_from_the_last_version_and_relists_on_410():
    pods = FakePods()

    async def scenario():
        app = web.Application()
        app.router.add_get("/api/v1/pods", pods.handle)
        seen = []
        async with TestServer(app) as server:
            async with APIClient(str(server.make_url(""))) as client:
                stop = asyncio.Event()
                params = {"fieldSelector": "spec.nodeName=n1"}
                async for event_type, obj in client.list_watch("/api/v1/pods",
                                                               params, stop):
                    names = ([p["metadata"]["name"] for p in obj]
                             if event_type == "LIST" else obj["metadata"]["name"])
                    seen.append((event_type, names))
                    if event_type == "DELETED":
                        stop.set()
        return seen

    seen = run(scenario())

    assert seen == [("LIST", ["a"]), ("ADDED", "c"), ("MODIFIED", "c"),
                    ("LIST", ["b"]), ("DELETED", "b")]
    versions = [(r.get("watch"), r.get("resourceVersion")) for r in pods.requests]
    assert versions == [(None, None), ("true", "10"), ("true", "12"), (None, None),
                        ("true", "20")]
    assert {r["fieldSelector"] for r in pods.requests} == {"spec.nodeName=n1"}


def test_update_status_retries_a_conflict_on_the_current_object():
    puts = []

    async def get(request):
        return web.json_response(pod("p", "8"))

    async def put(request):
        body = await request.json()
        puts.append(body["metadata"]["resourceVersion"])
        if body["metadata"]["resourceVersion"] != "8":
            return web.json_response({"kind": "Status", "code": 409,
                                      "reason": "Conflict", "message": "stale"},
                                     status=409)
        return web.json_response(dict(body, metadata=dict(body["metadata"],
                                                          resourceVersion="9")))

    async def scenario():
        app = web.Application()
        app.router.add_get("/api/v1/namespaces/d/pods/p", get)
        app.router.add_put("/api/v1/namespaces/d/pods/p/status", put)
        async with TestServer(app) as server:
            async with APIClient(str(server.make_url(""))) as client:
                return await client.update_status(
                    "/api/v1/namespaces/d/pods/p", pod("p", "7"),
                    lambda obj: obj.__setitem__("status", {"phase": "Running"}))

    updated = run(scenario())

    assert puts == ["7", "8"]
    assert (updated["metadata"]["resourceVersion"], updated["status"]) == (
        "9", {"phase": "Running"})


class EndingWatches:
    """A pods endpoint that lists rv 10 and ends each watch at once, sending the
    events scripted for it (none once the script runs out)."""

    def __init__(self, scripted: list[list[dict]] = ()):
        self.watches = 0
        self.lists = 0
        self.scripted = iter(scripted)

    async def handle(self, request):
        if request.query.get("watch") != "true":
            self.lists += 1
            return web.json_response({"metadata": {"resourceVersion": "10"},
                                      "items": []})
        self.watches += 1
        resp = web.StreamResponse()
        await resp.prepare(request)
        for event in next(self.scripted, []):
            await resp.write(orjson.dumps(event) + b"\n")
        return resp


def watch_until(pods: EndingWatches, sleeps: int, clock=lambda: 0.0) -> list[float]:
    """Run list_watch against ``pods`` until it has slept ``sleeps`` times; the
    delays it slept. The clock stands still unless told: every watch is short."""
    delays = []

    async def scenario():
        app = web.Application()
        app.router.add_get("/api/v1/pods", pods.handle)
        stop = asyncio.Event()

        async def sleep(seconds):
            delays.append(seconds)
            if len(delays) == sleeps:
                stop.set()

        async with TestServer(app) as server:
            async with APIClient(str(server.make_url("")), sleep=sleep,
                                 clock=clock) as client:
                async for _ in client.list_watch("/api/v1/pods", {}, stop):
                    pass

    # A client that spins never sleeps: the bound ends the test instead.
    run(asyncio.wait_for(scenario(), timeout=30))
    return delays


@pytest.fixture
def no_jitter(monkeypatch):
    monkeypatch.setattr("node.backoff.random.uniform", lambda low, high: 1.0)


def test_watches_that_end_at_once_are_reopened_after_growing_delays(no_jitter):
    pods = EndingWatches()

    delays = watch_until(pods, sleeps=10)

    assert delays == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30,
                                    30])
    assert (pods.lists, pods.watches) == (1, 10)


def test_a_watch_with_an_event_resets_the_delay(no_jitter):
    added = {"type": "ADDED", "object": pod("a", "11")}
    pods = EndingWatches([[], [], [], [added]])

    delays = watch_until(pods, sleeps=4)

    assert delays == pytest.approx([0.2, 0.4, 0.8, 0.2])
    assert pods.watches == 5


def test_a_watch_that_lasted_resets_the_delay(no_jitter):
    # The clock is read as each watch opens and ends: the fourth watch lasts 5 s.
    times = iter([0.0] * 7 + [5.0] * 100)
    pods = EndingWatches()

    delays = watch_until(pods, sleeps=4, clock=lambda: next(times))

    assert delays == pytest.approx([0.2, 0.4, 0.8, 0.2])
