"""Helpers for tests of the deployment controller and ``kctl rollout``: a
server with the deployment and ReplicaSet controllers, and a thread that plays
the kubelet.

No node runs the pods: a ``Readier`` thread marks every pod of a test's
namespace Running and Ready through /status.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.conftest import launch_server

APPS = "/apis/apps/v1"


def wait_for(predicate, timeout: float = 60, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of the module's own: no other test's controllers act on it."""
    server = launch_server(str(tmp_path_factory.mktemp("deployment-server")))
    yield server
    server.stop()


def start_controllers(server, names: str, log_dir: str) -> subprocess.Popen:
    with open(os.path.join(log_dir, "controllers.log"), "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "controllers", "--server", server.url,
             f"--controllers={names}", "--log-level", "debug"],
            stdout=subprocess.DEVNULL, stderr=log, cwd=Path(__file__).parents[2])


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def controllers(server):
    process = start_controllers(server, "deployment,replicaset,garbagecollector",
                                server.data_dir)
    yield process
    stop_process(process)


class Readier(threading.Thread):
    """Marks every pod of a namespace Running and Ready, as a kubelet would."""

    def __init__(self, url: str, namespace: str):
        super().__init__(daemon=True)
        self.url, self.namespace = url, namespace
        self.halt = threading.Event()
        self.paused = threading.Event()

    def run(self) -> None:
        path = f"{self.url}/api/v1/namespaces/{self.namespace}/pods"
        while not self.halt.wait(0.1):
            if self.paused.is_set():
                continue
            try:
                for pod in requests.get(path, timeout=10).json()["items"]:
                    deleting = pod["metadata"].get("deletionTimestamp")
                    if not is_ready(pod) and not deleting:
                        self._ready(path, pod)
            except (requests.RequestException, KeyError, ValueError):
                continue

    def _ready(self, path: str, pod: dict) -> None:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        pod["status"] = {"phase": "Running", "conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": now}]}
        requests.put(f"{path}/{pod['metadata']['name']}/status", json=pod,
                     timeout=10)


def is_ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


class Cluster:
    """One namespace of the module's server, with helpers the tests share."""

    def __init__(self, server, namespace: str, readier: Readier):
        self.server, self.url, self.namespace = server, server.url, namespace
        self.readier = readier

    def path(self, resource: str, name: str = "") -> str:
        group = "/api/v1" if resource in ("pods", "events") else APPS
        path = f"{self.url}{group}/namespaces/{self.namespace}/{resource}"
        return f"{path}/{name}" if name else path

    def create_deployment(self, name: str, replicas: int = 3, image: str = "web:1",
                          strategy: dict | None = None, **spec) -> dict:
        body = {"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": name},
                "spec": {"replicas": replicas,
                         "selector": {"matchLabels": {"app": name}},
                         "template": {"metadata": {"labels": {"app": name}},
                                      "spec": {"containers": [
                                          {"name": "main", "image": image}]}},
                         **spec}}
        if strategy:
            body["spec"]["strategy"] = strategy
        response = requests.post(self.path("deployments"), json=body, timeout=30)
        assert response.status_code == 201, response.text
        return response.json()

    def deployment(self, name: str) -> dict:
        return requests.get(self.path("deployments", name), timeout=30).json()

    def patch(self, name: str, patch: dict) -> dict:
        response = requests.patch(
            self.path("deployments", name), json=patch, timeout=30,
            headers={"Content-Type": "application/merge-patch+json"})
        assert response.ok, response.text
        return response.json()

    def set_image(self, name: str, image: str) -> dict:
        return self.patch(name, {"spec": {"template": {"spec": {"containers": [
            {"name": "main", "image": image}]}}}})

    def items(self, resource: str) -> list[dict]:
        return requests.get(self.path(resource), timeout=30).json()["items"]

    def replica_sets(self, name: str) -> list[dict]:
        return [rs for rs in self.items("replicasets")
                if rs["metadata"]["name"].startswith(name + "-")]

    def wait_complete(self, name: str, replicas: int, timeout: float = 60) -> dict:
        def complete():
            d = self.deployment(name)
            status = d.get("status") or {}
            done = (status.get("observedGeneration", 0) >= d["metadata"]["generation"]
                    and status.get("updatedReplicas") == replicas
                    and status.get("replicas") == replicas
                    and status.get("availableReplicas") == replicas)
            return d if done else None
        return wait_for(complete, timeout, f"{name} to have {replicas} available")


@pytest.fixture
def cluster(server, controllers):
    namespace = "deploy-" + uuid.uuid4().hex[:8]
    response = requests.post(f"{server.url}/api/v1/namespaces", json={
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    assert response.status_code == 201, response.text
    readier = Readier(server.url, namespace)
    readier.start()
    yield Cluster(server, namespace, readier)
    readier.halt.set()
    readier.join(10)


