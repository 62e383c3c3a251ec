"""Typed decoding of request bodies: types, unknown and duplicate fields,
quantities, and the zero values Go drops or fills in."""

from __future__ import annotations

import json

import pytest

from server.decode import decode_object, field_validation_directive
from server.errors import BadRequest, Invalid, UnsupportedMediaType

PREFIX = 'Pod in version "v1" cannot be handled as a Pod: '


def pod(**spec) -> dict:
    container = {"name": "c", "image": "nginx"}
    container.update(spec.pop("container", {}))
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [container], **spec}}


def decode(obj, validation=None, kind="Pod"):
    body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return decode_object(kind, body, "application/json", validation)


def bad_request(obj, validation=None, kind="Pod") -> str:
    with pytest.raises(BadRequest) as caught:
        decode(obj, validation, kind)
    assert caught.value.code == 400
    return caught.value.message


# Types.

@pytest.mark.parametrize("container,message", [
    ({"env": [{"name": "A", "value": 5}]},
     "json: cannot unmarshal number into Go struct field "
     "EnvVar.spec.containers.env.value of type string"),
    ({"image": ["x"]},
     "json: cannot unmarshal array into Go struct field "
     "Container.spec.containers.image of type string"),
    ({"ports": [{"containerPort": "80"}]},
     "json: cannot unmarshal string into Go struct field "
     "ContainerPort.spec.containers.ports.containerPort of type int32"),
    ({"ports": [{"containerPort": 80.5}]},
     "json: cannot unmarshal number 80.5 into Go struct field "
     "ContainerPort.spec.containers.ports.containerPort of type int32"),
    ({"ports": [{"containerPort": 3000000000}]},
     "json: cannot unmarshal number 3000000000 into Go struct field "
     "ContainerPort.spec.containers.ports.containerPort of type int32"),
    ({"stdin": "yes"},
     "json: cannot unmarshal string into Go struct field "
     "Container.spec.containers.stdin of type bool"),
    ({"resources": []},
     "json: cannot unmarshal array into Go struct field "
     "Container.spec.containers.resources of type v1.ResourceRequirements"),
    ({"env": {}},
     "json: cannot unmarshal object into Go struct field "
     "Container.spec.containers.env of type []v1.EnvVar"),
    ({"livenessProbe": {"httpGet": {"port": True}}},
     "json: cannot unmarshal bool into Go struct field "
     "HTTPGetAction.spec.containers.livenessProbe.httpGet.port of type "
     "int32"),
], ids=["string", "array-for-string", "int32-from-string", "fraction",
        "overflow", "bool", "struct", "list", "int-or-string"])
def test_wrong_json_types_are_bad_requests(container, message):
    assert bad_request(pod(container=container)) == PREFIX + message


def test_wrong_type_in_a_map_names_the_map():
    obj = pod()
    obj["metadata"]["labels"] = {"a": 1}

    assert bad_request(obj) == PREFIX + (
        "json: cannot unmarshal number into Go struct field "
        "ObjectMeta.metadata.labels of type string")


