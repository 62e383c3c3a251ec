"""PATCH bodies: what each patch type does to an object and what it answers."""

from __future__ import annotations

import copy
import json
import re

import pytest
import yaml

from server.errors import APIError
from server.patch import (
    JSON_PATCH, MERGE_PATCH, REJECTED, STRATEGIC_MERGE_PATCH,
    apply_patch, create_merge_patch, create_three_way_json_merge_patch,
    create_three_way_merge_patch, create_two_way_merge_patch, supports_strategic,
)
from server.strategic_schema import PatchError
from tests.server.helpers import API, pod, status_of

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "p", "namespace": "default", "labels": {"app": "web"},
        "finalizers": ["a/one", "a/two"],
        "ownerReferences": [{"uid": "u1", "kind": "ReplicaSet", "name": "rs"}],
    },
    "spec": {
        "containers": [
            {"name": "app", "image": "app:1", "args": ["x", "y"],
             "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
             "ports": [{"containerPort": 80, "name": "http"}],
             "volumeMounts": [{"mountPath": "/data", "name": "data"}]},
            {"name": "side", "image": "side:1"},
        ],
        "volumes": [{"name": "data", "emptyDir": {}}],
        "tolerations": [{"key": "k", "operator": "Exists"}],
    },
    "status": {"conditions": [{"type": "Ready", "status": "False"},
                              {"type": "Initialized", "status": "True"}]},
}


def patch_json(obj: dict, patch: object, content_type: str,
               kind: str = "Pod") -> dict:
    """Apply, and prove the input object was left alone."""
    before = copy.deepcopy(obj)
    body = patch if isinstance(patch, bytes) else json.dumps(patch).encode()

    result = apply_patch(kind, obj, body, content_type)

    assert obj == before
    return result


def failure(obj: dict, body: bytes, content_type: str,
            kind: str = "Pod") -> APIError:
    before = copy.deepcopy(obj)
    with pytest.raises(APIError) as caught:
        apply_patch(kind, obj, body, content_type)
    assert obj == before
    return caught.value


def containers(pod: dict) -> list[str]:
    return [c["name"] for c in pod["spec"]["containers"]]


# --- media types ---

ACCEPTED = ("the body of the request was in an unknown format - accepted media "
            "types include: application/json-patch+json, "
            "application/merge-patch+json")


BUILT_IN = (ACCEPTED + ", application/strategic-merge-patch+json, "
            "application/apply-patch+yaml")


@pytest.mark.parametrize("kind, content_type, message", [
    ("Pod", "application/json", BUILT_IN),
    ("Pod", "", BUILT_IN),
    ("Widget", STRATEGIC_MERGE_PATCH, ACCEPTED + ", application/apply-patch+yaml"),
], ids=["plain-json", "no-content-type", "strategic-on-custom-resource"])
def test_unsupported_media_types(kind, content_type, message):
    error = failure(POD, b"{}", content_type, kind)

    assert (error.code, error.reason, error.message) == (
        415, "UnsupportedMediaType", message)


def test_content_type_parameters_are_ignored():
    result = patch_json(POD, {"metadata": {"labels": {"b": "2"}}},
                        MERGE_PATCH + "; charset=utf-8")

    assert result["metadata"]["labels"] == {"app": "web", "b": "2"}


def test_strategic_merge_is_for_built_in_kinds_only():
    assert supports_strategic("Pod") and supports_strategic("Deployment")
    assert not supports_strategic("Widget")


# --- application/json-patch+json ---


@pytest.mark.parametrize("operations, check", [
    ([{"op": "replace", "path": "/spec/containers/0/image", "value": "app:2"}],
     lambda p: p["spec"]["containers"][0]["image"] == "app:2"),
    ([{"op": "add", "path": "/metadata/labels/tier", "value": "fe"}],
     lambda p: p["metadata"]["labels"] == {"app": "web", "tier": "fe"}),
    ([{"op": "remove", "path": "/spec/containers/1"}],
     lambda p: containers(p) == ["app"]),
    ([{"op": "test", "path": "/metadata/name", "value": "p"},
      {"op": "add", "path": "/spec/containers/0/args/-", "value": "z"}],
     lambda p: p["spec"]["containers"][0]["args"] == ["x", "y", "z"]),
    (None, lambda p: p == POD),
], ids=["replace", "add", "remove", "test-then-add", "null-patch"])
def test_json_patch_applies(operations, check):
    assert check(patch_json(POD, operations, JSON_PATCH))


