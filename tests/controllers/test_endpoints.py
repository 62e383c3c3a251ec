"""The endpoints controller as a process against a real API server: pod IPs
and readiness are set through the pods' status subresource."""

from __future__ import annotations

import pytest

from tests.controllers.conftest import wait_for
from tests.controllers.test_replication import pods_path


@pytest.fixture
def endpoints_controller(api_server, start_controllers):
    start_controllers(api_server.url, "endpoints")


def service(name: str, selector: dict | None, ports: list[dict],
            **spec) -> dict:
    spec = {"ports": ports, **spec}
    if selector is not None:
        spec["selector"] = selector
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "labels": {"team": "a"}}, "spec": spec}


def make_pod(api, namespace: str, name: str, labels: dict, ip: str,
             ready: bool, node: str = "n1") -> dict:
    pod = api.post(pods_path(namespace), {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"nodeName": node, "containers": [{
            "name": "c", "image": "busybox",
            "ports": [{"name": "http", "containerPort": 8080}]}]}})
    set_pod_status(api, pod, ip, ready)
    return pod


def set_pod_status(api, pod: dict, ip: str, ready: bool) -> None:
    path = pods_path(pod["metadata"]["namespace"], pod["metadata"]["name"])
    fresh = api.get(path)
    fresh["status"] = {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}],
                       "conditions": [{"type": "Ready",
                                       "status": "True" if ready else "False"}]}
    api.put(path + "/status", fresh)


def endpoints_path(namespace: str, name: str) -> str:
    return f"/api/v1/namespaces/{namespace}/endpoints/{name}"


def wait_subsets(api, namespace: str, name: str, expected: list[dict]) -> dict:
    def settled():
        found = api.maybe(endpoints_path(namespace, name))
        return found if found and found.get("subsets", []) == expected else None
    try:
        return wait_for(settled, message=f"subsets {expected}")
    except AssertionError:
        raise AssertionError(f"subsets: {api.maybe(endpoints_path(namespace, name))}")


def address(pod: dict, ip: str, node: str = "n1") -> dict:
    meta = pod["metadata"]
    return {"ip": ip, "nodeName": node, "targetRef": {
        "kind": "Pod", "namespace": meta["namespace"], "name": meta["name"],
        "uid": meta["uid"]}}


PORTS = [{"name": "web", "port": 80, "targetPort": "http", "protocol": "TCP"},
         {"name": "metrics", "port": 9090, "targetPort": 9100, "protocol": "TCP"}]
# In the service's order. kube orders a subset's ports by a hash of each.
RESOLVED = [{"name": "web", "port": 8080, "protocol": "TCP"},
            {"name": "metrics", "port": 9100, "protocol": "TCP"}]


def test_lists_ready_and_not_ready_pods_with_resolved_ports(
        api, namespace, endpoints_controller):
    ready = make_pod(api, namespace, "a", {"app": "web"}, "10.0.0.2", True)
    waiting = make_pod(api, namespace, "b", {"app": "web"}, "10.0.0.3", False)
    make_pod(api, namespace, "other", {"app": "db"}, "10.0.0.4", True)

    api.post(f"/api/v1/namespaces/{namespace}/services",
             service("web", {"app": "web"}, PORTS))

    found = wait_subsets(api, namespace, "web", [{
        "addresses": [address(ready, "10.0.0.2")],
        "notReadyAddresses": [address(waiting, "10.0.0.3")],
        "ports": RESOLVED}])
    assert found["metadata"]["labels"] == {"team": "a"}