def test_message_names_the_body_kind_and_version():
    body = {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d"}, "spec": {"replicas": "3"}}

    assert bad_request(body, kind="Deployment") == (
        'Deployment in version "v1" cannot be handled as a Deployment: '
        "json: cannot unmarshal string into Go struct field "
        "DeploymentSpec.spec.replicas of type int32")


def test_a_body_that_is_not_json_is_a_bad_request():
    message = bad_request(b'{"kind": ')

    assert message.startswith("the object provided is unrecognized "
                              "(must be of type Pod)")
    assert "unexpected end of JSON input" in message


# Unknown and duplicate fields.

UNKNOWN = pod(foo=1, container={"bar": 2})


def test_unknown_fields_warn_by_default():
    obj, warnings = decode(UNKNOWN)

    assert warnings == ['unknown field "spec.containers[0].bar"',
                        'unknown field "spec.foo"']
    assert "foo" not in obj["spec"]
    assert "bar" not in obj["spec"]["containers"][0]


def test_unknown_fields_are_dropped_silently_under_ignore():
    obj, warnings = decode(UNKNOWN, "Ignore")

    assert warnings == []
    assert "foo" not in obj["spec"]


def test_unknown_fields_are_refused_under_strict():
    assert bad_request(UNKNOWN, "Strict") == PREFIX + (
        'strict decoding error: unknown field "spec.containers[0].bar", '
        'unknown field "spec.foo"')


DUPLICATES = (b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a",'
              b'"name":"b","extra":1},"spec":{"containers":[{"name":"c",'
              b'"image":"x","image":"y","x":1,"x":2}]}}')


def test_duplicates_keep_the_last_value_and_warn_in_document_order():
    obj, warnings = decode(DUPLICATES)

    assert obj["metadata"]["name"] == "b"
    assert obj["spec"]["containers"][0]["image"] == "y"
    # A field both unknown and repeated is reported once, as unknown.
    assert warnings == ['duplicate field "metadata.name"',
                        'unknown field "metadata.extra"',
                        'duplicate field "spec.containers[0].image"',
                        'unknown field "spec.containers[0].x"']


def test_duplicates_are_refused_under_strict():
    message = bad_request(DUPLICATES, "Strict")

    assert message.startswith(PREFIX + "strict decoding error: "
                              'duplicate field "metadata.name", ')


MAP_DUPLICATES = (b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a",'
                  b'"labels":{"x":"1","x":"2"}},"spec":{"containers":[{"name":"c",'
                  b'"image":"x"}]}}')


def test_a_repeated_map_key_keeps_the_last_value_and_warns():
    obj, warnings = decode(MAP_DUPLICATES)

    assert obj["metadata"]["labels"] == {"x": "2"}
    assert warnings == ['duplicate field "metadata.labels.x"']


def test_a_repeated_map_key_is_refused_under_strict():
    assert bad_request(MAP_DUPLICATES, "Strict") == PREFIX + (
        'strict decoding error: duplicate field "metadata.labels.x"')


def test_unsupported_field_validation_is_invalid():
    with pytest.raises(Invalid) as caught:
        field_validation_directive("strict")

    assert caught.value.code == 422
    assert caught.value.message == (
        'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: '
        'Unsupported value: "strict": supported values: "", "Ignore", '
        '"Strict", "Warn"')


# Quantities.

@pytest.mark.parametrize("given,stored", [
    ("0.5", "500m"), ("1.5Gi", "1536Mi"), ("1000m", "1"), ("100m", "100m"),
    (2, "2"), (0.25, "250m"), ("1e3", "1e3"), ("2048Ki", "2Mi"),
], ids=["half", "binary-fraction", "milli-whole", "milli", "number",
        "float", "exponent", "binary-carry"])
def test_quantities_are_stored_in_canonical_form(given, stored):
    obj, _ = decode(pod(container={"resources": {"limits": {"cpu": given}}}))

    assert obj["spec"]["containers"][0]["resources"]["limits"]["cpu"] == stored


@pytest.mark.parametrize("given,error", [
    ("abc", "quantities must match the regular expression "
            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
    ("1kk", "unable to parse quantity's suffix"),
    ({}, "quantities must match the regular expression "
         "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
], ids=["letters", "suffix", "object"])
def test_malformed_quantities_are_bad_requests(given, error):
    body = pod(container={"resources": {"requests": {"memory": given}}})

    assert bad_request(body) == PREFIX + error


# Zero values, nulls and structs.

def test_nulls_and_omitted_zero_values_are_dropped():
    body = pod(hostNetwork=False, nodeName="", container={"args": []})
    body["metadata"]["creationTimestamp"] = None
    body["metadata"]["labels"] = {}

    obj, _ = decode(body)

    assert "hostNetwork" not in obj["spec"]
    assert "nodeName" not in obj["spec"]
    assert "args" not in obj["spec"]["containers"][0]
    assert obj["metadata"] == {"name": "p", "creationTimestamp": None}


def test_pointer_fields_keep_their_zero_value():
    body = {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d"}, "spec": {"replicas": 0}}

    obj, _ = decode(body, kind="Deployment")

    assert obj["spec"]["replicas"] == 0


def test_times_that_are_not_pointers_are_null_when_zero():
    # Go prints a zero metav1.Time as null, omitempty or not; a *metav1.Time
    # (deletionTimestamp, startTime) that is nil is left out.
    body = pod()
    body["status"] = {"conditions": [{"type": "Ready", "status": "True"}]}

    obj, _ = decode(body)

    assert obj["metadata"] == {"name": "p", "creationTimestamp": None}
    assert obj["status"]["conditions"] == [{
        "type": "Ready", "status": "True", "lastProbeTime": None,
        "lastTransitionTime": None}]
    assert "startTime" not in obj["status"]


def test_a_template_has_a_null_creation_timestamp():
    body = {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d"}, "spec": {"template": {}}}

    obj, _ = decode(body, kind="Deployment")

    assert obj["spec"]["template"]["metadata"] == {"creationTimestamp": None}


def test_structs_that_are_not_pointers_are_always_present():
    obj, _ = decode(pod())

    assert obj["spec"]["containers"][0]["resources"] == {}
    assert obj["status"] == {}
    assert "securityContext" not in obj["spec"]


def test_service_status_has_its_load_balancer():
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
            "spec": {"ports": [{"port": 80}]}}

    obj, _ = decode(body, kind="Service")

    assert obj["status"] == {"loadBalancer": {}}


def test_event_reporting_fields_keep_empty_strings():
    body = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"},
            "involvedObject": {"kind": "Pod"}, "reportingComponent": ""}

    obj, _ = decode(body, kind="Event")

    assert obj["reportingComponent"] == ""


# Other types.

def test_times_are_stored_in_utc():
    body = pod()
    body["metadata"]["creationTimestamp"] = "2024-05-01T12:00:00.5+02:00"

    obj, _ = decode(body)

    assert obj["metadata"]["creationTimestamp"] == "2024-05-01T10:00:00Z"


def test_a_malformed_time_is_a_bad_request():
    body = pod()
    body["metadata"]["creationTimestamp"] = "yesterday"

    assert bad_request(body) == PREFIX + (
        'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": '
        'cannot parse "yesterday" as "2006"')


def test_secret_data_must_be_base64():
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "data": {"a": "YW*j"}}

    assert bad_request(body, kind="Secret") == (
        'Secret in version "v1" cannot be handled as a Secret: '
        "illegal base64 data at input byte 2")


def test_secret_data_is_stored_re_encoded():
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "data": {"a": "YWJj\nZGVm"}}

    obj, _ = decode(body, kind="Secret")

    assert obj["data"] == {"a": "YWJjZGVm"}


def test_inline_structs_are_flat_in_json():
    body = pod(container={
        "env": [{"name": "A", "valueFrom": {"configMapKeyRef":
                                            {"name": "cm", "key": "k"}}}],
        "readinessProbe": {"exec": {"command": ["true"]},
                           "periodSeconds": 5}})
    body["spec"]["volumes"] = [{"name": "v", "configMap": {"name": "cm"}}]

    obj, warnings = decode(body)

    assert warnings == []
    container = obj["spec"]["containers"][0]
    assert container["env"][0]["valueFrom"]["configMapKeyRef"]["name"] == "cm"
    assert container["readinessProbe"]["periodSeconds"] == 5
    assert obj["spec"]["volumes"][0]["configMap"] == {"name": "cm"}


# Content types.

YAML_BODY = b"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
  name: e
spec:
  zzz: 1
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: a}, creationTimestamp: 2024-01-01T00:00:00Z}
    spec:
      containers:
      - name: c
        image: x
        resources: {limits: {memory: 1.5Gi}}
