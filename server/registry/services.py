"""Services: defaults, clusterIP allocation, validation and printing."""

from __future__ import annotations

import copy

from server.errors import FieldError, InternalError, Invalid
from server.registry.base import Column, Kind, age_column, name_column
from server.registry.clusterip import ClusterIPAllocator
from server.registry.endpoints import INVALID_IP, EndpointsKind, is_ip
from server.registry.podspec import as_dict, as_list, is_valid_port_name
from server.registry.printing import format_labels
from server.validation import (
    PROTOCOLS,
    GoStrings,
    forbidden,
    invalid,
    is_dns1123_label,
    is_dns1123_subdomain,
    name_is_dns1035_label,
    not_supported,
    required,
    validate_labels,
    validate_object_meta,
    validate_object_meta_update,
    validate_port_number,
)

SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
SESSION_AFFINITIES = ("ClientIP", "None")
TRAFFIC_POLICIES = ("Cluster", "Local")
IP_FAMILY_POLICIES = ("PreferDualStack", "RequireDualStack", "SingleStack")
IP_FAMILIES = ("IPv4", "IPv6")
# (namespace, name) of the service kube-apiserver keeps for itself; only it
# may have the first IP of the range.
KUBERNETES_SERVICE = ("default", "kubernetes")


class ServiceKind(Kind):
    kind = "Service"
    resource = "services"
    singular = "service"
    short_names = ("svc",)
    categories = ("all",)
    subresources = ("status",)
    selectable_fields = ("spec.clusterIP", "spec.type")

    def __init__(self, cluster_ip_range: str = "10.0.0.0/24"):
        self.allocator = ClusterIPAllocator(cluster_ip_range)
        self.family = "IPv4" if self.allocator.network.version == 4 else "IPv6"

    def prepare_create(self, obj: dict) -> None:
        spec = obj.setdefault("spec", {})
        default_service_spec(spec)
        obj["status"] = {"loadBalancer": {}}
        _sync_cluster_ips(spec)
        errs = validate_cluster_ip_fields(spec)
        if errs:
            raise Invalid(self.kind, _name(obj), errs)
        self._init_ip_families(obj, spec)
        self._allocate(obj, spec)

    def prepare_update(self, obj: dict, old: dict) -> None:
        spec = obj.setdefault("spec", {})
        default_service_spec(spec)
        _keep_allocated(spec, as_dict(old.get("spec")))
        _sync_cluster_ips(spec)

    def restore(self, obj: dict) -> None:
        """Take back the clusterIP of a service already stored (at start)."""
        for ip in as_list(as_dict(obj.get("spec")).get("clusterIPs")):
            if ip and ip != "None":
                try:
                    self.allocator.restore(ip)
                except ValueError:
                    # Out of a changed range, or a duplicate: leave it be, as
                    # kube-apiserver's repair loop only reports these.
                    pass

    def release(self, obj: dict) -> None:
        for ip in as_list(as_dict(obj.get("spec")).get("clusterIPs")):
            if ip and ip != "None":
                self.allocator.release(ip)

    def validate(self, obj: dict) -> list[FieldError]:
        errs = validate_object_meta(obj, namespaced=True,
                                    name_validator=name_is_dns1035_label)
        return errs + validate_service_spec(as_dict(obj.get("spec")))

    def validate_update(self, obj: dict, old: dict) -> list[FieldError]:
        errs = validate_object_meta_update(obj, old)
        errs += _validate_cluster_ips_unchanged(as_dict(obj.get("spec")),
                                               as_dict(old.get("spec")))
        return errs + validate_service_spec(as_dict(obj.get("spec")))

    def validate_status_update(self, obj: dict, old: dict) -> list[FieldError]:
        return validate_object_meta_update(obj, old)

    def field_values(self, obj: dict) -> dict[str, str]:
        values = super().field_values(obj)
        spec = as_dict(obj.get("spec"))
        values["spec.clusterIP"] = str(spec.get("clusterIP") or "")
        values["spec.type"] = str(spec.get("type") or "")
        return values

    def columns(self) -> list[Column]:
        spec = _spec
        return [
            name_column(),
            Column("Type", lambda o: spec(o).get("type", ""),
                   description=_TYPE_DOC),
            Column("Cluster-IP", _cluster_ip_cell, description=_CLUSTER_IP_DOC),
            Column("External-IP", service_external_ip,
                   description=_EXTERNAL_IPS_DOC),
            Column("Port(s)", service_ports, description=_PORTS_DOC),
            age_column(),
            Column("Selector", lambda o: format_labels(spec(o).get("selector")),
                   priority=1, description=_SELECTOR_DOC),
        ]

    # Allocation, as the service REST storage does before the strategy runs.

    def _init_ip_families(self, obj: dict, spec: dict) -> None:
        if spec.get("type") == "ExternalName":
            return
        errs = []
        for i, family in enumerate(as_list(spec.get("ipFamilies"))):
            if family != self.family:
                errs.append(FieldError("Invalid value", f"spec.ipFamilies[{i}]",
                                       family, "not configured on this cluster"))
        headless_selectorless = spec.get("clusterIP") == "None" and \
            not spec.get("selector")
        policy = spec.get("ipFamilyPolicy")
        if policy == "RequireDualStack" and not headless_selectorless:
            errs.append(FieldError(
                "Invalid value", "spec.ipFamilyPolicy", policy,
                "this cluster is not configured for dual-stack services"))
        if errs:
            raise Invalid(self.kind, _name(obj), errs)
        if not spec.get("ipFamilies"):
            spec["ipFamilies"] = [self.family]
        if not policy:
            spec["ipFamilyPolicy"] = ("RequireDualStack" if headless_selectorless
                                      else "SingleStack")

    def _allocate(self, obj: dict, spec: dict) -> None:
        if spec.get("type") == "ExternalName" or spec.get("clusterIP") == "None":
            return
        wanted = spec.get("clusterIP")
        if not wanted:
            try:
                ip = self.allocator.allocate()
            except ValueError as err:
                raise InternalError(
                    f"Internal error occurred: failed to allocate a serviceIP: {err}"
                ) from None
        else:
            try:
                self.allocator.reserve(wanted, _is_kubernetes_service(obj))
            except ValueError as err:
                raise Invalid(self.kind, _name(obj), [FieldError(
                    "Invalid value", "spec.clusterIPs",
                    GoStrings(spec.get("clusterIPs") or []),
                    f"failed to allocate IP {wanted}: {err}")]) from None
            ip = wanted
        spec["clusterIP"] = ip
        spec["clusterIPs"] = [ip]


