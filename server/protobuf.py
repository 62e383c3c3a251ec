"""Kubernetes protobuf bodies (application/vnd.kubernetes.protobuf).

A body is the magic ``k8s\\x00`` then a runtime.Unknown message: typeMeta
(apiVersion, kind), raw (the object's own message), contentEncoding and
contentType. The object's message is read with descriptors built from our
schemas at import time, so the field numbers are those the schemas carry, and
turned into the dict the same object's JSON gives (before decode.py
normalises both the same way).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

from server.errors import BadRequest
from server.schema import SCHEMAS
from server.schema.dsl import Field, ObjectSchema, Type

MAGIC = b"k8s\x00"
PROTOBUF_TYPE = "application/vnd.kubernetes.protobuf"
_PACKAGE = "kctl.wire"
_FDP = descriptor_pb2.FieldDescriptorProto
_SCALAR_TYPES = {
    "string": _FDP.TYPE_STRING,
    "int32": _FDP.TYPE_INT32,
    "int64": _FDP.TYPE_INT64,
    "boolean": _FDP.TYPE_BOOL,
    "number": _FDP.TYPE_DOUBLE,
    "bytes": _FDP.TYPE_BYTES,
}
# The apimachinery types that are messages on the wire but scalars in JSON.
_SPECIAL = {
    "quantity": ("Quantity", [("string", 1, "string")]),
    "intorstring": ("IntOrString", [("type", 1, "int64"), ("intVal", 2, "int32"),
                                    ("strVal", 3, "string")]),
    "time": ("Time", [("seconds", 1, "int64"), ("nanos", 2, "int32")]),
    "microtime": ("MicroTime", [("seconds", 1, "int64"), ("nanos", 2, "int32")]),
    "raw": ("RawExtension", [("raw", 1, "bytes")]),
}
_ENVELOPE = [
    ("TypeMeta", [("apiVersion", 1, "string"), ("kind", 2, "string")]),
    ("Unknown", [("typeMeta", 1, "TypeMeta"), ("raw", 2, "bytes"),
                 ("contentEncoding", 3, "string"),
                 ("contentType", 4, "string")]),
]


# Building the descriptors.

def _message_name(type_: Type) -> str:
    if type_.kind == "ref":
        return type_.ref
    return _SPECIAL[type_.kind][0]


def _add_field(message, f: Field) -> None:
    proto = message.field.add(name=f.name, number=f.number,
                              label=_FDP.LABEL_OPTIONAL)
    type_ = f.type
    if type_.kind == "list":
        proto.label = _FDP.LABEL_REPEATED
        type_ = type_.item
    elif type_.kind == "map":
        proto.label = _FDP.LABEL_REPEATED
        proto.type = _FDP.TYPE_MESSAGE
        proto.type_name = _map_entry(message, f.name, type_.item)
        return
    _set_type(proto, type_)


def _set_type(proto, type_: Type) -> None:
    if type_.kind in _SCALAR_TYPES:
        proto.type = _SCALAR_TYPES[type_.kind]
    else:
        proto.type = _FDP.TYPE_MESSAGE
        proto.type_name = f".{_PACKAGE}.{_message_name(type_)}"


def _map_entry(message, name: str, value_type: Type) -> str:
    entry = message.nested_type.add(name=name[0].upper() + name[1:] + "Entry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, label=_FDP.LABEL_OPTIONAL,
                    type=_FDP.TYPE_STRING)
    _set_type(entry.field.add(name="value", number=2,
                              label=_FDP.LABEL_OPTIONAL), value_type)
    return f".{_PACKAGE}.{message.name}.{entry.name}"


def _plain_message(file, name: str, fields: list[tuple[str, int, str]]) -> None:
    message = file.message_type.add(name=name)
    for field_name, number, kind in fields:
        proto = message.field.add(name=field_name, number=number,
                                  label=_FDP.LABEL_OPTIONAL)
        _set_type(proto, Type(kind) if kind in _SCALAR_TYPES
                  else Type("ref", ref=kind))


def _build_pool() -> dict[str, type]:
    file = descriptor_pb2.FileDescriptorProto(
        name="kctl/wire.proto", package=_PACKAGE, syntax="proto2")
    for name, fields in [*_SPECIAL.values(), *_ENVELOPE]:
        _plain_message(file, name, fields)
    for schema in SCHEMAS.values():
        message = file.message_type.add(name=schema.name)
        for f in schema.fields:
            # apiVersion and kind travel in the envelope, not the message.
            if f.number < 1000:
                _add_field(message, f)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    names = [m.name for m in file.message_type]
    return {name: message_factory.GetMessageClass(
        pool.FindMessageTypeByName(f"{_PACKAGE}.{name}")) for name in names}


_CLASSES = _build_pool()


# Reading.

def decode_body(body: bytes, kind_name: str) -> dict:
    """The object of a protobuf body, shaped as its JSON would be.

    apiVersion and kind come from the envelope. Raises BadRequest for a body
    that is not a Kubernetes protobuf message.
    """
    if body[:4] != MAGIC:
        raise BadRequest("provided data does not appear to be a protobuf "
                         "message, expected prefix [107 56 115 0]")
    unknown = _parse("Unknown", body[4:], kind_name)
    if unknown.contentEncoding:
        raise BadRequest(f"unsupported content encoding "
                         f"{unknown.contentEncoding!r}")
    obj = {}
    if unknown.typeMeta.apiVersion:
        obj["apiVersion"] = unknown.typeMeta.apiVersion
    if unknown.typeMeta.kind:
        obj["kind"] = unknown.typeMeta.kind
    message = _parse(kind_name, unknown.raw, kind_name)
    obj.update(_message_dict(message, SCHEMAS[kind_name]))
    return obj


def _parse(name: str, data: bytes, kind_name: str):
    message = _CLASSES[name]()
    try:
        message.ParseFromString(data)
    except DecodeError as err:
        raise BadRequest(f'{kind_name} in version "v1" cannot be handled as a '
                         f"{kind_name}: unable to decode protobuf: {err}"
                         ) from None
    return message


_BY_NUMBER: dict[str, dict[int, Field]] = {}


def _fields_by_number(schema: ObjectSchema) -> dict[int, Field]:
    fields = _BY_NUMBER.get(schema.name)
    if fields is None:
        fields = {f.number: f for f in schema.fields}
        _BY_NUMBER[schema.name] = fields
    return fields


def _message_dict(message, schema: ObjectSchema) -> dict:
    fields = _fields_by_number(schema)
    out = {}
    for descriptor, value in message.ListFields():
        f = fields[descriptor.number]
        if f.inline:
            out.update(_message_dict(value, SCHEMAS[f.type.ref]))
            continue
        converted = _field_value(value, f.type)
        if converted is not None:
            out[f.name] = converted
    return out


def _field_value(value, type_: Type):
    kind = type_.kind
    if kind == "list":
        return [_item(v, type_.item) for v in value]
    if kind == "map":
        return {k: _item(value[k], type_.item) for k in value}
    return _item(value, type_)


def _item(value, type_: Type):
    kind = type_.kind
    if kind == "ref":
        return _message_dict(value, SCHEMAS[type_.ref])
    reader = _READERS.get(kind)
    return reader(value) if reader else value


def _time(value, micro: bool = False) -> str | None:
    if not value.seconds and not value.nanos:
        return None  # the zero time, which JSON writes as null
    moment = datetime.fromtimestamp(value.seconds + value.nanos / 1e9,
                                    timezone.utc)
    if micro:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _raw(value):
    return json.loads(value.raw) if value.raw else None


_READERS = {
    "bytes": lambda v: base64.b64encode(v).decode(),
    "quantity": lambda v: v.string,
    "intorstring": lambda v: v.strVal if v.type == 1 else v.intVal,
    "time": _time,
    "microtime": lambda v: _time(v, micro=True),
    "raw": _raw,
}


# Writing: the same object as a body, for clients and tests.

def encode_body(obj: dict, kind_name: str) -> bytes:
    """``obj`` (a decoded object) as a Kubernetes protobuf body."""
    schema = SCHEMAS[kind_name]
    message = _CLASSES[kind_name]()
    _fill(message, obj, schema)
    unknown = _CLASSES["Unknown"]()
    unknown.typeMeta.apiVersion = obj.get("apiVersion", "")
    unknown.typeMeta.kind = obj.get("kind", kind_name)
    unknown.raw = message.SerializeToString()
    return MAGIC + unknown.SerializeToString()


def _fill(message, obj: dict, schema: ObjectSchema) -> None:
    for f in schema.fields:
        if f.number >= 1000:
            continue
        if f.inline:
            inner = SCHEMAS[f.type.ref]
            _fill(getattr(message, f.name), obj, inner)
            continue
        if f.name in obj and obj[f.name] is not None:
            _set(message, f, obj[f.name])


def _set(message, f: Field, value) -> None:
    kind = f.type.kind
    if kind == "list":
        target = getattr(message, f.name)
        for item in value:
            _append(target, f.type.item, item)
    elif kind == "map":
        target = getattr(message, f.name)
        for key, item in value.items():
            _put(target, key, f.type.item, item)
    elif kind in _SCALAR_TYPES:
        setattr(message, f.name, _scalar(f.type, value))
    else:
        _write(getattr(message, f.name), f.type, value)
        if not getattr(message, f.name).ListFields():
            getattr(message, f.name).SetInParent()


def _append(target, type_: Type, item) -> None:
    if type_.kind in _SCALAR_TYPES:
        target.append(_scalar(type_, item))
    else:
        _write(target.add(), type_, item)


def _put(target, key: str, type_: Type, item) -> None:
    if type_.kind in _SCALAR_TYPES:
        target[key] = _scalar(type_, item)
    else:
        _write(target[key], type_, item)


def _scalar(type_: Type, value):
    return base64.b64decode(value) if type_.kind == "bytes" else value


def _write(message, type_: Type, value) -> None:
    kind = type_.kind
    if kind == "ref":
        _fill(message, value, SCHEMAS[type_.ref])
    elif kind == "quantity":
        message.string = str(value)
    elif kind == "intorstring":
        if isinstance(value, str):
            message.type, message.strVal = 1, value
        else:
            message.type, message.intVal = 0, value
    elif kind in ("time", "microtime"):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        message.seconds = int(moment.timestamp())
        message.nanos = moment.microsecond * 1000
    elif kind == "raw":
        message.raw = json.dumps(value).encode()
