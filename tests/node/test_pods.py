"""Pods run by an agent against a real API server: lifecycle, restarts, status,
logs through the server's pods/log proxy, graceful deletion."""

import json
import subprocess
import threading
import uuid

import requests

from tests.conftest import KUBECTL, free_port, run_kubectl
from tests.node.conftest import condition, container_status, container_processes, \
    wait_gone
from tests.node.helpers import wait_for

PYTHON = "python3"


def test_a_web_server_runs_turns_ready_and_its_logs_are_served(
        api, api_server, agent, namespace):
    port = free_port()
    web = {"name": "web", "image": "python:3",
           "command": [PYTHON, "-u", "-m", "http.server", str(port),
                       "--bind", "127.0.0.1"],
           "readinessProbe": {"httpGet": {"path": "/", "port": port},
                              "periodSeconds": 1}}
    created = api.create_pod(namespace, agent.name, "web", [web])
    assert created["status"].get("phase", "Pending") == "Pending"

    pod = api.wait_pod(namespace, "web", lambda p: condition(p, "Ready").get(
        "status") == "True")

    status = container_status(pod, "web")
    assert pod["status"]["phase"] == "Running"
    assert status["ready"] and status["started"] and status["restartCount"] == 0
    assert "running" in status["state"]
    assert pod["status"]["podIP"] == pod["status"]["hostIP"] == "127.0.0.1"
    assert requests.get(f"http://127.0.0.1:{port}/").ok
    logs = run_kubectl(api_server, "logs", "-n", namespace, "web")
    assert logs.returncode == 0, logs.stderr
    assert f"Serving HTTP on 127.0.0.1 port {port}" in logs.stdout
    assert '"GET / HTTP/1.1" 200' in logs.stdout


def test_kubectl_logs_follow_streams_new_lines(api, api_server, agent, namespace):
    script = "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"
    api.create_pod(namespace, agent.name, "ticker",
                   [{"name": "c", "image": "busybox", "command": ["sh", "-c", script]}])
    api.wait_pod(namespace, "ticker", lambda p: p["status"].get("phase") == "Running")

    follower = subprocess.Popen(
        [KUBECTL, "--server", api_server.url, "logs", "-f", "-n", namespace, "ticker",
         "--tail", "1"],
        stdout=subprocess.PIPE, text=True, env={"KUBECONFIG": "/dev/null",
                                                "HOME": api_server.data_dir})
    try:
        first = follower.stdout.readline()
        later = [follower.stdout.readline() for _ in range(3)]
    finally:
        follower.kill()
        follower.wait()

    numbers = [int(line.split()[1]) for line in [first] + later]
    assert numbers == list(range(numbers[0], numbers[0] + 4))


