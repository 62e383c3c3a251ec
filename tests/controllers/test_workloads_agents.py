"""A ReplicationController and a Deployment kept at 3 Running pods by the
controllers, with the scheduler placing the pods on a real node agent.

The module's cluster: a server, the scheduler, the replicationcontroller,
replicaset, deployment, garbagecollector and namespace controllers, and one
agent that runs each pod's ``sleep`` as a real process.
"""

from __future__ import annotations

import uuid

import pytest

from tests.controllers.agent_cluster import (  # noqa: F401  (fixtures)
    agent_cluster, namespace, phase, sleeper)
from tests.controllers.conftest import wait_for
from tests.node.conftest import container_processes

CONTROLLERS = ("scheduler,replicationcontroller,replicaset,deployment,"
               "garbagecollector,namespace")
RC = {"apiVersion": "v1", "kind": "ReplicationController",
      "path": "/api/v1/namespaces/{}/replicationcontrollers",
      "selector": lambda labels: labels}
DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment",
              "path": "/apis/apps/v1/namespaces/{}/deployments",
              "selector": lambda labels: {"matchLabels": labels}}
KINDS = [pytest.param(RC, id="rc"), pytest.param(DEPLOYMENT, id="deployment")]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    base = tmp_path_factory.mktemp("workloads-agents")
    with agent_cluster(base, CONTROLLERS, ["worker"]) as cluster:
        yield cluster


def create(cluster, namespace: str, kind: dict, marker: str) -> dict:
    labels = {"app": "web"}
    body = {"apiVersion": kind["apiVersion"], "kind": kind["kind"],
            "metadata": {"name": "web"},
            "spec": {"replicas": 3, "selector": kind["selector"](labels),
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [sleeper(marker)],
                                           "terminationGracePeriodSeconds": 1}}}}
    return cluster.post(kind["path"].format(namespace), body)


def running_pods(cluster, namespace: str) -> list[dict]:
    pods = cluster.get(f"/api/v1/namespaces/{namespace}/pods")["items"]
    return [p for p in pods
            if phase(p) == "Running" and not p["metadata"].get("deletionTimestamp")]


def wait_running(cluster, namespace: str, marker: str, count: int = 3,
                 without: str = "") -> list[dict]:
    """Wait for ``count`` Running pods (none named ``without``) and as many
    container processes; the pods."""
    def settled():
        pods = running_pods(cluster, namespace)
        names = {p["metadata"]["name"] for p in pods}
        processes = container_processes(f"MARKER={marker}")
        done = len(pods) == count and without not in names and len(processes) == count
        return pods if done else None
    return wait_for(settled, timeout=60, message=f"{count} Running pods")


@pytest.mark.parametrize("kind", KINDS)
def test_three_replicas_reach_three_running_pods(cluster, namespace, kind):
    marker = uuid.uuid4().hex

    create(cluster, namespace, kind, marker)

    pods = wait_running(cluster, namespace, marker)
    assert {p["spec"]["nodeName"] for p in pods} == {"worker"}
    path = kind["path"].format(namespace) + "/web"
    wait_for(lambda: cluster.get(path).get("status", {}).get("readyReplicas") == 3,
             message=f"{kind['kind']} status with 3 ready replicas")


@pytest.mark.parametrize("kind", KINDS)
def test_a_deleted_pod_is_replaced(cluster, namespace, kind):
    marker = uuid.uuid4().hex
    create(cluster, namespace, kind, marker)
    names = {p["metadata"]["name"] for p in wait_running(cluster, namespace, marker)}
    processes = set(container_processes(f"MARKER={marker}"))
    victim = sorted(names)[0]

    cluster.delete(f"/api/v1/namespaces/{namespace}/pods/{victim}")

    pods = wait_running(cluster, namespace, marker, without=victim)
    assert len({p["metadata"]["name"] for p in pods} - names) == 1
    assert len(set(container_processes(f"MARKER={marker}")) & processes) == 2
