"""Pods: defaults, the admission plugins kube-apiserver runs by default, rules.

On create kube-apiserver defaults the pod spec, then its default admission
plugins change it further: ServiceAccount (``serviceAccountName: default``),
Priority (``priority: 0``, ``preemptionPolicy: PreemptLowerPriority``) and
DefaultTolerationSeconds (two NoExecute tolerations of 300 s). The pod
strategy then resets the status to Pending with its QoS class.
"""

from __future__ import annotations

import copy
import ipaddress
import json

from server.errors import FieldError, Forbidden
from server.registry.base import Column, Kind, age_column, name_column
from server.registry.podprint import (
    pod_ready,
    pod_readiness_gates,
    pod_restarts,
    pod_status_reason,
)
from server.registry.podspec import (
    MAX_INT32,
    as_dict,
    as_list,
    check_quantities,
    default_pod_spec,
    validate_pod_spec,
    validate_tolerations,
)
from server.validation import (
    forbidden,
    inclusive_range_error,
    name_is_dns_subdomain,
    parse_quantity,
    required,
    validate_object_meta,
    validate_object_meta_update,
)

# The priority classes every cluster has (scheduling/v1 SystemPriorityClasses).
SYSTEM_PRIORITY_CLASSES = {
    "system-node-critical": 2000001000,
    "system-cluster-critical": 2000000000,
}
DEFAULT_TOLERATION_SECONDS = 300
TAINT_NOT_READY = "node.kubernetes.io/not-ready"
TAINT_UNREACHABLE = "node.kubernetes.io/unreachable"

UPDATABLE_SPEC_FIELDS = ",".join([
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
    "previously negative)",
])

_IP_DOC = ("podIP address allocated to the pod. Routable at least within the "
           "cluster. Empty if not yet allocated.")
_NODE_DOC = (
    "NodeName indicates in which node this pod is scheduled. If empty, this pod "
    "is a candidate for scheduling by the scheduler defined in schedulerName. "
    "Once this field is set, the kubelet for this node becomes responsible for "
    "the lifecycle of this pod. This field should not be used to express a "
    "desire for the pod to be scheduled on a specific node. "
    "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename"
)
_NOMINATED_DOC = (
    "nominatedNodeName is set only when this pod preempts other pods on the "
    "node, but it cannot be scheduled right away as preemption victims receive "
    "their graceful termination periods. This field does not guarantee that the "
    "pod will be scheduled on this node. Scheduler may decide to place the pod "
    "elsewhere if other nodes become available sooner. Scheduler may also decide "
    "to give the resources on this node to a higher priority pod that is created "
    "after preemption. As a result, this field may be different than "
    "PodSpec.nodeName when the pod is scheduled."
)
_GATES_DOC = (
    "If specified, all readiness gates will be evaluated for pod readiness. A "
    "pod is ready when all its containers are ready AND all conditions "
    'specified in the readiness gates have status equal to "True" More info: '
    "https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates"
)