def test_follows_pod_readiness_labels_and_deletion(api, namespace,
                                                   endpoints_controller):
    api.post(f"/api/v1/namespaces/{namespace}/services",
             service("web", {"app": "web"}, PORTS))
    pod = make_pod(api, namespace, "a", {"app": "web"}, "10.0.0.2", False)
    wait_subsets(api, namespace, "web", [{
        "notReadyAddresses": [address(pod, "10.0.0.2")], "ports": RESOLVED}])

    set_pod_status(api, pod, "10.0.0.2", ready=True)
    wait_subsets(api, namespace, "web", [{
        "addresses": [address(pod, "10.0.0.2")], "ports": RESOLVED}])

    api.patch(pods_path(namespace, "a"), {"metadata": {"labels": {"app": "x"}}})
    wait_subsets(api, namespace, "web", [])
    api.patch(pods_path(namespace, "a"), {"metadata": {"labels": {"app": "web"}}})
    wait_subsets(api, namespace, "web", [{
        "addresses": [address(pod, "10.0.0.2")], "ports": RESOLVED}])

    assert api.delete(pods_path(namespace, "a"), gracePeriodSeconds=0).ok
    wait_subsets(api, namespace, "web", [])


def test_pods_without_a_named_port_are_left_out_of_it(api, namespace,
                                                      endpoints_controller):
    ports = [{"name": "web", "port": 80, "targetPort": "http"}]
    pod = make_pod(api, namespace, "a", {"app": "web"}, "10.0.0.2", True)
    bare = api.post(pods_path(namespace), {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "bare", "labels": {"app": "web"}},
        "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "x"}]}})
    set_pod_status(api, bare, "10.0.0.9", True)

    api.post(f"/api/v1/namespaces/{namespace}/services",
             service("web", {"app": "web"}, ports))

    wait_subsets(api, namespace, "web", [{
        "addresses": [address(pod, "10.0.0.2")],
        "ports": [{"name": "web", "port": 8080, "protocol": "TCP"}]}])


def test_follows_the_service_and_is_deleted_with_it(api, namespace,
                                                    endpoints_controller):
    pod = make_pod(api, namespace, "a", {"app": "web"}, "10.0.0.2", True)
    services = f"/api/v1/namespaces/{namespace}/services"
    api.post(services, service("web", {"app": "other"}, PORTS))
    wait_subsets(api, namespace, "web", [])

    api.patch(f"{services}/web", {"spec": {"selector": {"app": "web"}}})
    wait_subsets(api, namespace, "web", [{
        "addresses": [address(pod, "10.0.0.2")], "ports": RESOLVED}])
    assert api.delete(f"{services}/web").ok

    wait_for(lambda: api.maybe(endpoints_path(namespace, "web")) is None,
             message="the endpoints deleted")


def test_publish_not_ready_addresses_lists_every_pod_as_ready(
        api, namespace, endpoints_controller):
    pod = make_pod(api, namespace, "a", {"app": "web"}, "10.0.0.2", False)

    api.post(f"/api/v1/namespaces/{namespace}/services",
             service("web", {"app": "web"}, PORTS, publishNotReadyAddresses=True))

    wait_subsets(api, namespace, "web", [{
        "addresses": [address(pod, "10.0.0.2")], "ports": RESOLVED}])


def test_services_without_a_selector_are_left_alone(api, namespace,
                                                    endpoints_controller):
    services = f"/api/v1/namespaces/{namespace}/services"
    api.post(services, service("manual", None, PORTS))
    manual = {"apiVersion": "v1", "kind": "Endpoints",
              "metadata": {"name": "manual"},
              "subsets": [{"addresses": [{"ip": "192.168.1.1"}],
                           "ports": [{"name": "web", "port": 80, "protocol": "TCP"}]}]}
    api.post(f"/api/v1/namespaces/{namespace}/endpoints", manual)
    make_pod(api, namespace, "a", {"app": "web"}, "10.0.0.2", True)
    # A service with a selector, created last, shows the controller has caught up.
    api.post(services, service("probe", {"app": "web"}, PORTS))
    wait_for(lambda: api.maybe(endpoints_path(namespace, "probe")),
             message="the probe's endpoints")

    kept = api.get(endpoints_path(namespace, "manual"))

    assert kept["subsets"] == manual["subsets"]
