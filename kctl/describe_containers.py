"""The containers and volumes blocks of ``kctl describe``, shared by pods and
pod templates.

kubectl's describeContainers writes, for each container: its ids, image and
ports; command and args; state (only once the node reports a status);
resources; probes; environment; mounts. The order here is that one.
"""

from __future__ import annotations

import math
from urllib.parse import quote

from kctl.describe import Writer, rfc1123


def containers(w: Writer, title: str, specs, statuses, pod: dict | None) -> None:
    """``pod`` resolves fieldRef values; a template has none to resolve."""
    if not specs:
        return
    by_name = {s.get("name"): s for s in statuses or []}
    w.line(0, f"{title}:")
    for c in specs:
        st = by_name.get(c["name"])
        _basic_info(w, c, st)
        _command(w, c)
        if st is not None:
            _state(w, "State", st.get("state"))
            if (st.get("lastState") or {}).get("terminated"):
                _state(w, "Last State", st["lastState"])
            w.field(2, "Ready", "True" if st.get("ready") else "False")
            w.field(2, "Restart Count", st.get("restartCount", 0))
        _resources(w, c.get("resources") or {})
        _probes(w, c)
        if c.get("envFrom"):
            _env_from(w, c["envFrom"])
        _env(w, c, pod)
        _mounts(w, c.get("volumeMounts"))


def _basic_info(w: Writer, c: dict, st: dict | None) -> None:
    w.line(1, f"{c['name']}:")
    # As kubectl: both ids are printed, empty, as soon as there is a status.
    if st is not None:
        w.line(2, f"Container ID:\t{st.get('containerID', '')}")
    w.field(2, "Image", c.get("image"))
    if st is not None:
        w.line(2, f"Image ID:\t{st.get('imageID', '')}")
    _ports(w, c.get("ports") or [])


def _ports(w: Writer, ports: list[dict]) -> None:
    if not ports:
        w.field(2, "Port", "<none>")
        w.field(2, "Host Port", "<none>")
        return
    text = ", ".join(f"{p.get('containerPort')}/{p.get('protocol', 'TCP')}"
                     for p in ports)
    w.field(2, "Port" if len(ports) == 1 else "Ports", text)
    hosts = ", ".join(f"{p.get('hostPort', 0)}/{p.get('protocol', 'TCP')}"
                      for p in ports)
    w.field(2, "Host Port" if len(ports) == 1 else "Host Ports", hosts)


def _command(w: Writer, c: dict) -> None:
    for key, label in (("command", "Command"), ("args", "Args")):
        if not c.get(key):
            continue
        w.line(2, f"{label}:")
        for part in c[key]:
            for piece in part.split("\n"):
                w.line(3, piece)


def _state(w: Writer, label: str, state: dict | None) -> None:
    state = state or {}
    if "running" in state:
        w.field(2, label, "Running")
        w.field(3, "Started", rfc1123(state["running"].get("startedAt")))
    elif "waiting" in state:
        w.field(2, label, "Waiting")
        if state["waiting"].get("reason"):
            w.field(3, "Reason", state["waiting"]["reason"])
    elif "terminated" in state:
        t = state["terminated"]
        w.field(2, label, "Terminated")
        for key in ("reason", "message"):
            if t.get(key):
                w.field(3, key.capitalize(), t[key])
        w.field(3, "Exit Code", t.get("exitCode", 0))
        if (t.get("signal") or 0) > 0:
            w.field(3, "Signal", t["signal"])
        w.field(3, "Started", rfc1123(t.get("startedAt")))
        w.field(3, "Finished", rfc1123(t.get("finishedAt")))
    else:
        w.field(2, label, "Waiting")


def _resources(w: Writer, resources: dict) -> None:
    from server.quantity import canonical_quantity

    for key, label in (("limits", "Limits"), ("requests", "Requests")):
        amounts = resources.get(key) or {}
        if amounts:
            w.line(2, f"{label}:")
        for name in sorted(amounts):
            w.field(3, name, canonical_quantity(str(amounts[name])))


def _probes(w: Writer, c: dict) -> None:
    for key, label in (("livenessProbe", "Liveness"), ("readinessProbe", "Readiness"),
                       ("startupProbe", "Startup")):
        if c.get(key) is not None:
            w.field(2, label, describe_probe(c[key]))


