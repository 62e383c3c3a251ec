"""Simulated nodes in their own process, for tests: ``python -m node --simulate``."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

FAST = ("--node-lease-duration-seconds", "4", "--node-status-update-frequency", "1s",
        "--log-level", "debug")


@dataclass
class SimulatedNodes:
    server_url: str
    prefix: str
    count: int
    log_path: Path
    process: subprocess.Popen | None = None

    @property
    def names(self) -> list[str]:
        width = len(str(self.count - 1))
        return [f"{self.prefix}{i:0{width}d}" for i in range(self.count)]

    def start(self, *args: str, timeout: float = 45) -> "SimulatedNodes":
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "node", "--simulate", "--server",
                 self.server_url, "--count", str(self.count), "--name-prefix",
                 self.prefix, *FAST, *args],
                stdout=subprocess.DEVNULL, stderr=log, cwd=Path(__file__).parents[2])
        deadline = time.monotonic() + timeout
        while not all(self.ready(name) for name in self.names):
            if self.process.poll() is not None:
                raise RuntimeError(f"simulated nodes exited; see {self.log_path}")
            if time.monotonic() > deadline:
                raise AssertionError("simulated nodes did not register")
            time.sleep(0.1)
        return self

    def ready(self, name: str) -> bool:
        node = requests.get(f"{self.server_url}/api/v1/nodes/{name}", timeout=10)
        return node.ok and any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in node.json().get("status", {}).get("conditions") or [])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
