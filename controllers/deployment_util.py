"""The arithmetic of the deployment controller, as pure functions of objects.

Names and rules follow kube-controller-manager's pkg/controller/deployment/util:
the pod-template-hash, revisions and their annotations, maxSurge and
maxUnavailable fenceposts, proportional scaling and the status a Deployment
reports. Objects are plain dicts as the API serves them; nothing here talks
to the server.
"""

from __future__ import annotations

import copy
import math
from datetime import datetime, timezone

import orjson

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
ROLLBACK_TO = "deprecated.deployment.rollback.to"
# Annotations of a Deployment that are its own, never copied to its ReplicaSets.
SKIPPED_ANNOTATIONS = frozenset(
    {LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS,
     ROLLBACK_TO})
# The revision-history annotation keeps at most this many characters.
MAX_REVISION_HISTORY_CHARS = 2000

# Condition reasons (pkg/controller/deployment/util/deployment_util.go).
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
RS_UPDATED = "ReplicaSetUpdated"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
FAILED_RS_CREATE = "ReplicaSetCreateError"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"
MIN_AVAILABLE = "MinimumReplicasAvailable"
MIN_UNAVAILABLE = "MinimumReplicasUnavailable"

# SafeEncodeString's alphabet: no vowels (no words) and no 0, 1, 3 (look-alikes).
_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"


# The pod-template-hash.

def compute_hash(template: dict, collision_count: int | None) -> str:
    """The pod-template-hash of ``template``: FNV-32a, rendered as kube does.

    Kubernetes hashes the Go struct as printed by spew; we hash the template's
    canonical JSON (sorted keys) instead, so names have the same shape
    (``web-5d8f7c9b4``) and change exactly when the template does, but are not
    byte-equal to what kube-controller-manager would pick for the same template.
    A null in its metadata (``creationTimestamp: null``) is Go's zero value,
    which spew prints as it prints a field never set, so it changes nothing.
    """
    data = orjson.dumps(_normalized(template), option=orjson.OPT_SORT_KEYS)
    value = _fnv32a(data)
    if collision_count is not None:
        value = _fnv32a(int(collision_count).to_bytes(4, "little", signed=False),
                        value)
    return safe_encode(str(value))


def _fnv32a(data: bytes, value: int = 0x811C9DC5) -> int:
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    return "".join(_ALPHANUMS[ord(char) % len(_ALPHANUMS)] for char in text)


