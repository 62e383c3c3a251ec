"""A pod's table row, as kube-apiserver's pod printer computes it."""

from datetime import datetime, timezone

import pytest

from server.registry.podprint import (
    pod_ready,
    pod_readiness_gates,
    pod_restarts,
    pod_status_reason,
)
from server.registry.pods import PodKind

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


def pod(status: dict, containers=("app",), init=(), **meta) -> dict:
    spec = {"containers": [{"name": n, "image": "x:1"} for n in containers]}
    if init:
        spec["initContainers"] = [{"name": n, "image": "x:1"} for n in init]
    return {"metadata": {"name": "web", "namespace": "default",
                         "creationTimestamp": "2024-05-01T11:00:00Z", **meta},
            "spec": spec, "status": status}


def running(name="app", ready=True, restarts=0, finished=None) -> dict:
    status = {"name": name, "ready": ready, "restartCount": restarts,
              "state": {"running": {"startedAt": "2024-05-01T11:00:00Z"}}}
    if finished:
        status["lastState"] = {"terminated": {"exitCode": 1, "finishedAt": finished}}
    return status


def waiting(reason, name="app", restarts=0) -> dict:
    return {"name": name, "ready": False, "restartCount": restarts,
            "state": {"waiting": {"reason": reason}}}


def terminated(name="app", code=0, reason="") -> dict:
    state = {"exitCode": code}
    if reason:
        state["reason"] = reason
    return {"name": name, "ready": False, "restartCount": 0,
            "state": {"terminated": state}}


@pytest.mark.parametrize("obj,ready,status", [
    (pod({"phase": "Pending"}), "0/1", "Pending"),
    (pod({"phase": "Running", "containerStatuses": [running()]}), "1/1", "Running"),
    (pod({"phase": "Running", "containerStatuses": [waiting("CrashLoopBackOff")]}),
     "0/1", "CrashLoopBackOff"),
    (pod({"phase": "Pending", "containerStatuses": [waiting("ContainerCreating")]}),
     "0/1", "ContainerCreating"),
    (pod({"phase": "Succeeded", "containerStatuses": [
        terminated(reason="Completed")]}), "0/1", "Completed"),
    (pod({"phase": "Failed", "containerStatuses": [terminated(code=137)]}),
     "0/1", "ExitCode:137"),
    (pod({"phase": "Failed", "reason": "Evicted"}), "0/1", "Evicted"),
    (pod({"phase": "Pending", "initContainerStatuses": [waiting(
        "PodInitializing", name="init")]}, init=("init",)), "0/1", "Init:0/1"),
    (pod({"phase": "Pending", "initContainerStatuses": [waiting(
        "ImagePullBackOff", name="init")]}, init=("init",)),
     "0/1", "Init:ImagePullBackOff"),
    (pod({"phase": "Pending", "initContainerStatuses": [terminated(
        name="init", code=2)]}, init=("init",)), "0/1", "Init:ExitCode:2"),
    (pod({"phase": "Running", "containerStatuses": [running()]},
         deletionTimestamp="2024-05-01T11:59:00Z"), "1/1", "Terminating"),
    (pod({"phase": "Running", "reason": "NodeLost"},
         deletionTimestamp="2024-05-01T11:59:00Z"), "0/1", "Unknown"),
    (pod({"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}),
     "0/1", "SchedulingGated"),
    (pod({"phase": "Running", "containerStatuses": [
        running("a"), terminated("b", reason="Completed")],
        "conditions": [{"type": "Ready", "status": "False"}]},
        containers=("a", "b")), "1/2", "NotReady"),
], ids=["pending", "running", "crashloop", "creating", "completed", "exitcode",
        "evicted", "init-waiting", "init-backoff", "init-failed", "terminating",
        "node-lost", "gated", "completed-with-running"])
def test_ready_and_status(obj, ready, status):
    assert pod_ready(obj) == ready
    assert pod_status_reason(obj) == status


def test_restarts_with_the_time_of_the_last_one():
    obj = pod({"phase": "Running", "containerStatuses": [
        running(restarts=3, finished="2024-05-01T11:55:00Z")]})

    assert pod_restarts(obj, now=NOW) == "3 (5m ago)"


def test_restarts_without_a_last_state():
    obj = pod({"phase": "Running", "containerStatuses": [running(restarts=2)]})

    assert pod_restarts(obj, now=NOW) == "2"
    assert pod_restarts(pod({"phase": "Pending"}), now=NOW) == "0"


def test_sidecar_counts_in_ready():
    obj = pod({"phase": "Running", "initContainerStatuses": [
        dict(running("proxy"), started=True)], "containerStatuses": [running()],
        "conditions": [{"type": "Initialized", "status": "True"}]}, init=("proxy",))
    obj["spec"]["initContainers"][0]["restartPolicy"] = "Always"

    assert pod_ready(obj) == "2/2"
    assert pod_status_reason(obj) == "Running"


def test_readiness_gates():
    obj = pod({"phase": "Running", "conditions": [
        {"type": "example.com/lb", "status": "True"}]})
    assert pod_readiness_gates(obj) == "<none>"

    obj["spec"]["readinessGates"] = [{"conditionType": "example.com/lb"},
                                     {"conditionType": "example.com/dns"}]
    assert pod_readiness_gates(obj) == "1/2"


def test_row_of_a_scheduled_pod():
    obj = pod({"phase": "Running", "podIP": "10.1.0.5", "podIPs": [{"ip": "10.1.0.5"}],
               "containerStatuses": [running()]})
    obj["spec"]["nodeName"] = "node1"

    cells = [column.cell(obj) for column in PodKind().columns()]

    assert cells == ["web", "1/1", "Running", "0", "2024-05-01T11:00:00Z",
                     "10.1.0.5", "node1", "<none>", "<none>"]


def test_column_definitions():
    columns = PodKind().columns()

    assert [(c.name, c.type, c.priority) for c in columns] == [
        ("Name", "string", 0), ("Ready", "string", 0), ("Status", "string", 0),
        ("Restarts", "string", 0), ("Age", "string", 0), ("IP", "string", 1),
        ("Node", "string", 1), ("Nominated Node", "string", 1),
        ("Readiness Gates", "string", 1)]
    assert columns[0].format == "name" and columns[4].age
    assert columns[1].description == (
        "The aggregate readiness state of this pod for accepting traffic.")
