"""Bad input: each error class answers its Status and changes nothing."""

from __future__ import annotations

import json

import pytest

from tests.server.helpers import API, JSON_PATCH, configmap, pod, status_of


@pytest.fixture
def api(api_server) -> API:
    return API(api_server.url)


@pytest.fixture
def stored(api, namespace) -> tuple[str, dict]:
    """A pod whose stored form each test checks is untouched."""
    body = api.create("pods", namespace, pod("keep")).json()
    return namespace, body


def unchanged(api: API, stored) -> bool:
    namespace, body = stored
    return api.get("pods", namespace, "keep").json() == body


def test_malformed_json_is_a_bad_request(api, stored):
    namespace, _ = stored

    response = api.create("pods", namespace, b"{not json")

    assert status_of(response)[:2] == (400, "BadRequest")
    assert unchanged(api, stored)


def test_a_kind_that_does_not_match_the_url_is_a_bad_request(api, stored):
    namespace, _ = stored
    body = dict(configmap("x"), kind="Secret")

    response = api.create("configmaps", namespace, body)

    assert status_of(response)[:2] == (400, "BadRequest")


def test_an_api_version_that_does_not_match_is_a_bad_request(api, stored):
    namespace, _ = stored

    response = api.create("configmaps", namespace,
                          dict(configmap("x"), apiVersion="apps/v1"))

    code, reason, message = status_of(response)
    assert (code, reason) == (400, "BadRequest")
    assert message == ("the API version in the data (apps/v1) does not match the "
                       "expected API version (v1)")


@pytest.mark.parametrize("path", ["/api/v1/nosuchthings", "/apis/no.group/v1/x",
                                  "/api/v1/namespaces/default/pods/a/nosub"],
                         ids=["resource", "group", "subresource"])
def test_unknown_paths_are_not_found(api, path):
    assert status_of(api.request("GET", path))[:2] == (404, "NotFound")


def test_a_missing_object_is_not_found_by_name(api, stored):
    namespace, _ = stored

    response = api.get("pods", namespace, "ghost")

    assert status_of(response) == (404, "NotFound", 'pods "ghost" not found')
    assert response.json()["details"] == {"name": "ghost", "kind": "pods"}


def test_a_method_the_resource_does_not_serve_is_not_allowed(api, stored):
    namespace, _ = stored

    response = api.request("POST", api.path("pods", namespace, "keep"), {})

    assert status_of(response)[:2] == (405, "MethodNotAllowed")
    assert unchanged(api, stored)


def test_namespaces_serve_no_deletecollection(api, stored):
    response = api.request("DELETE", "/api/v1/namespaces")

    assert status_of(response)[:2] == (405, "MethodNotAllowed")
    assert api.get("namespaces", "", stored[0]).status_code == 200


def test_a_body_over_three_mebibytes_is_too_large(api, stored):
    namespace, _ = stored
    body = configmap("huge", big="x" * (3 * 1024 * 1024 + 10))

    response = api.create("configmaps", namespace, body)

    assert status_of(response)[:2] == (413, "RequestEntityTooLarge")
    assert api.get("configmaps", namespace, "huge").status_code == 404


def test_an_unknown_patch_type_is_unsupported_media(api, stored):
    namespace, _ = stored

    response = api.patch("pods", namespace, "keep", {"a": 1}, "text/plain")

    assert status_of(response)[:2] == (415, "UnsupportedMediaType")
    assert unchanged(api, stored)


def test_a_patch_that_cannot_apply_changes_nothing(api, stored):
    namespace, _ = stored
    patch = [{"op": "replace", "path": "/spec/containers/0/image", "value": "x:1"},
             {"op": "test", "path": "/metadata/name", "value": "other"}]

    response = api.patch("pods", namespace, "keep", patch, JSON_PATCH)

    # A failed "test" operation: kube-apiserver answers 422 Invalid with its
    # generic message.
    code, reason, message = status_of(response)
    assert (code, reason) == (422, "Invalid")
    assert message == "the server rejected our request due to an error in our request"
    assert unchanged(api, stored)


