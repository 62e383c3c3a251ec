"""The text of ``kctl describe``: kubectl's layouts for pods, nodes, services,
replicationcontrollers and namespaces, and a generic one for any other kind.

Each describer writes ``Label:\\tvalue`` lines at an indent level; Go's
tabwriter rules (kctl.tabwriter) then align them the way kubectl's are.
"""

from __future__ import annotations

import datetime as dt


class Writer:
    def __init__(self):
        self.lines: list[str] = []

    def line(self, level: int, text: str) -> None:
        self.lines.append("  " * level + text)

    def field(self, level: int, label: str, value) -> None:
        self.line(level, f"{label}:\t{value if value not in (None, '') else '<none>'}")

    def mapping(self, level: int, label: str, values: dict | None,
                separator: str = "=") -> None:
        """Labels:  a=b, then one per line, aligned under the first.

        kubectl joins labels with "=" and annotations with ": ". The lines
        after the first start at the margin with a tab, whatever the level
        (kubectl indents only the title), which shows in unaligned text.
        """
        items = sorted((values or {}).items())
        if not items:
            self.field(level, label, "<none>")
            return
        for index, (key, value) in enumerate(items):
            title = "  " * level + label + ":" if index == 0 else ""
            if separator == ": ":
                self.lines.extend(_annotation_lines(title, key, value))
            else:
                self.lines.append(f"{title}\t{key}{separator}{value}")

    def text(self) -> str:
        from kctl.tabwriter import align

        return align(self.raw_text())

    def raw_text(self) -> str:
        """The lines unaligned, with kubectl's WriteEscaped: an ESC or a
        carriage return in a value cannot act on the terminal."""
        text = "\n".join(self.lines) + "\n"
        return text.replace("\x1b", "^[").replace("\r", "\\r")


_MAX_ANNOTATION = 140


def _annotation_lines(title: str, key: str, value: str) -> list[str]:
    """printAnnotationsMultiline: a long or multi-line value goes under its
    key, each line indented and cut at 138 characters."""
    value = str(value).removesuffix("\n")
    if len(value) + len(key) + 2 <= _MAX_ANNOTATION and "\n" not in value:
        return [f"{title}\t{key}: {value}"]
    lines = [f"{title}\t{key}:"]
    for piece in value.split("\n"):
        cut = _MAX_ANNOTATION - 2
        lines.append(f"\t  {piece[:cut] + '...' if len(piece) > cut else piece}")
    return lines


def human_duration(seconds: float) -> str:
    """apimachinery's HumanDuration: 5s, 3m2s, 5h, 4d3h, 400d."""
    s = int(seconds)
    if s < 0:
        return "<invalid>"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = (s % 3600) // 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        rest = hours % 24
        return f"{days}d{rest}h" if rest else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    years, rest = days // 365, days % 365
    if years < 8:
        return f"{years}y{rest}d" if rest else f"{years}y"
    return f"{years}y"


def parse_time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def rfc1123(text: str | None) -> str:
    when = parse_time(text)
    if when is None:
        return "<unknown>"
    return when.astimezone().strftime("%a, %d %b %Y %H:%M:%S %z")


def since(text: str | None, now: dt.datetime | None = None) -> str:
    when = parse_time(text)
    if when is None:
        return "<unknown>"
    now = now or dt.datetime.now(dt.timezone.utc)
    return human_duration((now - when).total_seconds())


# Shared blocks.


def _metadata(w: Writer, obj: dict, namespaced: bool = True) -> None:
    meta = obj.get("metadata") or {}
    w.field(0, "Name", meta.get("name"))
    if namespaced:
        w.field(0, "Namespace", meta.get("namespace"))


def _labels_annotations(w: Writer, obj: dict) -> None:
    meta = obj.get("metadata") or {}
    w.mapping(0, "Labels", meta.get("labels"))
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items()
                   if k != "kubectl.kubernetes.io/last-applied-configuration"}
    w.mapping(0, "Annotations", annotations, separator=": ")


