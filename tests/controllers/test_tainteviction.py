"""The taint eviction controller: the rules, then as a process against a real
API server, with nodes and taints made through the API (no node agent)."""

from __future__ import annotations

import time
import uuid

import pytest

from controllers.options import ControllerOptions
from controllers.tainteviction import TaintEvictionController, tolerated_seconds
from tests.controllers.conftest import wait_for

EXISTS_UNREACHABLE = {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                      "effect": "NoExecute", "tolerationSeconds": 300}
ADDED = 1893456000.0  # 2030-01-01T00:00:00Z
UNREACHABLE = {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute",
               "added": ADDED}
DEDICATED = {"key": "dedicated", "value": "gpu", "effect": "NoExecute",
             "added": ADDED}


# The rules.

@pytest.mark.parametrize("tolerations,taints,timeout,deadline", [
    ([], [UNREACHABLE], None, ADDED),
    ([EXISTS_UNREACHABLE], [UNREACHABLE], None, ADDED + 300),
    ([dict(EXISTS_UNREACHABLE, tolerationSeconds=None)], [UNREACHABLE], None, None),
    ([{"operator": "Exists"}], [UNREACHABLE, DEDICATED], None, None),
    ([EXISTS_UNREACHABLE, dict(EXISTS_UNREACHABLE, tolerationSeconds=20)],
     [UNREACHABLE], None, ADDED + 300),
    ([dict(EXISTS_UNREACHABLE, tolerationSeconds=-5)], [UNREACHABLE], None, ADDED),
    ([dict(EXISTS_UNREACHABLE, key="node.kubernetes.io/not-ready")], [UNREACHABLE],
     None, ADDED),
    ([dict(EXISTS_UNREACHABLE, effect="NoSchedule")], [UNREACHABLE], None, ADDED),
    ([EXISTS_UNREACHABLE], [UNREACHABLE, DEDICATED], None, ADDED),
    ([EXISTS_UNREACHABLE, {"key": "dedicated", "value": "gpu"}],
     [UNREACHABLE, dict(DEDICATED, added=ADDED + 100)], None, ADDED + 300),
    ([EXISTS_UNREACHABLE, {"key": "dedicated", "operator": "Exists",
                           "tolerationSeconds": 10}],
     [UNREACHABLE, dict(DEDICATED, added=ADDED + 100)], None, ADDED + 110),
    ([EXISTS_UNREACHABLE], [UNREACHABLE], 5.0, ADDED + 5),
    ([{"operator": "Exists"}], [UNREACHABLE], 5.0, ADDED + 5),
    ([{"operator": "Exists"}], [DEDICATED], 5.0, None),
    ([dict(EXISTS_UNREACHABLE, tolerationSeconds=2)], [UNREACHABLE], 5.0, ADDED + 2),
], ids=["no-toleration", "tolerates-300s", "tolerates-forever", "tolerates-all",
        "first-match-counts", "negative-is-now", "other-key", "other-effect",
        "one-taint-untolerated", "each-taint-its-own-time", "shortest-wins",
        "timeout-bounds", "timeout-bounds-forever", "timeout-only-for-node-taints",
        "toleration-shorter-than-timeout"])
def test_eviction_deadline(tolerations, taints, timeout, deadline):
    options = ControllerOptions(pod_eviction_timeout=timeout)
    controller = TaintEvictionController(options)
    pod = {"spec": {"tolerations": tolerations}}

    assert controller.eviction_deadline(pod, taints) == deadline


def test_an_equal_toleration_needs_the_value():
    taint = {"key": "dedicated", "value": "gpu", "effect": "NoExecute"}

    assert tolerated_seconds([{"key": "dedicated", "value": "gpu"}], taint) == float(
        "inf")
    assert tolerated_seconds([{"key": "dedicated", "value": "cpu"}], taint) == 0


# Against a server.

@pytest.fixture
def evictor(api_server, start_controllers):
    start_controllers(api_server.url, "tainteviction")


@pytest.fixture
def node_name(api):
    """A node of this test's own, with no agent: nothing else acts on its pods."""
    name = "taints-" + uuid.uuid4().hex[:8]
    api.post("/api/v1/nodes", {"apiVersion": "v1", "kind": "Node",
                               "metadata": {"name": name}})
    yield name
    api.delete(f"/api/v1/nodes/{name}")


