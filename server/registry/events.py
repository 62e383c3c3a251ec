"""Events of core/v1, as kube-apiserver validates and prints them."""

from __future__ import annotations

from server.errors import FieldError
from server.registry.base import Column, Kind
from server.registry.podspec import as_dict
from server.validation import (
    invalid,
    is_dns1123_subdomain,
    is_qualified_name,
    required,
    validate_object_meta,
    validate_object_meta_update,
)

# Limits of "new" events (those with an eventTime), from core validation.
REPORTING_INSTANCE_LIMIT = 128
ACTION_LIMIT = 128
REASON_LIMIT = 128
NOTE_LIMIT = 1024

_NAME_DOC = (
    "Name must be unique within a namespace. Is required when creating "
    "resources, although some resources may allow a client to request the "
    "generation of an appropriate name automatically. Name is primarily "
    "intended for creation idempotence and configuration definition. Cannot be "
    "updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
_FIELD_PATH_DOC = (
    "If referring to a piece of an object instead of an entire object, this "
    "string should contain a valid JSON/Go field access statement, such as "
    "desiredState.manifest.containers[2]. For example, if the object reference "
    "is to a container within a pod, this would take on a value like: "
    '"spec.containers{name}" (where "name" refers to the name of the container '
    'that triggered the event) or if no container name is specified '
    '"spec.containers[2]" (container with index 2 in this pod). This syntax is '
    "chosen only to have some well-defined way of referencing a part of an "
    "object."
)


class EventKind(Kind):
    kind = "Event"
    resource = "events"
    singular = "event"
    short_names = ("ev",)
    selectable_fields = (
        "involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
        "involvedObject.uid", "involvedObject.apiVersion",
        "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
        "reportingComponent", "source", "type",
    )
    allow_create_on_update = True

    def validate(self, obj: dict) -> list[FieldError]:
        # kube-apiserver checks no name syntax for core/v1 events.
        errs = validate_object_meta(obj, namespaced=True,
                                    name_validator=lambda name, prefix: [])
        return errs + validate_event(obj)

    def validate_update(self, obj: dict, old: dict) -> list[FieldError]:
        return validate_object_meta_update(obj, old) + validate_event(obj)

    def field_values(self, obj: dict) -> dict[str, str]:
        values = super().field_values(obj)
        involved = as_dict(obj.get("involvedObject"))
        for key in ("kind", "namespace", "name", "uid", "apiVersion",
                    "resourceVersion", "fieldPath"):
            values[f"involvedObject.{key}"] = str(involved.get(key) or "")
        values["reason"] = str(obj.get("reason") or "")
        values["reportingComponent"] = str(obj.get("reportingComponent") or "")
        source = as_dict(obj.get("source")).get("component") or \
            obj.get("reportingComponent") or ""
        values["source"] = str(source)
        values["type"] = str(obj.get("type") or "")
        return values

    def columns(self) -> list[Column]:
        return [
            Column("Last Seen", last_seen, age=True, description="The time at "
                   "which the most recent occurrence of this event was recorded."),
            Column("Type", lambda o: o.get("type", ""), description="Type of "
                   "this event (Normal, Warning), new types could be added in the "
                   "future"),
            Column("Reason", lambda o: o.get("reason", ""), description="This "
                   "should be a short, machine understandable string that gives "
                   "the reason for the transition into the object's current "
                   "status."),
            Column("Object", event_object,
                   description="The object that this event is about."),
            Column("Subobject",
                   lambda o: as_dict(o.get("involvedObject")).get("fieldPath", ""),
                   priority=1, description=_FIELD_PATH_DOC),
            Column("Source", event_source, priority=1,
                   description="The component reporting this event. Should be a "
                   "short machine understandable string."),
            Column("Message", lambda o: str(o.get("message") or "").strip(),
                   description="A human-readable description of the status of "
                   "this operation."),
            Column("First Seen", first_seen, age=True, priority=1,
                   description="The time at which the event was first recorded. "
                   "(Time of server receipt is in TypeMeta.)"),
            Column("Count", event_count, priority=1,
                   description="The number of times this event has occurred."),
            Column("Name", lambda o: o["metadata"]["name"], format="name",
                   priority=1, description=_NAME_DOC),
        ]


def first_seen(event: dict) -> str:
    """The firstTimestamp, else the eventTime (for events of events/v1)."""
    return event.get("firstTimestamp") or event.get("eventTime") or ""


def last_seen(event: dict) -> str:
    series = as_dict(event.get("series"))
    if series:
        return series.get("lastObservedTime") or ""
    return event.get("lastTimestamp") or first_seen(event)


def event_count(event: dict) -> int:
    series = as_dict(event.get("series"))
    if series:
        return series.get("count", 0)
    # Singleton events of the new API carry no count.
    return event.get("count") or 1


def event_object(event: dict) -> str:
    involved = as_dict(event.get("involvedObject"))
    kind = str(involved.get("kind") or "").lower()
    name = involved.get("name") or ""
    return f"{kind}/{name}" if name else kind


def event_source(event: dict) -> str:
    source = as_dict(event.get("source"))
    component = source.get("component") or event.get("reportingComponent") or ""
    host = source.get("host") or event.get("reportingInstance") or ""
    return f"{component}, {host}" if host else component


def validate_event(event: dict) -> list[FieldError]:
    """legacyValidateEvent, as kube-apiserver runs it for core/v1 events."""
    errs: list[FieldError] = []
    namespace = event.get("metadata", {}).get("namespace", "")
    involved_ns = as_dict(event.get("involvedObject")).get("namespace", "")
    mismatch = FieldError("Invalid value", "involvedObject.namespace", involved_ns,
                          "does not match event.namespace")
    if not event.get("eventTime"):
        if (not involved_ns and namespace not in ("", "default")) or \
                (involved_ns and involved_ns != namespace):
            errs.append(mismatch)
    else:
        if not involved_ns and namespace not in ("default", "kube-system"):
            errs.append(mismatch)
        errs += _validate_new_event(event)
    errs += invalid("namespace", namespace, is_dns1123_subdomain(namespace))
    return errs


def _validate_new_event(event: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    controller = event.get("reportingComponent") or ""
    if not controller:
        errs.append(required("reportingComponent"))
    errs += invalid("reportingComponent", controller, is_qualified_name(controller))
    for key, limit in (("reportingInstance", REPORTING_INSTANCE_LIMIT),
                       ("action", ACTION_LIMIT), ("reason", REASON_LIMIT)):
        value = event.get(key) or ""
        if not value:
            errs.append(required(key))
        if len(value) > limit:
            errs.append(FieldError("Invalid value", key, "",
                                   f"can have at most {limit} characters"))
    if len(event.get("message") or "") > NOTE_LIMIT:
        errs.append(FieldError("Invalid value", "message", "",
                               f"can have at most {NOTE_LIMIT} characters"))
    return errs