def events_block(w: Writer, events: list[dict] | None) -> None:
    if events is None:
        return
    if not events:
        w.field(0, "Events", "<none>")
        return
    w.line(0, "Events:")
    w.line(1, "Type\tReason\tAge\tFrom\tMessage")
    w.line(1, "----\t------\t----\t----\t-------")
    for event in sorted(events, key=_event_time):
        w.line(1, "\t".join([event.get("type", ""), event.get("reason", ""),
                             _event_age(event), _event_source(event),
                             (event.get("message") or "").strip()]))


def _event_time(event: dict) -> str:
    return (event.get("lastTimestamp") or event.get("eventTime") or
            (event.get("metadata") or {}).get("creationTimestamp") or "")


def _event_age(event: dict) -> str:
    last = since(_event_time(event))
    count = event.get("count") or (event.get("series") or {}).get("count") or 1
    if count > 1 and event.get("firstTimestamp"):
        return f"{last} (x{count} over {since(event['firstTimestamp'])})"
    return last


def _event_source(event: dict) -> str:
    # kubectl 1.32 shows the component only, not the host.
    source = event.get("source") or {}
    return source.get("component") or event.get("reportingComponent") or ""


# Pods.


def describe_pod(pod: dict, events: list[dict] | None) -> str:
    from kctl.describe_containers import containers, volumes

    w = Writer()
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    meta = pod.get("metadata") or {}
    _metadata(w, pod)
    w.field(0, "Priority", spec.get("priority", 0))
    w.field(0, "Service Account", spec.get("serviceAccountName"))
    node = spec.get("nodeName")
    w.field(0, "Node", f"{node}/{status.get('hostIP', '')}" if node else "<none>")
    if status.get("startTime"):
        w.field(0, "Start Time", rfc1123(status.get("startTime")))
    _labels_annotations(w, pod)
    if meta.get("deletionTimestamp"):
        w.field(0, "Status", f"Terminating (lasts {since(meta['deletionTimestamp'])})")
    else:
        w.field(0, "Status", status.get("phase"))
    if status.get("reason"):
        w.field(0, "Reason", status["reason"])
    if status.get("message"):
        w.field(0, "Message", status["message"])
    w.line(0, f"IP:\t{status.get('podIP', '')}")
    ips = status.get("podIPs") or []
    if ips:
        w.line(0, "IPs:")
        for ip in ips:
            w.field(1, "IP", ip.get("ip"))
    else:
        w.field(0, "IPs", "<none>")
    owner = controlled_by(pod)
    if owner:
        w.field(0, "Controlled By", owner)
    containers(w, "Init Containers", spec.get("initContainers"),
               status.get("initContainerStatuses"), pod)
    containers(w, "Containers", spec.get("containers"),
               status.get("containerStatuses"), pod)
    _conditions(w, status.get("conditions"))
    volumes(w, spec.get("volumes"))
    w.field(0, "QoS Class", status.get("qosClass"))
    w.mapping(0, "Node-Selectors", spec.get("nodeSelector"))
    _tolerations(w, spec.get("tolerations"))
    events_block(w, events)
    return w.text()


