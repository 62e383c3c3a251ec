"""kubectl's describe layouts for the workload controllers: Deployments,
ReplicaSets and ReplicationControllers, and the pod template they share.

Their pages need more than the object: a Deployment lists its ReplicaSets, a
ReplicaSet or ReplicationController counts its pods by phase. The command
fetches those (``related``) and hands them in.
"""

from __future__ import annotations

from kctl.describe import (Writer, _labels_annotations, _metadata, _tolerations,
                           controlled_by, events_block, rfc1123)
from kctl.describe_containers import containers, volumes

_TEMPLATE_HASH = "pod-template-hash"


def format_selector(selector: dict | None) -> str:
    """metav1.FormatLabelSelector: requirements sorted by key, "<none>" if empty."""
    if selector is None:
        return "<none>"
    parts = [(key, f"{key}={value}")
             for key, value in (selector.get("matchLabels") or {}).items()]
    for expr in selector.get("matchExpressions") or []:
        key, op = expr.get("key", ""), expr.get("operator", "")
        values = ",".join(sorted(expr.get("values") or []))
        text = {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})",
                "Exists": key, "DoesNotExist": f"!{key}"}.get(op, key)
        parts.append((key, text))
    return ",".join(text for _, text in sorted(parts)) or "<none>"


def pod_template(w: Writer, template: dict | None) -> None:
    """DescribePodTemplate: the template indented one level under its title."""
    w.line(0, "Pod Template:")
    meta = (template or {}).get("metadata") or {}
    spec = (template or {}).get("spec") or {}
    w.mapping(1, "Labels", meta.get("labels"))
    if meta.get("annotations"):
        w.mapping(1, "Annotations", meta["annotations"], separator=": ")
    if spec.get("serviceAccountName"):
        w.field(1, "Service Account", spec["serviceAccountName"])
    sub = Writer()
    if spec.get("initContainers"):
        containers(sub, "Init Containers", spec["initContainers"], [], None)
    containers(sub, "Containers", spec.get("containers"), [], None)
    for line in sub.lines:
        w.lines.append(_template_indent(line))
    volumes(w, spec.get("volumes"), space="  ")
    if spec.get("priorityClassName"):
        w.field(1, "Priority Class Name", spec["priorityClassName"])
    w.mapping(1, "Node-Selectors", spec.get("nodeSelector"))
    _indented(w, _tolerations, spec.get("tolerations"))


def _template_indent(line: str) -> str:
    # kubectl prints a template's container titles two spaces in and its
    # container names three; the fields under them keep the pod page's indent.
    depth = len(line) - len(line.lstrip(" "))
    if depth == 0:
        return "  " + line
    if depth == 2:
        return " " + line
    return line


def _indented(w: Writer, write, value) -> None:
    sub = Writer()
    write(sub, value)
    for line in sub.lines:
        # A tolerations' continuation line starts at the margin, as kubectl's.
        w.lines.append(line if line.startswith("\t") else "  " + line)


def _conditions(w: Writer, conditions) -> None:
    if not conditions:
        return
    w.line(0, "Conditions:")
    w.line(1, "Type\tStatus\tReason")
    w.line(1, "----\t------\t------")
    for c in conditions:
        w.line(1, f"{c.get('type', '')} \t{c.get('status', '')}\t"
                  f"{c.get('reason', '')}")


def pods_status(pods: list[dict] | None) -> str:
    phases = [(p.get("status") or {}).get("phase") for p in pods or []]
    return (f"{phases.count('Running')} Running / {phases.count('Pending')} Waiting"
            f" / {phases.count('Succeeded')} Succeeded / "
            f"{phases.count('Failed')} Failed")


