"""kctl logs against a server with its node agent and a pod that keeps writing."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import KUBECTL, launch_server
from tests.kctl.conftest import REPO, run_inprocess

LOOP = """apiVersion: v1
kind: Pod
metadata:
  name: talker
spec:
  nodeName: {node}
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "while true; do echo hi; sleep 1; done"]
"""


def _eventually(check, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


@pytest.fixture(scope="module")
def talker(tmp_path_factory):
    """The server's URL once pod ``talker`` has written at least three lines."""
    home = tmp_path_factory.mktemp("logs-home")
    server = launch_server(str(tmp_path_factory.mktemp("logs")), node=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        patch.setenv("KUBECONFIG", str(home / "none"))
        patch.setenv("XDG_CACHE_HOME", str(home / "cache"))
        try:
            url = server.url
            nodes = _eventually(lambda: " Ready " in (
                out := kctl(url, "get", "nodes", "--no-headers").out) and out)
            run_inprocess("-s", url, "create", "-f", "-", monkeypatch=patch,
                          stdin=LOOP.format(node=nodes.split()[0]))
            _eventually(lambda: kctl(url, "logs", "talker").out.count("hi\n") >= 3)
            yield url
        finally:
            server.stop(signal.SIGKILL)


def kctl(url, *args):
    return run_inprocess("-s", url, *args)


def test_tail_prints_the_last_lines(talker, kctl_env):
    assert kctl(talker, "logs", "talker", "--tail", "2").out == "hi\nhi\n"


def test_timestamps_prefix_each_line(talker, kctl_env):
    out = kctl(talker, "logs", "pod/talker", "--tail", "1", "--timestamps").out

    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z hi\n", out)


def test_since_limits_to_recent_lines(talker, kctl_env):
    everything = kctl(talker, "logs", "talker").out.count("\n")
    recent = kctl(talker, "logs", "talker", "--since", "2s").out

    assert set(recent.splitlines()) == {"hi"}
    assert recent.count("\n") < everything


def test_previous_without_a_restart_is_the_servers_error(talker, kctl_env):
    done = kctl(talker, "logs", "talker", "-p")

    assert (done.code, done.err) == (
        1, 'Error from server (BadRequest): previous terminated container "main" '
           'in pod "talker" not found\n')


def test_follow_keeps_streaming(talker, kctl_env):
    env = dict(os.environ, PYTHONPATH=REPO, HOME=str(kctl_env),
               KUBECONFIG=str(kctl_env / "none"))
    follower = subprocess.Popen(
        [sys.executable, "-m", "kctl.main", "-s", talker, "logs", "talker", "-f",
         "--tail", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env)
    try:
        # --tail 1 gives one line at once; the next ones come as written.
        lines = [follower.stdout.readline() for _ in range(3)]
    finally:
        os.kill(follower.pid, signal.SIGTERM)
        follower.wait(10)

    assert lines == ["hi\n"] * 3


WEB = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: a
        image: busybox
        command: ["sh", "-c", "echo from-a; echo again-a; sleep 3600"]
      - name: b
        image: busybox
        command: ["sh", "-c", "echo from-b; sleep 3600"]
"""


@pytest.fixture(scope="module")
def web(talker):
    """A Deployment of two pods with two containers each, all logs written."""
    with pytest.MonkeyPatch.context() as patch:
        run_inprocess("-s", talker, "create", "-f", "-", stdin=WEB,
                      monkeypatch=patch)
    names = _eventually(lambda: _web_pods_logged(talker))
    assert names, "the web pods did not write their logs"
    return talker, names


def _web_pods_logged(url):
    names = kctl(url, "get", "pods", "-l", "app=web", "-o",
                 "jsonpath={.items[*].metadata.name}").out.split()
    if len(names) != 2:
        return None
    for name in names:
        if kctl(url, "logs", name, "-c", "b").out != "from-b\n":
            return None
    return names


def _kubectl(url, home, *args):
    done = subprocess.run([KUBECTL, "-s", url, *args], capture_output=True,
                          text=True, timeout=60,
                          env={"PATH": os.environ.get("PATH", ""),
                               "HOME": str(home), "KUBECONFIG": os.devnull})
    return done.returncode, done.stdout, done.stderr


def _ours(url, *args):
    done = kctl(url, *args)
    return done.code, done.out, done.err


def _pods_blank(result, names):
    code, out, err = result
    for name in names:
        out, err = out.replace(name, "POD"), err.replace(name, "POD")
    return code, out, err


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
@pytest.mark.parametrize("args", [
    ["logs", "deployment/web"],
    ["logs", "deploy/web", "-c", "b"],
    ["logs", "deployment/web", "--all-containers"],
    ["logs", "deployment/web", "--all-containers", "--prefix"],
], ids=["default-container", "container", "all-containers", "prefix"])
def test_a_workload_reads_one_of_its_pods_as_kubectl(web, kctl_env, args):
    url, names = web

    ours = _ours(url, *args)
    theirs = _kubectl(url, kctl_env, *args)

    # Which pod: kubectl's ByLogging order, whose ties (pods ready in the
    # same second) it leaves to its sort; so pod names are compared blank.
    ours, theirs = _pods_blank(ours, names), _pods_blank(theirs, names)
    if "--all-containers" in args:
        # kubectl reads the containers from a Go map: in no set order.
        ours = (ours[0], sorted(ours[1].splitlines()), ours[2])
        theirs = (theirs[0], sorted(theirs[1].splitlines()), theirs[2])
    assert ours == theirs
    assert ours[0] == 0 and ours[2].startswith("Found 2 pods, using pod/POD")


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
@pytest.mark.parametrize("args", [
    ["logs", "-l", "app=web", "--all-containers", "--prefix"],
    ["logs", "-l", "app=web", "-c", "a", "--tail", "1"],
    ["logs", "-l", "app=web", "--prefix"],
    ["logs", "-l", "app=none"],
    ["logs", "-l", "app=web", "-f", "--all-containers", "--max-log-requests=3"],
    ["logs", "-l", "app=web", "web"],
], ids=["all-prefixed", "tail", "defaulted", "no-pods", "too-many-streams",
        "selector-and-name"])
def test_a_selector_reads_every_pod_as_kubectl(web, kctl_env, args):
    url, _ = web

    ours = _ours(url, *args)
    theirs = _kubectl(url, kctl_env, *args)

    # kubectl reads the logs in the order of a Go map, that is any order;
    # kctl reads them by pod name, containers in the pod's order.
    assert (ours[0], sorted(ours[1].splitlines())) == (
        theirs[0], sorted(theirs[1].splitlines()))
    assert sorted(ours[2].splitlines()) == sorted(
        theirs[2].replace("kubectl logs", "kctl logs").splitlines())


def test_prefixed_lines_name_pod_and_container(web, kctl_env):
    url, names = web

    done = kctl(url, "logs", "-l", "app=web", "--all-containers", "--prefix")

    assert done.out == "".join(
        f"[pod/{name}/a] from-a\n[pod/{name}/a] again-a\n[pod/{name}/b] from-b\n"
        for name in sorted(names))


def test_following_several_pods_streams_them_together(web, kctl_env):
    url, names = web
    env = dict(os.environ, PYTHONPATH=REPO, HOME=str(kctl_env),
               KUBECONFIG=str(kctl_env / "none"))
    follower = subprocess.Popen(
        [sys.executable, "-m", "kctl.main", "-s", url, "logs", "-l", "app=web",
         "-c", "b", "-f", "--prefix"], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines = {follower.stdout.readline() for _ in names}
    finally:
        os.kill(follower.pid, signal.SIGTERM)
        follower.wait(10)

    assert lines == {f"[pod/{name}/b] from-b\n" for name in names}


@pytest.mark.parametrize("annotation", [None, "b", "missing"],
                         ids=["first", "annotated", "annotated-missing"])
def test_the_defaulted_container_line_is_kubectls(kctl, kubectl, namespace,
                                                  annotation):
    meta = {"name": "multi"}
    if annotation:
        meta["annotations"] = {"kubectl.kubernetes.io/default-container": annotation}
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {
        "initContainers": [{"name": "i1", "image": "x", "command": ["true"]}],
        "containers": [{"name": "a", "image": "x", "command": ["true"]},
                       {"name": "b", "image": "x", "command": ["true"]}]}}
    import json

    kctl("create", "-n", namespace, "-f", "-", stdin=json.dumps(pod))

    ours = kctl("logs", "multi", "-n", namespace)
    theirs = kubectl("logs", "multi", "-n", namespace)

    first = theirs.stderr.splitlines()[0]
    assert ours.err.splitlines()[0] == first
    if annotation != "b":
        assert "Default" in first
