"""Benchmark of the scheduler: bindings per second, and a Deployment rolled out.

1. An API server (no node, no controllers of its own), 100 simulated nodes in
   one process, and 1,000 pods created while no scheduler runs. Then the
   scheduler starts; a watch records when each pod first shows a nodeName,
   and bindings/s is counted from the first binding to the last.
2. If a Deployment controller exists (``deployment`` in
   ``controllers.CONTROLLERS``): a fresh server, 10 simulated nodes, the
   scheduler with the deployment and replicaset controllers, and the time from
   creating a 100-replica Deployment to its 100 pods Running.

Everything started is ended by pid.

    python bench/scheduler.py [--nodes 100] [--pods 1000] [--replicas 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import aiohttp
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from controllers import CONTROLLERS  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


class Processes:
    """Started processes, ended by pid in reverse order."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.started: list[subprocess.Popen] = []

    def start(self, name: str, *args: str) -> subprocess.Popen:
        with open(self.logs / f"{name}.log", "ab") as log:
            process = subprocess.Popen([sys.executable, *args], cwd=ROOT,
                                       stdout=subprocess.DEVNULL, stderr=log)
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in reversed(self.started):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.started.clear()


def start_cluster(procs: Processes, data: Path, nodes: int) -> str:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    procs.start("server", "-m", "server", "--port", str(port), "--data-dir",
                str(data), "--no-node", "--no-controllers")
    wait_until(lambda: _ok(url + "/readyz"), 30, "the server")
    procs.start("nodes", "-m", "node", "--simulate", "--count", str(nodes),
                "--server", url, "--log-level", "warning")
    wait_until(lambda: _ready_nodes(url) >= nodes, 120, f"{nodes} nodes")
    return url


def _ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.ConnectionError:
        return False


def _ready_nodes(url: str) -> int:
    items = requests.get(url + "/api/v1/nodes", timeout=10).json()["items"]
    return sum(any(c["type"] == "Ready" and c["status"] == "True"
                   for c in n.get("status", {}).get("conditions") or [])
               for n in items)


async def create_pods(url: str, count: int) -> None:
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {},
            "spec": {"containers": [{"name": "main", "image": "busybox",
                                     "resources": {"requests": {"cpu": "100m",
                                                                "memory": "64Mi"}}}]}}
    slots = asyncio.Semaphore(16)
    async with aiohttp.ClientSession() as session:
        async def one(index: int) -> None:
            async with slots:
                body["metadata"] = {"name": f"pod-{index:04d}"}
                async with session.post(url + "/api/v1/namespaces/default/pods",
                                        json=dict(body)) as resp:
                    assert resp.status == 201, await resp.text()

        await asyncio.gather(*(one(i) for i in range(count)))


class BindingWatch(threading.Thread):
    """Records the time each pod is first seen bound (and Running)."""

    def __init__(self, url: str, resource_version: str, count: int):
        super().__init__(daemon=True)
        self.url, self.rv, self.count = url, resource_version, count
        self.bound: dict[str, float] = {}
        self.running: dict[str, float] = {}
        self.response = None

    def run(self) -> None:
        self.response = requests.get(
            self.url + "/api/v1/namespaces/default/pods",
            params={"watch": "true", "resourceVersion": self.rv}, stream=True,
            timeout=(5, None))
        for line in self.response.iter_lines():
            if not line:
                continue
            pod = json.loads(line)["object"]
            name, now = pod["metadata"]["name"], time.monotonic()
            if pod.get("spec", {}).get("nodeName"):
                self.bound.setdefault(name, now)
            if pod.get("status", {}).get("phase") == "Running":
                self.running.setdefault(name, now)
            if len(self.running) >= self.count:
                return


def bench_bindings(procs: Processes, data: Path, nodes: int, pods: int) -> None:
    url = start_cluster(procs, data, nodes)
    asyncio.run(create_pods(url, pods))
    listed = requests.get(url + "/api/v1/namespaces/default/pods",
                          params={"limit": "1"}, timeout=30).json()
    rv = listed["metadata"]["resourceVersion"]
    watch = BindingWatch(url, rv, pods)
    watch.start()

    procs.start("scheduler", "-m", "controllers", "--server", url,
                "--controllers=scheduler", "--log-level", "warning")
    wait_until(lambda: len(watch.bound) >= pods, 300, "every pod bound")
    wait_until(lambda: len(watch.running) >= pods, 300, "every pod Running")

    first, last = min(watch.bound.values()), max(watch.bound.values())
    rate = (pods - 1) / (last - first) if last > first else float("inf")
    print(f"bindings: {pods} pods on {nodes} nodes in {last - first:.2f} s "
          f"= {rate:.0f} bindings/s")
    all_running = max(watch.running.values()) - first
    print(f"first binding to all {pods} Running (simulated nodes): {all_running:.2f} s")
    per_node = _pods_per_node(url)
    print(f"pods per node: min {min(per_node)}, max {max(per_node)}")


def _pods_per_node(url: str) -> list[int]:
    items = requests.get(url + "/api/v1/pods", timeout=30).json()["items"]
    counts: dict[str, int] = {}
    for pod in items:
        node = pod["spec"].get("nodeName", "")
        counts[node] = counts.get(node, 0) + 1
    return list(counts.values())


def bench_deployment(procs: Processes, data: Path, replicas: int) -> None:
    if "deployment" not in CONTROLLERS:
        print("deployment: not measured (no deployment controller yet)")
        return
    url = start_cluster(procs, data, 10)
    procs.start("controllers", "-m", "controllers", "--server", url,
                "--controllers=scheduler,deployment,replicaset",
                "--log-level", "warning")
    labels = {"app": "bench"}
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "bench"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {
                     "containers": [{"name": "main", "image": "busybox"}]}}}}
    start = time.monotonic()
    created = requests.post(url + "/apis/apps/v1/namespaces/default/deployments",
                            json=deployment, timeout=30)
    assert created.status_code == 201, created.text
    wait_until(lambda: _running_pods(url) >= replicas, 300,
               f"{replicas} pods Running")
    print(f"deployment: {replicas} replicas Running on 10 nodes in "
          f"{time.monotonic() - start:.2f} s")


def _running_pods(url: str) -> int:
    items = requests.get(url + "/api/v1/namespaces/default/pods", timeout=30,
                         params={"labelSelector": "app=bench"}).json()["items"]
    return sum(p.get("status", {}).get("phase") == "Running" for p in items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--replicas", type=int, default=100)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kctl-bench-scheduler-") as tmp:
        procs = Processes(Path(tmp))
        try:
            bench_bindings(procs, Path(tmp) / "data-1", args.nodes, args.pods)
            procs.stop_all()
            bench_deployment(procs, Path(tmp) / "data-2", args.replicas)
        finally:
            procs.stop_all()


if __name__ == "__main__":
    main()