def controlled_by(obj: dict) -> str:
    """KIND/NAME of the object's controller, as describe prints it."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return f"{ref.get('kind')}/{ref.get('name')}"
    return ""


def _conditions(w: Writer, conditions) -> None:
    if not conditions:
        return
    w.line(0, "Conditions:")
    w.line(1, "Type\tStatus")
    for c in conditions:
        w.line(1, f"{c.get('type')} \t{c.get('status')} ")


def _tolerations(w: Writer, tolerations) -> None:
    texts = []
    for t in tolerations or []:
        text = t.get("key", "")
        if t.get("value"):
            text += f"={t['value']}"
        if t.get("effect"):
            text += f":{t['effect']}"
        if t.get("operator") == "Exists":
            text = f"{text} op=Exists" if text else "op=Exists"
        if t.get("tolerationSeconds") is not None:
            text += f" for {t['tolerationSeconds']}s"
        texts.append(text)
    if not texts:
        w.field(0, "Tolerations", "<none>")
        return
    for index, text in enumerate(texts):
        w.line(0, f"{'Tolerations:' if index == 0 else ''}\t{text}")


# Nodes, services, replication controllers, namespaces.


_SYSTEM_INFO = (
    ("machineID", "Machine ID"), ("systemUUID", "System UUID"),
    ("bootID", "Boot ID"), ("kernelVersion", "Kernel Version"),
    ("osImage", "OS Image"), ("operatingSystem", "Operating System"),
    ("architecture", "Architecture"),
    ("containerRuntimeVersion", "Container Runtime Version"),
    ("kubeletVersion", "Kubelet Version"), ("kubeProxyVersion", "Kube-Proxy Version"),
)


def describe_node(node: dict, events: list[dict] | None,
                  related: dict | None = None) -> str:
    from kctl import describe_node_usage as usage

    related = related or {}
    w = Writer()
    spec, status = node.get("spec") or {}, node.get("status") or {}
    _metadata(w, node, namespaced=False)
    roles = sorted(k.split("/", 1)[1] for k in (node["metadata"].get("labels") or {})
                   if k.startswith("node-role.kubernetes.io/"))
    w.field(0, "Roles", ",".join(roles))
    _labels_annotations(w, node)
    w.field(0, "CreationTimestamp", rfc1123(node["metadata"].get(
        "creationTimestamp")))
    _taints(w, spec.get("taints"))
    w.field(0, "Unschedulable", "true" if spec.get("unschedulable") else "false")
    usage.lease_block(w, related.get("lease"), related.get("lease_error"))
    conditions = status.get("conditions") or []
    if conditions:
        w.line(0, "Conditions:")
        w.line(1, "Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason"
               "\tMessage")
        w.line(1, "----\t------\t-----------------\t------------------\t------"
               "\t-------")
        for c in conditions:
            # kubectl ends each cell with a space before the tab.
            w.line(1, " \t".join([c.get("type", ""), c.get("status", ""),
                                  rfc1123(c.get("lastHeartbeatTime")),
                                  rfc1123(c.get("lastTransitionTime")),
                                  c.get("reason", ""), c.get("message", "")]))
    # Addresses and System Info are printed even when empty, as kubectl does.
    w.line(0, "Addresses:")
    for a in status.get("addresses") or []:
        w.field(1, a.get("type"), a.get("address"))
    for title in ("capacity", "allocatable"):
        values = status.get(title) or {}
        if values:
            w.line(0, f"{title.capitalize()}:")
            for key, value in sorted(values.items()):
                w.field(1, key, value)
    info = status.get("nodeInfo") or {}
    w.line(0, "System Info:")
    for key, label in _SYSTEM_INFO:
        w.line(1, f"{label}:\t{info.get(key, '')}")
    if spec.get("podCIDR"):
        w.field(0, "PodCIDR", spec["podCIDR"])
    if spec.get("podCIDRs"):
        w.field(0, "PodCIDRs", ",".join(spec["podCIDRs"]))
    if spec.get("providerID"):
        w.field(0, "ProviderID", spec["providerID"])
    usage.pods_block(w, node, related.get("pods"))
    events_block(w, events)
    return w.text()


def _taints(w: Writer, taints) -> None:
    """One taint a line, aligned under the first, sorted by effect then key."""
    ordered = sorted(taints or [], key=lambda t: f"{t.get('effect', '')},"
                                                f"{t.get('key', '')}")
    if not ordered:
        w.field(0, "Taints", "<none>")
    for index, taint in enumerate(ordered):
        w.line(0, f"{'Taints:' if index == 0 else ''}\t{taint_text(taint)}")


def taint_text(taint: dict) -> str:
    """corev1.Taint.ToString: key=value:effect, with what is empty left out."""
    key, value, effect = (taint.get(k) or "" for k in ("key", "value", "effect"))
    text = f"{key}={value}" if value else key
    if effect:
        return f"{text}:{effect}"
    return f"{text}:" if value else text


def describe_service(svc: dict, events: list[dict] | None,
                     endpoints: dict | None = None) -> str:
    w = Writer()
    spec = svc.get("spec") or {}
    _metadata(w, svc)
    _labels_annotations(w, svc)
    w.field(0, "Selector", ",".join(f"{k}={v}" for k, v in
                                    sorted((spec.get("selector") or {}).items())))
    w.field(0, "Type", spec.get("type"))
    w.field(0, "IP Family Policy", spec.get("ipFamilyPolicy"))
    w.field(0, "IP Families", ",".join(spec.get("ipFamilies") or []))
    w.field(0, "IP", spec.get("clusterIP"))
    w.field(0, "IPs", ",".join(spec.get("clusterIPs") or []))
    for port in spec.get("ports") or []:
        name = port.get("name") or "<unset>"
        w.field(0, "Port", f"{name}  {port.get('port')}/{port.get('protocol', 'TCP')}")
        target = port.get("targetPort", port.get("port"))
        w.field(0, "TargetPort", f"{target}/{port.get('protocol', 'TCP')}")
        if port.get("nodePort"):
            w.field(0, "NodePort", f"{name}  {port['nodePort']}/"
                    f"{port.get('protocol', 'TCP')}")
        w.field(0, "Endpoints", _endpoints(endpoints, port.get("name", "")))
    w.field(0, "Session Affinity", spec.get("sessionAffinity", "None"))
    if spec.get("externalTrafficPolicy"):
        w.field(0, "External Traffic Policy", spec["externalTrafficPolicy"])
    if spec.get("internalTrafficPolicy"):
        w.field(0, "Internal Traffic Policy", spec["internalTrafficPolicy"])
    events_block(w, events)
    return w.text()


def _endpoints(endpoints: dict | None, port_name: str) -> str:
    """kubectl's formatEndpoints: the first three ip:port, then how many more."""
    found = []
    for subset in (endpoints or {}).get("subsets") or []:
        for port in subset.get("ports") or []:
            if (port.get("name") or "") != port_name:
                continue
            found += [f"{a.get('ip')}:{port.get('port')}"
                      for a in subset.get("addresses") or []]
    if not found:
        return "<none>"
    more = f" + {len(found) - 3} more..." if len(found) > 3 else ""
    return ",".join(found[:3]) + more


