"""The EndpointSlices of a Service with a selector, as kube's endpointslice
controller (pkg/controller/endpointslice) writes them.

Each selected pod with an IP of the slice's family, not finished, becomes
one endpoint: conditions ready (serving and not terminating, or always when
the service publishes not-ready addresses), serving (the pod is Ready) and
terminating (it has a deletionTimestamp), a targetRef to the pod, its
nodeName, and its hostname when it names the service as its subdomain. Pods
that serve the same ports share slices of at most 100 endpoints; a service
with no endpoints keeps one empty placeholder slice. Slices are named from
``<service>-``, labelled with the service's labels, its name and this
controller's, and owned by the service, so the garbage collector removes
them with it.

:func:`plan` is pure: given the service, its pods and the slices it has,
it returns what to create, update and delete.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from controllers.replicapods import is_ready

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"
HEADLESS_LABEL = "service.kubernetes.io/headless"
MAX_ENDPOINTS_PER_SLICE = 100  # kube-controller-manager's default
API = "discovery.k8s.io/v1"


@dataclass
class Plan:
    create: list[dict] = field(default_factory=list)
    update: list[dict] = field(default_factory=list)
    delete: list[dict] = field(default_factory=list)


def plan(service: dict, pods: list[dict], existing: list[dict]) -> Plan:
    """What to write so that ``existing`` (this controller's slices of the
    service) becomes what the service and its pods call for."""
    wanted = wanted_slices(service, pods)
    result = Plan()
    unused = sorted(existing, key=lambda s: s["metadata"]["name"])
    for body in wanted:
        current = _take_matching(unused, body)
        if current is None:
            result.create.append(body)
        elif _differs(current, body):
            result.update.append(_updated(current, body))
    result.delete = unused
    return result


def wanted_slices(service: dict, pods: list[dict]) -> list[dict]:
    """The slices' bodies, without names: one group per address type and
    port set, each cut into slices of MAX_ENDPOINTS_PER_SLICE."""
    spec = service.get("spec") or {}
    slices = []
    for address_type in spec.get("ipFamilies") or ["IPv4"]:
        groups: dict[tuple, tuple[list, list]] = {}
        for pod in sorted(pods, key=lambda p: p["metadata"]["name"]):
            endpoint = _endpoint(service, pod, address_type)
            if endpoint is None:
                continue
            ports = endpoint_ports(spec, pod)
            group = groups.setdefault(_ports_key(ports), (ports, []))
            group[1].append(endpoint)
        for key in sorted(groups):
            ports, endpoints = groups[key]
            for start in range(0, len(endpoints), MAX_ENDPOINTS_PER_SLICE):
                chunk = endpoints[start:start + MAX_ENDPOINTS_PER_SLICE]
                slices.append(_body(service, address_type, ports, chunk))
        if not groups:
            slices.append(_body(service, address_type, [], []))
    return slices


def _endpoint(service: dict, pod: dict, address_type: str) -> dict | None:
    """podToEndpoint, or None for a pod kube leaves out (ShouldPodBeInEndpoints
    with terminating pods included, as slices report them)."""
    status, meta = pod.get("status") or {}, pod["metadata"]
    if status.get("phase") in ("Succeeded", "Failed"):
        return None
    addresses = _pod_addresses(status, address_type)
    if not addresses:
        return None
    spec, pod_spec = service.get("spec") or {}, pod.get("spec") or {}
    serving = is_ready(pod)
    terminating = bool(meta.get("deletionTimestamp"))
    ready = bool(spec.get("publishNotReadyAddresses")) or (
        serving and not terminating)
    endpoint = {
        "addresses": addresses[:1],
        "conditions": {"ready": ready, "serving": serving,
                       "terminating": terminating},
        "targetRef": {"kind": "Pod", "namespace": meta["namespace"],
                      "name": meta["name"], "uid": meta["uid"]},
    }
    if pod_spec.get("nodeName"):
        endpoint["nodeName"] = pod_spec["nodeName"]
    if _sets_hostname(pod, service):
        endpoint["hostname"] = pod_spec["hostname"]
    # TODO: kube also sets the zone from the node's topology.kubernetes.io/zone
    # label and leaves out pods whose node does not exist; that needs a node
    # informer this controller does not keep yet.
    return endpoint


def _pod_addresses(status: dict, address_type: str) -> list[str]:
    ips = [entry.get("ip", "") for entry in status.get("podIPs") or []]
    if not ips and status.get("podIP"):
        ips = [status["podIP"]]
    wanted = 6 if address_type == "IPv6" else 4
    return [ip for ip in ips if _ip_version(ip) == wanted]


def _ip_version(text: str) -> int:
    try:
        return ipaddress.ip_address(text).version
    except ValueError:
        return 0


def _sets_hostname(pod: dict, service: dict) -> bool:
    """ShouldSetHostname: the pod names this service as its subdomain."""
    spec = pod.get("spec") or {}
    return bool(spec.get("hostname")) and (
        spec.get("subdomain") == service["metadata"]["name"]
        and pod["metadata"].get("namespace") == service["metadata"]["namespace"])


def endpoint_ports(spec: dict, pod: dict) -> list[dict]:
    """getEndpointPorts: each service port this pod resolves, a named target
    port being the container port of that name; the others are left out."""
    ports = []
    for service_port in spec.get("ports") or []:
        number = target_port(service_port, pod)
        if number is None:
            continue
        port = {"name": service_port.get("name", ""), "port": number,
                "protocol": service_port.get("protocol", "TCP")}
        if service_port.get("appProtocol"):
            port["appProtocol"] = service_port["appProtocol"]
        ports.append(port)
    return ports


def _ports_key(ports: list[dict]) -> tuple:
    return tuple(sorted((p["name"], p["port"], p["protocol"],
                         p.get("appProtocol", "")) for p in ports))


def slice_labels(service: dict) -> dict:
    """setEndpointSliceLabels: the service's labels but the two reserved
    keys, then the service's name, this controller and headlessness."""
    meta = service["metadata"]
    labels = {key: value for key, value in (meta.get("labels") or {}).items()
              if key not in (SERVICE_NAME_LABEL, MANAGED_BY_LABEL)}
    if (service.get("spec") or {}).get("clusterIP") == "None":
        labels[HEADLESS_LABEL] = ""
    labels[SERVICE_NAME_LABEL] = meta["name"]
    labels[MANAGED_BY_LABEL] = MANAGED_BY
    return labels