def test_a_crashing_container_enters_crashloopbackoff(api, api_server, agent, namespace):
    api.create_pod(namespace, agent.name, "crash",
                   [{"name": "c", "image": "busybox",
                     "command": ["sh", "-c", "echo run; exit 1"]}])

    pod = api.wait_pod(namespace, "crash", lambda p: container_status(p).get(
        "restartCount", 0) >= 3 and "waiting" in container_status(p)["state"])

    status = container_status(pod)
    waiting = status["state"]["waiting"]
    assert waiting["reason"] == "CrashLoopBackOff"
    assert waiting["message"].startswith("back-off ")
    assert f"restarting failed container=c pod=crash_{namespace}(" in waiting["message"]
    terminated = status["lastState"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (1, "Error")
    assert pod["status"]["phase"] == "Running"
    previous = run_kubectl(api_server, "logs", "--previous", "-n", namespace, "crash")
    assert previous.stdout == "run\n"
    table = run_kubectl(api_server, "get", "pod", "-n", namespace, "crash")
    assert "CrashLoopBackOff" in table.stdout
    # Each run's events are one event each, with a count (restarts >= 3: 4 runs).
    events = wait_for(lambda: (e := _described_events(api_server, namespace, "crash"))
                      .get("Created", "").count("(x4 over") and e, timeout=20)
    assert {"Pulled", "Created", "Started", "BackOff"} <= set(events)
    assert events["Pulled"].endswith(
        'kubelet  Container image "busybox" already present on machine')
    assert events["Started"].endswith("kubelet  Started container c")
    assert events["BackOff"].startswith("Warning")
    assert "Back-off restarting failed container c in pod crash_" in events["BackOff"]


def test_a_failed_liveness_probe_restarts_the_container(api, api_server, agent,
                                                       namespace):
    script = "touch alive; sleep 0.5; rm alive; while true; do sleep 0.2; done"
    probe = {"exec": {"command": ["test", "-f", "alive"]}, "periodSeconds": 1,
             "failureThreshold": 1}
    api.create_pod(namespace, agent.name, "sick",
                   [{"name": "c", "image": "busybox", "command": ["sh", "-c", script],
                     "livenessProbe": probe}], terminationGracePeriodSeconds=1)

    pod = api.wait_pod(namespace, "sick", lambda p: container_status(p).get(
        "restartCount", 0) >= 1)

    terminated = container_status(pod)["lastState"]["terminated"]
    assert terminated["exitCode"] == 143  # SIGTERM, which sh does not trap
    events = requests.get(f"{api_server.url}/api/v1/namespaces/{namespace}/events"
                          ).json()["items"]
    messages = {(e["reason"], e["message"]) for e in events}
    assert ("Killing", "Container c failed liveness probe, will be restarted") \
        in messages
    assert ("Unhealthy", "Liveness probe failed: ") in messages


def test_an_image_change_restarts_the_container(api, api_server, agent, namespace):
    api.create_pod(namespace, agent.name, "upgrade",
                   [{"name": "c", "image": "busybox:1", "command": ["sleep", "600"]}],
                   restartPolicy="Never", terminationGracePeriodSeconds=1)
    path = f"{api_server.url}/api/v1/namespaces/{namespace}/pods/upgrade"
    first = api.wait_pod(namespace, "upgrade",
                         lambda p: "running" in container_status(p).get("state", {}))

    patch = {"spec": {"containers": [{"name": "c", "image": "busybox:2"}]}}
    response = requests.patch(path, json=patch, headers={
        "Content-Type": "application/strategic-merge-patch+json"})
    pod = api.wait_pod(namespace, "upgrade", lambda p: container_status(p).get(
        "restartCount") == 1 and "running" in container_status(p)["state"])

    assert response.status_code == 200, response.text
    assert container_status(first)["image"] == "busybox:1"
    status = container_status(pod)
    assert status["image"] == "busybox:2"
    assert status["lastState"]["terminated"]["exitCode"] == 143
    assert status["containerID"] != container_status(first)["containerID"]
    events = requests.get(f"{api_server.url}/api/v1/namespaces/{namespace}/events"
                          ).json()["items"]
    assert ("Killing", "Container c definition changed, will be restarted") in {
        (e["reason"], e["message"]) for e in events}


def test_restart_policy_never_ends_failed(api, agent, namespace):
    api.create_pod(namespace, agent.name, "never",
                   [{"name": "c", "image": "busybox", "command": ["sh", "-c", "exit 1"]}],
                   restartPolicy="Never")

    pod = api.wait_pod(namespace, "never", lambda p: p["status"].get("phase") == "Failed")

    terminated = container_status(pod)["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (1, "Error")
    assert container_status(pod)["restartCount"] == 0


def test_restart_policy_onfailure_ends_succeeded_on_exit_0(api, agent, namespace):
    api.create_pod(namespace, agent.name, "job",
                   [{"name": "c", "image": "busybox", "command": ["true"]}],
                   restartPolicy="OnFailure")

    pod = api.wait_pod(namespace, "job",
                       lambda p: p["status"].get("phase") == "Succeeded")

    terminated = container_status(pod)["state"]["terminated"]
    assert (terminated["exitCode"], terminated["reason"]) == (0, "Completed")
    assert condition(pod, "Ready")["reason"] == "PodCompleted"


def test_init_containers_run_in_order_before_the_app(api, api_server, agent, namespace):
    inits = [{"name": f"init-{i}", "image": "busybox",
              "command": ["sh", "-c", f"echo init-{i} >> order"]} for i in (1, 2)]
    app = {"name": "app", "image": "busybox",
           "command": ["sh", "-c", "echo app >> order; cat order"]}
    api.create_pod(namespace, agent.name, "ordered", [app], initContainers=inits,
                   restartPolicy="Never")

    pod = api.wait_pod(namespace, "ordered",
                       lambda p: p["status"].get("phase") == "Succeeded")

    logs = run_kubectl(api_server, "logs", "-n", namespace, "ordered", "-c", "app")
    assert logs.stdout == "init-1\ninit-2\napp\n"
    assert condition(pod, "Initialized")["status"] == "True"
    assert [s["state"]["terminated"]["reason"]
            for s in pod["status"]["initContainerStatuses"]] == ["Completed"] * 2


def test_env_and_expansion_reach_the_process(api, api_server, agent, namespace):
    requests.post(f"{api_server.url}/api/v1/namespaces/{namespace}/configmaps",
                  json={"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "settings"}, "data": {"mode": "fast"}})
    env = [{"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings",
                                                              "key": "mode"}}},
           {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
           {"name": "GREETING", "value": "hello $(POD)"}]
    api.create_pod(namespace, agent.name, "env",
                   [{"name": "c", "image": "busybox", "env": env,
                     "command": ["sh", "-c", "echo $MODE $GREETING; echo $(POD)"]}],
                   restartPolicy="Never")

    api.wait_pod(namespace, "env", lambda p: p["status"].get("phase") == "Succeeded")

    logs = run_kubectl(api_server, "logs", "-n", namespace, "env")
    assert logs.stdout == "fast hello env\nenv\n"


def test_a_container_without_command_waits_with_a_clear_reason(
        api, api_server, agent, namespace):
    api.create_pod(namespace, agent.name, "nocmd", [{"name": "web", "image": "nginx"}])

    pod = api.wait_pod(namespace, "nocmd", lambda p: container_status(p).get(
        "state", {}).get("waiting", {}).get("reason") == "CommandRequired")

    waiting = container_status(pod)["state"]["waiting"]
    assert "process runtime" in waiting["message"] and "command" in waiting["message"]
    assert pod["status"]["phase"] == "Pending"
    assert not container_status(pod)["started"]
    described = wait_for(lambda: _described_with(api_server, namespace, "nocmd",
                                                 "set command"))
    assert "Reason:       CommandRequired" in described


def test_args_without_a_command_run_as_the_command(api, api_server, agent,
                                                  namespace):
    # What `kubectl run x --image=busybox -- echo ...` sends.
    api.create_pod(namespace, agent.name, "argsonly",
                   [{"name": "c", "image": "busybox",
                     "args": ["sh", "-c", "echo ran $(MODE)"],
                     "env": [{"name": "MODE", "value": "args"}]}],
                   restartPolicy="Never")

    api.wait_pod(namespace, "argsonly",
                 lambda p: p["status"].get("phase") == "Succeeded")

    logs = run_kubectl(api_server, "logs", "-n", namespace, "argsonly")
    assert logs.stdout == "ran args\n"


def test_a_command_that_does_not_exist_is_a_start_error(api, api_server, agent,
                                                        namespace):
    api.create_pod(namespace, agent.name, "badcmd",
                   [{"name": "c", "image": "busybox", "command": ["no-such-command-kctl"]}],
                   restartPolicy="Never")

    pod = api.wait_pod(namespace, "badcmd",
                       lambda p: p["status"].get("phase") == "Failed")

    terminated = container_status(pod)["state"]["terminated"]
    message = 'exec: "no-such-command-kctl": executable file not found in $PATH'
    assert (terminated["reason"], terminated["exitCode"]) == ("StartError", 128)
    assert terminated["message"] == message
    described = run_kubectl(api_server, "describe", "pod", "-n", namespace, "badcmd")
    assert "Reason:       StartError" in described.stdout
    assert f"Message:      {message}" in described.stdout


def _described_events(api_server, namespace, name):
    """The Events of ``kubectl describe pod``: each reason's one line, which
    must be the only one of its reason (repeats are counted, not listed)."""
    out = run_kubectl(api_server, "describe", "pod", "-n", namespace, name).stdout
    lines = out.split("\nEvents:\n", 1)[-1].splitlines()[2:]
    by_reason = {}
    for line in lines:
        reason = line.split()[1]
        assert reason not in by_reason, f"two {reason} events:\n{out}"
        by_reason[reason] = line.strip()
    return by_reason


def test_a_failing_readiness_probe_keeps_the_pod_unready_with_events(
        api, api_server, agent, namespace):
    probe = {"exec": {"command": ["sh", "-c", "echo not yet; exit 1"]},
             "periodSeconds": 1}
    api.create_pod(namespace, agent.name, "unready",
                   [{"name": "c", "image": "busybox", "command": ["sleep", "60"],
                     "readinessProbe": probe}], terminationGracePeriodSeconds=1)

    events = wait_for(lambda: (e := _described_events(api_server, namespace,
                                                      "unready"))
                      .get("Unhealthy", "").count("(x2 over") and e, timeout=20)

    pod = api.pod(namespace, "unready")
    assert pod["status"]["phase"] == "Running"
    assert (condition(pod, "Ready")["status"], condition(pod, "Ready")["message"]) \
        == ("False", "containers with unready status: [c]")
    assert not container_status(pod)["ready"]
    assert events["Unhealthy"].startswith("Warning")
    assert events["Unhealthy"].endswith("kubelet  Readiness probe failed: not yet")


def _described_with(api_server, namespace, name, text):
    out = run_kubectl(api_server, "describe", "pod", "-n", namespace, name).stdout
    return out if text in out else None


def test_deletion_stops_a_process_that_ignores_sigterm_then_removes_the_pod(
        api, api_server, agent, namespace):
    token = uuid.uuid4().hex
    script = "trap 'echo got TERM' TERM; echo ready; while true; do sleep 0.1; done"
    api.create_pod(namespace, agent.name, "stubborn",
                   [{"name": "c", "image": "busybox", "command": ["sh", "-c", script],
                     "env": [{"name": "KCTL_TEST", "value": token}]}],
                   terminationGracePeriodSeconds=2)
    api.wait_pod(namespace, "stubborn", lambda p: p["status"].get("phase") == "Running")
    [pid] = wait_for(lambda: container_processes(f"KCTL_TEST={token}"))
    pod_url = api.pod_url(namespace, "stubborn")
    log = Stream(pod_url + "/log", {"follow": "true"})
    watch = Stream(api.pod_url(namespace), {"watch": "true",
                                            "fieldSelector": "metadata.name=stubborn"},
                   stop_at=b'"DELETED"')

    resp = requests.delete(pod_url)

    assert resp.ok, resp.text
    wait_for(lambda: api.pod(namespace, "stubborn") is None, timeout=20)
    wait_gone(pid)
    events = [json.loads(line) for line in watch.lines()]
    final = [e["object"] for e in events if e["type"] == "MODIFIED"][-1]
    terminated = container_status(final)["state"]["terminated"]
    assert terminated["exitCode"] == 137  # it ignored SIGTERM: SIGKILL ended it
    assert b"got TERM" in log.lines()  # the follow ended with the container


class Stream:
    """A streaming GET read in a thread, up to a line holding ``stop_at`` or the
    end of the response: a log follow or a watch."""

    def __init__(self, url, params, stop_at=None):
        self.resp = requests.get(url, params=params, stream=True, timeout=30)
        self.stop_at = stop_at
        self.received = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.resp.iter_lines():
            self.received.append(line)
            if self.stop_at is not None and self.stop_at in line:
                break
        self.resp.close()

    def lines(self):
        self.thread.join(20)
        assert not self.thread.is_alive(), "the stream did not end"
        return self.received


def test_downward_api_secrets_and_working_dir_reach_the_process(
        api, api_server, agent, namespace, tmp_path):
    requests.post(f"{api_server.url}/api/v1/namespaces/{namespace}/secrets",
                  json={"apiVersion": "v1", "kind": "Secret",
                        "metadata": {"name": "creds"},
                        "data": {"password": "aHVudGVyMg=="}})
    fields = {"NAME": "metadata.name", "NS": "metadata.namespace",
              "NODE": "spec.nodeName", "POD_IP": "status.podIP",
              "HOST_IP": "status.hostIP"}
    env = [{"name": k, "valueFrom": {"fieldRef": {"fieldPath": v}}}
           for k, v in fields.items()]
    env.append({"name": "PASSWORD", "valueFrom": {"secretKeyRef": {
        "name": "creds", "key": "password"}}})
    script = "echo $NAME $NS $NODE $POD_IP $HOST_IP $PASSWORD; pwd"
    api.create_pod(namespace, agent.name, "downward",
                   [{"name": "c", "image": "busybox", "env": env,
                     "workingDir": str(tmp_path), "command": ["sh", "-c", script]}],
                   restartPolicy="Never")

    api.wait_pod(namespace, "downward",
                 lambda p: p["status"].get("phase") == "Succeeded")

    logs = run_kubectl(api_server, "logs", "-n", namespace, "downward")
    assert logs.stdout == (f"downward {namespace} {agent.name} 127.0.0.1 127.0.0.1 "
                           f"hunter2\n{tmp_path}\n")


def test_a_missing_secret_is_a_config_error_until_it_exists(api, api_server, agent,
                                                            namespace):
    env = [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "later",
                                                            "key": "token"}}}]
    api.create_pod(namespace, agent.name, "waits",
                   [{"name": "c", "image": "busybox", "env": env,
                     "command": ["sh", "-c", "echo $TOKEN"]}], restartPolicy="Never")

    pod = api.wait_pod(namespace, "waits", lambda p: container_status(p).get(
        "state", {}).get("waiting", {}).get("reason") == "CreateContainerConfigError")

    assert container_status(pod)["state"]["waiting"]["message"] == \
        'secret "later" not found'
    assert pod["status"]["phase"] == "Pending"
    requests.post(f"{api_server.url}/api/v1/namespaces/{namespace}/secrets",
                  json={"apiVersion": "v1", "kind": "Secret",
                        "metadata": {"name": "later"}, "data": {"token": "dG9r"}})
    api.wait_pod(namespace, "waits", lambda p: p["status"].get("phase") == "Succeeded")
    assert run_kubectl(api_server, "logs", "-n", namespace, "waits").stdout == "tok\n"


