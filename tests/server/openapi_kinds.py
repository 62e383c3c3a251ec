"""A registry of the kinds kctl serves, for the OpenAPI tests.

Built from the registry's base Kind so that these tests do not depend on the
per-kind modules' rules; names, scopes, verbs and subresources are those of
kube-apiserver.
"""

from __future__ import annotations

from server.registry import Kind, Registry

# (group, kind, resource, namespaced, subresources)
SERVED = [
    ("", "Namespace", "namespaces", False, ("status", "finalize")),
    ("", "Node", "nodes", False, ("status",)),
    ("", "Pod", "pods", True, ("status", "binding", "log", "exec", "eviction")),
    ("", "Service", "services", True, ("status",)),
    ("", "Endpoints", "endpoints", True, ()),
    ("", "ReplicationController", "replicationcontrollers", True,
     ("status", "scale")),
    ("", "Event", "events", True, ()),
    ("", "ConfigMap", "configmaps", True, ()),
    ("", "Secret", "secrets", True, ()),
    ("", "ServiceAccount", "serviceaccounts", True, ()),
    ("coordination.k8s.io", "Lease", "leases", True, ()),
    ("discovery.k8s.io", "EndpointSlice", "endpointslices", True, ()),
    ("apps", "Deployment", "deployments", True, ("status", "scale")),
    ("apps", "ReplicaSet", "replicasets", True, ("status", "scale")),
]

# The kinds that are only created, and answered (server.registry.access).
REVIEWS = [
    ("authentication.k8s.io", "SelfSubjectReview", "selfsubjectreviews", False, ()),
    ("authorization.k8s.io", "SelfSubjectAccessReview", "selfsubjectaccessreviews",
     False, ()),
    ("authorization.k8s.io", "SelfSubjectRulesReview", "selfsubjectrulesreviews",
     False, ()),
]


def served_registry() -> Registry:
    kinds = []
    for group, kind_name, resource, namespaced, subresources in SERVED:
        kind = type(kind_name + "Kind", (Kind,), {
            "group": group, "kind": kind_name, "resource": resource,
            "namespaced": namespaced, "subresources": subresources,
        })()
        kinds.append(kind)
    return Registry(kinds)