"""


def test_yaml_bodies_decode_like_json():
    obj, warnings = decode_object("Deployment", YAML_BODY, "application/yaml",
                                  None)

    assert obj["metadata"] == {"name": "e", "creationTimestamp": None}
    template = obj["spec"]["template"]
    assert template["metadata"]["creationTimestamp"] == "2024-01-01T00:00:00Z"
    limits = template["spec"]["containers"][0]["resources"]["limits"]
    assert limits == {"memory": "1536Mi"}
    assert warnings == ['line 5: key "name" already set in map',
                        'unknown field "spec.zzz"']


def test_yaml_strict_errors_list_the_repeated_keys_first():
    with pytest.raises(BadRequest) as caught:
        decode_object("Deployment", YAML_BODY, "application/yaml", "Strict")

    assert caught.value.message == (
        'Deployment in version "v1" cannot be handled as a Deployment: '
        "strict decoding error: yaml: unmarshal errors:\n"
        '  line 5: key "name" already set in map, unknown field "spec.zzz"')


def test_unknown_content_type_is_unsupported():
    with pytest.raises(UnsupportedMediaType) as caught:
        decode_object("Pod", b"x", "text/plain", None)

    assert caught.value.code == 415


def test_content_type_parameters_are_ignored():
    body = json.dumps(pod()).encode()

    obj, _ = decode_object("Pod", body, "application/json; charset=utf-8",
                           None)

    assert obj["metadata"]["name"] == "p"


def test_a_typical_pod_decodes_quickly():
    # Not a timing assertion: a sanity bound on work done per field, so a
    # regression to something quadratic fails loudly.
    import time
    body = json.dumps(pod(container={
        "env": [{"name": f"V{i}", "value": str(i)} for i in range(20)],
        "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}})).encode()
    calls = 200
    start = time.process_time()
    for _ in range(calls):
        decode_object("Pod", body, "application/json", None)
    assert (time.process_time() - start) / calls < 0.01


def test_yaml_scalars_resolve_as_go_yaml_resolves_them():
    body = (b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
            b"  annotations:\n    yes: a\n    1: b\n    time: 1:20\n")

    obj, warnings = decode_object("ConfigMap", body, "application/yaml", None)

    # yes is a bool key (true) and 1 an int one, apart; 1:20 is no base-60
    # number to go-yaml v2.
    assert obj["metadata"]["annotations"] == {"1": "b", "true": "a",
                                              "time": "1:20"}
    assert warnings == []


def test_yaml_that_is_not_utf8_is_a_bad_request():
    with pytest.raises(BadRequest) as caught:
        decode_object("ConfigMap", b"kind: \xff\n", "application/yaml", None)

    assert caught.value.message == ("error converting YAML to JSON: yaml: "
                                    "invalid UTF-8 at byte 6 (0xff)")
