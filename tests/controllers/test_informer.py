"""The shared informer and work queue against a real API server."""

from __future__ import annotations

import asyncio

import requests

from controllers.client import ControllerClient
from controllers.informer import Informer, object_key
from controllers.workqueue import WorkQueue, process


def configmap(name: str, owner_uid: str | None = None) -> dict:
    meta = {"name": name}
    if owner_uid:
        meta["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap",
                                    "name": "owner", "uid": owner_uid}]
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}


async def until(predicate, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met"
        await asyncio.sleep(0.05)


def test_informer_lists_watches_and_indexes(api_server, namespace):
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    requests.post(api_server.url + path, json=configmap("before")).raise_for_status()
    seen: list[tuple[str, str]] = []

    async def scenario() -> None:
        stop = asyncio.Event()
        async with ControllerClient(api_server.url) as client:
            informer = Informer(client, path)
            informer.add_handlers(
                on_add=lambda o: seen.append(("add", object_key(o))),
                on_update=lambda old, new: seen.append(("update", object_key(new))),
                on_delete=lambda o: seen.append(("delete", object_key(o))))
            task = asyncio.create_task(informer.run(stop))
            assert await informer.wait_synced(30)
            assert [o["metadata"]["name"] for o in informer.list(namespace)] == [
                "before"]

            await client.create(path, configmap("owned", owner_uid="u-1"))
            await until(lambda: informer.owned_by("u-1"))
            await client.patch(f"{path}/owned", {"data": {"a": "b"}})
            await until(lambda: ("update", f"{namespace}/owned") in seen)
            await client.delete(f"{path}/owned")
            await until(lambda: ("delete", f"{namespace}/owned") in seen)
            stop.set()
            await task

            assert informer.owned_by("u-1") == []
            assert informer.get(namespace, "owned") is None
            assert informer.get(namespace, "before") is not None

    asyncio.run(scenario())

    assert seen == [("add", f"{namespace}/before"), ("add", f"{namespace}/owned"),
                    ("update", f"{namespace}/owned"), ("delete", f"{namespace}/owned")]


def test_informer_relist_reports_what_changed_while_away(api_server, namespace):
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    requests.post(api_server.url + path, json=configmap("stays")).raise_for_status()
    requests.post(api_server.url + path, json=configmap("goes")).raise_for_status()
    deleted: list[str] = []

    async def scenario() -> None:
        async with ControllerClient(api_server.url) as client:
            informer = Informer(client, path)
            informer.add_handlers(on_delete=lambda o: deleted.append(
                o["metadata"]["name"]))
            await informer._relist()
            await client.delete(f"{path}/goes")
            await informer._relist()
            assert [o["metadata"]["name"] for o in informer.list()] == ["stays"]

    asyncio.run(scenario())

    assert deleted == ["goes"]


def test_workqueue_holds_a_key_once_and_requeues_a_busy_one():
    synced: list[str] = []

    async def scenario() -> None:
        queue, stop = WorkQueue(), asyncio.Event()
        release = asyncio.Event()

        async def sync(key: str) -> None:
            synced.append(key)
            if len(synced) == 1:
                await release.wait()

        queue.add("a")
        queue.add("a")
        task = asyncio.create_task(process(queue, sync, stop, workers=3))
        await until(lambda: synced == ["a"])
        queue.add("a")  # while "a" is being processed: once more, later
        queue.add("a")
        await asyncio.sleep(0.1)
        assert synced == ["a"]
        release.set()
        await until(lambda: synced == ["a", "a"])
        await asyncio.sleep(0.1)
        stop.set()
        await task

    asyncio.run(scenario())

    assert synced == ["a", "a"]


def test_workqueue_retries_a_failing_key():
    attempts: list[str] = []

    async def scenario() -> None:
        queue, stop = WorkQueue(base_delay=0.01), asyncio.Event()

        async def sync(key: str) -> None:
            attempts.append(key)
            if len(attempts) < 3:
                raise RuntimeError("not yet")

        queue.add("k")
        task = asyncio.create_task(process(queue, sync, stop, workers=1))
        await until(lambda: len(attempts) == 3)
        stop.set()
        await task

    asyncio.run(scenario())

    assert attempts == ["k", "k", "k"]
