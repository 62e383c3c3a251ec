"""``kctl serve`` with its node agent: the node turns Ready, runs a pod the
scheduler places, and goes away with the server, leaving no process behind."""

import os
import signal
import uuid

import requests

from tests.conftest import run_kubectl
from tests.node.conftest import container_processes
from tests.node.helpers import alive, group_alive, kill_group, wait_for

TRAPS_TERM = "trap 'echo got TERM' TERM; echo started; while true; do sleep 0.1; done"


def node_agents_of(server_pid: int) -> list[int]:
    """Pids of the ``python -m node`` children of a server process."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                argv = handle.read().split(b"\0")
        except (OSError, ValueError):
            continue
        if ppid == server_pid and b"node" in argv and b"-m" in argv:
            found.append(int(entry))
    return found


def trapping_pod(name: str, token: str) -> dict:
    """A pod whose shell traps SIGTERM; its process is found by ``token``."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{
                "name": "c", "image": "busybox", "command": ["sh", "-c", TRAPS_TERM],
                "env": [{"name": "KCTL_TEST", "value": token}]}],
                "terminationGracePeriodSeconds": 2}}


def ready_node(url: str, headers: dict | None = None) -> dict | None:
    nodes = requests.get(f"{url}/api/v1/nodes", headers=headers, timeout=10).json()
    for node in nodes.get("items", []):
        if any(c["type"] == "Ready" and c["status"] == "True"
               for c in node["status"].get("conditions", [])):
            return node
    return None


def test_kctl_serve_runs_a_node_and_stops_it_with_its_pods(start_server):
    server = start_server(node=True)
    [agent_pid] = wait_for(lambda: node_agents_of(server.pid), timeout=30)
    node = wait_for(lambda: ready_node(server.url), timeout=60)
    token = uuid.uuid4().hex
    body = trapping_pod("loop", token)
    pods = f"{server.url}/api/v1/namespaces/default/pods"
    assert requests.post(pods, json=body, timeout=10).status_code == 201
    containers = []
    try:
        pod = wait_for(lambda: (p := requests.get(f"{pods}/loop", timeout=10).json())
                       ["status"].get("phase") == "Running" and p, timeout=60)
        containers = wait_for(lambda: container_processes(f"KCTL_TEST={token}"))
        logs = wait_for(lambda: run_kubectl(server, "logs", "loop").stdout)

        code = server.stop(signal.SIGTERM, timeout=60)

        assert pod["spec"]["nodeName"] == node["metadata"]["name"]
        assert logs == "started\n"
        assert code == 0
        assert not alive(agent_pid)
        assert not [pid for pid in containers if group_alive(pid)]
    finally:
        for pid in containers:
            kill_group(pid)


def test_kctl_serve_gives_its_node_the_token(start_server, tmp_path):
    tokens = tmp_path / "tokens.csv"
    tokens.write_text("s3cret,admin,1\n")

    server = start_server("--token-file", str(tokens), node=True)

    headers = {"Authorization": "Bearer s3cret"}
    node = wait_for(lambda: ready_node(server.url, headers), timeout=60)
    assert node["status"]["nodeInfo"]["kubeletVersion"].startswith("kctl-")


def test_pods_come_back_with_the_next_kctl_serve(start_server, tmp_path):
    data_dir = str(tmp_path / "cluster")
    server = start_server(node=True, data_dir=data_dir)
    wait_for(lambda: ready_node(server.url), timeout=60)
    token = uuid.uuid4().hex
    body = trapping_pod("back", token)
    path = "/api/v1/namespaces/default/pods"
    assert requests.post(server.url + path, json=body, timeout=10).status_code == 201
    containers = []
    try:
        wait_for(lambda: running(server.url + path + "/back"), timeout=60)
        containers = wait_for(lambda: container_processes(f"KCTL_TEST={token}"))
        server.stop(signal.SIGTERM, timeout=60)
        stopped = [pid for pid in containers if group_alive(pid)]

        again = start_server(node=True, data_dir=data_dir)
        pod = wait_for(lambda: running(again.url + path + "/back"), timeout=60)
        containers += wait_for(lambda: container_processes(f"KCTL_TEST={token}"))

        assert stopped == []
        (status,) = pod["status"]["containerStatuses"]
        assert status["restartCount"] == 1
        # The script traps SIGTERM: the grace period ends it with SIGKILL.
        assert status["lastState"]["terminated"]["exitCode"] == 137
        assert pod["status"].get("reason") is None
    finally:
        for pid in containers:
            kill_group(pid)


def running(url: str) -> dict | None:
    pod = requests.get(url, timeout=10).json()
    statuses = pod.get("status", {}).get("containerStatuses") or []
    up = statuses and all("running" in s.get("state", {}) for s in statuses)
    return pod if pod["status"].get("phase") == "Running" and up else None
