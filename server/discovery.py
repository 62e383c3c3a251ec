"""Discovery documents: /version, /api, /apis and the resource lists.

Clients learn every resource, its short names and verbs from here; kubectl
caches what it reads.
"""

from __future__ import annotations

import platform

from server import __version__
from server.registry import Kind, Registry

# The Kubernetes API version we model, reported by /version so that clients
# do not warn of version skew.
KUBE_MAJOR, KUBE_MINOR = "1", "32"

# Subresources: (verbs, kind, group, version) of each, as kube-apiserver lists
# them. An empty group means the kind's own.
SUBRESOURCES = {
    "status": (["get", "patch", "update"], None, None, None),
    "binding": (["create"], "Binding", None, None),
    "log": (["get"], "Pod", None, None),
    "exec": (["create", "get"], "PodExecOptions", None, None),
    "scale": (["get", "patch", "update"], "Scale", "autoscaling", "v1"),
    "eviction": (["create"], "Eviction", "policy", "v1"),
    "finalize": (["update"], None, None, None),
}


def version_info() -> dict:
    return {
        "major": KUBE_MAJOR,
        "minor": KUBE_MINOR,
        "gitVersion": f"v{KUBE_MAJOR}.{KUBE_MINOR}.0+kctl-{__version__}",
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
        "goVersion": f"python{platform.python_version()}",
        "compiler": "cpython",
        "platform": f"linux/{_arch()}",
    }


def _arch() -> str:
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def api_versions(server_address: str) -> dict:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group(name: str, versions: list[str]) -> dict:
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": entries, "preferredVersion": entries[0]}


def api_group_list(registry: Registry) -> dict:
    groups = [_group(name, versions)
              for name, versions in registry.group_versions().items() if name]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(registry: Registry, name: str) -> dict | None:
    versions = registry.group_versions().get(name)
    if not name or not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def api_resource_list(registry: Registry, group: str, version: str) -> dict | None:
    kinds = registry.in_group_version(group, version)
    if not kinds:
        return None
    resources = []
    for kind in kinds:
        resources.append(_resource(kind))
        resources.extend(_subresource(kind, sub) for sub in kind.subresources)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }


def _resource(kind: Kind) -> dict:
    entry = {
        "name": kind.resource,
        "singularName": kind.singular,
        "namespaced": kind.namespaced,
        "kind": kind.kind,
        "verbs": list(kind.verbs),
    }
    if kind.short_names:
        entry["shortNames"] = list(kind.short_names)
    if kind.categories:
        entry["categories"] = list(kind.categories)
    return entry


def _subresource(kind: Kind, sub: str) -> dict:
    verbs, sub_kind, group, version = SUBRESOURCES[sub]
    entry = {
        "name": f"{kind.resource}/{sub}",
        "singularName": "",
        "namespaced": kind.namespaced,
        "kind": sub_kind or kind.kind,
        "verbs": verbs,
    }
    if group:
        entry["group"], entry["version"] = group, version
    return entry
