"""EndpointSlices of discovery.k8s.io/v1: a service's endpoints, in slices.

The rules are kube's pkg/apis/discovery/validation and the defaults those of
pkg/apis/discovery/v1/defaults.go; the columns are kubectl's printer's.
"""

from __future__ import annotations

import ipaddress

from server.errors import FieldError
from server.registry.base import Column, Kind, age_column, name_column
from server.registry.podspec import as_dict, as_list
from server.schema.discovery import ADDRESS_TYPES
from server.validation import (
    PROTOCOLS,
    invalid,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_qualified_name,
    is_valid_label_value,
    name_is_dns_subdomain,
    not_supported,
    required,
    validate_immutable,
    validate_object_meta,
    validate_object_meta_update,
)

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"

MAX_ENDPOINTS = 1000
MAX_ADDRESSES = 100
MAX_PORTS = 20000
MAX_ZONE_HINTS = 8

_ADDRESS_TYPE_DOC = (
    "addressType specifies the type of address carried by this EndpointSlice. "
    "All addresses in this slice must be the same type. This field is "
    "immutable after creation. The following address types are currently "
    "supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 "
    "Address. * FQDN: Represents a Fully Qualified Domain Name."
)
_PORTS_DOC = (
    "ports specifies the list of network ports exposed by each endpoint in "
    "this slice. Each port must have a unique name. When ports is empty, it "
    "indicates that there are no defined ports. When a port is defined with a "
    "nil port value, it indicates \"all ports\". Each slice may include a "
    "maximum of 100 ports."
)
_ENDPOINTS_DOC = (
    "endpoints is a list of unique endpoints in this slice. Each slice may "
    "include a maximum of 1000 endpoints."
)


class EndpointSliceKind(Kind):
    group = "discovery.k8s.io"
    version = "v1"
    kind = "EndpointSlice"
    resource = "endpointslices"
    singular = "endpointslice"
    has_generation = True

    def prepare_create(self, obj: dict) -> None:
        _default_ports(obj)
        _drop_deprecated_topology(obj)

    def prepare_update(self, obj: dict, old: dict) -> None:
        _default_ports(obj)
        # kube's dropTopologyOnV1 leaves unchanged endpoints as they were.
        if obj.get("endpoints") != old.get("endpoints"):
            _drop_deprecated_topology(obj)

    def validate(self, obj: dict) -> list[FieldError]:
        errs = validate_object_meta(obj, namespaced=True,
                                    name_validator=name_is_dns_subdomain)
        return errs + validate_endpoint_slice(obj)

    def validate_update(self, obj: dict, old: dict) -> list[FieldError]:
        errs = validate_object_meta_update(obj, old)
        # Endpoints as they were are not checked again, as kube does: they may
        # have passed an older, looser check.
        errs += validate_endpoint_slice(
            obj, endpoints=obj.get("endpoints") != old.get("endpoints"))
        return errs + validate_immutable(obj.get("addressType"),
                                         old.get("addressType"), "addressType")

    def columns(self) -> list[Column]:
        return [
            name_column(),
            Column("AddressType", lambda o: o.get("addressType", ""),
                   description=_ADDRESS_TYPE_DOC),
            Column("Ports", lambda o: format_ports(as_list(o.get("ports"))),
                   description=_PORTS_DOC),
            Column("Endpoints",
                   lambda o: format_endpoints(as_list(o.get("endpoints"))),
                   description=_ENDPOINTS_DOC),
            age_column(),
        ]


def _default_ports(obj: dict) -> None:
    for port in as_list(obj.get("ports")):
        if isinstance(port, dict):
            port.setdefault("name", "")
            port.setdefault("protocol", "TCP")


def _drop_deprecated_topology(obj: dict) -> None:
    # The v1 API ignores writes to deprecatedTopology, as documented; we serve
    # no v1beta1 that could set it.
    for endpoint in as_list(obj.get("endpoints")):
        if isinstance(endpoint, dict):
            endpoint.pop("deprecatedTopology", None)


# Validation.

def validate_endpoint_slice(obj: dict, endpoints: bool = True) -> list[FieldError]:
    address_type = obj.get("addressType") or ""
    errs = _validate_address_type(address_type)
    errs += _validate_ports(as_list(obj.get("ports")))
    if endpoints:
        errs += _validate_endpoints(as_list(obj.get("endpoints")), address_type)
    return errs


def _validate_address_type(address_type: str) -> list[FieldError]:
    if not address_type:
        return [required("addressType")]
    if address_type not in ADDRESS_TYPES:
        return [not_supported("addressType", address_type, ADDRESS_TYPES)]
    return []


def _validate_endpoints(endpoints: list, address_type: str) -> list[FieldError]:
    if len(endpoints) > MAX_ENDPOINTS:
        return [too_many("endpoints", len(endpoints), MAX_ENDPOINTS)]
    errs: list[FieldError] = []
    for i, endpoint in enumerate(endpoints):
        errs += _validate_endpoint(as_dict(endpoint), address_type,
                                   f"endpoints[{i}]")
    return errs


