"""Fixtures shared by every test: API servers in their own processes.

Each server binds 127.0.0.1 on a free port, keeps its data in a temporary
directory, and is ended by its pid when the test (or session) is done.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field

import pytest
import requests

KUBECTL = shutil.which("kubectl")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServerProcess:
    url: str
    data_dir: str
    process: subprocess.Popen
    args: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def kubeconfig(self) -> str:
        return os.path.join(self.data_dir, "kubeconfig")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def launch_server(data_dir: str, *args: str, port: int | None = None,
                  node: bool = False) -> ServerProcess:
    port = port or free_port()
    # Without a node only the namespace controller runs by default (namespace
    # deletion needs it): the scheduler and the others would change objects the
    # API tests assert on. A --controllers in ``args`` comes later and wins.
    defaults = [] if node else ["--no-node", "--controllers=namespace"]
    command = [sys.executable, "-m", "server", "--port", str(port),
               "--data-dir", data_dir, *defaults, *args]
    log = open(os.path.join(data_dir, "server.log"), "ab") if os.path.isdir(
        data_dir) else subprocess.DEVNULL
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
    server = ServerProcess(f"http://127.0.0.1:{port}", data_dir, process,
                           list(args))
    _wait_ready(server)
    return server


def _wait_ready(server: ServerProcess, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}")
        try:
            if requests.get(server.url + "/readyz", timeout=1).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    server.stop(signal.SIGKILL)
    raise RuntimeError("server did not become ready")


@pytest.fixture(scope="session", autouse=True)
def no_process_left(tmp_path_factory):
    """After the last test, no process may still run from this session's
    temporary directories: servers, node agents, controllers, containers."""
    base = str(tmp_path_factory.getbasetemp())
    yield
    deadline = time.monotonic() + 15
    left = _processes_under(base)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = _processes_under(base)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert not left, f"processes left behind (now killed): {left}"


def _processes_under(base: str) -> dict[int, str]:
    """pid -> command line of every process whose working directory or
    command line names a path under ``base``."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cwd.startswith(base) or base in command:
            found[int(entry)] = command.strip()
    return found


@pytest.fixture(scope="session")
def api_server(tmp_path_factory) -> ServerProcess:
    """One server for the whole session, without a node agent."""
    server = launch_server(str(tmp_path_factory.mktemp("api-server")))
    yield server
    server.stop()


@pytest.fixture
def start_server(tmp_path):
    """A factory of fresh servers, each ended when the test is done."""
    started: list[ServerProcess] = []

    def start(*args: str, data_dir: str | None = None, **options) -> ServerProcess:
        directory = data_dir or str(tmp_path / f"server-{len(started)}")
        os.makedirs(directory, exist_ok=True)
        server = launch_server(directory, *args, **options)
        started.append(server)
        return server

    yield start
    # SIGTERM, as a user stops it: the server stops its node agent, which
    # stops its containers. A test that wants kill -9 does it itself.
    for server in started:
        server.stop(timeout=45)


@pytest.fixture
def namespace(api_server) -> str:
    """A namespace of its own for one test, on the session server."""
    name = "test-" + uuid.uuid4().hex[:8]
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    response = requests.post(api_server.url + "/api/v1/namespaces", json=body)
    assert response.status_code == 201, response.text
    return name


def run_kubectl(server: ServerProcess, *args: str, input: str | None = None,
                timeout: float = 60) -> subprocess.CompletedProcess:
    """The real kubectl against ``server``, with no config of the user's."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": server.data_dir,
           "KUBECONFIG": os.devnull}
    return subprocess.run([KUBECTL, "--server", server.url, *args], input=input,
                          capture_output=True, text=True, timeout=timeout,
                          env=env)


@pytest.fixture
def kubectl(api_server):
    if KUBECTL is None:
        pytest.skip("kubectl is not on PATH")
    return lambda *args, **kw: run_kubectl(api_server, *args, **kw)
