"""The OpenAPI documents: /openapi/v2 and /openapi/v3, made from the schemas.

kubectl reads them before it writes: ``create -f`` and ``apply -f`` look for
the ``fieldValidation`` query parameter on the kind's PATCH operation (found by
``x-kubernetes-group-version-kind``) to choose server-side validation, and
``explain`` walks the component schemas. The path layout, operation ids and
extensions follow kube-apiserver's documents.

The functions return plain dicts: callers cache them and must not change them.
"""

from __future__ import annotations

import hashlib
import weakref

import orjson

from server.openapi_paths import kind_paths
from server.registry import Kind, Registry
from server.schema import SCHEMAS
from server.schema.dsl import Field, ObjectSchema, Type

# Definitions of the apimachinery types that are not objects in JSON.
_SPECIAL = {
    "quantity": (
        "io.k8s.apimachinery.pkg.api.resource.Quantity",
        "A fixed-point number with an optional suffix: binary (Ki, Mi, Gi, Ti, "
        "Pi, Ei), decimal SI (m, k, M, G, T, P, E) or an exponent (e3). "
        "Serialised in canonical form, such as 500m, 1536Mi or 1.",
        ("string", "number"),
        None,
    ),
    "intorstring": (
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
        "Either an integer or a string, such as a port number or name.",
        ("integer", "string"),
        "int-or-string",
    ),
    "time": (
        "io.k8s.apimachinery.pkg.apis.meta.v1.Time",
        "A point in time, in RFC 3339 form with second precision, in UTC.",
        ("string",),
        "date-time",
    ),
    "microtime": (
        "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
        "A point in time, in RFC 3339 form with microsecond precision.",
        ("string",),
        "date-time",
    ),
    "raw": (
        "io.k8s.apimachinery.pkg.runtime.RawExtension",
        "An embedded object of any kind, with its own apiVersion and kind.",
        ("object",),
        None,
    ),
}

_PATCH = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
_PATCH_DEFINITION = {
    "description": "The body of a PATCH request: a JSON patch, a merge patch, "
    "a strategic merge patch or an apply configuration.",
    "type": "object",
}

_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


# The documents.

def openapi_v3_index(registry: Registry) -> dict:
    """/openapi/v3: each group-version and where its document is."""
    paths = {}
    for group, version in _group_versions(registry):
        path = _gv_path(group, version)
        document = openapi_v3_document(registry, group, version)
        paths[path] = {
            "serverRelativeURL": f"/openapi/v3/{path}?hash={_hash(document)}"
        }
    return {"paths": paths}


def openapi_v3_document(registry: Registry, group: str, version: str) -> dict:
    """/openapi/v3/api/v1, /openapi/v3/apis/<group>/<version>; {} if not served."""
    key = ("v3", group, version)
    cached = _cached(registry, key)
    if cached is not None:
        return cached
    kinds = registry.in_group_version(group, version)
    if not kinds:
        return {}
    paths, names = _paths(kinds, v3=True)
    document = {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": paths,
        "components": {"schemas": _definitions(_referenced(names), v3=True)},
    }
    return _store(registry, key, document)


def openapi_v2(registry: Registry) -> dict:
    """/openapi/v2: one Swagger 2.0 document for every served kind."""
    cached = _cached(registry, ("v2",))
    if cached is not None:
        return cached
    paths, names = _paths(registry.kinds, v3=False)
    document = {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "definitions": _definitions(_referenced(names), v3=False),
    }
    return _store(registry, ("v2",), document)


def openapi_v2_protobuf(registry: Registry) -> bytes:
    """/openapi/v2 for clients that accept only
    application/com.github.proto-openapi.spec.v2@v1.0+protobuf (kubectl's
    client-side validation); see server.openapi_v2_proto."""
    cached = _cached(registry, ("v2-protobuf",))
    if cached is not None:
        return cached
    from server.openapi_v2_proto import encode_document
    return _store(registry, ("v2-protobuf",),
                  encode_document(openapi_v2(registry)))


def _cached(registry: Registry, key: tuple) -> dict | None:
    return _cache.get(registry, {}).get(key)


def _store(registry: Registry, key: tuple, document):
    _cache.setdefault(registry, {})[key] = document
    return document


def _group_versions(registry: Registry) -> list[tuple[str, str]]:
    return [(group, version)
            for group, versions in registry.group_versions().items()
            for version in versions]


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _hash(document: dict) -> str:
    # kube-apiserver names each document by the SHA-512 of its bytes, in
    # upper-case hex; clients cache by the URL that carries it.
    data = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha512(data).hexdigest().upper()


