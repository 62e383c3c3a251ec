"""Request bodies decoded against the kind's schema, as kube-apiserver does.

``decode_object`` turns a JSON, YAML or protobuf body into the object dict the
server stores, and the warnings to send back. Like Go's typed decoding it
refuses a value of the wrong JSON type (400), drops nulls and the zero values
Go would omit, makes struct fields that are not pointers present ({}, and a
zero time null), puts quantities and times in canonical form, and handles
unknown and duplicate fields according to fieldValidation:

- Ignore: dropped silently;
- Warn (the default for every content type): dropped, one warning each;
- Strict: refused, 400 ``strict decoding error: unknown field "spec.foo"``.

Protobuf bodies cannot carry unknown fields by name: the protobuf decoder
skips unknown field numbers, as kube-apiserver's does.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
from datetime import datetime, timezone

from server.errors import BadRequest, FieldError, Invalid, UnsupportedMediaType
from server.quantity import canonical_quantity
from server.schema import SCHEMAS
from server.schema.dsl import Field, ObjectSchema, Type

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
_JSON_TYPES = (JSON, "*/*", "application/merge-patch+json",
               "application/strategic-merge-patch+json",
               "application/json-patch+json", "")
_YAML_TYPES = (YAML, "application/apply-patch+yaml", "text/yaml")

DIRECTIVES = ("Ignore", "Strict", "Warn")
_INT_RANGES = {"int32": (-2**31, 2**31 - 1), "int64": (-2**63, 2**63 - 1)}
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})\Z")


def field_validation_directive(value: str | None,
                               options_kind: str = "CreateOptions") -> str:
    """The fieldValidation query parameter, defaulted; 422 when unsupported.

    kube-apiserver checks it with the request's options (CreateOptions,
    UpdateOptions, PatchOptions) before it reads the body.
    """
    if not value:
        return "Warn"
    if value in DIRECTIVES:
        return value
    supported = ", ".join(f'"{d}"' for d in ("", *DIRECTIVES))
    error = Invalid(options_kind, "", [FieldError(
        "Unsupported value", "fieldValidation", value,
        f"supported values: {supported}")], group="meta.k8s.io")
    raise error


def decode_object(kind_name: str, body: bytes, content_type: str,
                  field_validation: str | None) -> tuple[dict, list[str]]:
    """The object in ``body`` and the warnings for the client.

    Raises BadRequest for a body that does not decode (wrong types, malformed
    quantities, unknown or duplicate fields under Strict), and
    UnsupportedMediaType for a content type we do not read.
    """
    schema = SCHEMAS[kind_name]
    directive = field_validation_directive(field_validation)
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == PROTOBUF:
        from server import protobuf
        value = protobuf.decode_body(body, kind_name)
        walker = _Walker(kind_name, value, directive)
        return walker.decode(value, schema), []
    if media in _JSON_TYPES:
        value, yaml_problems = _parse_json(body, kind_name), []
    elif media in _YAML_TYPES:
        value, yaml_problems = _parse_yaml(body, kind_name)
    else:
        raise UnsupportedMediaType(
            f"the body of the request was in an unknown format - accepted "
            f"media types include: {JSON}, {YAML}, {PROTOBUF}")
    walker = _Walker(kind_name, value, directive, yaml_problems)
    return walker.decode(value, schema), walker.warnings()


def decode_patched(kind_name: str, value: dict,
                   directive: str) -> tuple[dict, list[str]]:
    """A patched object decoded as ``decode_object`` decodes a body.

    kube-apiserver decodes the result of every patch into the kind's type
    (handlers/patch.go), so unknown fields are never stored; its strict
    error names no kind. A wrong type raises DecodeError, which the patch
    handler answers as kube-apiserver does.
    """
    walker = _Walker(kind_name, value, directive, prefix="")
    return walker.decode(value, SCHEMAS[kind_name]), walker.warnings()


def decode_applied(kind_name: str, body: bytes,
                   field_validation: str | None) -> tuple[dict, list[str]]:
    """A server-side apply body: only the fields it sets, typed.

    As ``decode_object`` decodes it (unknown fields per the directive,
    values in canonical form), but without the zero values the typed decode
    fills in: what the applier did not write, it does not own.
    """
    directive = field_validation_directive(field_validation)
    raw, yaml_problems = _parse_yaml(body, kind_name)
    value = copy.deepcopy(raw)
    walker = _Walker(kind_name, value, directive, yaml_problems)
    typed = walker.decode(value, SCHEMAS[kind_name])
    return _given(raw, typed), walker.warnings()


def _given(raw, typed):
    if isinstance(raw, dict) and isinstance(typed, dict):
        return {k: _given(v, typed[k]) for k, v in raw.items() if k in typed}
    if isinstance(raw, list) and isinstance(typed, list) and len(raw) == len(typed):
        return [_given(r, t) for r, t in zip(raw, typed)]
    return typed


class DecodeError(BadRequest):
    """A value the kind's type cannot hold: a wrong JSON type, a malformed
    quantity, time or base64 string."""


# Parsing.

class _Float(float):
    """A JSON number with a fraction or exponent, and the text it was."""


class _Duplicated(dict):
    """A JSON object that repeats a key: the keys in document order."""

    __slots__ = ("keys_in_order",)


def _number(text: str) -> _Float:
    number = _Float(text)
    number.text = text
    return number


def _object(pairs: list) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        obj = _Duplicated(obj)
        obj.keys_in_order = [key for key, _ in pairs]
    return obj


def _no_constant(text: str):
    raise ValueError(f"invalid character '{text[0]}' looking for beginning "
                     "of value")


def _parse_json(body: bytes, kind_name: str):
    from server.gojson import without_lone_surrogates

    try:
        value = json.loads(body, object_pairs_hook=_object,
                           parse_float=_number, parse_constant=_no_constant)
        return without_lone_surrogates(value, body)
    except json.JSONDecodeError as err:
        raise _unrecognized(kind_name, _go_syntax_error(body, err), body)
    except ValueError as err:
        raise _unrecognized(kind_name, str(err), body)


def _go_syntax_error(body: bytes, err: json.JSONDecodeError) -> str:
    # Go's encoding/json words: the two cases clients meet in practice.
    if err.pos >= len(err.doc.rstrip()):
        return "unexpected end of JSON input"
    char = err.doc[err.pos]
    return f"invalid character '{char}' looking for beginning of value"


def _unrecognized(kind_name: str, reason: str, body: bytes) -> BadRequest:
    # transformDecodeError's words when the body names no kind.
    return BadRequest(
        f"the object provided is unrecognized (must be of type {kind_name}): "
        f"couldn't get version/kind; json parse error: {reason} "
        f"({_summary(body)})")


def _summary(body: bytes, limit: int = 30) -> str:
    if not body:
        return "<empty>"
    if body[:1] == b"{":
        text = body[:limit].decode("utf-8", "replace")
        return text + (" ..." if len(body) > limit else "")
    return body[:limit].hex() + (" ..." if len(body) > limit else "")


def _parse_yaml(body: bytes, kind_name: str):
    from server import decode_yaml
    try:
        value, duplicates = decode_yaml.load(body)
    except ValueError as err:
        raise BadRequest(str(err))
    if not isinstance(value, dict):
        raise _unrecognized(kind_name, "json: cannot unmarshal "
                            f"{_json_kind(value)} into Go value of type "
                            "struct", body)
    return value, duplicates


# The typed walk.

class _Walker:
    """Decodes one object; collects unknown and duplicate fields on the way.

    Paths are tuples of field names and list indices; they are only turned
    into text for an error or a warning.
    """

    def __init__(self, kind_name: str, value, directive: str,
                 yaml_problems: list[str] | None = None,
                 prefix: str | None = None):
        self.kind_name = kind_name
        self.directive = directive
        self.yaml_problems = yaml_problems or []
        self.problems: list[str] = []
        self.prefix = _prefix(kind_name, value) if prefix is None else prefix

    def decode(self, value, schema: ObjectSchema) -> dict:
        if not isinstance(value, dict):
            raise _unrecognized(self.kind_name, "json: cannot unmarshal "
                                f"{_json_kind(value)} into Go value of type "
                                "struct", json.dumps(value).encode())
        obj = self.object(value, schema, ())
        if self.directive == "Strict" and (self.problems or self.yaml_problems):
            raise BadRequest(f"{self.prefix}strict decoding error: "
                             + ", ".join(self._strict_errors()))
        return obj

    def warnings(self) -> list[str]:
        if self.directive != "Warn":
            return []
        return self.yaml_problems + self.problems

    def _strict_errors(self) -> list[str]:
        errors = list(self.problems)
        if self.yaml_problems:
            lines = "\n  ".join(self.yaml_problems)
            errors.insert(0, f"yaml: unmarshal errors:\n  {lines}")
        return errors

    def object(self, value: dict, schema: ObjectSchema, path: tuple) -> dict:
        fields = schema.json_fields
        out = {}
        keys = getattr(value, "keys_in_order", None)
        seen = set() if keys is not None else None
        for key in keys if keys is not None else value:
            f = fields.get(key)
            if f is None:
                self._unknown(key, path, seen)
                continue
            if seen is not None:
                if key in seen:
                    self._problem("duplicate field", path + (key,))
                    continue
                seen.add(key)
            item = value[key]
            if item is None:
                continue
            item = self.value(item, f.type, f, schema.type_name, path + (key,))
            if f.omitempty and not f.ptr and _is_zero(item):
                continue
            out[key] = item
        for name, f in _structs(schema):
            if name not in out:
                out[name] = _empty(f.type.ref)
        for name in _times(schema):
            out.setdefault(name, None)
        return out

    def _unknown(self, key: str, path: tuple, seen: set | None) -> None:
        if seen is not None:
            if key in seen:
                return
            seen.add(key)
        self._problem("unknown field", path + (key,))

    def _problem(self, what: str, path: tuple) -> None:
        if self.directive != "Ignore":
            self.problems.append(f'{what} "{_path_text(path)}"')

    def value(self, item, type_: Type, f: Field, struct: str, path: tuple):
        kind = type_.kind
        if kind == "ref":
            if isinstance(item, dict):
                return self.object(item, SCHEMAS[type_.ref], path)
            raise self._type_error(item, type_, struct, path)
        if kind == "list":
            if type(item) is not list:
                raise self._type_error(item, type_, struct, path)
            return [self._element(x, type_.item, f, struct, path + (i,))
                    for i, x in enumerate(item)]
        if kind == "map":
            if not isinstance(item, dict):
                raise self._type_error(item, type_, struct, path)
            self._map_duplicates(item, path)
            return {k: self._element(v, type_.item, f, struct, path)
                    for k, v in item.items()}
        return _SCALARS[kind](self, item, type_, struct, path)

    def _map_duplicates(self, item: dict, path: tuple) -> None:
        # A repeated key of a map (labels, data) is a duplicate field to Go's
        # strict decoder too; the last value wins, as in Go.
        keys = getattr(item, "keys_in_order", None)
        if keys is None:
            return
        seen: set = set()
        for key in keys:
            if key in seen:
                self._problem("duplicate field", path + (key,))
            seen.add(key)

    def _element(self, item, type_: Type, f: Field, struct: str, path: tuple):
        if item is None:
            # Go sets a null element to its type's zero value.
            return _zero(type_)
        return self.value(item, type_, f, struct, path)

    def _type_error(self, item, type_: Type, struct: str, path: tuple,
                    go_type: str | None = None) -> DecodeError:
        what = _json_kind(item)
        if what == "number" and type_.kind in ("int32", "int64",
                                                "intorstring"):
            what = f"number {_number_text(item)}"
        return DecodeError(
            f"{self.prefix}json: cannot unmarshal {what} into Go struct field "
            f"{struct}.{_go_path(path)} of type {go_type or type_.go_name()}")

    def _failure(self, message: str) -> DecodeError:
        return DecodeError(f"{self.prefix}{message}")

    # Scalars: each returns the value to store or raises BadRequest.

    def string(self, item, type_, struct, path):
        if type(item) is str:
            return item
        raise self._type_error(item, type_, struct, path)

    def integer(self, item, type_, struct, path):
        if type(item) is int:
            low, high = _INT_RANGES[type_.kind]
            if low <= item <= high:
                return item
        raise self._type_error(item, type_, struct, path)

    def boolean(self, item, type_, struct, path):
        if type(item) is bool:
            return item
        raise self._type_error(item, type_, struct, path)

    def number(self, item, type_, struct, path):
        if type(item) in (int, float, _Float):
            return float(item) if type(item) is _Float else item
        raise self._type_error(item, type_, struct, path)

    def quantity(self, item, type_, struct, path):
        # Quantity.UnmarshalJSON reads any JSON value's text: only strings
        # and numbers can parse, and its errors name no field.
        if type(item) is str:
            text = item.strip()
        elif type(item) in (int, _Float):
            text = _number_text(item)
        else:
            text = json.dumps(item)
        try:
            return canonical_quantity(text)
        except ValueError as err:
            raise self._failure(str(err)) from None

    def int_or_string(self, item, type_, struct, path):
        if type(item) is str:
            return item
        if type(item) is int and -2**31 <= item < 2**31:
            return item
        raise self._type_error(item, type_, struct, path, go_type="int32")

    def byte_string(self, item, type_, struct, path):
        if type(item) is not str:
            raise self._type_error(item, type_, struct, path)
        return _canonical_base64(item, self)

    def time(self, item, type_, struct, path):
        if type(item) is not str:
            raise self._type_error(item, type_, struct, path, go_type="string")
        if not _RFC3339.match(item):
            # TODO: Go's time.Parse names the element that failed; we quote
            # only the first one.
            raise self._failure(
                f'parsing time "{item}" as "2006-01-02T15:04:05Z07:00": '
                f'cannot parse "{item}" as "2006"')
        moment = datetime.fromisoformat(item.replace("Z", "+00:00"))
        moment = moment.astimezone(timezone.utc)
        if type_.kind == "microtime":
            return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def raw(self, item, type_, struct, path):
        return _plain(item)


_SCALARS = {
    "string": _Walker.string,
    "int32": _Walker.integer,
    "int64": _Walker.integer,
    "boolean": _Walker.boolean,
    "number": _Walker.number,
    "quantity": _Walker.quantity,
    "intorstring": _Walker.int_or_string,
    "bytes": _Walker.byte_string,
    "time": _Walker.time,
    "microtime": _Walker.time,
    "raw": _Walker.raw,
}


def _prefix(kind_name: str, value) -> str:
    """transformDecodeError's lead: the body's kind and version, then ours."""
    kind, version = kind_name, SCHEMAS[kind_name].gvk[1]
    if isinstance(value, dict):
        if isinstance(value.get("kind"), str) and value["kind"]:
            kind = value["kind"]
        api_version = value.get("apiVersion")
        if isinstance(api_version, str) and api_version:
            version = api_version.rsplit("/", 1)[-1]
    return f'{kind} in version "{version}" cannot be handled as a {kind_name}: '


def _json_kind(item) -> str:
    if type(item) is bool:
        return "bool"
    if isinstance(item, (int, float)):
        return "number"
    if isinstance(item, str):
        return "string"
    if isinstance(item, list):
        return "array"
    return "object"


def _number_text(item) -> str:
    return item.text if type(item) is _Float else str(item)


def _path_text(path: tuple) -> str:
    text = ""
    for part in path:
        if type(part) is int:
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _go_path(path: tuple) -> str:
    # Go's error context names the struct fields, not list indices.
    return ".".join(p for p in path if type(p) is not int)


def _is_zero(item) -> bool:
    return item == "" or item is False or item == 0 or item == [] or (
        item == {} and type(item) is dict)


def _zero(type_: Type):
    kind = type_.kind
    if kind == "ref":
        return _empty(type_.ref)
    return {"string": "", "int32": 0, "int64": 0, "boolean": False,
            "number": 0, "list": [], "map": {}}.get(kind)


_STRUCTS: dict[str, list[tuple[str, Field]]] = {}


def _structs(schema: ObjectSchema) -> list[tuple[str, Field]]:
    """The struct fields that are not pointers: Go always prints them."""
    structs = _STRUCTS.get(schema.name)
    if structs is None:
        structs = [(name, f) for name, f in schema.json_fields.items()
                   if f.type.kind == "ref" and not f.ptr]
        _STRUCTS[schema.name] = structs
    return structs


_TIMES: dict[str, list[str]] = {}


def _times(schema: ObjectSchema) -> list[str]:
    """The time fields that are not pointers: Go prints a zero metav1.Time as
    null even under omitempty, so a pod template's metadata reads
    ``creationTimestamp: null`` and a pod condition ``lastProbeTime: null``."""
    times = _TIMES.get(schema.name)
    if times is None:
        times = [name for name, f in schema.json_fields.items()
                 if f.type.kind in ("time", "microtime") and not f.ptr]
        _TIMES[schema.name] = times
    return times


def _empty(name: str) -> dict:
    schema = SCHEMAS[name]
    empty = {field_name: _empty(f.type.ref)
             for field_name, f in _structs(schema)}
    return dict(empty, **dict.fromkeys(_times(schema)))


def _plain(item):
    """A raw value with our number wrapper turned back into a float."""
    if type(item) is _Float:
        return float(item)
    if isinstance(item, dict):
        return {k: _plain(v) for k, v in item.items()}
    if isinstance(item, list):
        return [_plain(v) for v in item]
    return item


def _canonical_base64(text: str, walker: _Walker) -> str:
    # Go's StdEncoding skips line breaks and wants padding; the value is
    # stored re-encoded, so equivalent inputs store the same text.
    compact = text.replace("\r", "").replace("\n", "")
    try:
        data = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise walker._failure(
            f"illegal base64 data at input byte {_bad_base64_at(compact)}"
        ) from None
    return base64.b64encode(data).decode()


def _bad_base64_at(text: str) -> int:
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                   "0123456789+/")
    for index, char in enumerate(text):
        if char not in alphabet:
            return index
    return len(text) - len(text) % 4
