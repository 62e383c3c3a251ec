"""What every cluster has from its first start: the kubernetes Service and
its Endpoints in ``default``, naming this server."""

from __future__ import annotations

import ipaddress

import pytest
import requests

from server.bootstrap import advertise_ip
from tests.conftest import KUBECTL, run_kubectl
from tests.controllers.conftest import wait_for

SERVICE = "/api/v1/namespaces/default/services/kubernetes"
ENDPOINTS = "/api/v1/namespaces/default/endpoints/kubernetes"


def get(server, path: str) -> dict:
    response = requests.get(server.url + path, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def port_of(server) -> int:
    return int(server.url.rsplit(":", 1)[1])


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
def test_kubectl_get_svc_kubernetes(api_server):
    result = run_kubectl(api_server, "get", "svc", "kubernetes")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP",
                                "PORT(S)", "AGE"]
    assert lines[1].split()[:5] == ["kubernetes", "ClusterIP", "10.0.0.1", "<none>",
                                    "443/TCP"]


def test_the_service_and_endpoints_name_this_server(api_server):
    service = get(api_server, SERVICE)
    endpoints = get(api_server, ENDPOINTS)

    assert service["metadata"]["labels"] == {"component": "apiserver",
                                             "provider": "kubernetes"}
    assert service["spec"]["ports"] == [{"name": "https", "protocol": "TCP",
                                         "port": 443,
                                         "targetPort": port_of(api_server)}]
    assert "selector" not in service["spec"]
    assert endpoints["subsets"] == [{
        "addresses": [{"ip": "127.0.0.1"}],
        "ports": [{"name": "https", "port": port_of(api_server),
                   "protocol": "TCP"}]}]


def test_a_restart_on_another_port_moves_them(start_server, tmp_path):
    data_dir = str(tmp_path / "moved")
    first = start_server(data_dir=data_dir)
    before = get(first, SERVICE)
    first.stop()

    second = start_server(data_dir=data_dir)
    after = get(second, SERVICE)
    endpoints = get(second, ENDPOINTS)

    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert after["spec"]["clusterIP"] == "10.0.0.1"
    assert after["spec"]["ports"][0]["targetPort"] == port_of(second)
    assert endpoints["subsets"][0]["ports"][0]["port"] == port_of(second)


def test_the_first_user_service_gets_the_second_ip(start_server):
    server = start_server("--service-cluster-ip-range=10.8.0.0/30")
    body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
            "spec": {"ports": [{"port": 80}]}}

    created = requests.post(server.url + "/api/v1/namespaces/default/services",
                            json=body, timeout=30)
    full = requests.post(server.url + "/api/v1/namespaces/default/services",
                         json={**body, "metadata": {"name": "more"}}, timeout=30)

    assert get(server, SERVICE)["spec"]["clusterIP"] == "10.8.0.1"
    assert created.json()["spec"]["clusterIP"] == "10.8.0.2"
    assert full.status_code == 500
    assert "range is full" in full.json()["message"]


def test_a_deleted_kubernetes_service_comes_back(start_server):
    server = start_server()
    uid = get(server, SERVICE)["metadata"]["uid"]

    requests.delete(server.url + SERVICE, timeout=30)
    again = wait_for(
        lambda: (r := requests.get(server.url + SERVICE, timeout=30)).ok and r.json(),
        timeout=20, interval=0.5, message="the kubernetes service made again")

    assert again["metadata"]["uid"] != uid
    assert again["spec"]["clusterIP"] == "10.0.0.1"


def test_advertise_ip():
    assert advertise_ip("127.0.0.1") == "127.0.0.1"
    assert advertise_ip("localhost") == "127.0.0.1"
    assert not ipaddress.ip_address(advertise_ip("0.0.0.0")).is_unspecified