@pytest.mark.parametrize("operations", [
    [{"op": "test", "path": "/metadata/name", "value": "other"}],
    [{"op": "remove", "path": "/metadata/annotations/missing"}],
    [{"op": "replace", "path": "/spec/nothing/here", "value": 1}],
    [{"op": "frobnicate", "path": "/metadata/name"}],
    [{"op": "add", "path": "", "value": [1]}],
], ids=["test-fails", "remove-missing", "replace-missing-parent", "unknown-op",
        "replace-with-non-object"])
def test_json_patch_that_does_not_apply_is_rejected(operations):
    error = failure(POD, json.dumps(operations).encode(), JSON_PATCH)

    assert (error.code, error.reason, error.message) == (422, "Invalid", REJECTED)


@pytest.mark.parametrize("body, code, message", [
    (b"[{", 400, "error decoding patch: unexpected end of JSON input"),
    (b"nope", 400, "error decoding patch: invalid character 'o' in literal null "
     "(expecting 'u')"),
    (b'{"op": "add"}', 400, "error decoding patch: json: cannot unmarshal object "
     "into Go value of type []handlers.jsonPatchOp"),
    (b'["add"]', 400, "error decoding patch: json: cannot unmarshal string into "
     "Go value of type handlers.jsonPatchOp"),
    (b'[{"op": 1, "path": "/a"}]', 400, "error decoding patch: json: cannot "
     "unmarshal number into Go struct field jsonPatchOp.op of type string"),
    (json.dumps([{"op": "test", "path": "/kind", "value": "Pod"}] * 10001).encode(),
     413, "The allowed maximum operations in a JSON patch is 10000, got 10001"),
], ids=["truncated", "not-json", "object", "string-operation", "number-op",
        "too-many-operations"])
def test_json_patch_bad_bodies(body, code, message):
    error = failure(POD, body, JSON_PATCH)

    assert (error.code, error.message) == (code, message)


# --- application/merge-patch+json (RFC 7386) ---


@pytest.mark.parametrize("original, patch, expected", [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ({"a": {"b": 1}}, {"a": [{"x": None}]}, {"a": [{"x": None}]}),
    ({}, {"a": [{"x": None, "y": 1}]}, {"a": [{"y": 1}]}),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
], ids=["replace-value", "add-key", "delete-key", "delete-one-of-two",
        "scalar-over-list", "list-over-scalar", "nested-merge", "list-replaced",
        "new-map-loses-nulls", "list-over-map-kept-as-is", "new-list-loses-nulls",
        "untouched-null-kept"])
def test_merge_patch_rfc7386(original, patch, expected):
    assert patch_json(original, patch, MERGE_PATCH) == expected


@pytest.mark.parametrize("body, message", [
    (b"null", "Invalid JSON Patch"),
    (b"{", "error decoding patch: unexpected end of JSON input"),
    (b'{"a" 1}', "error decoding patch: invalid character '1' after object key"),
    (b"[1]", "error decoding patch: json: cannot unmarshal array into Go value of "
     "type map[string]interface {}"),
], ids=["null", "truncated", "missing-colon", "array"])
def test_merge_patch_bad_bodies(body, message):
    error = failure(POD, body, MERGE_PATCH)

    assert (error.code, error.reason, error.message) == (400, "BadRequest", message)


# --- application/strategic-merge-patch+json ---


def smp(patch: object, obj: dict = POD, kind: str = "Pod") -> dict:
    return patch_json(obj, patch, STRATEGIC_MERGE_PATCH, kind)


def test_containers_merge_by_name():
    result = smp({"spec": {"containers": [{"name": "side", "image": "side:2"}]}})

    assert result["spec"]["containers"][1] == {"name": "side", "image": "side:2"}
    assert result["spec"]["containers"][0] == POD["spec"]["containers"][0]


