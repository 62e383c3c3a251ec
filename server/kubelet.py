"""What the subresources served by a pod's node agent share (pods/log,
pods/exec): the container a request names, and where the agent listens."""

from __future__ import annotations

from server.errors import BadRequest, NotFound, ServiceUnavailable

# Where a node agent says its endpoint listens, when not on its InternalIP.
KUBELET_HOST_ANNOTATION = "kctl.dev/kubelet-host"


def pick_container(pod: dict, name: str, requested: str) -> str:
    """The container a request means, checked as kube-apiserver's
    streamLocation checks it (an init container may be named too)."""
    spec = pod.get("spec", {})
    containers = [c["name"] for c in spec.get("containers", [])]
    others = [c["name"] for c in spec.get("initContainers", [])]
    if not requested:
        if len(containers) == 1:
            return containers[0]
        raise BadRequest(f"a container name must be specified for pod {name}, "
                         f"choose one of: [{' '.join(containers)}]")
    if requested not in containers + others:
        raise BadRequest(f"container {requested} is not valid for pod {name}")
    return requested


def node_endpoint(api, node_name: str) -> str:
    """The base URL of the agent's endpoint that the Node publishes."""
    nodes = api.registry.get("", "v1", "nodes")
    try:
        node = api.resources.entry(nodes, "", node_name).object()
    except NotFound:
        raise ServiceUnavailable(f'node "{node_name}" of this pod is not registered')
    status = node.get("status", {})
    port = status.get("daemonEndpoints", {}).get("kubeletEndpoint", {}).get("Port")
    host = node["metadata"].get("annotations", {}).get(KUBELET_HOST_ANNOTATION)
    if host is None:
        host = next((a["address"] for a in status.get("addresses", [])
                     if a.get("type") == "InternalIP"), None)
    if not port or not host:
        raise ServiceUnavailable(f'node "{node_name}" does not publish the endpoint of its node agent')
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"
