"""kctl rollout and kctl scale, side by side with the real kubectl.

The module's server runs the deployment and ReplicaSet controllers; a thread
readies the pods (tests.controllers.deployment_helpers).
"""

from __future__ import annotations

import pytest
import requests

from tests.conftest import KUBECTL, run_kubectl
from tests.controllers.deployment_helpers import (  # noqa: F401  (fixtures)
    cluster, controllers, server, wait_for)
from tests.kctl.conftest import run_inprocess

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")


@pytest.fixture
def both(server, cluster, kctl_env, monkeypatch):
    """Run the same command line with kctl and kubectl in the test's namespace."""

    def run(*args: str):
        ns = ("-n", cluster.namespace)
        ours = run_inprocess("-s", server.url, *args, *ns, monkeypatch=monkeypatch)
        theirs = run_kubectl(server, *args, *ns)
        return ours, theirs

    return run


def kctl_run(server, cluster, monkeypatch, *args):
    return run_inprocess("-s", server.url, *args, "-n", cluster.namespace,
                         monkeypatch=monkeypatch)


def image(deployment: dict) -> str:
    return deployment["spec"]["template"]["spec"]["containers"][0]["image"]


def test_status_of_a_finished_rollout(cluster, both):
    cluster.create_deployment("done", replicas=2)
    cluster.wait_complete("done", 2)

    ours, theirs = both("rollout", "status", "deployment/done")

    assert (ours.code, ours.out) == (0, 'deployment "done" successfully rolled out\n')
    assert (theirs.returncode, theirs.stdout) == (ours.code, ours.out)


def test_status_waits_for_the_rollout(server, cluster, both, monkeypatch):
    cluster.create_deployment("stall", replicas=3, strategy={
        "type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1,
                                                   "maxUnavailable": 0}})
    cluster.wait_complete("stall", 3)
    cluster.readier.paused.set()
    cluster.set_image("stall", "web:2")
    wait_for(lambda: cluster.deployment("stall")["status"].get("updatedReplicas") == 1,
             message="one updated replica")

    once, kubectl_once = both("rollout", "status", "deploy/stall", "--watch=false")
    late, kubectl_late = both("rollout", "status", "deploy/stall", "--timeout=1s")
    cluster.readier.paused.clear()
    done = kctl_run(server, cluster, monkeypatch, "rollout", "status", "deploy/stall",
                    "--timeout=60s")

    assert (once.code, once.out) == (0, 'Waiting for deployment "stall" rollout to '
                                     'finish: 1 out of 3 new replicas have been '
                                     'updated...\n')
    assert (kubectl_once.returncode, kubectl_once.stdout) == (once.code, once.out)
    assert (late.code, late.err) == (1, "error: timed out waiting for the condition\n")
    assert (kubectl_late.returncode, kubectl_late.stderr) == (late.code, late.err)
    assert done.code == 0, done.err
    assert done.out.splitlines()[-1] == 'deployment "stall" successfully rolled out'
    assert set(done.out.splitlines()[:-1]) <= {
        'Waiting for deployment "stall" rollout to finish: '
        f"{n} out of 3 new replicas have been updated..." for n in range(4)} | {
        'Waiting for deployment "stall" rollout to finish: '
        f"{n} old replicas are pending termination..." for n in range(4)} | {
        'Waiting for deployment "stall" rollout to finish: '
        f"{a} of 3 updated replicas are available..." for a in range(4)} | {
        "Waiting for deployment spec update to be observed..."}