def describe_namespace(ns: dict, events: list[dict] | None) -> str:
    w = Writer()
    _metadata(w, ns, namespaced=False)
    _labels_annotations(w, ns)
    w.field(0, "Status", (ns.get("status") or {}).get("phase"))
    # TODO: kubectl adds the namespace's ResourceQuotas and LimitRanges; the
    # kctl server serves neither kind yet.
    return w.text()


# Pages in modules of their own: (module, function), each taking the object,
# its events and the related objects the command fetched for it.
PAGES = {
    ("apps", "Deployment"): ("describe_workloads", "describe_deployment"),
    ("apps", "ReplicaSet"): ("describe_workloads", "describe_replicaset"),
    ("", "ReplicationController"): ("describe_workloads",
                                    "describe_replicationcontroller"),
    ("", "Secret"): ("describe_config", "describe_secret"),
    ("", "ConfigMap"): ("describe_config", "describe_configmap"),
    ("", "ServiceAccount"): ("describe_config", "describe_serviceaccount"),
    ("", "Endpoints"): ("describe_config", "describe_endpoints"),
}


def describe(obj: dict, group: str, namespaced: bool,
             events: list[dict] | None, related: dict | None = None) -> str:
    import importlib

    kind = obj.get("kind", "")
    if (group, kind) in PAGES:
        module, function = PAGES[group, kind]
        page = getattr(importlib.import_module(f"kctl.{module}"), function)
        return page(obj, events, related)
    if (group, kind) == ("", "Service"):
        return describe_service(obj, events, (related or {}).get("endpoints"))
    if (group, kind) == ("", "Node"):
        return describe_node(obj, events, related)
    if (group, kind) == ("", "Pod"):
        return describe_pod(obj, events)
    if (group, kind) == ("", "Namespace"):
        return describe_namespace(obj, events)
    from kctl.describe_generic import describe_generic

    return describe_generic(obj, events)
