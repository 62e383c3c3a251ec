"""What a resource request is about: parsed from its path, query and headers.

kube-apiserver calls this RequestInfo: the verb, the kind's resource, the
namespace, the name and the subresource.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiohttp import web

from server.errors import BadRequest, NotAcceptable, NotFound
from server.registry import Kind, Registry

# Where the application keeps its APIServer (server.app).
API = web.AppKey("api")

PROTOBUF = "application/vnd.kubernetes.protobuf"
INT64_MIN, INT64_MAX = -2**63, 2**63 - 1


@dataclass
class RequestInfo:
    kind: Kind
    namespace: str  # "" for a cluster-scoped kind or an all-namespaces list
    name: str
    subresource: str
    watch: bool  # the legacy /watch/ path form


def parse_path(registry: Registry, group: str, version: str,
               segments: list[str]) -> RequestInfo:
    """Resolve ``segments`` (the path after /api/v1 or /apis/G/V)."""
    watch = bool(segments) and segments[0] == "watch"
    if watch:
        segments = segments[1:]
    namespace = ""
    if (len(segments) >= 3 and segments[0] == "namespaces"
            and _namespaced(registry, group, version, segments[2])):
        namespace, segments = segments[1], segments[2:]
    if not segments or len(segments) > 3 or not all(segments):
        raise NotFound("the server could not find the requested resource")
    resource = segments[0]
    kind = registry.get(group, version, resource)
    if kind is None:
        raise NotFound("the server could not find the requested resource")
    name = segments[1] if len(segments) > 1 else ""
    subresource = segments[2] if len(segments) > 2 else ""
    if subresource and subresource not in kind.subresources:
        raise NotFound("the server could not find the requested resource")
    return RequestInfo(kind, namespace, name, subresource, watch)


def _namespaced(registry: Registry, group: str, version: str, resource: str) -> bool:
    kind = registry.get(group, version, resource)
    return kind is not None and kind.namespaced


def wants_table(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    if "as=Table" not in accept:
        return False
    # A client that asks for a Table names the meta.k8s.io group with it.
    return any("as=Table" in part and "g=meta.k8s.io" in part
               for part in accept.split(","))


YAML = "application/yaml"
# What a client must accept for us to answer: JSON, under any of its names,
# or YAML.
_ANSWERABLE = {"application/json", "application/*", "*/*", YAML}


def check_acceptable(request: web.Request) -> None:
    """406 for a client that accepts nothing we answer in (protobuf alone, or a
    type we do not know), as kube-apiserver refuses a type it cannot write."""
    accept = request.headers.get("Accept", "")
    if not accept:
        return
    types = {p.split(";")[0].strip().lower() for p in accept.split(",")}
    if not types & _ANSWERABLE:
        raise NotAcceptable("only the following media types are accepted: "
                            "application/json, application/yaml")


def wants_yaml(request: web.Request) -> bool:
    """Whether the client prefers YAML: it names application/yaml before
    any type we would answer JSON for (q-values are not weighed)."""
    accept = request.headers.get("Accept", "")
    if "yaml" not in accept:
        return False
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        if media == YAML:
            return True
        if media in _ANSWERABLE:
            return False
    return False


def query_int(request: web.Request, name: str) -> int | None:
    text = request.query.get(name)
    if text is None or text == "":
        return None
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        # The Go conversion's own error, which kube-apiserver answers with.
        raise BadRequest(f'strconv.ParseInt: parsing "{text}": invalid syntax')
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        # Every integer of kube's query options (limit, timeoutSeconds,
        # gracePeriodSeconds) is an int64.
        raise BadRequest(f'strconv.ParseInt: parsing "{text}": value out of range')
    return value


def query_bool(request: web.Request, name: str) -> bool:
    """As kube's query conversion reads a bool: absent, "0" and "false" (in any
    case) are false, anything else, even an empty value, is true."""
    if name not in request.query:
        return False
    text = request.query[name]
    return text != "0" and text.lower() != "false"
