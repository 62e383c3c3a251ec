"""Native sidecars: init containers with restartPolicy Always, run by an agent."""

from tests.conftest import run_kubectl
from tests.node.conftest import condition, container_status

SIDECAR_SCRIPT = ("trap 'echo sidecar stopped >> events; exit 0' TERM; "
                  "echo sidecar up >> events; touch sidecar-up; "
                  "while true; do sleep 0.1; done")


def _sidecar(**extra):
    return {"name": "proxy", "image": "busybox", "restartPolicy": "Always",
            "command": ["sh", "-c", SIDECAR_SCRIPT], **extra}


def test_a_sidecar_starts_before_the_next_init_and_counts_as_ready(
        api, api_server, agent, namespace, tmp_path):
    startup = {"exec": {"command": ["test", "-f", "sidecar-up"]}, "periodSeconds": 1}
    after = {"name": "migrate", "image": "busybox",
             "command": ["sh", "-c", "test -f sidecar-up && echo init ran >> events"]}
    app = {"name": "app", "image": "busybox", "workingDir": str(tmp_path),
           "command": ["sh", "-c", "trap 'echo app stopped >> events; exit 0' TERM; "
                       "echo app up >> events; while true; do sleep 0.1; done"]}
    inits = [_sidecar(startupProbe=startup, workingDir=str(tmp_path)),
             dict(after, workingDir=str(tmp_path))]
    api.create_pod(namespace, agent.name, "meshed", [app], initContainers=inits,
                   terminationGracePeriodSeconds=5)

    pod = api.wait_pod(namespace, "meshed",
                       lambda p: condition(p, "Ready").get("status") == "True")

    proxy = container_status(pod, "proxy", init=True)
    assert "running" in proxy["state"] and proxy["started"] and proxy["ready"]
    migrate = container_status(pod, "migrate", init=True)
    assert migrate["state"]["terminated"]["reason"] == "Completed"
    assert pod["status"]["phase"] == "Running"
    assert condition(pod, "Initialized")["status"] == "True"
    row = run_kubectl(api_server, "get", "pod", "-n", namespace, "meshed",
                      "--no-headers").stdout.split()
    assert row[1:3] == ["2/2", "Running"]
    assert (tmp_path / "events").read_text().splitlines() == [
        "sidecar up", "init ran", "app up"]

    api_delete = run_kubectl(api_server, "delete", "pod", "-n", namespace, "meshed")

    assert api_delete.returncode == 0, api_delete.stderr
    assert (tmp_path / "events").read_text().splitlines()[3:] == [
        "app stopped", "sidecar stopped"]


def test_an_exiting_sidecar_restarts_and_stops_when_the_app_is_done(
        api, agent, namespace):
    flaky = {"name": "proxy", "image": "busybox", "restartPolicy": "Always",
             "command": ["sh", "-c", "sleep 0.3; exit 1"]}
    app = {"name": "app", "image": "busybox", "command": ["sleep", "3"]}
    api.create_pod(namespace, agent.name, "flaky", [app], initContainers=[flaky],
                   restartPolicy="Never")

    pod = api.wait_pod(namespace, "flaky",
                       lambda p: p["status"].get("phase") == "Succeeded", timeout=30)

    proxy = container_status(pod, "proxy", init=True)
    assert proxy["restartCount"] >= 1
    assert proxy["lastState"]["terminated"]["exitCode"] == 1
    assert container_status(pod, "app")["state"]["terminated"]["exitCode"] == 0


def test_a_sidecar_that_keeps_running_is_stopped_so_the_pod_completes(
        api, agent, namespace):
    app = {"name": "app", "image": "busybox", "command": ["sh", "-c", "sleep 0.5"]}
    api.create_pod(namespace, agent.name, "job", [app], initContainers=[_sidecar()],
                   restartPolicy="Never", terminationGracePeriodSeconds=5)

    pod = api.wait_pod(namespace, "job",
                       lambda p: p["status"].get("phase") == "Succeeded", timeout=30)

    terminated = container_status(pod, "proxy", init=True)["state"]["terminated"]
    assert terminated["exitCode"] == 0  # its TERM trap ran: SIGTERM, not SIGKILL
    assert condition(pod, "Ready")["reason"] == "PodCompleted"


def test_app_containers_wait_with_pod_initializing(api, agent, namespace):
    slow = {"name": "slow", "image": "busybox", "command": ["sleep", "30"]}
    app = {"name": "app", "image": "busybox", "command": ["true"]}
    api.create_pod(namespace, agent.name, "initing", [app], initContainers=[slow],
                   terminationGracePeriodSeconds=1)

    pod = api.wait_pod(namespace, "initing", lambda p: "running" in container_status(
        p, "slow", init=True).get("state", {}))

    assert container_status(pod, "app")["state"] == {
        "waiting": {"reason": "PodInitializing"}}
    assert pod["status"]["phase"] == "Pending"
