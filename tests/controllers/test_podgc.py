"""The pod garbage collector as a process against a real API server, with a
short quarantine: pods of nodes that do not exist are force-deleted."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
import requests

from tests.controllers.conftest import wait_for

QUARANTINE = 2.0


@pytest.fixture
def collector(api_server, start_controllers):
    start_controllers(api_server.url, "podgc",
                      f"--pod-gc-quarantine-time={QUARANTINE}s")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def make_node(api, name: str) -> None:
    api.post("/api/v1/nodes", {"apiVersion": "v1", "kind": "Node",
                               "metadata": {"name": name}})


def make_pod(api, namespace: str, node: str, name: str = "stranded") -> dict:
    return api.post(f"/api/v1/namespaces/{namespace}/pods", {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"nodeName": node, "containers": [
            {"name": "c", "image": "busybox", "command": ["sleep", "3600"]}]}})


def watch_pod(api, pod: dict) -> list[dict]:
    """Record the watch events of ``pod`` from its creation, in the background."""
    meta = pod["metadata"]
    response = requests.get(
        f"{api.url}/api/v1/namespaces/{meta['namespace']}/pods", stream=True,
        timeout=60, params={"watch": "true", "resourceVersion": meta["resourceVersion"],
                            "fieldSelector": f"metadata.name={meta['name']}"})
    seen: list[dict] = []

    def read():
        for line in response.iter_lines():
            seen.append(json.loads(line))
            if seen[-1]["type"] == "DELETED":
                return

    threading.Thread(target=read, daemon=True).start()
    return seen


def test_a_pod_of_a_node_never_registered_goes_after_the_quarantine(
        api, namespace, collector):
    pod = make_pod(api, namespace, unique("nowhere"))
    seen = watch_pod(api, pod)
    path = f"/api/v1/namespaces/{namespace}/pods/stranded"
    started = time.monotonic()

    wait_for(lambda: api.maybe(path) is None, timeout=15, message="pod deleted")

    assert time.monotonic() - started >= QUARANTINE - 0.5
    wait_for(lambda: seen and seen[-1]["type"] == "DELETED", timeout=5)
    failed = [e["object"] for e in seen if e["type"] == "MODIFIED"][-1]
    assert failed["status"]["phase"] == "Failed"
    target = next(c for c in failed["status"]["conditions"]
                  if c["type"] == "DisruptionTarget")
    assert {k: target[k] for k in ("status", "reason", "message")} == {
        "status": "True", "reason": "DeletionByPodGC",
        "message": "PodGC: node no longer exists"}


def test_a_terminating_pod_of_a_deleted_node_is_force_deleted(
        api, namespace, collector):
    node = unique("gone")
    make_node(api, node)
    make_pod(api, namespace, node)
    path = f"/api/v1/namespaces/{namespace}/pods/stranded"
    assert api.delete(path).ok  # no kubelet: it stays Terminating
    assert api.get(path)["metadata"]["deletionTimestamp"]
    time.sleep(QUARANTINE + 1)
    assert api.maybe(path) is not None  # its node still exists

    assert api.delete(f"/api/v1/nodes/{node}").ok

    wait_for(lambda: api.maybe(path) is None, timeout=15, message="pod deleted")


def test_a_node_that_registers_within_the_quarantine_keeps_its_pods(
        api, namespace, collector):
    node = unique("late")
    make_pod(api, namespace, node)
    time.sleep(QUARANTINE / 3)

    make_node(api, node)

    time.sleep(QUARANTINE + 1.5)
    pod = api.get(f"/api/v1/namespaces/{namespace}/pods/stranded")
    assert pod["status"]["phase"] == "Pending"
    assert not pod["metadata"].get("deletionTimestamp")
    api.delete(f"/api/v1/nodes/{node}")