def test_history_matches_kubectl(cluster, both):
    cluster.create_deployment("hist", replicas=1)
    cluster.wait_complete("hist", 1)
    # One write, as `kubectl set image --record` does: an annotation written
    # alone is copied to the current ReplicaSet too.
    cluster.patch("hist", {
        "metadata": {"annotations": {
            "kubernetes.io/change-cause": "kubectl set image deployment/hist web:2"}},
        "spec": {"template": {"spec": {"containers": [{"name": "main",
                                                        "image": "web:2"}]}}}})
    cluster.wait_complete("hist", 1)

    ours, theirs = both("rollout", "history", "deployment/hist")
    one, kubectl_one = both("rollout", "history", "deployment/hist", "--revision=1")

    assert ours.code == 0, ours.err
    assert ours.out == ("deployment.apps/hist \n"
                        "REVISION  CHANGE-CAUSE\n"
                        "1         <none>\n"
                        "2         kubectl set image deployment/hist web:2\n\n")
    assert theirs.stdout == ours.out
    assert one.code == 0, one.err
    assert one.out.startswith("deployment.apps/hist with revision #1\nPod Template:\n")
    assert "Image:" in one.out and "web:1" in one.out
    assert kubectl_one.stdout == one.out


def test_undo_returns_to_the_previous_template(server, cluster, both, monkeypatch):
    cluster.create_deployment("undo", replicas=2)
    cluster.wait_complete("undo", 2)
    cluster.set_image("undo", "web:2")
    cluster.wait_complete("undo", 2)

    result = kctl_run(server, cluster, monkeypatch, "rollout", "undo",
                      "deployment/undo")
    cluster.wait_complete("undo", 2)

    assert (result.code, result.out) == (0, "deployment.apps/undo rolled back\n")
    d = cluster.deployment("undo")
    assert image(d) == "web:1"
    assert "pod-template-hash" not in d["spec"]["template"]["metadata"]["labels"]
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    assert len(cluster.replica_sets("undo")) == 2
    skipped, kubectl_skipped = both("rollout", "undo", "deployment/undo",
                                    "--to-revision=3")
    assert skipped.out == ("deployment.apps/undo skipped rollback (current template "
                           "already matches revision 3)\n")
    assert kubectl_skipped.stdout == skipped.out
    missing, kubectl_missing = both("rollout", "undo", "deployment/undo",
                                    "--to-revision=9")
    assert (missing.code, missing.err) == (
        1, "error: unable to find specified revision 9 in history\n")
    assert (kubectl_missing.returncode, kubectl_missing.stderr) == (
        missing.code, missing.err)


def test_restart_rolls_out_a_new_template(server, cluster, monkeypatch):
    cluster.create_deployment("again", replicas=1)
    cluster.wait_complete("again", 1)

    result = kctl_run(server, cluster, monkeypatch, "rollout", "restart",
                      "deployment/again")
    cluster.wait_complete("again", 1)

    assert (result.code, result.out) == (0, "deployment.apps/again restarted\n")
    notes = cluster.deployment("again")["spec"]["template"]["metadata"]["annotations"]
    assert "kubectl.kubernetes.io/restartedAt" in notes
    assert len(cluster.replica_sets("again")) == 2


def test_scale_and_its_precondition(cluster, both):
    cluster.create_deployment("size", replicas=1)
    cluster.wait_complete("size", 1)

    ours, theirs = both("scale", "deployment/size", "--replicas=3")
    cluster.wait_complete("size", 3)
    wrong, kubectl_wrong = both("scale", "deployment/size", "--current-replicas=1",
                                "--replicas=2")
    right, _ = both("scale", "deployment/size", "--current-replicas=3",
                    "--replicas=2")

    assert (ours.code, ours.out) == (0, "deployment.apps/size scaled\n")
    assert (theirs.returncode, theirs.stdout) == (ours.code, ours.out)
    assert (wrong.code, wrong.err) == (1, "error: Expected replicas to be 1, was 3\n")
    assert (kubectl_wrong.returncode, kubectl_wrong.stderr) == (wrong.code, wrong.err)
    assert (right.code, right.out) == (0, "deployment.apps/size scaled\n")
    cluster.wait_complete("size", 2)