def test_new_container_goes_before_the_live_ones_without_element_order():
    # Kubernetes puts patch items the live list lacks ahead of server-only
    # items when the patch gives no $setElementOrder.
    result = smp({"spec": {"containers": [{"name": "new", "image": "n:1"}]}})

    assert containers(result) == ["new", "app", "side"]


def test_patch_order_wins_over_live_order():
    result = smp({"spec": {"containers": [{"name": "side", "image": "s:2"},
                                          {"name": "app", "image": "a:2"}]}})

    assert containers(result) == ["side", "app"]


@pytest.mark.parametrize("patch, field, expected", [
    ({"env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}]}, "env",
     [{"name": "A", "value": "1"}, {"name": "B", "value": "3"},
      {"name": "C", "value": "4"}]),
    ({"ports": [{"containerPort": 80, "protocol": "TCP"},
                {"containerPort": 443}]}, "ports",
     [{"containerPort": 80, "name": "http", "protocol": "TCP"},
      {"containerPort": 443}]),
    ({"volumeMounts": [{"mountPath": "/data", "readOnly": True}]}, "volumeMounts",
     [{"mountPath": "/data", "name": "data", "readOnly": True}]),
    ({"args": ["z"]}, "args", ["z"]),
], ids=["env-by-name", "ports-by-container-port", "volume-mounts-by-mount-path",
        "args-replaced"])
def test_container_lists(patch, field, expected):
    result = smp({"spec": {"containers": [{"name": "app", **patch}]}})

    assert result["spec"]["containers"][0][field] == expected


@pytest.mark.parametrize("kind, obj, patch, path, expected", [
    ("Pod", POD, {"metadata": {"finalizers": ["a/three", "a/one"]}},
     ("metadata", "finalizers"), ["a/three", "a/one", "a/two"]),
    ("Pod", POD, {"metadata": {"ownerReferences": [{"uid": "u1", "name": "rs2"}]}},
     ("metadata", "ownerReferences"),
     [{"uid": "u1", "kind": "ReplicaSet", "name": "rs2"}]),
    ("Pod", POD, {"status": {"conditions": [{"type": "Ready", "status": "True"}]}},
     ("status", "conditions"),
     [{"type": "Ready", "status": "True"}, {"type": "Initialized",
                                            "status": "True"}]),
    ("Pod", POD, {"spec": {"tolerations": [{"key": "j", "operator": "Exists"}]}},
     ("spec", "tolerations"), [{"key": "j", "operator": "Exists"}]),
    ("Node", {"status": {"addresses": [{"type": "InternalIP", "address": "1"},
                                       {"type": "Hostname", "address": "h"}]}},
     {"status": {"addresses": [{"type": "InternalIP", "address": "2"}]}},
     ("status", "addresses"),
     [{"type": "InternalIP", "address": "2"}, {"type": "Hostname", "address": "h"}]),
    ("Service", {"spec": {"ports": [{"port": 80, "targetPort": 8080}]}},
     {"spec": {"ports": [{"port": 80, "targetPort": 9090}, {"port": 443}]}},
     ("spec", "ports"), [{"port": 80, "targetPort": 9090}, {"port": 443}]),
    ("Deployment",
     {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "1"},
                                                    {"name": "b", "image": "1"}]}}}},
     {"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "2"}]}}}},
     ("spec", "template", "spec", "containers"),
     [{"name": "a", "image": "1"}, {"name": "b", "image": "2"}]),
    ("ConfigMap", {"data": {"a": "1", "b": "2"}}, {"data": {"a": None, "c": "3"}},
     ("data",), {"b": "2", "c": "3"}),
], ids=["finalizers-union", "owner-references-by-uid", "conditions-by-type",
        "tolerations-replaced", "node-addresses-by-type", "service-ports-by-port",
        "deployment-template-containers", "map-merge-and-null-delete"])
def test_merge_keys_by_kind(kind, obj, patch, path, expected):
    result = smp(patch, obj, kind)

    for key in path:
        result = result[key]
    assert result == expected