def test_an_invalid_pod_is_invalid_with_field_causes(api, stored):
    namespace, _ = stored
    body = pod("Bad_Name")
    body["spec"]["containers"][0].pop("image")

    response = api.create("pods", namespace, body)

    code, reason, message = status_of(response)
    assert (code, reason) == (422, "Invalid")
    assert message.startswith('Pod "Bad_Name" is invalid: [')
    fields = {c["field"] for c in response.json()["details"]["causes"]}
    assert {"metadata.name", "spec.containers[0].image"} <= fields
    assert api.get("pods", namespace, "Bad_Name").status_code == 404


def test_a_pod_spec_change_that_is_not_allowed_is_invalid(api, stored):
    namespace, body = stored
    changed = dict(body)
    changed["spec"] = dict(body["spec"], restartPolicy="Never")

    response = api.put("pods", namespace, "keep", changed)

    code, reason, message = status_of(response)
    assert (code, reason) == (422, "Invalid")
    assert "Forbidden: pod updates may not change fields" in message
    assert unchanged(api, stored)


def test_a_bad_label_selector_is_a_bad_request(api, stored):
    namespace, _ = stored

    response = api.get("pods", namespace, params={"labelSelector": "a in"})

    assert status_of(response)[:2] == (400, "BadRequest")


DEEP = 100_000


TOO_DEEP = "the request body is nested too deeply to decode"


@pytest.mark.parametrize("content_type, body, message", [
    ("application/json", b"[" * DEEP + b"]" * DEEP, TOO_DEEP),
    ("application/json", b'{"a":' * DEEP + b"1" + b"}" * DEEP, TOO_DEEP),
    ("application/yaml", b"- " * 5000 + b"x\n",
     "error converting YAML to JSON: yaml: exceeded maximum nesting depth"),
], ids=["json-array", "json-object", "yaml-list"])
def test_a_body_nested_too_deeply_is_a_bad_request(api, stored, content_type,
                                                   body, message):
    namespace, _ = stored

    response = api.request("POST", api.path("configmaps", namespace), body,
                           content_type)

    assert status_of(response) == (400, "BadRequest", message)
    assert unchanged(api, stored)


def billion_laughs(levels: int) -> bytes:
    """A YAML document of a few hundred bytes whose aliases expand 9^levels."""
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata: {name: bomb}",
             'l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        refs = ",".join([f"*l{level - 1}"] * 9)
        lines.append(f"l{level}: &l{level} [{refs}]")
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("levels", [5, 9], ids=["small", "billion-laughs"])
def test_yaml_aliases_that_explode_are_refused(api, stored, levels):
    namespace, _ = stored

    response = api.request("POST", api.path("configmaps", namespace),
                           billion_laughs(levels), "application/yaml",
                           params={"fieldValidation": "Ignore"})
    health = api.request("GET", "/healthz")

    assert status_of(response) == (
        400, "BadRequest",
        "error converting YAML to JSON: yaml: document contains excessive aliasing")
    assert health.text == "ok"
    assert unchanged(api, stored)


def test_a_few_aliases_are_fine(api, namespace):
    body = (b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: anchors\n"
            b"  labels: &labels {app: web}\n  annotations: *labels\n")

    response = api.request("POST", api.path("configmaps", namespace), body,
                           "application/yaml")

    assert response.status_code == 201
    assert response.json()["metadata"]["annotations"] == {"app": "web"}


def test_json_patch_copies_that_explode_are_refused(api, stored):
    namespace, _ = stored
    operations = [{"op": "add", "path": "/metadata/labels/z", "value": "x"},
                  {"op": "add", "path": "/grow", "value": ["x" * 1000]}]
    operations += [{"op": "copy", "from": "/grow", "path": "/grow/-"}] * 26

    response = api.patch("pods", namespace, "keep", json.dumps(operations),
                         "application/json-patch+json")

    assert status_of(response)[:2] == (422, "Invalid")
    assert api.request("GET", "/healthz").text == "ok"
    assert unchanged(api, stored)


