"""/openapi/v2 in protobuf, as kubectl asks for it.

kubectl's client-side validation (used for ``kind: List`` files, and as the
fallback when a group-version has no OpenAPI v3 document) fetches /openapi/v2
with ``Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf``
and parses gnostic's openapi.v2.Document message; a JSON answer fails with
``proto: cannot parse invalid wire-format data``. This module writes the
Swagger document of server.openapi as that message. Field numbers are those of
github.com/google/gnostic's openapiv2/OpenAPIv2.proto; only the messages a
Kubernetes document uses are declared.
"""

from __future__ import annotations

import json

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

# Clients ask with either name; the answer uses the one that is a valid media
# type ("@" is not allowed in a subtype), as kube-openapi does.
ACCEPTED_TYPES = ("application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
                  "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
CONTENT_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"

_PACKAGE = "openapi.v2"
_FDP = descriptor_pb2.FieldDescriptorProto
_TYPES = {"string": _FDP.TYPE_STRING, "bool": _FDP.TYPE_BOOL}

# message -> [(field, number, type, repeated)]
_MESSAGES = {
    "Document": [("swagger", 1, "string", False), ("info", 2, "Info", False),
                 ("paths", 8, "Paths", False),
                 ("definitions", 9, "Definitions", False)],
    "Info": [("title", 1, "string", False), ("version", 2, "string", False)],
    "Paths": [("path", 2, "NamedPathItem", True)],
    "NamedPathItem": [("name", 1, "string", False),
                      ("value", 2, "PathItem", False)],
    "PathItem": [("get", 2, "Operation", False), ("put", 3, "Operation", False),
                 ("post", 4, "Operation", False),
                 ("delete", 5, "Operation", False),
                 ("patch", 8, "Operation", False),
                 ("parameters", 9, "ParametersItem", True)],
    "Operation": [("tags", 1, "string", True),
                  ("description", 3, "string", False),
                  ("operation_id", 5, "string", False),
                  ("produces", 6, "string", True),
                  ("consumes", 7, "string", True),
                  ("parameters", 8, "ParametersItem", True),
                  ("responses", 9, "Responses", False),
                  ("schemes", 10, "string", True),
                  ("vendor_extension", 13, "NamedAny", True)],
    "ParametersItem": [("parameter", 1, "Parameter", False)],
    "Parameter": [("body_parameter", 1, "BodyParameter", False),
                  ("non_body_parameter", 2, "NonBodyParameter", False)],
    "BodyParameter": [("description", 1, "string", False),
                      ("name", 2, "string", False), ("in", 3, "string", False),
                      ("required", 4, "bool", False),
                      ("schema", 5, "Schema", False)],
    "NonBodyParameter": [
        ("query_parameter_sub_schema", 3, "QueryParameterSubSchema", False),
        ("path_parameter_sub_schema", 4, "PathParameterSubSchema", False)],
    "QueryParameterSubSchema": [
        ("required", 1, "bool", False), ("in", 2, "string", False),
        ("description", 3, "string", False), ("name", 4, "string", False),
        ("type", 6, "string", False), ("unique_items", 20, "bool", False)],
    "PathParameterSubSchema": [
        ("required", 1, "bool", False), ("in", 2, "string", False),
        ("description", 3, "string", False), ("name", 4, "string", False),
        ("type", 5, "string", False), ("unique_items", 19, "bool", False)],
    "Responses": [("response_code", 1, "NamedResponseValue", True)],
    "NamedResponseValue": [("name", 1, "string", False),
                           ("value", 2, "ResponseValue", False)],
    "ResponseValue": [("response", 1, "Response", False)],
    "Response": [("description", 1, "string", False),
                 ("schema", 2, "SchemaItem", False)],
    "SchemaItem": [("schema", 1, "Schema", False)],
    "Definitions": [("additional_properties", 1, "NamedSchema", True)],
    "NamedSchema": [("name", 1, "string", False), ("value", 2, "Schema", False)],
    "Schema": [("_ref", 1, "string", False), ("format", 2, "string", False),
               ("description", 4, "string", False),
               ("required", 19, "string", True), ("enum", 20, "Any", True),
               ("additional_properties", 21, "AdditionalPropertiesItem", False),
               ("type", 22, "TypeItem", False),
               ("items", 23, "ItemsItem", False),
               ("properties", 25, "Properties", False),
               ("vendor_extension", 31, "NamedAny", True)],
    "AdditionalPropertiesItem": [("schema", 1, "Schema", False)],
    "TypeItem": [("value", 1, "string", True)],
    "ItemsItem": [("schema", 1, "Schema", True)],
    "Properties": [("additional_properties", 1, "NamedSchema", True)],
    "NamedAny": [("name", 1, "string", False), ("value", 2, "Any", False)],
    # The google.protobuf.Any of field 1 is never written: YAML text is.
    "Any": [("yaml", 2, "string", False)],
}


def _build() -> dict[str, type]:
    file = descriptor_pb2.FileDescriptorProto(
        name="openapiv2/OpenAPIv2.proto", package=_PACKAGE, syntax="proto3")
    for name, fields in _MESSAGES.items():
        message = file.message_type.add(name=name)
        for field_name, number, kind, repeated in fields:
            proto = message.field.add(
                name=field_name, number=number,
                label=_FDP.LABEL_REPEATED if repeated else _FDP.LABEL_OPTIONAL)
            if kind in _TYPES:
                proto.type = _TYPES[kind]
            else:
                proto.type = _FDP.TYPE_MESSAGE
                proto.type_name = f".{_PACKAGE}.{kind}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {name: message_factory.GetMessageClass(
        pool.FindMessageTypeByName(f"{_PACKAGE}.{name}")) for name in _MESSAGES}


