"""apps/v1 Deployment and ReplicaSet, and the autoscaling/v1 Scale they serve.

Field numbers from k8s.io/api/apps/v1/generated.proto.
"""

from __future__ import annotations

from server.schema.dsl import (
    APPS, INT32, STRING, TYPE_META, field, list_schema, obj, ref,
)

V1 = ("apps", "v1")

DEPLOYMENT = obj(
    "Deployment", APPS, "Declarative updates of a set of identical pods.",
    *TYPE_META,
    field("metadata", 1, ref("ObjectMeta"), "Standard object metadata."),
    gvk=(*V1, "Deployment"),
)
REPLICA_SET = obj(
    "ReplicaSet", APPS, "Keeps a number of identical pods running.",
    *TYPE_META,
    field("metadata", 1, ref("ObjectMeta"), "Standard object metadata."),
    gvk=(*V1, "ReplicaSet"),
)

SCALE = obj(
    "Scale", "k8s.io.api.autoscaling.v1",
    "The scale subresource: desired and observed replicas.",
    *TYPE_META,
    field("metadata", 1, ref("ObjectMeta"), "Standard object metadata."),
    field("spec", 2, ref("ScaleSpec"), "The desired number of replicas."),
    field("status", 3, ref("ScaleStatus"), "The observed replicas."),
    gvk=("autoscaling", "v1", "Scale"),
)
SCALE_SPEC = obj(
    "ScaleSpec", "k8s.io.api.autoscaling.v1", "The desired scale.",
    field("replicas", 1, INT32, "The desired number of replicas."),
)
SCALE_STATUS = obj(
    "ScaleStatus", "k8s.io.api.autoscaling.v1", "The observed scale.",
    field("replicas", 1, INT32, "The observed number of replicas.",
          required=True, omitempty=False),
    field("selector", 2, STRING,
          "The label selector of the pods counted, as a string."),
)

SCHEMAS = [SCALE, SCALE_SPEC, SCALE_STATUS,DEPLOYMENT, list_schema(APPS, "Deployment", *V1, "deployments"),
           REPLICA_SET, list_schema(APPS, "ReplicaSet", *V1, "replica sets")]
