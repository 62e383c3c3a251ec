"""EndpointSlices of Services with a selector: what the controller plans from
a service and its pods, then the endpoints controller's process keeping them
against a real API server, read back with the real kubectl."""

from __future__ import annotations

import pytest

from controllers.endpointslices import plan, wanted_slices
from tests.conftest import KUBECTL, run_kubectl
from tests.controllers.conftest import wait_for
from tests.controllers.test_endpoints import PORTS, make_pod, service
from tests.controllers.test_replication import pods_path

LABELS = {"team": "a", "kubernetes.io/service-name": "web",
          "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}
SLICE_PORTS = [{"name": "web", "port": 8080, "protocol": "TCP"},
               {"name": "metrics", "port": 9100, "protocol": "TCP"}]


def slices_path(namespace: str) -> str:
    return f"/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices"


def live_service(**spec) -> dict:
    body = service("web", {"app": "web"}, PORTS, **spec)
    body["metadata"].update(namespace="ns", uid="svc-uid")
    return body


def pod(name: str, ip: str, ready: bool = True, **meta) -> dict:
    return {"metadata": {"name": name, "namespace": "ns", "uid": f"{name}-uid",
                         "labels": {"app": "web"}, **meta},
            "spec": {"nodeName": "n1", "containers": [{
                "name": "c", "ports": [{"name": "http", "containerPort": 8080}]}]},
            "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                       "conditions": [{"type": "Ready",
                                       "status": "True" if ready else "False"}]}}


def endpoint(name: str, ip: str, ready=True, serving=True, terminating=False,
             namespace: str = "ns", uid: str | None = None) -> dict:
    return {"addresses": [ip],
            "conditions": {"ready": ready, "serving": serving,
                           "terminating": terminating},
            "targetRef": {"kind": "Pod", "namespace": namespace, "name": name,
                          "uid": uid or f"{name}-uid"},
            "nodeName": "n1"}


def test_one_endpoint_per_pod_with_its_conditions():
    pods = [pod("a", "10.0.0.2"), pod("b", "10.0.0.3", ready=False),
            pod("c", "10.0.0.4", deletionTimestamp="2025-01-01T00:00:00Z"),
            pod("d", "fd00::5"), {**pod("e", "10.0.0.6"),
                                  "status": {"phase": "Succeeded",
                                             "podIP": "10.0.0.6"}}]

    [body] = wanted_slices(live_service(), pods)

    assert body["metadata"] == {
        "generateName": "web-", "namespace": "ns", "labels": LABELS,
        "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": "web",
                             "uid": "svc-uid", "controller": True,
                             "blockOwnerDeletion": True}]}
    assert body["addressType"] == "IPv4"
    assert body["ports"] == SLICE_PORTS
    assert body["endpoints"] == [
        endpoint("a", "10.0.0.2"),
        endpoint("b", "10.0.0.3", ready=False, serving=False),
        endpoint("c", "10.0.0.4", ready=False, terminating=True)]


def test_pods_resolving_other_ports_get_their_own_slice():
    bare = pod("bare", "10.0.0.3")
    bare["spec"]["containers"][0]["ports"] = []

    slices = wanted_slices(live_service(), [pod("a", "10.0.0.2"), bare])

    assert [(s["ports"], len(s["endpoints"])) for s in slices] == [
        ([{"name": "metrics", "port": 9100, "protocol": "TCP"}], 1),
        (SLICE_PORTS, 1)]


def test_no_pods_leave_one_placeholder():
    [body] = wanted_slices(live_service(clusterIP="None"), [])

    assert (body["ports"], body["endpoints"]) == ([], [])
    assert body["metadata"]["labels"]["service.kubernetes.io/headless"] == ""


def test_plan_reuses_a_slice_of_the_same_ports_and_deletes_the_rest():
    stale = {**wanted_slices(live_service(), [pod("a", "10.0.0.2")])[0],
             "metadata": {"name": "web-aaaaa", "labels": LABELS}}
    placeholder = {**wanted_slices(live_service(), [])[0],
                   "metadata": {"name": "web-bbbbb", "labels": LABELS}}

    todo = plan(live_service(), [pod("a", "10.0.0.2"), pod("b", "10.0.0.3")],
                [placeholder, stale])

    assert todo.create == []
    assert [s["metadata"]["name"] for s in todo.update] == ["web-aaaaa"]
    assert todo.update[0]["endpoints"] == [endpoint("a", "10.0.0.2"),
                                           endpoint("b", "10.0.0.3")]
    assert [s["metadata"]["name"] for s in todo.delete] == ["web-bbbbb"]


