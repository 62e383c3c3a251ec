"""Filter plugins of kube-scheduler, in its order, with its reason strings.

Each node is checked until the first plugin that rejects it, as the
framework does; that plugin may give several reasons (NodeResourcesFit says
"Insufficient cpu" and "Insufficient memory" together). ``fit_error_message``
folds the reasons of every node into kube-scheduler's FitError text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from controllers.scheduling.cache import NodeInfo
from controllers.scheduling.resources import PodRequest, ports_conflict

UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"

REASON_UNSCHEDULABLE = "node(s) were unschedulable"
REASON_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
REASON_PORTS = "node(s) didn't have free ports for the requested pod ports"
REASON_TOO_MANY_PODS = "Too many pods"
NO_NODES = "no nodes available to schedule pods"


@dataclass
class PodInfo:
    """A pending pod with what the filters read, computed once."""

    pod: dict
    request: PodRequest
    tolerations: list[dict] = field(default_factory=list)
    node_selector: dict = field(default_factory=dict)
    terms: list[dict] | None = None  # required node affinity; None: none set

    @classmethod
    def of(cls, pod: dict) -> "PodInfo":
        spec = pod.get("spec") or {}
        required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution")
        terms = None if required is None else required.get("nodeSelectorTerms") or []
        return cls(pod, PodRequest.of(pod), spec.get("tolerations") or [],
                   spec.get("nodeSelector") or {}, terms)


# -- taints and tolerations ---------------------------------------------------

def tolerates(toleration: dict, taint: dict) -> bool:
    """v1.Toleration.ToleratesTaint."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    operator = toleration.get("operator") or "Equal"
    if key and key != taint.get("key"):
        return False
    if operator == "Exists":
        return True
    if operator != "Equal" or not key:
        return False
    return (toleration.get("value") or "") == (taint.get("value") or "")


def tolerated(tolerations: list[dict], taint: dict) -> bool:
    return any(tolerates(t, taint) for t in tolerations)


def untolerated_taint(tolerations: list[dict], taints: list[dict]) -> dict | None:
    """The first NoSchedule or NoExecute taint no toleration covers."""
    for taint in taints:
        if taint.get("effect") not in ("NoSchedule", "NoExecute"):
            continue
        if not tolerated(tolerations, taint):
            return taint
    return None


def taint_reason(taint: dict) -> str:
    return (f"node(s) had untolerated taint {{{taint.get('key', '')}: "
            f"{taint.get('value') or ''}}}")


# -- node selector and required node affinity --------------------------------

def expression_matches(expression: dict, labels: dict) -> bool:
    key, operator = expression.get("key", ""), expression.get("operator")
    values = expression.get("values") or []
    present = key in labels
    if operator == "In":
        return present and labels[key] in values
    if operator == "NotIn":
        return not present or labels[key] not in values
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    if operator in ("Gt", "Lt") and present and len(values) == 1:
        try:
            have, bound = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return have > bound if operator == "Gt" else have < bound
    return False


def term_matches(term: dict, labels: dict, node_name: str) -> bool:
    """Expressions and fields ANDed; a term with neither matches nothing."""
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False
    field_values = {"metadata.name": node_name}
    return all(expression_matches(e, labels) for e in expressions) and \
        all(expression_matches(f, field_values) for f in fields)


def affinity_matches(pod: PodInfo, node: NodeInfo) -> bool:
    labels = node.labels
    for key, value in pod.node_selector.items():
        if labels.get(key) != value:
            return False
    if pod.terms is None:
        return True
    return any(term_matches(term, labels, node.name) for term in pod.terms)


# -- the filters --------------------------------------------------------------

def node_unschedulable(pod: PodInfo, node: NodeInfo) -> list[str]:
    if node.unschedulable and not tolerated(
            pod.tolerations, {"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule"}):
        return [REASON_UNSCHEDULABLE]
    return []


def taint_toleration(pod: PodInfo, node: NodeInfo) -> list[str]:
    taints = node.taints
    # A node that is not Ready: the taint the node lifecycle controller puts
    # on it, even before it has done so.
    key = node.readiness_taint
    if key and not any(t.get("key") == key for t in taints):
        taints = [*taints, {"key": key, "effect": "NoSchedule"}]
    taint = untolerated_taint(pod.tolerations, taints)
    return [taint_reason(taint)] if taint is not None else []


def node_affinity(pod: PodInfo, node: NodeInfo) -> list[str]:
    return [] if affinity_matches(pod, node) else [REASON_AFFINITY]


def node_ports(pod: PodInfo, node: NodeInfo) -> list[str]:
    if pod.request.ports and ports_conflict(pod.request.ports, node.used_ports()):
        return [REASON_PORTS]
    return []


def resources_fit(pod: PodInfo, node: NodeInfo) -> list[str]:
    reasons = []
    if len(node.pods) + 1 > node.allocatable.get("pods", 0):
        reasons.append(REASON_TOO_MANY_PODS)
    for name in sorted(pod.request.requests, key=_resource_order):
        wanted = pod.request.requests[name]
        free = node.allocatable.get(name, 0) - node.requested.get(name, 0)
        if wanted > free:
            reasons.append(f"Insufficient {name}")
    return reasons


def _resource_order(name: str) -> tuple[int, str]:
    # fitsRequest checks cpu, memory and ephemeral-storage before the rest.
    known = ("cpu", "memory", "ephemeral-storage")
    return (known.index(name) if name in known else len(known), name)


FILTERS = (node_unschedulable, taint_toleration, node_affinity, node_ports,
           resources_fit)


def filter_node(pod: PodInfo, node: NodeInfo) -> list[str]:
    """Why ``node`` cannot take ``pod``; empty when it can."""
    for check in FILTERS:
        reasons = check(pod, node)
        if reasons:
            return reasons
    return []


def fit_error_message(node_count: int, reasons: dict[str, int]) -> str:
    """kube-scheduler's FitError: "0/3 nodes are available: 1 Insufficient cpu,
    2 node(s) didn't match Pod's node affinity/selector." """
    if node_count == 0:
        return NO_NODES
    parts = sorted(f"{count} {reason}" for reason, count in reasons.items())
    return f"0/{node_count} nodes are available: {', '.join(parts)}."
