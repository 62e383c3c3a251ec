"""A new user's first minutes, end to end, with a server and its node agent.

The pods name their node themselves (spec.nodeName): there is no scheduler
yet to bind them.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.kctl.conftest import Result, run_inprocess

MANIFEST = """apiVersion: v1
kind: Pod
metadata:
  name: a
  labels:
    app: demo
spec:
  nodeName: {node}
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "echo hello from a; sleep 300"]
"""


@pytest.fixture
def cluster(start_server, kctl_env, monkeypatch):
    server = start_server(node=True)

    def kctl(*args: str, stdin: str | None = None) -> Result:
        return run_inprocess("-s", server.url, *args, stdin=stdin,
                             monkeypatch=monkeypatch)

    return kctl


def _eventually(check, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def test_walkthrough(cluster, tmp_path):
    nodes = _eventually(lambda: "Ready" in cluster("get", "nodes").out and
                        cluster("get", "nodes"))
    assert nodes.out.splitlines()[0].split() == ["NAME", "STATUS", "ROLES", "AGE",
                                                 "VERSION"]
    node = nodes.out.splitlines()[1].split()[0]
    assert nodes.out.splitlines()[1].split()[1] == "Ready"

    first = tmp_path / "a.yaml"
    first.write_text(MANIFEST.format(node=node))
    assert cluster("create", "-f", str(first)).out == "pod/a created\n"

    running = _eventually(lambda: " Running " in cluster("get", "pods").out and
                          cluster("get", "pods"))
    assert running.out.splitlines()[1].split()[:4] == ["a", "1/1", "Running", "0"]

    described = _eventually(lambda: "Started" in (
        d := cluster("describe", "pod", "a")).out and d)
    assert "Containers:\n  main:\n" in described.out
    assert "    State:          Running\n" in described.out
    assert "    Ready:          True\n" in described.out
    assert "Normal  Started" in described.out
    logs = _eventually(lambda: cluster("logs", "a").out)
    assert logs == "hello from a\n"
    assert cluster("logs", "a", "-c", "main", "--tail", "1").out == "hello from a\n"
    wrong = cluster("logs", "a", "-c", "nope")
    assert (wrong.code, wrong.err) == (1, "error: container nope is not valid for "
                                          "pod a\n")

    node_page = cluster("describe", "node", node).out
    assert f"Lease:\n  HolderIdentity:  {node}\n" in node_page
    assert re.search(r"\nNon-terminated Pods: +\(1 in total\)\n", node_page)
    assert re.search(r"\n  cpu +0 \(0%\) +0 \(0%\)\n", node_page)

    second = tmp_path / "b.yaml"  # as `sed s/name: a/name: b/` would make it
    second.write_text(first.read_text().replace("name: a\n", "name: b\n"))
    assert cluster("create", "-f", str(second)).out == "pod/b created\n"
    both = _eventually(lambda: cluster("get", "pods").out.count(" Running ") == 2
                       and cluster("get", "pods"))
    assert [row.split()[0] for row in both.out.splitlines()[1:]] == ["a", "b"]

    deleted = cluster("delete", "pods/a", "pods/b")
    assert deleted.out == 'pod "a" deleted\npod "b" deleted\n'
    empty = cluster("get", "pods")
    assert (empty.out, empty.err) == ("", "No resources found in default namespace.\n")
