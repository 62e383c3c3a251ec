"""Pod status computation (node/status.py), against the kubelet's rules."""

import pytest

from node.status import ContainerRecord, pod_phase, pod_status, terminated_state

T0, T1 = "2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z"


def running(name):
    record = ContainerRecord(name)
    record.begin_run("process://" + name)
    record.running(T0, {"pid": 1})
    return record


def exited(name, code, restart=False):
    record = running(name)
    record.ended(terminated_state(code, T0, T1, record.container_id), 0)
    if restart:
        record.waiting("CrashLoopBackOff", "back-off 10s")
    return record


def waiting(name):
    return ContainerRecord(name)


def spec(policy="Always", containers=("app",), init=()):
    return {"restartPolicy": policy,
            "containers": [{"name": n} for n in containers],
            "initContainers": [{"name": n} for n in init]}


def phase(policy, app, init=(), terminal=False):
    pod_spec = spec(policy, [r.name for r in app], [r.name for r in init])
    return pod_phase(pod_spec, [r.api_status() for r in init],
                     [r.api_status() for r in app], terminal)


@pytest.mark.parametrize("policy, app, init, terminal, expected", [
    ("Always", [waiting("a")], [], False, "Pending"),
    ("Always", [running("a"), waiting("b")], [], False, "Pending"),
    ("Always", [running("a")], [], False, "Running"),
    ("Always", [exited("a", 0)], [], False, "Running"),
    ("OnFailure", [exited("a", 0)], [], False, "Succeeded"),
    ("Never", [exited("a", 0), exited("b", 0)], [], False, "Succeeded"),
    ("Never", [exited("a", 1)], [], False, "Failed"),
    ("OnFailure", [exited("a", 1)], [], False, "Running"),
    ("Always", [exited("a", 1, restart=True)], [], False, "Running"),
    ("Always", [waiting("a")], [running("i")], False, "Pending"),
    ("Never", [waiting("a")], [exited("i", 2)], False, "Failed"),
    ("Always", [waiting("a")], [exited("i", 2, restart=True)], False, "Pending"),
    ("Always", [running("a")], [exited("i", 0)], False, "Running"),
    ("Always", [exited("a", 143)], [], True, "Failed"),
    ("Always", [exited("a", 0)], [], True, "Succeeded"),
], ids=["creating", "one-waiting", "running", "always-restarts", "onfailure-done",
        "never-done", "never-failed", "onfailure-retry", "crashloop", "initializing",
        "init-failed-never", "init-crashloop", "initialized", "deleted-killed",
        "deleted-clean"])
def test_phase_follows_the_kubelets_getphase(policy, app, init, terminal, expected):
    assert phase(policy, app, init, terminal) == expected


def test_status_of_a_pod_with_an_unready_container():
    pod = {"metadata": {"name": "p"}, "spec": spec(containers=("web", "db")),
           "status": {"qosClass": "BestEffort"}}
    web, db = running("web"), running("db")
    web.ready = web.started = True

    status = pod_status(pod, [], [web, db], "10.0.0.2", T0, T1)

    assert status["phase"] == "Running"
    assert [s["name"] for s in status["containerStatuses"]] == ["db", "web"]
    conditions = {c["type"]: c for c in status["conditions"]}
    assert [c["type"] for c in status["conditions"]] == [
        "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
        "PodScheduled"]
    assert conditions["Ready"]["status"] == "False"
    assert conditions["Ready"]["reason"] == "ContainersNotReady"
    assert conditions["Ready"]["message"] == "containers with unready status: [db]"
    assert status["podIP"] == status["hostIP"] == "10.0.0.2"
    assert status["startTime"] == T0


def test_initialized_is_false_while_init_containers_run():
    pod = {"metadata": {"name": "p"}, "spec": spec(init=("setup", "migrate"))}

    status = pod_status(pod, [running("setup"), waiting("migrate")], [waiting("app")],
                        "10.0.0.2", T0, T1)

    initialized = status["conditions"][1]
    assert initialized["status"] == "False"
    assert initialized["reason"] == "ContainersNotInitialized"
    assert initialized["message"] == "containers with incomplete status: [setup migrate]"
    assert [s["name"] for s in status["initContainerStatuses"]] == ["setup", "migrate"]


def test_a_completed_pod_reports_podcompleted():
    pod = {"metadata": {"name": "p"}, "spec": spec("OnFailure")}

    status = pod_status(pod, [], [exited("app", 0)], "10.0.0.2", T0, T1)

    conditions = {c["type"]: c for c in status["conditions"]}
    assert status["phase"] == "Succeeded"
    assert conditions["Ready"]["reason"] == "PodCompleted"
    assert conditions["PodReadyToStartContainers"]["status"] == "False"
    terminated = status["containerStatuses"][0]["state"]["terminated"]
    assert terminated["reason"] == "Completed" and terminated["exitCode"] == 0


def test_transition_times_stay_while_a_condition_holds():
    pod = {"metadata": {"name": "p"}, "spec": spec()}
    first = pod_status(pod, [], [running("app")], "h", T0, T0)
    pod["status"] = first

    again = pod_status(pod, [], [running("app")], "h", T0, T1)

    assert [c["lastTransitionTime"] for c in again["conditions"]] == [T0] * 5


def test_a_terminal_phase_never_changes():
    pod = {"metadata": {"name": "p"}, "spec": spec("Never"),
           "status": {"phase": "Succeeded"}}

    status = pod_status(pod, [], [running("app")], "h", T0, T1)

    assert status["phase"] == "Succeeded"


def test_last_state_shows_the_run_before_the_current_one():
    record = exited("app", 1, restart=True)
    record.begin_run("process://second")
    record.running(T1, {"pid": 2})

    status = record.api_status()

    assert status["restartCount"] == 1
    assert status["state"] == {"running": {"startedAt": T1}}
    assert status["lastState"]["terminated"]["exitCode"] == 1
    assert status["lastState"]["terminated"]["reason"] == "Error"


def test_a_killed_container_reports_128_plus_the_signal_as_an_error():
    # As with containerd: exit code 137, reason Error, and no signal field.
    state = terminated_state(137, T0, T1, "process://x")

    assert state == {"exitCode": 137, "reason": "Error", "startedAt": T0,
                     "finishedAt": T1, "containerID": "process://x"}
