"""Scale and eviction subresources, propagation policies, event retention."""

from __future__ import annotations

import time

import pytest

from tests.conftest import KUBECTL, run_kubectl
from tests.server.helpers import API, MERGE_PATCH, pod, status_of


@pytest.fixture
def api(api_server) -> API:
    return API(api_server.url)


def rc(name: str, replicas: int = 2) -> dict:
    template = pod(name)
    template["metadata"] = {"labels": {"app": name}}
    return {"apiVersion": "v1", "kind": "ReplicationController",
            "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"app": name},
                     "template": template}}


def test_scale_reads_and_writes_replicas(api, namespace):
    api.create("replicationcontrollers", namespace, rc("web"))
    path = api.path("replicationcontrollers", namespace, "web", "scale")

    scale = api.request("GET", path).json()
    scale["spec"]["replicas"] = 7
    put = api.request("PUT", path, scale)
    stale = api.request("PUT", path, scale)
    patched = api.request("PATCH", path, {"spec": {"replicas": 5}}, MERGE_PATCH)

    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["status"]["selector"] == "app=web"
    assert put.json()["spec"]["replicas"] == 7
    assert status_of(stale)[:2] == (409, "Conflict")
    assert patched.json()["spec"]["replicas"] == 5
    stored = api.get("replicationcontrollers", namespace, "web").json()
    assert stored["spec"]["replicas"] == 5 and stored["metadata"]["generation"] == 3


def test_a_scale_that_is_not_a_number_is_a_bad_request(api, namespace):
    api.create("replicationcontrollers", namespace, rc("two"))
    path = api.path("replicationcontrollers", namespace, "two", "scale")

    response = api.request("PATCH", path, {"spec": {"replicas": "two"}}, MERGE_PATCH)

    assert status_of(response) == (
        400, "BadRequest", 'Scale in version "v1" cannot be handled as a Scale: '
        "json: cannot unmarshal string into Go struct field ScaleSpec.spec.replicas "
        "of type int32")
    stored = api.get("replicationcontrollers", namespace, "two").json()
    assert stored["spec"]["replicas"] == 2


def test_a_negative_scale_is_invalid(api, namespace):
    api.create("replicationcontrollers", namespace, rc("neg"))
    path = api.path("replicationcontrollers", namespace, "neg", "scale")

    response = api.request("PATCH", path, {"spec": {"replicas": -1}}, MERGE_PATCH)

    assert status_of(response)[:2] == (422, "Invalid")


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
def test_kubectl_scale(api_server, api, namespace):
    api.create("replicationcontrollers", namespace, rc("scaled"))

    result = run_kubectl(api_server, "-n", namespace, "scale", "rc/scaled",
                         "--replicas=4")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "replicationcontroller/scaled scaled"
    stored = api.get("replicationcontrollers", namespace, "scaled").json()
    assert stored["spec"]["replicas"] == 4


def test_eviction_deletes_the_pod(api, namespace):
    api.create("pods", namespace, pod("evicted"))
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction",
                "metadata": {"name": "evicted", "namespace": namespace}}

    response = api.request("POST", api.path("pods", namespace, "evicted",
                                             "eviction"), eviction)

    assert response.status_code == 201
    assert api.get("pods", namespace, "evicted").status_code == 404


def test_a_dry_run_eviction_leaves_the_pod(api, namespace):
    api.create("pods", namespace, pod("kept"))
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction",
                "metadata": {"name": "kept", "namespace": namespace},
                "deleteOptions": {"dryRun": ["All"]}}

    response = api.request("POST", api.path("pods", namespace, "kept",
                                             "eviction"), eviction)

    assert response.status_code == 201
    assert api.get("pods", namespace, "kept").status_code == 200


@pytest.mark.parametrize("policy,finalizer", [("Orphan", "orphan"),
                                              ("Foreground", "foregroundDeletion")],
                         ids=["orphan", "foreground"])
def test_orphan_and_foreground_leave_the_owner_to_the_collector(api, namespace,
                                                                policy, finalizer):
    api.create("replicationcontrollers", namespace, rc("owner"))

    response = api.delete("replicationcontrollers", namespace, "owner",
                          {"propagationPolicy": policy})

    assert response.status_code == 200
    meta = api.get("replicationcontrollers", namespace, "owner").json()["metadata"]
    assert meta["finalizers"] == [finalizer] and meta["deletionTimestamp"]


