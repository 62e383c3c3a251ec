"""What the server keeps in every cluster from its first start, as
kube-apiserver's bootstrap controllers do: the system namespaces, and the
``kubernetes`` Service in ``default`` with its Endpoints and EndpointSlice
naming this server.
https://kubernetes.io/docs/tasks/run-application/access-api-from-pod/
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket

from server.errors import APIError
from server.registry.services import KUBERNETES_SERVICE
from server.resources import SYSTEM_NAMESPACES, Resources

log = logging.getLogger(__name__)

# How often the kubernetes service is checked, as kube-apiserver's
# bootstrap controller does (its EndpointInterval).
INTERVAL = 10.0
# The port the kubernetes service serves, whatever port the server listens on.
PUBLIC_PORT = 443
LABELS = {"component": "apiserver", "provider": "kubernetes"}
# Endpoints the API server writes are not mirrored to EndpointSlices: it
# writes its slice itself, with only the service-name label (kube's
# reconcilers.EndpointsAdapter), no managed-by and no owner.
SKIP_MIRROR = {"endpointslice.kubernetes.io/skip-mirror": "true"}
SLICE_LABELS = {"kubernetes.io/service-name": "kubernetes"}


async def ensure_system_namespaces(resources: Resources) -> None:
    kind = resources.namespaces
    for name in SYSTEM_NAMESPACES:
        if not _exists(resources, kind, "", name):
            obj = {"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": name}}
            await resources.create(kind, "", obj)


async def ensure_kubernetes_service(resources: Resources, address: str,
                                    port: int) -> None:
    """Create the Service, Endpoints and EndpointSlice, or bring their port
    and address up to date (a restart may listen elsewhere). A failure is
    logged, not raised: kube-apiserver serves without them too and says so."""
    try:
        await _ensure_service(resources, port)
        ip = advertise_ip(address)
        await _ensure_endpoints(resources, ip, port)
        await _ensure_endpoint_slice(resources, ip, port)
    except APIError as error:
        log.error("cannot keep the kubernetes service: %s", error.message)


async def keep_kubernetes_service(resources: Resources, address: str, port: int,
                                  interval: float = INTERVAL) -> None:
    """Make the Service, Endpoints and EndpointSlice again whenever they go
    missing."""
    while True:
        await asyncio.sleep(interval)
        await ensure_kubernetes_service(resources, address, port)


async def _ensure_service(resources: Resources, port: int) -> None:
    kind = resources.registry.get("", "v1", "services")
    namespace, name = KUBERNETES_SERVICE
    ports = [{"name": "https", "protocol": "TCP", "port": PUBLIC_PORT,
              "targetPort": port}]
    if not _exists(resources, kind, namespace, name):
        obj = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": name, "labels": LABELS},
               "spec": {"type": "ClusterIP", "ports": ports,
                        "clusterIP": kind.allocator.api_server_ip,
                        "sessionAffinity": "None"}}
        await resources.create(kind, namespace, obj)
        return
    current = resources.entry(kind, namespace, name).object()
    if current["spec"].get("ports") != ports:
        current["spec"]["ports"] = ports
        await resources.update(kind, namespace, name, current)


async def _ensure_endpoints(resources: Resources, ip: str, port: int) -> None:
    kind = resources.registry.get("", "v1", "endpoints")
    namespace, name = KUBERNETES_SERVICE
    subsets = [{"addresses": [{"ip": ip}],
                "ports": [{"name": "https", "port": port, "protocol": "TCP"}]}]
    if not _exists(resources, kind, namespace, name):
        obj = {"apiVersion": "v1", "kind": "Endpoints",
               "metadata": {"name": name, "labels": SKIP_MIRROR},
               "subsets": subsets}
        await resources.create(kind, namespace, obj)
        return
    current = resources.entry(kind, namespace, name).object()
    if current.get("subsets") != subsets:
        current["subsets"] = subsets
        await resources.update(kind, namespace, name, current)


async def _ensure_endpoint_slice(resources: Resources, ip: str, port: int) -> None:
    kind = resources.registry.get("discovery.k8s.io", "v1", "endpointslices")
    namespace, name = KUBERNETES_SERVICE
    # kube picks the type by the service IP's family; ours is IPv4 whatever
    # the server listens on, so the address decides, and an IPv6 one stays
    # valid.
    wanted = {
        "metadata": {"labels": SLICE_LABELS},
        "addressType": "IPv6" if ":" in ip else "IPv4",
        "endpoints": [{"addresses": [ip], "conditions": {"ready": True}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
    }
    if not _exists(resources, kind, namespace, name):
        obj = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
               **wanted, "metadata": {"name": name, "labels": SLICE_LABELS}}
        await resources.create(kind, namespace, obj)
        return
    current = resources.entry(kind, namespace, name).object()
    if current.get("addressType") != wanted["addressType"]:
        # The type is immutable: a slice of the other family goes.
        await resources.delete(kind, namespace, name, {})
        await _ensure_endpoint_slice(resources, ip, port)
        return
    if any(current.get(key) != wanted[key] for key in ("endpoints", "ports")) or (
            current["metadata"].get("labels") != SLICE_LABELS):
        current.update(endpoints=wanted["endpoints"], ports=wanted["ports"])
        current["metadata"]["labels"] = SLICE_LABELS
        await resources.update(kind, namespace, name, current)


def _exists(resources: Resources, kind, namespace: str, name: str) -> bool:
    try:
        resources.entry(kind, namespace, name)
    except APIError:
        return False
    return True


def advertise_ip(address: str) -> str:
    """The IP clients reach this server at, given the address it listens on.

    An unspecified address (0.0.0.0, ::) is the host's default interface,
    as kube-apiserver picks its --advertise-address; a name is resolved.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        # The server listens on IPv4 for a name (serve._bind): resolve it so.
        return socket.getaddrinfo(address, None, socket.AF_INET)[0][4][0]
    if not ip.is_unspecified:
        return str(ip)
    return _default_interface_ip(ip.version)


def _default_interface_ip(version: int) -> str:
    family, probe, loopback = ((socket.AF_INET, "192.0.2.1", "127.0.0.1")
                               if version == 4 else
                               (socket.AF_INET6, "2001:db8::1", "::1"))
    # Connecting a UDP socket sends nothing; it only picks the route.
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect((probe, 9))
            return sock.getsockname()[0]
        except OSError:
            return loopback
