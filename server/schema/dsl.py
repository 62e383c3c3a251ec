"""A small language to write the schema of each kind once, as Python data.

Every field carries what the three consumers need: its JSON name and type
(for decoding and OpenAPI), its protobuf field number (for protobuf bodies),
and its list semantics (for strategic merge patch and the OpenAPI extensions).
Field numbers are those of k8s.io/api's generated.proto files: they are part
of the wire format.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field

# The API packages a schema belongs to, as k8s.io names them. The OpenAPI
# definition name reverses the first two labels: io.k8s.api.core.v1.Pod.
CORE = "k8s.io.api.core.v1"
APPS = "k8s.io.api.apps.v1"
COORDINATION = "k8s.io.api.coordination.v1"
DISCOVERY = "k8s.io.api.discovery.v1"
AUTHORIZATION = "k8s.io.api.authorization.v1"
AUTHENTICATION = "k8s.io.api.authentication.v1"
META = "k8s.io.apimachinery.pkg.apis.meta.v1"
RESOURCE = "k8s.io.apimachinery.pkg.api.resource"
INTSTR = "k8s.io.apimachinery.pkg.util.intstr"
RUNTIME = "k8s.io.apimachinery.pkg.runtime"


@dataclass(frozen=True, slots=True)
class Type:
    """The type of a field's value.

    ``kind`` is one of the scalar names (string, int32, int64, boolean, number,
    bytes), a special apimachinery type (quantity, intorstring, time,
    microtime, raw), or a container: ``ref`` (an object named by ``ref``),
    ``list`` or ``map`` (of ``item``; map keys are always strings).
    """

    kind: str
    ref: str = ""
    item: Type | None = None

    def go_name(self) -> str:
        """The Go type Kubernetes names in a JSON unmarshal error."""
        return _GO_NAMES.get(self.kind) or self._container_go_name()

    def _container_go_name(self) -> str:
        if self.kind == "ref":
            from server.schema import SCHEMAS

            schema = SCHEMAS.get(self.ref)
            return f"v1.{schema.type_name if schema else self.ref}"
        if self.kind == "list":
            return f"[]{self.item.go_name()}"
        return f"map[string]{self.item.go_name()}"


_GO_NAMES = {
    "string": "string",
    "int32": "int32",
    "int64": "int64",
    "boolean": "bool",
    "number": "float64",
    "bytes": "[]uint8",
    "quantity": "resource.Quantity",
    "intorstring": "intstr.IntOrString",
    "time": "v1.Time",
    "microtime": "v1.MicroTime",
    "raw": "runtime.RawExtension",
}

STRING = Type("string")
INT32 = Type("int32")
INT64 = Type("int64")
BOOL = Type("boolean")
NUMBER = Type("number")
BYTES = Type("bytes")  # base64 text in JSON, raw bytes in protobuf
QUANTITY = Type("quantity")
INT_OR_STRING = Type("intorstring")
TIME = Type("time")
MICRO_TIME = Type("microtime")
RAW = Type("raw")  # an embedded object of any kind (runtime.RawExtension)


def ref(name: str) -> Type:
    return Type("ref", ref=name)


def list_of(item: Type) -> Type:
    return Type("list", item=item)


def map_of(item: Type) -> Type:
    return Type("map", item=item)


@dataclass(frozen=True, slots=True)
class Field:
    """One field of an object.

    ``ptr`` marks a Go pointer field, whose zero value (0, false, "") is
    meaningful and kept, and which stays absent when not given; other zero
    values are dropped as Go's ``omitempty`` would, and an absent struct that
    is not a pointer is present and empty ({}), as Go prints it.
    ``omitempty=False`` keeps a zero value that Go always prints (required
    fields, by default). ``inline`` marks an embedded struct: its fields sit
    in the parent in JSON, but it is a message of its own in protobuf.
    """

    name: str
    number: int
    type: Type
    description: str = ""
    required: bool = False
    enum: tuple[str, ...] = ()
    merge_key: str = ""
    strategy: str = ""  # strategic merge patch: merge, retainKeys, replace
    list_type: str = ""  # atomic, set or map
    map_keys: tuple[str, ...] = ()
    ptr: bool = False
    omitempty: bool = True
    inline: bool = False


def field(name: str, number: int, type_: Type, description: str = "",
          **options) -> Field:
    if options.get("required") and "omitempty" not in options:
        options["omitempty"] = False
    if isinstance(options.get("enum"), list):
        options["enum"] = tuple(options["enum"])
    if isinstance(options.get("map_keys"), list):
        options["map_keys"] = tuple(options["map_keys"])
    return Field(name, number, type_, description, **options)


@dataclass(slots=True)
class ObjectSchema:
    """An object type: a Kubernetes struct, a protobuf message.

    ``gvk`` is (group, version, kind) for the top-level kinds that the API
    serves as resources or returns (Pod, PodList, Status, DeleteOptions).
    """

    name: str
    package: str
    fields: tuple[Field, ...]
    description: str = ""
    gvk: tuple[str, str, str] | None = None
    # The Go type's name where two packages share one (core/v1 and
    # discovery/v1 both have an EndpointPort): ``name`` is then our key.
    go_name: str = ""
    # The fields as JSON has them: inline structs flattened. Set by resolve().
    json_fields: dict[str, Field] = dataclass_field(default_factory=dict)

    def __post_init__(self):
        numbers = [f.number for f in self.fields]
        if len(set(numbers)) != len(numbers):
            raise ValueError(f"{self.name}: duplicate protobuf field numbers")

    @property
    def type_name(self) -> str:
        """The Go type's name, as Kubernetes' errors and OpenAPI have it."""
        return self.go_name or self.name

    @property
    def definition_name(self) -> str:
        """The OpenAPI definition name: io.k8s.api.core.v1.Pod."""
        first, second, rest = self.package.split(".", 2)
        return f"{second}.{first}.{rest}.{self.type_name}"

    @property
    def required(self) -> list[str]:
        return [name for name, f in self.json_fields.items() if f.required]

    def resolve(self, schemas: dict[str, "ObjectSchema"]) -> None:
        """Flatten inline structs into json_fields; check every reference."""
        self.json_fields = {}
        for f in self.fields:
            for name in _refs(f.type):
                if name not in schemas:
                    raise ValueError(f"{self.name}.{f.name}: no schema {name}")
            if f.inline:
                inner = schemas[f.type.ref]
                inner.resolve(schemas)
                self.json_fields.update(inner.json_fields)
            else:
                self.json_fields[f.name] = f


def _refs(type_: Type) -> list[str]:
    if type_.kind == "ref":
        return [type_.ref]
    return _refs(type_.item) if type_.item is not None else []


def obj(name: str, package: str, description: str, *fields: Field,
        gvk: tuple[str, str, str] | None = None,
        go_name: str = "") -> ObjectSchema:
    return ObjectSchema(name, package, tuple(fields), description, gvk, go_name)


def list_schema(package: str, kind: str, group: str, version: str,
                item_description: str) -> ObjectSchema:
    """The List kind of ``kind`` (PodList), the same shape for every kind."""
    return obj(
        f"{kind}List", package, f"A list of {item_description}.",
        field("metadata", 1, ref("ListMeta"),
              "List metadata: resourceVersion and continue token."),
        field("items", 2, list_of(ref(kind)), f"The {item_description}.",
              required=True, omitempty=False),
        *TYPE_META,
        gvk=(group, version, f"{kind}List"),
    )


# Every top-level object starts with apiVersion and kind. They are not in the
# protobuf message (the envelope carries them), hence numbers that no
# generated.proto uses.
TYPE_META = (
    field("apiVersion", 1001, STRING,
          "The versioned schema of this object, as group/version "
          "(v1 for the core group)."),
    field("kind", 1002, STRING,
          "The kind of this object, in CamelCase (Pod, Service)."),
)
