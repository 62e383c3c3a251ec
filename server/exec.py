"""pods/exec: a WebSocket relayed to the node agent that runs the pod, as
kube-apiserver relays it to the kubelet.

The request is checked here first (pod, container, node, command, that the
container runs), so every refusal is a plain Status before any upgrade. Then
the agent's /exec endpoint is dialled with the subprotocol the client prefers,
the client's connection is upgraded to the same one, and binary messages go
through unchanged both ways (see node/channels.py for their framing) until
either side closes. Closing one side closes the other: the agent kills the
command when its WebSocket goes.

kubectl 1.30 and later try a WebSocket first and fall back to SPDY when the
upgrade fails; before 1.30 they speak only SPDY (1.29 tries WebSocket with
KUBECTL_REMOTE_COMMAND_WEBSOCKETS=true).
"""

from __future__ import annotations

import logging

import aiohttp
from aiohttp import WSCloseCode, WSMsgType, web
from multidict import MultiDict

from node import channels
from server.errors import APIError, BadRequest, ServiceUnavailable
from server.kubelet import node_endpoint, pick_container
from server.request import API, RequestInfo
from server.streams import Streams

log = logging.getLogger("server.exec")

# The PodExecOptions the agent is sent; the container is in its path.
FORWARDED = ("command", "stdin", "stdout", "stderr", "tty")


def check_exec_options(query) -> list[str]:
    """The command of a request whose streams make sense; BadRequest if not."""
    command = query.getall("command", [])
    if not command:
        raise BadRequest("you must specify at least 1 command")
    streams = [_flag(query, key) for key in ("stdin", "stdout", "stderr")]
    if not any(streams):
        raise BadRequest("you must specify at least 1 of stdin, stdout, stderr")
    return command


def _flag(query, key: str) -> bool:
    text = query.get(key)
    return text is not None and text != "0" and text.lower() != "false"


def check_running(pod: dict, container: str) -> None:
    """Refuse a container that does not run, in the words kubectl prints for
    the kubelet's answer."""
    status = pod.get("status", {})
    statuses = (status.get("containerStatuses") or []) + \
        (status.get("initContainerStatuses") or [])
    state = next((s.get("state", {}) for s in statuses if s["name"] == container), {})
    if "running" not in state:
        raise _container_not_found(container)


def _container_not_found(container: str) -> APIError:
    # kube-apiserver turns the kubelet's failed upgrade into an InternalError.
    # Since 1.30 it sends that on the error stream after upgrading (kubectl
    # prints "error: Internal error occurred: ..."); refused here before the
    # upgrade, kubectl prints it as "Error from server (InternalError): ...".
    message = f'unable to upgrade connection: container not found ("{container}")'
    return APIError(f"Internal error occurred: {message}",
                    details={"causes": [{"message": message}]})


def chosen_protocol(request: web.Request) -> str:
    """The subprotocol to upgrade to; BadRequest for a request that cannot be
    served."""
    upgrade = request.headers.get("Upgrade", "").lower()
    if upgrade.startswith("spdy"):
        # TODO: SPDY/3.1 is not served (aiohttp has no SPDY framing): kubectl
        # before 1.30, and clients without WebSocket support, cannot exec.
        raise BadRequest("pods/exec is served over WebSocket only "
                         f"({', '.join(channels.PROTOCOLS)}), not SPDY: use "
                         "kubectl 1.30 or later (1.29 with "
                         "KUBECTL_REMOTE_COMMAND_WEBSOCKETS=true)")
    if upgrade != "websocket":
        raise BadRequest("Upgrade request required")
    protocol = channels.negotiate(request.headers.get("Sec-WebSocket-Protocol", ""))
    if protocol is None:
        raise BadRequest("none of the offered WebSocket subprotocols is served: "
                         f"use one of {', '.join(channels.PROTOCOLS)}")
    return protocol


async def pod_exec(request: web.Request, info: RequestInfo) -> web.StreamResponse:
    api = request.app[API]
    pod = api.resources.entry(info.kind, info.namespace, info.name).object()
    container = pick_container(pod, info.name, request.query.get("container", ""))
    node_name = pod.get("spec", {}).get("nodeName")
    if not node_name:
        raise BadRequest(f"pod {info.name} does not have a host assigned")
    command = check_exec_options(request.query)
    check_running(pod, container)
    protocol = chosen_protocol(request)

    url = (f"{node_endpoint(api, node_name)}/exec/{info.namespace}/{info.name}/"
           f"{container}")
    query = MultiDict((k, v) for k, v in request.query.items() if k in FORWARDED)
    log.debug("exec %s/%s/%s %s via %s", info.namespace, info.name, container,
              command, protocol)
    return await _proxy(request, url, query, protocol, container, node_name)


async def _proxy(request: web.Request, url: str, query: MultiDict, protocol: str,
                 container: str, node_name: str) -> web.StreamResponse:
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=5)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        try:
            upstream = await session.ws_connect(url, params=query,
                                                protocols=(protocol,))
        except aiohttp.WSServerHandshakeError as error:
            raise _refused(error.status, container, node_name) from error
        except aiohttp.ClientConnectionError as error:
            raise ServiceUnavailable(f"cannot reach the node agent of node "
                                     f"{node_name} at {url}: {error}")
        async with upstream:
            client = web.WebSocketResponse(protocols=(protocol,))
            await client.prepare(request)
            await _relay(request.app[API].streams, client, upstream)
            return client


def _refused(status: int, container: str, node_name: str) -> APIError:
    # The agent checks what was checked here; it disagrees only when the
    # container stopped in between (404).
    if status == 404:
        return _container_not_found(container)
    return APIError(f"Internal error occurred: the node agent of node {node_name} "
                    f"refused the exec with HTTP {status}")


async def _relay(streams: Streams, client: web.WebSocketResponse,
                 upstream: aiohttp.ClientWebSocketResponse) -> None:
    """Copy messages both ways until one side closes, then close the other;
    both, with 1001 Going Away, when the server stops."""
    code = WSCloseCode.OK
    try:
        if await streams.until_closed(_forward(client, upstream),
                                      _forward(upstream, client)):
            code = WSCloseCode.GOING_AWAY
    finally:
        await upstream.close(code=code)
        await client.close(code=code)


async def _forward(source, sink) -> None:
    async for message in source:
        if message.type != WSMsgType.BINARY:
            continue
        try:
            await sink.send_bytes(message.data)
        except ConnectionError:
            return
