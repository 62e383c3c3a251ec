"""The deployment controller against a real server, with the ReplicaSet
controller turning ReplicaSets into pods.

No node runs the pods: a ``Readier`` thread plays the kubelet and marks every
pod of the test's namespace Running and Ready through /status.
"""

from __future__ import annotations

import threading

import requests

from tests.conftest import run_kubectl
from tests.controllers.deployment_helpers import (  # noqa: F401  (fixtures)
    cluster, controllers, is_ready, server, wait_for)


def ready_pods(cluster) -> int:
    return sum(1 for p in cluster.items("pods")
               if is_ready(p) and not p["metadata"].get("deletionTimestamp"))


def conditions(deployment: dict) -> dict:
    return {c["type"]: c for c in deployment["status"].get("conditions") or []}


def test_deployment_reaches_available(cluster):
    cluster.create_deployment("web", replicas=3)

    d = cluster.wait_complete("web", 3)

    (rs,) = cluster.replica_sets("web")
    pod_hash = rs["metadata"]["labels"]["pod-template-hash"]
    assert rs["metadata"]["name"] == f"web-{pod_hash}"
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web",
                                                     "pod-template-hash": pod_hash}
    assert rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] == pod_hash
    (owner,) = rs["metadata"]["ownerReferences"]
    assert owner == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                     "uid": d["metadata"]["uid"], "controller": True,
                     "blockOwnerDeletion": True}
    notes = rs["metadata"]["annotations"]
    assert notes["deployment.kubernetes.io/revision"] == "1"
    assert notes["deployment.kubernetes.io/desired-replicas"] == "3"
    assert notes["deployment.kubernetes.io/max-replicas"] == "4"
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    status = d["status"]
    assert (status["readyReplicas"], status.get("unavailableReplicas", 0)) == (3, 0)
    by_type = conditions(d)
    assert by_type["Available"]["reason"] == "MinimumReplicasAvailable"
    assert by_type["Available"]["message"] == "Deployment has minimum availability."
    assert by_type["Progressing"]["reason"] == "NewReplicaSetAvailable"
    assert by_type["Progressing"]["message"] == \
        f'ReplicaSet "web-{pod_hash}" has successfully progressed.'
    assert len(cluster.items("pods")) == 3


def test_scale_up_and_down(cluster):
    cluster.create_deployment("scaled", replicas=3)
    cluster.wait_complete("scaled", 3)

    cluster.patch("scaled", {"spec": {"replicas": 5}})
    cluster.wait_complete("scaled", 5)
    cluster.patch("scaled", {"spec": {"replicas": 1}})
    cluster.wait_complete("scaled", 1)

    (rs,) = cluster.replica_sets("scaled")
    assert rs["spec"]["replicas"] == 1
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] \
        == "1"
    wait_for(lambda: len(cluster.items("pods")) == 1, message="one pod left")
    events = [e for e in cluster.items("events") if e["reason"] == "ScalingReplicaSet"]
    name = rs["metadata"]["name"]
    messages = {e["message"] for e in events}
    assert f"Scaled up replica set {name} to 3" in messages
    assert f"Scaled up replica set {name} to 5 from 3" in messages
    assert f"Scaled down replica set {name} to 1 from 5" in messages
    assert all(e["involvedObject"]["kind"] == "Deployment" for e in events)


