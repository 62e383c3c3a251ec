"""A pod's resource requests and host ports, as kube-scheduler computes them.

Quantities are read as integers: cpu in millicores (MilliValue), everything
else in units (Value), both rounded up as k8s.io/apimachinery rounds them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12,
            "P": 15, "E": 18}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}

# What a container without requests counts as when nodes are scored
# (pkg/scheduler/util: DefaultMilliCPURequest, DefaultMemoryRequest), so that
# BestEffort pods still spread out. Filters use the real requests.
DEFAULT_MILLI_CPU = 100
DEFAULT_MEMORY = 200 * 1024 * 1024


def parse_quantity(text: str | int | float) -> Decimal:
    """The value of a quantity; ValueError when it is not one."""
    if isinstance(text, (int, float)):
        return Decimal(str(text))
    match = _QUANTITY.match(text.strip())
    if not match:
        raise ValueError(f"not a quantity: {text!r}")
    number, suffix = _number(match[1]), match[2]
    if suffix in _BINARY:
        return number * 2 ** _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * Decimal(10) ** _DECIMAL[suffix]
    if suffix[:1] in "eE" and suffix[1:].lstrip("+-").isdigit():
        return number * Decimal(10) ** int(suffix[1:])
    raise ValueError(f"not a quantity: {text!r}")


def _number(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not a quantity: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a quantity: {text!r}")
    return value


def amount(resource: str, text: str | int | float) -> int:
    """cpu in millicores, any other resource in units, rounded up."""
    value = parse_quantity(text)
    if resource == "cpu":
        value *= 1000
    return math.ceil(value)


def _requests(container: dict) -> dict[str, int]:
    resources = container.get("resources") or {}
    # A limit without a request defaults the request (the API server does it
    # too; reading limits here covers objects written before defaulting).
    merged = {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
    out = {}
    for name, value in merged.items():
        try:
            out[name] = amount(name, value)
        except ValueError:
            continue
    return out


def _add(total: dict[str, int], more: dict[str, int]) -> None:
    for name, value in more.items():
        total[name] = total.get(name, 0) + value


def _max(total: dict[str, int], other: dict[str, int]) -> None:
    for name, value in other.items():
        if value > total.get(name, 0):
            total[name] = value


def effective_requests(spec: dict) -> dict[str, int]:
    """Sum of the containers, at least the largest init step, plus overhead.

    Restartable init containers (sidecars) keep running: they add to the sum
    and to every init step after them (resourcehelper.PodRequests).
    """
    total: dict[str, int] = {}
    for container in spec.get("containers") or []:
        _add(total, _requests(container))

    sidecars: dict[str, int] = {}
    init_peak: dict[str, int] = {}
    for container in spec.get("initContainers") or []:
        requests = _requests(container)
        if container.get("restartPolicy") == "Always":
            _add(sidecars, requests)
            _max(init_peak, sidecars)
            continue
        step = dict(sidecars)
        _add(step, requests)
        _max(init_peak, step)
    _add(total, sidecars)
    _max(total, init_peak)

    overhead = {}
    for name, value in (spec.get("overhead") or {}).items():
        overhead[name] = amount(name, value)
    _add(total, overhead)
    return {name: value for name, value in total.items() if value}


def nonzero_requests(spec: dict) -> tuple[int, int]:
    """cpu (milli) and memory for scoring: unset requests count as defaults."""
    cpu = memory = 0
    for container in spec.get("containers") or []:
        requests = _requests(container)
        cpu += requests.get("cpu") or DEFAULT_MILLI_CPU
        memory += requests.get("memory") or DEFAULT_MEMORY
    return cpu, memory


def host_ports(spec: dict) -> set[tuple[str, str, int]]:
    """(hostIP, protocol, hostPort) of every container port with a hostPort."""
    ports = set()
    containers = (spec.get("initContainers") or []) + (spec.get("containers") or [])
    for container in containers:
        for port in container.get("ports") or []:
            if port.get("hostPort"):
                ports.add((port.get("hostIP") or "0.0.0.0",
                           port.get("protocol") or "TCP", int(port["hostPort"])))
    return ports


def ports_conflict(wanted: set, used: set) -> bool:
    """A wildcard hostIP conflicts with every address on the same port."""
    for ip, protocol, port in wanted:
        for used_ip, used_protocol, used_port in used:
            if port != used_port or protocol != used_protocol:
                continue
            if ip == used_ip or "0.0.0.0" in (ip, used_ip):
                return True
    return False


def owner_uid(pod: dict) -> str:
    """The uid of the pod's controller, "" for a pod nothing owns."""
    for ref in pod.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("uid", "")
    return ""


@dataclass
class PodRequest:
    """What placing one pod takes from a node; computed once per pod."""

    requests: dict[str, int] = field(default_factory=dict)
    nonzero_cpu: int = 0
    nonzero_memory: int = 0
    ports: set = field(default_factory=set)
    owner: str = ""

    @classmethod
    def of(cls, pod: dict) -> "PodRequest":
        spec = pod.get("spec") or {}
        cpu, memory = nonzero_requests(spec)
        return cls(effective_requests(spec), cpu, memory, host_ports(spec),
                   owner_uid(pod))