def test_events_expire_after_their_ttl(start_server):
    server = start_server("--event-ttl", "1")
    api = API(server.url)
    event = {"apiVersion": "v1", "kind": "Event",
             "metadata": {"name": "old.1"},
             "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
             "reason": "Testing", "message": "m", "type": "Normal"}
    assert api.create("events", "default", event).status_code == 201

    deadline = time.monotonic() + 10
    while api.get("events", "default", "old.1").status_code != 404:
        assert time.monotonic() < deadline, "the event was not expired"
        time.sleep(0.2)


def deployment(name: str) -> dict:
    template = pod(name)
    template["metadata"] = {"labels": {"app": name}}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": name}}, "template": template}}


def test_deployment_status_update_keeps_annotations_but_not_spec(api, namespace):
    # The deployment controller records its revision annotation through
    # /status, so a rollout does not bump metadata.generation.
    created = api.request("POST", api.path("deployments", namespace, group="apps/v1"),
                          deployment("web")).json()
    sent = dict(created, status={"observedGeneration": 1, "replicas": 0})
    sent["metadata"] = dict(created["metadata"], labels={"changed": "yes"},
                            annotations={"deployment.kubernetes.io/revision": "1"})
    sent["spec"] = dict(created["spec"], replicas=9)

    response = api.request("PUT", api.path("deployments", namespace, "web", "status",
                                           group="apps/v1"), sent)

    stored = response.json()
    assert response.status_code == 200
    assert stored["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "1"}
    assert "labels" not in stored["metadata"]
    assert stored["spec"]["replicas"] == 1
    assert stored["metadata"]["generation"] == created["metadata"]["generation"]
    assert stored["status"]["observedGeneration"] == 1


def test_pod_status_update_keeps_metadata(api, namespace):
    created = api.create("pods", namespace, pod("p")).json()
    sent = dict(created, status={"phase": "Pending"})
    sent["metadata"] = dict(created["metadata"], annotations={"a": "b"})

    stored = api.put("pods", namespace, "p", sent, sub="status").json()

    assert "annotations" not in stored["metadata"]


def test_deprecated_orphan_dependents_maps_to_a_propagation_policy(api, namespace):
    api.create("replicationcontrollers", namespace, rc("kept"))
    api.create("configmaps", namespace, {
        "metadata": {"name": "held", "finalizers": ["example.com/hold"]}})

    orphaned = api.delete("replicationcontrollers", namespace, "kept",
                          {"orphanDependents": True})
    cascading = api.delete("configmaps", namespace, "held",
                           {"orphanDependents": False})

    # 200 as usual; 202 only for orphanDependents=false on an object that stays.
    assert orphaned.status_code == 200
    assert orphaned.json()["metadata"]["finalizers"] == ["orphan"]
    assert cascading.status_code == 202
    assert cascading.json()["metadata"]["deletionTimestamp"]
    released = api.patch("configmaps", namespace, "held",
                         {"metadata": {"finalizers": None}}, MERGE_PATCH)
    assert released.status_code == 200


@pytest.mark.parametrize("query, expected", [
    ("tailLines=abc",
     (400, "BadRequest", 'strconv.ParseInt: parsing "abc": invalid syntax')),
    ("follow=yes",
     (400, "BadRequest", 'strconv.ParseBool: parsing "yes": invalid syntax')),
    ("sinceSeconds=-1",
     (422, "Invalid", 'PodLogOptions "logs" is invalid: sinceSeconds: Invalid '
                      "value: -1: must be greater than 0")),
    ("tailLines=-2",
     (422, "Invalid", 'PodLogOptions "logs" is invalid: tailLines: Invalid '
                      "value: -2: must be greater than or equal to 0")),
    ("limitBytes=0",
     (422, "Invalid", 'PodLogOptions "logs" is invalid: limitBytes: Invalid '
                      "value: 0: must be greater than 0")),
    ("sinceSeconds=5&sinceTime=2026-01-02T03:04:05Z",
     (422, "Invalid", 'PodLogOptions "logs" is invalid: : Forbidden: at most '
                      "one of `sinceTime` or `sinceSeconds` may be specified")),
], ids=["tail-not-a-number", "follow-not-a-bool", "since-negative",
        "tail-negative", "limit-zero", "since-both"])
def test_log_options_are_checked_before_the_node_is_asked(api, namespace, query,
                                                          expected):
    api.create("pods", namespace, pod("logs"))

    response = api.request("GET", api.path("pods", namespace, "logs", "log")
                           + "?" + query)

    assert status_of(response) == expected


def test_logs_of_a_pod_on_a_node_that_is_not_registered_are_unavailable(
        api, namespace):
    api.create("pods", namespace, pod("away", nodeName="no-such-node"))

    response = api.request("GET", api.path("pods", namespace, "away", "log"))

    assert status_of(response) == (503, "ServiceUnavailable",
                                   'node "no-such-node" of this pod is not registered')
