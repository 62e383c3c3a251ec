"""ConfigMaps and Secrets: named bags of data."""

from __future__ import annotations

import base64
import binascii

from server import gojson
from server.errors import BadRequest, FieldError
from server.registry.base import Column, Kind, age_column, name_column
from server.registry.podspec import as_dict
from server.validation import (
    forbidden,
    invalid,
    is_config_map_key,
    name_is_dns_subdomain,
    required,
    validate_immutable,
    validate_object_meta,
    validate_object_meta_update,
)

MAX_SECRET_SIZE = 1024 * 1024
IMMUTABLE_SET = "field is immutable when `immutable` is set"
_BASE64_ALPHABET = set(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")

_CONFIG_DATA_DOC = (
    "Data contains the configuration data. Each key must consist of alphanumeric "
    "characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use "
    "the BinaryData field. The keys stored in Data must not overlap with the "
    "keys in the BinaryData field, this is enforced during validation process."
)
_SECRET_TYPE_DOC = (
    "Used to facilitate programmatic handling of secret data. More info: "
    "https://kubernetes.io/docs/concepts/configuration/secret/#secret-types"
)
_SECRET_DATA_DOC = (
    "Data contains the secret data. Each key must consist of alphanumeric "
    "characters, '-', '_' or '.'. The serialized form of the secret data is a "
    "base64 encoded string, representing the arbitrary (possibly non-string) "
    "data value here. Described in https://tools.ietf.org/html/rfc4648#section-4"
)


def base64_error(text: object) -> str | None:
    """Why ``text`` is not standard padded base64, worded as Go's decoder does."""
    if not isinstance(text, str):
        return "illegal base64 data at input byte 0"
    data = text.replace("\r", "").replace("\n", "")
    for i, char in enumerate(data):
        if char == "=":
            if data[i:].strip("=") or i % 4 < 2 or len(data) % 4:
                return f"illegal base64 data at input byte {i}"
            return None
        if char not in _BASE64_ALPHABET:
            return f"illegal base64 data at input byte {i}"
    if len(data) % 4:
        return f"illegal base64 data at input byte {len(data) - len(data) % 4}"
    return None


def _decoded_size(text: str) -> int:
    try:
        return len(base64.b64decode(text.replace("\r", "").replace("\n", "")))
    except (binascii.Error, ValueError):
        return 0


def _cannot_handle(kind: str, why: str) -> BadRequest:
    # kube-apiserver fails such a body while decoding it: a 400, not a 422.
    return BadRequest(f'{kind} in version "v1" cannot be handled as a {kind}: {why}')


def _check_strings(obj: dict, kind: str, field: str) -> None:
    for value in as_dict(obj.get(field)).values():
        if not isinstance(value, str):
            raise _cannot_handle(
                kind, f"json: cannot unmarshal {type(value).__name__} into Go "
                f"struct field {kind}.{field} of type string")


def _check_base64(obj: dict, kind: str, field: str) -> None:
    _check_strings(obj, kind, field)
    for value in as_dict(obj.get(field)).values():
        why = base64_error(value)
        if why:
            raise _cannot_handle(kind, why)


def _validate_keys(obj: dict, field: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for key in as_dict(obj.get(field)):
        errs += invalid(f"{field}[{key}]", key, is_config_map_key(key))
    return errs


def _validate_immutable_update(obj: dict, old: dict, fields: tuple) -> list[FieldError]:
    if old.get("immutable") is not True:
        return []
    errs = []
    if obj.get("immutable") is not True:
        errs.append(forbidden("immutable", IMMUTABLE_SET))
    for field in fields:
        if obj.get(field) != old.get(field):
            errs.append(forbidden(field, IMMUTABLE_SET))
    return errs


class ConfigMapKind(Kind):
    kind = "ConfigMap"
    resource = "configmaps"
    singular = "configmap"
    short_names = ("cm",)

    def prepare_create(self, obj: dict) -> None:
        _check_strings(obj, self.kind, "data")
        _check_base64(obj, self.kind, "binaryData")

    def prepare_update(self, obj: dict, old: dict) -> None:
        self.prepare_create(obj)

    def validate(self, obj: dict) -> list[FieldError]:
        errs = validate_object_meta(obj, namespaced=True,
                                    name_validator=name_is_dns_subdomain)
        return errs + validate_config_map_data(obj)

    def validate_update(self, obj: dict, old: dict) -> list[FieldError]:
        errs = validate_object_meta_update(obj, old)
        errs += _validate_immutable_update(obj, old, ("data", "binaryData"))
        return errs + self.validate(obj)

    def columns(self) -> list[Column]:
        def count(obj: dict) -> int:
            return len(as_dict(obj.get("data"))) + len(as_dict(obj.get("binaryData")))

        return [name_column(),
                Column("Data", count, description=_CONFIG_DATA_DOC),
                age_column()]


def validate_config_map_data(obj: dict) -> list[FieldError]:
    data, binary = as_dict(obj.get("data")), as_dict(obj.get("binaryData"))
    errs = _validate_keys(obj, "data")
    errs += [FieldError("Invalid value", f"data[{key}]", key,
                        "duplicate of key present in binaryData")
             for key in data if key in binary]
    errs += _validate_keys(obj, "binaryData")
    errs += [FieldError("Invalid value", f"binaryData[{key}]", key,
                        "duplicate of key present in data")
             for key in binary if key in data]
    size = sum(len(str(v).encode()) for v in data.values())
    size += sum(_decoded_size(v) for v in binary.values())
    if size > MAX_SECRET_SIZE:
        # The path is empty: the error is about the whole object.
        errs.append(FieldError("Too long", "", "",
                               f"may not be more than {MAX_SECRET_SIZE} bytes"))
    return errs


# The keys each built-in secret type requires (core validation's ValidateSecret).
_REQUIRED_KEYS = {
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
}
# The key of the docker config types, whose value must be a JSON object.
_DOCKER_CONFIG_KEYS = {
    "kubernetes.io/dockercfg": ".dockercfg",
    "kubernetes.io/dockerconfigjson": ".dockerconfigjson",
}
# What kube-apiserver shows in place of a secret's value in its errors.
REDACTED = "<secret contents redacted>"


class SecretKind(Kind):
    kind = "Secret"
    resource = "secrets"
    singular = "secret"
    selectable_fields = ("type",)

    def prepare_create(self, obj: dict) -> None:
        _check_base64(obj, self.kind, "data")
        _check_strings(obj, self.kind, "stringData")
        merge_string_data(obj)
        if not obj.get("type"):
            obj["type"] = "Opaque"

    def prepare_update(self, obj: dict, old: dict) -> None:
        self.prepare_create(obj)

    def validate(self, obj: dict) -> list[FieldError]:
        errs = validate_object_meta(obj, namespaced=True,
                                    name_validator=name_is_dns_subdomain)
        return errs + validate_secret_data(obj)

    def validate_update(self, obj: dict, old: dict) -> list[FieldError]:
        errs = validate_object_meta_update(obj, old)
        errs += validate_immutable(obj.get("type"), old.get("type"), "type")
        errs += _validate_immutable_update(obj, old, ("data",))
        return errs + self.validate(obj)

    def field_values(self, obj: dict) -> dict[str, str]:
        values = super().field_values(obj)
        values["type"] = str(obj.get("type") or "")
        return values

    def columns(self) -> list[Column]:
        return [name_column(),
                Column("Type", lambda o: o.get("type", ""),
                       description=_SECRET_TYPE_DOC),
                Column("Data", lambda o: len(as_dict(o.get("data"))),
                       description=_SECRET_DATA_DOC),
                age_column()]


def merge_string_data(obj: dict) -> None:
    """stringData is write-only: its values overwrite data, base64-encoded."""
    string_data = obj.pop("stringData", None)
    if not isinstance(string_data, dict) or not string_data:
        return
    data = obj.get("data")
    if not isinstance(data, dict):
        data = obj["data"] = {}
    for key, value in string_data.items():
        data[key] = base64.b64encode(value.encode()).decode()


def validate_secret_data(obj: dict) -> list[FieldError]:
    data = as_dict(obj.get("data"))
    errs = _validate_keys(obj, "data")
    if sum(_decoded_size(v) for v in data.values()) > MAX_SECRET_SIZE:
        errs.append(FieldError("Too long", "data", "",
                               f"may not be more than {MAX_SECRET_SIZE} bytes"))
    secret_type = obj.get("type")
    if secret_type == "kubernetes.io/service-account-token":
        annotations = as_dict(obj.get("metadata", {}).get("annotations"))
        if not annotations.get("kubernetes.io/service-account.name"):
            errs.append(required(
                "metadata.annotations[kubernetes.io/service-account.name]"))
    elif secret_type == "kubernetes.io/basic-auth":
        if "username" not in data and "password" not in data:
            errs += [required("data[username]"), required("data[password]")]
    elif secret_type == "kubernetes.io/ssh-auth":
        # Present is not enough here: an empty key is missing too.
        if not _decoded(data.get("ssh-privatekey") or ""):
            errs.append(required("data[ssh-privatekey]"))
    for key in _REQUIRED_KEYS.get(secret_type, ()):
        if key not in data:
            errs.append(required(f"data[{key}]"))
    if secret_type in _DOCKER_CONFIG_KEYS:
        errs += _validate_docker_config(data, _DOCKER_CONFIG_KEYS[secret_type])
    return errs


def _validate_docker_config(data: dict, key: str) -> list[FieldError]:
    if key not in data:
        return [required(f"data[{key}]")]
    problem = _go_unmarshal_object_error(_decoded(data[key]))
    if problem:
        return [FieldError("Invalid value", f"data[{key}]", REDACTED, problem)]
    return []


def _go_unmarshal_object_error(raw: bytes) -> str:
    """What Go's json.Unmarshal into a map[string]interface{} says of
    ``raw``, or "" if it accepts it (an object, or null)."""
    try:
        value = gojson.decode(raw)
    except gojson.GoJSONError as err:
        return str(err)
    if value is None or isinstance(value, dict):
        return ""
    return (f"json: cannot unmarshal {gojson.json_kind(value)} into Go value of "
            "type map[string]interface {}")


def _decoded(text: object) -> bytes:
    try:
        return base64.b64decode(str(text).replace("\r", "").replace("\n", ""))
    except (binascii.Error, ValueError):
        return b""
