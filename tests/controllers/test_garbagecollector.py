"""The garbage collector with the ReplicaSet controller, as processes against a
real API server: deletion with each propagationPolicy, and dangling owners."""

from __future__ import annotations

import pytest

from tests.controllers.conftest import wait_for
from tests.controllers.test_replication import (
    RS, owned_pods, owner_body, owner_path, pods_path, wait_owned)


@pytest.fixture
def collector(api_server, start_controllers):
    start_controllers(api_server.url, "replicaset,garbagecollector")


def configmap(name: str, owners: list[dict] = ()) -> dict:
    refs = [{"apiVersion": o["apiVersion"], "kind": o["kind"],
             "name": o["metadata"]["name"], "uid": o["metadata"]["uid"]}
            for o in owners]
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "ownerReferences": refs}}


def make_rs(api, namespace: str, replicas: int = 3) -> tuple[str, list[dict]]:
    rs = api.post(owner_path(RS, namespace), owner_body(RS, "web", replicas, "web"))
    uid = rs["metadata"]["uid"]
    return uid, wait_owned(api, namespace, uid, replicas)


def pod_names(api, namespace: str) -> set[str]:
    return {p["metadata"]["name"] for p in api.get(pods_path(namespace))["items"]}


def test_background_deletion_removes_the_pods(api, namespace, collector):
    uid, pods = make_rs(api, namespace)

    response = api.delete(owner_path(RS, namespace, "web"),
                          propagationPolicy="Background")

    assert response.status_code == 200, response.text
    assert api.maybe(owner_path(RS, namespace, "web")) is None
    wait_for(lambda: not pod_names(api, namespace), message="the pods deleted")


def test_default_deletion_is_background(api, namespace, collector):
    make_rs(api, namespace, replicas=2)

    assert api.delete(owner_path(RS, namespace, "web")).ok

    wait_for(lambda: not pod_names(api, namespace), message="the pods deleted")


def test_orphan_deletion_leaves_pods_without_owner(api, namespace, collector):
    uid, pods = make_rs(api, namespace)
    names = {p["metadata"]["name"] for p in pods}

    response = api.delete(owner_path(RS, namespace, "web"),
                          propagationPolicy="Orphan")

    assert response.ok, response.text
    wait_for(lambda: api.maybe(owner_path(RS, namespace, "web")) is None,
             message="the ReplicaSet gone")
    left = api.get(pods_path(namespace))["items"]
    assert {p["metadata"]["name"] for p in left} == names
    assert all(not p["metadata"].get("ownerReferences") for p in left)


def test_foreground_deletion_removes_pods_before_the_owner(api, namespace,
                                                           collector):
    uid, pods = make_rs(api, namespace)
    # A finalizer of the test's own holds one pod, so the owner's wait shows.
    held = pods[0]["metadata"]["name"]
    api.patch(pods_path(namespace, held),
              {"metadata": {"finalizers": ["example.com/hold"]}})

    response = api.delete(owner_path(RS, namespace, "web"),
                          propagationPolicy="Foreground")
    assert response.ok, response.text
    wait_for(lambda: pod_names(api, namespace) == {held},
             message="the other pods deleted")
    waiting = api.get(owner_path(RS, namespace, "web"))["metadata"]

    assert waiting["deletionTimestamp"]
    assert waiting["finalizers"] == ["foregroundDeletion"]
    api.patch(pods_path(namespace, held), {"metadata": {"finalizers": None}})
    wait_for(lambda: api.maybe(owner_path(RS, namespace, "web")) is None,
             message="the ReplicaSet gone after its pods")
    assert pod_names(api, namespace) == set()


def test_dependent_of_a_missing_owner_is_deleted(api, namespace, collector):
    owner = api.post(f"/api/v1/namespaces/{namespace}/configmaps",
                     configmap("owner"))
    api.post(f"/api/v1/namespaces/{namespace}/configmaps",
             configmap("dependent", [owner]))

    assert api.delete(f"/api/v1/namespaces/{namespace}/configmaps/owner").ok

    wait_for(lambda: api.maybe(
        f"/api/v1/namespaces/{namespace}/configmaps/dependent") is None,
        message="the dependent collected")


def test_a_dependent_with_a_live_owner_only_loses_the_dead_reference(
        api, namespace, collector):
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    alive = api.post(path, configmap("alive"))
    dead = api.post(path, configmap("dead"))
    api.post(path, configmap("shared", [alive, dead]))

    assert api.delete(f"{path}/dead").ok

    def only_alive():
        refs = api.get(f"{path}/shared")["metadata"].get("ownerReferences", [])
        return [r["name"] for r in refs] == ["alive"]
    wait_for(only_alive, message="the dead reference dropped")


def test_an_owner_that_never_existed_collects_the_dependent(api, namespace,
                                                            collector):
    ghost = {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "ghost", "uid": "00000000-0000-0000-0000-0000"}}
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    api.post(path, configmap("dependent", [ghost]))

    wait_for(lambda: api.maybe(f"{path}/dependent") is None,
             message="the dependent of a ghost collected")


def test_unknown_owner_kinds_are_left_alone(api, namespace, collector):
    stranger = {"apiVersion": "example.com/v1", "kind": "Widget",
                "metadata": {"name": "w", "uid": "11111111-0000-0000-0000-0000"}}
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    api.post(path, configmap("kept", [stranger]))
    probe_owner = api.post(path, configmap("probe-owner"))
    api.post(path, configmap("probe", [probe_owner]))

    # The collector has handled the namespace once the probe is collected.
    assert api.delete(f"{path}/probe-owner").ok
    wait_for(lambda: api.maybe(f"{path}/probe") is None, message="the probe")

    assert api.maybe(f"{path}/kept") is not None