def owner_reference(service: dict) -> dict:
    meta = service["metadata"]
    return {"apiVersion": "v1", "kind": "Service", "name": meta["name"],
            "uid": meta["uid"], "controller": True, "blockOwnerDeletion": True}


def _body(service: dict, address_type: str, ports: list, endpoints: list) -> dict:
    meta = service["metadata"]
    return {"apiVersion": API, "kind": "EndpointSlice",
            "metadata": {"generateName": f"{meta['name']}-",
                         "namespace": meta["namespace"],
                         "labels": slice_labels(service),
                         "ownerReferences": [owner_reference(service)]},
            "addressType": address_type, "endpoints": endpoints, "ports": ports}


def _take_matching(unused: list[dict], body: dict) -> dict | None:
    """The first unused slice of the same address type and ports, taken."""
    # TODO: kube packs endpoints into existing slices to touch as few as it
    # can (reconciler.go); here a group's slices are refilled in name order,
    # which may rewrite more slices than needed when a large group changes.
    key = _ports_key(body["ports"])
    for i, current in enumerate(unused):
        if (current.get("addressType") == body["addressType"]
                and _ports_key(_defaulted(current.get("ports"))) == key):
            return unused.pop(i)
    return None


def _defaulted(ports: list | None) -> list[dict]:
    return [{"name": "", "protocol": "TCP", **p} for p in ports or []]


def _differs(current: dict, body: dict) -> bool:
    meta, wanted = current["metadata"], body["metadata"]
    return ((current.get("endpoints") or []) != body["endpoints"]
            or (meta.get("labels") or {}) != wanted["labels"]
            or (meta.get("ownerReferences") or []) != wanted["ownerReferences"])


def _updated(current: dict, body: dict) -> dict:
    meta = {**current["metadata"], "labels": body["metadata"]["labels"],
            "ownerReferences": body["metadata"]["ownerReferences"]}
    return {**current, "apiVersion": API, "kind": "EndpointSlice",
            "metadata": meta, "endpoints": body["endpoints"],
            "ports": body["ports"]}


def target_port(service_port: dict, pod: dict) -> int | None:
    """kube's podutil.FindPort: a number as is, a name looked up among the
    pod's container ports of the same protocol."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = service_port.get("protocol", "TCP")
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == target and port.get("protocol", "TCP") == protocol:
                return port.get("containerPort")
    return None
