"""Where a strategic merge patch merges instead of replacing: the merge-key table.

Kubernetes reads this from the ``patchStrategy`` and ``patchMergeKey`` struct
tags of k8s.io/api (checked against the tags compiled into kubectl v1.32).
Here it is one table, keyed by kind and by the field's path with list indexes
left out. The kinds the server serves read theirs from their schema
(server.schema.merge_key_table) instead; their entries here are checked
against it.

An entry is ``(merge_key, strategies)``: ``merge_key`` is "" for lists of
scalars and for maps; ``strategies`` is "merge", "replace", "retainKeys" or
"merge,retainKeys". A path absent from the table is merged as a map when it
holds a map and replaced when it holds a list, as for an untagged field.
"""

from __future__ import annotations

import functools

MergeKeys = dict[str, tuple[str, str]]


def _object_meta(prefix: str = "metadata") -> MergeKeys:
    return {
        f"{prefix}.finalizers": ("", "merge"),
        f"{prefix}.ownerReferences": ("uid", "merge"),
    }


def _container(prefix: str) -> MergeKeys:
    return {
        prefix: ("name", "merge"),
        f"{prefix}.ports": ("containerPort", "merge"),
        f"{prefix}.env": ("name", "merge"),
        f"{prefix}.volumeMounts": ("mountPath", "merge"),
        f"{prefix}.volumeDevices": ("devicePath", "merge"),
    }


def _pod_spec(prefix: str) -> MergeKeys:
    return {
        **_container(f"{prefix}.containers"),
        **_container(f"{prefix}.initContainers"),
        **_container(f"{prefix}.ephemeralContainers"),
        f"{prefix}.volumes": ("name", "merge,retainKeys"),
        f"{prefix}.imagePullSecrets": ("name", "merge"),
        f"{prefix}.hostAliases": ("ip", "merge"),
        f"{prefix}.topologySpreadConstraints": ("topologyKey", "merge"),
        f"{prefix}.schedulingGates": ("name", "merge"),
        f"{prefix}.resourceClaims": ("name", "merge,retainKeys"),
    }


def _pod_template(prefix: str) -> MergeKeys:
    return {**_object_meta(f"{prefix}.metadata"), **_pod_spec(f"{prefix}.spec")}


_CONDITIONS: MergeKeys = {"status.conditions": ("type", "merge")}

# Workloads whose spec.template is a pod template, with status conditions.
_WORKLOAD: MergeKeys = {**_object_meta(), **_pod_template("spec.template"),
                        **_CONDITIONS}

MERGE_KEYS: dict[str, MergeKeys] = {
    "Pod": {
        **_object_meta(),
        **_pod_spec("spec"),
        **_CONDITIONS,
        "status.podIPs": ("ip", "merge"),
        "status.hostIPs": ("ip", "merge"),
    },
    "PodTemplate": {**_object_meta(), **_pod_template("template")},
    "ReplicationController": _WORKLOAD,
    "ReplicaSet": _WORKLOAD,
    "StatefulSet": _WORKLOAD,
    "DaemonSet": _WORKLOAD,
    "Job": _WORKLOAD,
    "Deployment": {**_WORKLOAD, "spec.strategy": ("", "retainKeys")},
    "CronJob": {
        **_object_meta(),
        **_object_meta("spec.jobTemplate.metadata"),
        **_pod_template("spec.jobTemplate.spec.template"),
    },
    "Node": {
        **_object_meta(),
        "spec.podCIDRs": ("", "merge"),
        **_CONDITIONS,
        "status.addresses": ("type", "merge"),
    },
    "Service": {**_object_meta(), "spec.ports": ("port", "merge"), **_CONDITIONS},
    "Namespace": {**_object_meta(), **_CONDITIONS},
    "Scale": _object_meta(),
    "PersistentVolumeClaim": {**_object_meta(), **_CONDITIONS},
    "ServiceAccount": {**_object_meta(), "secrets": ("name", "merge")},
    # Built-in kinds with no tagged field but their metadata.
    **{kind: _object_meta() for kind in (
        "ConfigMap", "Secret", "Endpoints", "Event", "Lease", "LimitRange",
        "ResourceQuota", "PersistentVolume", "ControllerRevision",
        "EndpointSlice", "PriorityClass", "Binding",
    )},
}


@functools.cache
def merge_keys_for(kind_name: str) -> MergeKeys | None:
    """The table of a built-in kind, or None for a kind Kubernetes would not
    strategic-merge (custom resources).

    A kind this server serves takes its table from its schema, so patch and
    decoding read one source; the hand-written table above serves the
    built-in kinds kctl apply meets on other clusters only.
    """
    from server.schema import SCHEMAS, merge_key_table

    schema = SCHEMAS.get(kind_name)
    if schema is not None and schema.gvk is not None:
        return merge_key_table(kind_name)
    return MERGE_KEYS.get(kind_name)