_CLASSES = _build()


def encode_document(document: dict) -> bytes:
    """The Swagger 2.0 ``document`` as a serialized openapi.v2.Document."""
    message = _CLASSES["Document"]()
    message.swagger = document["swagger"]
    message.info.title = document["info"]["title"]
    message.info.version = document["info"]["version"]
    for path, item in document["paths"].items():
        _path_item(message.paths.path.add(name=path).value, item)
    for name, schema in document["definitions"].items():
        _schema(message.definitions.additional_properties.add(name=name).value,
                schema)
    return message.SerializeToString()


def _path_item(message, item: dict) -> None:
    for verb in ("get", "put", "post", "delete", "patch"):
        if verb in item:
            _operation(getattr(message, verb), item[verb])
    for param in item.get("parameters", []):
        _parameter(message.parameters.add().parameter, param)


def _operation(message, op: dict) -> None:
    message.tags.extend(op.get("tags", []))
    message.description = op.get("description", "")
    message.operation_id = op.get("operationId", "")
    message.produces.extend(op.get("produces", []))
    message.consumes.extend(op.get("consumes", []))
    message.schemes.extend(op.get("schemes", []))
    for param in op.get("parameters", []):
        _parameter(message.parameters.add().parameter, param)
    for code, response in op.get("responses", {}).items():
        value = message.responses.response_code.add(name=code).value.response
        value.description = response.get("description", "")
        if "schema" in response:
            _schema(value.schema.schema, response["schema"])
    _extensions(message.vendor_extension, op)


def _parameter(message, param: dict) -> None:
    if param["in"] == "body":
        body = message.body_parameter
        body.name, body.required = param["name"], param.get("required", False)
        setattr(body, "in", "body")
        body.description = param.get("description", "")
        _schema(body.schema, param["schema"])
        return
    if param["in"] == "path":
        sub = message.non_body_parameter.path_parameter_sub_schema
    else:
        sub = message.non_body_parameter.query_parameter_sub_schema
    sub.name, sub.description = param["name"], param.get("description", "")
    setattr(sub, "in", param["in"])
    sub.required = param.get("required", False)
    sub.type = param.get("type", "")
    sub.unique_items = param.get("uniqueItems", False)


def _schema(message, schema: dict) -> None:
    if "$ref" in schema:
        message._ref = schema["$ref"]
    message.description = schema.get("description", "")
    message.format = schema.get("format", "")
    if "type" in schema:
        message.type.value.append(schema["type"])
    message.required.extend(schema.get("required", []))
    for value in schema.get("enum", []):
        message.enum.add().yaml = json.dumps(value)
    if "items" in schema:
        _schema(message.items.schema.add(), schema["items"])
    if "additionalProperties" in schema:
        _schema(message.additional_properties.schema,
                schema["additionalProperties"])
    for name, prop in schema.get("properties", {}).items():
        _schema(message.properties.additional_properties.add(name=name).value,
                prop)
    _extensions(message.vendor_extension, schema)


def _extensions(target, source: dict) -> None:
    # Vendor extensions travel as YAML text; JSON is YAML.
    for key, value in source.items():
        if key.startswith("x-"):
            target.add(name=key).value.yaml = json.dumps(value)
