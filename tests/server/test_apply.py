"""Server-side apply: PATCH with application/apply-patch+yaml, field managers,
conflicts, removal of fields an applier stops setting; and kubectl apply
--server-side against the server."""

from __future__ import annotations

import json

import pytest
import yaml

from server import apply as server_apply
from tests.conftest import KUBECTL, run_kubectl
from tests.server.helpers import API, MERGE_PATCH, configmap, status_of

APPLY = "application/apply-patch+yaml"


@pytest.fixture
def api(api_server) -> API:
    return API(api_server.url)


def apply(api: API, namespace: str, obj: dict, manager: str = "test",
          resource: str = "configmaps", group: str = "", **query):
    path = api.path(resource, namespace, obj["metadata"]["name"], group=group)
    params = {"fieldManager": manager, **query} if manager else query
    return api.request("PATCH", path, yaml.safe_dump(obj), APPLY, params=params)


def managers(obj: dict) -> dict:
    return {e["manager"]: e["fieldsV1"] for e in obj["metadata"]["managedFields"]}


# --- over HTTP ---

def test_apply_creates_then_updates(api, namespace):
    created = apply(api, namespace, configmap("c", a="1"))
    again = apply(api, namespace, configmap("c", a="1"))
    changed = apply(api, namespace, configmap("c", a="2"))

    assert created.status_code == 201
    entry = created.json()["metadata"]["managedFields"][0]
    assert (entry["manager"], entry["operation"], entry["fieldsType"]) == (
        "test", "Apply", "FieldsV1")
    assert entry["fieldsV1"] == {"f:data": {"f:a": {}}}
    # The same configuration again writes nothing.
    assert again.status_code == 200
    assert again.json()["metadata"]["resourceVersion"] == created.json()[
        "metadata"]["resourceVersion"]
    assert changed.status_code == 200 and changed.json()["data"] == {"a": "2"}


def test_fields_an_applier_drops_are_removed(api, namespace):
    apply(api, namespace, configmap("drop", labels={"x": "1"}, a="1", b="2"))

    result = apply(api, namespace, configmap("drop", a="1")).json()

    assert result["data"] == {"a": "1"}
    assert "labels" not in result["metadata"]
    assert managers(result)["test"] == {"f:data": {"f:a": {}}}


def test_fields_other_clients_set_are_kept(api, namespace):
    apply(api, namespace, configmap("keep", a="1"))
    path = api.path("configmaps", namespace, "keep")
    api.request("PATCH", path, {"data": {"other": "x"}}, MERGE_PATCH)

    result = apply(api, namespace, configmap("keep", a="2")).json()

    assert result["data"] == {"a": "2", "other": "x"}


def test_a_field_another_applier_owns_is_a_conflict(api, namespace):
    apply(api, namespace, configmap("clash", a="1"), manager="first")
    before = api.get("configmaps", namespace, "clash").json()

    conflict = apply(api, namespace, configmap("clash", a="2"), manager="second")
    forced = apply(api, namespace, configmap("clash", a="2"), manager="second",
                   force="true")

    assert status_of(conflict)[:2] == (409, "Conflict")
    body = conflict.json()
    assert body["message"] == ('Apply failed with 1 conflict: conflict with '
                               '"first": .data.a')
    assert body["details"]["causes"] == [{
        "reason": "FieldManagerConflict", "message": 'conflict with "first"',
        "field": ".data.a"}]
    # Refused: nothing changed. Forced: the field and its ownership move.
    assert before["data"] == {"a": "1"}
    assert forced.json()["data"] == {"a": "2"}
    assert list(managers(forced.json())) == ["second"]


def test_the_same_value_is_shared_not_a_conflict(api, namespace):
    apply(api, namespace, configmap("share", a="1", b="1"), manager="first")

    shared = apply(api, namespace, configmap("share", a="1"), manager="second")
    # The first applier lets go of a, which the second still owns: it stays.
    after = apply(api, namespace, configmap("share", b="1"), manager="first")

    assert shared.status_code == 200
    assert after.json()["data"] == {"a": "1", "b": "1"}


