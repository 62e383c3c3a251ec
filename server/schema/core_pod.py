"""core/v1 Pod: the pod, its spec, containers and status.

Field numbers from k8s.io/api/core/v1/generated.proto.
"""

from __future__ import annotations

from server.schema.dsl import (
    CORE, STRING, TYPE_META, field, list_of, list_schema, obj, ref,
)

V1 = ("", "v1")

POD = obj(
    "Pod", CORE, "A group of containers that run together on a node.",
    *TYPE_META,
    field("metadata", 1, ref("ObjectMeta"), "Standard object metadata."),
    field("spec", 2, ref("PodSpec"), "What the pod should run."),
    field("status", 3, ref("PodStatus"), "What the pod is doing."),
    gvk=(*V1, "Pod"),
)
POD_SPEC = obj(
    "PodSpec", CORE, "The desired state of a pod.",
    field("containers", 2, list_of(ref("Container")),
          "The containers of the pod.", required=True, merge_key="name",
          strategy="merge", list_type="map", map_keys=("name",)),
)
CONTAINER = obj(
    "Container", CORE, "A container of a pod.",
    field("name", 1, STRING, "The container's name, unique in the pod.",
          required=True, omitempty=False),
    field("image", 2, STRING, "The container image to run."),
)
POD_STATUS = obj(
    "PodStatus", CORE, "The observed state of a pod.",
    field("phase", 1, STRING, "Where the pod is in its lifecycle."),
)

SCHEMAS = [POD, POD_SPEC, CONTAINER, POD_STATUS,
           list_schema(CORE, "Pod", *V1, "pods")]