def test_every_pod_gets_the_kubernetes_service_variables(api, api_server, agent,
                                                         namespace):
    requests.post(f"{api_server.url}/api/v1/namespaces/{namespace}/services",
                  json={"apiVersion": "v1", "kind": "Service",
                        "metadata": {"name": "web-db"},
                        "spec": {"ports": [{"port": 5432}]}})
    kubernetes = requests.get(f"{api_server.url}/api/v1/namespaces/default/services/"
                              "kubernetes").json()
    web_db = requests.get(f"{api_server.url}/api/v1/namespaces/{namespace}/services/"
                          "web-db").json()
    script = "echo $KUBERNETES_SERVICE_HOST $KUBERNETES_PORT ${WEB_DB_SERVICE_PORT:-}"
    for name, links in (("linked", True), ("unlinked", False)):
        api.create_pod(namespace, agent.name, name,
                       [{"name": "c", "image": "busybox",
                         "command": ["sh", "-c", script]}],
                       restartPolicy="Never", enableServiceLinks=links)

    for name in ("linked", "unlinked"):
        api.wait_pod(namespace, name, lambda p: p["status"].get("phase") == "Succeeded")

    ip = kubernetes["spec"]["clusterIP"]
    logs = {name: run_kubectl(api_server, "logs", "-n", namespace, name).stdout
            for name in ("linked", "unlinked")}
    assert web_db["spec"]["clusterIP"]
    assert logs == {"linked": f"{ip} tcp://{ip}:443 5432\n",
                    "unlinked": f"{ip} tcp://{ip}:443\n"}


