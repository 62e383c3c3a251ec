"""The pods of a ReplicationController or ReplicaSet: which count, which are
ready and available, which go first on scale down, and the status they add
up to (kube's controller_utils.go and replica_set_utils.go)."""

from __future__ import annotations

import calendar
import math
import time

from controllers.client import APIError

# Why the last sync could not reach spec.replicas: (reason, the API's error).
Failure = tuple[str, APIError]


def controller_ref(obj: dict) -> dict | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def is_active(pod: dict) -> bool:
    """Counted as a replica: not terminating, neither Succeeded nor Failed."""
    phase = (pod.get("status") or {}).get("phase")
    return (phase not in ("Succeeded", "Failed")
            and not pod["metadata"].get("deletionTimestamp"))


def ready_condition(pod: dict) -> dict | None:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition
    return None


def is_ready(pod: dict) -> bool:
    condition = ready_condition(pod)
    return condition is not None and condition.get("status") == "True"


def is_available(pod: dict, min_ready: float, now: float) -> bool:
    if not is_ready(pod):
        return False
    if not min_ready:
        return True
    since = _seconds(ready_condition(pod).get("lastTransitionTime"))
    return since is not None and since + min_ready <= now


def pods_to_delete(pods: list[dict], count: int) -> list[dict]:
    """The ``count`` pods to delete first, ranked as kube's ActivePodsWithRanks:
    unscheduled, then pending, not ready, on nodes crowded with replicas,
    ready for less time, restarted more, created later."""
    per_node: dict[str, int] = {}
    for pod in pods:
        node = (pod.get("spec") or {}).get("nodeName", "")
        per_node[node] = per_node.get(node, 0) + 1
    now = time.time()
    return sorted(pods, key=lambda p: _deletion_rank(p, per_node, now))[:count]


_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def _deletion_rank(pod: dict, per_node: dict[str, int], now: float) -> tuple:
    node = (pod.get("spec") or {}).get("nodeName", "")
    status = pod.get("status") or {}
    ready = is_ready(pod)
    ready_since = _seconds((ready_condition(pod) or {}).get("lastTransitionTime"))
    restarts = sum(c.get("restartCount", 0)
                   for c in status.get("containerStatuses") or [])
    created = _seconds(pod["metadata"].get("creationTimestamp")) or now
    # Ready and creation times compare in log2 buckets of their age, as with
    # kube's LogarithmicScaleDown, so pods of about the same age tie there.
    return (bool(node), _PHASE_RANK.get(status.get("phase"), 0), ready,
            -per_node[node] if node else 0,
            _log_age(now - ready_since) if ready and ready_since else 0,
            -restarts, _log_age(now - created))


def _log_age(seconds: float) -> int:
    return int(math.log2(seconds)) if seconds >= 1 else 0


def calculate_status(owner: dict, owned: list[dict],
                     failure: Failure | None) -> dict:
    """The status kube's calculateStatus gives; ``failure`` sets ReplicaFailure."""
    template_labels = ((owner.get("spec") or {}).get("template") or {}).get(
        "metadata", {}).get("labels") or {}
    min_ready = (owner.get("spec") or {}).get("minReadySeconds") or 0
    now = time.time()
    status = {
        "replicas": len(owned),
        "fullyLabeledReplicas": sum(
            1 for p in owned
            if template_labels.items() <= (p["metadata"].get("labels") or {}).items()),
        "readyReplicas": sum(1 for p in owned if is_ready(p)),
        "availableReplicas": sum(1 for p in owned if is_available(p, min_ready, now)),
        "observedGeneration": owner["metadata"].get("generation", 0),
        "conditions": _conditions(owner, failure),
    }
    return status


def _conditions(owner: dict, failure: Failure | None) -> list[dict]:
    conditions = (owner.get("status") or {}).get("conditions") or []
    others = [c for c in conditions if c.get("type") != "ReplicaFailure"]
    if failure is None:
        return others
    reason, error = failure
    previous = next((c for c in conditions if c.get("type") == "ReplicaFailure"),
                    None)
    stamp = (previous or {}).get("lastTransitionTime") or time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return [*others, {"type": "ReplicaFailure", "status": "True", "reason": reason,
                      "message": error.message, "lastTransitionTime": stamp}]


def _same_conditions(a: list | None, b: list | None) -> bool:
    strip = [{k: v for k, v in c.items() if k != "lastTransitionTime"}
             for c in a or []]
    return strip == [{k: v for k, v in c.items() if k != "lastTransitionTime"}
                     for c in b or []]


def _seconds(stamp: str | None) -> float | None:
    if not stamp:
        return None
    try:
        return calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return None
