"""Registration, Lease heartbeats and node status, against a real API server."""

import os
import platform
import re
import signal
import socket
import subprocess
import sys

import pytest
import requests

from node import version
from node.client import APIError
from node.registration import is_permanent
from tests.conftest import free_port, launch_server, run_kubectl
from tests.node.conftest import FAST
from tests.node.helpers import wait_for


def test_a_node_registers_ready_with_its_endpoint(api_server, agent):
    node = requests.get(f"{api_server.url}/api/v1/nodes/{agent.name}").json()

    labels = node["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == agent.name
    assert labels["kubernetes.io/os"] == "linux"
    assert labels["kubernetes.io/arch"]
    ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"][0]
    assert (ready["status"], ready["reason"]) == ("True", "KubeletReady")
    assert {c["type"] for c in node["status"]["conditions"]} == {
        "Ready", "MemoryPressure", "DiskPressure", "PIDPressure"}
    assert node["status"]["nodeInfo"]["kubeletVersion"].startswith("kctl-")
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("process://")
    assert node["status"]["capacity"]["pods"] == "110"
    assert {"type": "InternalIP", "address": "127.0.0.1"} in node["status"]["addresses"]
    port = node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]
    host = node["metadata"]["annotations"]["kctl.dev/kubelet-host"]
    assert requests.get(f"http://{host}:{port}/healthz").text == "ok"


def test_the_python_client_reads_the_node(api_server, agent):
    from kubernetes import client

    configuration = client.Configuration()
    configuration.host = api_server.url
    api = client.CoreV1Api(client.ApiClient(configuration))

    nodes = api.list_node(field_selector=f"metadata.name={agent.name}").items

    assert [n.metadata.name for n in nodes] == [agent.name]
    assert nodes[0].status.node_info.kube_proxy_version == ""
    assert nodes[0].status.node_info.kubelet_version.startswith("kctl-")


def test_the_lease_is_renewed(api_server, agent):
    url = (f"{api_server.url}/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/"
           f"leases/{agent.name}")
    first = wait_for(lambda: requests.get(url).ok and requests.get(url).json())

    renewed = wait_for(lambda: requests.get(url).json()["spec"]["renewTime"]
                       != first["spec"]["renewTime"] and requests.get(url).json())

    assert renewed["spec"]["holderIdentity"] == agent.name
    assert renewed["spec"]["leaseDurationSeconds"] == 4
    owner = renewed["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"]) == ("Node", agent.name)


def test_kubectl_get_nodes_shows_it_ready_with_its_version(api_server, agent):
    result = run_kubectl(api_server, "get", "node", agent.name)

    assert result.returncode == 0, result.stderr
    header, row = result.stdout.splitlines()
    assert header.split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    name, status, roles, _, version = row.split()
    assert (name, status, roles) == (agent.name, "Ready", "<none>")
    assert version.startswith("kctl-")


def test_a_restarted_agent_takes_over_its_node(api_server, start_agent, tmp_path):
    first = start_agent()
    uid = requests.get(f"{api_server.url}/api/v1/nodes/{first.name}").json()[
        "metadata"]["uid"]
    first.stop()

    second = start_agent(name=first.name, data_dir=first.data_dir)

    node = requests.get(f"{api_server.url}/api/v1/nodes/{second.name}").json()
    assert node["metadata"]["uid"] == uid
    assert node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"] > 0


def test_node_status_is_read_from_the_host(api_server, agent):
    status = requests.get(f"{api_server.url}/api/v1/nodes/{agent.name}").json()[
        "status"]

    info = status["nodeInfo"]
    assert info["kernelVersion"] == platform.release()
    assert info["architecture"] == {"x86_64": "amd64", "aarch64": "arm64"}.get(
        platform.machine(), platform.machine())
    assert info["operatingSystem"] == "linux" and info["osImage"]
    assert info["kubeletVersion"] == f"kctl-{version()}"
    assert info["containerRuntimeVersion"] == f"process://{version()}"
    assert {"type": "Hostname", "address": socket.gethostname()} in status["addresses"]
    assert status["capacity"]["cpu"] == str(os.cpu_count())
    mem_total = int(status["capacity"]["memory"].removesuffix("Ki"))
    mem_alloc = int(status["allocatable"]["memory"].removesuffix("Ki"))
    assert mem_total == _meminfo_total_ki()
    assert mem_alloc == mem_total - 100 * 1024  # the kubelet's hard eviction
    assert status["allocatable"]["pods"] == "110"
    for cond in status["conditions"]:
        assert cond["lastHeartbeatTime"] and cond["lastTransitionTime"]
    pressure = {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}
    assert pressure["PIDPressure"] == ("False", "KubeletHasSufficientPID")


