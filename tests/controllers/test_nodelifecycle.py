"""The node lifecycle controller: its taints by rule, then with real
node agents against ``kctl serve`` with short timings set through its flags."""

from __future__ import annotations

import pytest
import requests

from controllers.nodelifecycle import _unknown_conditions, _wanted_taints
from tests.controllers.conftest import wait_for
from tests.node.conftest import Agent
from tests.node.helpers import group_alive, kill_group


# The rules.

@pytest.mark.parametrize("ready,keys", [
    ("Unknown", ["node.kubernetes.io/unreachable"] * 2),
    ("False", ["node.kubernetes.io/not-ready"] * 2),
    ("True", []),
], ids=["unknown", "not-ready", "ready"])
def test_taints_follow_the_ready_condition(ready, keys):
    node = {"status": {"conditions": [{"type": "Ready", "status": ready}]}}
    others = [{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"},
              {"key": "example.com/mine", "effect": "NoSchedule"}]

    taints = _wanted_taints(node, others if ready != "False" else others[1:])

    assert taints[0] == {"key": "example.com/mine", "effect": "NoSchedule"}
    assert [t["key"] for t in taints[1:]] == keys
    assert [t["effect"] for t in taints[1:]] == ["NoSchedule", "NoExecute"][:len(keys)]
    assert all("timeAdded" in t for t in taints[1:] if t["effect"] == "NoExecute")


def test_unknown_conditions_keep_the_heartbeat():
    status = {"conditions": [
        {"type": "Ready", "status": "True", "reason": "KubeletReady",
         "lastHeartbeatTime": "2030-01-01T00:00:00Z"},
        {"type": "MemoryPressure", "status": "False"}]}

    before = _unknown_conditions(status)

    assert before == {"Ready": "True", "MemoryPressure": "False"}
    ready, memory = status["conditions"]
    assert (ready["status"], ready["reason"], ready["message"]) == (
        "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.")
    assert ready["lastHeartbeatTime"] == "2030-01-01T00:00:00Z"
    assert memory["status"] == "Unknown"


# With node agents.

# Pods of a lost node go by the taint eviction controller, as in kube.
FAST_NODES = ("--controllers=nodelifecycle,tainteviction,scheduler,"
              "replicationcontroller",
              "--node-monitor-grace-period=3s", "--node-monitor-period=500ms",
              "--pod-eviction-timeout=2s")


@pytest.fixture
def agents(tmp_path):
    """Start node agents against a URL; all stopped, their containers killed."""
    started: list[Agent] = []

    def start(url: str, name: str) -> Agent:
        agent = Agent(url, name, tmp_path / name)
        started.append(agent)
        return agent.start()

    yield start
    for agent in started:
        agent.stop()
        for pid in agent.record_pids() | agent.seen_pids:
            if group_alive(pid):
                kill_group(pid)


def node(url: str, name: str) -> dict:
    return requests.get(f"{url}/api/v1/nodes/{name}", timeout=30).json()


def condition(obj: dict, kind: str) -> dict:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond["type"] == kind:
            return cond
    return {}


def pods(url: str, namespace: str) -> list[dict]:
    return requests.get(f"{url}/api/v1/namespaces/{namespace}/pods",
                        timeout=30).json()["items"]


def sleeper(name: str, node_name: str = "") -> dict:
    spec = {"containers": [{"name": "c", "image": "sleep",
                            "command": ["sleep", "3600"]}],
            "terminationGracePeriodSeconds": 1}
    if node_name:
        spec["nodeName"] = node_name
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": spec}


def ready(url: str, namespace: str, name: str) -> bool:
    pod = requests.get(f"{url}/api/v1/namespaces/{namespace}/pods/{name}",
                       timeout=30).json()
    return condition(pod, "Ready").get("status") == "True"


def test_a_silent_node_goes_unknown_its_pods_go_and_it_comes_back(
        start_server, agents, tmp_path):
    server = start_server(*FAST_NODES)
    url = server.url
    first = agents(url, "first")
    agents(url, "second")
    requests.post(f"{url}/api/v1/namespaces", json={"metadata": {"name": "work"}},
                  timeout=30)
    requests.post(f"{url}/api/v1/namespaces/work/pods", json=sleeper("victim", "first"),
                  timeout=30)
    wait_for(lambda: ready(url, "work", "victim"), message="victim Ready")

    first.stop()

    silent = wait_for(lambda: (n := node(url, "first")) and condition(
        n, "Ready").get("status") == "Unknown" and n, message="first Unknown")
    assert {k: condition(silent, "Ready")[k] for k in ("reason", "message")} == {
        "reason": "NodeStatusUnknown",
        "message": "Kubelet stopped posting node status."}
    tainted = wait_for(lambda: (n := node(url, "first")) and len(
        n["spec"].get("taints") or []) == 2 and n, message="first tainted")
    assert sorted((t["key"], t["effect"], "timeAdded" in t)
                  for t in tainted["spec"]["taints"]) == [
        ("node.kubernetes.io/unreachable", "NoExecute", True),
        ("node.kubernetes.io/unreachable", "NoSchedule", False)]
    victim_url = f"{url}/api/v1/namespaces/work/pods/victim"
    victim = wait_for(lambda: (p := requests.get(victim_url, timeout=30).json())[
        "metadata"].get("deletionTimestamp") and p, message="victim evicted")
    assert condition(victim, "Ready")["status"] == "False"
    assert condition(victim, "DisruptionTarget")["reason"] == "DeletionByTaintManager"
    assert not node(url, "second")["spec"].get("taints")
    events = requests.get(f"{url}/api/v1/namespaces/default/events", timeout=30).json()
    assert [(e["reason"], e["message"]) for e in events["items"]
            if e["involvedObject"]["name"] == "first"
            and e["involvedObject"]["kind"] == "Node"] == [
        ("NodeNotReady", "Node first status is now: NodeNotReady")]

    agents(url, "first")  # the same name and data directory: the node returns

    wait_for(lambda: not node(url, "first")["spec"].get("taints"),
             message="taints removed")
    assert condition(node(url, "first"), "Ready")["status"] == "True"
    wait_for(lambda: not pods(url, "work"), message="victim gone")


def test_the_pods_of_a_lost_node_are_recreated_on_another(start_server, agents):
    server = start_server(*FAST_NODES)
    url = server.url
    left = agents(url, "left")
    requests.post(f"{url}/api/v1/namespaces", json={"metadata": {"name": "work"}},
                  timeout=30)
    template = sleeper("")
    template["metadata"] = {"labels": {"app": "web"}}
    rc = {"apiVersion": "v1", "kind": "ReplicationController",
          "metadata": {"name": "web"},
          "spec": {"replicas": 2, "selector": {"app": "web"}, "template": template}}
    requests.post(f"{url}/api/v1/namespaces/work/replicationcontrollers", json=rc,
                  timeout=30)

    def running_on(name: str) -> list[dict]:
        return [p for p in pods(url, "work") if p["spec"].get("nodeName") == name
                and not p["metadata"].get("deletionTimestamp")
                and condition(p, "Ready").get("status") == "True"]

    first = {p["metadata"]["name"] for p in wait_for(
        lambda: len(running_on("left")) == 2 and running_on("left"),
        message="two pods running on left")}
    agents(url, "right")

    left.stop()

    wait_for(lambda: len(running_on("right")) == 2, timeout=60,
             message="two pods running on right")
    evicted = {p["metadata"]["name"] for p in pods(url, "work")
               if p["metadata"].get("deletionTimestamp")}
    assert first <= evicted