@pytest.mark.parametrize("patch, check", [
    ({"metadata": {"labels": {"$patch": "replace", "new": "1"}}},
     lambda p: p["metadata"]["labels"] == {"new": "1"}),
    ({"metadata": {"labels": {"$patch": "delete"}}},
     lambda p: p["metadata"]["labels"] == {}),
    ({"spec": {"containers": [{"name": "app", "$patch": "delete"}]}},
     lambda p: containers(p) == ["side"]),
    ({"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "o"}]}},
     lambda p: p["spec"]["containers"] == [{"name": "only", "image": "o"}]),
    ({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a/one"]}},
     lambda p: p["metadata"]["finalizers"] == ["a/two"]),
    ({"spec": {"$setElementOrder/containers": [{"name": "side"}, {"name": "app"}]}},
     lambda p: containers(p) == ["side", "app"]),
    ({"spec": {"$setElementOrder/containers": [{"name": "app"}, {"name": "new"},
                                               {"name": "side"}],
               "containers": [{"name": "new", "image": "n"}]}},
     lambda p: containers(p) == ["app", "new", "side"]),
    ({"spec": {"volumes": [{"name": "data", "configMap": {"name": "cm"},
                            "$retainKeys": ["configMap", "name"]}]}},
     lambda p: p["spec"]["volumes"] == [{"name": "data",
                                         "configMap": {"name": "cm"}}]),
    ({"spec": {"volumes": [{"name": "data", "configMap": {"name": "cm"}}]}},
     lambda p: p["spec"]["volumes"] == [{"name": "data", "emptyDir": {},
                                         "configMap": {"name": "cm"}}]),
    ({"metadata": {"annotations": {"$patch": "replace", "a": "1"}}},
     lambda p: p["metadata"]["annotations"] == {"a": "1"}),
    ({"spec": {"initContainers": [{"name": "i", "image": "i", "x": None},
                                  {"name": "gone", "$patch": "delete"}]}},
     lambda p: p["spec"]["initContainers"] == [{"name": "i", "image": "i"}]),
    ({"spec": {"$setElementOrder/containers": [{"name": "side"}, {"name": "app"}],
               "containers": [{"name": "app", "$setElementOrder/env":
                               [{"name": "B"}, {"name": "A"}]}]}},
     lambda p: [e["name"] for e in p["spec"]["containers"][1]["env"]] == ["B", "A"]),
], ids=["map-replace", "map-delete", "list-item-delete", "list-replace",
        "delete-from-primitive-list", "set-element-order", "set-element-order-insert",
        "retain-keys", "without-retain-keys-both-stay", "replace-new-map",
        "new-list-directives-act", "nested-element-order"])
def test_directives(patch, check):
    assert check(smp(patch))


@pytest.mark.parametrize("patch, code, reason, message", [
    ({"metadata": {"labels": {"$patch": "merge"}}}, 500, "",
     "unknown patch type: merge in map: map[$patch:merge]"),
    ({"spec": {"containers": [{"name": "app", "$patch": "merge"}]}}, 500, "",
     "merging lists cannot yet be specified in the patch"),
    ({"spec": {"containers": [{"name": "app", "$patch": "bogus"}]}}, 500, "",
     "unknown patch type: bogus in map: map[$patch:bogus name:app]"),
    ({"spec": {"containers": [{"image": "x"}]}}, 500, "",
     "map: map[image:x] does not contain declared merge key: name"),
    ({"spec": {"volumes": [{"name": "data", "secret": {},
                            "$retainKeys": ["name"]}]}}, 400, "BadRequest",
     "invalid patch format of retainKeys"),
    ({"spec": {"volumes": [{"name": "data", "$retainKeys": "name"}]}}, 400,
     "BadRequest", "invalid patch format of retainKeys"),
    ({"metadata": {"$deleteFromPrimitiveListfinalizers": ["a"]}}, 400, "BadRequest",
     "invalid patch format of primitive list"),
    ({"spec": {"$setElementOrder/containers": [{"name": "app"}, {"name": "side"}],
               "containers": [{"name": "side", "image": "s"},
                              {"name": "app", "image": "a"}]}}, 500, "",
     "The order in patch list:\n[map[image:s name:side] map[image:a name:app]]\n "
     "doesn't match $setElementOrder list:\n[map[name:app] map[name:side]]\n"),
    ({"metadata": {"finalizers": [1]}}, 500, "",
     "list element types are not identical: [[a/one a/two] [1]]"),
], ids=["merge-directive-on-map", "merge-directive-in-list", "unknown-directive",
        "missing-merge-key", "retain-keys-mismatch", "retain-keys-not-a-list",
        "bad-delete-list-key", "element-order-mismatch", "mixed-element-types"])
def test_strategic_merge_errors(patch, code, reason, message):
    error = failure(POD, json.dumps(patch).encode(), STRATEGIC_MERGE_PATCH)

    assert (error.code, error.reason, error.message) == (code, reason, message)


def test_lists_of_lists_are_rejected():
    obj = {"metadata": {"finalizers": [["a"]]}}

    error = failure(obj, b'{"metadata": {"finalizers": [["b"]]}}',
                    STRATEGIC_MERGE_PATCH)

    assert (error.code, error.reason, error.message) == (422, "Invalid", REJECTED)


@pytest.mark.parametrize("body, message", [
    (b"[]", "json: cannot unmarshal array into Go value of type "
     "map[string]interface {}"),
    (b"{,}", "invalid character ',' looking for beginning of object key string"),
    (b'"x"', "json: cannot unmarshal string into Go value of type "
     "map[string]interface {}"),
], ids=["array", "not-json", "string"])
def test_strategic_merge_bad_bodies(body, message):
    error = failure(POD, body, STRATEGIC_MERGE_PATCH)

    assert (error.code, error.message) == (400, message)


def test_null_strategic_patch_changes_nothing():
    assert smp(None) == POD


# --- creating patches ---


@pytest.mark.parametrize("original, modified, expected", [
    ({"a": 1}, {"a": 1}, {}),
    ({"a": 1}, {"a": 2}, {"a": 2}),
    ({"a": 1}, {}, {"a": None}),
    ({}, {"a": {"b": 1}}, {"a": {"b": 1}}),
    ({"a": {"b": 1, "c": 2}}, {"a": {"b": 1}}, {"a": {"c": None}}),
    ({"a": [1, 2]}, {"a": [2]}, {"a": [2]}),
    ({"a": 1}, {"a": 1.0}, {"a": 1.0}),
], ids=["same", "changed", "removed", "added-map", "nested-removal",
        "list-replaced", "int-to-float"])
def test_create_merge_patch(original, modified, expected):
    assert create_merge_patch(original, modified) == expected


def test_create_merge_patch_round_trips():
    modified = copy.deepcopy(POD)
    modified["spec"]["containers"].pop()
    modified["metadata"]["labels"] = {"tier": "fe"}

    patch = create_merge_patch(POD, modified)

    assert patch_json(POD, patch, MERGE_PATCH) == modified


def test_three_way_json_merge_patch_keeps_fields_set_by_others():
    original = {"spec": {"a": 1, "b": 2}}
    modified = {"spec": {"a": 5}}
    current = {"spec": {"a": 1, "b": 2, "c": 3}, "status": {"x": 1}}

    patch = create_three_way_json_merge_patch(original, modified, current)

    assert patch == {"spec": {"a": 5, "b": None}}


def deployment(containers: list[dict], labels: dict, **spec) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "labels": labels},
            "spec": {**spec, "template": {"spec": {"containers": containers}}}}


