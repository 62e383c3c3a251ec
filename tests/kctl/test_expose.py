"""kctl expose: the Service kubectl makes for the same object and flags."""

from __future__ import annotations

import json

import pytest

WORKLOADS = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: two, labels: {team: a}}
spec:
  selector: {matchLabels: {app: two}}
  template:
    metadata: {labels: {app: two}}
    spec:
      containers:
      - name: a
        image: x
        command: [sleep, "1"]
        ports: [{containerPort: 80, name: http}, {containerPort: 53, protocol: UDP}]
      - {name: b, image: x, command: [sleep, "1"]}
---
apiVersion: v1
kind: Pod
metadata: {name: solo, labels: {run: solo}}
spec:
  containers: [{name: c, image: x, command: [sleep, "1"], ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: ReplicationController
metadata: {name: legacy}
spec:
  replicas: 0
  selector: {app: legacy}
  template:
    metadata: {labels: {app: legacy}}
    spec:
      containers: [{name: c, image: x, command: [sleep, "1"], ports: [{containerPort: 9000}]}]
---
apiVersion: v1
kind: Service
metadata: {name: front, labels: {tier: web}}
spec:
  selector: {app: two}
  ports: [{port: 443, targetPort: 8443, name: https}]
"""


@pytest.fixture
def workloads(kctl, namespace):
    done = kctl("create", "-n", namespace, "-f", "-", stdin=WORKLOADS)
    assert done.code == 0, done.err
    return namespace


@pytest.mark.parametrize("args", [
    ["deployment", "two"],
    ["deployment/two", "--port=8080", "--target-port=http", "--protocol=UDP",
     "--name=z", "-l", "k=v", "--selector=app=two,x=y", "--type=NodePort"],
    ["pod", "solo"],
    ["pod", "solo", "--port=90", "--cluster-ip=None"],
    ["rc", "legacy", "--name=legacy-svc", "--session-affinity=ClientIP"],
    ["service", "front", "--name=front2"],
], ids=["deployment-ports", "deployment-flags", "pod", "pod-headless", "rc",
        "service"])
def test_the_service_is_kubectls(kctl, kubectl, workloads, args):
    line = ["expose", *args, "-n", workloads, "--dry-run=client", "-o", "json"]

    ours, theirs = kctl(*line), kubectl(*line)

    assert ours.code == 0, ours.err
    assert json.loads(ours.out) == json.loads(theirs.stdout)


@pytest.mark.parametrize("args, line", [
    (["svc", "kubernetes"], "error: couldn't retrieve selectors via --selector "
     "flag or introspection: the service has no pod selector set"),
    (["configmap", "kube-root-ca.crt", "--port=1"], "error: cannot expose a ConfigMap"),
    (["deployment"], "error: resource(s) were provided, but no name was specified"),
    (["pod", "missing"], 'Error from server (NotFound): pods "missing" not found'),
], ids=["no-selector", "not-exposable", "no-name", "missing"])
def test_mistakes_get_kubectls_line(kctl, kubectl, workloads, args, line):
    namespace = "default" if args[-1] == "kubernetes" else workloads
    if args[0] == "configmap":
        kctl("create", "configmap", "kube-root-ca.crt", "-n", workloads,
             "--from-literal=a=1")

    ours = kctl("expose", *args, "-n", namespace)
    theirs = kubectl("expose", *args, "-n", namespace)

    assert (ours.code, ours.err) == (1, line + "\n")
    assert (theirs.returncode, theirs.stderr) == (1, line + "\n")


def test_a_deployment_without_ports_needs_one(kctl, kubectl, namespace):
    kctl("create", "deployment", "bare", "--image=x", "-n", namespace)

    ours = kctl("expose", "deployment", "bare", "-n", namespace)

    assert (ours.code, ours.err) == (
        1, "error: couldn't find port via --port flag or introspection\n")


def test_expose_creates_the_service(kctl, workloads):
    done = kctl("expose", "deployment", "two", "--port=80", "-n", workloads)

    assert (done.code, done.out) == (0, "service/two exposed\n")
    service = json.loads(kctl("get", "svc", "two", "-n", workloads, "-o",
                              "json").out)
    assert service["spec"]["selector"] == {"app": "two"}
    assert service["spec"]["clusterIP"]