def test_rolling_update_keeps_minimum_available(cluster):
    strategy = {"type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}}
    cluster.create_deployment("roll", replicas=4, strategy=strategy)
    cluster.wait_complete("roll", 4)
    samples: list[int] = []
    done = threading.Event()

    def sample():
        while not done.is_set():
            samples.append(ready_pods(cluster))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cluster.set_image("roll", "web:2")
    d = cluster.wait_complete("roll", 4)
    done.set()
    sampler.join(10)

    assert len(samples) > 5
    assert min(samples) >= 4 - 1
    rss = {rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: rs
           for rs in cluster.replica_sets("roll")}
    assert set(rss) == {"1", "2"}
    assert rss["1"]["spec"]["replicas"] == 0
    assert rss["2"]["spec"]["replicas"] == 4
    assert rss["2"]["spec"]["template"]["spec"]["containers"][0]["image"] == "web:2"
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    wait_for(lambda: {p["spec"]["containers"][0]["image"]
                      for p in cluster.items("pods")} == {"web:2"},
             message="only new pods")


def test_recreate_removes_old_pods_before_new(cluster):
    cluster.create_deployment("recreate", replicas=2,
                              strategy={"type": "Recreate"})
    cluster.wait_complete("recreate", 2)
    seen_mixed = threading.Event()
    done = threading.Event()

    def watch_images():
        while not done.is_set():
            images = {p["spec"]["containers"][0]["image"]
                      for p in cluster.items("pods")}
            if len(images) > 1:
                seen_mixed.set()

    watcher = threading.Thread(target=watch_images, daemon=True)
    watcher.start()
    cluster.set_image("recreate", "web:2")
    cluster.wait_complete("recreate", 2)
    done.set()
    watcher.join(10)

    assert not seen_mixed.is_set()
    assert {p["spec"]["containers"][0]["image"] for p in cluster.items("pods")} \
        == {"web:2"}


def test_change_cause_and_revision_history(cluster):
    cluster.create_deployment("hist", replicas=1)
    cluster.wait_complete("hist", 1)
    cluster.patch("hist", {"metadata": {"annotations": {
        "kubernetes.io/change-cause": "image to web:2"}}})
    cluster.set_image("hist", "web:2")
    cluster.wait_complete("hist", 1)

    cluster.set_image("hist", "web:1")
    cluster.wait_complete("hist", 1)

    rss = {rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs
           for rs in cluster.replica_sets("hist")}
    notes = rss["web:1"]["metadata"]["annotations"]
    assert notes["deployment.kubernetes.io/revision"] == "3"
    assert notes["deployment.kubernetes.io/revision-history"] == "1"
    assert rss["web:2"]["metadata"]["annotations"]["kubernetes.io/change-cause"] \
        == "image to web:2"
    assert len(rss) == 2


def test_revision_history_limit_prunes(cluster):
    cluster.create_deployment("pruned", replicas=1, revisionHistoryLimit=1)
    cluster.wait_complete("pruned", 1)

    for version in (2, 3, 4):
        cluster.set_image("pruned", f"web:{version}")
        cluster.wait_complete("pruned", 1)

    def two_left():
        rss = cluster.replica_sets("pruned")
        return rss if len(rss) == 2 else None

    rss = wait_for(two_left, message="history pruned to one old replica set")
    revisions = sorted(rs["metadata"]["annotations"]["deployment.kubernetes.io/"
                                                     "revision"] for rs in rss)
    assert revisions == ["3", "4"]


def test_paused_deployment_scales_but_does_not_roll_out(cluster):
    cluster.create_deployment("paused", replicas=2)
    cluster.wait_complete("paused", 2)

    cluster.patch("paused", {"spec": {"paused": True}})
    cluster.set_image("paused", "web:2")
    cluster.patch("paused", {"spec": {"replicas": 3}})

    def scaled():
        rss = cluster.replica_sets("paused")
        return len(rss) == 1 and rss[0]["spec"]["replicas"] == 3
    wait_for(scaled, message="the only replica set scaled to 3")
    d = wait_for(lambda: (d := cluster.deployment("paused"))["status"].get(
        "availableReplicas") == 3 and d, message="3 available")
    # The template changed while paused: no replica is of the new template.
    assert d["status"].get("updatedReplicas", 0) == 0
    assert conditions(d)["Progressing"]["reason"] == "DeploymentPaused"
    assert conditions(d)["Progressing"]["status"] == "Unknown"
    cluster.patch("paused", {"spec": {"paused": False}})
    cluster.wait_complete("paused", 3)
    assert len(cluster.replica_sets("paused")) == 2


def test_proportional_scaling_mid_rollout(cluster):
    cluster.create_deployment("prop", replicas=10, strategy={
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}})
    cluster.wait_complete("prop", 10)
    cluster.readier.paused.set()
    cluster.set_image("prop", "web:2")

    def sizes():
        by_image = {rs["spec"]["template"]["spec"]["containers"][0]["image"]:
                    rs["spec"]["replicas"] for rs in cluster.replica_sets("prop")}
        return (by_image.get("web:1"), by_image.get("web:2"))
    # 13 pods at most, 8 available at least, the 5 new ones never ready.
    wait_for(lambda: sizes() == (8, 5), message="the rollout to stall at 8 + 5")
    cluster.patch("prop", {"spec": {"replicas": 20}})

    # 23 allowed, 13 there: 10 more, shared as 8:5 (14 and 9).
    wait_for(lambda: sizes() == (14, 9), message="proportional scaling")
    cluster.readier.paused.clear()
    cluster.wait_complete("prop", 20)
    assert sizes() == (0, 20)


def test_adopts_orphan_and_releases_non_matching(cluster):
    cluster.create_deployment("adopt", replicas=1)
    d = cluster.wait_complete("adopt", 1)
    (rs,) = cluster.replica_sets("adopt")
    orphan = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "metadata": {"name": "adopt-orphan", "labels": {"app": "adopt"}},
              "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "adopt",
                                                                    "x": "y"}},
                       "template": {"metadata": {"labels": {"app": "adopt",
                                                            "x": "y"}},
                                    "spec": {"containers": [{"name": "main",
                                                             "image": "old"}]}}}}
    assert requests.post(cluster.path("replicasets"), json=orphan).status_code == 201

    def owned():
        got = requests.get(cluster.path("replicasets", "adopt-orphan")).json()
        refs = got["metadata"].get("ownerReferences") or []
        return refs and refs[0]["uid"] == d["metadata"]["uid"]
    wait_for(owned, message="orphan adopted")
    requests.patch(cluster.path("replicasets", rs["metadata"]["name"]),
                   json={"metadata": {"labels": {"app": "other"}}},
                   headers={"Content-Type": "application/merge-patch+json"})

    def released():
        got = requests.get(cluster.path("replicasets", rs["metadata"]["name"])).json()
        return not got["metadata"].get("ownerReferences")
    wait_for(released, message="non-matching replica set released")


