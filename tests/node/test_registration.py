"""Registration, Lease heartbeats and node status, against a real API server."""

import requests

from tests.conftest import run_kubectl
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
