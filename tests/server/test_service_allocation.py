"""Services' clusterIPs and nodePorts over HTTP and with the real kubectl."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import free_port
from tests.server.helpers import API, MERGE_PATCH, status_of

# Requested nodePorts come from the bottom of the range, which dynamic
# allocation leaves alone (KEP-3668), so other tests never take them.
TAKEN_PORT = 30001


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def failed(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, result.stdout
    return result.stderr


def service(name: str, **spec) -> dict:
    spec.setdefault("ports", [{"port": 80}])
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": spec}


@pytest.fixture
def api(api_server) -> API:
    return API(api_server.url)


def test_patching_only_the_cluster_ip_is_refused(api, kubectl, namespace):
    ok(kubectl("-n", namespace, "create", "service", "clusterip", "svc1",
               "--tcp=80"))
    before = api.get("services", namespace, "svc1").json()["spec"]

    result = kubectl("-n", namespace, "patch", "svc", "svc1", "--type=merge",
                     "-p", '{"spec":{"clusterIP":"10.0.0.99"}}')

    assert failed(result) == (
        'The Service "svc1" is invalid: spec.clusterIPs[0]: Invalid value: '
        '[]string{"10.0.0.99"}: may not change once set\n')
    after = api.get("services", namespace, "svc1").json()["spec"]
    assert after["clusterIPs"] == before["clusterIPs"] == [before["clusterIP"]]
    assert after["clusterIP"] == before["clusterIP"]


def test_node_port_services_get_a_node_port_each(kubectl, namespace):
    ok(kubectl("-n", namespace, "create", "service", "nodeport", "np",
               "--tcp=80:8080"))
    ok(kubectl("-n", namespace, "create", "service", "loadbalancer", "lb",
               "--tcp=443,80"))

    table = ok(kubectl("-n", namespace, "get", "svc")).splitlines()

    assert re.fullmatch(r"lb +LoadBalancer +10\.0\.0\.\d+ +<pending> +"
                        r"443:3\d{4}/TCP,80:3\d{4}/TCP +\d+s", table[1]), table
    assert re.fullmatch(r"np +NodePort +10\.0\.0\.\d+ +<none> +80:3\d{4}/TCP +\d+s",
                        table[2]), table


@pytest.mark.parametrize("node_port,reason", [
    (TAKEN_PORT, "provided port is already allocated"),
    (80, "provided port is not in the valid range. The range of valid ports is "
         "30000-32767"),
], ids=["taken", "out-of-range"])
def test_a_requested_node_port_must_be_free_and_in_range(kubectl, namespace,
                                                         node_port, reason):
    ns = ("-n", namespace)
    ok(kubectl(*ns, "create", "service", "nodeport", "first", "--tcp=80",
               f"--node-port={TAKEN_PORT}"))

    result = kubectl(*ns, "create", "service", "nodeport", "second", "--tcp=80",
                     f"--node-port={node_port}")

    assert failed(result) == (
        'error: failed to create NodePort service: Service "second" is invalid: '
        f"spec.ports[0].nodePort: Invalid value: {node_port}: {reason}\n")
    ok(kubectl(*ns, "delete", "svc", "first"))


def test_node_port_to_cluster_ip_gives_the_port_back(api, kubectl, namespace):
    ns = ("-n", namespace)
    ok(kubectl(*ns, "create", "service", "nodeport", "first", "--tcp=80",
               f"--node-port={TAKEN_PORT}"))

    assert ok(kubectl(*ns, "patch", "svc", "first", "-p",
                      '{"spec":{"type":"ClusterIP"}}')) == "service/first patched\n"
    ok(kubectl(*ns, "create", "service", "nodeport", "second", "--tcp=80",
               f"--node-port={TAKEN_PORT}"))

    ports = api.get("services", namespace, "first").json()["spec"]["ports"]
    assert ports == [{"name": "80", "port": 80, "protocol": "TCP",
                      "targetPort": 80}]
    ok(kubectl(*ns, "delete", "svc", "second"))


def test_external_name_and_back_moves_the_cluster_ip(api, namespace):
    created = api.create("services", namespace, service("web")).json()
    ip = created["spec"]["clusterIP"]

    to_name = api.patch("services", namespace, "web", {"spec": {
        "type": "ExternalName", "externalName": "example.com"}}, MERGE_PATCH)
    taker = api.create("services", namespace, service("taker", clusterIP=ip))
    back = api.patch("services", namespace, "web", {"spec": {
        "type": "ClusterIP", "externalName": None}}, MERGE_PATCH)

    assert to_name.status_code == 200, to_name.text
    assert "clusterIP" not in to_name.json()["spec"]
    assert taker.status_code == 201, taker.text
    assert back.status_code == 200, back.text
    spec = back.json()["spec"]
    assert spec["clusterIP"] != ip and spec["clusterIPs"] == [spec["clusterIP"]]


def test_a_deleted_service_gives_its_port_back(api, namespace):
    body = service("np", type="NodePort",
                   ports=[{"port": 80, "nodePort": TAKEN_PORT + 1}])

    first = api.create("services", namespace, body)
    api.delete("services", namespace, "np")
    again = api.create("services", namespace, body)

    assert (first.status_code, again.status_code) == (201, 201), again.text
    api.delete("services", namespace, "np")


def test_allocations_survive_a_restart(start_server):
    first = start_server("--service-node-port-range=31000-31099")
    api = API(first.url)
    created = api.create("services", "default", service(
        "np", type="NodePort", ports=[{"port": 80}])).json()
    node_port = created["spec"]["ports"][0]["nodePort"]
    ip = created["spec"]["clusterIP"]
    first.stop()

    second = start_server("--service-node-port-range=31000-31099",
                          data_dir=first.data_dir)
    api = API(second.url)
    same_port = api.create("services", "default", service(
        "b", type="NodePort", ports=[{"port": 80, "nodePort": node_port}]))
    same_ip = api.create("services", "default", service("c", clusterIP=ip))
    outside = api.create("services", "default", service(
        "d", type="NodePort", ports=[{"port": 80, "nodePort": 30000}]))

    assert 31000 <= node_port <= 31099
    assert status_of(same_port)[2] == (
        f'Service "b" is invalid: spec.ports[0].nodePort: Invalid value: '
        f"{node_port}: provided port is already allocated")
    assert status_of(same_ip)[0] == 422
    assert status_of(outside)[2].endswith(
        "The range of valid ports is 31000-31099")


def test_a_bad_node_port_range_stops_serve(tmp_path):
    command = [sys.executable, "-m", "server", "--port", str(free_port()),
               "--data-dir", str(tmp_path), "--no-node", "--no-controllers",
               "--service-node-port-range=lots"]

    result = subprocess.run(command, capture_output=True, text=True, timeout=30)

    assert result.returncode == 1
    assert result.stderr.endswith("error: unable to parse port range: lots\n")