def template_without_hash(template: dict) -> dict:
    template = copy.deepcopy(template or {})
    labels = (template.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return template


def equal_ignore_hash(a: dict, b: dict) -> bool:
    """Two pod templates are the same but for the pod-template-hash label.

    An empty labels map and no labels count as equal, as apiequality does."""
    return _normalized(template_without_hash(a)) == \
        _normalized(template_without_hash(b))


def _normalized(template: dict) -> dict:
    meta = template.get("metadata") or {}
    cleaned = {k: v for k, v in meta.items() if v not in (None, {}, [])}
    return dict(template, metadata=cleaned)


# Revisions.

def revision(obj: dict) -> int:
    try:
        return int(annotations(obj).get(REVISION, "0") or 0)
    except ValueError:
        return 0


def max_revision(replica_sets: list[dict]) -> int:
    return max((revision(rs) for rs in replica_sets), default=0)


def annotations(obj: dict) -> dict:
    return obj.get("metadata", {}).get("annotations") or {}


def set_new_rs_annotations(deployment: dict, rs: dict, new_revision: int,
                           exists: bool) -> bool:
    """SetNewReplicaSetAnnotations: copy the Deployment's annotations, bump the
    revision (keeping the one it replaces in revision-history); True if changed."""
    changed = copy_annotations(deployment, rs)
    notes = rs["metadata"].setdefault("annotations", {})
    old_text = notes.get(REVISION)
    try:
        old = int(old_text) if old_text else 0
    except ValueError:
        return False
    if old < new_revision:
        notes[REVISION] = str(new_revision)
        changed = True
        if old_text is not None:
            _push_revision_history(notes, old_text)
    if not exists:
        replicas = spec_replicas(deployment)
        changed = set_replicas_annotations(
            rs, replicas, replicas + max_surge(deployment)) or changed
    return changed


def _push_revision_history(notes: dict, old_revision: str) -> None:
    history = [r for r in notes.get(REVISION_HISTORY, "").split(",") if r]
    history.append(old_revision)
    while history and len(",".join(history)) > MAX_REVISION_HISTORY_CHARS:
        history.pop(0)
    notes[REVISION_HISTORY] = ",".join(history)


def copy_annotations(deployment: dict, rs: dict) -> bool:
    notes = rs["metadata"].setdefault("annotations", {})
    changed = False
    for key, value in annotations(deployment).items():
        if key in SKIPPED_ANNOTATIONS or notes.get(key) == value:
            continue
        notes[key] = value
        changed = True
    return changed


def set_replicas_annotations(rs: dict, desired: int, maximum: int) -> bool:
    notes = rs["metadata"].setdefault("annotations", {})
    wanted = {DESIRED_REPLICAS: str(desired), MAX_REPLICAS: str(maximum)}
    if all(notes.get(k) == v for k, v in wanted.items()):
        return False
    notes.update(wanted)
    return True


def replicas_annotations_need_update(rs: dict, desired: int, maximum: int) -> bool:
    notes = annotations(rs)
    return (notes.get(DESIRED_REPLICAS) != str(desired)
            or notes.get(MAX_REPLICAS) != str(maximum))


def int_annotation(obj: dict, key: str) -> int | None:
    try:
        return int(annotations(obj)[key])
    except (KeyError, ValueError):
        return None


# Replica counts.

def spec_replicas(obj: dict) -> int:
    replicas = obj.get("spec", {}).get("replicas")
    return 1 if replicas is None else int(replicas)


def status_count(obj: dict, field: str) -> int:
    return int((obj.get("status") or {}).get(field) or 0)


def sum_spec(replica_sets: list[dict]) -> int:
    return sum(spec_replicas(rs) for rs in replica_sets)


def sum_status(replica_sets: list[dict], field: str) -> int:
    return sum(status_count(rs, field) for rs in replica_sets)


def active(replica_sets: list[dict]) -> list[dict]:
    return [rs for rs in replica_sets if spec_replicas(rs) > 0]


def scaled_value(value, total: int, round_up: bool) -> int:
    """GetScaledValueFromIntOrPercent: an int, or a percentage of ``total``."""
    if isinstance(value, int):
        return value
    text = str(value)
    if not text.endswith("%"):
        return int(text)
    exact = int(text[:-1]) * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def is_rolling_update(deployment: dict) -> bool:
    strategy = deployment.get("spec", {}).get("strategy") or {}
    return strategy.get("type", "RollingUpdate") == "RollingUpdate"


def fenceposts(deployment: dict) -> tuple[int, int]:
    """ResolveFenceposts: (maxSurge, maxUnavailable), surge rounded up and
    unavailable down; both 0 would stall a rollout, so unavailable becomes 1."""
    rolling = (deployment["spec"].get("strategy") or {}).get("rollingUpdate") or {}
    desired = spec_replicas(deployment)
    surge = scaled_value(rolling.get("maxSurge", "25%"), desired, True)
    unavailable = scaled_value(rolling.get("maxUnavailable", "25%"), desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_surge(deployment: dict) -> int:
    return fenceposts(deployment)[0] if is_rolling_update(deployment) else 0


def max_unavailable(deployment: dict) -> int:
    desired = spec_replicas(deployment)
    if not is_rolling_update(deployment) or desired == 0:
        return 0
    return min(fenceposts(deployment)[1], desired)


def new_rs_new_replicas(deployment: dict, all_rss: list[dict], new_rs: dict) -> int:
    """NewRSNewReplicas: how big the new ReplicaSet may grow now."""
    desired = spec_replicas(deployment)
    if not is_rolling_update(deployment):
        return desired
    current = sum_spec(all_rss)
    limit = desired + max_surge(deployment)
    if current >= limit:
        return spec_replicas(new_rs)
    grow = min(limit - current, desired - spec_replicas(new_rs))
    return spec_replicas(new_rs) + grow


def is_saturated(deployment: dict, rs: dict | None) -> bool:
    if rs is None:
        return False
    desired = int_annotation(rs, DESIRED_REPLICAS)
    replicas = spec_replicas(deployment)
    return (desired == replicas and spec_replicas(rs) == replicas
            and status_count(rs, "availableReplicas") == replicas)


def proportion(rs: dict, deployment: dict, to_add: int, added: int) -> int:
    """GetProportion: this ReplicaSet's share of a scale by ``to_add``."""
    if spec_replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = _fraction(rs, deployment)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def _fraction(rs: dict, deployment: dict) -> int:
    if spec_replicas(deployment) == 0:
        return -spec_replicas(rs)
    maximum = spec_replicas(deployment) + max_surge(deployment)
    before = int_annotation(rs, MAX_REPLICAS) or status_count(deployment, "replicas")
    if not before:
        return 0
    size = spec_replicas(rs) * maximum / before
    return math.floor(size + 0.5) - spec_replicas(rs)


# Ordering.

def by_creation(replica_sets: list[dict]) -> list[dict]:
    return sorted(replica_sets, key=lambda rs: (
        rs["metadata"].get("creationTimestamp", ""), rs["metadata"]["name"]))


def by_size_newer(replica_sets: list[dict]) -> list[dict]:
    """Bigger first; among equals the newer first (ReplicaSetsBySizeNewer)."""
    newest_first = list(reversed(by_creation(replica_sets)))
    return sorted(newest_first, key=spec_replicas, reverse=True)


def by_size_older(replica_sets: list[dict]) -> list[dict]:
    return sorted(by_creation(replica_sets), key=spec_replicas, reverse=True)


def by_revision(replica_sets: list[dict]) -> list[dict]:
    return sorted(by_creation(replica_sets), key=revision)


# Status and conditions.

def now_rfc3339() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def condition(status: dict, type_: str) -> dict | None:
    for cond in status.get("conditions") or []:
        if cond.get("type") == type_:
            return cond
    return None


def new_condition(type_: str, status: str, reason: str, message: str) -> dict:
    now = now_rfc3339()
    return {"type": type_, "status": status, "lastUpdateTime": now,
            "lastTransitionTime": now, "reason": reason, "message": message}


def set_condition(status: dict, cond: dict) -> None:
    """SetDeploymentCondition: an unchanged status and reason keep the old one;
    an unchanged status keeps its lastTransitionTime."""
    current = condition(status, cond["type"])
    if current and current["status"] == cond["status"] \
            and current.get("reason") == cond["reason"]:
        return
    if current and current["status"] == cond["status"]:
        cond["lastTransitionTime"] = current.get("lastTransitionTime")
    remove_condition(status, cond["type"])
    status.setdefault("conditions", []).append(cond)


def remove_condition(status: dict, type_: str) -> None:
    kept = [c for c in status.get("conditions") or [] if c.get("type") != type_]
    status["conditions"] = kept


def has_progress_deadline(deployment: dict) -> bool:
    seconds = deployment["spec"].get("progressDeadlineSeconds")
    return seconds is not None and seconds != 2**31 - 1


def calculate_status(all_rss: list[dict], new_rs: dict | None,
                     deployment: dict) -> dict:
    available = sum_status(all_rss, "availableReplicas")
    total = sum_status(all_rss, "replicas")
    old = deployment.get("status") or {}
    status = {
        "observedGeneration": deployment["metadata"].get("generation", 0),
        "replicas": total,
        "updatedReplicas": status_count(new_rs, "replicas") if new_rs else 0,
        "readyReplicas": sum_status(all_rss, "readyReplicas"),
        "availableReplicas": available,
        "unavailableReplicas": max(total - available, 0),
        "conditions": copy.deepcopy(old.get("conditions") or []),
    }
    if old.get("collisionCount") is not None:
        status["collisionCount"] = old["collisionCount"]
    if available >= spec_replicas(deployment) - max_unavailable(deployment):
        cond = new_condition("Available", "True", MIN_AVAILABLE,
                             "Deployment has minimum availability.")
    else:
        cond = new_condition("Available", "False", MIN_UNAVAILABLE,
                             "Deployment does not have minimum availability.")
    set_condition(status, cond)
    return status


def deployment_complete(deployment: dict, status: dict) -> bool:
    replicas = spec_replicas(deployment)
    return (status.get("updatedReplicas", 0) == replicas
            and status.get("replicas", 0) == replicas
            and status.get("availableReplicas", 0) == replicas
            and status.get("observedGeneration", 0)
            >= deployment["metadata"].get("generation", 0))


def deployment_progressing(deployment: dict, status: dict) -> bool:
    old = deployment.get("status") or {}

    def count(s, field):
        return s.get(field) or 0

    old_old = count(old, "replicas") - count(old, "updatedReplicas")
    new_old = count(status, "replicas") - count(status, "updatedReplicas")
    return (count(status, "updatedReplicas") > count(old, "updatedReplicas")
            or new_old < old_old
            or count(status, "readyReplicas") > count(old, "readyReplicas")
            or count(status, "availableReplicas") > count(old, "availableReplicas"))


def seconds_until_deadline(deployment: dict, status: dict) -> float | None:
    """Seconds left before the Progressing condition times out; None when no
    deadline applies (none set, complete, or already timed out)."""
    if not has_progress_deadline(deployment):
        return None
    cond = condition(status, "Progressing")
    if cond is None or cond.get("reason") in (NEW_RS_AVAILABLE, TIMED_OUT):
        return None
    updated = _parse_time(cond.get("lastUpdateTime"))
    if updated is None:
        return None
    deadline = updated + deployment["spec"]["progressDeadlineSeconds"]
    return deadline - datetime.now(timezone.utc).timestamp()


def _parse_time(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None
