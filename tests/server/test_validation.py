"""The shared validators give kube-apiserver's exact messages."""

from decimal import Decimal

import pytest

from server.validation import (
    GoStringMap,
    GoStrings,
    is_config_map_key,
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_env_var_name,
    is_qualified_name,
    is_valid_label_value,
    name_is_dns_subdomain,
    not_supported,
    parse_quantity,
    validate_annotations,
    validate_enum,
    validate_finalizers,
    validate_labels,
    validate_object_meta,
    validate_object_meta_update,
    validate_port_number,
    validate_protocol,
)

SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
    "characters, '-' or '.', and must start and end with an alphanumeric "
    "character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric "
    "characters or '-', and must start and end with an alphanumeric character "
    "(e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
DNS1035_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or "
    "'-', start with an alphabetic character, and end with an alphanumeric "
    "character (e.g. 'my-name',  or 'abc-123', regex used for validation is "
    "'[a-z]([-a-z0-9]*[a-z0-9])?')"
)
NAME_PART_MSG = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and "
    "must start and end with an alphanumeric character (e.g. 'MyName',  or "
    "'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)


def meta_errors(meta: dict, namespaced: bool = True) -> list[str]:
    errs = validate_object_meta({"metadata": meta}, namespaced=namespaced,
                                name_validator=name_is_dns_subdomain)
    return [str(e) for e in errs]


# Names.

def test_dns1123_subdomain_message():
    assert is_dns1123_subdomain("Bad_Name") == [SUBDOMAIN_MSG]
    assert is_dns1123_subdomain("a.b-c.d") == []


def test_dns1123_subdomain_length():
    assert is_dns1123_subdomain("a" * 253) == []
    assert is_dns1123_subdomain("a" * 254) == ["must be no more than 253 characters"]


def test_dns1123_label_message():
    assert is_dns1123_label("-x") == [LABEL_MSG]
    assert is_dns1123_label("a" * 64) == ["must be no more than 63 characters"]


def test_dns1123_label_with_dots_says_so():
    assert is_dns1123_label("my.ns") == ["must not contain dots"]


def test_dns1035_label_must_start_with_a_letter():
    assert is_dns1035_label("1web") == [DNS1035_MSG]
    assert is_dns1035_label("web-1") == []


def test_generate_name_may_end_with_a_dash():
    assert name_is_dns_subdomain("web-", True) == []
    assert name_is_dns_subdomain("web-", False) == [SUBDOMAIN_MSG]


# Labels, annotations, finalizers.

@pytest.mark.parametrize("key,messages", [
    ("app", []),
    ("example.com/app", []),
    ("-app", [NAME_PART_MSG]),
    ("/app", ["prefix part must be non-empty"]),
    ("Example.com/app", ["prefix part " + SUBDOMAIN_MSG]),
    ("example.com/", ["name part must be non-empty", NAME_PART_MSG]),
    ("a" * 64, ["name part must be no more than 63 characters"]),
], ids=["plain", "prefixed", "leading-dash", "empty-prefix", "upper-prefix",
        "empty-name", "too-long"])
def test_qualified_name(key, messages):
    assert is_qualified_name(key) == messages


def test_qualified_name_with_two_slashes():
    assert is_qualified_name("a/b/c") == [
        "a qualified name must consist of alphanumeric characters, '-', '_' or "
        "'.', and must start and end with an alphanumeric character (e.g. "
        "'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
        "subdomain prefix and '/' (e.g. 'example.com/MyName')"]


def test_label_value():
    assert is_valid_label_value("") == []
    assert is_valid_label_value("v1.2_x") == []
    assert is_valid_label_value("bad value") == [
        "a valid label must be an empty string or consist of alphanumeric "
        "characters, '-', '_' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
        "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?"
        "[A-Za-z0-9])?')"]


def test_labels_report_key_and_value_under_labels():
    errs = validate_labels({"-k": "ok", "k": "-v"}, "metadata.labels")
    assert [(e.field, e.value) for e in errs] == [
        ("metadata.labels", "-k"), ("metadata.labels", "-v")]


def test_annotation_keys_ignore_case():
    assert validate_annotations({"Example.com/Key": "x"}, "metadata.annotations") == []


def test_annotations_total_size():
    errs = validate_annotations({"k": "x" * (256 * 1024)}, "metadata.annotations")
    assert [str(e) for e in errs] == [
        "metadata.annotations: Too long: may not be more than 262144 bytes"]


def test_finalizers():
    errs = validate_finalizers(["example.com/ok", "bad/name/x"], "metadata.finalizers")
    assert len(errs) == 1 and errs[0].value == "bad/name/x"
    both = validate_finalizers(["orphan", "foregroundDeletion"], "metadata.finalizers")
    assert both[0].detail == (
        "finalizer orphan and foregroundDeletion cannot be both set")


# Object metadata.

def test_name_or_generate_name_is_required():
    assert meta_errors({"namespace": "default"}) == [
        "metadata.name: Required value: name or generateName is required"]


def test_bad_generate_name_is_reported():
    assert meta_errors({"generateName": "Web-", "name": "web-abc",
                        "namespace": "default"}) == [
        f'metadata.generateName: Invalid value: "Web-": {SUBDOMAIN_MSG}']


def test_namespace_required_for_namespaced_kinds():
    assert meta_errors({"name": "a"}) == ["metadata.namespace: Required value"]