@pytest.mark.parametrize("original, modified, current, expected", [
    (deployment([{"name": "a", "image": "1"}], {"app": "x"}, replicas=1),
     deployment([{"name": "a", "image": "1"}], {"app": "x"}, replicas=2),
     deployment([{"name": "a", "image": "1"}], {"app": "x", "by": "other"},
                replicas=1),
     {"spec": {"replicas": 2}}),
    (deployment([{"name": "a", "image": "1"}], {"app": "x", "old": "1"}),
     deployment([{"name": "a", "image": "1"}], {"app": "x"}),
     deployment([{"name": "a", "image": "1"}], {"app": "x", "old": "1"}),
     {"metadata": {"labels": {"old": None}}}),
    (deployment([{"name": "a", "image": "1"}], {}),
     deployment([{"name": "a", "image": "1"}], {"new": "1"}),
     deployment([{"name": "a", "image": "1", "imagePullPolicy": "Always"}], {}),
     {"metadata": {"labels": {"new": "1"}}}),
    (deployment([{"name": "a", "image": "1"}, {"name": "b", "image": "1"}], {}),
     deployment([{"name": "a", "image": "1"}], {}),
     deployment([{"name": "a", "image": "1"}, {"name": "b", "image": "1"}], {}),
     {"spec": {"template": {"spec": {
         "$setElementOrder/containers": [{"name": "a"}],
         "containers": [{"name": "b", "$patch": "delete"}]}}}}),
    (deployment([{"name": "a", "image": "1"}], {}),
     deployment([{"name": "b", "image": "2"}, {"name": "a", "image": "2"}], {}),
     deployment([{"name": "a", "image": "1"}], {}),
     {"spec": {"template": {"spec": {
         "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
         "containers": [{"name": "b", "image": "2"},
                        {"name": "a", "image": "2"}]}}}}),
    (deployment([{"name": "a", "image": "1"}], {}),
     deployment([{"name": "a", "image": "1"}], {}),
     deployment([{"name": "a", "image": "1"}], {"by": "other"}),
     {}),
], ids=["changed-field-others-kept", "removed-field", "added-field",
        "removed-container", "added-container-and-order", "nothing-to-do"])