def describe_deployment(d: dict, events, related: dict | None = None) -> str:
    w = Writer()
    spec, status = d.get("spec") or {}, d.get("status") or {}
    _metadata(w, d)
    w.field(0, "CreationTimestamp",
            rfc1123((d.get("metadata") or {}).get("creationTimestamp")))
    _labels_annotations(w, d)
    w.field(0, "Selector", format_selector(spec.get("selector")))
    w.field(0, "Replicas", f"{spec.get('replicas', 1)} desired | "
            f"{status.get('updatedReplicas', 0)} updated | "
            f"{status.get('replicas', 0)} total | "
            f"{status.get('availableReplicas', 0)} available | "
            f"{status.get('unavailableReplicas', 0)} unavailable")
    strategy = spec.get("strategy") or {}
    w.field(0, "StrategyType", strategy.get("type"))
    w.field(0, "MinReadySeconds", spec.get("minReadySeconds", 0))
    rolling = strategy.get("rollingUpdate")
    if rolling:
        w.field(0, "RollingUpdateStrategy",
                f"{rolling.get('maxUnavailable')} max unavailable, "
                f"{rolling.get('maxSurge')} max surge")
    pod_template(w, spec.get("template"))
    _conditions(w, status.get("conditions"))
    _replica_sets(w, d, (related or {}).get("replicasets"))
    events_block(w, events)
    return w.text()


def _replica_sets(w: Writer, d: dict, owned: list[dict] | None) -> None:
    # Checked against kubectl 1.32 on a Deployment with no ReplicaSets yet:
    # it prints neither line.
    if not owned:
        return
    # deploymentutil sorts the list in place by creation, then name, to find
    # the new one; every other one, scaled down or not, is old, in that order.
    owned = sorted(owned, key=lambda rs: (
        rs["metadata"].get("creationTimestamp") or "", rs["metadata"]["name"]))
    template = (d.get("spec") or {}).get("template") or {}
    new = [rs for rs in owned if _same_template(rs, template)][:1]
    old = [rs for rs in owned if rs not in new]
    w.field(0, "OldReplicaSets", _replica_set_list(old))
    w.field(0, "NewReplicaSet", _replica_set_list(new))


def _same_template(rs: dict, template: dict) -> bool:
    theirs = (rs.get("spec") or {}).get("template") or {}
    return _comparable(theirs) == _comparable(template)


def _comparable(template: dict) -> dict:
    # As apiequality compares Go structs: no pod-template-hash label, and a
    # null or empty metadata field (creationTimestamp: null, which a template
    # copied back by `rollout undo` carries) is the same as none.
    meta = dict(template.get("metadata") or {})
    labels = {k: v for k, v in (meta.get("labels") or {}).items()
              if k != _TEMPLATE_HASH}
    meta["labels"] = labels
    meta = {k: v for k, v in meta.items() if v not in (None, {}, [])}
    return dict(template, metadata=meta)


def _replica_set_list(sets: list[dict]) -> str:
    return ", ".join(f"{rs['metadata']['name']} "
                     f"({(rs.get('status') or {}).get('replicas', 0)}/"
                     f"{(rs.get('spec') or {}).get('replicas', 1)} replicas created)"
                     for rs in sets) or "<none>"


def describe_replicaset(rs: dict, events, related: dict | None = None) -> str:
    w = Writer()
    spec, status = rs.get("spec") or {}, rs.get("status") or {}
    _metadata(w, rs)
    w.field(0, "Selector", format_selector(spec.get("selector")))
    _labels_annotations(w, rs)
    _controller_lines(w, rs, spec, status, related)
    _conditions(w, status.get("conditions"))
    events_block(w, events)
    return w.text()


def describe_replicationcontroller(rc: dict, events,
                                   related: dict | None = None) -> str:
    w = Writer()
    spec, status = rc.get("spec") or {}, rc.get("status") or {}
    _metadata(w, rc)
    w.field(0, "Selector", ",".join(f"{k}={v}" for k, v in
                                    sorted((spec.get("selector") or {}).items())))
    _labels_annotations(w, rc)
    _controller_lines(w, rc, spec, status, related)
    _conditions(w, status.get("conditions"))
    events_block(w, events)
    return w.text()


def _controller_lines(w: Writer, obj: dict, spec: dict, status: dict,
                      related: dict | None) -> None:
    owner = controlled_by(obj)
    if owner:
        w.field(0, "Controlled By", owner)
    w.field(0, "Replicas", f"{status.get('replicas', 0)} current / "
            f"{spec.get('replicas', 1)} desired")
    w.field(0, "Pods Status", pods_status((related or {}).get("pods")))
    pod_template(w, spec.get("template"))
