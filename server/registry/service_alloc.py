"""What a Service takes from the cluster's pools: its clusterIPs and nodePorts.

As the allocators of kube-apiserver's service storage
(pkg/registry/core/service/storage/alloc.go): a create takes what the new
service needs; an update takes what it newly needs at once and gives back
what it no longer holds only once the update is stored, so that a failed
update leaves the old service with everything it had.
"""

from __future__ import annotations

from typing import Callable

from server.errors import FieldError, InternalError, Invalid
from server.registry.clusterip import ClusterIPAllocator
from server.registry.nodeport import NodePortAllocator
from server.registry.podspec import as_dict, as_list
from server.validation import GoStrings

# (namespace, name) of the service kube-apiserver keeps for itself; only it
# may have the first IP of the range.
KUBERNETES_SERVICE = ("default", "kubernetes")


def needs_cluster_ip(spec: dict) -> bool:
    return spec.get("type", "ClusterIP") != "ExternalName"


def needs_node_port(spec: dict) -> bool:
    return spec.get("type") in ("NodePort", "LoadBalancer")


def held_ips(spec: dict) -> set[str]:
    if not needs_cluster_ip(spec):
        return set()
    return {ip for ip in as_list(spec.get("clusterIPs"))
            if isinstance(ip, str) and ip and ip != "None"}


def held_ports(spec: dict) -> set[int]:
    """Every nodePort set, whatever the type, as collectServiceNodePorts."""
    return {port["nodePort"] for port in _ports(spec)
            if isinstance(port.get("nodePort"), int) and port["nodePort"]}


def _ports(spec: dict) -> list[dict]:
    return [p for p in as_list(spec.get("ports")) if isinstance(p, dict)]


def _should_allocate_node_ports(spec: dict) -> bool:
    if spec.get("type") == "NodePort":
        return True
    return spec.get("type") == "LoadBalancer" and \
        spec.get("allocateLoadBalancerNodePorts") is not False