def test_kubectl_rollout_status_and_scale(cluster, server):
    cluster.create_deployment("kube", replicas=2)
    ns = ("-n", cluster.namespace)

    status = run_kubectl(server, "rollout", "status", "deployment/kube",
                         "--timeout=60s", *ns)
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[-1] == 'deployment "kube" successfully rolled out'

    scaled = run_kubectl(server, "scale", "deployment/kube", "--replicas=4", *ns)
    assert scaled.returncode == 0, scaled.stderr
    assert scaled.stdout == "deployment.apps/kube scaled\n"
    cluster.wait_complete("kube", 4)


def test_kubectl_rollout_status_waits_for_rollout(cluster, server):
    cluster.create_deployment("slow", replicas=3, strategy={
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}})
    cluster.wait_complete("slow", 3)
    cluster.readier.paused.set()
    cluster.set_image("slow", "web:2")
    wait_for(lambda: cluster.deployment("slow")["status"].get("updatedReplicas") == 1,
             message="one updated replica")
    ns = ("-n", cluster.namespace)

    once = run_kubectl(server, "rollout", "status", "deployment/slow",
                       "--watch=false", *ns)
    timed_out = run_kubectl(server, "rollout", "status", "deployment/slow",
                            "--timeout=1s", *ns)
    cluster.readier.paused.clear()
    done = run_kubectl(server, "rollout", "status", "deployment/slow",
                       "--timeout=60s", *ns)

    assert (once.returncode, once.stdout) == (0, 'Waiting for deployment "slow" '
                                              'rollout to finish: 1 out of 3 new '
                                              'replicas have been updated...\n')
    assert timed_out.returncode == 1
    assert timed_out.stderr == "error: timed out waiting for the condition\n"
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == 'deployment "slow" successfully rolled out'


def test_progress_deadline_exceeded(cluster, server):
    cluster.create_deployment("stuck", replicas=1, progressDeadlineSeconds=2)
    cluster.wait_complete("stuck", 1)
    cluster.readier.paused.set()

    cluster.set_image("stuck", "web:2")

    def timed_out():
        progressing = conditions(cluster.deployment("stuck")).get("Progressing")
        return progressing if progressing and \
            progressing["reason"] == "ProgressDeadlineExceeded" else None
    progressing = wait_for(timed_out, message="ProgressDeadlineExceeded")
    rs_name = next(rs["metadata"]["name"] for rs in cluster.replica_sets("stuck")
                   if rs["spec"]["template"]["spec"]["containers"][0]["image"]
                   == "web:2")
    assert progressing["status"] == "False"
    assert progressing["message"] == f'ReplicaSet "{rs_name}" has timed out progressing.'
    status = run_kubectl(server, "rollout", "status", "deployment/stuck",
                         "-n", cluster.namespace)
    assert (status.returncode, status.stderr) == (
        1, 'error: deployment "stuck" exceeded its progress deadline\n')


def test_deleting_a_deployment_removes_its_replica_sets_and_pods(cluster):
    cluster.create_deployment("gone", replicas=2)
    cluster.wait_complete("gone", 2)

    response = requests.delete(cluster.path("deployments", "gone"), timeout=30)
    assert response.ok, response.text

    wait_for(lambda: not cluster.replica_sets("gone"), message="replica sets gone")
    wait_for(lambda: not cluster.items("pods"), message="pods gone")


def test_orphan_deletion_leaves_the_replica_set_and_its_pods(cluster):
    cluster.create_deployment("kept", replicas=2)
    cluster.wait_complete("kept", 2)
    (rs,) = cluster.replica_sets("kept")
    pods = {p["metadata"]["name"] for p in cluster.items("pods")}

    response = requests.delete(cluster.path("deployments", "kept"), timeout=30,
                               params={"propagationPolicy": "Orphan"})

    assert response.ok, response.text
    wait_for(lambda: requests.get(cluster.path("deployments", "kept"),
                                  timeout=30).status_code == 404,
             message="the deployment gone")
    (left,) = cluster.replica_sets("kept")
    assert left["metadata"]["uid"] == rs["metadata"]["uid"]
    assert not left["metadata"].get("ownerReferences")
    assert {p["metadata"]["name"] for p in cluster.items("pods")} == pods
    owners = {(r["kind"], r["uid"]) for p in cluster.items("pods")
              for r in p["metadata"]["ownerReferences"]}
    assert owners == {("ReplicaSet", rs["metadata"]["uid"])}