def _paths(kinds: list[Kind], v3: bool) -> tuple[dict, set[str]]:
    paths: dict[str, dict] = {}
    names: set[str] = set()
    for kind in kinds:
        kind_path_items, kind_names = kind_paths(kind, v3)
        paths.update(kind_path_items)
        names |= kind_names
    return dict(sorted(paths.items())), names


# The definitions (v2) or component schemas (v3).

def _referenced(used: set[str]) -> set[str]:
    """The schema names the operations use, and all that those refer to."""
    names = set(used)
    pending = list(names)
    while pending:
        schema = SCHEMAS.get(pending.pop())
        if schema is None:
            continue
        for f in schema.json_fields.values():
            for name in _type_refs(f.type):
                if name not in names:
                    names.add(name)
                    pending.append(name)
    return names


def _type_refs(type_: Type) -> list[str]:
    if type_.kind == "ref":
        return [type_.ref]
    if type_.item is not None:
        return _type_refs(type_.item)
    if type_.kind in _SPECIAL:
        return [type_.kind]
    return []


def _definitions(names: set[str], v3: bool) -> dict:
    definitions = {}
    for name in names:
        if name in _SPECIAL:
            definition_name, definition = _special_definition(name, v3)
        elif name == "Patch":
            definition_name, definition = _PATCH, dict(_PATCH_DEFINITION)
        else:
            schema = SCHEMAS[name]
            definition_name = schema.definition_name
            definition = _object_definition(schema, v3)
        definitions[definition_name] = definition
    return dict(sorted(definitions.items()))


def _special_definition(kind: str, v3: bool) -> tuple[str, dict]:
    name, description, types, format_ = _SPECIAL[kind]
    definition: dict = {"description": description}
    if v3 and len(types) > 1:
        definition["oneOf"] = [{"type": t} for t in types]
    else:
        # Swagger 2.0 has no oneOf: kube-apiserver calls these strings.
        definition["type"] = types[0] if len(types) == 1 else "string"
    if format_:
        definition["format"] = format_
    return name, definition


def _object_definition(schema: ObjectSchema, v3: bool) -> dict:
    definition: dict = {"description": schema.description, "type": "object"}
    properties = {name: _property(f, v3)
                  for name, f in schema.json_fields.items()}
    definition["properties"] = dict(sorted(properties.items()))
    if schema.required:
        definition["required"] = sorted(schema.required)
    if schema.gvk:
        group, version, kind = schema.gvk
        definition["x-kubernetes-group-version-kind"] = [
            {"group": group, "kind": kind, "version": version}
        ]
    return definition


def _property(f: Field, v3: bool) -> dict:
    prop = _type_schema(f.type, v3, top=True)
    if f.description:
        prop["description"] = f.description
    if f.enum:
        prop["enum"] = list(f.enum)
    prop.update(_list_extensions(f))
    return prop


def _list_extensions(f: Field) -> dict:
    extensions = {}
    if f.list_type:
        extensions["x-kubernetes-list-type"] = f.list_type
    if f.map_keys:
        extensions["x-kubernetes-list-map-keys"] = list(f.map_keys)
    if f.merge_key:
        extensions["x-kubernetes-patch-merge-key"] = f.merge_key
    if f.strategy:
        extensions["x-kubernetes-patch-strategy"] = f.strategy
    return extensions


def _type_schema(type_: Type, v3: bool, top: bool = False) -> dict:
    scalar = _SCALARS.get(type_.kind)
    if scalar is not None:
        return dict(scalar)
    if type_.kind == "list":
        return {"type": "array", "items": _type_schema(type_.item, v3)}
    if type_.kind == "map":
        return {"type": "object",
                "additionalProperties": _type_schema(type_.item, v3)}
    name = _SPECIAL[type_.kind][0] if type_.kind in _SPECIAL else None
    name = name or SCHEMAS[type_.ref].definition_name
    return _ref(name, v3, top)


def _ref(definition_name: str, v3: bool, wrap: bool) -> dict:
    if not v3:
        return {"$ref": f"#/definitions/{definition_name}"}
    ref = {"$ref": f"#/components/schemas/{definition_name}"}
    # OpenAPI 3.0 ignores the siblings of a $ref; kube-apiserver wraps a
    # property's reference in allOf so that its description stays.
    return {"allOf": [ref]} if wrap else ref


_SCALARS = {
    "string": {"type": "string"},
    "int32": {"type": "integer", "format": "int32"},
    "int64": {"type": "integer", "format": "int64"},
    "boolean": {"type": "boolean"},
    "number": {"type": "number", "format": "double"},
    "bytes": {"type": "string", "format": "byte"},
}