def test_namespace_forbidden_for_cluster_scoped_kinds():
    assert meta_errors({"name": "a", "namespace": "x"}, namespaced=False) == [
        "metadata.namespace: Forbidden: not allowed on this type"]


def test_owner_references_need_their_fields():
    errors = meta_errors({"name": "a", "namespace": "d",
                          "ownerReferences": [{"apiVersion": "v1"}]})
    assert errors == [
        'metadata.ownerReferences.kind: Invalid value: "": must not be empty',
        'metadata.ownerReferences.name: Invalid value: "": must not be empty',
        'metadata.ownerReferences.uid: Invalid value: "": must not be empty',
    ]


def test_only_one_controller_reference():
    ref = {"apiVersion": "v1", "kind": "ReplicationController", "uid": "u",
           "controller": True}
    refs = [dict(ref, name="a"), dict(ref, name="b")]
    errors = meta_errors({"name": "p", "namespace": "d", "ownerReferences": refs})
    assert len(errors) == 1
    assert errors[0].endswith(
        'Only one reference can have Controller set to true. Found "true" in '
        "references for ReplicationController/a and ReplicationController/b")


@pytest.mark.parametrize("key", ["name", "namespace", "uid", "creationTimestamp"])
def test_immutable_metadata(key):
    old = {"metadata": {"name": "a", "namespace": "d", "uid": "u1",
                        "creationTimestamp": "2024-01-01T00:00:00Z"}}
    new = {"metadata": dict(old["metadata"], **{key: "other"})}
    assert [str(e) for e in validate_object_meta_update(new, old)] == [
        f'metadata.{key}: Invalid value: "other": field is immutable']


def test_no_new_finalizers_while_deleting():
    old = {"metadata": {"name": "a", "deletionTimestamp": "2024-01-01T00:00:00Z"}}
    new = {"metadata": dict(old["metadata"], finalizers=["example.com/f"])}
    assert [str(e) for e in validate_object_meta_update(new, old)] == [
        "metadata.finalizers: Forbidden: no new finalizers can be added if the "
        'object is being deleted, found new finalizers []string{"example.com/f"}']


# Ports, protocols, enums.

@pytest.mark.parametrize("port", [0, 65536, -1, "80"])
def test_port_out_of_range(port):
    errs = validate_port_number(port, "spec.ports[0].port")
    assert [e.detail for e in errs] == ["must be between 1 and 65535, inclusive"]


def test_port_in_range():
    assert validate_port_number(1, "p") == [] and validate_port_number(65535, "p") == []


def test_protocol_enum():
    assert [str(e) for e in validate_protocol("HTTP", "spec.ports[0].protocol")] == [
        'spec.ports[0].protocol: Unsupported value: "HTTP": supported values: '
        '"SCTP", "TCP", "UDP"']
    assert [str(e) for e in validate_protocol("", "p")] == ["p: Required value"]


def test_generic_enum():
    assert str(not_supported("spec.x", "c", ["A", "B"])) == (
        'spec.x: Unsupported value: "c": supported values: "A", "B"')
    assert validate_enum(None, "spec.x", ["A"], required_value=False) == []


# Environment variables and data keys.

def test_env_var_names_are_relaxed_since_1_32():
    assert is_env_var_name("1 weird.name-ok") == []
    assert is_env_var_name("A=B") == [
        "a valid environment variable name must consist only of printable ASCII "
        "characters other than '='"]
    assert is_env_var_name("") == ["environment variable name must be non-empty"]


def test_config_map_keys():
    assert is_config_map_key("app.properties") == []
    assert is_config_map_key("..data") == ["must not start with '..'"]
    assert is_config_map_key("a b") == [
        "a valid config key must consist of alphanumeric characters, '-', '_' or "
        "'.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for "
        "validation is '[-._a-zA-Z0-9]+')"]


# Quantities.

@pytest.mark.parametrize("text,value", [
    ("100m", Decimal("0.1")),
    ("1", Decimal(1)),
    ("1.5", Decimal("1.5")),
    ("1Ki", Decimal(1024)),
    ("1Gi", Decimal(1024**3)),
    ("128Mi", Decimal(128 * 1024**2)),
    ("1k", Decimal(1000)),
    ("1M", Decimal(10**6)),
    ("1e3", Decimal(1000)),
    ("1E-3", Decimal("0.001")),
    ("5n", Decimal("5e-9")),
    (2, Decimal(2)),
    ("-1", Decimal(-1)),
], ids=lambda v: str(v))
def test_parse_quantity(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "1Qi", "1 Gi", None, True])
def test_parse_quantity_rejects(text):
    with pytest.raises(ValueError) as err:
        parse_quantity(text)
    assert str(err.value) == ("quantities must match the regular expression "
                              "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")


@pytest.mark.parametrize("text", ["1e", "1m5", "1Kii"])
def test_parse_quantity_rejects_unknown_suffixes(text):
    with pytest.raises(ValueError) as err:
        parse_quantity(text)
    assert str(err.value) == "unable to parse quantity's suffix"


def test_quantities_compare_across_suffixes():
    assert parse_quantity("500m") < parse_quantity("1")
    assert parse_quantity("1Gi") > parse_quantity("1G")
    assert parse_quantity("1000Mi") < parse_quantity("1Gi")


# Go-formatted values.

def test_go_formatted_values():
    assert str(GoStrings(["10.0.0.1", "x"])) == '[]string{"10.0.0.1", "x"}'
    assert str(GoStringMap({"b": "2", "a": "1"})) == (
        'map[string]string{"a":"1", "b":"2"}')
