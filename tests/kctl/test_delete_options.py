"""delete --cascade and --dry-run, each compared with kubectl on the same server.

The session server runs no garbage collector, so an orphan or foreground
deletion leaves its finalizer on the object: what the server was asked for
can be read back.
"""

from __future__ import annotations

import pytest


def _configmaps(kctl, namespace, *names):
    for name in names:
        assert kctl("create", "configmap", name, "-n", namespace).code == 0


def _finalizers(kctl, namespace, name) -> str:
    return kctl("get", "configmap", name, "-n", namespace, "-o",
                "jsonpath={.metadata.finalizers}").out


@pytest.mark.parametrize("cascade, finalizers, warning", [
    ("orphan", '["orphan"]', ""),
    ("foreground", '["foregroundDeletion"]', ""),
    ("false", '["orphan"]', "warning: --cascade=false is deprecated (boolean "
     "value) and can be replaced with --cascade=orphan.\n"),
], ids=["orphan", "foreground", "deprecated-false"])
def test_cascade_is_sent_as_kubectls_propagation_policy(kctl, kubectl, namespace,
                                                        cascade, finalizers,
                                                        warning):
    _configmaps(kctl, namespace, "ours", "theirs")

    ours = kctl("delete", "configmap", "ours", "-n", namespace,
                f"--cascade={cascade}", "--wait=false")
    theirs = kubectl("delete", "configmap", "theirs", "-n", namespace,
                     f"--cascade={cascade}", "--wait=false")

    assert (ours.code, ours.out, ours.err) == (
        0, 'configmap "ours" deleted\n', warning)
    assert (theirs.returncode, theirs.stderr) == (0, warning)
    assert _finalizers(kctl, namespace, "ours") == finalizers
    assert _finalizers(kctl, namespace, "theirs") == finalizers


@pytest.mark.parametrize("cascade", ["background", "true"])
def test_background_cascade_deletes_at_once(kctl, namespace, cascade):
    _configmaps(kctl, namespace, "a")

    done = kctl("delete", "configmap", "a", "-n", namespace, f"--cascade={cascade}")

    assert (done.code, done.out) == (0, 'configmap "a" deleted\n')
    assert kctl("get", "configmap", "a", "-n", namespace).code == 1


def test_a_cascade_kubectl_does_not_know_is_its_error(kctl, kubectl, namespace):
    _configmaps(kctl, namespace, "a")

    ours = kctl("delete", "configmap", "a", "-n", namespace, "--cascade=later")
    theirs = kubectl("delete", "configmap", "a", "-n", namespace, "--cascade=later")

    assert (ours.code, ours.out, ours.err) == (
        theirs.returncode, theirs.stdout, theirs.stderr)
    assert ours.err == ('error: invalid cascade value (later). Must be '
                        '"background", "foreground", or "orphan"\n')


@pytest.mark.parametrize("dry_run, suffix", [
    ("client", "(dry run)"), ("server", "(server dry run)"),
], ids=["client", "server"])
def test_dry_run_deletes_nothing_and_says_so_as_kubectl(kctl, kubectl, namespace,
                                                        dry_run, suffix):
    _configmaps(kctl, namespace, "a", "b")

    ours = kctl("delete", "configmaps", "a", "b", "-n", namespace,
                f"--dry-run={dry_run}")
    theirs = kubectl("delete", "configmaps", "a", "b", "-n", namespace,
                     f"--dry-run={dry_run}")
    by_selector = kctl("delete", "configmaps", "-l", "none=here", "-n", namespace,
                       f"--dry-run={dry_run}")

    assert (ours.code, ours.out, ours.err) == (
        theirs.returncode, theirs.stdout, theirs.stderr)
    assert ours.out == (f'configmap "a" deleted {suffix}\n'
                        f'configmap "b" deleted {suffix}\n')
    assert (by_selector.code, by_selector.err) == (0, "No resources found\n")
    assert kctl("get", "configmap", "a", "b", "-n", namespace, "-o",
                "name").out == "configmap/a\nconfigmap/b\n"


def test_server_dry_run_of_a_missing_object_is_the_servers_not_found(
        kctl, kubectl, namespace):
    ours = kctl("delete", "configmap", "zz", "-n", namespace, "--dry-run=server")
    theirs = kubectl("delete", "configmap", "zz", "-n", namespace,
                     "--dry-run=server")

    assert (ours.code, ours.err) == (theirs.returncode, theirs.stderr) == (
        1, 'Error from server (NotFound): configmaps "zz" not found\n')


def test_an_unknown_dry_run_is_kubectls_error(kctl, kubectl, namespace):
    ours = kctl("delete", "configmap", "a", "-n", namespace, "--dry-run=maybe")
    theirs = kubectl("delete", "configmap", "a", "-n", namespace,
                     "--dry-run=maybe")

    assert (ours.code, ours.err) == (theirs.returncode, theirs.stderr) == (
        1, 'error: Invalid dry-run value (maybe). Must be "none", "server", or '
        '"client".\n')
