"""The verbs over HTTP: metadata, concurrency, subresources, deletion."""

from __future__ import annotations

import re

import pytest

from tests.server.helpers import (
    API,
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_PATCH,
    configmap,
    pod,
    status_of,
)


@pytest.fixture
def api(api_server) -> API:
    return API(api_server.url)


def test_create_sets_the_metadata_kubernetes_sets(api, namespace):
    response = api.create("pods", namespace, pod("a"))

    assert response.status_code == 201
    meta = response.json()["metadata"]
    assert re.fullmatch(r"[0-9a-f-]{36}", meta["uid"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", meta["creationTimestamp"])
    assert int(meta["resourceVersion"]) > 0
    assert meta["namespace"] == namespace
    assert "generation" not in meta  # as in Kubernetes 1.32
    assert api.get("pods", namespace, "a").json()["metadata"] == meta


def test_generate_name_appends_five_random_characters(api, namespace):
    names = {api.create("configmaps", namespace, {
        "metadata": {"generateName": "cfg-"}}).json()["metadata"]["name"]
        for _ in range(5)}

    assert len(names) == 5
    assert all(re.fullmatch(r"cfg-[bcdfghjklmnpqrstvwxz2456789]{5}", n) for n in names)


def test_every_write_raises_the_resource_version(api, namespace):
    first = api.create("configmaps", namespace, configmap("c", k="1")).json()
    body = dict(first, data={"k": "2"})
    second = api.put("configmaps", namespace, "c", body).json()

    assert int(second["metadata"]["resourceVersion"]) > int(
        first["metadata"]["resourceVersion"])


def test_create_into_a_missing_namespace_is_not_found(api):
    response = api.create("configmaps", "no-such-namespace", configmap("c"))

    assert status_of(response) == (404, "NotFound",
                                   'namespaces "no-such-namespace" not found')


def test_create_of_an_existing_name_is_already_exists(api, namespace):
    api.create("configmaps", namespace, configmap("dup"))

    response = api.create("configmaps", namespace, configmap("dup"))

    assert status_of(response) == (409, "AlreadyExists",
                                   'configmaps "dup" already exists')


def test_an_update_with_a_stale_resource_version_is_a_conflict(api, namespace):
    old = api.create("configmaps", namespace, configmap("c", k="1")).json()
    api.put("configmaps", namespace, "c", dict(old, data={"k": "2"}))

    response = api.put("configmaps", namespace, "c", dict(old, data={"k": "3"}))

    code, reason, message = status_of(response)
    assert (code, reason) == (409, "Conflict")
    assert message == ('Operation cannot be fulfilled on configmaps "c": the object '
                       "has been modified; please apply your changes to the latest "
                       "version and try again")
    assert api.get("configmaps", namespace, "c").json()["data"] == {"k": "2"}


def test_the_main_resource_ignores_status_and_status_ignores_the_spec(api,
                                                                      namespace):
    created = api.create("pods", namespace, pod("s")).json()
    changed = dict(created, status={"phase": "Running"})
    changed["spec"] = dict(created["spec"], activeDeadlineSeconds=100)

    updated = api.put("pods", namespace, "s", changed).json()
    assert updated["status"]["phase"] == "Pending"
    assert updated["spec"]["activeDeadlineSeconds"] == 100

    changed = dict(updated, status={"phase": "Running"})
    changed["spec"] = dict(updated["spec"], activeDeadlineSeconds=50)
    status = api.put("pods", namespace, "s", changed, sub="status").json()
    assert status["status"]["phase"] == "Running"
    assert status["spec"]["activeDeadlineSeconds"] == 100


def test_generation_moves_with_the_spec_only(api, namespace):
    rc = {"apiVersion": "v1", "kind": "ReplicationController",
          "metadata": {"name": "g"},
          "spec": {"replicas": 0, "selector": {"app": "g"},
                   "template": dict(pod("g"), metadata={"labels": {"app": "g"}})}}
    created = api.create("replicationcontrollers", namespace, rc).json()
    labelled = api.patch("replicationcontrollers", namespace, "g",
                         {"metadata": {"labels": {"a": "b"}}}, MERGE_PATCH).json()
    image = api.patch("replicationcontrollers", namespace, "g", [
        {"op": "replace", "path": "/spec/template/spec/containers/0/image",
         "value": "busybox:2"}], JSON_PATCH).json()

    assert created["metadata"]["generation"] == 1
    assert labelled["metadata"]["generation"] == 1
    assert image["metadata"]["generation"] == 2


@pytest.mark.parametrize("content_type,body", [
    (JSON_PATCH, [{"op": "add", "path": "/data/b", "value": "2"}]),
    (MERGE_PATCH, {"data": {"b": "2"}}),
    (STRATEGIC_PATCH, {"data": {"b": "2"}}),
], ids=["json", "merge", "strategic"])
def test_each_patch_type_changes_the_object(api, namespace, content_type, body):
    api.create("configmaps", namespace, configmap("p", a="1"))

    response = api.patch("configmaps", namespace, "p", body, content_type)

    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"a": "1", "b": "2"}


def test_strategic_merge_patch_merges_containers_by_name(api, namespace):
    body = pod("sm")
    body["spec"]["containers"].append({"name": "side", "image": "busybox:1",
                                       "command": ["true"]})
    api.create("pods", namespace, body)

    patch = {"spec": {"containers": [{"name": "side", "image": "busybox:9"}]}}
    response = api.patch("pods", namespace, "sm", patch, STRATEGIC_PATCH)

    images = {c["name"]: c["image"] for c in response.json()["spec"]["containers"]}
    assert images == {"main": "busybox:1.36", "side": "busybox:9"}


def test_binding_sets_the_node_once(api, namespace):
    api.create("pods", namespace, pod("b"))
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "b"},
               "target": {"apiVersion": "v1", "kind": "Node", "name": "n1"}}
    path = api.path("pods", namespace, "b", "binding")

    first = api.request("POST", path, binding)
    second = api.request("POST", path, dict(binding, target={"name": "n2"}))

    assert first.status_code == 201
    bound = api.get("pods", namespace, "b").json()
    assert bound["spec"]["nodeName"] == "n1"
    assert {"type": "PodScheduled", "status": "True"}.items() <= \
        bound["status"]["conditions"][0].items()
    code, reason, message = status_of(second)
    assert (code, reason) == (409, "Conflict")
    assert 'is already assigned to node "n1"' in message


