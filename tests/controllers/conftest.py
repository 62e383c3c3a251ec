"""Fixtures for controller tests: controllers run as ``python -m controllers``.

The process watches every namespace of the server it is given; each test
works in its own namespace, and the process is ended by its pid afterwards.
``api_server`` is overridden here by a server that runs no controllers of its
own, so that only the ones a test starts act on its objects.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import launch_server


def wait_for(predicate, timeout: float = 45, interval: float = 0.1,
             message: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(interval)


def _without_controllers() -> tuple[str, ...]:
    from server.serve import serve_command

    names = {param.name for param in serve_command.params}
    return ("--no-controllers",) if "no_controllers" in names else ()


@pytest.fixture(scope="session")
def api_server(tmp_path_factory):
    """One server for the controller tests: no node, no controllers."""
    server = launch_server(str(tmp_path_factory.mktemp("controllers-server")),
                           *_without_controllers())
    yield server
    server.stop()


@pytest.fixture
def start_controllers(tmp_path):
    """Start ``python -m controllers`` against a server URL with the given list
    (and any further flags)."""
    started: list[subprocess.Popen] = []

    def start(server_url: str, controllers: str, *flags: str) -> subprocess.Popen:
        log = open(tmp_path / f"controllers-{len(started)}.log", "ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "controllers", "--server", server_url,
             f"--controllers={controllers}", "--log-level", "debug", *flags],
            stdout=subprocess.DEVNULL, stderr=log, cwd=Path(__file__).parents[2])
        log.close()
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class API:
    """Plain HTTP calls to one server, raising on an unexpected status."""

    def __init__(self, url: str):
        self.url = url

    def get(self, path: str, **params) -> dict:
        response = requests.get(self.url + path, params=params, timeout=30)
        response.raise_for_status()
        return response.json()

    def maybe(self, path: str) -> dict | None:
        response = requests.get(self.url + path, timeout=30)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: dict) -> dict:
        response = requests.post(self.url + path, json=body, timeout=30)
        assert response.status_code == 201, response.text
        return response.json()

    def patch(self, path: str, body: dict,
              content_type: str = "application/merge-patch+json") -> dict:
        response = requests.patch(self.url + path, json=body, timeout=30,
                                  headers={"Content-Type": content_type})
        assert response.ok, response.text
        return response.json()

    def put(self, path: str, body: dict) -> dict:
        response = requests.put(self.url + path, json=body, timeout=30)
        assert response.ok, response.text
        return response.json()

    def delete(self, path: str, **options) -> requests.Response:
        return requests.delete(self.url + path, json=options or None, timeout=30)


@pytest.fixture
def api(api_server) -> API:
    return API(api_server.url)
