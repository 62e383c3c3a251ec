"""The cells of a pod's table row, computed as kube-apiserver's printPod does.

READY counts ready app containers (and started sidecars) against app
containers plus sidecars; STATUS is the phase or the most telling container
reason ("Init:0/1", "CrashLoopBackOff", "Completed", "Terminating");
RESTARTS is "N" or "N (5m ago)".
"""

from __future__ import annotations

from datetime import datetime, timezone

from server.registry.base import Timed
from server.registry.podspec import as_dict, as_list
from server.registry.printing import parse_time, since

# node.NodeUnreachablePodReason: the node controller's reason for a lost pod.
NODE_UNREACHABLE_REASON = "NodeLost"


def _is_sidecar(container: object) -> bool:
    # A restartable init container: restartPolicy Always.
    return as_dict(container).get("restartPolicy") == "Always"


def _has_condition(status: dict, kind: str) -> bool:
    return any(as_dict(c).get("type") == kind and c.get("status") == "True"
               for c in as_list(status.get("conditions")))


def pod_ready(pod: dict) -> str:
    summary = _summary(pod)
    return f"{summary['ready']}/{summary['total']}"


def pod_status_reason(pod: dict) -> str:
    return _summary(pod)["reason"]


def pod_restarts(pod: dict, now: datetime | None = None) -> str | Timed:
    """The count, with the age of the last restart when there was one: a
    Timed cell, whose age the table writes at request time (or, given
    ``now``, the text at that time)."""
    summary = _summary(pod)
    restarts, last = summary["restarts"], summary["last_restart"]
    if restarts and last is not None:
        cell = Timed(f"{restarts} (", last.isoformat(), " ago)")
        if now is not None:
            return f"{cell.before}{since(cell.timestamp, now)}{cell.after}"
        return cell
    return str(restarts)


def pod_readiness_gates(pod: dict) -> str:
    gates = as_list(as_dict(pod.get("spec")).get("readinessGates"))
    if not gates:
        return "<none>"
    conditions = as_list(as_dict(pod.get("status")).get("conditions"))
    true = 0
    for gate in gates:
        wanted = as_dict(gate).get("conditionType")
        for condition in conditions:
            if as_dict(condition).get("type") == wanted:
                true += condition.get("status") == "True"
                break
    return f"{true}/{len(gates)}"


def _summary(pod: dict) -> dict:
    """Everything printPod derives from a pod's status, in one pass."""
    spec, status = as_dict(pod.get("spec")), as_dict(pod.get("status"))
    init_specs = {as_dict(c).get("name"): c
                  for c in as_list(spec.get("initContainers"))}
    phase = status.get("phase", "") or ""
    state = {
        "reason": status.get("reason") or phase,
        "ready": 0,
        "total": len(as_list(spec.get("containers")))
        + sum(_is_sidecar(c) for c in init_specs.values()),
        "restarts": 0,
        "last_restart": None,
        "sidecar_restarts": 0,
        "sidecar_last_restart": None,
    }
    for condition in as_list(status.get("conditions")):
        if as_dict(condition).get("type") == "PodScheduled" and \
                condition.get("reason") == "SchedulingGated":
            state["reason"] = "SchedulingGated"
    initializing = _walk_init_containers(status, init_specs, state)
    if not initializing or _has_condition(status, "Initialized"):
        _walk_app_containers(status, state)
    meta = pod.get("metadata", {})
    if meta.get("deletionTimestamp"):
        if status.get("reason") == NODE_UNREACHABLE_REASON:
            state["reason"] = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            state["reason"] = "Terminating"
    return state


def _last_termination(container: dict) -> datetime | None:
    terminated = as_dict(as_dict(container.get("lastState")).get("terminated"))
    when = parse_time(terminated.get("finishedAt"))
    if when is not None and when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _walk_init_containers(status: dict, init_specs: dict, state: dict) -> bool:
    statuses = as_list(status.get("initContainerStatuses"))
    for i, container in enumerate(statuses):
        container = as_dict(container)
        count = container.get("restartCount", 0) or 0
        finished = _last_termination(container)
        state["restarts"] += count
        state["last_restart"] = _later(state["last_restart"], finished)
        sidecar = _is_sidecar(init_specs.get(container.get("name")))
        if sidecar:
            state["sidecar_restarts"] += count
            state["sidecar_last_restart"] = _later(
                state["sidecar_last_restart"], finished)
        current = as_dict(container.get("state"))
        terminated = current.get("terminated")
        waiting = as_dict(current.get("waiting"))
        if isinstance(terminated, dict) and terminated.get("exitCode", 0) == 0:
            continue
        if sidecar and container.get("started") is True:
            state["ready"] += bool(container.get("ready"))
            continue
        if isinstance(terminated, dict):
            state["reason"] = _init_terminated_reason(terminated)
        elif waiting.get("reason") and waiting["reason"] != "PodInitializing":
            state["reason"] = "Init:" + waiting["reason"]
        else:
            state["reason"] = f"Init:{i}/{len(init_specs)}"
        return True
    return False


def _init_terminated_reason(terminated: dict) -> str:
    if terminated.get("reason"):
        return "Init:" + terminated["reason"]
    if terminated.get("signal"):
        return f"Init:Signal:{terminated['signal']}"
    return f"Init:ExitCode:{terminated.get('exitCode', 0)}"


def _walk_app_containers(status: dict, state: dict) -> None:
    state["restarts"] = state["sidecar_restarts"]
    state["last_restart"] = state["sidecar_last_restart"]
    has_running = False
    # Backwards, so the first container's reason is the one left standing.
    for container in reversed(as_list(status.get("containerStatuses"))):
        container = as_dict(container)
        state["restarts"] += container.get("restartCount", 0) or 0
        state["last_restart"] = _later(state["last_restart"],
                                       _last_termination(container))
        current = as_dict(container.get("state"))
        waiting = as_dict(current.get("waiting"))
        terminated = current.get("terminated")
        if waiting.get("reason"):
            state["reason"] = waiting["reason"]
        elif isinstance(terminated, dict) and terminated.get("reason"):
            state["reason"] = terminated["reason"]
        elif isinstance(terminated, dict):
            state["reason"] = _terminated_reason(terminated)
        elif container.get("ready") and current.get("running") is not None:
            has_running = True
            state["ready"] += 1
    if state["reason"] == "Completed" and has_running:
        ready = _has_condition(status, "Ready")
        state["reason"] = "Running" if ready else "NotReady"


def _terminated_reason(terminated: dict) -> str:
    if terminated.get("signal"):
        return f"Signal:{terminated['signal']}"
    return f"ExitCode:{terminated.get('exitCode', 0)}"
