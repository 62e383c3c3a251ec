"""The namespace controller, and the server's side of namespace deletion.

The session server of this folder runs no controllers, so a deleted namespace
stays Terminating until a test starts ``python -m controllers`` against it.
"""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.conftest import KUBECTL, run_kubectl
from tests.controllers.conftest import wait_for


def new_namespace(api) -> str:
    name = "ns-" + uuid.uuid4().hex[:8]
    api.post("/api/v1/namespaces", {"metadata": {"name": name}})
    return name


def configmap(name: str, finalizers: list[str] | None = None) -> dict:
    meta = {"name": name, "finalizers": finalizers} if finalizers else {"name": name}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
            "data": {"k": "v"}}


def pod(name: str, node: str = "") -> dict:
    spec = {"containers": [{"name": "c", "image": "busybox",
                            "command": ["sleep", "3600"]}]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": spec}


def deployment(name: str) -> dict:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 0, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": pod(name)["spec"]}}}


def condition(namespace: dict, kind: str) -> dict:
    for cond in (namespace.get("status") or {}).get("conditions") or []:
        if cond["type"] == kind:
            return cond
    return {}


# The server alone.

def test_a_deleted_namespace_is_marked_and_kept_for_the_controller(api):
    name = new_namespace(api)
    api.post(f"/api/v1/namespaces/{name}/configmaps", configmap("inside"))

    response = api.delete(f"/api/v1/namespaces/{name}")

    assert response.ok
    marked = response.json()
    assert marked["status"]["phase"] == "Terminating"
    assert marked["spec"]["finalizers"] == ["kubernetes"]
    assert marked["metadata"]["deletionTimestamp"]
    assert api.get(f"/api/v1/namespaces/{name}/configmaps/inside")["data"] == {"k": "v"}
    assert api.get(f"/api/v1/namespaces/{name}")["status"]["phase"] == "Terminating"


def test_creating_into_a_terminating_namespace_is_forbidden(api):
    name = new_namespace(api)
    api.delete(f"/api/v1/namespaces/{name}")

    response = requests.post(f"{api.url}/api/v1/namespaces/{name}/configmaps",
                             json=configmap("late"), timeout=30)

    assert response.status_code == 403
    status = response.json()
    assert (status["reason"], status["details"]["name"]) == ("Forbidden", "late")
    assert status["message"] == (
        f'configmaps "late" is forbidden: unable to create new content in '
        f"namespace {name} because it is being terminated")


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
def test_kubectl_create_into_a_terminating_namespace(api, api_server):
    name = new_namespace(api)
    api.delete(f"/api/v1/namespaces/{name}")

    result = run_kubectl(api_server, "create", "configmap", "late", "-n", name)

    assert result.returncode == 1
    assert result.stderr.strip() == (
        f'error: failed to create configmap: configmaps "late" is forbidden: '
        f"unable to create new content in namespace {name} because it is being "
        "terminated")


def test_finalize_removes_a_terminating_namespace(api):
    name = new_namespace(api)
    api.delete(f"/api/v1/namespaces/{name}")
    namespace = api.get(f"/api/v1/namespaces/{name}")
    namespace["spec"]["finalizers"] = []

    response = requests.put(f"{api.url}/api/v1/namespaces/{name}/finalize",
                            json=namespace, timeout=30)

    assert response.status_code == 200
    assert api.maybe(f"/api/v1/namespaces/{name}") is None


def test_finalize_changes_only_the_finalizers_of_an_active_namespace(api):
    name = new_namespace(api)
    namespace = api.get(f"/api/v1/namespaces/{name}")
    namespace["spec"]["finalizers"] = []
    namespace["metadata"]["labels"]["extra"] = "ignored"
    namespace["status"]["phase"] = "Terminating"

    finalized = api.put(f"/api/v1/namespaces/{name}/finalize", namespace)

    assert finalized["spec"]["finalizers"] == []
    assert "extra" not in finalized["metadata"]["labels"]
    assert finalized["status"]["phase"] == "Active"


@pytest.mark.parametrize("method", ["GET", "PATCH", "POST"])
def test_finalize_answers_only_put(api, method):
    name = new_namespace(api)

    response = requests.request(
        method, f"{api.url}/api/v1/namespaces/{name}/finalize", json={}, timeout=30,
        headers={"Content-Type": "application/merge-patch+json"})

    assert response.status_code == 405
    assert response.json()["reason"] == "MethodNotAllowed"


def test_discovery_lists_namespaces_finalize(api):
    resources = api.get("/api/v1")["resources"]

    finalize = [r for r in resources if r["name"] == "namespaces/finalize"]

    assert [(r["kind"], r["verbs"]) for r in finalize] == [("Namespace", ["update"])]


# The controller.

def test_the_controller_empties_and_removes_a_namespace(api, api_server,
                                                        start_controllers):
    start_controllers(api_server.url, "namespace")
    name = new_namespace(api)
    base = f"/api/v1/namespaces/{name}"
    api.post(f"{base}/configmaps", configmap("one"))
    api.post(f"{base}/configmaps", configmap("two"))
    api.post(f"{base}/pods", pod("unbound"))
    api.post(f"/apis/apps/v1/namespaces/{name}/deployments", deployment("web"))

    assert api.delete(base).ok
    wait_for(lambda: api.maybe(base) is None, message=f"namespace {name} removed")

    assert api.get(f"{base}/configmaps")["items"] == []
    assert api.get(f"{base}/pods")["items"] == []
    assert api.get(f"/apis/apps/v1/namespaces/{name}/deployments")["items"] == []


def test_conditions_say_what_remains_until_it_is_gone(api, api_server,
                                                      start_controllers):
    start_controllers(api_server.url, "namespace")
    name = new_namespace(api)
    base = f"/api/v1/namespaces/{name}"
    api.post(f"{base}/configmaps", configmap("held", ["example.com/hold"]))
    api.delete(base)

    def remaining():
        namespace = api.get(base)
        return namespace if condition(namespace, "NamespaceContentRemaining").get(
            "status") == "True" else None

    namespace = wait_for(remaining, message="NamespaceContentRemaining True")

    assert condition(namespace, "NamespaceContentRemaining") | {
        "lastTransitionTime": ""} == {
        "type": "NamespaceContentRemaining", "status": "True",
        "reason": "SomeResourcesRemain", "lastTransitionTime": "",
        "message": "Some resources are remaining: configmaps. has 1 resource instances"}
    finalizers = condition(namespace, "NamespaceFinalizersRemaining")
    assert (finalizers["reason"], finalizers["message"]) == (
        "SomeFinalizersRemain", "Some content in the namespace has finalizers "
        "remaining: example.com/hold in 1 resource instances")
    deleted = condition(namespace, "NamespaceDeletionContentFailure")
    assert (deleted["status"], deleted["reason"]) == ("False", "ContentDeleted")
    assert api.get(f"{base}/configmaps/held")["metadata"]["deletionTimestamp"]

    api.patch(f"{base}/configmaps/held", {"metadata": {"finalizers": None}})

    wait_for(lambda: api.maybe(base) is None, message=f"namespace {name} removed")


def test_a_namespace_waits_for_its_pods_to_terminate(api, api_server,
                                                     start_controllers):
    start_controllers(api_server.url, "namespace")
    name = new_namespace(api)
    base = f"/api/v1/namespaces/{name}"
    # Bound to a node with no agent: deleted, it waits for its kubelet.
    api.post(f"{base}/pods", pod("bound", node="no-such-node"))
    api.delete(base)

    wait_for(lambda: api.get(f"{base}/pods/bound")["metadata"].get(
        "deletionTimestamp"), message="pod marked for deletion")
    namespace = wait_for(
        lambda: (ns := api.get(base)) and "pods." in condition(
            ns, "NamespaceContentRemaining").get("message", "") and ns,
        message="pods named as remaining")
    assert namespace["status"]["phase"] == "Terminating"

    api.delete(f"{base}/pods/bound", gracePeriodSeconds=0)

    wait_for(lambda: api.maybe(base) is None, message=f"namespace {name} removed")
