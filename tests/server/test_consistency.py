"""No lost update under concurrent writers; nothing acknowledged lost on kill -9."""

from __future__ import annotations

import signal
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.server.helpers import API, configmap

CLIENTS = 16
INCREMENTS = 25


def increment(url: str, namespace: str) -> int:
    """Read-modify-write one annotation INCREMENTS times; returns conflicts met."""
    session = requests.Session()
    path = f"{url}/api/v1/namespaces/{namespace}/configmaps/counter"
    conflicts = done = 0
    while done < INCREMENTS:
        obj = session.get(path, timeout=30).json()
        annotations = obj["metadata"].setdefault("annotations", {})
        annotations["count"] = str(int(annotations.get("count", "0")) + 1)
        response = session.put(path, json=obj, timeout=30)
        if response.status_code == 409:
            conflicts += 1
            continue
        assert response.status_code == 200, response.text
        done += 1
    return conflicts


def test_concurrent_read_modify_write_loses_no_update(api_server, namespace):
    API(api_server.url).create("configmaps", namespace, configmap("counter"))

    with ThreadPoolExecutor(CLIENTS) as pool:
        conflicts = sum(pool.map(lambda _: increment(api_server.url, namespace),
                                 range(CLIENTS)))

    final = API(api_server.url).get("configmaps", namespace, "counter").json()
    assert final["metadata"]["annotations"]["count"] == str(CLIENTS * INCREMENTS)
    assert conflicts > 0  # the clients did race, and lost races were refused


PATCHERS = 48
PATCHES = 8


def test_concurrent_patches_without_a_version_all_land(api_server, namespace):
    """A patch that names no resourceVersion is retried by the server until it
    wins its race, as kube-apiserver does: no client sees a 409."""
    API(api_server.url).create("configmaps", namespace, configmap("hot"))
    path = f"{api_server.url}/api/v1/namespaces/{namespace}/configmaps/hot"

    def patch(client: int) -> list[int]:
        session = requests.Session()
        return [session.patch(
            path, data=f'{{"data": {{"k{client}-{n}": "v"}}}}', timeout=60,
            headers={"Content-Type": "application/merge-patch+json"}).status_code
            for n in range(PATCHES)]

    with ThreadPoolExecutor(PATCHERS) as pool:
        codes = [code for codes in pool.map(patch, range(PATCHERS)) for code in codes]

    assert codes == [200] * (PATCHERS * PATCHES)
    final = API(api_server.url).get("configmaps", namespace, "hot").json()
    assert len(final["data"]) == PATCHERS * PATCHES


def test_acknowledged_writes_survive_kill_9(start_server, tmp_path):
    data_dir = str(tmp_path / "durable")
    server = start_server(data_dir=data_dir)
    api = API(server.url)
    acknowledged = []
    with ThreadPoolExecutor(8) as pool:
        responses = pool.map(
            lambda n: api.create("configmaps", "default", configmap(f"d{n}")),
            range(200))
        for response in responses:
            assert response.status_code == 201
            acknowledged.append(response.json())
    last = max(int(o["metadata"]["resourceVersion"]) for o in acknowledged)

    server.stop(signal.SIGKILL)
    again = API(start_server(data_dir=data_dir).url)

    stored = {o["metadata"]["name"]: o for o in
              again.get("configmaps", "default").json()["items"]}
    for obj in acknowledged:
        assert stored[obj["metadata"]["name"]] == obj
    after = again.create("configmaps", "default", configmap("after")).json()
    assert int(after["metadata"]["resourceVersion"]) > last
