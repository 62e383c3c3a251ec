"""Services: defaults, what an update keeps or drops, and printing."""

from __future__ import annotations

import copy

from server.errors import FieldError, Invalid
from server.registry.base import Column, Finish, Kind, age_column, name_column
from server.registry.clusterip import ClusterIPAllocator
from server.registry.endpoints import EndpointsKind
from server.registry.nodeport import DEFAULT_NODE_PORT_RANGE
from server.registry.podspec import as_dict, as_list
from server.registry.printing import format_labels
from server.registry.service_alloc import (
    KUBERNETES_SERVICE,
    ServiceAllocations,
    needs_cluster_ip,
    needs_node_port,
)
from server.registry.service_validation import (
    validate_cluster_ip_fields,
    validate_cluster_ips_unchanged,
    validate_service_spec,
)
from server.validation import (
    name_is_dns1035_label,
    validate_object_meta,
    validate_object_meta_update,
)


class ServiceKind(Kind):
    kind = "Service"
    resource = "services"
    singular = "service"
    short_names = ("svc",)
    categories = ("all",)
    subresources = ("status",)
    selectable_fields = ("spec.clusterIP", "spec.type")

    # A PUT of a service that does not exist creates it, as kube's strategy.
    allow_create_on_update = True

    def __init__(self, cluster_ip_range: str = "10.0.0.0/24",
                 node_port_range: str = DEFAULT_NODE_PORT_RANGE):
        self.allocations = ServiceAllocations(cluster_ip_range, node_port_range)
        self.allocator = self.allocations.ips
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
        self.allocations.allocate_create(obj)

    def prepare_update(self, obj: dict, old: dict) -> None:
        spec = obj.setdefault("spec", {})
        old_spec = as_dict(old.get("spec"))
        default_service_spec(spec)
        _keep_allocated(spec, old_spec)
        _normalize_cluster_ips(spec, old_spec)
        errs = validate_cluster_ip_fields(spec)
        if errs:
            raise Invalid(self.kind, _name(obj), errs)
        self._init_ip_families(obj, spec)
        _drop_type_dependent_fields(obj, spec, old_spec)

    def begin_update(self, obj: dict, old: dict) -> Finish:
        return self.allocations.begin_update(obj, old)

    def restore(self, obj: dict) -> None:
        """Take back the clusterIPs and nodePorts of a service already stored
        (at start), as kube-apiserver's repair loops rebuild its bitmaps."""
        self.allocations.restore(obj)

    def release(self, obj: dict) -> None:
        self.allocations.release(obj)

    def validate(self, obj: dict) -> list[FieldError]:
        errs = validate_object_meta(obj, namespaced=True,
                                    name_validator=name_is_dns1035_label)
        return errs + validate_service_spec(as_dict(obj.get("spec")))

    def validate_update(self, obj: dict, old: dict) -> list[FieldError]:
        errs = validate_object_meta_update(obj, old)
        errs += validate_cluster_ips_unchanged(as_dict(obj.get("spec")),
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


def _name(obj: dict) -> str:
    return obj.get("metadata", {}).get("name", "")


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
    if _externally_accessible(spec) and not spec.get("externalTrafficPolicy"):
        spec["externalTrafficPolicy"] = "Cluster"
    if spec.get("internalTrafficPolicy") is None and service_type != "ExternalName":
        spec["internalTrafficPolicy"] = "Cluster"
    if service_type == "LoadBalancer" and \
            spec.get("allocateLoadBalancerNodePorts") is None:
        spec["allocateLoadBalancerNodePorts"] = True


def _externally_accessible(spec: dict) -> bool:
    service_type = spec.get("type")
    return service_type in ("LoadBalancer", "NodePort") or bool(
        service_type == "ClusterIP" and as_list(spec.get("externalIPs")))


def _sync_cluster_ips(spec: dict) -> None:
    # Users may set either field; the other follows, as normalizeClusterIPs.
    if spec.get("clusterIP") and not as_list(spec.get("clusterIPs")):
        spec["clusterIPs"] = [spec["clusterIP"]]


def _keep_allocated(spec: dict, old: dict) -> None:
    """patchAllocatedValues: a resubmitted manifest keeps its clusterIP and
    nodePorts."""
    if needs_cluster_ip(old) and needs_cluster_ip(spec):
        if not spec.get("clusterIP") and old.get("clusterIP"):
            spec["clusterIP"] = old["clusterIP"]
        if not as_list(spec.get("clusterIPs")) and as_list(old.get("clusterIPs")):
            spec["clusterIPs"] = copy.deepcopy(old["clusterIPs"])
        for key in ("ipFamilies", "ipFamilyPolicy"):
            if not spec.get(key) and old.get(key):
                spec[key] = copy.deepcopy(old[key])
    if needs_node_port(old) and needs_node_port(spec):
        _keep_node_ports(spec, old)
    # TODO: healthCheckNodePort (LoadBalancer with externalTrafficPolicy
    # Local) is neither allocated nor kept; no kctl node uses it.


def _keep_node_ports(spec: dict, old: dict) -> None:
    # A port keeps the nodePort of the old port of its name, unless another
    # port of the new spec asks for that number.
    old_ports = [as_dict(p) for p in as_list(old.get("ports"))]
    new_ports = [p for p in as_list(spec.get("ports")) if isinstance(p, dict)]
    used = {p.get("nodePort") for p in old_ports} & {
        p.get("nodePort") for p in new_ports}
    by_name = {p.get("name", ""): p.get("nodePort") for p in old_ports}
    for port in new_ports:
        if not port.get("nodePort"):
            number = by_name.get(port.get("name", ""))
            if number and number not in used:
                port["nodePort"] = number


def _normalize_cluster_ips(spec: dict, old: dict) -> None:
    """normalizeClusterIPs on update: clusterIPs follows a changed clusterIP
    when the client left clusterIPs as it was."""
    old_ip, new_ip = old.get("clusterIP") or "", spec.get("clusterIP") or ""
    old_ips = as_list(old.get("clusterIPs"))
    if old_ips and not as_list(spec.get("clusterIPs")) and old_ip == new_ip:
        spec["clusterIPs"] = copy.deepcopy(old_ips)
    if old_ip == new_ip:
        return
    same_ips = as_list(spec.get("clusterIPs")) == old_ips
    if old_ip and not new_ip:
        if same_ips:
            spec.pop("clusterIPs", None)
    elif same_ips:
        spec["clusterIPs"] = [new_ip]


def _drop_type_dependent_fields(obj: dict, spec: dict, old: dict) -> None:
    """dropTypeDependentFields: what the new type has no use for goes, if the
    client did not change it too (that is for validation to refuse)."""
    if needs_cluster_ip(old) and not needs_cluster_ip(spec):
        if spec.get("clusterIP") == old.get("clusterIP") and \
                spec.get("clusterIPs") == old.get("clusterIPs"):
            spec.pop("clusterIP", None)
            spec.pop("clusterIPs", None)
        for key in ("ipFamilies", "ipFamilyPolicy"):
            if spec.get(key) == old.get(key):
                spec.pop(key, None)
    if needs_node_port(old) and not needs_node_port(spec):
        old_ports = {as_dict(p).get("nodePort") for p in as_list(old.get("ports"))}
        ports = [p for p in as_list(spec.get("ports")) if isinstance(p, dict)]
        if {p.get("nodePort") for p in ports} <= old_ports | {None, 0}:
            for port in ports:
                port.pop("nodePort", None)
    if old.get("type") == "LoadBalancer" and spec.get("type") != "LoadBalancer":
        for key in ("allocateLoadBalancerNodePorts", "loadBalancerClass"):
            if key in spec and spec.get(key) == old.get(key):
                spec.pop(key)
    if _externally_accessible(old) and not _externally_accessible(spec) and \
            spec.get("externalTrafficPolicy") == old.get("externalTrafficPolicy"):
        spec.pop("externalTrafficPolicy", None)
    if spec.get("type") != "LoadBalancer" and isinstance(obj.get("status"), dict):
        obj["status"]["loadBalancer"] = {}


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
