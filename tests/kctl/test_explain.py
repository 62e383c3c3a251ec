"""kctl explain: kubectl's layout, byte for byte, from the server's OpenAPI v3."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("args", [
    ["pods"],
    ["pod.spec"],
    ["pod.spec.containers"],
    ["pod.spec.containers.image"],
    ["pod.spec.restartPolicy"],
    ["pod.spec.volumes.hostPath"],
    ["pod.spec.volumes.hostPath.type"],
    ["pod.metadata.labels"],
    ["svc.spec.ports.targetPort"],
    ["deployments"],
    ["deployment.spec.strategy"],
    ["leases.spec"],
    ["deploy.spec", "--recursive"],
    ["pod.spec.containers.env", "--recursive"],
    ["nodes", "--api-version=v1"],
], ids=lambda a: " ".join(a))
def test_the_text_is_kubectls(kctl, kubectl, args):
    ours = kctl("explain", *args)
    theirs = kubectl("explain", *args)

    assert ours.code == 0, ours.err
    assert ours.out == theirs.stdout


def test_an_unknown_field_is_one_line(kctl, kubectl):
    ours = kctl("explain", "pod.spec.bogus")
    theirs = kubectl("explain", "pod.spec.bogus")

    assert (ours.code, ours.out) == (1, "")
    assert ours.err == 'error: field "bogus" does not exist\n'
    assert theirs.returncode == 1 and theirs.stderr == ours.err


def test_an_unknown_type_is_one_line(kctl):
    done = kctl("explain", "bogus")

    assert done.code == 1 and done.out == ""
    assert done.err == 'error: the server doesn\'t have a resource type "bogus"\n'


def test_one_path_is_needed(kctl):
    done = kctl("explain")

    assert done.code == 1
    assert done.err.startswith("error: We accept only this format: explain RESOURCE")
