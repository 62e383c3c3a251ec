"""Validation of Services (ValidateService, ValidateServiceUpdate)."""

from __future__ import annotations

from server.errors import FieldError
from server.registry.endpoints import INVALID_IP, is_ip
from server.registry.podspec import as_dict, as_list, is_valid_port_name
from server.validation import (
    PROTOCOLS,
    GoStrings,
    forbidden,
    invalid,
    is_dns1123_label,
    is_dns1123_subdomain,
    not_supported,
    required,
    validate_labels,
    validate_port_number,
)

SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
SESSION_AFFINITIES = ("ClientIP", "None")
TRAFFIC_POLICIES = ("Cluster", "Local")
IP_FAMILY_POLICIES = ("PreferDualStack", "RequireDualStack", "SingleStack")
IP_FAMILIES = ("IPv4", "IPv6")


def validate_cluster_ip_fields(spec: dict) -> list[FieldError]:
    """ValidateServiceClusterIPsRelatedFields, run before allocation."""
    if spec.get("type") == "ExternalName":
        return []
    errs: list[FieldError] = []
    cluster_ip = spec.get("clusterIP") or ""
    cluster_ips = as_list(spec.get("clusterIPs"))
    if cluster_ip:
        if not cluster_ips:
            errs.append(required("spec.clusterIPs"))
        elif cluster_ips[0] != cluster_ip:
            errs.append(FieldError("Invalid value", "spec.clusterIPs",
                                   GoStrings(cluster_ips),
                                   "first value must match `clusterIP`"))
    elif cluster_ips:
        errs.append(FieldError("Invalid value", "spec.clusterIPs",
                               GoStrings(cluster_ips),
                               "must be empty when `clusterIP` is not specified"))
    errs += _validate_families(spec)
    for i, ip in enumerate(cluster_ips):
        if i == 0 and ip == "None":
            if len(cluster_ips) > 1:
                errs.append(FieldError("Invalid value", "spec.clusterIPs",
                                       GoStrings(cluster_ips),
                                       "'None' must be the first and only value"))
            continue
        if not is_ip(ip):
            errs.append(FieldError("Invalid value", f"spec.clusterIPs[{i}]", ip,
                                   INVALID_IP))
    return errs