def test_keyed_lists_merge_by_key(api, namespace):
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                     "containers": [{"name": "web", "image": "nginx:1",
                                     "env": [{"name": "A", "value": "1"},
                                             {"name": "B", "value": "2"}]}]}}}}
    first = apply(api, namespace, deployment, resource="deployments",
                  group="apps/v1")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["image"] = "nginx:2"
    container["env"] = [{"name": "A", "value": "1"}]
    second = apply(api, namespace, deployment, resource="deployments",
                   group="apps/v1")

    assert first.status_code == 201
    stored = second.json()["spec"]["template"]["spec"]["containers"]
    assert [c["image"] for c in stored] == ["nginx:2"]
    assert stored[0]["env"] == [{"name": "A", "value": "1"}]
    # Defaults stay: the server set them, no applier owns them.
    assert stored[0]["imagePullPolicy"] == "IfNotPresent"
    assert second.json()["metadata"]["generation"] == 2
    owned = managers(second.json())["test"]["f:spec"]["f:template"]["f:spec"]
    assert owned["f:containers"]['k:{"name":"web"}']["f:env"] == {
        'k:{"name":"A"}': {".": {}, "f:name": {}, "f:value": {}}}


@pytest.mark.parametrize("query, message", [
    ({}, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
         "is required for apply patch"),
], ids=["no-field-manager"])
def test_apply_options_are_checked(api, namespace, query, message):
    response = apply(api, namespace, configmap("opts", a="1"), manager="", **query)

    assert status_of(response)[:2] == (422, "Invalid")
    assert response.json()["message"] == message
    assert api.get("configmaps", namespace, "opts").status_code == 404


def test_force_is_only_for_apply(api, namespace):
    api.create("configmaps", namespace, configmap("forced", a="1"))
    path = api.path("configmaps", namespace, "forced")

    response = api.request("PATCH", path, {"data": {"a": "2"}}, MERGE_PATCH,
                           params={"force": "true"})

    assert status_of(response)[:2] == (422, "Invalid")
    assert response.json()["message"] == (
        'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be '
        "specified for non-apply patch")
    assert api.get("configmaps", namespace, "forced").json()["data"] == {"a": "1"}


@pytest.mark.parametrize("body, message", [
    ({"apiVersion": "v2", "kind": "ConfigMap", "metadata": {"name": "bad"}},
     "Incorrect version specified in apply patch. Specified patch version: v2, "
     "expected: v1"),
    ({"kind": "ConfigMap", "metadata": {"name": "bad"}},
     "Incorrect version specified in apply patch. Specified patch version: , "
     "expected: v1"),
    ({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "bad"}},
     "Incorrect kind specified in apply patch. Specified patch kind: Secret, "
     "expected: ConfigMap"),
    ({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other"}},
     "the name of the object (other) does not match the name on the URL (bad)"),
], ids=["version", "no-version", "kind", "name"])
def test_bad_apply_bodies_are_400(api, namespace, body, message):
    path = api.path("configmaps", namespace, "bad")

    response = api.request("PATCH", path, yaml.safe_dump(body), APPLY,
                           params={"fieldManager": "test"})

    assert status_of(response)[:2] == (400, "BadRequest")
    assert response.json()["message"] == message
    assert api.get("configmaps", namespace, "bad").status_code == 404


def test_malformed_yaml_is_400_and_changes_nothing(api, namespace):
    apply(api, namespace, configmap("yaml", a="1"))
    path = api.path("configmaps", namespace, "yaml")

    response = api.request("PATCH", path, "data: [unclosed", APPLY,
                           params={"fieldManager": "test"})

    assert status_of(response)[:2] == (400, "BadRequest")
    assert api.get("configmaps", namespace, "yaml").json()["data"] == {"a": "1"}


def test_an_invalid_applied_object_is_422(api, namespace):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "noimage"},
           "spec": {"containers": [{"name": "c"}]}}

    response = apply(api, namespace, pod, resource="pods")

    assert status_of(response)[:2] == (422, "Invalid")
    assert "spec.containers[0].image: Required value" in response.json()["message"]


def test_dry_run_apply_stores_nothing(api, namespace):
    response = apply(api, namespace, configmap("dry", a="1"), dryRun="All")

    assert response.status_code == 201 and response.json()["data"] == {"a": "1"}
    assert api.get("configmaps", namespace, "dry").status_code == 404


