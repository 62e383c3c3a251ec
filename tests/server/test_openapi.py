"""The OpenAPI documents: valid, complete, and carrying what kubectl reads."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from server import openapi
from tests.server.kubectl_recorder import Recorder
from tests.server.openapi_kinds import REVIEWS, SERVED, served_registry

GROUP_VERSIONS = [("", "v1"), ("apps", "v1"), ("coordination.k8s.io", "v1"),
                  ("discovery.k8s.io", "v1")]


@pytest.fixture(scope="module")
def registry():
    return served_registry()


def _gv_path(group: str) -> str:
    return f"apis/{group}/v1" if group else "api/v1"


def test_index_lists_every_group_version(registry):
    index = openapi.openapi_v3_index(registry)

    assert sorted(index["paths"]) == ["api/v1", "apis/apps/v1",
                                      "apis/coordination.k8s.io/v1",
                                      "apis/discovery.k8s.io/v1"]
    url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/apps/v1?hash=")
    assert len(url.split("hash=")[1]) == 128


def test_index_hash_is_stable_and_follows_the_document(registry):
    first = openapi.openapi_v3_index(registry)
    other = openapi.openapi_v3_index(served_registry())

    assert first == other


@pytest.mark.parametrize("group,version", GROUP_VERSIONS,
                         ids=["core", "apps", "coordination", "discovery"])
def test_v3_documents_validate(registry, group, version):
    document = openapi.openapi_v3_document(registry, group, version)

    validate(document)
    assert document["openapi"].startswith("3.0")


def test_v2_document_validates(registry):
    document = openapi.openapi_v2(registry)

    validate(document)
    assert document["swagger"] == "2.0"


def test_unknown_group_version_is_empty(registry):
    assert openapi.openapi_v3_document(registry, "batch", "v1") == {}


def _patch_ops(document: dict) -> list[dict]:
    return [item["patch"] for item in document["paths"].values()
            if "patch" in item]


def test_the_kinds_under_test_are_those_the_server_serves():
    from server.registry import default_registry

    kinds = default_registry().kinds
    served = [(k.group, k.kind, k.resource, k.namespaced, tuple(k.subresources))
              for k in kinds if not k.virtual]
    reviews = [(k.group, k.kind, k.resource, k.namespaced, tuple(k.subresources))
               for k in kinds if k.virtual]

    assert sorted(served) == sorted(SERVED)
    assert sorted(reviews) == sorted(REVIEWS)


@pytest.mark.parametrize("review", REVIEWS, ids=[r[1] for r in REVIEWS])
def test_a_review_kind_is_only_created(review):
    from server.registry import default_registry

    group, kind_name, resource = review[:3]
    document = openapi.openapi_v3_document(default_registry(), group, "v1")
    url = f"/apis/{group}/v1/{resource}"

    assert set(document["paths"][url]) == {"post", "parameters"}
    assert not [p for p in document["paths"] if p.startswith(url + "/")]


@pytest.mark.parametrize("served", SERVED, ids=[s[1] for s in SERVED])
def test_every_kind_has_a_patch_with_field_validation(registry, served):
    # kubectl's QueryParamVerifierV3 finds the PATCH operation by its GVK and
    # looks for fieldValidation among its parameters.
    group, kind = served[0], served[1]
    document = openapi.openapi_v3_document(registry, group, "v1")
    gvk = {"group": group, "kind": kind, "version": "v1"}

    matching = [op for op in _patch_ops(document)
                if op["x-kubernetes-group-version-kind"] == gvk]

    assert matching
    for op in matching:
        names = [p["name"] for p in op["parameters"]]
        assert "fieldValidation" in names


@pytest.mark.parametrize("served", SERVED, ids=[s[1] for s in SERVED])
def test_every_kind_has_a_gvk_schema(registry, served):
    group, kind = served[0], served[1]
    document = openapi.openapi_v3_document(registry, group, "v1")
    schemas = document["components"]["schemas"]
    gvk = {"group": group, "kind": kind, "version": "v1"}

    found = [name for name, schema in schemas.items()
             if gvk in schema.get("x-kubernetes-group-version-kind", [])]

    assert len(found) == 1
    assert schemas[found[0]]["properties"]["metadata"]


def test_namespaced_paths_and_actions(registry):
    paths = openapi.openapi_v3_document(registry, "", "v1")["paths"]

    collection = paths["/api/v1/namespaces/{namespace}/pods"]
    item = paths["/api/v1/namespaces/{namespace}/pods/{name}"]

    assert collection["get"]["x-kubernetes-action"] == "list"
    assert collection["post"]["x-kubernetes-action"] == "post"
    assert collection["delete"]["x-kubernetes-action"] == "deletecollection"
    assert item["put"]["operationId"] == "replaceCoreV1NamespacedPod"
    assert paths["/api/v1/pods"]["get"]["operationId"] == (
        "listCoreV1PodForAllNamespaces")
    binding = paths["/api/v1/namespaces/{namespace}/pods/{name}/binding"]
    assert binding["post"]["x-kubernetes-group-version-kind"]["kind"] == "Binding"


def test_cluster_scoped_paths(registry):
    paths = openapi.openapi_v3_document(registry, "", "v1")["paths"]

    assert "/api/v1/namespaces/{name}" in paths
    assert "/api/v1/nodes/{name}/status" in paths
    assert "/api/v1/namespaces/{namespace}/nodes" not in paths


def test_scale_subresource_names_autoscaling_scale(registry):
    paths = openapi.openapi_v3_document(registry, "apps", "v1")["paths"]

    scale = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]

    assert scale["put"]["x-kubernetes-group-version-kind"] == {
        "group": "autoscaling", "kind": "Scale", "version": "v1"}
    assert scale["patch"]["operationId"] == (
        "patchAppsV1NamespacedDeploymentScale")


def test_list_extensions_come_from_the_schema(registry):
    schemas = openapi.openapi_v3_document(registry, "", "v1")["components"][
        "schemas"]

    containers = schemas["io.k8s.api.core.v1.PodSpec"]["properties"][
        "containers"]

    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    assert containers["x-kubernetes-list-type"] == "map"
    assert containers["x-kubernetes-list-map-keys"] == ["name"]


def test_property_refs_keep_their_description(registry):
    schemas = openapi.openapi_v3_document(registry, "", "v1")["components"][
        "schemas"]

    spec = schemas["io.k8s.api.core.v1.Pod"]["properties"]["spec"]

    assert spec["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.api.core.v1.PodSpec"}]
    assert spec["description"]


def test_special_types_have_definitions(registry):
    schemas = openapi.openapi_v3_document(registry, "", "v1")["components"][
        "schemas"]

    assert schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Time"]["format"] == (
        "date-time")
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.Patch" in schemas


# /openapi/v2 in protobuf: what kubectl's client-side validation reads.

LIST = """apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: settings}
  data: {mode: fast}
