"""The scale subresource: an autoscaling/v1 Scale view of a workload's replicas.

``kubectl scale`` and autoscalers read and write replicas through it without
knowing the workload's own schema.
"""

from __future__ import annotations

from aiohttp import web

from server import objects
from server.errors import BadRequest, Conflict, FieldError, Invalid
from server.patch import apply_patch
from server.request import API, RequestInfo
from server.selectors import label_selector_from_dict


def selector_text(obj: dict) -> str:
    """The workload's pod selector as label selector text."""
    selector = obj.get("spec", {}).get("selector") or {}
    if "matchLabels" in selector or "matchExpressions" in selector:
        return str(label_selector_from_dict(selector))
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))


def to_scale(obj: dict) -> dict:
    meta = obj["metadata"]
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {k: meta[k] for k in ("name", "namespace", "uid",
                                          "resourceVersion", "creationTimestamp")
                     if k in meta},
        "spec": {"replicas": obj.get("spec", {}).get("replicas", 0)},
        "status": {"replicas": obj.get("status", {}).get("replicas", 0),
                   "selector": selector_text(obj)},
    }


def _replicas(scale: dict, kind_name: str, name: str) -> int:
    spec = scale.get("spec")
    replicas = spec.get("replicas", 0) if isinstance(spec, dict) else None
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        from server.gojson import json_kind

        # The words of decoding the body into autoscaling/v1's Scale.
        raise BadRequest('Scale in version "v1" cannot be handled as a Scale: json: '
                         f"cannot unmarshal {json_kind(replicas)} into Go struct "
                         "field ScaleSpec.spec.replicas of type int32")
    if replicas < 0:
        raise Invalid("Scale", name, [FieldError(
            "Invalid value", "spec.replicas", replicas,
            "must be greater than or equal to 0")], "autoscaling")
    return replicas


async def _set_replicas(api, info: RequestInfo, scale_of) -> dict:
    """Write replicas from the Scale ``scale_of(current)`` makes."""
    def mutate(current: dict) -> dict:
        scale = scale_of(current)
        wanted = scale.get("metadata", {}).get("resourceVersion")
        if wanted and wanted != current["metadata"]["resourceVersion"]:
            raise Conflict.stale(info.kind.resource, info.name, info.kind.group)
        new = objects.deep_copy(current)
        new.setdefault("spec", {})["replicas"] = _replicas(scale, info.kind.kind,
                                                           info.name)
        return api.resources.merge_update(info.kind, current, new, "")

    return await api.resources.guaranteed_update(
        info.kind, info.namespace, info.name, mutate, None)


async def get_scale(request: web.Request, info: RequestInfo) -> web.Response:
    from server.handlers import respond

    api = request.app[API]
    obj = api.resources.entry(info.kind, info.namespace, info.name).object()
    return respond(objects.encode(to_scale(obj)))


async def update_scale(request: web.Request, info: RequestInfo) -> web.Response:
    from server.handlers import respond

    api = request.app[API]
    body = objects.decode_json(await objects.read_body(request),
                               request.headers.get("Content-Type", ""))
    if not isinstance(body, dict):
        raise BadRequest("the body of the request must be a Scale object")
    updated = await _set_replicas(api, info, lambda current: body)
    return respond(objects.encode(to_scale(updated)))


async def patch_scale(request: web.Request, info: RequestInfo) -> web.Response:
    from server.handlers import respond

    api = request.app[API]
    patch = await objects.read_body(request)
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip()

    def patched(current: dict) -> dict:
        return apply_patch("Scale", to_scale(current), patch, content_type)

    updated = await _set_replicas(api, info, patched)
    return respond(objects.encode(to_scale(updated)))