def test_many_pods_are_cut_into_slices_of_100():
    pods = [pod(f"p{i:03}", f"10.0.{i // 200}.{i % 200 + 1}") for i in range(250)]

    slices = wanted_slices(live_service(), pods)

    assert [len(s["endpoints"]) for s in slices] == [100, 100, 50]


# The controller as a process.

@pytest.fixture
def controllers(api_server, start_controllers):
    start_controllers(api_server.url, "endpoints,garbagecollector")


def slices_of(api, namespace: str, name: str = "web") -> list[dict]:
    return api.get(slices_path(namespace),
                   labelSelector=f"kubernetes.io/service-name={name}")["items"]


def wait_endpoints(api, namespace: str, expected: list[dict]) -> dict:
    def settled():
        found = slices_of(api, namespace)
        return found[0] if len(found) == 1 and found[0]["endpoints"] == expected \
            else None
    try:
        return wait_for(settled, message=f"endpoints {expected}")
    except AssertionError:
        raise AssertionError(f"slices: {slices_of(api, namespace)}")


def pod_endpoint(created: dict, ip: str, **conditions) -> dict:
    meta = created["metadata"]
    return endpoint(meta["name"], ip, namespace=meta["namespace"],
                    uid=meta["uid"], **conditions)


def test_a_service_gets_a_slice_that_follows_its_pods(api, namespace, controllers):
    ready = make_pod(api, namespace, "a", {"app": "web"}, "10.0.0.2", True)
    waiting = make_pod(api, namespace, "b", {"app": "web"}, "10.0.0.3", False)
    svc = api.post(f"/api/v1/namespaces/{namespace}/services",
                   service("web", {"app": "web"}, PORTS))

    found = wait_endpoints(api, namespace, [
        pod_endpoint(ready, "10.0.0.2"),
        pod_endpoint(waiting, "10.0.0.3", ready=False, serving=False)])
    assert found["metadata"]["name"].startswith("web-")
    assert found["metadata"]["labels"] == LABELS
    assert found["metadata"]["ownerReferences"] == [{
        "apiVersion": "v1", "kind": "Service", "name": "web",
        "uid": svc["metadata"]["uid"], "controller": True,
        "blockOwnerDeletion": True}]
    assert (found["addressType"], found["ports"]) == ("IPv4", SLICE_PORTS)

    assert api.delete(pods_path(namespace, "a"), gracePeriodSeconds=0).ok
    assert api.delete(pods_path(namespace, "b"), gracePeriodSeconds=0).ok
    # As kube does, the slice of those ports goes and an empty placeholder,
    # with no ports, takes its place.
    emptied = wait_endpoints(api, namespace, [])
    assert emptied.get("ports", []) == []


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
def test_kubectl_describes_the_ready_endpoints(api, api_server, namespace,
                                               controllers):
    make_pod(api, namespace, "a", {"app": "web"}, "10.0.0.2", True)
    make_pod(api, namespace, "b", {"app": "web"}, "10.0.0.3", False)
    api.post(f"/api/v1/namespaces/{namespace}/services",
             service("web", {"app": "web"}, PORTS[:1]))
    wait_for(lambda: any(s["endpoints"] for s in slices_of(api, namespace)),
             message="a slice with endpoints")

    described = run_kubectl(api_server, "-n", namespace, "describe", "svc", "web")
    listed = run_kubectl(api_server, "-n", namespace, "get", "endpointslices")

    assert described.returncode == 0, described.stderr
    # kubectl lists the ready endpoints only.
    assert "Endpoints:                10.0.0.2:8080\n" in described.stdout
    rows = [line.split() for line in listed.stdout.splitlines()]
    assert rows[0] == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    assert rows[1][1:4] == ["IPv4", "8080", "10.0.0.2,10.0.0.3"]


def test_the_slices_go_with_the_service(api, namespace, controllers):
    make_pod(api, namespace, "a", {"app": "web"}, "10.0.0.2", True)
    api.post(f"/api/v1/namespaces/{namespace}/services",
             service("web", {"app": "web"}, PORTS))
    wait_for(lambda: slices_of(api, namespace), message="a slice")

    assert api.delete(f"/api/v1/namespaces/{namespace}/services/web").ok

    wait_for(lambda: not slices_of(api, namespace), message="no slices left")
