"""One schema per kind, written once: decoding, OpenAPI and protobuf read it.

``SCHEMAS`` maps each object type's name (Pod, PodSpec, ObjectMeta) to its
:class:`ObjectSchema`; names are unique across the packages we serve.
"""

from __future__ import annotations

from server.schema import (
    access, apps, coordination, core, core_container, core_pod, core_scheduling,
    core_volumes, discovery, meta,
)
from server.schema.dsl import Field, ObjectSchema, Type

SCHEMAS: dict[str, ObjectSchema] = {}

for _module in (meta, access, core_pod, core_container, core_scheduling,
                core_volumes, core, apps, coordination, discovery):
    for _schema in _module.SCHEMAS:
        if _schema.name in SCHEMAS:
            raise ValueError(f"schema {_schema.name} is defined twice")
        SCHEMAS[_schema.name] = _schema


for _schema in SCHEMAS.values():
    _schema.resolve(SCHEMAS)


def schema_for(name: str) -> ObjectSchema:
    """The schema of an object type or kind; KeyError when there is none."""
    return SCHEMAS[name]


def kind_schema(group: str, version: str, kind: str) -> ObjectSchema | None:
    """The schema of a top-level kind, matched on its group-version-kind."""
    schema = SCHEMAS.get(kind)
    if schema is None or schema.gvk != (group, version, kind):
        return None
    return schema


def merge_key_table(kind_name: str) -> dict[str, tuple[str, str]]:
    """Strategic merge patch metadata of a kind, from its schema.

    Keys are field paths without list indexes (spec.containers.ports); values
    are (merge key, strategy), as server.patch_meta's table has them. Lists
    without a merge key are replaced whole, so nothing below them is listed.
    """
    table: dict[str, tuple[str, str]] = {}
    _collect(SCHEMAS[kind_name], "", table)
    return table


def _collect(schema: ObjectSchema, prefix: str,
             table: dict[str, tuple[str, str]]) -> None:
    for name, f in schema.json_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        if f.merge_key or f.strategy:
            table[path] = (f.merge_key, f.strategy)
        type_ = f.type
        if type_.kind == "list" and not f.merge_key:
            continue
        while type_.kind in ("list", "map"):
            type_ = type_.item
        if type_.kind == "ref":
            _collect(SCHEMAS[type_.ref], path, table)


__all__ = ["Field", "ObjectSchema", "SCHEMAS", "Type", "kind_schema",
           "merge_key_table", "schema_for"]
