"""Lists: selectors, pagination, tables and discovery."""

from __future__ import annotations

import pytest

from tests.server.helpers import API, TABLE, configmap, pod, status_of


@pytest.fixture
def api(api_server) -> API:
    return API(api_server.url)


def names(response) -> list[str]:
    return [i["metadata"]["name"] for i in response.json()["items"]]


@pytest.fixture
def labelled(api, namespace) -> str:
    for name, labels in (("a", {"tier": "web", "env": "prod"}),
                         ("b", {"tier": "web", "env": "dev"}),
                         ("c", {"tier": "db"}),
                         ("d", {})):
        assert api.create("configmaps", namespace, configmap(name, labels)).ok
    return namespace


@pytest.mark.parametrize("selector,expected", [
    ("tier=web", ["a", "b"]),
    ("tier==web", ["a", "b"]),
    ("tier!=web", ["c", "d"]),
    ("env in (prod,staging)", ["a"]),
    ("env notin (prod)", ["b", "c", "d"]),
    ("env", ["a", "b"]),
    ("!env", ["c", "d"]),
    ("tier=web,env=dev", ["b"]),
], ids=["equals", "double-equals", "not-equals", "in", "notin", "exists",
        "not-exists", "and"])
def test_label_selectors(api, labelled, selector, expected):
    response = api.get("configmaps", labelled, params={"labelSelector": selector})

    assert names(response) == expected


def test_a_list_is_kind_list_with_a_resource_version(api, labelled):
    body = api.get("configmaps", labelled).json()

    assert body["kind"] == "ConfigMapList" and body["apiVersion"] == "v1"
    assert int(body["metadata"]["resourceVersion"]) >= max(
        int(i["metadata"]["resourceVersion"]) for i in body["items"])


def test_field_selectors_on_name_and_pod_fields(api, namespace):
    node = f"node-of-{namespace}"  # the server is shared: a node of our own
    api.create("pods", namespace, pod("on-n1", nodeName=node))
    api.create("pods", namespace, pod("on-n2", nodeName="elsewhere"))

    by_node = api.get("pods", "", params={"fieldSelector": f"spec.nodeName={node}"})
    by_name = api.get("pods", namespace, params={"fieldSelector": "metadata.name=on-n2"})
    pending = api.get("pods", namespace, params={
        "fieldSelector": f"status.phase=Pending,spec.nodeName!={node}"})

    assert names(by_node) == ["on-n1"]
    assert names(by_name) == ["on-n2"]
    assert names(pending) == ["on-n2"]


def test_an_unsupported_field_selector_is_a_bad_request(api, namespace):
    response = api.get("pods", namespace, params={"fieldSelector": "spec.image=x"})

    code, reason, message = status_of(response)
    assert (code, reason) == (400, "BadRequest")
    assert "spec.image" in message


def test_pages_follow_continue_tokens_over_one_snapshot(api, namespace):
    for n in range(7):
        api.create("configmaps", namespace, configmap(f"p{n}"))

    first = api.get("configmaps", namespace, params={"limit": 3}).json()
    api.create("configmaps", namespace, configmap("p3a"))  # after the snapshot
    seen = [i["metadata"]["name"] for i in first["items"]]
    token = first["metadata"]["continue"]
    while token:
        page = api.get("configmaps", namespace,
                       params={"limit": 3, "continue": token}).json()
        assert page["metadata"]["resourceVersion"] == first["metadata"][
            "resourceVersion"]
        seen += [i["metadata"]["name"] for i in page["items"]]
        token = page["metadata"].get("continue")

    assert seen == [f"p{n}" for n in range(7)]
    assert first["metadata"]["remainingItemCount"] == 4


def test_an_unknown_continue_token_is_gone(api, namespace):
    import base64
    import json

    token = base64.urlsafe_b64encode(json.dumps(
        {"v": "meta.k8s.io/v1", "rv": 1, "start": "x"}).encode()).decode()

    response = api.get("configmaps", namespace, params={"limit": 1,
                                                         "continue": token})

    assert status_of(response)[:2] == (410, "Expired")


def test_tables_carry_the_kinds_columns_and_row_metadata(api, namespace):
    api.create("pods", namespace, pod("t"))

    table = api.get("pods", namespace, headers={"Accept": TABLE}).json()

    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    columns = [(c["name"], c["priority"]) for c in table["columnDefinitions"]]
    assert columns[:5] == [("Name", 0), ("Ready", 0), ("Status", 0),
                           ("Restarts", 0), ("Age", 0)]
    assert ("IP", 1) in columns and ("Node", 1) in columns
    row = table["rows"][0]
    assert row["cells"][:3] == ["t", "0/1", "Pending"]
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert row["object"]["metadata"]["name"] == "t"


def test_discovery_lists_resources_with_short_names_and_verbs(api):
    core = api.request("GET", "/api/v1").json()
    resources = {r["name"]: r for r in core["resources"]}

    assert api.request("GET", "/api").json()["versions"] == ["v1"]
    for name, short in (("pods", "po"), ("nodes", "no"), ("services", "svc"),
                        ("replicationcontrollers", "rc"), ("namespaces", "ns"),
                        ("events", "ev"), ("configmaps", "cm"),
                        ("endpoints", "ep")):
        assert short in resources[name]["shortNames"], name
    assert "all" in resources["pods"]["categories"]
    assert set(resources["pods"]["verbs"]) >= {"create", "delete", "deletecollection",
                                               "get", "list", "patch", "update",
                                               "watch"}
    assert resources["pods/status"]["verbs"] == ["get", "patch", "update"]
    assert resources["nodes"]["namespaced"] is False
    groups = {g["name"] for g in api.request("GET", "/apis").json()["groups"]}
    assert "coordination.k8s.io" in groups
    leases = api.request("GET", "/apis/coordination.k8s.io/v1").json()
    assert [r["name"] for r in leases["resources"]] == ["leases"]


@pytest.mark.parametrize("path", ["/version/", "/api/", "/api/v1/", "/apis/",
                                  "/apis/apps/", "/apis/apps/v1/"])
def test_discovery_answers_with_a_trailing_slash_too(api, path):
    without = api.request("GET", path.rstrip("/"))

    response = api.request("GET", path)

    assert response.status_code == 200
    assert response.json() == without.json()


def test_the_python_client_reads_the_version(api_server):
    from kubernetes import client

    configuration = client.Configuration()
    configuration.host = api_server.url

    version = client.VersionApi(client.ApiClient(configuration)).get_code()

    assert version.major == "1"


def test_version_and_health(api):
    version = api.request("GET", "/version").json()

    assert version["major"] == "1" and version["gitVersion"].startswith("v1.")
    for path in ("/livez", "/readyz", "/healthz"):
        response = api.request("GET", path)
        assert (response.status_code, response.text) == (200, "ok")
