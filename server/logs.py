"""pods/log: proxied to the node agent that runs the pod, as kube-apiserver
proxies it to the kubelet's /containerLogs endpoint."""

from __future__ import annotations

import re

import aiohttp
from aiohttp import web

from server.errors import APIError, BadRequest, FieldError, Invalid, \
    ServiceUnavailable
from server.kubelet import node_endpoint, pick_container
from server.request import API, RequestInfo

# Query parameters of a log request the kubelet understands.
LOG_PARAMETERS = ("follow", "tailLines", "previous", "timestamps", "sinceSeconds",
                  "sinceTime", "limitBytes")
_BOOLS = {"1": True, "t": True, "T": True, "true": True, "TRUE": True,
          "True": True, "0": False, "f": False, "F": False, "false": False,
          "FALSE": False, "False": False}
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?"
                      r"(Z|[+-]\d\d:\d\d)")


def check_log_options(query, name: str) -> None:
    """Decode and validate PodLogOptions as kube-apiserver does before it asks
    the kubelet: a value that does not parse is a 400, one out of range a 422
    (ValidatePodLogOptions), so a client never sees the node's own answer."""
    for key in ("follow", "previous", "timestamps"):
        if key in query and query[key] not in _BOOLS:
            raise BadRequest(f'strconv.ParseBool: parsing "{query[key]}": '
                             "invalid syntax")
    numbers = {}
    for key in ("tailLines", "sinceSeconds", "limitBytes"):
        if key in query:
            if not re.fullmatch(r"[+-]?[0-9]+", query[key]):
                raise BadRequest(f'strconv.ParseInt: parsing "{query[key]}": '
                                 "invalid syntax")
            numbers[key] = int(query[key])
    if "sinceTime" in query and not _RFC3339.fullmatch(query["sinceTime"]):
        raise BadRequest(f'parsing time "{query["sinceTime"]}" as '
                         '"2006-01-02T15:04:05Z07:00": cannot parse')
    errors = _log_option_errors(numbers, "sinceTime" in query)
    if errors:
        raise Invalid("PodLogOptions", name, errors)


def _log_option_errors(numbers: dict, since_time: bool) -> list[FieldError]:
    errors = []
    if numbers.get("tailLines", 0) < 0:
        errors.append(FieldError("Invalid value", "tailLines", numbers["tailLines"],
                                 "must be greater than or equal to 0"))
    if numbers.get("limitBytes", 1) < 1:
        errors.append(FieldError("Invalid value", "limitBytes",
                                 numbers["limitBytes"], "must be greater than 0"))
    if since_time and "sinceSeconds" in numbers:
        errors.append(FieldError("Forbidden", "", None, "at most one of `sinceTime` "
                                 "or `sinceSeconds` may be specified"))
    elif numbers.get("sinceSeconds", 1) < 1:
        errors.append(FieldError("Invalid value", "sinceSeconds",
                                 numbers["sinceSeconds"], "must be greater than 0"))
    return errors


async def pod_log(request: web.Request, info: RequestInfo) -> web.StreamResponse:
    api = request.app[API]
    pod = api.resources.entry(info.kind, info.namespace, info.name).object()
    check_log_options(request.query, info.name)
    container = pick_container(pod, info.name, request.query.get("container", ""))
    node_name = pod.get("spec", {}).get("nodeName")
    if not node_name:
        raise BadRequest(f"pod {info.name} does not have a host assigned")
    url = (f"{node_endpoint(api, node_name)}/containerLogs/{info.namespace}/"
           f"{info.name}/{container}")
    query = {k: v for k, v in request.query.items() if k in LOG_PARAMETERS}
    return await _proxy(request, url, query, node_name)


async def _proxy(request: web.Request, url: str, query: dict,
                 node_name: str) -> web.StreamResponse:
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=5)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.get(url, params=query) as upstream:
                if upstream.status != 200:
                    text = (await upstream.text()).strip()
                    raise APIError(text or f"node {node_name} answered "
                                   f"{upstream.status}", code=upstream.status,
                                   reason=_reason(upstream.status))
                response = web.StreamResponse(
                    headers={"Content-Type": "text/plain"})
                await response.prepare(request)
                await request.app[API].streams.until_closed(_copy(upstream, response))
                return response
    except aiohttp.ClientConnectionError as error:
        raise ServiceUnavailable(
            f"cannot reach the node agent of node {node_name} at {url}: {error}")


async def _copy(upstream: aiohttp.ClientResponse,
                response: web.StreamResponse) -> None:
    async for chunk in upstream.content.iter_any():
        await response.write(chunk)


def _reason(code: int) -> str:
    return {400: "BadRequest", 404: "NotFound"}.get(code, "InternalError")
