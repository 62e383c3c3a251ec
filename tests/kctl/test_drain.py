"""kctl cordon, uncordon and drain against a fresh server with simulated nodes,
compared line by line with what the real kubectl prints for the same case."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
import requests

from tests.conftest import KUBECTL, run_kubectl
from tests.kctl.conftest import run_inprocess
from tests.node.simulated_nodes import SimulatedNodes

NS = "default"
OWNER = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs",
         "uid": "11111111-1111-1111-1111-111111111111", "controller": True}


@pytest.fixture
def cluster(start_server, kctl_env, tmp_path):
    server = start_server("--no-controllers")
    nodes = SimulatedNodes(server.url, "n", 3, tmp_path / "nodes.log").start()
    yield server
    nodes.stop()


def kctl(server, *args):
    return run_inprocess("-s", server.url, *args)


def make_pod(server, name: str, node: str, owner: dict | None = OWNER, **extra) -> dict:
    meta = {"name": name, **extra.pop("metadata", {})}
    if owner:
        meta["ownerReferences"] = [owner]
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "x"}],
                     **extra}}
    response = requests.post(f"{server.url}/api/v1/namespaces/{NS}/pods", json=body,
                             timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def pod_names(server) -> set[str]:
    items = requests.get(f"{server.url}/api/v1/namespaces/{NS}/pods",
                         timeout=10).json()["items"]
    return {item["metadata"]["name"] for item in items}


def unschedulable(server, node: str) -> bool:
    spec = requests.get(f"{server.url}/api/v1/nodes/{node}", timeout=10).json()["spec"]
    return bool(spec.get("unschedulable"))


def needs_kubectl():
    if KUBECTL is None:
        pytest.skip("kubectl is not on PATH")


def test_cordon_and_uncordon_print_kubectls_lines(cluster):
    needs_kubectl()
    steps = ["cordon", "cordon", "uncordon", "uncordon"]

    ours = [kctl(cluster, step, "n0") for step in steps]
    theirs = [run_kubectl(cluster, step, "n1") for step in steps]

    assert [r.out for r in ours] == ["node/n0 cordoned\n", "node/n0 already cordoned\n",
                                     "node/n0 uncordoned\n",
                                     "node/n0 already uncordoned\n"]
    assert [r.out.replace("n0", "n1") for r in ours] == [r.stdout for r in theirs]
    assert [r.code for r in ours] == [0, 0, 0, 0]
    assert not unschedulable(cluster, "n0")


def test_cordon_sets_unschedulable(cluster):
    result = kctl(cluster, "cordon", "n2")

    assert result.code == 0
    assert unschedulable(cluster, "n2")


def test_drain_evicts_the_pods_and_waits_for_them(cluster):
    make_pod(cluster, "web-1", "n0")
    make_pod(cluster, "web-2", "n0")
    make_pod(cluster, "other", "n1")

    result = kctl(cluster, "drain", "n0", "--ignore-daemonsets")

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "node/n0 cordoned"
    assert sorted(lines[1:3]) == [f"evicting pod {NS}/web-1",
                                  f"evicting pod {NS}/web-2"]
    assert sorted(lines[3:5]) == ["pod/web-1 evicted", "pod/web-2 evicted"]
    assert lines[5:] == ["node/n0 drained"]
    assert pod_names(cluster) == {"other"}
    assert unschedulable(cluster, "n0")


def test_drain_output_matches_kubectl(cluster):
    needs_kubectl()
    make_pod(cluster, "web-0", "n0")
    make_pod(cluster, "web-1", "n1")

    ours = kctl(cluster, "drain", "n0")
    theirs = run_kubectl(cluster, "drain", "n1")

    assert (ours.code, theirs.returncode) == (0, 0)
    assert ours.out.replace("n0", "n1").replace("web-0", "web-1") == theirs.stdout
    assert ours.err == theirs.stderr == ""


def test_drain_refuses_pods_without_a_controller(cluster):
    needs_kubectl()
    make_pod(cluster, "bare-0", "n0", owner=None)
    make_pod(cluster, "bare-1", "n1", owner=None)

    ours = kctl(cluster, "drain", "n0")
    theirs = run_kubectl(cluster, "drain", "n1")

    assert ours.code == 1
    assert ours.err.splitlines() == [
        'error: unable to drain node "n0" due to error: cannot delete cannot delete '
        "Pods that declare no controller (use --force to override): default/bare-0, "
        "continuing command...",
        "There are pending nodes to be drained:",
        " n0",
        "cannot delete cannot delete Pods that declare no controller (use --force to "
        "override): default/bare-0"]
    assert ours.err.replace("n0", "n1").replace("bare-0", "bare-1") == theirs.stderr
    assert ours.out == "node/n0 cordoned\n"
    assert pod_names(cluster) == {"bare-0", "bare-1"}


def test_drain_refuses_emptydir_pods_without_the_flag(cluster):
    make_pod(cluster, "scratch", "n0", volumes=[{"name": "v", "emptyDir": {}}])

    refused = kctl(cluster, "drain", "n0")
    allowed = kctl(cluster, "drain", "n0", "--delete-emptydir-data")

    assert refused.code == 1
    assert refused.err.splitlines()[-1] == (
        "cannot delete Pods with local storage (use --delete-emptydir-data to "
        "override): default/scratch")
    assert allowed.code == 0, allowed.err
    assert allowed.err == ""
    assert "pod/scratch evicted" in allowed.out.splitlines()


def test_drain_force_deletes_unmanaged_pods_with_a_warning(cluster):
    make_pod(cluster, "bare", "n0", owner=None)

    result = kctl(cluster, "drain", "n0", "--force", "--disable-eviction",
                  "--grace-period", "0")

    assert result.code == 0, result.err
    assert result.err == ("Warning: deleting Pods that declare no controller: "
                          "default/bare\n")
    assert result.out.splitlines() == ["node/n0 cordoned", "pod/bare deleted",
                                       "node/n0 drained"]
    assert pod_names(cluster) == set()


def test_drain_skips_mirror_pods(cluster):
    make_pod(cluster, "static", "n0", owner=None,
             metadata={"annotations": {"kubernetes.io/config.mirror": "abc"}})

    result = kctl(cluster, "drain", "n0")

    assert result.code == 0, result.err
    assert result.out.splitlines() == ["node/n0 cordoned", "node/n0 drained"]
    assert pod_names(cluster) == {"static"}


def test_drain_gives_up_after_the_timeout(cluster):
    # A node with no agent: the evicted pod keeps its deletionTimestamp.
    requests.post(f"{cluster.url}/api/v1/nodes", timeout=10, json={
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": "silent"}})
    make_pod(cluster, "stuck", "silent")

    result = kctl(cluster, "drain", "silent", "--timeout", "1s")

    assert result.code == 1
    assert result.err.splitlines()[0] == (
        'error: unable to drain node "silent" due to error: error when waiting for '
        'pod "stuck" in namespace "default" to terminate: global timeout reached: 1s, '
        "continuing command...")
    assert pod_names(cluster) == {"stuck"}


def test_drain_of_an_unknown_node_is_one_line(cluster):
    result = kctl(cluster, "drain", "nosuch")

    assert result.code == 1
    assert result.err == 'Error from server (NotFound): nodes "nosuch" not found\n'


def test_drain_without_a_node_is_a_usage_error(cluster):
    result = kctl(cluster, "drain")

    assert result.code == 2
    assert result.err == "error: USAGE: drain NODE [flags]\n"


def test_drained_replicas_come_back_on_other_nodes(cluster, tmp_path):
    from tests.controllers.conftest import wait_for

    log = open(tmp_path / "controllers.log", "ab")
    controllers = subprocess.Popen(
        [sys.executable, "-m", "controllers", "--server", cluster.url,
         "--controllers=scheduler,replicaset"], stdout=subprocess.DEVNULL, stderr=log)
    log.close()
    try:
        labels = {"app": "web"}
        requests.post(f"{cluster.url}/apis/apps/v1/namespaces/{NS}/replicasets",
                      timeout=10, json={
                          "apiVersion": "apps/v1", "kind": "ReplicaSet",
                          "metadata": {"name": "web"},
                          "spec": {"replicas": 3, "selector": {"matchLabels": labels},
                                   "template": {"metadata": {"labels": labels},
                                                "spec": {"containers": [
                                                    {"name": "c", "image": "x"}]}}}})
        wait_for(lambda: len(running_on(cluster)) == 3, message="3 replicas Running")
        # One owner's pods are spread: one on each node.
        assert sorted(running_on(cluster)) == ["n0", "n1", "n2"]

        drained = [kctl(cluster, "drain", node) for node in ("n1", "n2")]

        assert [r.code for r in drained] == [0, 0]
        wait_for(lambda: running_on(cluster) == ["n0"] * 3,
                 message="3 replicas Running on n0")
    finally:
        controllers.send_signal(signal.SIGTERM)
        try:
            controllers.wait(15)
        except subprocess.TimeoutExpired:
            controllers.kill()
            controllers.wait()


def running_on(server) -> list[str]:
    """The nodes of the Running pods of the default namespace, one per pod."""
    items = requests.get(f"{server.url}/api/v1/namespaces/{NS}/pods",
                         timeout=10).json()["items"]
    return [p["spec"].get("nodeName", "") for p in items
            if p["status"].get("phase") == "Running"
            and not p["metadata"].get("deletionTimestamp")]
