"""ReplicationControllers and ReplicaSets kept at spec.replicas by the
controllers process, against a real API server (no node: pod status is set
through the status subresource where a test needs Ready pods)."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.conftest import run_kubectl
from tests.controllers.conftest import wait_for

RC = {"kind": "ReplicationController", "apiVersion": "v1", "base": "/api/v1",
      "resource": "replicationcontrollers", "short": "rc",
      "kubectl": "replicationcontroller"}
RS = {"kind": "ReplicaSet", "apiVersion": "apps/v1", "base": "/apis/apps/v1",
      "resource": "replicasets", "short": "rs", "kubectl": "replicaset.apps"}
FLAVORS = [pytest.param(RC, id="rc"), pytest.param(RS, id="rs")]


def owner_body(flavor: dict, name: str, replicas: int, app: str,
               min_ready: int = 0) -> dict:
    selector = ({"app": app} if flavor is RC else {"matchLabels": {"app": app}})
    spec = {"replicas": replicas, "selector": selector, "template": {
        "metadata": {"labels": {"app": app, "tier": "web"}},
        "spec": {"containers": [{"name": "c", "image": "busybox",
                                 "command": ["sleep", "3600"]}]}}}
    if min_ready:
        spec["minReadySeconds"] = min_ready
    return {"apiVersion": flavor["apiVersion"], "kind": flavor["kind"],
            "metadata": {"name": name}, "spec": spec}


def owner_path(flavor: dict, namespace: str, name: str = "") -> str:
    path = f"{flavor['base']}/namespaces/{namespace}/{flavor['resource']}"
    return f"{path}/{name}" if name else path


def pods_path(namespace: str, name: str = "") -> str:
    path = f"/api/v1/namespaces/{namespace}/pods"
    return f"{path}/{name}" if name else path


def live_pods(api, namespace: str) -> list[dict]:
    return [p for p in api.get(pods_path(namespace))["items"]
            if not p["metadata"].get("deletionTimestamp")]


def owned_pods(api, namespace: str, uid: str) -> list[dict]:
    return [p for p in live_pods(api, namespace)
            if any(r["uid"] == uid for r in p["metadata"].get("ownerReferences", []))]


def wait_owned(api, namespace: str, uid: str, count: int) -> list[dict]:
    def settled():
        pods = owned_pods(api, namespace, uid)
        return pods if len(pods) == count else None
    return wait_for(settled, message=f"{count} owned pods")


def wait_status(api, path: str, **expected) -> dict:
    def matches():
        obj = api.get(path)
        status = obj.get("status", {})
        return obj if all(status.get(k, 0) == v for k, v in expected.items()) else None
    return wait_for(matches, message=f"status {expected} of {path}")


def set_ready(api, pod: dict, ready: bool = True, node: str = "",
              phase: str = "Running") -> None:
    path = pods_path(pod["metadata"]["namespace"], pod["metadata"]["name"])
    fresh = api.get(path)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    fresh["status"] = {"phase": phase, "podIP": "10.1.0.1", "conditions": [
        {"type": "Ready", "status": "True" if ready else "False",
         "lastTransitionTime": stamp}]}
    api.put(path + "/status", fresh)


@pytest.fixture
def replication(api_server, start_controllers):
    start_controllers(api_server.url, "replicationcontroller,replicaset")


@pytest.mark.parametrize("flavor", FLAVORS)
def test_creates_replicas_owned_by_it(api, namespace, replication, flavor):
    owner = api.post(owner_path(flavor, namespace),
                     owner_body(flavor, "web", 3, "web"))
    uid = owner["metadata"]["uid"]

    pods = wait_owned(api, namespace, uid, 3)
    status = wait_status(api, owner_path(flavor, namespace, "web"), replicas=3,
                         fullyLabeledReplicas=3, observedGeneration=1)["status"]

    assert status.get("readyReplicas", 0) == 0
    for pod in pods:
        meta = pod["metadata"]
        assert meta["name"].startswith("web-") and meta["generateName"] == "web-"
        assert meta["labels"] == {"app": "web", "tier": "web"}
        assert meta["ownerReferences"] == [{
            "apiVersion": flavor["apiVersion"], "kind": flavor["kind"],
            "name": "web", "uid": uid, "controller": True,
            "blockOwnerDeletion": True}]


@pytest.mark.parametrize("flavor", FLAVORS)
def test_a_deleted_pod_comes_back(api, namespace, replication, flavor):
    owner = api.post(owner_path(flavor, namespace), owner_body(flavor, "web", 3, "web"))
    uid = owner["metadata"]["uid"]
    pods = wait_owned(api, namespace, uid, 3)

    victim = pods[0]["metadata"]["name"]
    assert api.delete(pods_path(namespace, victim)).ok
    wait_for(lambda: victim not in {p["metadata"]["name"] for p in
                                    owned_pods(api, namespace, uid)}
             and len(owned_pods(api, namespace, uid)) == 3,
             message="a replacement pod")

    time.sleep(1)  # a second round of creates would show up by now
    assert len(owned_pods(api, namespace, uid)) == 3


@pytest.mark.parametrize("flavor", FLAVORS)
def test_scale_subresource_up_and_down(api, namespace, replication, flavor):
    owner = api.post(owner_path(flavor, namespace), owner_body(flavor, "web", 3, "web"))
    uid = owner["metadata"]["uid"]
    wait_owned(api, namespace, uid, 3)
    scale = owner_path(flavor, namespace, "web") + "/scale"

    api.patch(scale, {"spec": {"replicas": 5}})
    wait_owned(api, namespace, uid, 5)
    api.patch(scale, {"spec": {"replicas": 1}})
    wait_owned(api, namespace, uid, 1)

    wait_status(api, owner_path(flavor, namespace, "web"), replicas=1,
                observedGeneration=3)
    assert api.get(scale)["status"]["replicas"] == 1


@pytest.mark.parametrize("flavor", FLAVORS)
def test_kubectl_scale_and_get_columns(api_server, api, namespace, replication,
                                       flavor):
    owner = api.post(owner_path(flavor, namespace), owner_body(flavor, "web", 2, "web"))
    uid = owner["metadata"]["uid"]
    for pod in wait_owned(api, namespace, uid, 2):
        set_ready(api, pod)
    wait_status(api, owner_path(flavor, namespace, "web"), replicas=2,
                readyReplicas=2)

    scaled = run_kubectl(api_server, "-n", namespace, "scale", flavor["short"],
                         "web", "--replicas=4")
    assert scaled.returncode == 0, scaled.stderr
    assert scaled.stdout.strip() == f"{flavor['kubectl']}/web scaled"
    wait_owned(api, namespace, uid, 4)
    wait_status(api, owner_path(flavor, namespace, "web"), replicas=4,
                readyReplicas=2)

    listed = run_kubectl(api_server, "-n", namespace, "get", flavor["short"])
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()
    assert header.split() == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    assert row.split()[:4] == ["web", "4", "4", "2"]


@pytest.mark.parametrize("flavor", FLAVORS)
def test_adopts_a_matching_orphan_and_releases_a_relabelled_pod(
        api, namespace, replication, flavor):
    orphan = api.post(pods_path(namespace), {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "orphan", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    owner = api.post(owner_path(flavor, namespace), owner_body(flavor, "web", 2, "web"))
    uid = owner["metadata"]["uid"]

    pods = wait_owned(api, namespace, uid, 2)
    assert "orphan" in {p["metadata"]["name"] for p in pods}
    adopted = api.get(pods_path(namespace, "orphan"))["metadata"]
    assert adopted["uid"] == orphan["metadata"]["uid"]
    assert adopted["ownerReferences"][0]["controller"] is True

    api.patch(pods_path(namespace, "orphan"), {"metadata": {"labels": {"app": "x"}}})
    wait_for(lambda: not api.get(pods_path(namespace, "orphan"))["metadata"].get(
        "ownerReferences"), message="the relabelled pod released")
    pods = wait_owned(api, namespace, uid, 2)

    assert "orphan" not in {p["metadata"]["name"] for p in pods}


@pytest.mark.parametrize("flavor", FLAVORS)
def test_status_counts_ready_and_available(api, namespace, replication, flavor):
    owner = api.post(owner_path(flavor, namespace), owner_body(flavor, "web", 3, "web"))
    pods = wait_owned(api, namespace, owner["metadata"]["uid"], 3)
    path = owner_path(flavor, namespace, "web")

    set_ready(api, pods[0])
    set_ready(api, pods[1])
    set_ready(api, pods[2], ready=False)

    status = wait_status(api, path, replicas=3, readyReplicas=2,
                         availableReplicas=2)["status"]
    assert status["observedGeneration"] == 1
    assert "conditions" not in status


def test_available_waits_for_min_ready_seconds(api, namespace, replication):
    owner = api.post(owner_path(RS, namespace),
                     owner_body(RS, "slow", 1, "slow", min_ready=2))
    pod = wait_owned(api, namespace, owner["metadata"]["uid"], 1)[0]
    path = owner_path(RS, namespace, "slow")

    set_ready(api, pod)
    status = wait_status(api, path, readyReplicas=1)["status"]

    assert status.get("availableReplicas", 0) == 0
    wait_status(api, path, readyReplicas=1, availableReplicas=1)


def test_terminated_and_terminating_pods_do_not_count(api, namespace, replication):
    owner = api.post(owner_path(RS, namespace), owner_body(RS, "web", 2, "web"))
    uid = owner["metadata"]["uid"]
    pods = wait_owned(api, namespace, uid, 2)

    set_ready(api, pods[0], ready=False, phase="Failed")

    def replaced():
        active = [p for p in owned_pods(api, namespace, uid)
                  if p.get("status", {}).get("phase") != "Failed"]
        return len(active) == 2
    wait_for(replaced, message="a replacement for the failed pod")
    wait_status(api, owner_path(RS, namespace, "web"), replicas=2)


def test_scale_down_deletes_unscheduled_and_not_ready_first(api, namespace,
                                                            replication):
    owner = api.post(owner_path(RS, namespace), owner_body(RS, "web", 4, "web"))
    uid = owner["metadata"]["uid"]
    pods = sorted(wait_owned(api, namespace, uid, 4),
                  key=lambda p: p["metadata"]["name"])
    ready, not_ready, pending_on_node, unscheduled = pods
    for pod, node in ((ready, "n1"), (not_ready, "n1"), (pending_on_node, "n1")):
        binding = {"apiVersion": "v1", "kind": "Binding",
                   "metadata": {"name": pod["metadata"]["name"]},
                   "target": {"kind": "Node", "name": node}}
        api.post(pods_path(namespace, pod["metadata"]["name"]) + "/binding", binding)
    set_ready(api, ready)
    set_ready(api, not_ready, ready=False)
    wait_status(api, owner_path(RS, namespace, "web"), readyReplicas=1)

    api.patch(owner_path(RS, namespace, "web") + "/scale", {"spec": {"replicas": 3}})
    left = {p["metadata"]["name"] for p in wait_owned(api, namespace, uid, 3)}
    assert unscheduled["metadata"]["name"] not in left
    api.patch(owner_path(RS, namespace, "web") + "/scale", {"spec": {"replicas": 2}})
    left = {p["metadata"]["name"] for p in wait_owned(api, namespace, uid, 2)}
    assert pending_on_node["metadata"]["name"] not in left
    api.patch(owner_path(RS, namespace, "web") + "/scale", {"spec": {"replicas": 1}})
    left = {p["metadata"]["name"] for p in wait_owned(api, namespace, uid, 1)}

    assert left == {ready["metadata"]["name"]}


def test_events_for_creates_and_deletes(api, namespace, replication):
    owner = api.post(owner_path(RS, namespace), owner_body(RS, "web", 2, "web"))
    pods = wait_owned(api, namespace, owner["metadata"]["uid"], 2)
    api.patch(owner_path(RS, namespace, "web") + "/scale", {"spec": {"replicas": 1}})
    wait_owned(api, namespace, owner["metadata"]["uid"], 1)

    def events():
        found = [e for e in api.get(f"/api/v1/namespaces/{namespace}/events")["items"]
                 if e["involvedObject"].get("uid") == owner["metadata"]["uid"]]
        return found if len(found) == 3 else None
    found = events() or wait_for(events, message="three events")

    names = {p["metadata"]["name"] for p in pods}
    messages = sorted((e["reason"], e["message"].split(": ")[0]) for e in found)
    assert messages == [("SuccessfulCreate", "Created pod"),
                        ("SuccessfulCreate", "Created pod"),
                        ("SuccessfulDelete", "Deleted pod")]
    assert {e["message"].split(": ")[1] for e in found} <= names
    assert all(e["involvedObject"]["kind"] == "ReplicaSet" and
               e["source"]["component"] == "replicaset-controller" for e in found)


def test_failed_creates_set_the_replica_failure_condition(api, replication):
    namespace = "doomed-" + uuid.uuid4().hex[:8]
    api.post("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                    "metadata": {"name": namespace}})
    api.post(owner_path(RS, namespace), owner_body(RS, "web", 0, "web"))
    # No namespace controller runs: the namespace stays Terminating, and
    # the server refuses new pods in it.
    assert api.delete(f"/api/v1/namespaces/{namespace}").ok

    api.patch(owner_path(RS, namespace, "web") + "/scale", {"spec": {"replicas": 2}})

    def failure():
        status = api.get(owner_path(RS, namespace, "web")).get("status", {})
        return next((c for c in status.get("conditions", [])
                     if c["type"] == "ReplicaFailure"), None)
    condition = wait_for(failure, message="ReplicaFailure")
    assert condition["status"] == "True" and condition["reason"] == "FailedCreate"
    assert "being terminated" in condition["message"]
    assert live_pods(api, namespace) == []