def test_heartbeats_advance_and_transitions_stay(api_server, start_agent):
    agent = start_agent(args=FAST + ("--node-status-report-frequency", "1s"))
    url = f"{api_server.url}/api/v1/nodes/{agent.name}"
    first = _ready(requests.get(url).json())

    later = wait_for(lambda: (r := _ready(requests.get(url).json()))[
        "lastHeartbeatTime"] != first["lastHeartbeatTime"] and r, timeout=20)

    assert later["lastTransitionTime"] == first["lastTransitionTime"]
    assert later["status"] == "True"


def test_max_pods_is_the_capacity_and_the_next_pod_is_rejected(api, api_server,
                                                               start_agent, namespace):
    agent = start_agent(args=FAST + ("--max-pods", "1"))
    node = requests.get(f"{api_server.url}/api/v1/nodes/{agent.name}").json()
    sleeper = [{"name": "c", "image": "busybox", "command": ["sleep", "60"]}]
    api.create_pod(namespace, agent.name, "first", sleeper,
                   terminationGracePeriodSeconds=1)
    api.wait_pod(namespace, "first", lambda p: p["status"].get("phase") == "Running")

    api.create_pod(namespace, agent.name, "second", sleeper)

    pod = api.wait_pod(namespace, "second",
                       lambda p: p["status"].get("phase") == "Failed")
    assert node["status"]["capacity"]["pods"] == "1"
    assert pod["status"]["reason"] == "OutOfpods"
    assert pod["status"]["message"] == ("Node didn't have enough resource: pods, "
                                        "requested: 1, used: 1, capacity: 1")


def test_an_agent_waits_for_its_server_without_spinning(tmp_path):
    port = free_port()
    log = tmp_path / "agent.log"
    with open(log, "wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "node", "--server", f"http://127.0.0.1:{port}",
             "--name", "early", "--data-dir", str(tmp_path / "data")],
            stdout=subprocess.DEVNULL, stderr=err)
    try:
        wait_for(lambda: log.read_text().count("registration failed") >= 3,
                 timeout=30)
        server = launch_server(str(tmp_path), port=port)
        try:
            node = wait_for(lambda: requests.get(
                f"{server.url}/api/v1/nodes/early").ok, timeout=60)
        finally:
            server.stop()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)

    assert node
    delays = [float(m) for m in re.findall(r"registration failed .*; retrying in "
                                           r"([0-9.]+)s", log.read_text())]
    assert delays[0] > 0 and delays[2] > delays[0]  # they grow, never zero


def _ready(node):
    return [c for c in node["status"]["conditions"] if c["type"] == "Ready"][0]


def _meminfo_total_ki():
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                return int(line.split()[1])


def _run_agent(tmp_path, *args):
    return subprocess.run(
        [sys.executable, "-m", "node", "--data-dir", str(tmp_path / "data"), *args],
        capture_output=True, text=True, timeout=30)


def test_a_server_that_is_not_a_url_is_an_error_not_a_retry(tmp_path):
    result = _run_agent(tmp_path, "--server", "notaurl", "--name", "n1")

    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        'error: invalid --server "notaurl": want an http:// or https:// URL '
        "with a host")
    assert "Traceback" not in result.stderr


def test_a_node_the_server_refuses_is_an_error_not_a_retry(api_server, tmp_path):
    result = _run_agent(tmp_path, "--server", api_server.url, "--name", "Bad_Name")

    assert result.returncode == 1
    last = result.stderr.splitlines()[-1]
    assert last.startswith('error: node "Bad_Name" was not registered: Node '
                           '"Bad_Name" is invalid: metadata.name: Invalid value: ')
    assert "registration failed" not in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("code,permanent", [
    (401, True), (403, True), (422, True), (409, False), (429, False), (500, False),
    (503, False)], ids=lambda v: str(v))
def test_only_the_nodes_own_faults_end_registration(code, permanent):
    assert is_permanent(APIError(code, "", "")) is permanent
