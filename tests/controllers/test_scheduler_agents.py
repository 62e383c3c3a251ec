"""The scheduler placing pods on three real node agents.

The module's cluster: a server, ``--controllers=scheduler,namespace`` and three
agents. ``node-a`` is labelled ``disk=ssd``, ``node-c`` has the taint
``dedicated=gpu:NoSchedule``; each node has the machine's cpus, so a pod that
asks for one more fits none. The pods run ``sleep`` as real processes.
"""

from __future__ import annotations

import uuid

import pytest

from tests.controllers.agent_cluster import (  # noqa: F401  (fixtures)
    agent_cluster, namespace, phase, sleeper)
from tests.controllers.conftest import wait_for
from tests.controllers.test_scheduler import condition, node_of, unschedulable
from tests.node.conftest import container_processes

NODES = ["node-a", "node-b", "node-c"]
GPU_TAINT = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
TOLERATES_GPU = [{"key": "dedicated", "operator": "Equal", "value": "gpu",
                  "effect": "NoSchedule"}]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    base = tmp_path_factory.mktemp("scheduler-agents")
    with agent_cluster(base, "scheduler,namespace", NODES) as cluster:
        cluster.patch("/api/v1/nodes/node-a", {"metadata": {"labels": {"disk": "ssd"}}})
        cluster.patch("/api/v1/nodes/node-c", {"spec": {"taints": [GPU_TAINT]}})
        yield cluster


def create(cluster, namespace: str, name: str, marker: str = "", cpu: str = "",
           **spec) -> dict:
    container = sleeper(marker or name)
    if cpu:
        container["resources"] = {"requests": {"cpu": cpu}}
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [container], "terminationGracePeriodSeconds": 1,
                     **spec}}
    return cluster.post(f"/api/v1/namespaces/{namespace}/pods", body)


def wait_pod(cluster, namespace: str, name: str, predicate, message: str) -> dict:
    path = f"/api/v1/namespaces/{namespace}/pods/{name}"
    return wait_for(lambda: (lambda p: p if predicate(p) else None)(cluster.get(path)),
                    timeout=45, message=message)


def running(pod: dict) -> bool:
    return phase(pod) == "Running"


def pinned_to(node: str) -> dict:
    return {"kubernetes.io/hostname": node}


def test_a_pod_without_a_node_is_bound_and_runs_a_process(cluster, namespace):
    marker = uuid.uuid4().hex

    create(cluster, namespace, "web", marker)

    pod = wait_pod(cluster, namespace, "web", running, "web to run")
    assert node_of(pod) in ("node-a", "node-b")  # node-c's taint keeps it off
    assert condition(pod, "PodScheduled")["status"] == "True"
    assert len(container_processes(f"MARKER={marker}")) == 1


def test_node_selector_picks_the_labelled_node(cluster, namespace):
    create(cluster, namespace, "fast", nodeSelector={"disk": "ssd"})

    pod = wait_pod(cluster, namespace, "fast", running, "fast to run")

    assert node_of(pod) == "node-a"


def test_a_taint_keeps_a_pod_off(cluster, namespace):
    create(cluster, namespace, "plain", nodeSelector=pinned_to("node-c"))

    pod = wait_pod(cluster, namespace, "plain", unschedulable, "plain unschedulable")

    assert unschedulable(pod) == (
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, "
        "2 node(s) didn't match Pod's node affinity/selector.")
    assert phase(pod) == "Pending" and not node_of(pod)


def test_a_toleration_lets_a_pod_onto_the_tainted_node(cluster, namespace):
    create(cluster, namespace, "tolerant", nodeSelector=pinned_to("node-c"),
           tolerations=TOLERATES_GPU)

    pod = wait_pod(cluster, namespace, "tolerant", running, "tolerant to run")

    assert node_of(pod) == "node-c"


def test_a_pod_asking_more_cpu_than_any_node_has_is_unschedulable(cluster,
                                                                  namespace):
    cpus = int(cluster.get("/api/v1/nodes/node-a")["status"]["allocatable"]["cpu"])

    create(cluster, namespace, "greedy", cpu=str(cpus + 1), tolerations=TOLERATES_GPU)

    pod = wait_pod(cluster, namespace, "greedy", unschedulable, "greedy unschedulable")
    assert unschedulable(pod) == "0/3 nodes are available: 3 Insufficient cpu."
    assert phase(pod) == "Pending" and not node_of(pod)