def _validate_endpoint(endpoint: dict, address_type: str,
                       path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    addresses = as_list(endpoint.get("addresses"))
    if not addresses:
        errs.append(required(f"{path}.addresses", "must contain at least 1 address"))
    elif len(addresses) > MAX_ADDRESSES:
        errs.append(too_many(f"{path}.addresses", len(addresses), MAX_ADDRESSES))
    for j, address in enumerate(addresses):
        errs += validate_address(str(address), address_type,
                                 f"{path}.addresses[{j}]")
    node_name = endpoint.get("nodeName")
    if node_name is not None:
        errs += invalid(f"{path}.nodeName", node_name,
                        name_is_dns_subdomain(node_name))
    hostname = endpoint.get("hostname")
    if hostname is not None:
        errs += invalid(f"{path}.hostname", hostname, is_dns1123_label(hostname))
    if endpoint.get("hints") is not None:
        errs += _validate_hints(as_dict(endpoint["hints"]), f"{path}.hints")
    return errs


def validate_address(address: str, address_type: str,
                     path: str) -> list[FieldError]:
    """One address, checked as its slice's type says; an unknown type is
    already an error of the slice, and its addresses go unchecked."""
    if address_type == "FQDN":
        return _validate_fqdn(address, path)
    if address_type not in ("IPv4", "IPv6"):
        return []
    errs = []
    if _ip_version(address) != int(address_type[-1]):
        errs.append(FieldError("Invalid value", path, address,
                               f"must be a valid {address_type} address"))
    return errs + _validate_non_special_ip(address, path)


def _ip_version(text: str) -> int:
    """4 or 6 as Go's net.ParseIP reads ``text`` (an IPv4-mapped IPv6
    address is IPv4), 0 when it is no IP."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return 0
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return 4
    return ip.version


def _validate_non_special_ip(address: str, path: str) -> list[FieldError]:
    """ValidateNonSpecialIP, but for loopback: kube refuses loopback
    endpoints, whereas kctl's pods share the host's network and a server on
    127.0.0.1 advertises that address, so loopback is what endpoints hold."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return [FieldError("Invalid value", path, address,
                           "must be a valid IP address")]
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    errs = []
    if ip.is_unspecified:
        errs.append(f"may not be unspecified ({address})")
    if ip.is_link_local:
        errs.append("may not be in the link-local range (169.254.0.0/16, fe80::/10)")
    if _is_link_local_multicast(ip):
        errs.append("may not be in the link-local multicast range "
                    "(224.0.0.0/24, ff02::/10)")
    return invalid(path, address, errs)


def _is_link_local_multicast(ip) -> bool:
    if ip.version == 4:
        return ip in ipaddress.ip_network("224.0.0.0/24")
    packed = ip.packed
    return packed[0] == 0xFF and packed[1] & 0x0F == 0x02


def _validate_fqdn(name: str, path: str) -> list[FieldError]:
    """IsFullyQualifiedDomainName: a subdomain of two labels or more, a
    trailing dot allowed."""
    if not name:
        return [required(path)]
    name = name.removesuffix(".")
    messages = is_dns1123_subdomain(name)
    if messages:
        return [FieldError("Invalid value", path, name, ",".join(messages))]
    labels = name.split(".")
    if len(labels) < 2:
        return [FieldError("Invalid value", path, name,
                           "should be a domain with at least two segments "
                           "separated by dots")]
    for label in labels:
        messages = is_dns1123_label(label)
        if messages:
            return [FieldError("Invalid value", path, label, ",".join(messages))]
    return []


def _validate_hints(hints: dict, path: str) -> list[FieldError]:
    zones = as_list(hints.get("forZones"))
    if len(zones) > MAX_ZONE_HINTS:
        return [too_many(f"{path}.forZones", len(zones), MAX_ZONE_HINTS)]
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, zone in enumerate(zones):
        name = as_dict(zone).get("name", "")
        at = f"{path}.forZones[{i}].name"
        if name in seen:
            errs.append(FieldError("Duplicate value", at, name))
        seen.add(name)
        errs += invalid(at, name, is_valid_label_value(name))
    return errs


def _validate_ports(ports: list) -> list[FieldError]:
    if len(ports) > MAX_PORTS:
        return [too_many("ports", len(ports), MAX_PORTS)]
    errs: list[FieldError] = []
    names: set[str] = set()
    for i, port in enumerate(ports):
        port, path = as_dict(port), f"ports[{i}]"
        name = port.get("name") or ""
        if name:
            errs += invalid(f"{path}.name", name, is_dns1123_label(name))
        if name in names:
            errs.append(FieldError("Duplicate value", f"{path}.name", name))
        names.add(name)
        protocol = port.get("protocol")
        if protocol is None:
            errs.append(required(f"{path}.protocol"))
        elif protocol not in PROTOCOLS:
            errs.append(not_supported(f"{path}.protocol", protocol, PROTOCOLS))
        if port.get("appProtocol") is not None:
            errs += invalid(f"{path}.appProtocol", port["appProtocol"],
                            is_qualified_name(port["appProtocol"]))
    return errs


def too_many(path: str, count: int, limit: int) -> FieldError:
    """field.TooMany."""
    noun = "item" if limit == 1 else "items"
    return FieldError("Too many", path, count, f"must have at most {limit} {noun}")


# Printing, as kubectl's formatDiscoveryPorts and formatDiscoveryEndpoints.

def format_ports(ports: list) -> str:
    shown = []
    for port in ports[:3]:
        port = as_dict(port)
        if port.get("port") is not None:
            shown.append(str(port["port"]))
        elif port.get("name") is not None:
            shown.append(port["name"])
        else:
            shown.append("*")
    return _list_with_more(shown, len(ports))


def format_endpoints(endpoints: list) -> str:
    addresses = [str(address) for endpoint in endpoints
                 for address in as_list(as_dict(endpoint).get("addresses"))]
    return _list_with_more(addresses[:3], len(addresses))


def _list_with_more(shown: list[str], count: int) -> str:
    text = ",".join(shown)
    if count > len(shown):
        return f"{text} + {count - len(shown)} more..."
    return text or "<unset>"
