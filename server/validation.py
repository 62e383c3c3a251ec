"""Validators shared by the kinds, with the messages kube-apiserver gives.

The string checks mirror k8s.io/apimachinery/pkg/util/validation (they return
plain messages), the field checks mirror pkg/api/validation and
apimachinery/pkg/api/validation (they return :class:`FieldError` lists).
Field paths are written the way field.Path prints them:
``spec.containers[0].ports[1].containerPort``, ``metadata.labels``,
``data[key]``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Callable, Iterable

from server.errors import FieldError

# A name validator: (name, is_prefix) -> messages, as ValidateNameFunc.
NameValidator = Callable[[str, bool], list[str]]

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
DNS1035_LABEL_MAX = 63
QUALIFIED_NAME_MAX = 63
LABEL_VALUE_MAX = 63
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024

FIELD_IMMUTABLE = "field is immutable"

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric "
    "characters or '-', and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
    "characters, '-' or '.', and must start and end with an alphanumeric character"
)
_DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or "
    "'-', start with an alphabetic character, and end with an alphanumeric "
    "character"
)
_QNAME_CHAR_FMT = "[A-Za-z0-9]"
_QNAME_EXT_CHAR_FMT = "[-A-Za-z0-9_.]"
_QUALIFIED_NAME_FMT = (
    "(" + _QNAME_CHAR_FMT + _QNAME_EXT_CHAR_FMT + "*)?" + _QNAME_CHAR_FMT
)
_QUALIFIED_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start "
    "and end with an alphanumeric character"
)
_LABEL_VALUE_FMT = "(" + _QUALIFIED_NAME_FMT + ")?"
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric "
    "characters, '-', '_' or '.', and must start and end with an alphanumeric "
    "character"
)
_CONFIG_MAP_KEY_FMT = "[-._a-zA-Z0-9]+"
_CONFIG_MAP_KEY_MSG = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
)
_RELAXED_ENV_VAR_NAME_MSG = (
    "a valid environment variable name must consist only of printable ASCII "
    "characters other than '='"
)


def _full(fmt: str) -> re.Pattern:
    return re.compile("^" + fmt + "$")


_DNS1123_LABEL_RE = _full(_DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN_RE = _full(_DNS1123_SUBDOMAIN_FMT)
_DNS1035_LABEL_RE = _full(_DNS1035_LABEL_FMT)
_QUALIFIED_NAME_RE = _full(_QUALIFIED_NAME_FMT)
_LABEL_VALUE_RE = _full(_LABEL_VALUE_FMT)
_CONFIG_MAP_KEY_RE = _full(_CONFIG_MAP_KEY_FMT)


# Message builders, as apimachinery's validation.RegexError and friends.

def regex_error(msg: str, fmt: str, *examples: str) -> str:
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    # Go joins each "'example', " with " or ", giving "'a',  or 'b', ".
    text = msg + " (e.g. " + " or ".join(f"'{e}', " for e in examples)
    return text + f"regex used for validation is '{fmt}')"


def max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def empty_error() -> str:
    return "must be non-empty"


def inclusive_range_error(lo: int, hi: int) -> str:
    return f"must be between {lo} and {hi}, inclusive"


# String checks: each returns the list of messages, empty when valid.

def is_dns1123_label(value: str) -> list[str]:
    errs = []
    if len(value) > DNS1123_LABEL_MAX:
        errs.append(max_len_error(DNS1123_LABEL_MAX))
    if not _DNS1123_LABEL_RE.match(value):
        if _DNS1123_SUBDOMAIN_RE.match(value):
            # A valid subdomain with dots: say what is wrong, as Kubernetes does.
            errs.append("must not contain dots")
        else:
            errs.append(regex_error(_DNS1123_LABEL_MSG, _DNS1123_LABEL_FMT,
                                    "my-name", "123-abc"))
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    errs = []
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        errs.append(max_len_error(DNS1123_SUBDOMAIN_MAX))
    if not _DNS1123_SUBDOMAIN_RE.match(value):
        errs.append(regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT,
                                "example.com"))
    return errs


def is_dns1035_label(value: str) -> list[str]:
    errs = []
    if len(value) > DNS1035_LABEL_MAX:
        errs.append(max_len_error(DNS1035_LABEL_MAX))
    if not _DNS1035_LABEL_RE.match(value):
        errs.append(regex_error(_DNS1035_LABEL_MSG, _DNS1035_LABEL_FMT,
                                "my-name", "abc-123"))
    return errs


def is_qualified_name(value: str) -> list[str]:
    """A label key, annotation key or finalizer: ``[prefix/]name``."""
    errs = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part " + empty_error())
        else:
            errs.extend("prefix part " + m for m in is_dns1123_subdomain(prefix))
    else:
        return ["a qualified name " + regex_error(
            _QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, "MyName", "my.name",
            "123-abc") + " with an optional DNS subdomain prefix and '/' "
            "(e.g. 'example.com/MyName')"]
    if not name:
        errs.append("name part " + empty_error())
    elif len(name) > QUALIFIED_NAME_MAX:
        errs.append("name part " + max_len_error(QUALIFIED_NAME_MAX))
    if not _QUALIFIED_NAME_RE.match(name):
        errs.append("name part " + regex_error(
            _QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, "MyName", "my.name",
            "123-abc"))
    return errs


def is_valid_label_value(value: str) -> list[str]:
    errs = []
    if len(value) > LABEL_VALUE_MAX:
        errs.append(max_len_error(LABEL_VALUE_MAX))
    if not _LABEL_VALUE_RE.match(value):
        errs.append(regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue",
                                "my_value", "12345"))
    return errs


def is_config_map_key(value: str) -> list[str]:
    """A key of ConfigMap/Secret data (and of projected items)."""
    errs = []
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        errs.append(max_len_error(DNS1123_SUBDOMAIN_MAX))
    if not _CONFIG_MAP_KEY_RE.match(value):
        errs.append(regex_error(_CONFIG_MAP_KEY_MSG, _CONFIG_MAP_KEY_FMT,
                                "key.name", "KEY_NAME", "key-name"))
    errs.extend(_chdir_prefix_errors(value))
    return errs


def _chdir_prefix_errors(value: str) -> list[str]:
    if value == ".":
        return ["must not be '.'"]
    if value == "..":
        return ["must not be '..'"]
    if value.startswith(".."):
        return ["must not start with '..'"]
    return []


def is_env_var_name(value: str) -> list[str]:
    # RelaxedEnvironmentVariableValidation is on by default since v1.32
    # (beta), so any printable ASCII but '=' is allowed.
    errs = []
    if not value:
        errs.append("environment variable name " + empty_error())
    if any(ord(c) > 126 or ord(c) < 32 or c == "=" for c in value):
        errs.append(_RELAXED_ENV_VAR_NAME_MSG)
    return errs


# Name validators for object names (ValidateNameFunc): a generateName is a
# prefix, so a trailing '-' is allowed there.

def _mask_trailing_dash(name: str) -> str:
    if len(name) > 1 and name.endswith("-"):
        return name[:-2] + "a"
    return name


def name_is_dns_subdomain(name: str, prefix: bool = False) -> list[str]:
    return is_dns1123_subdomain(_mask_trailing_dash(name) if prefix else name)


def name_is_dns_label(name: str, prefix: bool = False) -> list[str]:
    return is_dns1123_label(_mask_trailing_dash(name) if prefix else name)


def name_is_dns1035_label(name: str, prefix: bool = False) -> list[str]:
    return is_dns1035_label(_mask_trailing_dash(name) if prefix else name)


# Field checks.

def invalid(path: str, value: object, messages: Iterable[str]) -> list[FieldError]:
    return [FieldError("Invalid value", path, value, m) for m in messages]


def required(path: str, detail: str = "") -> FieldError:
    return FieldError("Required value", path, None, detail)


def forbidden(path: str, detail: str) -> FieldError:
    return FieldError("Forbidden", path, None, detail)


def not_supported(path: str, value: object, supported: Iterable[str]) -> FieldError:
    """``Unsupported value: "x": supported values: "A", "B"``."""
    quoted = ", ".join(f'"{v}"' for v in supported)
    detail = f"supported values: {quoted}" if quoted else ""
    return FieldError("Unsupported value", path, value, detail)


def validate_enum(value: object, path: str, supported: Iterable[str],
                  *, required_value: bool = True) -> list[FieldError]:
    """An enum field: Required when empty, else one of ``supported``."""
    supported = list(supported)
    if value in (None, ""):
        return [required(path, "")] if required_value else []
    if value not in supported:
        return [not_supported(path, value, supported)]
    return []


def validate_immutable(new: object, old: object, path: str) -> list[FieldError]:
    if new != old:
        return [FieldError("Invalid value", path, new, FIELD_IMMUTABLE)]
    return []


def validate_labels(labels: dict | None, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    # A wrong type is the decoder's 400 (server.objects), not ours to report.
    for key, value in (labels if isinstance(labels, dict) else {}).items():
        errs += invalid(path, key, is_qualified_name(key))
        if not isinstance(value, str):
            errs.append(FieldError("Invalid value", path, value,
                                   "label values must be strings"))
            continue
        errs += invalid(path, value, is_valid_label_value(value))
    return errs


def validate_annotations(annotations: dict | None, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    annotations = annotations if isinstance(annotations, dict) else {}
    for key in annotations:
        # Annotation keys are qualified names, case aside.
        errs += invalid(path, key, is_qualified_name(key.lower()))
    size = sum(len(k) + len(str(v)) for k, v in annotations.items())
    if size > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.append(FieldError(
            "Too long", path, "",
            f"may not be more than {TOTAL_ANNOTATION_SIZE_LIMIT} bytes"))
    return errs


def validate_finalizers(finalizers: list | None, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    finalizers = finalizers if isinstance(finalizers, list) else []
    for name in finalizers:
        errs += invalid(path, name, is_qualified_name(str(name)))
    if "orphan" in finalizers and "foregroundDeletion" in finalizers:
        errs.append(FieldError(
            "Invalid value", path, finalizers,
            "finalizer orphan and foregroundDeletion cannot be both set"))
    return errs


def validate_owner_references(refs: list | None, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    controller = ""
    refs = [r for r in refs if isinstance(r, dict)] if isinstance(refs, list) else []
    for ref in refs:
        errs += _validate_owner_reference(ref, path)
        if ref.get("controller") is True:
            this = f"{ref.get('kind', '')}/{ref.get('name', '')}"
            if controller:
                errs.append(FieldError(
                    "Invalid value", path, refs,
                    "Only one reference can have Controller set to true. "
                    f'Found "true" in references for {controller} and {this}'))
            else:
                controller = this
    return errs


def _validate_owner_reference(ref: dict, path: str) -> list[FieldError]:
    errs = []
    api_version = ref.get("apiVersion", "")
    version = api_version.split("/")[-1] if api_version else ""
    if not version:
        errs.append(FieldError("Invalid value", f"{path}.apiVersion", api_version,
                               "version must not be empty"))
    for key in ("kind", "name", "uid"):
        if not ref.get(key):
            errs.append(FieldError("Invalid value", f"{path}.{key}",
                                   ref.get(key, ""), "must not be empty"))
    return errs


def validate_object_meta(obj: dict, *, namespaced: bool,
                         name_validator: NameValidator) -> list[FieldError]:
    """ValidateObjectMeta: name, namespace, labels, annotations, owners."""
    meta = obj.get("metadata") or {}
    errs: list[FieldError] = []
    generate_name = meta.get("generateName", "")
    if generate_name:
        errs += invalid("metadata.generateName", generate_name,
                        name_validator(generate_name, True))
    name = meta.get("name", "")
    if not name:
        errs.append(required("metadata.name", "name or generateName is required"))
    else:
        errs += invalid("metadata.name", name, name_validator(name, False))
    errs += _validate_namespace_field(meta.get("namespace", ""), namespaced)
    generation = meta.get("generation", 0)
    if isinstance(generation, int) and generation < 0:
        errs.append(FieldError("Invalid value", "metadata.generation", generation,
                               "must be greater than or equal to 0"))
    errs += validate_labels(meta.get("labels"), "metadata.labels")
    errs += validate_annotations(meta.get("annotations"), "metadata.annotations")
    errs += validate_owner_references(meta.get("ownerReferences"),
                                      "metadata.ownerReferences")
    errs += validate_finalizers(meta.get("finalizers"), "metadata.finalizers")
    return errs


def _validate_namespace_field(namespace: str, namespaced: bool) -> list[FieldError]:
    if not namespaced:
        if namespace:
            return [forbidden("metadata.namespace", "not allowed on this type")]
        return []
    if not namespace:
        return [required("metadata.namespace")]
    return invalid("metadata.namespace", namespace, name_is_dns_label(namespace))


def validate_object_meta_update(new: dict, old: dict) -> list[FieldError]:
    """ValidateObjectMetaUpdate: what metadata may not change, and its syntax.

    The resourceVersion check ("must be specified for an update") is left to
    the handlers, which fill it in for an unconditional update as
    kube-apiserver's store does.
    """
    new_meta = new.get("metadata") or {}
    old_meta = old.get("metadata") or {}
    errs: list[FieldError] = []
    if old_meta.get("deletionTimestamp"):
        errs += _no_new_finalizers(new_meta, old_meta)
    if new_meta.get("generation", 0) < old_meta.get("generation", 0):
        errs.append(FieldError("Invalid value", "metadata.generation",
                               new_meta.get("generation", 0),
                               "must not be decremented"))
    for key in ("name", "namespace", "uid", "creationTimestamp",
                "deletionTimestamp", "deletionGracePeriodSeconds"):
        errs += validate_immutable(new_meta.get(key), old_meta.get(key),
                                   f"metadata.{key}")
    errs += validate_labels(new_meta.get("labels"), "metadata.labels")
    errs += validate_annotations(new_meta.get("annotations"),
                                 "metadata.annotations")
    errs += validate_owner_references(new_meta.get("ownerReferences"),
                                      "metadata.ownerReferences")
    return errs


def _no_new_finalizers(new_meta: dict, old_meta: dict) -> list[FieldError]:
    extra = sorted(set(new_meta.get("finalizers") or [])
                   - set(old_meta.get("finalizers") or []))
    if not extra:
        return []
    listed = ", ".join(f'"{f}"' for f in extra)
    return [forbidden(
        "metadata.finalizers",
        "no new finalizers can be added if the object is being deleted, "
        f"found new finalizers []string{{{listed}}}")]


# Ports and protocols.

PROTOCOLS = ("SCTP", "TCP", "UDP")


def validate_port_number(port: object, path: str) -> list[FieldError]:
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        return [FieldError("Invalid value", path, port,
                           inclusive_range_error(1, 65535))]
    return []


def validate_protocol(protocol: object, path: str) -> list[FieldError]:
    return validate_enum(protocol, path, PROTOCOLS)


# Resource quantities, as k8s.io/apimachinery/pkg/api/resource.

QUANTITY_FORMAT_ERROR = (
    "quantities must match the regular expression "
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)
QUANTITY_SUFFIX_ERROR = "unable to parse quantity's suffix"
_QUANTITY_RE = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
_BINARY_SUFFIXES = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6,
                     "G": 9, "T": 12, "P": 15, "E": 18}


def parse_quantity(text: object) -> Decimal:
    """The exact value of a quantity ("100m", "1Gi", "1e3", 2); ValueError if
    it is not one, with resource.ParseQuantity's message.

    Canonical formatting is :mod:`server.quantity`'s business; this only
    reads the value, to validate and compare.
    """
    if isinstance(text, bool):
        raise ValueError(QUANTITY_FORMAT_ERROR)
    if isinstance(text, (int, float)):
        text = str(text)
    if not isinstance(text, str) or not text:
        raise ValueError(QUANTITY_FORMAT_ERROR)
    match = _QUANTITY_RE.match(text)
    if not match:
        raise ValueError(QUANTITY_FORMAT_ERROR)
    number, suffix = match.groups()
    try:
        value = Decimal(number)
    except InvalidOperation:
        raise ValueError(QUANTITY_FORMAT_ERROR) from None
    return value * _suffix_multiplier(suffix)


def _suffix_multiplier(suffix: str) -> Decimal:
    if suffix in _BINARY_SUFFIXES:
        return Decimal(1024) ** _BINARY_SUFFIXES[suffix]
    if suffix in _DECIMAL_SUFFIXES:
        return Decimal(10) ** _DECIMAL_SUFFIXES[suffix]
    if suffix[:1] in ("e", "E"):
        exponent = suffix[1:]
        if re.fullmatch(r"[-+]?[0-9]+", exponent):
            return Decimal(10) ** int(exponent)
    # The text has the shape of a quantity, but no such suffix exists.
    raise ValueError(QUANTITY_SUFFIX_ERROR)


def is_quantity(text: object) -> bool:
    try:
        parse_quantity(text)
    except ValueError:
        return False
    return True


# Values printed in a message the way Go's %#v prints them.

class GoStrings(list):
    """A []string: ``[]string{"a", "b"}``."""

    def __str__(self) -> str:
        return "[]string{" + ", ".join(f'"{s}"' for s in self) + "}"

    def __hash__(self) -> int:  # FieldError is a frozen dataclass
        return hash(str(self))


class GoStringMap(dict):
    """A map[string]string: ``map[string]string{"a":"b"}``, keys sorted."""

    def __str__(self) -> str:
        items = ", ".join(f'"{k}":"{self[k]}"' for k in sorted(self))
        return "map[string]string{" + items + "}"

    def __hash__(self) -> int:  # FieldError is a frozen dataclass
        return hash(str(self))
