"""The registry of kinds the server serves, found by group, version and resource."""

from __future__ import annotations

from dataclasses import dataclass

from server.registry.base import Column, Kind


@dataclass
class RegistryOptions:
    service_cluster_ip_range: str = "10.0.0.0/24"
    service_node_port_range: str = "30000-32767"


class Registry:
    def __init__(self, kinds: list[Kind]):
        self.kinds = kinds
        self._by_resource = {(k.group, k.version, k.resource): k for k in kinds}
        self._by_kind = {(k.group, k.kind): k for k in kinds}

    def get(self, group: str, version: str, resource: str) -> Kind | None:
        return self._by_resource.get((group, version, resource))

    def by_kind(self, group: str, kind: str) -> Kind | None:
        return self._by_kind.get((group, kind))

    def group_versions(self) -> dict[str, list[str]]:
        """Every served group (core is "") with its versions."""
        groups: dict[str, list[str]] = {}
        for k in self.kinds:
            versions = groups.setdefault(k.group, [])
            if k.version not in versions:
                versions.append(k.version)
        return groups

    def in_group_version(self, group: str, version: str) -> list[Kind]:
        return [k for k in self.kinds if k.group == group and k.version == version]


def default_registry(options: RegistryOptions | None = None) -> Registry:
    from server.registry import apps, cluster, config, coordination, discovery
    from server.registry import events, pods
    from server.registry import access, serviceaccounts, services, workloads

    options = options or RegistryOptions()
    return Registry([
        cluster.NamespaceKind(),
        cluster.NodeKind(),
        pods.PodKind(),
        services.ServiceKind(options.service_cluster_ip_range,
                             options.service_node_port_range),
        services.EndpointsKind(),
        workloads.ReplicationControllerKind(),
        events.EventKind(),
        config.ConfigMapKind(),
        config.SecretKind(),
        serviceaccounts.ServiceAccountKind(),
        coordination.LeaseKind(),
        discovery.EndpointSliceKind(),
        *apps.kinds(),
        *access.kinds(),
    ])


__all__ = ["Column", "Kind", "Registry", "RegistryOptions", "default_registry"]
