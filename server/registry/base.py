"""What the server knows about one kind: names, scope, rules, table columns.

A :class:`Kind` is the registry's entry for a resource, like a REST strategy in
kube-apiserver: handlers stay generic and ask the kind to default, validate and
print. Kinds never touch the store; the handlers do that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from server.errors import FieldError

# A table cell function: takes the object, returns the cell value.
CellFunc = Callable[[dict], object]
# Told whether an update was stored: what begin_update took is kept or given back.
Finish = Callable[[bool], None]


def _finish_nothing(stored: bool) -> None:
    pass


@dataclass(frozen=True)
class Timed:
    """A cell with an age in it, as ``2 (5m ago)``: kept with the cached row
    and written out at request time, when the age is known."""

    before: str
    timestamp: str
    after: str = ""


@dataclass(frozen=True)
class Column:
    """A column of the server-side Table (meta.k8s.io/v1 TableColumnDefinition).

    ``priority`` 0 columns are always shown; 1 only with ``-o wide``. An
    ``age`` column holds the creation timestamp and is rendered at request
    time, since its text changes while the cached row does not.
    """

    name: str
    cell: CellFunc
    type: str = "string"
    format: str = ""
    description: str = ""
    priority: int = 0
    age: bool = False

    def definition(self) -> dict:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


def name_column() -> Column:
    return Column("Name", lambda o: o["metadata"]["name"], format="name",
                  description="Name must be unique within a namespace.")


def age_column() -> Column:
    return Column(
        "Age",
        lambda o: o["metadata"].get("creationTimestamp", ""),
        description="CreationTimestamp is a timestamp representing the server "
        "time when this object was created.",
        age=True,
    )


class Kind:
    """The defaults are those of a plain namespaced object without status."""

    group = ""
    version = "v1"
    kind = ""
    resource = ""  # the plural: "pods"
    singular = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    namespaced = True
    # A kind only ever created and answered, never stored (the reviews of
    # server.registry.access): its create calls review().
    virtual = False
    verbs = ("create", "delete", "deletecollection", "get", "list", "patch",
             "update", "watch")
    # Subresources served for this kind: "status", "binding", "log", "scale".
    subresources: tuple[str, ...] = ()
    # Whether metadata.generation is kept and bumped when the spec changes.
    has_generation = False
    # Metadata an update through /status may change. Most kinds reset all of
    # it (ResetObjectMetaForStatus); apps/v1's older strategies keep what the
    # client sends of some, and the deployment controller writes its
    # revision annotation that way without bumping the generation.
    status_metadata: tuple[str, ...] = ()
    # Fields beyond metadata.name and metadata.namespace usable in a
    # fieldSelector; field_values() must return a value for each.
    selectable_fields: tuple[str, ...] = ()
    # Whether a PUT of an object that does not exist creates it (the REST
    # strategy's AllowCreateOnUpdate): true for leases, services, endpoints
    # and events in kube-apiserver, false for the other built-in kinds.
    allow_create_on_update = False

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    # Lifecycle hooks: each changes ``obj`` in place.

    def prepare_create(self, obj: dict) -> None:
        """Defaults and server-set fields of a new object (before validation)."""

    def prepare_update(self, obj: dict, old: dict) -> None:
        """Defaults for an update of the main resource; keep what it may not change.

        The handler has already put back the old status for kinds with a
        status subresource and kept the server-set metadata.
        """

    def prepare_status_update(self, obj: dict, old: dict) -> None:
        """An update through /status: the handler has put back the old spec."""

    def validate(self, obj: dict) -> list[FieldError]:
        """Errors of a new object, metadata included."""
        return []

    def validate_update(self, obj: dict, old: dict) -> list[FieldError]:
        """Errors of an update: the object's own, plus immutable fields."""
        return self.validate(obj)

    def validate_status_update(self, obj: dict, old: dict) -> list[FieldError]:
        return []

    def begin_update(self, obj: dict, old: dict) -> Finish:
        """Take from a pool what the validated update newly needs (a service's
        nodePorts), raising if it cannot be had; the function returned is
        called once, with whether the update was stored."""
        return _finish_nothing

    def release(self, obj: dict) -> None:
        """Give back what prepare_create took (a service's clusterIP) when the
        object was not stored or has been deleted."""

    # Reading.

    def field_values(self, obj: dict) -> dict[str, str]:
        """The values a fieldSelector matches against, as strings."""
        meta = obj.get("metadata", {})
        values = {"metadata.name": meta.get("name", "")}
        if self.namespaced:
            values["metadata.namespace"] = meta.get("namespace", "")
        return values

    def columns(self) -> list[Column]:
        """The Table columns, as kubectl prints this kind."""
        return [name_column(), age_column()]
