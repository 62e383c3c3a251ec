"""Endpoints: the addresses behind a service, as Endpoints objects list them."""

from __future__ import annotations

import ipaddress

from server.errors import FieldError
from server.registry.base import Column, Kind, age_column, name_column
from server.registry.podspec import as_dict, as_list
from server.validation import (
    name_is_dns_subdomain,
    validate_object_meta,
    validate_object_meta_update,
    validate_port_number,
)

INVALID_IP = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"


def is_ip(text: object) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


_SUBSETS_DOC = (
    "The set of all endpoints is the union of all subsets. Addresses are placed "
    "into subsets according to the IPs they share. A single address with "
    "multiple ports, some of which are ready and some of which are not (because "
    "they come from different containers) will result in the address being "
    "displayed in different subsets for the different ports. No address will "
    "appear in both Addresses and NotReadyAddresses in the same subset. Sets of "
    "addresses and ports that comprise a service."
)


class EndpointsKind(Kind):
    kind = "Endpoints"
    resource = "endpoints"
    singular = "endpoints"
    short_names = ("ep",)
    allow_create_on_update = True

    def prepare_create(self, obj: dict) -> None:
        _default_endpoint_ports(obj)

    def prepare_update(self, obj: dict, old: dict) -> None:
        _default_endpoint_ports(obj)

    def validate(self, obj: dict) -> list[FieldError]:
        errs = validate_object_meta(obj, namespaced=True,
                                    name_validator=name_is_dns_subdomain)
        return errs + _validate_subsets(obj)

    def validate_update(self, obj: dict, old: dict) -> list[FieldError]:
        return validate_object_meta_update(obj, old) + _validate_subsets(obj)

    def columns(self) -> list[Column]:
        return [name_column(),
                Column("Endpoints", format_endpoints, description=_SUBSETS_DOC),
                age_column()]


def _default_endpoint_ports(obj: dict) -> None:
    for subset in as_list(obj.get("subsets")):
        for port in as_list(as_dict(subset).get("ports")):
            if isinstance(port, dict) and not port.get("protocol"):
                port["protocol"] = "TCP"


def _validate_subsets(obj: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, subset in enumerate(as_list(obj.get("subsets"))):
        subset = as_dict(subset)
        for key in ("addresses", "notReadyAddresses"):
            for j, address in enumerate(as_list(subset.get(key))):
                ip = as_dict(address).get("ip", "")
                if not is_ip(ip):
                    errs.append(FieldError("Invalid value",
                                           f"subsets[{i}].{key}[{j}].ip", ip,
                                           INVALID_IP))
        for j, port in enumerate(as_list(subset.get("ports"))):
            errs += validate_port_number(as_dict(port).get("port", 0),
                                         f"subsets[{i}].ports[{j}].port")
    return errs


def format_endpoints(obj: dict) -> str:
    """formatEndpoints: up to three "ip:port", then " + N more..."."""
    subsets = as_list(obj.get("subsets"))
    if not subsets:
        return "<none>"
    shown, count = [], 0
    for subset in subsets:
        subset = as_dict(subset)
        addresses = [as_dict(a).get("ip", "") for a in as_list(subset.get("addresses"))]
        ports = as_list(subset.get("ports")) or [None]
        for port in ports:
            count += len(addresses)
            for ip in addresses:
                if len(shown) < 3:
                    shown.append(_host_port(ip, port))
    text = ",".join(shown)
    return f"{text} + {count - 3} more..." if count > 3 else text


def _host_port(ip: str, port: object) -> str:
    if port is None:
        return ip
    number = as_dict(port).get("port")
    return f"[{ip}]:{number}" if ":" in ip else f"{ip}:{number}"
