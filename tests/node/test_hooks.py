"""Lifecycle hooks (node/hooks.py) run by an agent: postStart and preStop."""

import time

import requests

from tests.conftest import free_port, run_kubectl
from tests.node.conftest import container_status
from tests.node.helpers import wait_for


def _events(api_server, namespace):
    items = requests.get(f"{api_server.url}/api/v1/namespaces/{namespace}/events"
                         ).json()["items"]
    return {(e["type"], e["reason"], e["message"]) for e in items}


def test_post_start_runs_right_after_the_container_starts(api, api_server, agent,
                                                         namespace, tmp_path):
    hook = {"postStart": {"exec": {"command": ["sh", "-c", "echo hook >> order"]}}}
    app = {"name": "c", "image": "busybox", "workingDir": str(tmp_path),
           "lifecycle": hook,
           "command": ["sh", "-c", "echo main >> order; sleep 0.5; cat order"]}
    api.create_pod(namespace, agent.name, "hooked", [app], restartPolicy="Never")

    api.wait_pod(namespace, "hooked", lambda p: p["status"].get("phase") == "Succeeded")

    lines = run_kubectl(api_server, "logs", "-n", namespace, "hooked").stdout.split()
    assert sorted(lines) == ["hook", "main"]


def test_a_failing_post_start_hook_kills_the_container(api, api_server, agent,
                                                       namespace):
    hook = {"postStart": {"exec": {"command": ["sh", "-c", "echo no; exit 3"]}}}
    app = {"name": "c", "image": "busybox", "lifecycle": hook,
           "command": ["sleep", "60"]}
    api.create_pod(namespace, agent.name, "badhook", [app], restartPolicy="Never",
                   terminationGracePeriodSeconds=1)

    pod = api.wait_pod(namespace, "badhook",
                       lambda p: p["status"].get("phase") == "Failed")

    assert container_status(pod)["state"]["terminated"]["exitCode"] == 143
    events = wait_for(lambda: (e := _events(api_server, namespace)) and
                      ("Normal", "Killing", "FailedPostStartHook") in e and e)
    assert ("Warning", "FailedPostStartHook", "PostStartHook failed") in events


def test_a_failing_post_start_hook_waits_with_its_message_before_a_restart(
        api, agent, namespace):
    port = free_port()  # nothing listens: the httpGet hook cannot connect
    hook = {"postStart": {"httpGet": {"path": "/ready", "port": port}}}
    app = {"name": "c", "image": "busybox", "lifecycle": hook,
           "command": ["sleep", "60"]}
    api.create_pod(namespace, agent.name, "httphook", [app],
                   terminationGracePeriodSeconds=1)

    pod = api.wait_pod(namespace, "httphook", lambda p: container_status(p).get(
        "state", {}).get("waiting", {}).get("reason") in ("PostStartHookError",
                                                          "CrashLoopBackOff")
        and container_status(p)["lastState"])

    status = container_status(pod)
    assert status["lastState"]["terminated"]["exitCode"] == 143
    waiting = status["state"]["waiting"]
    if waiting["reason"] == "PostStartHookError":
        assert waiting["message"] == (
            f'HTTP lifecycle hook (/ready) for Container "c" in Pod "httphook_'
            f'{namespace}({pod["metadata"]["uid"]})" failed - error: Get '
            f'"http://127.0.0.1:{port}/ready": dial tcp 127.0.0.1:{port}: connect: '
            "connection refused")


def test_pre_stop_runs_before_sigterm_within_the_grace_period(
        api, api_server, agent, namespace, tmp_path):
    hook = {"preStop": {"exec": {"command": ["sh", "-c", "echo prestop >> order"]}}}
    app = {"name": "c", "image": "busybox", "workingDir": str(tmp_path),
           "lifecycle": hook,
           "command": ["sh", "-c", "trap 'echo term >> order; exit 0' TERM; "
                       "while true; do sleep 0.1; done"]}
    api.create_pod(namespace, agent.name, "stopper", [app],
                   terminationGracePeriodSeconds=5)
    api.wait_pod(namespace, "stopper", lambda p: p["status"].get("phase") == "Running")

    deleted = run_kubectl(api_server, "delete", "pod", "-n", namespace, "stopper")

    assert deleted.returncode == 0, deleted.stderr
    assert (tmp_path / "order").read_text().splitlines() == ["prestop", "term"]


def test_a_pre_stop_sleep_delays_sigterm_and_a_failing_one_is_an_event(
        api, api_server, agent, namespace, tmp_path):
    app = {"name": "c", "image": "busybox", "workingDir": str(tmp_path),
           "lifecycle": {"preStop": {"exec": {"command": ["false"]}}},
           "command": ["sleep", "60"]}
    sleepy = {"name": "s", "image": "busybox", "workingDir": str(tmp_path),
              "lifecycle": {"preStop": {"sleep": {"seconds": 1}}},
              "command": ["sh", "-c", "trap 'echo late >> order; exit 0' TERM; "
                          "while true; do sleep 0.1; done"]}
    api.create_pod(namespace, agent.name, "prestops", [app, sleepy],
                   terminationGracePeriodSeconds=5)
    api.wait_pod(namespace, "prestops", lambda p: p["status"].get("phase") == "Running")

    began = time.monotonic()
    deleted = run_kubectl(api_server, "delete", "pod", "-n", namespace, "prestops")

    assert deleted.returncode == 0, deleted.stderr
    assert time.monotonic() - began >= 1  # the sleep hook held SIGTERM back
    assert (tmp_path / "order").read_text() == "late\n"
    events = wait_for(lambda: (e := _events(api_server, namespace)) and
                      ("Warning", "FailedPreStopHook", "PreStopHook failed") in e)
    assert events
