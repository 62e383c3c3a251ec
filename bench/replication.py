"""Benchmark of the replication controllers and the garbage collector.

Starts an API server (no node, no controllers of its own) and one
``python -m controllers --controllers=replicaset,garbagecollector`` process,
each on free ports, then times: a ReplicaSet of N replicas from create to
status.replicas == N (creates go in kube's slow-start batches), a scale down
to N/2, and a background delete of the ReplicaSet until its last pod is gone.
Prints one line per figure and the number of pods created (N + N/2 would mean
a double create). Everything started is ended by pid.

    python bench/replication.py [--replicas 200]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float, what: str) -> float:
    started, deadline = time.monotonic(), time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.02)
    return time.monotonic() - started


def start(command: list[str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=out,
                                cwd=ROOT)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def replica_set(replicas: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": "bench"},
            "spec": {"replicas": replicas,
                     "selector": {"matchLabels": {"app": "bench"}},
                     "template": {"metadata": {"labels": {"app": "bench"}},
                                  "spec": {"containers": [{"name": "c",
                                                           "image": "busybox"}]}}}}


def run(url: str, replicas: int) -> None:
    pods = f"{url}/api/v1/namespaces/default/pods"
    rs = f"{url}/apis/apps/v1/namespaces/default/replicasets"

    def status_replicas() -> int:
        return requests.get(f"{rs}/bench").json().get("status", {}).get("replicas", 0)

    def pod_count() -> int:
        return len(requests.get(pods).json()["items"])

    requests.post(rs, json=replica_set(replicas)).raise_for_status()
    up = wait_until(lambda: status_replicas() == replicas, 300, "scale up")
    print(f"create {replicas} replicas: {up:.2f}s "
          f"({replicas / up:.0f} pods/s)")

    half = replicas // 2
    requests.patch(f"{rs}/bench/scale", json={"spec": {"replicas": half}},
                   headers={"Content-Type": "application/merge-patch+json"})
    down = wait_until(lambda: status_replicas() == half and pod_count() == half,
                      300, "scale down")
    print(f"scale down to {half}: {down:.2f}s")

    events = requests.get(f"{url}/api/v1/namespaces/default/events").json()["items"]
    created = sum(e.get("count", 1) for e in events
                  if e["reason"] == "SuccessfulCreate")
    print(f"pods created: {created} (wanted {replicas})")

    requests.delete(f"{rs}/bench", json={"propagationPolicy": "Background"})
    gone = wait_until(lambda: pod_count() == 0, 300, "garbage collection")
    print(f"background delete of {half} pods: {gone:.2f}s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replicas", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start([sys.executable, "-m", "server", "--port", str(port),
                        "--data-dir", data_dir, "--no-node", "--no-controllers"],
                       Path(data_dir) / "server.log")
        controllers = None
        try:
            wait_until(lambda: _ready(url), 30, "the server")
            controllers = start([sys.executable, "-m", "controllers", "--server", url,
                                 "--controllers=replicaset,garbagecollector"],
                                Path(data_dir) / "controllers.log")
            run(url, args.replicas)
        finally:
            if controllers is not None:
                stop(controllers)
            stop(server)


def _ready(url: str) -> bool:
    try:
        return requests.get(url + "/readyz", timeout=1).ok
    except requests.ConnectionError:
        return False


if __name__ == "__main__":
    main()
