"""core/v1 kinds other than Pod: namespaces, nodes, services, config, events.

Field numbers from k8s.io/api/core/v1/generated.proto.
"""

from __future__ import annotations

from server.schema.dsl import (
    BOOL, BYTES, CORE, STRING, TYPE_META, field, list_of, list_schema, map_of,
    obj, ref,
)

V1 = ("", "v1")


def _kind(kind: str, description: str, *fields):
    return obj(kind, CORE, description, *TYPE_META,
               field("metadata", 1, ref("ObjectMeta"), "Standard object metadata."),
               *fields, gvk=(*V1, kind))


NAMESPACE = _kind(
    "Namespace", "A scope for names; most objects live in one.",
    field("spec", 2, ref("NamespaceSpec"), "What the namespace should be."),
    field("status", 3, ref("NamespaceStatus"), "What the namespace is."),
)
NAMESPACE_SPEC = obj(
    "NamespaceSpec", CORE, "The desired state of a namespace.",
    field("finalizers", 1, list_of(STRING),
          "Components that must clean up before the namespace is removed.",
          list_type="atomic"),
)
NAMESPACE_STATUS = obj(
    "NamespaceStatus", CORE, "The observed state of a namespace.",
    field("phase", 1, STRING, "Active, or Terminating once deleted.",
          enum=("Active", "Terminating")),
)

CONFIG_MAP = _kind(
    "ConfigMap", "Configuration data for pods to consume.",
    field("immutable", 4, BOOL,
          "When true, data and binaryData can no longer change.", ptr=True),
    field("data", 2, map_of(STRING), "Text entries, by key."),
    field("binaryData", 3, map_of(BYTES),
          "Binary entries, by key, base64 in JSON."),
)

SECRET = _kind(
    "Secret", "Sensitive data, such as passwords, tokens or keys.",
    field("immutable", 5, BOOL,
          "When true, data can no longer change.", ptr=True),
    field("data", 2, map_of(BYTES), "The secret entries, base64 in JSON."),
    field("stringData", 4, map_of(STRING),
          "Write-only entries given as text, merged into data on write."),
    field("type", 3, STRING,
          "How the data is meant to be used (Opaque by default)."),
)

OBJECT_REFERENCE = obj(
    "ObjectReference", CORE, "A reference to an object, with its kind.",
    field("kind", 1, STRING, "The kind of the referent."),
    field("namespace", 2, STRING, "The namespace of the referent."),
    field("name", 3, STRING, "The name of the referent."),
    field("uid", 4, STRING, "The uid of the referent."),
    field("apiVersion", 5, STRING, "The API version of the referent."),
    field("resourceVersion", 6, STRING,
          "The resourceVersion of the referent, if one is meant."),
    field("fieldPath", 7, STRING,
          "A field inside the referent, such as spec.containers{name}."),
)

BINDING = _kind(
    "Binding", "Binds an object to another, such as a pod to a node.",
    field("target", 2, ref("ObjectReference"), "The object to bind to.",
          required=True),
)

def _spec_status_kind(kind: str, description: str) -> list:
    # TODO: replaced by the full schemas below as they are written.
    return [
        _kind(kind, description,
              field("spec", 2, ref(f"{kind}Spec"), f"What the {kind} should be."),
              field("status", 3, ref(f"{kind}Status"), f"What the {kind} is.")),
        obj(f"{kind}Spec", CORE, f"The desired state of a {kind}."),
        obj(f"{kind}Status", CORE, f"The observed state of a {kind}."),
        list_schema(CORE, kind, *V1, f"{kind} objects"),
    ]


SCHEMAS = [
    *_spec_status_kind("Node", "A machine that runs pods."),
    *_spec_status_kind("Service", "A stable address for a set of pods."),
    *_spec_status_kind("ReplicationController", "Keeps pods running."),
    _kind("Endpoints", "The addresses behind a service."),
    list_schema(CORE, "Endpoints", *V1, "endpoints"),
    _kind("Event", "A report of something that happened."),
    list_schema(CORE, "Event", *V1, "events"),

    NAMESPACE, NAMESPACE_SPEC, NAMESPACE_STATUS,
    list_schema(CORE, "Namespace", *V1, "namespaces"),
    CONFIG_MAP, list_schema(CORE, "ConfigMap", *V1, "config maps"),
    SECRET, list_schema(CORE, "Secret", *V1, "secrets"),
    OBJECT_REFERENCE, BINDING,
]
