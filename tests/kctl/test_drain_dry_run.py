"""kctl cordon, uncordon and drain with --dry-run=client|server: kubectl's lines
with "(dry run)" or "(server dry run)", and nothing changed. kctl works on n0,
kubectl on n1, each with the same pods, and the outputs are compared."""

from __future__ import annotations

import pytest
import requests

from tests.conftest import run_kubectl
from tests.kctl.test_drain import (kctl, make_pod, needs_kubectl, pod_names,
                                   unschedulable)
from tests.node.simulated_nodes import SimulatedNodes


@pytest.fixture
def cluster(start_server, kctl_env, tmp_path):
    server = start_server("--no-controllers")
    nodes = SimulatedNodes(server.url, "n", 2, tmp_path / "nodes.log").start()
    yield server
    nodes.stop()


def still_running(server, name: str) -> bool:
    """Whether the pod is there and not being deleted."""
    answer = requests.get(f"{server.url}/api/v1/namespaces/default/pods/{name}",
                          timeout=10)
    return answer.ok and "deletionTimestamp" not in answer.json()["metadata"]


def both(server, *args: str):
    """kctl on n0 and kubectl on n1; kubectl's answer with n1 read as n0."""
    ours = kctl(server, *[arg.replace("NODE", "n0") for arg in args])
    theirs = run_kubectl(server, *[arg.replace("NODE", "n1") for arg in args])
    return (ours.code, ours.out, ours.err), (
        theirs.returncode, theirs.stdout.replace("n1", "n0"),
        theirs.stderr.replace("n1", "n0"))


@pytest.mark.parametrize("dry_run, words", [
    ("client", "dry run"), ("server", "server dry run"),
], ids=["client", "server"])
def test_cordon_and_uncordon_change_nothing(cluster, dry_run, words):
    needs_kubectl()

    cordoned = both(cluster, "cordon", "NODE", f"--dry-run={dry_run}")
    uncordoned = both(cluster, "uncordon", "NODE", f"--dry-run={dry_run}")

    assert cordoned[0] == cordoned[1] == (0, f"node/n0 cordoned ({words})\n", "")
    assert uncordoned[0] == uncordoned[1] == (
        0, f"node/n0 already uncordoned ({words})\n", "")
    assert not unschedulable(cluster, "n0") and not unschedulable(cluster, "n1")


def test_client_dry_run_lists_the_pods_it_would_evict(cluster):
    needs_kubectl()
    for node in ("n0", "n1"):
        make_pod(cluster, f"a-{node}", node)
        make_pod(cluster, f"u-{node}", node, owner=None)

    ours, theirs = both(cluster, "drain", "NODE", "--force", "--dry-run=client")

    assert ours == theirs == (
        0, "node/n0 cordoned (dry run)\n"
           "evicting pod default/a-n0 (dry run)\n"
           "evicting pod default/u-n0 (dry run)\n"
           "node/n0 drained (dry run)\n",
        "Warning: deleting Pods that declare no controller: default/u-n0\n")
    assert pod_names(cluster) == {"a-n0", "u-n0", "a-n1", "u-n1"}
    assert not unschedulable(cluster, "n0")


def test_client_dry_run_refuses_as_a_drain_would(cluster):
    needs_kubectl()
    for node in ("n0", "n1"):
        make_pod(cluster, f"u-{node}", node, owner=None)

    ours, theirs = both(cluster, "drain", "NODE", "--dry-run=client")

    assert ours == theirs
    assert ours[0] == 1
    assert ours[1] == "node/n0 cordoned (dry run)\n"


def test_server_dry_run_asks_the_server_to_evict(cluster):
    needs_kubectl()
    # One pod a node: kubectl evicts in parallel, in no fixed order.
    for node in ("n0", "n1"):
        make_pod(cluster, f"u-{node}", node, owner=None)

    ours, theirs = both(cluster, "drain", "NODE", "--force", "--dry-run=server")

    assert ours == theirs == (
        0, "node/n0 cordoned (server dry run)\n"
           "evicting pod default/u-n0 (server dry run)\n"
           "node/n0 drained (server dry run)\n",
        "Warning: deleting Pods that declare no controller: default/u-n0\n")
    assert not unschedulable(cluster, "n0")


def test_server_dry_run_leaves_the_pods(cluster):
    make_pod(cluster, "a", "n0")

    done = kctl(cluster, "drain", "n0", "--dry-run=server")

    assert done.code == 0
    assert still_running(cluster, "a")


def test_server_dry_run_without_eviction_deletes_nothing(cluster):
    make_pod(cluster, "a", "n0")

    done = kctl(cluster, "drain", "n0", "--disable-eviction", "--dry-run=server")

    # kubectl 1.32 would wait here for the pods to go, until --timeout.
    assert (done.code, done.out, done.err) == (
        0, "node/n0 cordoned (server dry run)\nnode/n0 drained (server dry run)\n",
        "")
    assert still_running(cluster, "a")