def _validate_families(spec: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, family in enumerate(as_list(spec.get("ipFamilies"))):
        if family not in IP_FAMILIES:
            errs.append(not_supported(f"spec.ipFamilies[{i}]", family, IP_FAMILIES))
        if family in seen:
            errs.append(FieldError("Duplicate value", f"spec.ipFamilies[{i}]", family))
        seen.add(family)
    policy = spec.get("ipFamilyPolicy")
    if policy is not None and policy not in IP_FAMILY_POLICIES:
        errs.append(not_supported("spec.ipFamilyPolicy", policy, IP_FAMILY_POLICIES))
    return errs


def validate_service_spec(spec: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    service_type = spec.get("type")
    ports = as_list(spec.get("ports"))
    headless = spec.get("clusterIP") == "None"
    if not ports and not headless and service_type != "ExternalName":
        errs.append(required("spec.ports"))
    errs += _validate_headless_type(spec)
    if service_type == "ExternalName":
        errs += _validate_external_name(spec)
    names: set[str] = set()
    for i, port in enumerate(ports):
        errs += _validate_service_port(as_dict(port), len(ports) > 1, names,
                                       f"spec.ports[{i}]")
    errs += _validate_unique_ports(ports)
    errs += validate_labels(spec.get("selector"), "spec.selector")
    errs += _validate_choice(spec.get("sessionAffinity"), "spec.sessionAffinity",
                             SESSION_AFFINITIES)
    errs += _validate_choice(service_type, "spec.type", SERVICE_TYPES)
    if service_type == "ClusterIP":
        for i, port in enumerate(ports):
            if as_dict(port).get("nodePort"):
                errs.append(forbidden(f"spec.ports[{i}].nodePort",
                                      "may not be used when `type` is 'ClusterIP'"))
    for i, ip in enumerate(as_list(spec.get("externalIPs"))):
        if not is_ip(ip):
            errs.append(FieldError("Invalid value", f"spec.externalIPs[{i}]", ip,
                                   INVALID_IP))
    errs += _validate_unique_node_ports(ports)
    if service_type != "ExternalName":
        errs += _validate_choice(spec.get("internalTrafficPolicy"),
                                 "spec.internalTrafficPolicy", TRAFFIC_POLICIES)
    return errs


def _validate_headless_type(spec: dict) -> list[FieldError]:
    service_type = spec.get("type")
    if service_type in ("LoadBalancer", "NodePort") and \
            as_list(spec.get("clusterIPs")) == ["None"]:
        return [FieldError("Invalid value", "spec.clusterIPs[0]", "None",
                           f"may not be set to 'None' for {service_type} "
                           "services")]
    return []


def _validate_unique_node_ports(ports: list) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[tuple] = set()
    for i, port in enumerate(ports):
        port = as_dict(port)
        if not port.get("nodePort"):
            continue
        key = (port.get("protocol"), port["nodePort"])
        if key in seen:
            errs.append(FieldError("Duplicate value", f"spec.ports[{i}].nodePort",
                                   port["nodePort"]))
        seen.add(key)
    return errs


def _validate_choice(value: object, path: str, values: tuple) -> list[FieldError]:
    if not value:
        return [required(path)]
    if value not in values:
        return [not_supported(path, value, values)]
    return []


def _validate_external_name(spec: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    for key in ("clusterIPs", "ipFamilies"):
        if as_list(spec.get(key)):
            errs.append(forbidden(f"spec.{key}",
                                  "may not be set for ExternalName services"))
    if spec.get("ipFamilyPolicy") is not None:
        errs.append(forbidden("spec.ipFamilyPolicy",
                              "may not be set for ExternalName services"))
    # A CNAME may end in a dot, to say that it is fully qualified.
    name = (spec.get("externalName") or "").removesuffix(".")
    if not name:
        errs.append(required("spec.externalName"))
    else:
        errs += invalid("spec.externalName", name, is_dns1123_subdomain(name))
    return errs


def _validate_service_port(port: dict, require_name: bool, names: set,
                           path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    name = port.get("name") or ""
    if require_name and not name:
        errs.append(required(f"{path}.name"))
    elif name:
        errs += invalid(f"{path}.name", name, is_dns1123_label(name))
        if name in names:
            errs.append(FieldError("Duplicate value", f"{path}.name", name))
        names.add(name)
    errs += validate_port_number(port.get("port", 0), f"{path}.port")
    errs += _validate_choice(port.get("protocol"), f"{path}.protocol", PROTOCOLS)
    target = port.get("targetPort")
    if isinstance(target, str):
        errs += invalid(f"{path}.targetPort", target, is_valid_port_name(target))
    else:
        errs += validate_port_number(target, f"{path}.targetPort")
    return errs


def _validate_unique_ports(ports: list) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[tuple] = set()
    for i, port in enumerate(ports):
        port = as_dict(port)
        key = (port.get("protocol"), port.get("port"))
        if key in seen:
            value = {"port": key[1], "protocol": key[0]}
            errs.append(FieldError("Duplicate value", f"spec.ports[{i}]", value))
        seen.add(key)
    return errs


def validate_cluster_ips_unchanged(spec: dict, old: dict) -> list[FieldError]:
    """A clusterIP may not change once set (validateUpgradeDowngradeClusterIPs)."""
    if "ExternalName" in (spec.get("type"), old.get("type")):
        return []
    new_ips, old_ips = as_list(spec.get("clusterIPs")), as_list(old.get("clusterIPs"))
    if new_ips[:1] == ["None"] and old_ips[:1] == ["None"]:
        return []
    value = GoStrings(new_ips)
    if not new_ips and old_ips:
        return [FieldError("Invalid value", "spec.clusterIPs[0]", value,
                           "primary clusterIP can not be unset")]
    return [FieldError("Invalid value", f"spec.clusterIPs[{i}]", value,
                       "may not change once set")
            for i, ip in enumerate(old_ips) if i < len(new_ips) and new_ips[i] != ip]