class PodKind(Kind):
    kind = "Pod"
    resource = "pods"
    singular = "pod"
    short_names = ("po",)
    categories = ("all",)
    subresources = ("status", "binding", "log", "exec", "eviction")
    # Pods have no generation in Kubernetes 1.32, whose API this serves; 1.33
    # began to set one (KEP 5067).
    has_generation = False
    selectable_fields = (
        "spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
        "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
        "status.podIP", "status.nominatedNodeName",
    )

    def prepare_create(self, obj: dict) -> None:
        spec = obj.setdefault("spec", {})
        check_quantities(spec, self.kind)
        default_pod(spec)
        _admit_service_account(spec)
        _admit_priority(obj, spec)
        _admit_default_toleration_seconds(spec)
        obj["status"] = {"phase": "Pending", "qosClass": qos_class(spec)}
        if as_list(spec.get("schedulingGates")):
            obj["status"]["conditions"] = [{
                "type": "PodScheduled", "status": "False",
                "reason": "SchedulingGated",
                "message": "Scheduling is blocked due to non-empty scheduling gates",
            }]

    def prepare_update(self, obj: dict, old: dict) -> None:
        spec = obj.setdefault("spec", {})
        check_quantities(spec, self.kind)
        default_pod(spec)

    def prepare_status_update(self, obj: dict, old: dict) -> None:
        # Old kubelets corrupt ownerReferences through /status: keep them, and
        # the QoS class, which is set once at creation.
        meta, old_meta = obj.setdefault("metadata", {}), old.get("metadata", {})
        if "ownerReferences" in old_meta:
            meta["ownerReferences"] = old_meta["ownerReferences"]
        else:
            meta.pop("ownerReferences", None)
        status = obj.get("status")
        if not isinstance(status, dict):
            status = obj["status"] = {}
        if not status.get("qosClass") and as_dict(old.get("status")).get("qosClass"):
            status["qosClass"] = old["status"]["qosClass"]
        _mirror_ips(status)

    def validate(self, obj: dict) -> list[FieldError]:
        errs = _validate_metadata_and_spec(obj)
        spec = as_dict(obj.get("spec"))
        if as_list(spec.get("ephemeralContainers")):
            errs.append(forbidden("spec.ephemeralContainers",
                                  "cannot be set on create"))
        if spec.get("nodeName") and as_list(spec.get("schedulingGates")):
            errs.append(forbidden(
                "spec.nodeName",
                "cannot be set until all schedulingGates have been cleared"))
        return unique(errs)

    def validate_update(self, obj: dict, old: dict) -> list[FieldError]:
        errs = validate_object_meta_update(obj, old)
        errs += _validate_metadata_and_spec(obj)
        errs += validate_spec_update(as_dict(obj.get("spec")),
                                     as_dict(old.get("spec")))
        return unique(errs)

    def validate_status_update(self, obj: dict, old: dict) -> list[FieldError]:
        errs = validate_object_meta_update(obj, old)
        status, old_status = as_dict(obj.get("status")), as_dict(old.get("status"))
        nominated = status.get("nominatedNodeName", "")
        if nominated and nominated != old_status.get("nominatedNodeName", ""):
            errs += [FieldError("Invalid value", "status.nominatedNodeName",
                                nominated, m) for m in name_is_dns_subdomain(nominated)]
        errs += _validate_ips(status, "podIPs")
        errs += _validate_ips(status, "hostIPs")
        # TODO: ValidateContainerStateTransition (a terminated container of a
        # pod that never restarts may not run again) is not checked yet.
        return unique(errs)

    def field_values(self, obj: dict) -> dict[str, str]:
        values = super().field_values(obj)
        spec, status = as_dict(obj.get("spec")), as_dict(obj.get("status"))
        for key in ("nodeName", "restartPolicy", "schedulerName",
                    "serviceAccountName"):
            values[f"spec.{key}"] = str(spec.get(key) or "")
        values["spec.hostNetwork"] = "true" if spec.get("hostNetwork") else "false"
        values["status.phase"] = str(status.get("phase") or "")
        pod_ips = as_list(status.get("podIPs"))
        values["status.podIP"] = as_dict(pod_ips[0]).get("ip", "") if pod_ips else ""
        values["status.nominatedNodeName"] = str(status.get("nominatedNodeName") or "")
        return values

    def columns(self) -> list[Column]:
        return [
            name_column(),
            Column("Ready", pod_ready, description="The aggregate readiness "
                   "state of this pod for accepting traffic."),
            Column("Status", pod_status_reason,
                   description="The aggregate status of the containers in this pod."),
            Column("Restarts", pod_restarts,
                   description="The number of times the containers in this pod "
                   "have been restarted and when the last container in this pod "
                   "has restarted."),
            age_column(),
            Column("IP", _pod_ip, priority=1, description=_IP_DOC),
            Column("Node", lambda o: _or_none(as_dict(o.get("spec")).get("nodeName")),
                   priority=1, description=_NODE_DOC),
            Column("Nominated Node", _nominated_node, priority=1,
                   description=_NOMINATED_DOC),
            Column("Readiness Gates", pod_readiness_gates, priority=1,
                   description=_GATES_DOC),
        ]


def unique(errs: list[FieldError]) -> list[FieldError]:
    """Drop repeated errors, as field.ErrorList.ToAggregate does."""
    seen, kept = set(), []
    for err in errs:
        if str(err) not in seen:
            seen.add(str(err))
            kept.append(err)
    return kept


def _or_none(text: object) -> str:
    return text if isinstance(text, str) and text else "<none>"


def _nominated_node(obj: dict) -> str:
    return _or_none(as_dict(obj.get("status")).get("nominatedNodeName"))


def _pod_ip(obj: dict) -> str:
    ips = as_list(as_dict(obj.get("status")).get("podIPs"))
    return _or_none(as_dict(ips[0]).get("ip") if ips else "")


# Defaults of a Pod (not of a pod template).

def default_pod(spec: dict) -> None:
    """SetDefaults_PodSpec and its parts, plus what SetDefaults_Pod adds."""
    default_pod_spec(spec)
    for container in _containers(spec):
        _default_requests_to_limits(container)
    if spec.get("enableServiceLinks") is None:
        spec["enableServiceLinks"] = True
    if spec.get("hostNetwork") is True:
        for container in _containers(spec):
            for port in as_list(container.get("ports")):
                if isinstance(port, dict) and not port.get("hostPort"):
                    port["hostPort"] = port.get("containerPort")
    if spec.get("serviceAccountName"):
        spec["serviceAccount"] = spec["serviceAccountName"]


