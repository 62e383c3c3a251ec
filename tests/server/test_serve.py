"""``kctl serve``: start-up refusals, authentication, TLS and a clean stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests

from tests.conftest import free_port

SERVE = [sys.executable, "-m", "server"]


def serve(*args: str, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run([*SERVE, "--no-node", *args], capture_output=True,
                          text=True, timeout=timeout)


def test_a_port_in_use_is_one_line_and_exit_1(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = serve("--port", str(port), "--data-dir", str(tmp_path))

    assert result.returncode == 1
    assert result.stderr == f"error: port {port} on 127.0.0.1 is already in use\n"


@pytest.mark.parametrize("port", ["99999", "-1"], ids=["too-big", "negative"])
def test_a_port_out_of_range_is_one_line_and_exit_1(tmp_path, port):
    result = serve("--port", port, "--data-dir", str(tmp_path / "data"))

    assert result.returncode == 1
    assert result.stderr == f"error: invalid --port {port}: must be from 0 to 65535\n"
    assert not (tmp_path / "data").exists()


def test_a_data_dir_that_cannot_be_written_is_one_line_and_exit_1(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")

    result = serve("--port", str(free_port()), "--data-dir", str(blocker / "data"))

    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot use data directory {blocker}")
    assert len(result.stderr.splitlines()) == 1


def test_a_non_loopback_address_needs_authentication(tmp_path):
    result = serve("--address", "0.0.0.0", "--port", str(free_port()),
                   "--data-dir", str(tmp_path))

    assert result.returncode == 1
    assert result.stderr.startswith("error: refusing to serve on 0.0.0.0 without "
                                    "authentication")


def test_a_second_server_on_the_same_data_dir_is_refused(start_server):
    first = start_server()

    result = serve("--port", str(free_port()), "--data-dir", first.data_dir)

    assert result.returncode == 1
    assert "is in use by another kctl serve" in result.stderr


def test_sigterm_stops_cleanly_and_keeps_the_data(start_server, tmp_path):
    data_dir = str(tmp_path / "clean")
    server = start_server(data_dir=data_dir)
    body = {"metadata": {"name": "kept"}, "data": {"k": "v"}}
    requests.post(server.url + "/api/v1/namespaces/default/configmaps", json=body)

    code = server.stop(signal.SIGTERM)
    again = start_server(data_dir=data_dir)

    assert code == 0
    kept = requests.get(again.url + "/api/v1/namespaces/default/configmaps/kept")
    assert kept.json()["data"] == {"k": "v"}


def test_serve_writes_a_kubeconfig_and_says_where(tmp_path):
    port = free_port()
    process = subprocess.Popen([*SERVE, "--no-node", "--port", str(port),
                                "--data-dir", str(tmp_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        line = process.stdout.readline()
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=15)

    kubeconfig = tmp_path / "kubeconfig"
    assert line == f"export KUBECONFIG={kubeconfig}\n"
    assert f"server: http://127.0.0.1:{port}" in kubeconfig.read_text()
    assert f"listening on http://127.0.0.1:{port}, data in {tmp_path}" in stderr
    assert process.returncode == 0


@pytest.fixture
def token_file(tmp_path) -> str:
    path = tmp_path / "tokens.csv"
    path.write_text("s3cret,alice,1000\n")
    return str(path)


def test_with_a_token_file_every_request_needs_a_valid_token(start_server,
                                                             token_file):
    server = start_server("--token-file", token_file)
    pods = server.url + "/api/v1/pods"

    anonymous = requests.get(pods)
    wrong = requests.get(pods, headers={"Authorization": "Bearer nope"})
    right = requests.get(pods, headers={"Authorization": "Bearer s3cret"})

    assert anonymous.status_code == wrong.status_code == 401
    assert anonymous.json()["reason"] == "Unauthorized"
    assert right.status_code == 200
    assert "token: s3cret" in open(server.kubeconfig).read()


def test_tls(start_server, tmp_path):
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)], capture_output=True)
    assert made.returncode == 0, made.stderr
    port = free_port()
    process = subprocess.Popen([*SERVE, "--no-node", "--port", str(port),
                                "--data-dir", str(tmp_path / "d"),
                                "--tls-cert-file", str(cert),
                                "--tls-private-key-file", str(key)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import time

        for _ in range(200):
            try:
                response = requests.get(f"https://127.0.0.1:{port}/version",
                                        verify=str(cert), timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(15)

    assert response.json()["major"] == "1"


def test_a_whole_cluster_says_one_line_at_start_and_one_at_stop(tmp_path):
    # With its node agent and controllers, which share its stderr: they speak
    # only of warnings and errors unless -v.
    port = free_port()
    process = subprocess.Popen([*SERVE, "--port", str(port), "--data-dir",
                                str(tmp_path)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        process.stdout.readline()
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not requests.get(
                url + "/api/v1/nodes", timeout=5).json()["items"]:
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)

    messages = [line.split(" ", 3)[3] for line in stderr.splitlines()]
    assert process.returncode == 0
    assert messages[0] == (f"server: kctl API server listening on {url}, "
                           f"data in {tmp_path}")
    assert messages[1:] == ["server: shutting down",
                            messages[-1]] and "store closed" in messages[-1]


def _create_until_refused(url: str, prefix: str, outcomes: dict) -> None:
    """Create configmaps one after another until the server stops answering;
    record each name's status code, or None for a connection that dropped."""
    for n in range(100000):
        name = f"{prefix}-{n}"
        body = {"metadata": {"name": name}}
        try:
            response = requests.post(url, json=body, timeout=15)
        except requests.ConnectionError:
            outcomes[name] = None
            return
        outcomes[name] = response.status_code


def test_sigterm_answers_every_write_that_committed(start_server, tmp_path):
    data_dir = str(tmp_path / "busy")
    server = start_server(data_dir=data_dir)
    url = server.url + "/api/v1/namespaces/default/configmaps"
    outcomes: dict[str, int | None] = {}
    writers = [threading.Thread(target=_create_until_refused,
                                args=(url, f"w{i}", outcomes)) for i in range(8)]
    for writer in writers:
        writer.start()
    time.sleep(1.0)

    stopping = time.monotonic()
    code = server.stop(signal.SIGTERM)
    took = time.monotonic() - stopping
    for writer in writers:
        writer.join(30)
    again = start_server(data_dir=data_dir)
    listed = requests.get(url.replace(server.url, again.url)).json()["items"]

    stored = {item["metadata"]["name"] for item in listed}
    created = {name for name, status in outcomes.items() if status == 201}
    assert code == 0
    assert took < 5, f"the stop took {took:.1f}s"
    assert len(created) > 50
    assert created <= stored
    assert {name for name in stored if outcomes.get(name) is None} == set()
