"""Benchmark of the namespace controller: how long a namespace takes to go.

A ``kctl serve`` with no node and only the namespace controller; a namespace
with N configmaps, N secrets and N services; then the time from the DELETE
to the namespace's 404, and the same for an empty namespace (the floor: one
discovery pass, one deletecollection per resource, the finalize). Everything
started is ended by pid.

    python bench/namespace.py [--objects 300]
"""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import tempfile
import time

import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(data_dir: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "--port", str(port), "--data-dir", data_dir,
         "--no-node", "--controllers=namespace"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/readyz", timeout=1).ok:
                return process, url
        except requests.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("server did not start")


def fill(session: requests.Session, url: str, name: str, count: int) -> None:
    session.post(f"{url}/api/v1/namespaces", json={"metadata": {"name": name}})
    base = f"{url}/api/v1/namespaces/{name}"
    for i in range(count):
        session.post(f"{base}/configmaps", json={"metadata": {"name": f"c{i}"},
                                                 "data": {"k": "v"}})
        session.post(f"{base}/secrets", json={"metadata": {"name": f"s{i}"}})
        session.post(f"{base}/services", json={
            "metadata": {"name": f"svc{i}"},
            "spec": {"ports": [{"port": 80}], "clusterIP": "None"}})


def time_deletion(session: requests.Session, url: str, name: str) -> float:
    started = time.monotonic()
    session.delete(f"{url}/api/v1/namespaces/{name}")
    while session.get(f"{url}/api/v1/namespaces/{name}").status_code != 404:
        if time.monotonic() - started > 120:
            raise SystemExit(f"namespace {name} was not removed in 120 s")
        time.sleep(0.02)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=300,
                        help="configmaps, secrets and services each")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        process, url = start_server(data_dir)
        try:
            with requests.Session() as session:
                fill(session, url, "empty", 0)
                fill(session, url, "full", args.objects)
                empty = time_deletion(session, url, "empty")
                full = time_deletion(session, url, "full")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
    print(f"empty namespace removed in {empty:.2f} s")
    print(f"namespace with {3 * args.objects} objects removed in {full:.2f} s "
          f"({3 * args.objects / full:.0f} objects/s)")


if __name__ == "__main__":
    main()