def test_a_patch_nested_too_deeply_is_a_bad_request(api, stored):
    namespace, _ = stored
    patch = b'{"metadata": {"labels": {"a": "b"}}, "x": ' + b'{"a":' * 5000 + \
        b"1" + b"}" * 5001

    response = api.patch("pods", namespace, "keep", patch,
                         "application/merge-patch+json")

    assert status_of(response)[:2] == (400, "BadRequest")
    assert unchanged(api, stored)


def test_an_object_sent_without_kind_and_api_version_is_stored_with_them(
        api, namespace):
    body = {"metadata": {"name": "bare"}, "data": {"a": "b"}}

    created = api.create("configmaps", namespace, body).json()
    read = api.get("configmaps", namespace, "bare").json()

    assert list(created)[:2] == ["kind", "apiVersion"]
    assert (read["kind"], read["apiVersion"]) == ("ConfigMap", "v1")


@pytest.mark.parametrize("query", ["limit=abc", "timeoutSeconds=1.5"],
                         ids=["limit", "timeout"])
def test_a_query_number_that_does_not_parse_is_a_bad_request(api, stored, query):
    namespace, _ = stored
    name, value = query.split("=")

    response = api.request("GET", api.path("pods", namespace) + "?" + query)

    assert status_of(response) == (400, "BadRequest", f'strconv.ParseInt: '
                                   f'parsing "{value}": invalid syntax')


@pytest.mark.parametrize("value, watches", [
    ("true", True), ("1", True), ("yes", True), ("", True),
    ("false", False), ("FALSE", False), ("0", False),
], ids=["true", "one", "yes", "empty", "false", "FALSE", "zero"])
def test_watch_is_read_as_kube_reads_a_bool(api, stored, value, watches):
    namespace, _ = stored

    response = api.request("GET", api.path("pods", namespace)
                           + f"?watch={value}&timeoutSeconds=1", stream=True)
    first = next(response.iter_lines())
    response.close()

    kind = "watch event" if b'"type"' in first else "list"
    assert kind == ("watch event" if watches else "list")