def make_pod(api, namespace: str, node: str, name: str = "victim",
             tolerations: list[dict] = ()) -> str:
    api.post(f"/api/v1/namespaces/{namespace}/pods", {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {"nodeName": node, "tolerations": list(tolerations),
                 "containers": [{"name": "c", "image": "busybox",
                                 "command": ["sleep", "3600"]}]}})
    return f"/api/v1/namespaces/{namespace}/pods/{name}"


def taint(api, node: str, *taints: dict) -> None:
    api.patch(f"/api/v1/nodes/{node}", {"spec": {"taints": list(taints)}})


def rfc3339(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def terminating(api, path: str) -> dict | None:
    pod = api.maybe(path)
    return pod if pod and pod["metadata"].get("deletionTimestamp") else None


def events(api, namespace: str) -> list[tuple]:
    items = api.get(f"/api/v1/namespaces/{namespace}/events")["items"]
    return [(e["reason"], e["message"], e["source"].get("component"))
            for e in items if e["reason"] == "TaintManagerEviction"]


def condition(pod: dict, kind: str) -> dict:
    return next((c for c in pod["status"].get("conditions") or []
                 if c["type"] == kind), {})


def test_an_untolerated_user_taint_evicts_at_once(api, namespace, node_name, evictor):
    path = make_pod(api, namespace, node_name)
    time.sleep(0.5)
    assert not terminating(api, path)

    taint(api, node_name, {"key": "dedicated", "value": "db", "effect": "NoExecute"})

    pod = wait_for(lambda: terminating(api, path), timeout=10, message="evicted")
    target = condition(pod, "DisruptionTarget")
    assert {k: target.get(k) for k in ("status", "reason", "message")} == {
        "status": "True", "reason": "DeletionByTaintManager",
        "message": "Taint manager: deleting due to NoExecute taint"}
    assert wait_for(lambda: events(api, namespace), timeout=10) == [
        ("TaintManagerEviction", f"Marking for deletion Pod {namespace}/victim",
         "taint-eviction-controller")]


def test_toleration_seconds_count_from_time_added(api, namespace, node_name,
                                                  evictor):
    tolerates = {"key": "dedicated", "operator": "Exists", "effect": "NoExecute",
                 "tolerationSeconds": 4}
    path = make_pod(api, namespace, node_name, tolerations=[tolerates])
    added = time.time() - 1  # the taint is a second old when it is seen

    taint(api, node_name, {"key": "dedicated", "effect": "NoExecute",
                           "timeAdded": rfc3339(added)})

    time.sleep(1.0)
    assert not terminating(api, path)
    wait_for(lambda: terminating(api, path), timeout=10, message="evicted")
    assert time.time() >= int(added) + 4


def test_a_pod_that_tolerates_forever_stays(api, namespace, node_name, evictor):
    path = make_pod(api, namespace, node_name,
                    tolerations=[{"key": "dedicated", "operator": "Exists"}])
    bystander = make_pod(api, namespace, node_name, name="bystander")

    taint(api, node_name, {"key": "dedicated", "effect": "NoExecute"})

    wait_for(lambda: terminating(api, bystander), timeout=10, message="evicted")
    time.sleep(1.5)
    assert not terminating(api, path)


def test_removing_the_taint_cancels_the_eviction(api, namespace, node_name,
                                                 evictor):
    tolerates = {"key": "dedicated", "operator": "Exists", "effect": "NoExecute",
                 "tolerationSeconds": 3}
    path = make_pod(api, namespace, node_name, tolerations=[tolerates])
    taint(api, node_name, {"key": "dedicated", "effect": "NoExecute"})
    time.sleep(1.0)

    taint(api, node_name)

    time.sleep(3.5)
    assert not terminating(api, path)
    assert events(api, namespace) == [
        ("TaintManagerEviction", f"Cancelling deletion of Pod {namespace}/victim",
         "taint-eviction-controller")]


def test_the_default_tolerations_give_an_unreachable_node_300_seconds(
        api, namespace, node_name, evictor):
    path = make_pod(api, namespace, node_name)  # admission adds the tolerations
    added = time.time() - 298

    taint(api, node_name, {"key": "node.kubernetes.io/unreachable",
                           "effect": "NoExecute", "timeAdded": rfc3339(added)})

    time.sleep(0.5)
    assert not terminating(api, path)
    wait_for(lambda: terminating(api, path), timeout=10, message="evicted at 300 s")
    assert time.time() >= int(added) + 300