def _containers(spec: dict) -> list[dict]:
    return [c for c in as_list(spec.get("initContainers"))
            + as_list(spec.get("containers")) if isinstance(c, dict)]


def _default_requests_to_limits(container: dict) -> None:
    resources = as_dict(container.get("resources"))
    limits = resources.get("limits")
    if not isinstance(limits, dict) or not limits:
        return
    requests = resources.get("requests")
    if not isinstance(requests, dict):
        requests = resources["requests"] = {}
    for name, value in limits.items():
        requests.setdefault(name, value)


# Admission plugins of a default kube-apiserver, as they change a new pod.

def _admit_service_account(spec: dict) -> None:
    # TODO: kube's plugin also refuses a pod whose account does not exist and
    # mounts the account's token as the projected volume kube-api-access-*;
    # this server serves no TokenRequest and signs no tokens, so there would
    # be nothing in the volume.
    if not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = "default"
    spec["serviceAccount"] = spec["serviceAccountName"]


def _admit_priority(obj: dict, spec: dict) -> None:
    class_name = spec.get("priorityClassName") or ""
    if class_name and class_name not in SYSTEM_PRIORITY_CLASSES:
        # TODO: PriorityClass objects are not served; only the system ones exist.
        raise _admission_forbidden(
            obj, f"no PriorityClass with name {class_name} was found")
    priority = SYSTEM_PRIORITY_CLASSES.get(class_name, 0)
    if spec.get("priority") is not None and spec["priority"] != priority:
        raise _admission_forbidden(
            obj, f"the integer value of priority ({spec['priority']}) must not be "
            f"provided in pod spec; priority admission controller computed "
            f"{priority} from the given PriorityClass name")
    spec["priority"] = priority
    if spec.get("preemptionPolicy") is None:
        spec["preemptionPolicy"] = "PreemptLowerPriority"


def _admission_forbidden(obj: dict, why: str) -> Forbidden:
    name = obj.get("metadata", {}).get("name", "")
    return Forbidden(f'pods "{name}" is forbidden: {why}',
                     details={"name": name, "kind": "pods"})


def _admit_default_toleration_seconds(spec: dict) -> None:
    tolerations = as_list(spec.get("tolerations"))
    for taint in (TAINT_NOT_READY, TAINT_UNREACHABLE):
        if not any(_tolerates_no_execute(t, taint) for t in tolerations):
            tolerations.append({
                "key": taint, "operator": "Exists", "effect": "NoExecute",
                "tolerationSeconds": DEFAULT_TOLERATION_SECONDS,
            })
    spec["tolerations"] = tolerations


def _tolerates_no_execute(toleration: object, taint: str) -> bool:
    toleration = as_dict(toleration)
    return toleration.get("key", "") in ("", taint) and \
        toleration.get("effect", "") in ("", "NoExecute")


def qos_class(spec: dict) -> str:
    """The QoS class of a pod spec, as kubelet's qos.ComputePodQOS."""
    requests: dict[str, object] = {}
    limits: dict[str, object] = {}
    guaranteed = True
    for container in _containers(spec):
        resources = as_dict(container.get("resources"))
        _add_positive(requests, as_dict(resources.get("requests")))
        found = _add_positive(limits, as_dict(resources.get("limits")))
        if not {"cpu", "memory"} <= found:
            guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if guaranteed and all(limits.get(k) == v for k, v in requests.items()) \
            and len(requests) == len(limits):
        return "Guaranteed"
    return "Burstable"


def _add_positive(total: dict, quantities: dict) -> set[str]:
    """Add the positive cpu and memory quantities; return which were found."""
    found = set()
    for name, value in quantities.items():
        if name not in ("cpu", "memory"):
            continue
        try:
            amount = parse_quantity(value)
        except ValueError:
            continue
        if amount > 0:
            found.add(name)
            total[name] = total.get(name, 0) + amount
    return found


# Validation.

def _validate_metadata_and_spec(obj: dict) -> list[FieldError]:
    errs = validate_object_meta(obj, namespaced=True,
                                name_validator=name_is_dns_subdomain)
    errs += validate_pod_spec(as_dict(obj.get("spec")))
    return errs