class ServiceAllocations:
    def __init__(self, cluster_ip_range: str, node_port_range: str):
        self.ips = ClusterIPAllocator(cluster_ip_range)
        self.ports = NodePortAllocator(node_port_range)

    def allocate_create(self, obj: dict) -> None:
        """Fill in the clusterIP and nodePorts of a new service, or raise
        having taken nothing."""
        spec = obj["spec"]
        taken_ips: list[str] = []
        taken_ports: list[int] = []
        try:
            self._allocate_cluster_ip(obj, spec, taken_ips)
            if needs_node_port(spec):
                self._init_node_ports(obj, spec, taken_ports)
        except BaseException:
            self._give_back(taken_ips, taken_ports)
            raise

    def begin_update(self, obj: dict, old: dict) -> Callable[[bool], None]:
        """Take what the updated service newly needs; the function returned
        is told whether the update was stored."""
        spec, old_spec = obj["spec"], as_dict(old.get("spec"))
        taken_ips: list[str] = []
        taken_ports: list[int] = []
        try:
            # From ExternalName to a type with a clusterIP: allocate anew.
            if needs_cluster_ip(spec) and not needs_cluster_ip(old_spec):
                self._allocate_cluster_ip(obj, spec, taken_ips)
            if needs_node_port(spec):
                self._update_node_ports(obj, spec, old_spec, taken_ports)
        except BaseException:
            self._give_back(taken_ips, taken_ports)
            raise

        def finish(stored: bool) -> None:
            if stored:
                self._give_back(held_ips(old_spec) - held_ips(spec),
                                held_ports(old_spec) - held_ports(spec))
            else:
                self._give_back(taken_ips, taken_ports)

        return finish

    def restore(self, obj: dict) -> None:
        """Take back what a service already stored holds (at start)."""
        spec = as_dict(obj.get("spec"))
        for ip in held_ips(spec):
            try:
                self.ips.restore(ip)
            except ValueError:
                # Out of a changed range, or a duplicate: leave it be, as
                # kube-apiserver's repair loops only report these.
                pass
        for port in held_ports(spec):
            try:
                self.ports.reserve(port)
            except ValueError:
                pass

    def release(self, obj: dict) -> None:
        spec = as_dict(obj.get("spec"))
        self._give_back(held_ips(spec), held_ports(spec))

    def _give_back(self, ips, ports) -> None:
        for ip in ips:
            self.ips.release(ip)
        for port in ports:
            self.ports.release(port)

    # clusterIPs.

    def _allocate_cluster_ip(self, obj: dict, spec: dict, taken: list) -> None:
        if not needs_cluster_ip(spec) or spec.get("clusterIP") == "None":
            return
        wanted = spec.get("clusterIP")
        if not wanted:
            try:
                ip = self.ips.allocate()
            except ValueError as err:
                raise InternalError(
                    f"Internal error occurred: failed to allocate a serviceIP: {err}"
                ) from None
        else:
            try:
                self.ips.reserve(wanted, _is_kubernetes_service(obj))
            except ValueError as err:
                raise Invalid("Service", _name(obj), [FieldError(
                    "Invalid value", "spec.clusterIPs",
                    GoStrings(spec.get("clusterIPs") or []),
                    f"failed to allocate IP {wanted}: {err}")]) from None
            ip = wanted
        taken.append(ip)
        spec["clusterIP"] = ip
        spec["clusterIPs"] = [ip]

    # nodePorts.

    def _init_node_ports(self, obj: dict, spec: dict, taken: list) -> None:
        """initNodePorts: ports of the same number share one nodePort."""
        ports = _ports(spec)
        by_number: dict[object, int] = {}
        for i, port in enumerate(ports):
            if not port.get("nodePort") and not _should_allocate_node_ports(spec):
                continue  # no new ports, but a requested one is honoured
            allocated = by_number.get(port.get("port"))
            if not allocated:
                requested = _requested_node_port(port.get("port"), ports)
                if requested:
                    self._reserve(obj, i, requested, taken)
                    port["nodePort"] = requested
                else:
                    port["nodePort"] = self._next_port(taken)
                by_number[port.get("port")] = port["nodePort"]
            elif port.get("nodePort") != allocated:
                if not port.get("nodePort"):
                    port["nodePort"] = allocated
                else:
                    self._reserve(obj, i, port["nodePort"], taken)

    def _update_node_ports(self, obj: dict, spec: dict, old: dict,
                           taken: list) -> None:
        """updateNodePorts: what the old service had it keeps; the rest is
        taken now, and what it drops is given back once stored."""
        kept = held_ports(old)
        seen: list[tuple] = []
        for i, port in enumerate(_ports(spec)):
            number = port.get("nodePort")
            if not number and not _should_allocate_node_ports(spec):
                continue
            if not number:
                number = port["nodePort"] = self._next_port(taken)
            elif number not in kept and number not in taken:
                self._reserve(obj, i, number, taken)
            pair = (port.get("protocol"), number)
            if pair in seen:
                raise InternalError(f"Internal error occurred: duplicate nodePort: "
                                    f"{{{pair[0]} {number}}}")
            seen.append(pair)

    def _reserve(self, obj: dict, index: int, number: int, taken: list) -> None:
        try:
            self.ports.reserve(number)
        except ValueError as err:
            raise Invalid("Service", _name(obj), [FieldError(
                "Invalid value", f"spec.ports[{index}].nodePort", number,
                str(err))]) from None
        taken.append(number)

    def _next_port(self, taken: list) -> int:
        try:
            number = self.ports.allocate()
        except ValueError as err:
            raise InternalError(
                f"Internal error occurred: failed to allocate a nodePort: {err}"
            ) from None
        taken.append(number)
        return number


def _requested_node_port(number: object, ports: list[dict]) -> int:
    for port in ports:
        if port.get("port") == number and port.get("nodePort"):
            return port["nodePort"]
    return 0


def _name(obj: dict) -> str:
    return obj.get("metadata", {}).get("name", "")


def _is_kubernetes_service(obj: dict) -> bool:
    meta = obj.get("metadata", {})
    return (meta.get("namespace"), meta.get("name")) == KUBERNETES_SERVICE
