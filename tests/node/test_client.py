"""The agent's API client (node/client.py): list+watch as client-go's reflector
does it, and status updates that retry on conflict."""

import asyncio

import orjson
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