def test_deleting_a_bound_pod_waits_for_its_node(api, namespace):
    body = pod("bound", nodeName="n1", terminationGracePeriodSeconds=20)
    api.create("pods", namespace, body)

    response = api.delete("pods", namespace, "bound")

    assert response.status_code == 200
    meta = api.get("pods", namespace, "bound").json()["metadata"]
    assert meta["deletionGracePeriodSeconds"] == 20 and meta["deletionTimestamp"]
    uid = meta["uid"]
    final = api.delete("pods", namespace, "bound", {
        "gracePeriodSeconds": 0, "preconditions": {"uid": uid}})
    assert final.status_code == 200
    assert api.get("pods", namespace, "bound").status_code == 404


def test_an_unbound_pod_is_deleted_at_once(api, namespace):
    api.create("pods", namespace, pod("free"))

    response = api.delete("pods", namespace, "free")

    assert response.status_code == 200
    assert api.get("pods", namespace, "free").status_code == 404


@pytest.mark.parametrize("preconditions,expected", [
    ({"uid": "00000000-0000-0000-0000-000000000000"}, "UID in precondition"),
    ({"resourceVersion": "1"}, "ResourceVersion in precondition"),
], ids=["uid", "resourceVersion"])
def test_delete_preconditions_that_fail_are_conflicts(api, namespace,
                                                      preconditions, expected):
    api.create("configmaps", namespace, configmap("pre"))

    response = api.delete("configmaps", namespace, "pre",
                          {"preconditions": preconditions})

    code, reason, message = status_of(response)
    assert (code, reason) == (409, "Conflict") and expected in message
    assert api.get("configmaps", namespace, "pre").status_code == 200


def test_finalizers_hold_an_object_until_they_are_emptied(api, namespace):
    body = configmap("held")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    api.create("configmaps", namespace, body)

    deleting = api.delete("configmaps", namespace, "held")
    held = api.get("configmaps", namespace, "held")
    released = api.patch("configmaps", namespace, "held",
                         {"metadata": {"finalizers": None}}, MERGE_PATCH)

    assert deleting.status_code == 200
    assert held.json()["metadata"]["deletionTimestamp"]
    assert released.status_code == 200
    assert api.get("configmaps", namespace, "held").status_code == 404


