"""What the server keeps after it has answered: nothing of a large response.

aiohttp holds the last web.Response of a keep-alive connection until that
connection's next request; a list's body must not be part of it.
"""

from __future__ import annotations

import asyncio
import gc

import aiohttp
from aiohttp import web

from server.app import APIServer, ServerOptions, build_app
from server.handlers import STREAMED_BODY


def large_bodies_alive(marker: bytes) -> int:
    gc.collect()
    return sum(1 for o in gc.get_referents(*gc.get_objects())
               if isinstance(o, bytes) and len(o) >= STREAMED_BODY and marker in o)


async def list_over_many_connections(data_dir: str) -> tuple[int, int]:
    api = APIServer(ServerOptions(data_dir=data_dir, port=0))
    runner = web.AppRunner(build_app(api), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = "http://127.0.0.1:%d" % site._server.sockets[0].getsockname()[1]
    pods = url + "/api/v1/namespaces/default/pods"
    try:
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(_create(session, pods, i) for i in range(600)))

            async def list_once() -> int:
                async with session.get(pods) as response:
                    return len(await response.read())

            sizes = await asyncio.gather(*(list_once() for _ in range(4)))
            # The client's copies are gone; what is left is the server's.
            return min(sizes), large_bodies_alive(b'"kind":"PodList"')
    finally:
        await runner.cleanup()


async def _create(session: aiohttp.ClientSession, url: str, i: int) -> None:
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}"},
            "spec": {"containers": [{"name": "c", "image": "busybox",
                                     "command": ["sleep", "1"]}]}}
    async with session.post(url, json=body) as response:
        assert response.status == 201, await response.text()


def test_a_listed_body_is_not_kept_on_idle_connections(tmp_path):
    size, alive = asyncio.run(list_over_many_connections(str(tmp_path)))

    assert size >= STREAMED_BODY
    assert alive == 0
