"""Benchmark of the node agent: pod create to Running, and the idle agent's cost.

Starts an API server (without its own node) and one agent, each in its own
process on free ports, creates N pods bound to the agent's node as fast as the
server takes them, and measures for each pod the time from its create request
to the watch event that shows it Running. With all pods running it then samples
the agent's RSS and CPU while idle. Everything started is ended by pid, and so
are the containers, even when the run aborts before it deletes its pods.

    python bench/node.py [--pods 100] [--idle-seconds 30]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
NODE = "bench-node"
# On SIGTERM the agent stops its containers within this time; without it they
# would keep running for a next agent that never comes.
SHUTDOWN_GRACE = 10


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


def start(command: list[str], log: Path) -> subprocess.Popen:
    with open(log, "ab") as handle:
        return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=handle)


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class RunningWatcher:
    """Watches the namespace's pods and notes when each first shows Running."""

    def __init__(self, url: str, namespace: str):
        self.running_at: dict[str, float] = {}
        self.stopped = threading.Event()
        self.resp = requests.get(f"{url}/api/v1/namespaces/{namespace}/pods",
                                 params={"watch": "true"}, stream=True, timeout=600)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for line in self.resp.iter_lines():
                if self.stopped.is_set():
                    break
                pod = json.loads(line)["object"]
                name = pod["metadata"]["name"]
                if pod.get("status", {}).get("phase") == "Running":
                    self.running_at.setdefault(name, time.monotonic())
        except (requests.RequestException, ValueError):
            pass
        finally:
            self.resp.close()

    def close(self) -> None:
        # Closing the response from here would block on the lock the reader
        # thread holds while it waits for a line; the reader closes it itself
        # on the next event (the deletes that follow send some).
        self.stopped.set()


def pod(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"nodeName": NODE, "terminationGracePeriodSeconds": 1,
                     "containers": [{"name": "c", "image": "busybox",
                                     "command": ["sleep", "3600"]}]}}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def create_pods(url: str, namespace: str, count: int) -> dict[str, float]:
    created = {}
    session = requests.Session()
    for i in range(count):
        name = f"p{i:03d}"
        created[name] = time.monotonic()
        resp = session.post(f"{url}/api/v1/namespaces/{namespace}/pods", json=pod(name))
        resp.raise_for_status()
    return created


def delete_pods(url: str, namespace: str, names) -> None:
    session = requests.Session()
    for name in names:
        session.delete(f"{url}/api/v1/namespaces/{namespace}/pods/{name}",
                       json={"gracePeriodSeconds": 1})

    def gone() -> bool:
        pods = session.get(f"{url}/api/v1/namespaces/{namespace}/pods").json()
        return not pods.get("items")

    wait_until(gone, 120, "the pods to be deleted")


def measure(url: str, agent: subprocess.Popen, count: int, idle: float) -> None:
    namespace = "bench"
    requests.post(f"{url}/api/v1/namespaces", json={
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    watcher = RunningWatcher(url, namespace)
    time.sleep(0.5)  # let the watch start before the first create

    created = create_pods(url, namespace, count)
    wait_until(lambda: len(watcher.running_at) == count, 300, "all pods Running")
    latencies = [watcher.running_at[n] - created[n] for n in created]
    print(f"pods: {count} on one node, created back to back")
    print(f"create to Running: median {statistics.median(latencies):.3f} s, "
          f"p99 {percentile(latencies, 0.99):.3f} s, max {max(latencies):.3f} s")

    time.sleep(3)  # let the status writes of the burst settle
    before, started = cpu_seconds(agent.pid), time.monotonic()
    time.sleep(idle)
    used = cpu_seconds(agent.pid) - before
    share = used / (time.monotonic() - started) * 100
    print(f"idle agent with {count} running pods over {idle:.0f} s: "
          f"CPU {share:.2f}% of a core, RSS {rss_mib(agent.pid):.1f} MiB")
    watcher.close()
    delete_pods(url, namespace, created)


def kill_containers(data_dir: Path) -> int:
    """SIGKILL the containers an agent's state files still show running (an
    agent killed before its grace period ended); how many there were."""
    sys.path.insert(0, str(ROOT))  # run as a script, only bench/ is on the path
    from node.runtime.process import ProcessIdentity, kill_identity

    killed = 0
    for state in data_dir.glob("pods/*/state.json"):
        try:
            containers = json.loads(state.read_text()).get("containers", {})
        except (OSError, ValueError):
            continue
        for record in containers.values():
            if record.get("process"):
                killed += kill_identity(ProcessIdentity.from_dict(record["process"]))
    return killed


def stop_agent(agent: subprocess.Popen, data_dir: Path) -> None:
    stop(agent, timeout=SHUTDOWN_GRACE + 20)
    killed = kill_containers(data_dir)
    if killed:
        print(f"killed {killed} containers the agent left running", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=100)
    parser.add_argument("--idle-seconds", type=float, default=30)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kctl-bench-") as tmp:
        work = Path(tmp)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start([sys.executable, "-m", "server", "--port", str(port),
                        "--data-dir", str(work / "server"), "--no-node"],
                       work / "server.log")
        agent = None
        try:
            wait_until(lambda: _ready(url), 30, "the API server")
            agent = start([sys.executable, "-m", "node", "--server", url, "--name",
                           NODE, "--data-dir", str(work / "node"),
                           "--max-pods", str(max(110, args.pods)),
                           "--shutdown-grace-period", f"{SHUTDOWN_GRACE}s"],
                          work / "node.log")
            wait_until(lambda: requests.get(f"{url}/api/v1/nodes/{NODE}").ok, 30,
                       "the node to register")
            measure(url, agent, args.pods, args.idle_seconds)
        finally:
            if agent is not None:
                stop_agent(agent, work / "node")
            stop(server)


def _ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/readyz", timeout=1).ok
    except requests.ConnectionError:
        return False


if __name__ == "__main__":
    main()
