"""What every cluster has from its first start: the kubernetes Service and
its Endpoints and EndpointSlice in ``default``, naming this server."""

from __future__ import annotations

import ipaddress
import os
import subprocess

import pytest
import requests

from server.bootstrap import advertise_ip
from tests.conftest import KUBECTL, run_kubectl
from tests.controllers.conftest import wait_for

SERVICE = "/api/v1/namespaces/default/services/kubernetes"
ENDPOINTS = "/api/v1/namespaces/default/endpoints/kubernetes"
SLICE = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes"


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


def test_the_endpoint_slice_names_this_server(api_server):
    endpoint_slice = get(api_server, SLICE)

    # As kube-apiserver writes it: the service-name label only, no owner.
    assert endpoint_slice["metadata"]["labels"] == {
        "kubernetes.io/service-name": "kubernetes"}
    assert "ownerReferences" not in endpoint_slice["metadata"]
    assert endpoint_slice["addressType"] == "IPv4"
    assert endpoint_slice["endpoints"] == [
        {"addresses": ["127.0.0.1"], "conditions": {"ready": True}}]
    assert endpoint_slice["ports"] == [
        {"name": "https", "port": port_of(api_server), "protocol": "TCP"}]


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
def test_kubectl_reads_the_endpoints_from_the_slice(api_server):
    # kubectl 1.32 describes a service's endpoints from its EndpointSlices
    # (labelSelector kubernetes.io/service-name), no longer from Endpoints.
    described = run_kubectl(api_server, "describe", "svc", "kubernetes")
    listed = run_kubectl(api_server, "get", "endpointslices")

    assert described.returncode == 0, described.stderr
    assert f"Endpoints:                127.0.0.1:{port_of(api_server)}\n" in (
        described.stdout)
    assert listed.returncode == 0, listed.stderr
    lines = [line.split() for line in listed.stdout.splitlines()]
    assert lines[0] == ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]
    assert lines[1][:4] == ["kubernetes", "IPv4", str(port_of(api_server)),
                            "127.0.0.1"]


@pytest.mark.parametrize("version", ["1.30", "1.33"])
def test_other_kubectls_describe_the_endpoints(api_server, version):
    from tests.server.test_kubectl_versions import kubectl_build

    result = subprocess.run(
        [kubectl_build(version), "--server", api_server.url, "describe", "svc",
         "kubernetes"], capture_output=True, text=True, timeout=60,
        env={"PATH": os.environ.get("PATH", ""), "HOME": api_server.data_dir,
             "KUBECONFIG": os.devnull})

    assert result.returncode == 0, result.stderr
    endpoints = [line.split() for line in result.stdout.splitlines()
                 if line.startswith("Endpoints:")]
    assert endpoints == [["Endpoints:", f"127.0.0.1:{port_of(api_server)}"]]


def test_a_restart_on_another_port_moves_them(start_server, tmp_path):
    data_dir = str(tmp_path / "moved")
    first = start_server(data_dir=data_dir)
    before = get(first, SERVICE)
    first.stop()

    second = start_server(data_dir=data_dir)
    after = get(second, SERVICE)
    endpoints = get(second, ENDPOINTS)
    endpoint_slice = get(second, SLICE)

    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert after["spec"]["clusterIP"] == "10.0.0.1"
    assert after["spec"]["ports"][0]["targetPort"] == port_of(second)
    assert endpoints["subsets"][0]["ports"][0]["port"] == port_of(second)
    assert endpoint_slice["ports"][0]["port"] == port_of(second)
    assert endpoint_slice["metadata"]["generation"] == 2


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
    slice_uid = get(server, SLICE)["metadata"]["uid"]

    requests.delete(server.url + SERVICE, timeout=30)
    requests.delete(server.url + SLICE, timeout=30)
    again = wait_for(
        lambda: (r := requests.get(server.url + SERVICE, timeout=30)).ok and r.json(),
        timeout=20, interval=0.5, message="the kubernetes service made again")
    slice_again = wait_for(
        lambda: (r := requests.get(server.url + SLICE, timeout=30)).ok and r.json(),
        timeout=20, interval=0.5, message="the kubernetes endpoint slice made again")

    assert again["metadata"]["uid"] != uid
    assert again["spec"]["clusterIP"] == "10.0.0.1"
    assert slice_again["metadata"]["uid"] != slice_uid


def test_advertise_ip():
    assert advertise_ip("127.0.0.1") == "127.0.0.1"
    assert advertise_ip("localhost") == "127.0.0.1"
    assert not ipaddress.ip_address(advertise_ip("0.0.0.0")).is_unspecified