def _name(obj: dict) -> str:
    return obj.get("metadata", {}).get("name", "")


def _is_kubernetes_service(obj: dict) -> bool:
    meta = obj.get("metadata", {})
    return (meta.get("namespace"), meta.get("name")) == KUBERNETES_SERVICE


def _spec(obj: dict) -> dict:
    return as_dict(obj.get("spec"))


# Defaults (SetDefaults_Service).

def default_service_spec(spec: dict) -> None:
    if not spec.get("sessionAffinity"):
        spec["sessionAffinity"] = "None"
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    if not spec.get("type"):
        spec["type"] = "ClusterIP"
    for port in as_list(spec.get("ports")):
        if not isinstance(port, dict):
            continue
        if not port.get("protocol"):
            port["protocol"] = "TCP"
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")
    service_type = spec["type"]
    externally_accessible = service_type in ("LoadBalancer", "NodePort") or (
        service_type == "ClusterIP" and as_list(spec.get("externalIPs")))
    if externally_accessible and not spec.get("externalTrafficPolicy"):
        spec["externalTrafficPolicy"] = "Cluster"
    if spec.get("internalTrafficPolicy") is None and service_type != "ExternalName":
        spec["internalTrafficPolicy"] = "Cluster"
    if service_type == "LoadBalancer" and \
            spec.get("allocateLoadBalancerNodePorts") is None:
        spec["allocateLoadBalancerNodePorts"] = True


def _sync_cluster_ips(spec: dict) -> None:
    # Users may set either field; the other follows, as normalizeClusterIPs.
    if spec.get("clusterIP") and not as_list(spec.get("clusterIPs")):
        spec["clusterIPs"] = [spec["clusterIP"]]


def _keep_allocated(spec: dict, old: dict) -> None:
    """patchAllocatedValues: a resubmitted manifest keeps its clusterIP."""
    if _needs_cluster_ip(old) and _needs_cluster_ip(spec):
        if not spec.get("clusterIP") and old.get("clusterIP"):
            spec["clusterIP"] = old["clusterIP"]
        if not as_list(spec.get("clusterIPs")) and as_list(old.get("clusterIPs")):
            spec["clusterIPs"] = copy.deepcopy(old["clusterIPs"])
        for key in ("ipFamilies", "ipFamilyPolicy"):
            if not spec.get(key) and old.get(key):
                spec[key] = copy.deepcopy(old[key])
    # TODO: changing the type to or from ExternalName neither allocates nor
    # releases a clusterIP yet; kube-apiserver does both.


def _needs_cluster_ip(spec: dict) -> bool:
    return spec.get("type", "ClusterIP") != "ExternalName"


