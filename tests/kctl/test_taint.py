"""kctl taint: the same taints, words and exit codes as kubectl's, run side by
side on two nodes of their own."""

from __future__ import annotations

import json
import uuid

import pytest


@pytest.fixture
def nodes(kctl):
    """Two fresh nodes: one for kctl, one for kubectl."""
    names = [f"taint-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    for name in names:
        manifest = f"apiVersion: v1\nkind: Node\nmetadata: {{name: {name}}}\n"
        assert kctl("create", "-f", "-", stdin=manifest).code == 0
    yield names
    for name in names:
        kctl("delete", "node", name)


def taints(kctl, name: str) -> list:
    out = kctl("get", "node", name, "-o", "jsonpath={.spec.taints}").out
    return json.loads(out) if out else []


STEPS = [
    ["a=1:NoSchedule"],
    ["a=2:NoSchedule"],
    ["a=2:NoSchedule", "--overwrite"],
    ["b:NoExecute", "c=3:PreferNoSchedule"],
    ["a:NoSchedule-"],
    ["b-"],
    ["zz-"],
    ["zz:NoSchedule-"],
    ["x=1:Bad"],
    ["bad key=1:NoSchedule"],
    ["a=bad value:NoSchedule"],
    ["a:NoSchedule:x"],
    ["c=3:PreferNoSchedule", "c=3:PreferNoSchedule-"],
    [],
]


def test_each_step_matches_kubectl(kctl, kubectl, nodes):
    ours, theirs = nodes
    for step in STEPS:
        mine = kctl("taint", "nodes", ours, *step)
        other = kubectl("taint", "nodes", theirs, *step)

        assert mine.code == other.returncode, (step, mine.err, other.stderr)
        assert mine.out == other.stdout.replace(theirs, ours), step
        assert mine.err == other.stderr.replace("kubectl", "kctl").replace(
            theirs, ours), step
        assert taints(kctl, ours) == taints(kctl, theirs), step


def test_new_taints_go_first(kctl, nodes):
    name = nodes[0]
    kctl("taint", "nodes", name, "old=1:NoSchedule")

    done = kctl("taint", "node", name, "new=1:NoExecute")

    assert done.out == f"node/{name} tainted\n"
    assert [t["key"] for t in taints(kctl, name)] == ["new", "old"]


def test_only_nodes_take_taints(kctl, kubectl):
    ours = kctl("taint", "pods", "x", "a=1:NoSchedule")
    theirs = kubectl("taint", "pods", "x", "a=1:NoSchedule")

    assert (ours.code, ours.err) == (1, "error: invalid resource type pods, only "
                                     "node types are supported\n")
    assert theirs.stderr == ours.err


def test_a_missing_node_is_not_found(kctl):
    done = kctl("taint", "nodes", "no-such-node", "a=1:NoSchedule")

    assert (done.code, done.err) == (
        1, 'Error from server (NotFound): nodes "no-such-node" not found\n')
