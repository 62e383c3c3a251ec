"""The agent as a whole: restart safety (adoption, orphans) and its data dir lock."""

import subprocess
import sys
import uuid

import requests

from tests.conftest import run_kubectl
from tests.node.conftest import FAST, condition, container_processes, \
    container_status, wait_gone
from tests.node.helpers import group_alive, wait_for


def sleeper(token):
    script = "echo started; while true; do sleep 0.2; done"
    return [{"name": "c", "image": "busybox", "command": ["sh", "-c", script],
             "env": [{"name": "KCTL_TEST", "value": token}]}]


def test_a_restarted_agent_adopts_its_running_container(api, api_server, start_agent,
                                                        namespace):
    first = start_agent()
    token = uuid.uuid4().hex
    api.create_pod(namespace, first.name, "long", sleeper(token),
                   terminationGracePeriodSeconds=1)
    before = api.wait_pod(namespace, "long",
                          lambda p: p["status"].get("phase") == "Running")
    [pid] = wait_for(lambda: container_processes(f"KCTL_TEST={token}"))

    first.stop()
    assert group_alive(pid)  # an agent's exit leaves its containers running
    second = start_agent(name=first.name, data_dir=first.data_dir)

    # Logs come from the new agent's endpoint: it has taken the container over.
    logs = wait_for(lambda: run_kubectl(api_server, "logs", "-n", namespace,
                                        "long").stdout)
    assert logs == "started\n"
    wait_for(lambda: "adopted container c" in _agent_log(second))
    after = api.pod(namespace, "long")
    assert container_processes(f"KCTL_TEST={token}") == [pid]
    assert container_status(after)["containerID"] == \
        container_status(before)["containerID"]
    assert container_status(after)["restartCount"] == 0
    assert after["status"]["phase"] == "Running"


def test_containers_of_pods_deleted_while_the_agent_was_away_are_stopped(
        api, start_agent, namespace):
    first = start_agent()
    token = uuid.uuid4().hex
    api.create_pod(namespace, first.name, "orphan", sleeper(token),
                   terminationGracePeriodSeconds=1)
    api.wait_pod(namespace, "orphan", lambda p: p["status"].get("phase") == "Running")
    [pid] = wait_for(lambda: container_processes(f"KCTL_TEST={token}"))
    first.stop()
    requests.delete(api.pod_url(namespace, "orphan"), json={"gracePeriodSeconds": 0})
    assert api.pod(namespace, "orphan") is None and group_alive(pid)

    start_agent(name=first.name, data_dir=first.data_dir)

    wait_gone(pid)
    wait_for(lambda: not list(first.data_dir.glob("pods/*")))


def test_two_agents_never_share_a_data_dir(api_server, agent):
    second = subprocess.run(
        [sys.executable, "-m", "node", "--server", api_server.url, "--name",
         "other-" + agent.name, "--data-dir", str(agent.data_dir)],
        capture_output=True, text=True, timeout=30)

    assert second.returncode == 1
    assert second.stderr.strip().endswith(
        f"error: another node agent is using {agent.data_dir}")


def _agent_log(agent):
    return (agent.data_dir.parent / f"{agent.name}.log").read_text()


def test_an_agent_with_a_shutdown_grace_period_stops_its_pods_when_it_stops(
        api, api_server, start_agent, namespace):
    agent = start_agent(args=FAST + ("--shutdown-grace-period", "2s"))
    token = uuid.uuid4().hex
    script = "trap 'echo got TERM' TERM; while true; do sleep 0.1; done"
    api.create_pod(namespace, agent.name, "stubborn",
                   [{"name": "c", "image": "busybox", "command": ["sh", "-c", script],
                     "env": [{"name": "KCTL_TEST", "value": token}]}])
    api.wait_pod(namespace, "stubborn", lambda p: p["status"].get("phase") == "Running")
    [pid] = wait_for(lambda: container_processes(f"KCTL_TEST={token}"))

    agent.stop()

    assert agent.process.returncode == 0
    assert not group_alive(pid)  # the grace period (2s, not the pod's 30s) ended it
    pod = api.pod(namespace, "stubborn")
    message = "Pod was terminated in response to imminent node shutdown."
    assert (pod["status"]["phase"], pod["status"]["reason"],
            pod["status"]["message"]) == ("Failed", "Terminated", message)
    disruption = condition(pod, "DisruptionTarget")
    assert (disruption["status"], disruption["reason"]) == ("True",
                                                            "TerminationByKubelet")
    assert container_status(pod)["state"]["terminated"]["exitCode"] == 137
    node = requests.get(f"{api_server.url}/api/v1/nodes/{agent.name}").json()
    ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"][0]
    assert (ready["status"], ready["message"]) == ("False", "node is shutting down")
