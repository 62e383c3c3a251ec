"""A container's environment: ``env`` and ``envFrom`` as the kubelet builds it.

Values expand ``$(VAR)`` references to variables defined earlier in the list,
then to the service variables; ``valueFrom`` reads the pod's fields (the
downward API), ConfigMaps and Secrets. Every container also gets the service
variables (``KUBERNETES_SERVICE_HOST`` and the rest, see :func:`service_env`)
that its own ``env`` does not define.
A missing ConfigMap, Secret or key that is not optional is a
:class:`ConfigError`, which the kubelet reports as CreateContainerConfigError.
"""

from __future__ import annotations

import base64
import re
from typing import Awaitable, Callable

from node.runtime.process import expand

# lookup(resource, namespace, name) -> the object, or None when not found.
Lookup = Callable[[str, str, str], Awaitable[dict | None]]

_SUBSCRIPT = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")


class ConfigError(Exception):
    """The container cannot be configured; the message says why."""


def field_value(pod: dict, path: str, host_ip: str) -> str:
    """The value of a fieldRef fieldPath, for the fields a kubelet supports."""
    meta, spec = pod["metadata"], pod["spec"]
    simple = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        # Processes share the host's network: the pod IP is the host IP.
        "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
        "status.podIP": host_ip,
        "status.podIPs": host_ip,
    }
    if path in simple:
        return simple[path]
    match = _SUBSCRIPT.match(path)
    if match:
        return (meta.get(match.group(1)) or {}).get(match.group(2), "")
    raise ConfigError(f'unsupported fieldPath: "{path}"')


def _data(obj: dict, kind: str) -> dict[str, str]:
    values = dict(obj.get("data") or {})
    if kind == "Secret":
        return {k: base64.b64decode(v).decode(errors="replace")
                for k, v in values.items()}
    binary = {k: base64.b64decode(v).decode(errors="replace")
              for k, v in (obj.get("binaryData") or {}).items()}
    return {**binary, **values}


async def _source(lookup: Lookup, kind: str, namespace: str, name: str,
                  optional: bool) -> dict[str, str] | None:
    resource = "configmaps" if kind == "ConfigMap" else "secrets"
    obj = await lookup(resource, namespace, name)
    if obj is None:
        if optional:
            return None
        raise ConfigError(f'{kind.lower()} "{name}" not found')
    return _data(obj, kind)


async def _value_from(ref: dict, pod: dict, host_ip: str, lookup: Lookup) -> str | None:
    namespace = pod["metadata"].get("namespace", "default")
    if "fieldRef" in ref:
        return field_value(pod, ref["fieldRef"]["fieldPath"], host_ip)
    for key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
        if key not in ref:
            continue
        selector = ref[key]
        optional = bool(selector.get("optional"))
        data = await _source(lookup, kind, namespace, selector["name"], optional)
        if data is None:
            return None
        if selector["key"] not in data:
            if optional:
                return None
            raise ConfigError(f"couldn't find key {selector['key']} in {kind} "
                              f"{namespace}/{selector['name']}")
        return data[selector["key"]]
    # TODO: resourceFieldRef needs the container's resources resolved against the
    # node's allocatable; the process runtime enforces no resources yet.
    raise ConfigError("valueFrom: only fieldRef, configMapKeyRef and secretKeyRef "
                      "are supported by the process runtime")


def _env_name(name: str) -> str:
    return name.upper().replace("-", "_")


def service_env(services: list[dict]) -> dict[str, str]:
    """The Docker-link-style variables the kubelet gives a pod for each service
    with a cluster IP (pkg/kubelet/envvars): NAME_SERVICE_HOST, NAME_SERVICE_PORT,
    NAME_SERVICE_PORT_<PORT NAME>, NAME_PORT and NAME_PORT_<port>_<PROTO>_*."""
    env: dict[str, str] = {}
    for service in services:
        spec = service.get("spec") or {}
        host, ports = spec.get("clusterIP", ""), spec.get("ports") or []
        if host in ("", "None") or not ports:
            continue
        prefix = _env_name(service["metadata"]["name"])
        env[f"{prefix}_SERVICE_HOST"] = host
        env[f"{prefix}_SERVICE_PORT"] = str(ports[0]["port"])
        for port in ports:
            if port.get("name"):
                env[f"{prefix}_SERVICE_PORT_{_env_name(port['name'])}"] = \
                    str(port["port"])
        for i, port in enumerate(ports):
            env.update(_link_env(prefix, host, port, first=i == 0))
    return env


def _link_env(prefix: str, host: str, port: dict, first: bool) -> dict[str, str]:
    protocol = port.get("protocol") or "TCP"
    address = f"[{host}]:{port['port']}" if ":" in host else f"{host}:{port['port']}"
    url = f"{protocol.lower()}://{address}"
    link = f"{prefix}_PORT_{port['port']}_{protocol.upper()}"
    env = {f"{prefix}_PORT": url} if first else {}
    env.update({link: url, f"{link}_PROTO": protocol.lower(),
                f"{link}_PORT": str(port["port"]), f"{link}_ADDR": host})
    return env


def pod_services(pod: dict, in_namespace: list[dict],
                 kubernetes: dict | None) -> list[dict]:
    """The services whose variables a pod gets, as the kubelet's
    getServiceEnvVarMap picks them: ``kubernetes`` in ``default`` always, the
    pod's namespace's own only with enableServiceLinks (true by default)."""
    chosen = {}
    if kubernetes is not None:
        chosen["kubernetes"] = kubernetes
    namespace = pod["metadata"].get("namespace", "default")
    if pod["spec"].get("enableServiceLinks", True):
        # The namespace's own service of a name wins, a "kubernetes" one too.
        chosen.update({s["metadata"]["name"]: s for s in in_namespace
                       if s["metadata"].get("namespace", namespace) == namespace})
    return list(chosen.values())


async def container_env(pod: dict, container: dict, host_ip: str,
                        lookup: Lookup,
                        services: dict[str, str] | None = None) -> dict[str, str]:
    """The variables a container defines, in the order Kubernetes applies them,
    then the ``services`` variables it does not define itself."""
    services = services or {}
    namespace = pod["metadata"].get("namespace", "default")
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            if key in source:
                ref = source[key]
                data = await _source(lookup, kind, namespace, ref["name"],
                                     bool(ref.get("optional")))
                env.update({prefix + k: v for k, v in (data or {}).items()})
    for var in container.get("env") or []:
        if "valueFrom" in var:
            value = await _value_from(var["valueFrom"], pod, host_ip, lookup)
            if value is None:
                continue
        else:
            value = expand(var.get("value", ""), {**services, **env})
        env[var["name"]] = value
    return {**env, **{k: v for k, v in services.items() if k not in env}}


def command_line(container: dict, env: dict[str, str]) -> list[str]:
    """``command`` + ``args`` with ``$(VAR)`` expanded from the container's env."""
    return [expand(part, env)
            for part in (container.get("command") or []) + (container.get("args") or [])]