def test_updates_keep_the_appliers_fields(api, namespace):
    created = apply(api, namespace, configmap("put", a="1")).json()
    created["data"]["a"] = "3"
    created["metadata"]["managedFields"] = []

    put = api.request("PUT", api.path("configmaps", namespace, "put"), created)

    assert put.status_code == 200
    assert managers(put.json()) == {"test": {"f:data": {"f:a": {}}}}


# --- the field sets, directly ---

def test_path_text_reads_like_kubernetes():
    path = ("f:spec", "f:containers", 'k:{"name":"web"}', "f:image")

    assert server_apply.path_text(path) == '.spec.containers[name="web"].image'
    assert server_apply.path_text(("f:metadata", "f:finalizers", 'v:"a"')) == (
        '.metadata.finalizers[="a"]')


def test_tree_and_paths_round_trip():
    fields = server_apply.owned_fields("Pod", {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "labels": {"a": "1"}, "finalizers": ["x"]},
        "spec": {"containers": [{"name": "c", "image": "i"}]},
        "status": {"phase": "Running"}})

    assert fields == {
        "f:metadata": {"f:labels": {"f:a": {}}, "f:finalizers": {'v:"x"': {}}},
        "f:spec": {"f:containers": {'k:{"name":"c"}': {
            ".": {}, "f:image": {}, "f:name": {}}}}}
    assert server_apply.tree(server_apply.paths(fields)) == fields


# --- the real kubectl ---

needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")

MANIFEST = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: ssa
data:
  a: "1"
  b: "2"
"""


@needs_kubectl
def test_kubectl_apply_server_side(api_server, api, namespace, tmp_path):
    manifest = tmp_path / "cm.yaml"
    manifest.write_text(MANIFEST)

    def run(*args, **kw):
        return run_kubectl(api_server, "-n", namespace, *args, **kw)

    first = run("apply", "--server-side", "-f", str(manifest))
    manifest.write_text(MANIFEST.replace('  b: "2"\n', ""))
    second = run("apply", "--server-side", "-f", str(manifest))
    other = run("apply", "--server-side", "--field-manager", "other", "-f", "-",
                input=MANIFEST.replace('"1"', '"9"'))
    forced = run("apply", "--server-side", "--field-manager", "other",
                 "--force-conflicts", "-f", "-",
                 input=MANIFEST.replace('"1"', '"9"'))

    assert (first.returncode, first.stdout) == (0, "configmap/ssa serverside-applied\n")
    assert second.returncode == 0
    assert other.returncode == 1
    assert 'Apply failed with 1 conflict: conflict with "kubectl": .data.a' in (
        other.stderr)
    assert forced.returncode == 0
    data = json.loads(run("get", "configmap", "ssa", "-o", "json").stdout)["data"]
    assert data == {"a": "9", "b": "2"}


@needs_kubectl
def test_kubectl_diff_server_side(api_server, namespace, tmp_path):
    manifest = tmp_path / "cm.yaml"
    manifest.write_text(MANIFEST)
    run_kubectl(api_server, "-n", namespace, "apply", "--server-side", "-f",
                str(manifest))
    manifest.write_text(MANIFEST.replace('"2"', '"3"'))

    diff = run_kubectl(api_server, "-n", namespace, "diff", "--server-side", "-f",
                       str(manifest))

    assert diff.returncode == 1  # kubectl diff: 1 means there are differences
    assert '-  b: "2"' in diff.stdout and '+  b: "3"' in diff.stdout


@pytest.mark.parametrize("dropped", ["env", "ports"])
def test_a_whole_keyed_list_an_applier_drops_is_removed(api, namespace, dropped):
    container = {"name": "web", "image": "nginx:1",
                 "env": [{"name": "A", "value": "1"}],
                 "ports": [{"containerPort": 80}]}
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": f"drop-{dropped}"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "d"}},
                 "template": {"metadata": {"labels": {"app": "d"}},
                              "spec": {"containers": [container]}}}}
    apply(api, namespace, deployment, resource="deployments", group="apps/v1")
    del container[dropped]

    answer = apply(api, namespace, deployment, resource="deployments",
                   group="apps/v1")

    assert answer.status_code == 200, answer.text
    stored = answer.json()["spec"]["template"]["spec"]["containers"][0]
    assert dropped not in stored
    assert stored["image"] == "nginx:1"