def describe_probe(probe: dict) -> str:
    """kubectl's DescribeProbe; a field the object leaves out is Go's zero."""
    attrs = (f"delay={probe.get('initialDelaySeconds', 0)}s "
             f"timeout={probe.get('timeoutSeconds', 0)}s "
             f"period={probe.get('periodSeconds', 0)}s "
             f"#success={probe.get('successThreshold', 0)} "
             f"#failure={probe.get('failureThreshold', 0)}")
    if probe.get("exec") is not None:
        return f"exec [{' '.join((probe['exec'] or {}).get('command') or [])}] {attrs}"
    if probe.get("httpGet") is not None:
        return f"http-get {_probe_url(probe['httpGet'])} {attrs}"
    if probe.get("tcpSocket") is not None:
        tcp = probe["tcpSocket"]
        return f"tcp-socket {tcp.get('host', '')}:{tcp.get('port', '')} {attrs}"
    if probe.get("grpc") is not None:
        grpc = probe["grpc"]
        return f"grpc <pod>:{grpc.get('port', 0)} {grpc.get('service') or ''} {attrs}"
    return f"unknown {attrs}"


def _probe_url(get: dict) -> str:
    # Go's url.URL{Scheme, Host: net.JoinHostPort(host, port), Path}.String().
    host, port = get.get("host", ""), str(get.get("port", ""))
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    path = quote(get.get("path", ""), safe="/$&+,:;=@-_.~")
    if path and not path.startswith("/"):
        path = "/" + path
    scheme = (get.get("scheme") or "").lower()
    return f"{scheme + ':' if scheme else ''}//{netloc}{path}"


def _env_from(w: Writer, sources: list[dict]) -> None:
    w.line(2, "Environment Variables from:")
    for source in sources:
        kind, ref = "", {}
        if source.get("configMapRef") is not None:
            kind, ref = "ConfigMap", source["configMapRef"]
        elif source.get("secretRef") is not None:
            kind, ref = "Secret", source["secretRef"]
        optional = "true" if ref.get("optional") else "false"
        prefix = f" with prefix '{source['prefix']}'" if source.get("prefix") else ""
        w.line(3, f"{ref.get('name', '')}\t{kind}{prefix}\tOptional: {optional}")


def _env(w: Writer, c: dict, pod: dict | None) -> None:
    if not c.get("env"):
        w.field(2, "Environment", "<none>")
        return
    w.line(2, "Environment:")
    for var in c["env"]:
        source = var.get("valueFrom")
        if source is None:
            first, *rest = (var.get("value") or "").split("\n")
            w.line(3, f"{var['name']}:\t{first}")
            for piece in rest:
                w.line(3, f"\t{piece}")
            continue
        text = _env_source(source, c, pod)
        if text is not None:
            w.line(3, f"{var['name']}:\t{text}")


def _env_source(source: dict, c: dict, pod: dict | None) -> str | None:
    if source.get("fieldRef") is not None:
        ref = source["fieldRef"]
        value = _field_value(pod, ref.get("fieldPath", "")) if pod else ""
        return f"{value} ({ref.get('apiVersion', '')}:{ref.get('fieldPath', '')})"
    if source.get("resourceFieldRef") is not None:
        ref = source["resourceFieldRef"]
        resource = ref.get("resource", "")
        value = _resource_value(ref, c)
        if value == "0" and resource in ("limits.cpu", "limits.memory"):
            value = "node allocatable"
        return f"{value} ({resource})"
    for key, words in (("secretKeyRef", "in secret"),
                       ("configMapKeyRef", "of config map")):
        if source.get(key) is not None:
            ref = source[key]
            optional = "true" if ref.get("optional") else "false"
            return (f"<set to the key '{ref.get('key', '')}' {words} "
                    f"'{ref.get('name', '')}'>\tOptional: {optional}")
    return None


def _field_value(pod: dict, path: str) -> str:
    # kubectl converts the path with client-go's scheme, which knows only
    # metadata.name and metadata.namespace for pods; anything else is "".
    if path in ("metadata.name", "metadata.namespace"):
        return (pod.get("metadata") or {}).get(path.split(".")[1], "")
    return ""


def _resource_value(ref: dict, c: dict) -> str:
    """kubectl's ExtractContainerResourceValue for cpu, memory and ephemeral
    storage: the amount divided by the divisor, rounded up."""
    from server.validation import parse_quantity

    which, _, name = ref.get("resource", "").partition(".")
    if which not in ("limits", "requests") or name not in (
            "cpu", "memory", "ephemeral-storage"):
        # TODO: hugepages and extended resources, rare in a describe page.
        return ""
    amount = parse_quantity(((c.get("resources") or {}).get(which) or {})
                            .get(name, "0"))
    divisor = parse_quantity(ref.get("divisor") or "0") or 1
    if name == "cpu":
        return str(math.ceil(math.ceil(amount * 1000) / math.ceil(divisor * 1000)))
    return str(math.ceil(math.ceil(amount) / math.ceil(divisor)))