def test_a_quantity_past_int64_is_capped_not_a_crash(api, namespace):
    body = pod("huge")
    body["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "1e400"}}

    response = api.request("POST", api.path("pods", namespace), body,
                           params={"dryRun": "All"})

    assert response.status_code == 201
    resources = response.json()["spec"]["containers"][0]["resources"]
    assert resources["requests"]["cpu"] == "9223372036854775807"


def test_an_integer_past_int64_in_a_merge_patch_is_422(api, stored):
    namespace, _ = stored

    response = api.patch("pods", namespace, "keep",
                         '{"spec": {"activeDeadlineSeconds": 99999999999999999999999}}',
                         "application/merge-patch+json")

    assert status_of(response)[:2] == (422, "Invalid")
    assert "activeDeadlineSeconds" in response.json()["message"]
    assert unchanged(api, stored)


@pytest.mark.parametrize("how", ["create", "merge-patch", "json-patch"])
def test_an_unpaired_surrogate_escape_reads_as_a_replacement_character(
        api, namespace, how):
    path = api.path("configmaps", namespace, "s-" + how)
    created = api.request("POST", api.path("configmaps", namespace),
                          '{"metadata": {"name": "s-%s", "annotations": '
                          '{"a": "x\\ud800y"}}, "data": {"ok": "\\ud83d\\ude00"}}' % how)
    if how == "merge-patch":
        answer = api.request("PATCH", path, '{"data": {"b": "\\udfff"}}',
                             "application/merge-patch+json")
    elif how == "json-patch":
        answer = api.request("PATCH", path, '[{"op": "add", "path": "/data/b", '
                             '"value": "\\udfff"}]', "application/json-patch+json")
    else:
        answer = created

    assert created.status_code == 201 and answer.status_code in (200, 201)
    stored = api.request("GET", path).json()
    assert stored["metadata"]["annotations"]["a"] == "x\ufffdy"
    assert stored["data"]["ok"] == "\U0001F600"
    if how != "create":
        assert stored["data"]["b"] == "\ufffd"


def test_a_put_carrying_another_objects_uid_is_a_conflict(api, namespace):
    old = api.create("configmaps", namespace, configmap("again", a="1")).json()
    api.request("DELETE", api.path("configmaps", namespace, "again"))
    new = api.create("configmaps", namespace, configmap("again", a="2")).json()
    del old["metadata"]["resourceVersion"]

    response = api.request("PUT", api.path("configmaps", namespace, "again"), old)

    assert status_of(response) == (
        409, "Conflict", 'Operation cannot be fulfilled on configmaps "again": '
        f'Precondition failed: UID in precondition: {old["metadata"]["uid"]}, '
        f'UID in object meta: {new["metadata"]["uid"]}')
    assert api.get("configmaps", namespace, "again").json()["data"] == {"a": "2"}


@pytest.mark.parametrize("patch, expected", [
    ('{"metadata": {"uid": "abc"}}',
     (422, "Invalid", 'ConfigMap "ident" is invalid: metadata.uid: Invalid value: '
      '"abc": field is immutable')),
    ('{"metadata": {"namespace": "elsewhere"}}',
     (400, "BadRequest", "the namespace of the provided object does not match the "
      "namespace sent on the request")),
], ids=["uid", "namespace"])
def test_a_patch_may_not_change_who_the_object_is(api, namespace, patch, expected):
    api.create("configmaps", namespace, configmap("ident", a="1"))
    before = api.get("configmaps", namespace, "ident").json()

    response = api.patch("configmaps", namespace, "ident", patch,
                         "application/merge-patch+json")

    assert status_of(response) == expected
    assert api.get("configmaps", namespace, "ident").json() == before


def test_long_selectors_and_headers_are_read(api, namespace):
    values = ",".join(f"v{i}" for i in range(2000))  # a 14 KB request line

    listed = api.get("configmaps", namespace,
                     params={"labelSelector": f"app in ({values})"})
    versioned = api.request("GET", "/version", headers={"X-Note": "a" * 20000})

    assert listed.status_code == 200 and listed.json()["kind"] == "ConfigMapList"
    assert versioned.status_code == 200


@pytest.mark.parametrize("query, body, expected", [
    ({}, '{"orphanDependents": true, "propagationPolicy": "Foreground"}',
     (422, "Invalid", 'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: '
      'Invalid value: "Foreground": orphanDependents and deletionPropagation '
      "cannot be both set")),
    ({"propagationPolicy": "Bogus"}, None,
     (422, "Invalid", 'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: '
      'Unsupported value: "Bogus": supported values: "Foreground", "Background", '
      '"Orphan", "nil"')),
    ({}, '{"dryRun": ["Maybe"]}',
     (422, "Invalid", 'DeleteOptions.meta.k8s.io "" is invalid: dryRun: '
      'Unsupported value: []string{"Maybe"}: supported values: "All"')),
    ({}, "{bad",
     (400, "BadRequest", "couldn't get version/kind; json parse error: invalid "
      "character 'b' looking for beginning of object key string")),
], ids=["orphan-and-policy", "unknown-policy", "bad-dry-run", "malformed"])
def test_bad_delete_options_are_refused(api, namespace, query, body, expected):
    api.create("configmaps", namespace, configmap("kept", a="1"))

    response = api.request("DELETE", api.path("configmaps", namespace, "kept"), body,
                           params=query)

    assert status_of(response) == expected
    assert api.get("configmaps", namespace, "kept").status_code == 200
