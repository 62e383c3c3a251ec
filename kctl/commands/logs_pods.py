"""Which pods ``kctl logs`` reads: a pod, the pods of a selector, or the one
pod kubectl picks for a workload (deployment/web, rs/x, job/y, svc/z...)."""

from __future__ import annotations

from kctl.errors import CommandError
from kctl.resources import object_path

# Kinds whose spec.selector is a LabelSelector, and those where it is a map.
_LABEL_SELECTOR_KINDS = {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet",
                         "Job"}
_MAP_SELECTOR_KINDS = {"ReplicationController", "Service"}
_PHASE_ORDER = {"Running": 0, "Unknown": 1, "Pending": 2}


def selector_string(selector: dict) -> str:
    """A LabelSelector as the text of a labelSelector query."""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels")
                                             or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op = expr.get("key", ""), expr.get("operator", "")
        values = ",".join(sorted(expr.get("values") or []))
        parts.append({"In": f"{key} in ({values})",
                      "NotIn": f"{key} notin ({values})",
                      "Exists": key, "DoesNotExist": f"!{key}"}.get(op, key))
    return ",".join(parts)


def workload_selector(obj: dict) -> str:
    kind = obj.get("kind", "")
    selector = (obj.get("spec") or {}).get("selector")
    if kind in _LABEL_SELECTOR_KINDS and selector:
        return selector_string(selector)
    if kind in _MAP_SELECTOR_KINDS and selector:
        return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    raise CommandError(f"cannot get the logs from *v1.{kind}: selector for "
                       f"*v1.{kind} not implemented")


def by_logging(pod: dict):
    """kubectl's podutils.ByLogging as a sort key: assigned, running, ready
    (longest first), most restarted, oldest."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    ready_since = _ready_since(status)
    restarts = max((c.get("restartCount", 0)
                    for c in status.get("containerStatuses") or []), default=0)
    created = pod["metadata"].get("creationTimestamp") or "~"  # empty sorts last
    return (not spec.get("nodeName"), _PHASE_ORDER.get(status.get("phase"), 0),
            ready_since is None, ready_since or "", -restarts, created)


def _ready_since(status: dict) -> str | None:
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Ready" and condition.get("status") == "True":
            return condition.get("lastTransitionTime") or "~"
    return None


def pod_for_workload(s, resource, name: str) -> dict:
    """The pod kubectl's logs reads for a workload, said on stderr when the
    workload has several."""
    obj = s.client.get(object_path(resource, s.namespace, name))
    obj.setdefault("kind", resource.kind)
    pods = s.client.get(object_path(s.discovery.find("pods"), s.namespace),
                        {"labelSelector": workload_selector(obj)})
    items = sorted(pods.get("items") or [], key=by_logging)
    if not items:
        # TODO: kubectl waits --pod-running-timeout (20s) for a pod to appear;
        # kctl gives up at once, in the words kubectl ends with.
        raise CommandError("timed out waiting for the condition")
    if len(items) > 1:
        s.warn(f"Found {len(items)} pods, using pod/{items[0]['metadata']['name']}")
    return items[0]


def containers(pod: dict, all_containers: bool) -> list[str]:
    spec = pod.get("spec") or {}
    keys = ("initContainers", "containers", "ephemeralContainers") \
        if all_containers else ("containers",)
    return [c["name"] for key in keys for c in spec.get(key) or []]
