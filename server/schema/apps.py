"""apps/v1 Deployment and ReplicaSet, and the autoscaling/v1 Scale they serve.

Field numbers from k8s.io/api/apps/v1 and autoscaling/v1 generated.proto.
"""

from __future__ import annotations

from server.schema.dsl import (
    APPS, BOOL, INT32, INT64, INT_OR_STRING, STRING, TIME, TYPE_META,
    field as f, list_of, list_schema, obj, ref,
)

V1 = ("apps", "v1")
AUTOSCALING = "k8s.io.api.autoscaling.v1"


def _kind(kind: str, description: str):
    return obj(
        kind, APPS, description, *TYPE_META,
        f("metadata", 1, ref("ObjectMeta"), "Standard object metadata."),
        f("spec", 2, ref(f"{kind}Spec"), f"What the {kind} should be."),
        f("status", 3, ref(f"{kind}Status"), f"What the {kind} is."),
        gvk=(*V1, kind),
    )


def _conditions(kind: str):
    return f("conditions", 6, list_of(ref(f"{kind}Condition")),
             "Its conditions.", merge_key="type", strategy="merge",
             list_type="map", map_keys=("type",))


DEPLOYMENT = [
    _kind("Deployment", "Declarative updates of a set of identical pods."),
    obj("DeploymentSpec", APPS, "The desired state of a deployment.",
        f("replicas", 1, INT32, "How many pods; 1 by default.", ptr=True),
        f("selector", 2, ref("LabelSelector"),
          "Labels of its pods; must match the template's.", required=True,
          ptr=True),
        f("template", 3, ref("PodTemplateSpec"), "The pods it makes.",
          required=True),
        f("strategy", 4, ref("DeploymentStrategy"),
          "How old pods are replaced by new ones.", strategy="retainKeys"),
        f("minReadySeconds", 5, INT32,
          "Seconds a pod must be ready to count as available."),
        f("revisionHistoryLimit", 6, INT32,
          "How many old replica sets to keep; 10 by default.", ptr=True),
        f("paused", 7, BOOL, "Stop rolling out changes."),
        f("progressDeadlineSeconds", 9, INT32,
          "Seconds a rollout may make no progress before it is failed.",
          ptr=True)),
    obj("DeploymentStrategy", APPS, "How a deployment replaces pods.",
        f("type", 1, STRING, "RollingUpdate (the default) or Recreate.",
          enum=("Recreate", "RollingUpdate")),
        f("rollingUpdate", 2, ref("RollingUpdateDeployment"),
          "The pace of a rolling update.", ptr=True)),
    obj("RollingUpdateDeployment", APPS, "The pace of a rolling update.",
        f("maxUnavailable", 1, INT_OR_STRING,
          "How many pods may be unavailable, as a number or percentage.",
          ptr=True),
        f("maxSurge", 2, INT_OR_STRING,
          "How many pods may exist beyond replicas, as a number or "
          "percentage.", ptr=True)),
    obj("DeploymentStatus", APPS, "The observed state of a deployment.",
        f("observedGeneration", 1, INT64, "The generation last acted on."),
        f("replicas", 2, INT32, "Pods it has."),
        f("updatedReplicas", 3, INT32, "Pods of the current template."),
        f("readyReplicas", 7, INT32, "Pods that are ready."),
        f("availableReplicas", 4, INT32, "Pods that are available."),
        f("unavailableReplicas", 5, INT32, "Pods still needed."),
        _conditions("Deployment"),
        f("collisionCount", 8, INT32,
          "Hash collisions seen when naming replica sets.", ptr=True)),
    obj("DeploymentCondition", APPS, "One condition of a deployment.",
        f("type", 1, STRING, "Available, Progressing or ReplicaFailure.",
          required=True),
        f("status", 2, STRING, "True, False or Unknown.", required=True),
        f("lastUpdateTime", 6, TIME, "When it was last updated."),
        f("lastTransitionTime", 7, TIME, "When the status last changed."),
        f("reason", 4, STRING, "Why, in one word."),
        f("message", 5, STRING, "Why, for a human.")),
]

REPLICA_SET = [
    _kind("ReplicaSet", "Keeps a number of identical pods running."),
    obj("ReplicaSetSpec", APPS, "The desired state of a replica set.",
        f("replicas", 1, INT32, "How many pods; 1 by default.", ptr=True),
        f("minReadySeconds", 4, INT32,
          "Seconds a pod must be ready to count as available."),
        f("selector", 2, ref("LabelSelector"),
          "Labels of its pods; must match the template's.", required=True,
          ptr=True),
        f("template", 3, ref("PodTemplateSpec"), "The pods it makes.")),
    obj("ReplicaSetStatus", APPS, "The observed state of a replica set.",
        f("replicas", 1, INT32, "Pods it has.", required=True),
        f("fullyLabeledReplicas", 2, INT32,
          "Pods whose labels match the template's."),
        f("readyReplicas", 4, INT32, "Pods that are ready."),
        f("availableReplicas", 5, INT32, "Pods that are available."),
        f("observedGeneration", 3, INT64, "The generation last acted on."),
        _conditions("ReplicaSet")),
    obj("ReplicaSetCondition", APPS, "One condition of a replica set.",
        f("type", 1, STRING, "The condition.", required=True),
        f("status", 2, STRING, "True, False or Unknown.", required=True),
        f("lastTransitionTime", 3, TIME, "When the status last changed."),
        f("reason", 4, STRING, "Why, in one word."),
        f("message", 5, STRING, "Why, for a human.")),
]

SCALE = [
    obj("Scale", AUTOSCALING,
        "The scale subresource: desired and observed replicas.",
        *TYPE_META,
        f("metadata", 1, ref("ObjectMeta"), "Standard object metadata."),
        f("spec", 2, ref("ScaleSpec"), "The desired number of replicas."),
        f("status", 3, ref("ScaleStatus"), "The observed replicas."),
        gvk=("autoscaling", "v1", "Scale")),
    obj("ScaleSpec", AUTOSCALING, "The desired scale.",
        f("replicas", 1, INT32, "The desired number of replicas.")),
    obj("ScaleStatus", AUTOSCALING, "The observed scale.",
        f("replicas", 1, INT32, "The observed number of replicas.",
          required=True),
        f("selector", 2, STRING,
          "The label selector of the pods counted, as a string.")),
]

SCHEMAS = [
    *DEPLOYMENT, *REPLICA_SET, *SCALE,
    list_schema(APPS, "Deployment", *V1, "deployments"),
    list_schema(APPS, "ReplicaSet", *V1, "replica sets"),
]
