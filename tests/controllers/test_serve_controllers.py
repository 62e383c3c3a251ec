"""``kctl serve`` runs the scheduler and controllers in a process of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid

import requests

from tests.conftest import free_port
from tests.controllers.conftest import wait_for
from tests.node.conftest import Agent
from tests.node.helpers import alive, group_alive, kill_group


def controllers_of(server_pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of each ``python -m controllers`` child of a server."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
        if parent == server_pid and "-m controllers" in command:
            found.append((int(entry), command))
    return found


def serve_refusal(tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "server", "--port", str(free_port()), "--data-dir",
         str(tmp_path / "data"), "--no-node", *args],
        capture_output=True, text=True, timeout=60)


def delete_namespace_and_wait(url: str, headers: dict | None = None) -> None:
    name = "gone-" + uuid.uuid4().hex[:6]
    created = requests.post(f"{url}/api/v1/namespaces", headers=headers,
                            json={"metadata": {"name": name}}, timeout=30)
    assert created.status_code == 201, created.text
    requests.delete(f"{url}/api/v1/namespaces/{name}", headers=headers, timeout=30)
    wait_for(lambda: requests.get(f"{url}/api/v1/namespaces/{name}", headers=headers,
                                  timeout=30).status_code == 404,
             message=f"namespace {name} removed")


def test_an_unknown_controller_is_refused_in_one_line(tmp_path):
    result = serve_refusal(tmp_path, "--controllers=*,bogus")

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: --controllers: 'bogus' is not in the list of known controllers: "
        + ", ".join(sorted(__import__("controllers").CONTROLLERS))]


def test_serve_runs_every_controller_by_default_and_ends_it(start_server):
    server = start_server("--controllers=*")  # the default, over the fixture's
    [(pid, command)] = wait_for(lambda: controllers_of(server.pid),
                                message="controllers process")

    assert "--controllers *" in command
    delete_namespace_and_wait(server.url)

    assert server.stop() == 0
    assert not alive(pid)


def test_no_controllers_runs_no_process(start_server):
    for flags in (("--controllers=",), ("--no-controllers",)):
        server = start_server(*flags)

        assert requests.get(server.url + "/readyz", timeout=30).ok
        assert controllers_of(server.pid) == []


def test_controllers_die_with_a_killed_server(start_server):
    server = start_server()
    [(pid, _)] = wait_for(lambda: controllers_of(server.pid),
                          message="controllers process")

    server.stop(signal.SIGKILL)

    wait_for(lambda: not alive(pid), message=f"controllers {pid} ended")


def test_controllers_get_the_token_when_auth_is_on(start_server, tmp_path):
    tokens = tmp_path / "tokens.csv"
    tokens.write_text("s3cret,admin,1\n")
    server = start_server("--token-file", str(tokens))

    delete_namespace_and_wait(server.url, {"Authorization": "Bearer s3cret"})


def pod(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "sleep",
                                     "command": ["sleep", "3600"]}],
                     "terminationGracePeriodSeconds": 1}}


def with_agent(server, tmp_path, test) -> None:
    agent = Agent(server.url, "solo-" + uuid.uuid4().hex[:6], tmp_path / "agent")
    try:
        agent.start()
        test(agent)
    finally:
        agent.stop()
        for pid in agent.record_pids() | agent.seen_pids:
            if group_alive(pid):
                kill_group(pid)


def test_a_pod_without_a_node_is_scheduled_and_runs(start_server, tmp_path):
    server = start_server("--controllers=*")
    url = f"{server.url}/api/v1/namespaces/default/pods"

    def check(agent: Agent) -> None:
        requests.post(url, json=pod("placed"), timeout=30)
        running = wait_for(lambda: (p := requests.get(f"{url}/placed", timeout=30)
                                    .json())["status"].get("phase") == "Running" and p,
                           message="pod placed Running")
        assert running["spec"]["nodeName"] == agent.name
        requests.delete(f"{url}/placed", timeout=30)
        wait_for(lambda: requests.get(f"{url}/placed", timeout=30).status_code == 404,
                 message="pod placed deleted")

    with_agent(server, tmp_path, check)


def test_without_the_scheduler_pods_stay_unbound(start_server, tmp_path):
    server = start_server("--controllers=*,-scheduler")
    url = f"{server.url}/api/v1/namespaces/default/pods"

    def check(agent: Agent) -> None:
        requests.post(url, json=pod("waiting"), timeout=30)
        # The other controllers run: a namespace deletion completes meanwhile.
        delete_namespace_and_wait(server.url)
        waiting = requests.get(f"{url}/waiting", timeout=30).json()
        assert "nodeName" not in waiting["spec"]
        assert waiting["status"]["phase"] == "Pending"
        assert not waiting["status"].get("conditions")

    with_agent(server, tmp_path, check)
