"""kctl set image: images changed by a strategic merge patch, kubectl's lines."""

from __future__ import annotations

import pytest

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 0
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      initContainers: [{name: setup, image: busybox:1, command: ["true"]}]
      containers:
      - {name: web, image: nginx:1, command: [sleep, "1"]}
      - {name: sidecar, image: envoy:1, command: [sleep, "1"]}
"""


@pytest.fixture
def web(kctl, namespace):
    assert kctl("create", "-n", namespace, "-f", "-", stdin=DEPLOYMENT).code == 0
    return namespace


def images(kctl, namespace) -> str:
    return kctl("get", "deploy", "web", "-n", namespace, "-o", "jsonpath="
                "{.spec.template.spec.initContainers[*].image} "
                "{.spec.template.spec.containers[*].image}").out


def test_one_container_then_every_one(kctl, web):
    one = kctl("set", "image", "deployment/web", "web=nginx:2", "-n", web)
    after_one = images(kctl, web)
    same = kctl("set", "image", "deployment/web", "web=nginx:2", "-n", web)
    every = kctl("set", "image", "deploy", "web", "*=busybox:2", "-n", web)

    assert (one.code, one.out) == (0, "deployment.apps/web image updated\n")
    assert after_one == "busybox:1 nginx:2 envoy:1"
    assert (same.code, same.out) == (0, "")  # nothing changed, nothing said
    assert every.out == "deployment.apps/web image updated\n"
    assert images(kctl, web) == "busybox:2 busybox:2 busybox:2"
    generation = kctl("get", "deploy", "web", "-n", web, "-o",
                      "jsonpath={.metadata.generation}").out
    assert generation == "3"


def test_dry_runs_change_nothing(kctl, web):
    client = kctl("set", "image", "deploy/web", "web=x:1", "--dry-run=client",
                  "-o", "name", "-n", web)
    server = kctl("set", "image", "deploy/web", "web=x:1", "--dry-run=server",
                  "-n", web)

    assert client.out == "deployment.apps/web\n"
    assert server.out == "deployment.apps/web image updated (server dry run)\n"
    assert images(kctl, web) == "busybox:1 nginx:1 envoy:1"


@pytest.mark.parametrize("args, line", [
    (["deploy/web", "nope=x"], 'error: unable to find container named "nope"'),
    (["deploy/web"], "error: at least one image update is required"),
    (["deploy/missing", "a=b"],
     'Error from server (NotFound): deployments.apps "missing" not found'),
    (["configmap/cm", "a=b"], "error: configmaps/cm the object is not a pod or "
     "does not have a pod template: *v1.ConfigMap"),
], ids=["no-such-container", "no-update", "missing", "no-template"])
def test_mistakes_get_kubectls_line(kctl, kubectl, web, args, line):
    kctl("create", "configmap", "cm", "--from-literal=a=1", "-n", web)

    ours = kctl("set", "image", *args, "-n", web)
    theirs = kubectl("set", "image", *args, "-n", web)

    assert (ours.code, ours.err) == (1, line + "\n")
    assert (theirs.returncode, theirs.stderr) == (1, line + "\n")
    assert images(kctl, web) == "busybox:1 nginx:1 envoy:1"


def test_no_object_is_kubectls_words(kctl, kubectl, namespace):
    ours = kctl("set", "image", "web=x", "-n", namespace)
    theirs = kubectl("set", "image", "web=x", "-n", namespace)

    assert ours.code == 1 and ours.err == theirs.stderr