def test_three_way_merge_patch(original, modified, current, expected):
    inputs = copy.deepcopy((original, modified, current))

    patch = create_three_way_merge_patch(original, modified, current, "Deployment")

    assert patch == expected
    assert (original, modified, current) == inputs


def test_three_way_patch_applied_keeps_what_others_set():
    original = deployment([{"name": "a", "image": "1", "env": [
        {"name": "X", "value": "1"}]}], {"app": "x", "old": "1"})
    modified = deployment([{"name": "c", "image": "1"}, {"name": "a", "image": "2"}],
                          {"app": "x"})
    current = copy.deepcopy(original)
    current["metadata"]["labels"]["other"] = "kept"
    current["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "Always"
    current["status"] = {"replicas": 1}

    patch = create_three_way_merge_patch(original, modified, current, "Deployment")
    result = smp(patch, current, "Deployment")

    assert result["metadata"]["labels"] == {"app": "x", "other": "kept"}
    assert result["spec"]["template"]["spec"]["containers"] == [
        {"name": "c", "image": "1"},
        {"name": "a", "image": "2", "imagePullPolicy": "Always"}]
    assert result["status"] == {"replicas": 1}


def test_three_way_patch_of_primitive_list_and_retained_keys():
    original = {"metadata": {"finalizers": ["f/1", "f/2"]},
                "spec": {"template": {"spec": {"volumes": [
                    {"name": "v", "emptyDir": {}}]}}}}
    modified = {"metadata": {"finalizers": ["f/2"]},
                "spec": {"template": {"spec": {"volumes": [
                    {"name": "v", "configMap": {"name": "cm"}}]}}}}

    patch = create_three_way_merge_patch(original, modified, original, "Deployment")

    assert patch == {
        "metadata": {"$deleteFromPrimitiveList/finalizers": ["f/1"],
                     "$setElementOrder/finalizers": ["f/2"]},
        "spec": {"template": {"spec": {
            "$setElementOrder/volumes": [{"name": "v"}],
            "volumes": [{"name": "v", "configMap": {"name": "cm"},
                         "emptyDir": None, "$retainKeys": ["configMap", "name"]}]}}},
    }
    result = smp(patch, original, "Deployment")
    assert result == modified


def test_two_way_patch_turns_original_into_modified():
    modified = copy.deepcopy(POD)
    modified["spec"]["containers"].reverse()
    modified["spec"]["containers"][1]["env"].pop(0)
    modified["metadata"]["finalizers"] = ["a/two", "a/zero"]

    patch = create_two_way_merge_patch(POD, modified, "Pod")

    assert smp(patch) == modified


def test_three_way_patch_needs_a_built_in_kind():
    with pytest.raises(ValueError):
        create_three_way_merge_patch({}, {"a": 1}, {}, "Widget")


def test_three_way_patch_reports_items_without_merge_key():
    bad = deployment([{"image": "no-name"}], {})

    with pytest.raises(PatchError) as caught:
        create_three_way_merge_patch(deployment([{"name": "a"}], {}), bad,
                                     deployment([{"name": "a"}], {}), "Deployment")

    assert "does not contain declared merge key: name" in str(caught.value)


# --- against the real kubectl ---

RC_V1 = """
apiVersion: v1
kind: ReplicationController
metadata: {name: web, labels: {app: web, old: "1"}}
spec:
  replicas: 1
  selector: {app: web}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: a
        image: nginx:1
        env: [{name: EX, value: "1"}, {name: EY, value: "2"}]
        ports: [{containerPort: 80}]
      - {name: b, image: busybox:1}
      volumes: [{name: v, emptyDir: {}}]
"""
RC_V2 = """
apiVersion: v1
kind: ReplicationController
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {app: web}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: c, image: redis:1}
      - name: a
        image: nginx:2
        env: [{name: EY, value: "2"}, {name: EZ, value: "3"}]
        ports: [{containerPort: 8080}, {containerPort: 80}]
      volumes: [{name: v, configMap: {name: cm}}]
"""
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def sent_patch(verbose_log: str) -> dict:
    """The body of the PATCH kubectl logged at -v=9."""
    bodies = re.findall(r'"Request Body" body="(.+)"\s*$', verbose_log, re.M)
    return json.loads(json.loads(f'"{bodies[-1]}"'))


def test_three_way_patch_matches_what_kubectl_apply_sends(kubectl, namespace):
    ns = ["-n", namespace, "--validate=false"]
    assert kubectl("apply", *ns, "-f", "-", input=RC_V1).returncode == 0
    assert kubectl("label", "-n", namespace, "rc", "web",
                   "other=kept").returncode == 0
    live = json.loads(kubectl("get", "-n", namespace, "rc", "web",
                              "-o", "json").stdout)

    applied = kubectl("apply", *ns, "-v=9", "-f", "-", input=RC_V2)

    assert applied.returncode == 0, applied.stderr
    sent = sent_patch(applied.stderr)
    modified = yaml.safe_load(RC_V2)
    modified["metadata"]["namespace"] = namespace  # kubectl sets it from -n
    # kubectl records the new manifest in the annotation; take its text as sent.
    modified["metadata"]["annotations"] = {
        LAST_APPLIED: sent["metadata"]["annotations"][LAST_APPLIED]}
    original = json.loads(live["metadata"]["annotations"][LAST_APPLIED])
    ours = create_three_way_merge_patch(original, modified, live,
                                        "ReplicationController")
    assert ours == sent
    after = json.loads(kubectl("get", "-n", namespace, "rc", "web",
                               "-o", "json").stdout)
    assert after["metadata"]["labels"] == {"app": "web", "other": "kept"}
    spec = after["spec"]["template"]["spec"]
    assert [c["name"] for c in spec["containers"]] == ["c", "a"]
    assert [e["name"] for e in spec["containers"][1]["env"]] == ["EY", "EZ"]
    assert spec["volumes"][0]["configMap"]["name"] == "cm"
    assert "emptyDir" not in spec["volumes"][0]


# Over HTTP: the patched object is decoded as a created one is.

UNKNOWN_FIELD_PATCHES = [
    (JSON_PATCH, [{"op": "add", "path": "/spec/bogus", "value": 1}]),
    (MERGE_PATCH, {"spec": {"bogus": 1}}),
    (STRATEGIC_MERGE_PATCH, {"spec": {"bogus": 1}}),
]
PATCH_IDS = ["json", "merge", "strategic"]


@pytest.fixture
def api(api_server) -> API:
    return API(api_server.url)


@pytest.fixture
def live_pod(api, namespace) -> str:
    assert api.create("pods", namespace, pod("p")).status_code == 201
    return namespace


def patch_pod(api: API, namespace: str, body, content_type: str,
              validation: str | None = None):
    params = {"fieldValidation": validation} if validation else {}
    path = api.path("pods", namespace, "p")
    return api.request("PATCH", path, body, content_type, params=params)


def stored_spec(api: API, namespace: str) -> dict:
    return api.get("pods", namespace, "p").json()["spec"]


@pytest.mark.parametrize("content_type,body", UNKNOWN_FIELD_PATCHES, ids=PATCH_IDS)
def test_strict_patch_with_an_unknown_field_is_refused(api, live_pod, content_type,
                                                       body):
    response = patch_pod(api, live_pod, body, content_type, "Strict")

    assert status_of(response) == (
        400, "BadRequest", 'strict decoding error: unknown field "spec.bogus"')
    assert "bogus" not in stored_spec(api, live_pod)


@pytest.mark.parametrize("validation", [None, "Warn"], ids=["default", "warn"])
@pytest.mark.parametrize("content_type,body", UNKNOWN_FIELD_PATCHES, ids=PATCH_IDS)
def test_warn_patch_drops_an_unknown_field_with_a_warning(api, live_pod,
                                                          content_type, body,
                                                          validation):
    response = patch_pod(api, live_pod, body, content_type, validation)

    assert response.status_code == 200, response.text
    assert response.headers["Warning"] == '299 - "unknown field \\"spec.bogus\\""'
    assert "bogus" not in response.json()["spec"]
    assert "bogus" not in stored_spec(api, live_pod)


@pytest.mark.parametrize("content_type,body", UNKNOWN_FIELD_PATCHES, ids=PATCH_IDS)
def test_ignore_patch_drops_an_unknown_field_silently(api, live_pod, content_type,
                                                      body):
    response = patch_pod(api, live_pod, body, content_type, "Ignore")

    assert response.status_code == 200, response.text
    assert "Warning" not in response.headers
    assert "bogus" not in stored_spec(api, live_pod)


def test_an_unknown_top_level_field_is_named_from_the_root(api, live_pod):
    response = patch_pod(api, live_pod, {"bogus": 1}, MERGE_PATCH)

    assert response.headers["Warning"] == '299 - "unknown field \\"bogus\\""'
    assert "bogus" not in api.get("pods", live_pod, "p").json()


def test_a_patch_stores_quantities_in_canonical_form(api, namespace):
    labels = {"app": "q"}
    container = {"name": "main", "image": "nginx"}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": "q"},
                  "spec": {"selector": {"matchLabels": labels}, "template": {
                      "metadata": {"labels": labels},
                      "spec": {"containers": [container]}}}}
    path = api.path("deployments", namespace, group="apps/v1")
    assert api.request("POST", path, deployment).status_code == 201
    limits = {"cpu": 0.5, "memory": "1024Mi"}
    body = {"spec": {"template": {"spec": {"containers": [
        {"name": "main", "resources": {"limits": limits}}]}}}}

    response = api.request("PATCH", f"{path}/q", body, STRATEGIC_MERGE_PATCH)

    assert response.status_code == 200, response.text
    stored = api.request("GET", f"{path}/q").json()
    resources = stored["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources["limits"] == {"cpu": "500m", "memory": "1Gi"}


WRONG_TYPE = ("json: cannot unmarshal string into Go struct field "
              "PodSpec.spec.activeDeadlineSeconds of type int64")


@pytest.mark.parametrize("content_type,body", [
    (JSON_PATCH, [{"op": "add", "path": "/spec/activeDeadlineSeconds",
                   "value": "x"}]),
    (MERGE_PATCH, {"spec": {"activeDeadlineSeconds": "x"}}),
    (STRATEGIC_MERGE_PATCH, {"spec": {"activeDeadlineSeconds": "x"}}),
], ids=PATCH_IDS)
def test_a_wrong_type_in_a_patch_is_invalid_patch(api, live_pod, content_type,
                                                  body):
    response = patch_pod(api, live_pod, body, content_type, "Ignore")

    code, reason, message = status_of(response)
    assert (code, reason) == (422, "Invalid")
    assert message.startswith(' "" is invalid: patch: Invalid value: ')
    assert message.endswith(": " + WRONG_TYPE)
    cause = response.json()["details"]["causes"][0]
    assert cause["field"] == "patch" and cause["reason"] == "FieldValueInvalid"
    assert "activeDeadlineSeconds" not in stored_spec(api, live_pod)


def test_strategic_wrong_type_quotes_the_patch_as_go_prints_it(api, live_pod):
    body = {"spec": {"activeDeadlineSeconds": "x"}}

    response = patch_pod(api, live_pod, body, STRATEGIC_MERGE_PATCH)

    assert status_of(response)[2].startswith(
        ' "" is invalid: patch: Invalid value: '
        '"map[spec:map[activeDeadlineSeconds:x]]"')