def _mounts(w: Writer, mounts) -> None:
    if not mounts:
        w.field(2, "Mounts", "<none>")
        return
    w.line(2, "Mounts:")
    for m in sorted(mounts, key=lambda m: m.get("mountPath", "")):
        flags = ["ro" if m.get("readOnly") else "rw"]
        if m.get("subPath"):
            flags.append(f'path="{m["subPath"]}"')
        w.line(3, f"{m.get('mountPath')} from {m.get('name')} ({','.join(flags)})")


# Volumes (kubectl's describeVolumes and its print*VolumeSource).


def volumes(w: Writer, specs, space: str = "") -> None:
    """``space`` is "  " in a pod template: the titles move in, the fields
    under them stay where a pod's are."""
    if not specs:
        w.line(0, f"{space}Volumes:\t<none>")
        return
    w.line(0, f"{space}Volumes:")
    for volume in specs:
        w.line(1, f"{' ' if space else ''}{volume['name']}:")
        for key, write in _VOLUME_SOURCES:
            if volume.get(key) is not None:
                write(w, volume[key] or {})
                break
        else:
            # TODO: the cloud and network volume types kubectl knows are
            # printed as kubectl prints one it does not know.
            w.line(1, "<unknown>")


def _optional(source: dict) -> str:
    return "true" if source.get("optional") else "false"


def _host_path(w: Writer, s: dict) -> None:
    w.line(2, "Type:\tHostPath (bare host directory volume)")
    w.line(2, f"Path:\t{s.get('path', '')}")
    # The type is a pointer: set to "" (the API's default) it prints empty.
    w.line(2, f"HostPathType:\t{s['type'] if 'type' in s else '<none>'}")


def _empty_dir(w: Writer, s: dict) -> None:
    from server.validation import parse_quantity

    limit = s.get("sizeLimit")
    if not limit or parse_quantity(limit) <= 0:
        limit = "<unset>"
    w.line(2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)")
    w.line(2, f"Medium:\t{s.get('medium', '')}")
    w.line(2, f"SizeLimit:\t{limit}")


def _secret(w: Writer, s: dict) -> None:
    w.line(2, "Type:\tSecret (a volume populated by a Secret)")
    w.line(2, f"SecretName:\t{s.get('secretName', '')}")
    w.line(2, f"Optional:\t{_optional(s)}")


def _config_map(w: Writer, s: dict) -> None:
    w.line(2, "Type:\tConfigMap (a volume populated by a ConfigMap)")
    w.line(2, f"Name:\t{s.get('name', '')}")
    w.line(2, f"Optional:\t{_optional(s)}")


def _claim(w: Writer, s: dict) -> None:
    w.line(2, "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim "
              "in the same namespace)")
    w.line(2, f"ClaimName:\t{s.get('claimName', '')}")
    w.line(2, f"ReadOnly:\t{'true' if s.get('readOnly') else 'false'}")


def _projected(w: Writer, s: dict) -> None:
    w.line(2, "Type:\tProjected (a volume that contains injected data from multiple "
              "sources)")
    for source in s.get("sources") or []:
        if source.get("secret") is not None:
            w.line(2, f"SecretName:\t{source['secret'].get('name', '')}")
            w.line(2, f"SecretOptionalName:\t{_pointer(source['secret'])}")
        elif source.get("downwardAPI") is not None:
            w.line(2, "DownwardAPI:\ttrue")
        elif source.get("configMap") is not None:
            w.line(2, f"ConfigMapName:\t{source['configMap'].get('name', '')}")
            w.line(2, f"ConfigMapOptional:\t{_pointer(source['configMap'])}")
        elif source.get("serviceAccountToken") is not None:
            seconds = source["serviceAccountToken"].get("expirationSeconds", 0)
            w.line(2, f"TokenExpirationSeconds:\t{seconds}")


def _pointer(source: dict) -> str:
    # kubectl 1.32 prints the *bool itself: <nil>, or an address that differs
    # on every run, for which kctl prints the value instead.
    if source.get("optional") is None:
        return "<nil>"
    return "true" if source["optional"] else "false"


def _downward_api(w: Writer, s: dict) -> None:
    w.line(2, "Type:\tDownwardAPI (a volume populated by information about the pod)")
    w.line(2, "Items:")
    for item in s.get("items") or []:
        if item.get("fieldRef") is not None:
            w.line(3, f"{item['fieldRef'].get('fieldPath', '')} -> {item.get('path')}")
        if item.get("resourceFieldRef") is not None:
            w.line(3, f"{item['resourceFieldRef'].get('resource', '')} -> "
                      f"{item.get('path')}")


# In kubectl's order of checking, which decides for a volume naming two.
_VOLUME_SOURCES = (("hostPath", _host_path), ("emptyDir", _empty_dir),
                   ("secret", _secret), ("configMap", _config_map),
                   ("persistentVolumeClaim", _claim), ("projected", _projected),
                   ("downwardAPI", _downward_api))