@pytest.mark.parametrize("args, code, line", [
    (("scale", "deployment/x"), 2, 'error: required flag(s) "replicas" not set'),
    (("scale", "deployment/x", "--replicas=-1"), 2,
     "error: The --replicas=COUNT flag is required, and COUNT must be greater than "
     "or equal to 0"),
    (("scale", "deployment/nothere", "--replicas=1"), 1,
     'Error from server (NotFound): deployments.apps "nothere" not found'),
    (("rollout", "status", "deployment/nothere"), 1,
     'Error from server (NotFound): deployments.apps "nothere" not found'),
    (("rollout", "undo", "deployment"), 2,
     "error: resource(s) were provided, but no name was specified"),
], ids=["no-replicas", "negative", "scale-missing", "status-missing", "no-name"])
def test_bad_input_is_one_line(server, cluster, monkeypatch, args, code, line):
    result = kctl_run(server, cluster, monkeypatch, *args)

    assert (result.code, result.err) == (code, line + "\n")
    assert "Traceback" not in result.err


def test_rollout_of_a_pod_is_refused(server, cluster, monkeypatch):
    requests.post(cluster.path("pods"), json={
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "solo"},
        "spec": {"containers": [{"name": "c", "image": "x"}]}}).raise_for_status()

    result = kctl_run(server, cluster, monkeypatch, "rollout", "status", "pod/solo")

    assert result.code == 1
    assert result.err.startswith("error: no status viewer has been implemented for")


def test_pause_holds_the_rollout_and_resume_lets_it_go(server, cluster, both,
                                                        monkeypatch):
    cluster.create_deployment("held", replicas=2)
    cluster.wait_complete("held", 2)

    paused = kctl_run(server, cluster, monkeypatch, "rollout", "pause",
                      "deployment/held")
    again, kubectl_again = both("rollout", "pause", "deployment/held")
    cluster.set_image("held", "web:2")
    wait_for(lambda: cluster.deployment("held")["status"].get(
        "observedGeneration") == cluster.deployment("held")["metadata"]["generation"],
        message="the paused template change observed")
    status, kubectl_status = both("rollout", "status", "deployment/held",
                                  "--watch=false")
    sets_while_paused = len(cluster.replica_sets("held"))
    resumed = kctl_run(server, cluster, monkeypatch, "rollout", "resume",
                       "deployment/held")
    not_paused, kubectl_not_paused = both("rollout", "resume", "deployment/held")

    assert (paused.code, paused.out) == (0, "deployment.apps/held paused\n")
    assert (again.code, again.out, again.err) == (
        1, "", 'error: deployments.apps "held" is already paused\n')
    assert (kubectl_again.returncode, kubectl_again.stderr) == (again.code, again.err)
    # kubectl's status viewer has no word for paused: the rollout just waits.
    assert (status.code, status.out) == (0, 'Waiting for deployment "held" rollout '
                                         'to finish: 0 out of 2 new replicas have '
                                         'been updated...\n')
    assert (kubectl_status.returncode, kubectl_status.stdout) == (
        status.code, status.out)
    assert sets_while_paused == 1
    assert (resumed.code, resumed.out) == (0, "deployment.apps/held resumed\n")
    assert (not_paused.code, not_paused.err) == (
        1, 'error: deployments.apps "held" is not paused\n')
    assert (kubectl_not_paused.returncode, kubectl_not_paused.stderr) == (
        not_paused.code, not_paused.err)
    cluster.wait_complete("held", 2)
    assert len(cluster.replica_sets("held")) == 2


def test_pause_of_a_kind_without_a_rollout_is_kubectls_refusal(server, cluster,
                                                                both):
    requests.post(cluster.path("pods").replace("/pods", "/configmaps"), json={
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "plain"}}).raise_for_status()

    for verb, word in (("pause", "pausing"), ("resume", "resuming")):
        ours, theirs = both("rollout", verb, "configmap/plain")

        assert (ours.code, ours.err) == (
            1, f'error: configmaps "plain" {word} is not supported\n')
        assert (theirs.returncode, theirs.stderr) == (ours.code, ours.err)