# Validation.

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
    if service_type != "ExternalName":
        errs += _validate_choice(spec.get("internalTrafficPolicy"),
                                 "spec.internalTrafficPolicy", TRAFFIC_POLICIES)
    # TODO: nodePorts are not allocated for NodePort and LoadBalancer services.
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


def _validate_cluster_ips_unchanged(spec: dict, old: dict) -> list[FieldError]:
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


# Printing (printService).

def _cluster_ip_cell(obj: dict) -> str:
    ips = as_list(_spec(obj).get("clusterIPs"))
    return ips[0] if ips else "<none>"


def service_external_ip(obj: dict) -> str:
    spec = _spec(obj)
    service_type = spec.get("type")
    external = [ip for ip in as_list(spec.get("externalIPs")) if isinstance(ip, str)]
    if service_type in ("ClusterIP", "NodePort"):
        return ",".join(external) or "<none>"
    if service_type == "LoadBalancer":
        ingress = as_list(as_dict(as_dict(obj.get("status")).get("loadBalancer"))
                          .get("ingress"))
        balancers = sorted({as_dict(i).get("ip") or as_dict(i).get("hostname")
                            for i in ingress} - {None, ""})
        # Without -o wide kube-apiserver clips the list to 16 characters.
        text = ",".join(balancers)
        if len(text) > 16:
            text = text[:13] + "..."
        if external:
            return ",".join(([text] if text else []) + external)
        return text or "<pending>"
    if service_type == "ExternalName":
        return spec.get("externalName", "")
    return "<unknown>"


def service_ports(obj: dict) -> str:
    pieces = []
    for port in as_list(_spec(obj).get("ports")):
        port = as_dict(port)
        protocol = port.get("protocol", "")
        if port.get("nodePort"):
            pieces.append(f"{port.get('port')}:{port['nodePort']}/{protocol}")
        else:
            pieces.append(f"{port.get('port')}/{protocol}")
    return ",".join(pieces) or "<none>"


_TYPE_DOC = (
    "type determines how the Service is exposed. Defaults to ClusterIP. Valid "
    "options are ExternalName, ClusterIP, NodePort, and LoadBalancer. "
    '"ClusterIP" allocates a cluster-internal IP address for load-balancing to '
    "endpoints. Endpoints are determined by the selector or if that is not "
    "specified, by manual construction of an Endpoints object or EndpointSlice "
    'objects. If clusterIP is "None", no virtual IP is allocated and the '
    "endpoints are published as a set of endpoints rather than a virtual IP. "
    '"NodePort" builds on ClusterIP and allocates a port on every node which '
    'routes to the same endpoints as the clusterIP. "LoadBalancer" builds on '
    "NodePort and creates an external load-balancer (if supported in the "
    "current cloud) which routes to the same endpoints as the clusterIP. "
    '"ExternalName" aliases this service to the specified externalName. Several '
    "other fields do not apply to ExternalName services. More info: "
    "https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types"
)
_CLUSTER_IP_DOC = (
    "clusterIP is the IP address of the service and is usually assigned "
    "randomly. If an address is specified manually, is in-range (as per system "
    "configuration), and is not in use, it will be allocated to the service; "
    "otherwise creation of the service will fail. This field may not be changed "
    "through updates unless the type field is also being changed to ExternalName "
    "(which requires this field to be blank) or the type field is being changed "
    "from ExternalName (in which case this field may optionally be specified, as "
    'describe above).  Valid values are "None", empty string (""), or a valid IP '
    'address. Setting this to "None" makes a "headless service" (no virtual IP), '
    "which is useful when direct endpoint connections are preferred and proxying "
    "is not required.  Only applies to types ClusterIP, NodePort, and "
    "LoadBalancer. If this field is specified when creating a Service of type "
    "ExternalName, creation will fail. This field will be wiped when updating a "
    "Service to type ExternalName. More info: "
    "https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies"
)
_EXTERNAL_IPS_DOC = (
    "externalIPs is a list of IP addresses for which nodes in the cluster will "
    "also accept traffic for this service.  These IPs are not managed by "
    "Kubernetes.  The user is responsible for ensuring that traffic arrives at a "
    "node with this IP.  A common example is external load-balancers that are "
    "not part of the Kubernetes system."
)
_PORTS_DOC = (
    "The list of ports that are exposed by this service. More info: "
    "https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies"
)
_SELECTOR_DOC = (
    "Route service traffic to pods with label keys and values matching this "
    "selector. If empty or not present, the service is assumed to have an "
    "external process managing its endpoints, which Kubernetes will not modify. "
    "Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if "
    "type is ExternalName. More info: "
    "https://kubernetes.io/docs/concepts/services-networking/service/"
)


__all__ = ["KUBERNETES_SERVICE", "ClusterIPAllocator", "EndpointsKind", "ServiceKind"]
