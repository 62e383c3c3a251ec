"""ConfigMaps and Secrets."""

import copy

import pytest

from server.errors import BadRequest
from server.registry.config import ConfigMapKind, SecretKind, base64_error

CM = ConfigMapKind()
SECRETS = SecretKind()


def messages(errs) -> list[str]:
    return [str(e) for e in errs]


def config_map(**fields) -> dict:
    return {"metadata": {"name": "cfg", "namespace": "default"}, **fields}


def test_config_map_keys_are_validated():
    obj = config_map(data={"good.key": "1", "bad key": "2"},
                     binaryData={"good.key": "AA=="})
    CM.prepare_create(obj)

    assert messages(CM.validate(obj)) == [
        'data[bad key]: Invalid value: "bad key": a valid config key must consist '
        "of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
        "'KEY_NAME',  or 'key-name', regex used for validation is "
        "'[-._a-zA-Z0-9]+')",
        'data[good.key]: Invalid value: "good.key": duplicate of key present in '
        "binaryData",
        'binaryData[good.key]: Invalid value: "good.key": duplicate of key present '
        "in data"]


def test_config_map_values_must_be_strings():
    with pytest.raises(BadRequest) as err:
        CM.prepare_create(config_map(data={"n": 1}))

    assert err.value.message.startswith(
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: ')


def test_immutable_config_map():
    old = config_map(data={"a": "1"}, immutable=True)
    new = copy.deepcopy(old)
    new["data"]["a"] = "2"

    assert messages(CM.validate_update(new, old)) == [
        "data: Forbidden: field is immutable when `immutable` is set"]


def test_config_map_columns():
    obj = config_map(data={"a": "1", "b": "2"}, binaryData={"c": "AA=="})

    assert [c.name for c in CM.columns()] == ["Name", "Data", "Age"]
    assert CM.columns()[1].cell(obj) == 3
    assert CM.short_names == ("cm",)


def secret(**fields) -> dict:
    return {"metadata": {"name": "s", "namespace": "default"}, **fields}


def test_secret_type_defaults_to_opaque():
    obj = secret(data={"password": "aHVudGVyMg=="})

    SECRETS.prepare_create(obj)

    assert obj["type"] == "Opaque"
    assert SECRETS.validate(obj) == []


def test_string_data_is_merged_into_data():
    obj = secret(data={"a": "eA==", "b": "eA=="}, stringData={"b": "hi", "c": "yo"})

    SECRETS.prepare_create(obj)

    assert obj["data"] == {"a": "eA==", "b": "aGk=", "c": "eW8="}
    assert "stringData" not in obj


@pytest.mark.parametrize("text,error", [
    ("aGk=", None),
    ("aGk=\n", None),
    ("", None),
    ("aGk", "illegal base64 data at input byte 0"),
    ("aG!=", "illegal base64 data at input byte 2"),
    ("aGk=aGk=", "illegal base64 data at input byte 3"),
], ids=["padded", "newline", "empty", "short", "bad-char", "pad-inside"])
def test_base64_check(text, error):
    assert base64_error(text) == error


def test_data_must_be_base64():
    with pytest.raises(BadRequest) as err:
        SECRETS.prepare_create(secret(data={"a": "not base64!"}))

    assert err.value.message == ('Secret in version "v1" cannot be handled as a '
                                 "Secret: illegal base64 data at input byte 3")


def test_tls_secret_needs_its_keys():
    obj = secret(type="kubernetes.io/tls", data={"tls.crt": "eA=="})
    SECRETS.prepare_create(obj)

    assert messages(SECRETS.validate(obj)) == ["data[tls.key]: Required value"]


REDACTED = 'Invalid value: "<secret contents redacted>"'


@pytest.mark.parametrize("secret_type,data,expected", [
    ("kubernetes.io/dockerconfigjson", {".dockerconfigjson": '{"auths":{}}'}, []),
    ("kubernetes.io/dockerconfigjson", {".dockerconfigjson": "null"}, []),
    ("kubernetes.io/dockerconfigjson", {".dockerconfigjson": "{not json"},
     [f"data[.dockerconfigjson]: {REDACTED}: invalid character 'n' looking for "
      "beginning of object key string"]),
    ("kubernetes.io/dockerconfigjson", {".dockerconfigjson": '{"a":'},
     [f"data[.dockerconfigjson]: {REDACTED}: unexpected end of JSON input"]),
    ("kubernetes.io/dockercfg", {".dockercfg": "[1]"},
     [f"data[.dockercfg]: {REDACTED}: json: cannot unmarshal array into Go value "
      "of type map[string]interface {}"]),
    ("kubernetes.io/dockerconfigjson", {},
     ["data[.dockerconfigjson]: Required value"]),
    ("kubernetes.io/dockercfg", {}, ["data[.dockercfg]: Required value"]),
    ("kubernetes.io/ssh-auth", {"ssh-privatekey": ""},
     ["data[ssh-privatekey]: Required value"]),
    ("kubernetes.io/basic-auth", {},
     ["data[username]: Required value", "data[password]: Required value"]),
    ("kubernetes.io/basic-auth", {"password": ""}, []),
], ids=["json", "null", "syntax", "truncated", "not-an-object", "json-missing",
        "cfg-missing", "ssh-empty", "basic-auth-missing", "basic-auth-password"])
def test_typed_secret_rules(secret_type, data, expected):
    obj = secret(type=secret_type, stringData=data)
    SECRETS.prepare_create(obj)

    assert messages(SECRETS.validate(obj)) == expected


def test_service_account_token_secret_names_its_account():
    obj = secret(type="kubernetes.io/service-account-token")
    SECRETS.prepare_create(obj)

    assert messages(SECRETS.validate(obj)) == [
        "metadata.annotations[kubernetes.io/service-account.name]: Required value"]


def test_secret_type_is_immutable():
    old = secret(type="Opaque")
    new = secret(type="kubernetes.io/basic-auth", data={"username": "eA=="})

    assert messages(SECRETS.validate_update(new, old)) == [
        'type: Invalid value: "kubernetes.io/basic-auth": field is immutable']


def test_secret_columns_and_fields():
    obj = secret(type="Opaque", data={"a": "eA=="})

    assert [c.cell(obj) for c in SECRETS.columns()][:3] == ["s", "Opaque", 1]
    assert SECRETS.field_values(obj) == {"metadata.name": "s",
                                         "metadata.namespace": "default",
                                         "type": "Opaque"}
    assert SECRETS.short_names == ()