def test_delete_collection_removes_what_the_selector_matches(api, namespace):
    for name, tier in (("a", "web"), ("b", "web"), ("c", "db")):
        api.create("configmaps", namespace, configmap(name, {"tier": tier}))

    response = api.delete("configmaps", namespace,
                          params={"labelSelector": "tier=web"})

    assert response.status_code == 200
    assert sorted(i["metadata"]["name"] for i in response.json()["items"]) == ["a", "b"]
    left = api.get("configmaps", namespace).json()["items"]
    assert [i["metadata"]["name"] for i in left] == ["c"]


def test_dry_run_answers_without_storing(api, namespace):
    response = api.request("POST", api.path("configmaps", namespace),
                           configmap("dry"), params={"dryRun": "All"})

    assert response.status_code == 201
    assert response.json()["metadata"]["name"] == "dry"
    assert api.get("configmaps", namespace, "dry").status_code == 404


def test_deleting_a_namespace_removes_it_and_its_content(api, namespace):
    api.create("configmaps", namespace, configmap("inside"))

    response = api.delete("namespaces", "", namespace)

    assert response.status_code in (200, 202)
    assert response.json()["status"]["phase"] == "Terminating"
    import time

    deadline = time.monotonic() + 10
    while api.get("namespaces", "", namespace).status_code != 404:
        assert time.monotonic() < deadline, "namespace was not removed"
        time.sleep(0.1)
    assert api.get("configmaps", namespace, "inside").status_code == 404


def test_the_default_namespace_may_not_be_deleted(api):
    response = api.delete("namespaces", "", "default")

    assert status_of(response)[:2] == (403, "Forbidden")
    assert api.get("namespaces", "", "default").status_code == 200


# Create on update: the kinds whose strategy allows it (AllowCreateOnUpdate).

LEASES = "coordination.k8s.io/v1"


def lease(name: str, holder: str, version: str = "") -> dict:
    meta = {"name": name, **({"resourceVersion": version} if version else {})}
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": meta, "spec": {"holderIdentity": holder}}


def test_a_put_of_a_missing_lease_creates_it(api, namespace):
    path = api.path("leases", namespace, "holder", group=LEASES)

    created = api.request("PUT", path, lease("holder", "a", version="12345"))
    updated = api.request("PUT", path, lease(
        "holder", "b", created.json()["metadata"]["resourceVersion"]))

    assert created.status_code == 201, created.text
    assert created.json()["metadata"]["uid"] == updated.json()["metadata"]["uid"]
    assert updated.status_code == 200
    assert updated.json()["spec"] == {"holderIdentity": "b"}


def test_a_put_of_a_missing_service_allocates_its_ip(api, namespace):
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"ports": [{"port": 80}]}}

    created = api.put("services", namespace, "web", body)

    assert created.status_code == 201, created.text
    assert created.json()["spec"]["clusterIP"].startswith("10.0.0.")


@pytest.mark.parametrize("resource,sub", [
    ("configmaps", ""), ("pods", ""), ("services", "status")],
    ids=["configmap", "pod", "status"])
def test_a_put_of_other_missing_objects_is_not_found(api, namespace, resource,
                                                     sub):
    kind = {"configmaps": "ConfigMap", "pods": "Pod", "services": "Service"}
    body = {"apiVersion": "v1", "kind": kind[resource],
            "metadata": {"name": "gone"}}

    response = api.put(resource, namespace, "gone", body, sub)

    assert status_of(response)[:2] == (404, "NotFound")


def test_kubectl_replace_of_a_missing_lease_creates_it(api, kubectl, namespace):
    manifest = ("apiVersion: coordination.k8s.io/v1\nkind: Lease\n"
                "metadata: {name: holder}\nspec: {holderIdentity: me}\n")

    result = kubectl("-n", namespace, "replace", "-f", "-", input=manifest)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "lease.coordination.k8s.io/holder replaced\n"
    lease = api.request("GET", api.path("leases", namespace, "holder",
                                        group=LEASES))
    assert lease.json()["spec"] == {"holderIdentity": "me"}
