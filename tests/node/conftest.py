"""Fixtures for node agent tests: agents in their own processes against a server.

Every agent runs ``python -m node`` with a unique node name, a temporary data
dir and short timings (back-off, resync, lease) set through its documented
options. When a test ends, the pods of its namespace are deleted through the
agent, the agent is stopped by its pid, and every container process group the
agent recorded must be gone: a leftover is killed and fails the test.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.node.helpers import group_alive, kill_group, wait_for

FAST = ("--restart-backoff-base", "200ms", "--restart-backoff-max", "1s",
        "--sync-frequency", "2s", "--node-lease-duration-seconds", "4",
        "--node-status-update-frequency", "1s", "--log-level", "debug")


@dataclass
class Agent:
    server_url: str
    name: str
    data_dir: Path
    args: tuple[str, ...] = FAST
    process: subprocess.Popen | None = None
    seen_pids: set[int] = field(default_factory=set)

    def start(self) -> "Agent":
        log = open(self.data_dir.parent / f"{self.name}.log", "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "node", "--server", self.server_url,
             "--name", self.name, "--data-dir", str(self.data_dir),
             "--node-ip", "127.0.0.1", *self.args],
            stdout=subprocess.DEVNULL, stderr=log, cwd=Path(__file__).parents[2])
        log.close()
        wait_for(self._registered, timeout=20)
        return self

    def _registered(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"agent exited with {self.process.returncode}; "
                               f"see {self.data_dir.parent / (self.name + '.log')}")
        node = requests.get(f"{self.server_url}/api/v1/nodes/{self.name}", timeout=5)
        if not node.ok:
            return False
        # A node an earlier agent registered has an endpoint too: only this
        # agent's endpoint answers.
        endpoint = node.json().get("status", {}).get("daemonEndpoints", {})
        port = endpoint.get("kubeletEndpoint", {}).get("Port")
        try:
            return bool(port) and requests.get(
                f"http://127.0.0.1:{port}/healthz", timeout=2).ok
        except requests.ConnectionError:
            return False

    def stop(self) -> None:
        """SIGTERM the agent and wait for it; its containers keep running."""
        self.record_pids()
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def record_pids(self) -> set[int]:
        """The container processes in the agent's state files, remembered."""
        pids = set()
        for state in self.data_dir.glob("pods/*/state.json"):
            try:
                containers = json.loads(state.read_text()).get("containers", {})
            except (OSError, ValueError):
                continue
            pids |= {c["process"]["pid"] for c in containers.values()
                     if c.get("process")}
        self.seen_pids |= pids
        return pids


def _delete_pods(url: str, namespace: str) -> None:
    pods = requests.get(f"{url}/api/v1/namespaces/{namespace}/pods", timeout=10)
    for pod in pods.json().get("items", []):
        requests.delete(f"{url}/api/v1/namespaces/{namespace}/pods/"
                        f"{pod['metadata']['name']}",
                        json={"gracePeriodSeconds": 1}, timeout=10)


def _pods_left(url: str, namespace: str) -> bool:
    pods = requests.get(f"{url}/api/v1/namespaces/{namespace}/pods", timeout=10)
    return not pods.json().get("items")


def _forget_node(url: str, name: str) -> None:
    requests.delete(f"{url}/api/v1/nodes/{name}", timeout=10)
    requests.delete(f"{url}/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/"
                    f"leases/{name}", timeout=10)


@pytest.fixture
def start_agent(api_server, namespace, tmp_path):
    """A factory of agents; at the end: pods deleted, agents stopped, no leftovers."""
    agents: list[Agent] = []

    def start(name: str | None = None, data_dir: Path | None = None,
              args: tuple[str, ...] = FAST) -> Agent:
        agent = Agent(api_server.url, name or "node-" + uuid.uuid4().hex[:8],
                      data_dir or tmp_path / f"agent-{len(agents)}", args)
        agents.append(agent)
        return agent.start()

    yield start

    live = [a for a in agents if a.running]
    for agent in agents:
        agent.record_pids()
    if live:
        _delete_pods(api_server.url, namespace)
        wait_for(lambda: _pods_left(api_server.url, namespace), timeout=30)
    leftovers = set()
    for agent in agents:
        agent.stop()
        for pid in agent.seen_pids:
            if group_alive(pid):
                leftovers.add(pid)
                kill_group(pid)
        _forget_node(api_server.url, agent.name)
    assert not leftovers, f"container processes left running: {sorted(leftovers)}"


@pytest.fixture
def agent(start_agent) -> Agent:
    return start_agent()


@pytest.fixture
def api(api_server):
    return Client(api_server.url)


class Client:
    """Just enough of the API for these tests."""

    def __init__(self, url: str):
        self.url = url

    def pod_url(self, namespace: str, name: str = "") -> str:
        base = f"{self.url}/api/v1/namespaces/{namespace}/pods"
        return f"{base}/{name}" if name else base

    def create_pod(self, namespace: str, node: str, name: str, containers: list,
                   **spec) -> dict:
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                "spec": {"nodeName": node, "containers": containers, **spec}}
        resp = requests.post(self.pod_url(namespace), json=body, timeout=10)
        assert resp.status_code == 201, resp.text
        return resp.json()

    def pod(self, namespace: str, name: str) -> dict | None:
        resp = requests.get(self.pod_url(namespace, name), timeout=10)
        return resp.json() if resp.ok else None

    def wait_pod(self, namespace: str, name: str, predicate, timeout: float = 20):
        """Poll the pod until ``predicate(pod)`` holds; return the pod."""
        last = {}

        def check():
            last["pod"] = self.pod(namespace, name)
            return last["pod"] if last["pod"] and predicate(last["pod"]) else None

        try:
            return wait_for(check, timeout=timeout, interval=0.1)
        except AssertionError:
            status = (last.get("pod") or {}).get("status")
            raise AssertionError(f"pod {name} never matched; last status: {status}")


def container_status(pod: dict, name: str | None = None, init: bool = False) -> dict:
    key = "initContainerStatuses" if init else "containerStatuses"
    statuses = pod.get("status", {}).get(key) or []
    for status in statuses:
        if name is None or status["name"] == name:
            return status
    return {}


def condition(pod: dict, kind: str) -> dict:
    for cond in pod.get("status", {}).get("conditions") or []:
        if cond["type"] == kind:
            return cond
    return {}


def container_processes(marker: str) -> list[int]:
    """Pids of the process group leaders whose environment holds ``marker``
    (NAME=value): one per running container that was given that variable."""
    needle = marker.encode() + b"\0"
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                matches = needle in handle.read() + b"\0"
            if matches and os.getpgid(int(entry)) == int(entry):
                found.append(int(entry))
        except OSError:
            continue
    return found


def wait_gone(pid: int, timeout: float = 10) -> None:
    wait_for(lambda: not group_alive(pid), timeout=timeout)
