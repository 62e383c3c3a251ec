"""pods/exec on the server (server/exec.py): what is refused before any
upgrade, and how the subresource is published. Running commands through an
agent is tested in tests/node/test_exec_kubectl.py."""

from __future__ import annotations

import pytest
import requests

from tests.server.helpers import API, pod, status_of

WEBSOCKET = {"Upgrade": "websocket", "Connection": "Upgrade",
             "Sec-WebSocket-Version": "13",
             "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
             "Sec-WebSocket-Protocol": "v5.channel.k8s.io"}
SPDY = {"Upgrade": "SPDY/3.1", "Connection": "Upgrade",
        "X-Stream-Protocol-Version": "v4.channel.k8s.io"}
ECHO = "command=echo&command=hi&stdout=true"


@pytest.fixture
def api(api_server) -> API:
    return API(api_server.url)


def running(name: str, node: str = "no-such-node", **spec) -> dict:
    body = pod(name, nodeName=node, **spec)
    body["status"] = {"phase": "Running", "containerStatuses": [
        {"name": c["name"], "state": {"running": {}}, "ready": True,
         "restartCount": 0, "image": c["image"], "imageID": ""}
        for c in body["spec"]["containers"]]}
    return body


def create_running(api: API, namespace: str, body: dict) -> None:
    created = api.create("pods", namespace, body)
    assert created.status_code == 201, created.text
    current = created.json()
    current["status"] = body["status"]
    updated = api.put("pods", namespace, body["metadata"]["name"], current, "status")
    assert updated.status_code == 200, updated.text


def exec_status(api: API, namespace: str, name: str, query: str,
                headers=None, method: str = "GET") -> tuple[int, str, str]:
    path = api.path("pods", namespace, name, "exec") + "?" + query
    headers = WEBSOCKET if headers is None else headers
    return status_of(api.request(method, path, headers=dict(headers)))


def test_a_missing_pod_is_not_found(api, namespace):
    assert exec_status(api, namespace, "nope", ECHO) == (
        404, "NotFound", 'pods "nope" not found')


@pytest.mark.parametrize("query, message", [
    (f"{ECHO}&container=bogus", "container bogus is not valid for pod two"),
    (ECHO, "a container name must be specified for pod two, choose one of: "
           "[main side]"),
    ("container=main&stdout=true", "you must specify at least 1 command"),
    ("container=main&command=ls", "you must specify at least 1 of stdin, stdout, "
                                  "stderr"),
], ids=["bad-container", "no-container", "no-command", "no-stream"])
def test_bad_requests(api, namespace, query, message):
    body = running("two")
    body["spec"]["containers"].append({"name": "side", "image": "busybox",
                                       "command": ["sleep", "3600"]})
    body["status"]["containerStatuses"].append(
        {**body["status"]["containerStatuses"][0], "name": "side"})
    create_running(api, namespace, body)

    assert exec_status(api, namespace, "two", query) == (400, "BadRequest", message)


def test_a_pod_without_a_node_has_no_host(api, namespace):
    api.create("pods", namespace, pod("unscheduled"))

    assert exec_status(api, namespace, "unscheduled", ECHO) == (
        400, "BadRequest", "pod unscheduled does not have a host assigned")


def test_a_container_that_does_not_run_is_not_found_by_the_node(api, namespace):
    api.create("pods", namespace, pod("pending", nodeName="no-such-node"))

    assert exec_status(api, namespace, "pending", ECHO) == (
        500, "InternalError", "Internal error occurred: unable to upgrade "
                              'connection: container not found ("main")')


@pytest.mark.parametrize("headers, expected", [
    ({}, (400, "BadRequest", "Upgrade request required")),
    (SPDY, (400, "BadRequest", "pods/exec is served over WebSocket only "
                               "(v5.channel.k8s.io, v4.channel.k8s.io), not SPDY: "
                               "use kubectl 1.30 or later (1.29 with "
                               "KUBECTL_REMOTE_COMMAND_WEBSOCKETS=true)")),
    ({**WEBSOCKET, "Sec-WebSocket-Protocol": "channel.k8s.io"},
     (400, "BadRequest", "none of the offered WebSocket subprotocols is served: "
                         "use one of v5.channel.k8s.io, v4.channel.k8s.io")),
    (WEBSOCKET, (503, "ServiceUnavailable",
                 'node "no-such-node" of this pod is not registered')),
], ids=["no-upgrade", "spdy", "old-protocol", "node-not-registered"])
def test_the_upgrade(api, namespace, headers, expected):
    create_running(api, namespace, running("up"))

    method = "POST" if headers is SPDY else "GET"
    assert exec_status(api, namespace, "up", ECHO, headers, method) == expected


def test_other_methods_are_not_allowed(api, namespace):
    create_running(api, namespace, running("put"))

    assert exec_status(api, namespace, "put", ECHO, method="PUT")[:2] == (
        405, "MethodNotAllowed")


def test_discovery_lists_pods_exec(api_server):
    resources = requests.get(api_server.url + "/api/v1", timeout=10).json()

    [entry] = [r for r in resources["resources"] if r["name"] == "pods/exec"]
    assert entry == {"name": "pods/exec", "singularName": "", "namespaced": True,
                     "kind": "PodExecOptions", "verbs": ["create", "get"]}


def test_openapi_has_the_connect_operations(api_server):
    document = requests.get(api_server.url + "/openapi/v2", timeout=30).json()

    item = document["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/exec"]
    assert {verb: (op["operationId"], op["x-kubernetes-action"],
                   op["x-kubernetes-group-version-kind"]["kind"])
            for verb, op in item.items() if verb != "parameters"} == {
        "get": ("connectCoreV1GetNamespacedPodExec", "connect", "PodExecOptions"),
        "post": ("connectCoreV1PostNamespacedPodExec", "connect", "PodExecOptions"),
    }
