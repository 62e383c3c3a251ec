"""What ``describe node`` shows besides the Node: its Lease, its non-terminated
pods with their requests and limits, and the total allocated against what the
node can allocate (kubectl's describeNodeResource and friends).
"""

from __future__ import annotations

from decimal import Decimal

from kctl.describe import Writer, rfc1123, since

_COLUMNS = ("cpu", "memory")
_ALWAYS = ("cpu", "memory", "ephemeral-storage")


def lease_block(w: Writer, lease: dict | None, error: str | None = None) -> None:
    if lease is None:
        if error:
            w.field(0, "Lease", f"Failed to get lease: {error}")
        return
    spec = lease.get("spec") or {}
    w.line(0, "Lease:")
    w.field(1, "HolderIdentity", spec.get("holderIdentity") or "<unset>")
    for label, key in (("AcquireTime", "acquireTime"), ("RenewTime", "renewTime")):
        w.field(1, label, rfc1123(spec[key]) if spec.get(key) else "<unset>")


def pods_block(w: Writer, node: dict, pods: list[dict] | None) -> None:
    if pods is None:
        return
    allocatable = (node.get("status") or {}).get("allocatable") or {}
    w.field(0, "Non-terminated Pods", f"({len(pods)} in total)")
    w.line(1, "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\t"
              "Memory Limits\tAge")
    w.line(1, "---------\t----\t\t------------\t----------\t---------------\t"
              "-------------\t---")
    totals = {"requests": {}, "limits": {}}
    for pod in pods:
        usage = pod_usage(pod)
        cells = []
        for resource in _COLUMNS:
            for which in ("requests", "limits"):
                amount = usage[which].get(resource)
                cells.append(_with_share(amount, allocatable.get(resource), resource))
        meta = pod.get("metadata") or {}
        w.line(1, "\t".join([meta.get("namespace", ""), meta.get("name", ""), ""]
                            + cells + [since(meta.get("creationTimestamp"))]))
        for which in totals:
            for resource, amount in usage[which].items():
                totals[which][resource] = _add(totals[which].get(resource), amount)
    _allocated(w, allocatable, totals)


def _allocated(w: Writer, allocatable: dict, totals: dict) -> None:
    w.line(0, "Allocated resources:")
    w.line(1, "(Total limits may be over 100 percent, i.e., overcommitted.)")
    w.line(1, "Resource\tRequests\tLimits")
    w.line(1, "--------\t--------\t------")
    extended = sorted(k for k in set(allocatable) | set(totals["requests"])
                      if k not in _ALWAYS and k != "pods" and
                      (k.startswith("hugepages-") or "/" in k))
    for resource in _ALWAYS + tuple(extended):
        w.line(1, "\t".join([resource] + [
            _with_share(totals[which].get(resource), allocatable.get(resource),
                        resource) for which in ("requests", "limits")]))


def pod_usage(pod: dict) -> dict:
    """Requests and limits: the containers' sum, at least each init
    container's, plus the pod's overhead (resourcehelper.PodRequestsAndLimits)."""
    spec = pod.get("spec") or {}
    usage = {}
    for which in ("requests", "limits"):
        total: dict = {}
        for container in spec.get("containers") or []:
            for resource, text in ((container.get("resources") or {}).get(which)
                                   or {}).items():
                total[resource] = _add(total.get(resource), text)
        for container in spec.get("initContainers") or []:
            for resource, text in ((container.get("resources") or {}).get(which)
                                   or {}).items():
                if _value(text) > _value(total.get(resource)):
                    total[resource] = text
        for resource, text in (spec.get("overhead") or {}).items():
            total[resource] = _add(total.get(resource), text)
        usage[which] = total
    return usage


def _value(text) -> Decimal:
    if text in (None, ""):
        return Decimal(0)
    from server.validation import parse_quantity

    return parse_quantity(text)


def _add(a, b) -> str:
    """The sum of two quantities, printed as kubectl prints a Quantity."""
    if a in (None, ""):
        return str(b)
    from server.quantity import canonical_quantity

    total = _value(a) + _value(b)
    # A sum keeps the format of its first term: binary if it had an "i".
    suffix = "Ki" if "i" in str(a) and total % 1024 == 0 and total else ""
    text = str(total / 1024 if suffix else total).rstrip("0").rstrip(".") \
        if "." in str(total) else str(int(total / 1024) if suffix else total)
    return canonical_quantity(text + suffix)


def _with_share(amount, allocatable, resource: str) -> str:
    value = _value(amount)
    whole = _value(allocatable)
    share = int(value / whole * 100) if whole else 0
    return f"{amount if amount not in (None, '') else 0} ({share}%)"