- apiVersion: v1
  kind: Pod
  metadata: {name: web}
  spec:
    containers:
    - name: main
      image: nginx
"""


def test_v2_protobuf_carries_the_definitions(registry):
    from server.openapi_v2_proto import _CLASSES

    document = _CLASSES["Document"]()
    document.ParseFromString(openapi.openapi_v2_protobuf(registry))

    definitions = {d.name: d.value
                   for d in document.definitions.additional_properties}
    pod = definitions["io.k8s.api.core.v1.Pod"]
    assert document.swagger == "2.0"
    assert [e.name for e in pod.vendor_extension] == [
        "x-kubernetes-group-version-kind"]
    assert '"kind": "Pod"' in pod.vendor_extension[0].value.yaml
    spec = {p.name: p.value for p in pod.properties.additional_properties}
    assert spec["spec"]._ref == "#/definitions/io.k8s.api.core.v1.PodSpec"


def test_kubectl_validates_a_list_with_the_v2_protobuf(registry):
    with Recorder(registry) as recorder:
        result = recorder.kubectl("create", "-f", "-", stdin=LIST)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["configmap/settings", "created",
                                     "pod/web", "created"]


def test_kubectl_refuses_unknown_fields_in_a_list(registry):
    bad = LIST.replace("image: nginx", "image: nginx\n      imagee: x")

    with Recorder(registry) as recorder:
        result = recorder.kubectl("create", "-f", "-", stdin=bad)

    assert result.returncode == 1
    assert ('unknown field "imagee" in io.k8s.api.core.v1.Container'
            in result.stderr)
    assert recorder.writes() == []