def test_volumes_are_not_mounted_and_a_warning_says_so_once(api, api_server, agent,
                                                            namespace):
    volumes = [{"name": "config", "configMap": {"name": "settings"}},
               {"name": "scratch", "emptyDir": {}}]
    mounts = [{"name": "config", "mountPath": "/etc/app"},
              {"name": "scratch", "mountPath": "/scratch"}]
    api.create_pod(namespace, agent.name, "mounts",
                   [{"name": "c", "image": "busybox", "volumeMounts": mounts,
                     "command": ["sh", "-c", "exit 1"]}], volumes=volumes)

    api.wait_pod(namespace, "mounts", lambda p: container_status(p).get(
        "restartCount", 0) >= 2)

    events = requests.get(f"{api_server.url}/api/v1/namespaces/{namespace}/events"
                          ).json()["items"]
    warnings = [e for e in events if e["reason"] == "VolumesNotMounted"]
    assert [(e["type"], e["message"], e.get("count", 1)) for e in warnings] == [
        ("Warning", "volumes [config scratch] are not mounted: the kctl process "
         "runtime does not mount volumes, so [/etc/app /scratch] do not exist for "
         "the containers", 1)]
    assert warnings[0]["involvedObject"]["kind"] == "Pod"


def test_describe_of_a_running_probed_pod_equals_kubectls(api, api_server, agent,
                                                          namespace, tmp_path):
    from tests.kctl.conftest import run_program

    probe = {"exec": {"command": ["true"]}, "periodSeconds": 1}
    api.create_pod(namespace, agent.name, "probed",
                   [{"name": "c", "image": "busybox", "command": ["sleep", "60"],
                     "readinessProbe": probe, "livenessProbe": probe}],
                   terminationGracePeriodSeconds=1)
    api.wait_pod(namespace, "probed", lambda p: condition(p, "Ready").get(
        "status") == "True")
    env = {"HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "none"),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    args = ("describe", "pod", "probed", "-n", namespace, "--show-events=false")

    ours = run_program("-s", api_server.url, *args, env=env)
    theirs = run_kubectl(api_server, *args)

    assert ours.out == theirs.stdout
    assert "    Liveness:       exec [true] delay=0s timeout=1s period=1s" in ours.out
