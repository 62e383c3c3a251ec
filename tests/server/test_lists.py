"""Lists: selectors, pagination, tables and discovery."""

from __future__ import annotations

import base64
import json
import time

import pytest

from server.handlers import SNAPSHOTS_KEPT
from tests.server.helpers import API, MERGE_PATCH, TABLE, configmap, pod, status_of


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


def follow(api: API, namespace: str, token: str, limit: int = 2) -> list[dict]:
    """The pages a continue token leads to, to the last."""
    pages = []
    while token:
        page = api.get("configmaps", namespace,
                       params={"limit": limit, "continue": token}).json()
        pages.append(page)
        token = page["metadata"].get("continue")
    return pages


def page_names(pages: list[dict]) -> list[str]:
    return [i["metadata"]["name"] for page in pages for i in page["items"]]


def test_a_token_goes_on_after_its_snapshot_is_evicted(api, namespace):
    for n in range(4):
        api.create("configmaps", namespace, configmap(f"p{n}"))
    first = api.get("configmaps", namespace, params={"limit": 2}).json()
    api.create("configmaps", namespace, configmap("p1a"))
    for _ in range(SNAPSHOTS_KEPT + 1):  # newer paginated lists push it out
        api.get("configmaps", namespace, params={"limit": 1})

    pages = follow(api, namespace, first["metadata"]["continue"])

    assert page_names(pages) == ["p2", "p3"]
    assert pages[0]["metadata"]["resourceVersion"] == first["metadata"][
        "resourceVersion"]


def test_a_token_goes_on_over_the_same_snapshot_after_a_restart(start_server):
    server = start_server()
    api = API(server.url)
    for n in range(5):
        api.create("configmaps", "default", configmap(f"p{n}"))
    first = api.get("configmaps", "default", params={"limit": 2}).json()
    api.create("configmaps", "default", configmap("p2a"))
    api.delete("configmaps", "default", "p4")
    server.stop()

    restarted = API(start_server(data_dir=server.data_dir).url)
    pages = follow(restarted, "default", first["metadata"]["continue"])

    assert page_names(pages) == ["p2", "p3", "p4"]
    assert pages[0]["metadata"]["remainingItemCount"] == 1
    assert {p["metadata"]["resourceVersion"] for p in pages} == {
        first["metadata"]["resourceVersion"]}


@pytest.mark.parametrize("token,message", [
    ("%%%", "invalid continue token: continue key is not valid: illegal base64 data"),
    (base64.urlsafe_b64encode(b'{"v":"meta.k8s.io/v1","rv":0,"start":"a"}').decode(),
     "invalid continue token: continue key is not valid: incorrect encoded "
     "start resourceVersion "
     "(version meta.k8s.io/v1)"),
], ids=["not-base64", "revision-0"])
def test_a_malformed_token_is_a_bad_request(api, namespace, token, message):
    response = api.get("configmaps", namespace, params={"continue": token})

    assert status_of(response) == (400, "BadRequest", message)


EXPIRED = (
    "The provided continue parameter is too old to display a consistent list "
    "result. You can start a new list without the continue parameter, or use the "
    "continue token in this response to retrieve the remainder of the results. "
    "Continuing with the provided token results in an inconsistent list - objects "
    "that were created, modified, or deleted between the time the first chunk was "
    "returned and now may show up in the list.")


def expired_answer(api: API, token: str, timeout: float = 15):
    """The answer to ``token`` once compaction has passed its revision."""
    deadline = time.monotonic() + timeout
    while True:
        api.create("configmaps", "default", {"metadata": {"generateName": "w-"}})
        response = api.get("configmaps", "default",
                           params={"limit": 1, "continue": token})
        if response.status_code != 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def test_a_token_of_a_compacted_revision_is_expired(start_server):
    server = start_server("--compact-interval=0.1", "--keep-revisions=1",
                          "--keep-seconds=0")
    api = API(server.url)
    for name in ("a", "b", "c"):
        api.create("configmaps", "default", configmap(name))
    first = api.get("configmaps", "default", params={"limit": 1}).json()
    api.create("configmaps", "default", configmap("b2"))

    response = expired_answer(api, first["metadata"]["continue"])

    assert status_of(response) == (410, "Expired", EXPIRED)
    # Its own token goes on from the same key at the latest state.
    latest = response.json()["metadata"]["continue"]
    rest = api.get("configmaps", "default", params={"continue": latest}).json()
    assert page_names([rest])[:3] == ["b", "b2", "c"]


def test_a_restart_age_is_written_when_the_table_is_asked_for(api, namespace):
    import datetime as dt

    api.create("pods", namespace, pod("restarted"))
    finished = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=60)
    status = {"status": {"phase": "Running", "containerStatuses": [{
        "name": "main", "image": "busybox:1.36", "imageID": "", "ready": True,
        "restartCount": 2, "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}},
        "lastState": {"terminated": {
            "exitCode": 1, "startedAt": "2026-01-01T00:00:00Z",
            "finishedAt": finished.strftime("%Y-%m-%dT%H:%M:%SZ")}}}]}}
    api.patch("pods", namespace, "restarted", json.dumps(status),
              MERGE_PATCH, sub="status")

    def restarts() -> str:
        table = api.get("pods", namespace, "restarted",
                        headers={"Accept": TABLE}).json()
        return table["rows"][0]["cells"][3]

    first = restarts()
    time.sleep(2.1)
    later = restarts()

    assert first.startswith("2 (6") and first.endswith("s ago)")
    assert later != first and later.startswith("2 (6")


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