def validate_spec_update(spec: dict, old: dict) -> list[FieldError]:
    """What may change in a running pod: images, a lower deadline, tolerations."""
    errs: list[FieldError] = []
    for key in ("containers", "initContainers"):
        new_list, old_list = as_list(spec.get(key)), as_list(old.get(key))
        if len(new_list) != len(old_list):
            return errs + [forbidden(f"spec.{key}",
                                     "pod updates may not add or remove containers")]
        errs += _validate_images(new_list, f"spec.{key}")
    deadline_errs = _validate_deadline_update(spec.get("activeDeadlineSeconds"),
                                              old.get("activeDeadlineSeconds"))
    if deadline_errs:
        return errs + deadline_errs
    errs += _validate_added_tolerations(as_list(spec.get("tolerations")),
                                        as_list(old.get("tolerations")))
    munged = _munge_updatable(spec, old)
    if munged != old:
        errs.append(forbidden(
            "spec", f"pod updates may not change fields other than "
            f"{UPDATABLE_SPEC_FIELDS}\n{spec_diff(old, munged)}"))
    return errs


def _validate_images(containers: list, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, container in enumerate(containers):
        image = as_dict(container).get("image", "")
        if not image:
            errs.append(required(f"{path}[{i}].image"))
        elif isinstance(image, str) and image.strip() != image:
            errs.append(FieldError("Invalid value", f"{path}[{i}].image", image,
                                   "must not have leading or trailing whitespace"))
    return errs


def _validate_deadline_update(new: object, old: object) -> list[FieldError]:
    path = "spec.activeDeadlineSeconds"
    if new is None:
        if old is not None:
            return [FieldError("Invalid value", path, None,
                               "must not update from a positive integer to nil value")]
        return []
    if not isinstance(new, int) or not 0 <= new <= MAX_INT32:
        return [FieldError("Invalid value", path, new,
                           inclusive_range_error(0, MAX_INT32))]
    if old is not None and old < new:
        return [FieldError("Invalid value", path, new,
                           "must be less than or equal to previous value")]
    return []


def _validate_added_tolerations(new: list, old: list) -> list[FieldError]:
    for toleration in old:
        if not any(_same_but_seconds(toleration, t) for t in new):
            return [forbidden("spec.tolerations", "existing toleration can not be "
                              "modified except its tolerationSeconds")]
    return validate_tolerations(new, "spec.tolerations")


def _same_but_seconds(old: object, new: object) -> bool:
    old, new = dict(as_dict(old)), dict(as_dict(new))
    old.pop("tolerationSeconds", None)
    new.pop("tolerationSeconds", None)
    return old == new


def _munge_updatable(spec: dict, old: dict) -> dict:
    """The new spec with every updatable field taken from the old one."""
    munged = copy.deepcopy(spec)
    for key in ("containers", "initContainers"):
        for new_c, old_c in zip(as_list(munged.get(key)), as_list(old.get(key))):
            if isinstance(new_c, dict) and isinstance(old_c, dict):
                _copy_key(new_c, old_c, "image")
    for key in ("activeDeadlineSeconds", "tolerations", "schedulingGates"):
        _copy_key(munged, old, key)
    old_grace = old.get("terminationGracePeriodSeconds")
    if isinstance(old_grace, int) and old_grace < 0 \
            and munged.get("terminationGracePeriodSeconds") == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    return munged


def _copy_key(target: dict, source: dict, key: str) -> None:
    if key in source:
        target[key] = copy.deepcopy(source[key])
    else:
        target.pop(key, None)


def spec_diff(old: dict, new: dict, path: str = "spec") -> str:
    """The changed fields, one "-" and one "+" line each.

    kube-apiserver appends a Go cmp.Diff of its internal types here; this is
    the same information in JSON terms.
    """
    lines = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) == new.get(key):
            continue
        before, after = old.get(key), new.get(key)
        if isinstance(before, dict) and isinstance(after, dict):
            lines.append(spec_diff(before, after, f"{path}.{key}"))
            continue
        if key in old:
            lines.append(f"- {path}.{key}: {json.dumps(before, sort_keys=True)}")
        if key in new:
            lines.append(f"+ {path}.{key}: {json.dumps(after, sort_keys=True)}")
    return "\n".join(lines)


def _validate_ips(status: dict, key: str) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, entry in enumerate(as_list(status.get(key))):
        ip = as_dict(entry).get("ip", "")
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            errs.append(FieldError(
                "Invalid value", f"status.{key}[{i}].ip", ip,
                "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
    return errs


def _mirror_ips(status: dict) -> None:
    # v1 keeps podIP/hostIP as the first of podIPs/hostIPs.
    for single, plural in (("podIP", "podIPs"), ("hostIP", "hostIPs")):
        if status.get(single) and not as_list(status.get(plural)):
            status[plural] = [{"ip": status[single]}]
        ips = as_list(status.get(plural))
        if ips and as_dict(ips[0]).get("ip"):
            status[single] = ips[0]["ip"]
