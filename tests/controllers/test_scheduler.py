"""The scheduler as a process against a fresh server with simulated nodes.

Each test gets its own server (no controllers of its own), three simulated
nodes with 2 cpu and 4Gi each, and ``python -m controllers
--controllers=scheduler``; every process is ended by its pid afterwards.
"""

from __future__ import annotations

import pytest

from tests.controllers.conftest import API, _without_controllers, wait_for
from tests.node.simulated_nodes import SimulatedNodes

NS = "default"
SMALL = ("--capacity", "cpu=2,memory=4Gi")


@pytest.fixture
def cluster(start_server, start_controllers, tmp_path):
    server = start_server(*_without_controllers())
    nodes = SimulatedNodes(server.url, "node-", 3, tmp_path / "nodes.log")
    started = [nodes.start(*SMALL)]
    start_controllers(server.url, "scheduler")

    def add_nodes(prefix: str, count: int, *args: str) -> SimulatedNodes:
        more = SimulatedNodes(server.url, prefix, count, tmp_path / f"{prefix}.log")
        started.append(more.start(*args))
        return more

    api = API(server.url)
    api.add_nodes = add_nodes
    yield api
    for group in started:
        group.stop()


def pod(name: str, cpu: str = "", **spec) -> dict:
    container = {"name": "main", "image": "busybox"}
    if cpu:
        container["resources"] = {"requests": {"cpu": cpu}}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [container], **spec}}


def create(api: API, body: dict) -> dict:
    return api.post(f"/api/v1/namespaces/{NS}/pods", body)


def wait_pod(api: API, name: str, predicate, message: str) -> dict:
    path = f"/api/v1/namespaces/{NS}/pods/{name}"
    return wait_for(lambda: (lambda p: p if predicate(p) else None)(api.get(path)),
                    timeout=45, message=message)


def node_of(pod_: dict) -> str:
    return pod_["spec"].get("nodeName", "")


def condition(pod_: dict, kind: str) -> dict:
    return next((c for c in pod_.get("status", {}).get("conditions") or []
                 if c["type"] == kind), {})


def unschedulable(pod_: dict) -> str:
    """The PodScheduled=False/Unschedulable message, "" when not set."""
    cond = condition(pod_, "PodScheduled")
    if (cond.get("status"), cond.get("reason")) == ("False", "Unschedulable"):
        return cond.get("message", "")
    return ""


def events_of(api: API, name: str, reason: str) -> list[dict]:
    items = api.get(f"/api/v1/namespaces/{NS}/events")["items"]
    return [e for e in items
            if e["involvedObject"]["name"] == name and e["reason"] == reason]


def pinned_to(node: str) -> dict:
    term = {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In",
                                  "values": [node]}]}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [term]}}}


def test_pending_pod_is_bound_and_runs(cluster):
    create(cluster, pod("web"))

    running = wait_pod(cluster, "web", lambda p: p["status"].get("phase") == "Running",
                       "web to run")

    assert node_of(running) in ("node-0", "node-1", "node-2")
    assert condition(running, "PodScheduled")["status"] == "True"
    scheduled = wait_for(lambda: events_of(cluster, "web", "Scheduled"),
                         message="a Scheduled event")
    assert scheduled[0]["message"] == \
        f"Successfully assigned {NS}/web to {node_of(running)}"
    assert scheduled[0]["source"] == {"component": "default-scheduler"}
    assert scheduled[0]["type"] == "Normal"


def test_node_selector_picks_the_labelled_node(cluster):
    cluster.patch("/api/v1/nodes/node-1", {"metadata": {"labels": {"disk": "ssd"}}})

    create(cluster, pod("fast", nodeSelector={"disk": "ssd"}))

    bound = wait_pod(cluster, "fast", node_of, "fast to be bound")
    assert node_of(bound) == "node-1"


def test_taint_blocks_and_a_toleration_lets_through(cluster):
    cluster.patch("/api/v1/nodes/node-0", {"spec": {"taints": [
        {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]}})

    create(cluster, pod("plain", affinity=pinned_to("node-0")))
    create(cluster, pod("tolerant", affinity=pinned_to("node-0"), tolerations=[
        {"key": "dedicated", "operator": "Equal", "value": "gpu",
         "effect": "NoSchedule"}]))

    blocked = wait_pod(cluster, "plain", unschedulable, "plain to be unschedulable")
    assert unschedulable(blocked) == (
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, "
        "2 node(s) didn't match Pod's node affinity/selector.")
    assert node_of(wait_pod(cluster, "tolerant", node_of, "tolerant bound")) == "node-0"


def test_insufficient_cpu_gives_the_message_and_an_event(cluster):
    create(cluster, pod("greedy", cpu="3", affinity=pinned_to("node-2")))

    pending = wait_pod(cluster, "greedy", unschedulable, "greedy unschedulable")

    message = ("0/3 nodes are available: 1 Insufficient cpu, "
               "2 node(s) didn't match Pod's node affinity/selector.")
    assert unschedulable(pending) == message
    assert pending["status"]["phase"] == "Pending" and not node_of(pending)
    failed = wait_for(lambda: events_of(cluster, "greedy", "FailedScheduling"),
                      message="a FailedScheduling event")
    assert len(failed) == 1
    assert failed[0]["message"] == message
    assert failed[0]["type"] == "Warning"
    assert failed[0]["source"] == {"component": "default-scheduler"}
    assert failed[0]["reportingComponent"] == "default-scheduler"


def test_bound_pods_take_their_requests(cluster):
    for index in range(3):
        create(cluster, pod(f"half-{index}", cpu="1500m"))
    for index in range(3):
        wait_pod(cluster, f"half-{index}", node_of, f"half-{index} bound")

    create(cluster, pod("one-more", cpu="1"))

    nodes = [node_of(cluster.get(f"/api/v1/namespaces/{NS}/pods/half-{i}"))
             for i in range(3)]
    assert sorted(nodes) == ["node-0", "node-1", "node-2"]
    pending = wait_pod(cluster, "one-more", unschedulable, "one-more unschedulable")
    assert unschedulable(pending) == "0/3 nodes are available: 3 Insufficient cpu."

    cluster.delete(f"/api/v1/namespaces/{NS}/pods/half-1", gracePeriodSeconds=0)

    assert node_of(wait_pod(cluster, "one-more", node_of, "one-more bound")) == nodes[1]


def test_a_pending_pod_is_bound_when_a_fitting_node_joins(cluster):
    create(cluster, pod("large", cpu="6"))
    wait_pod(cluster, "large", unschedulable, "large unschedulable")

    cluster.add_nodes("big-", 1, "--capacity", "cpu=8,memory=16Gi")

    bound = wait_pod(cluster, "large", node_of, "large bound")
    assert node_of(bound) == "big-0"
    wait_pod(cluster, "large", lambda p: p["status"].get("phase") == "Running",
             "large to run")


def test_cordoned_node_is_skipped(cluster):
    for name in ("node-0", "node-1"):
        cluster.patch(f"/api/v1/nodes/{name}", {"spec": {"unschedulable": True}})

    create(cluster, pod("elsewhere"))

    assert node_of(wait_pod(cluster, "elsewhere", node_of, "bound")) == "node-2"


def test_other_schedulers_pods_are_left_alone(cluster):
    create(cluster, pod("mine"))
    create(cluster, pod("theirs", schedulerName="other-scheduler"))

    wait_pod(cluster, "mine", node_of, "mine bound")

    theirs = cluster.get(f"/api/v1/namespaces/{NS}/pods/theirs")
    assert not node_of(theirs) and not unschedulable(theirs)
