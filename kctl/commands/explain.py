"""kctl explain: the documentation of a kind or one of its fields, read from
the server's OpenAPI v3 documents and laid out as kubectl lays it out."""

from __future__ import annotations

import click

from kctl.errors import CommandError
from kctl.options import connection_options, session

EXAMPLES = """
\b
Examples:
  kctl explain pods
  kctl explain pod.spec.containers.image
  kctl explain deployment.spec --recursive
"""

# Descriptions are wrapped to this width, then indented.
WRAP = 76


@click.command(epilog=EXAMPLES)
@click.argument("paths", nargs=-1, metavar="TYPE[.FIELD...]")
@click.option("--recursive", is_flag=True, help="List the fields of the fields, "
              "without their descriptions.")
@click.option("--api-version", default="", help="The group/version of the kind "
              "(default: the server's preferred one).")
@connection_options
def explain(paths, recursive, api_version):
    """Get the documentation of a resource and its fields."""
    s = session()
    if len(paths) != 1:
        raise CommandError("We accept only this format: explain RESOURCE\n"
                           "See 'kctl explain -h' for help and examples")
    type_name, *fields = paths[0].split(".")
    resource = _resource(s, type_name, api_version)
    document = s.client.get(_document_path(resource.group, resource.version))
    explainer = Explainer(document)
    schema = explainer.kind_schema(resource.group, resource.version, resource.kind)
    if schema is None:
        raise CommandError(f"couldn't find resource for \"{resource.group_version}"
                           f", Kind={resource.kind}\"")
    field_schema, field_name = schema, ""
    for name in fields:
        properties = explainer.properties(field_schema)
        if name not in properties:
            raise CommandError(f'field "{name}" does not exist')
        field_schema, field_name = properties[name], name
    s.out.write(explainer.render(resource, schema, field_name, field_schema,
                                 recursive))


def _resource(s, type_name: str, api_version: str):
    from kctl.resources import parse

    targets = parse([type_name], s.discovery, "explain")
    resources = [t.resource for t in targets]
    if api_version:
        resources = [r for r in resources if r.group_version == api_version] or [
            _with_version(r, api_version) for r in resources[:1]]
    return resources[0]


def _with_version(resource, api_version: str):
    group, _, version = api_version.rpartition("/")
    return type(resource)(resource.name, resource.singular, resource.kind, group,
                          version, resource.namespaced, resource.short_names,
                          resource.verbs, resource.categories)


def _document_path(group: str, version: str) -> str:
    return f"/openapi/v3/apis/{group}/{version}" if group else \
        f"/openapi/v3/api/{version}"


class Explainer:
    def __init__(self, document: dict):
        self.schemas = (document.get("components") or {}).get("schemas") or {}

    def kind_schema(self, group: str, version: str, kind: str) -> dict | None:
        for schema in self.schemas.values():
            for gvk in schema.get("x-kubernetes-group-version-kind") or []:
                if (gvk.get("group", ""), gvk.get("version"), gvk.get("kind")) == (
                        group, version, kind):
                    return schema
        return None

    def resolve(self, schema: dict) -> dict:
        """The schema a field's type is: through $ref, a single allOf, the
        items of a list and the values of a map."""
        while True:
            if "$ref" in schema:
                schema = self.schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
            elif len(schema.get("allOf") or []) == 1 and not schema.get("properties"):
                schema = schema["allOf"][0]
            elif isinstance(schema.get("items"), dict):
                schema = schema["items"]
            elif isinstance(schema.get("additionalProperties"), dict):
                schema = schema["additionalProperties"]
            else:
                return schema

    def properties(self, schema: dict) -> dict:
        return self.resolve(schema).get("properties") or {}

    def type_name(self, schema: dict) -> str:
        if isinstance(schema.get("items"), dict):
            return "[]" + self.type_name(schema["items"])
        if isinstance(schema.get("additionalProperties"), dict):
            return "map[string]" + self.type_name(schema["additionalProperties"])
        if len(schema.get("allOf") or []) == 1 and not schema.get("properties"):
            return self.type_name(schema["allOf"][0])
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            target = self.schemas.get(name, {})
            kind = target.get("type")
            if kind and kind != "object":
                return kind  # a Time is a string
            return name.rsplit(".", 1)[-1] or "Object"
        kind = schema.get("type")
        if kind == "object" or (not kind and schema.get("properties")):
            return "Object"
        return kind or "Object"

    def _enum(self, schema: dict) -> list:
        return schema.get("enum") or self.resolve(schema).get("enum") or []

    def render(self, resource, kind_schema: dict, field_name: str,
               field_schema: dict, recursive: bool) -> str:
        out = []
        if resource.group:
            out.append(f"GROUP:      {resource.group}\n")
        out.append(f"KIND:       {resource.kind}\nVERSION:    {resource.version}\n\n")
        if field_name:
            out.append(f"FIELD: {field_name} <{self.type_name(field_schema)}>\n")
            enum = self._enum(field_schema)
            if enum:
                out.append("ENUM:\n" + "".join(f"    {_enum_value(v)}\n"
                                                for v in enum))
            else:
                out.append("\n")
            out.append("\n")
        out.append("DESCRIPTION:\n")
        descriptions = [field_schema.get("description", "")] if field_name else []
        target = self.resolve(field_schema)
        if target is not field_schema or not field_name:
            descriptions.append(target.get("description", ""))
        for text in descriptions:
            if text:
                out.append(_indent(_wrap(text, WRAP), 4))
        out.append("    \n")
        properties = target.get("properties") or {}
        if properties:
            out.append("FIELDS:\n")
            out.append(self._fields(target, 2, recursive, set()))
        out.append("\n")
        return "".join(out)

    def _fields(self, schema: dict, indent: int, recursive: bool,
                seen: set) -> str:
        out = []
        required = set(schema.get("required") or [])
        pad = " " * indent
        for name in sorted(schema.get("properties") or {}):
            field = schema["properties"][name]
            line = f"{pad}{name}\t<{self.type_name(field)}>"
            if name in required:
                line += " -required-"
            out.append(line + "\n")
            enum = self._enum(field)
            if enum:
                # kubectl lists the first four and marks the rest.
                shown = ", ".join(_enum_value(v) for v in enum[:4])
                out.append(f"{pad}enum: {shown}{', ....' if len(enum) > 4 else ''}\n")
            if recursive:
                inner = self.resolve(field)
                key = id(inner)
                if inner.get("properties") and key not in seen:
                    out.append(self._fields(inner, indent + 2, True, seen | {key}))
            else:
                description = field.get("description", "")
                if description:
                    out.append(_indent(_wrap(description, WRAP), indent + 2))
                out.append("\n")
        return "".join(out)


def _enum_value(value) -> str:
    return '""' if value == "" else str(value)


def _wrap(text: str, width: int) -> str:
    """Each line of ``text`` broken at spaces to at most ``width`` characters;
    a longer word keeps a line of its own."""
    lines = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split(" "):
            if current and len(current) + 1 + len(word) > width:
                lines.append(current)
                current = word
            else:
                current = f"{current} {word}" if current else word
        lines.append(current)
    return "\n".join(lines)


def _indent(text: str, amount: int) -> str:
    pad = " " * amount
    return "".join(f"{pad}{line}\n" for line in text.split("\n"))
