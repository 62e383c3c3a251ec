"""kctl logs against a server with its node agent and a pod that keeps writing."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import launch_server
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
