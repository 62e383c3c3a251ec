"""Simulated nodes (``kctl node --simulate``) against a real API server."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
import requests

from tests.node.helpers import wait_for
from tests.node.simulated_nodes import SimulatedNodes

LEASES = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"


@pytest.fixture
def server(start_server):
    return start_server("--no-controllers")


@pytest.fixture
def sim(server, tmp_path):
    nodes = SimulatedNodes(server.url, "sim-", 3, tmp_path / "sim.log").start()
    yield nodes
    nodes.stop()


def get(server, path: str) -> dict:
    response = requests.get(server.url + path, timeout=10)
    response.raise_for_status()
    return response.json()


def create_pod(server, name: str, node: str, namespace: str = "default",
               **spec) -> dict:
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "x"}],
                     **spec}}
    response = requests.post(f"{server.url}/api/v1/namespaces/{namespace}/pods",
                             json=body, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def pod_or_none(server, name: str, namespace: str = "default") -> dict | None:
    response = requests.get(f"{server.url}/api/v1/namespaces/{namespace}/pods/{name}",
                            timeout=10)
    return response.json() if response.ok else None


def is_running(pod: dict | None) -> bool:
    return bool(pod) and pod["status"].get("phase") == "Running"


def test_nodes_register_like_the_real_agents(server, sim):
    names = [n["metadata"]["name"] for n in get(server, "/api/v1/nodes")["items"]]
    node = get(server, "/api/v1/nodes/sim-1")

    assert sorted(names) == ["sim-0", "sim-1", "sim-2"]
    assert node["metadata"]["labels"]["kubernetes.io/hostname"] == "sim-1"
    assert node["metadata"]["labels"]["kubernetes.io/os"] == "linux"
    status = node["status"]
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "MemoryPressure": "False", "DiskPressure": "False", "PIDPressure": "False",
        "Ready": "True"}
    assert status["nodeInfo"]["containerRuntimeVersion"].startswith("simulated://")
    assert status["nodeInfo"]["kubeletVersion"].startswith("kctl-")
    assert status["capacity"] == {"cpu": "32", "memory": "256Gi",
                                  "ephemeral-storage": "100Gi", "pods": "110"}
    assert status["allocatable"] == status["capacity"]
    assert {"type": "InternalIP", "address": "127.0.0.1"} in status["addresses"]


def lease(server, name: str) -> dict | None:
    response = requests.get(f"{server.url}{LEASES}/{name}", timeout=10)
    return response.json() if response.ok else None


def test_every_node_renews_its_lease(server, sim):
    first = {name: wait_for(lambda: lease(server, name), timeout=30)
             for name in sim.names}

    for name, before in first.items():
        renewed = wait_for(lambda: (lambda now: now["spec"]["renewTime"]
                                    != before["spec"]["renewTime"] and now)(
            get(server, f"{LEASES}/{name}")), timeout=30)
        assert renewed["spec"]["holderIdentity"] == name
        assert renewed["spec"]["leaseDurationSeconds"] == 4
        assert renewed["metadata"]["ownerReferences"][0]["name"] == name


def test_a_bound_pod_runs_with_the_agents_status(server, sim):
    create_pod(server, "web", "sim-0", initContainers=[{"name": "init", "image": "x"}])

    pod = wait_for(lambda: (lambda p: p if is_running(p) else None)(
        pod_or_none(server, "web")), timeout=30)

    status = pod["status"]
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "PodReadyToStartContainers": "True", "Initialized": "True", "Ready": "True",
        "ContainersReady": "True", "PodScheduled": "True"}
    container = status["containerStatuses"][0]
    assert container["name"] == "c"
    assert (container["ready"], container["started"], container["restartCount"]) \
        == (True, True, 0)
    assert "running" in container["state"]
    assert status["initContainerStatuses"][0]["state"]["terminated"]["exitCode"] == 0
    assert status["hostIP"] == status["podIP"] == "127.0.0.1"
    assert status["startTime"]
    assert status["qosClass"] == "BestEffort"


def test_pods_of_other_nodes_are_left_alone(server, sim):
    requests.post(f"{server.url}/api/v1/nodes", timeout=10, json={
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": "elsewhere"}})
    create_pod(server, "theirs", "elsewhere")
    create_pod(server, "ours", "sim-2")

    wait_for(lambda: is_running(pod_or_none(server, "ours")), timeout=30)

    assert pod_or_none(server, "theirs")["status"].get("phase") == "Pending"


def test_a_deleted_pod_is_removed_at_once(server, sim):
    create_pod(server, "gone", "sim-1")
    wait_for(lambda: is_running(pod_or_none(server, "gone")), timeout=30)

    response = requests.delete(f"{server.url}/api/v1/namespaces/default/pods/gone",
                               json={"gracePeriodSeconds": 30}, timeout=10)

    assert response.ok
    wait_for(lambda: pod_or_none(server, "gone") is None, timeout=30)


def test_restarted_nodes_take_over_and_keep_added_labels(server, sim, tmp_path):
    requests.patch(f"{server.url}/api/v1/nodes/sim-0", timeout=10,
                   json={"metadata": {"labels": {"team": "a"}}},
                   headers={"Content-Type": "application/merge-patch+json"})
    sim.stop()

    again = SimulatedNodes(server.url, "sim-", 3, tmp_path / "again.log").start()
    try:
        node = get(server, "/api/v1/nodes/sim-0")
        assert node["metadata"]["labels"]["team"] == "a"
        assert node["metadata"]["labels"]["kubernetes.io/hostname"] == "sim-0"
    finally:
        again.stop()


def test_real_and_simulated_nodes_share_a_cluster(api_server, start_agent, namespace,
                                                  tmp_path):
    real = start_agent()
    prefix = "sim-" + uuid.uuid4().hex[:6] + "-"
    sim = SimulatedNodes(api_server.url, prefix, 1, tmp_path / "sim.log").start()
    try:
        create_pod(api_server, "on-real", real.name, namespace,
                   containers=[{"name": "c", "image": "x",
                                "command": ["sleep", "30"]}])
        create_pod(api_server, "on-sim", sim.names[0], namespace)

        for name in ("on-real", "on-sim"):
            wait_for(lambda: is_running(pod_or_none(api_server, name, namespace)),
                     timeout=30)
    finally:
        # The agent fixture waits for the namespace's pods to go: ours first.
        requests.delete(f"{api_server.url}/api/v1/namespaces/{namespace}/pods/on-sim",
                        timeout=10)
        wait_for(lambda: pod_or_none(api_server, "on-sim", namespace) is None,
                 timeout=30)
        sim.stop()
        requests.delete(f"{api_server.url}/api/v1/nodes/{sim.names[0]}", timeout=10)
        requests.delete(f"{api_server.url}{LEASES}/{sim.names[0]}", timeout=10)


def test_a_bad_capacity_is_one_line_and_exit_2():
    done = subprocess.run(
        [sys.executable, "-m", "node", "--simulate", "--capacity", "cpu=lots"],
        capture_output=True, text=True, timeout=60)

    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "Error: Invalid value for '--capacity': expected NAME=QUANTITY, got 'cpu=lots'")
    assert "Traceback" not in done.stderr
