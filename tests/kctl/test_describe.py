"""kctl describe's pages, each compared with kubectl's describe of the same
objects on the same server (kctl/describe*.py)."""

from __future__ import annotations

import json
import re

import pytest

from kctl.describe_generic import camelcase_split, smart_label
from tests.conftest import KUBECTL

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")


def both(kctl, kubectl, *args: str):
    ours, theirs = kctl(*args), kubectl(*args)
    assert (ours.code, ours.err) == (0, ""), ours.err
    assert theirs.returncode == 0, theirs.stderr
    return ours.out, theirs.stdout


def create(kctl, namespace: str, manifest: str) -> None:
    done = kctl("create", "-n", namespace, "-f", "-", stdin=manifest)
    assert done.code == 0, done.err


def test_secret_shows_sizes_never_values(kctl, kubectl, namespace):
    create(kctl, namespace, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
           "type: Opaque\ndata:\n  Password: c2VjcmV0LXZhbHVl\n")

    ours, theirs = both(kctl, kubectl, "describe", "secret", "s", "-n", namespace)

    assert ours == theirs
    assert "\n\nType:  Opaque\n\nData\n====\nPassword:  12 bytes\n" in ours
    assert "c2VjcmV0LXZhbHVl" not in ours and "secret-value" not in ours


def test_secret_keys_sorted_as_they_are(kctl, kubectl, namespace):
    # kubectl walks the keys in Go's map order; kctl sorts them.
    create(kctl, namespace, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
           "stringData:\n  b.key: xy\n  API_token: abc\n  a: ''\n")

    ours, theirs = both(kctl, kubectl, "describe", "secret/s", "-n", namespace)

    assert sorted(ours.splitlines()) == sorted(theirs.splitlines())
    assert ours.endswith("====\nAPI_token:  3 bytes\na:          0 bytes\n"
                         "b.key:      2 bytes\n")


def test_configmap_layout(kctl, kubectl, namespace):
    create(kctl, namespace, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
           "  name: c\n  labels: {app: web}\ndata:\n  nginx.conf: |\n"
           "    server {\n    \tlisten 80;\n    }\nbinaryData:\n  blob: AAECAw==\n")

    ours, theirs = both(kctl, kubectl, "describe", "configmap", "c", "-n", namespace)

    assert ours == theirs
    assert "\nData\n====\nnginx.conf:\n----\nserver {\n" in ours
    assert "\nBinaryData\n====\nblob: 4 bytes\n\nEvents:  <none>\n" in ours


def test_endpoints_subsets(kctl, kubectl, namespace):
    create(kctl, namespace, """apiVersion: v1
kind: Endpoints
metadata: {name: web}
subsets:
- addresses: [{ip: 10.0.0.1}, {ip: 10.0.0.2}]
  notReadyAddresses: [{ip: 10.0.0.3}]
  ports: [{name: http, port: 80, protocol: TCP}, {port: 53, protocol: UDP}]
- addresses: [{ip: 10.0.0.9}]
""")

    ours, theirs = both(kctl, kubectl, "describe", "endpoints", "web", "-n", namespace)

    assert ours == theirs
    assert "\n  Addresses:          10.0.0.1,10.0.0.2\n" in ours
    assert "\n    <unset>  53    UDP\n" in ours


def test_serviceaccount_secrets_and_tokens(kctl, kubectl, namespace):
    create(kctl, namespace, "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n"
           "  name: robot\nsecrets: [{name: mounted}, {name: gone}]\n"
           "imagePullSecrets: [{name: pull}]\n")
    uid = kctl("get", "sa", "robot", "-n", namespace, "-o",
               "jsonpath={.metadata.uid}").out
    create(kctl, namespace, f"""apiVersion: v1
kind: Secret
metadata: {{name: mounted}}
---
apiVersion: v1
kind: Secret
metadata: {{name: pull}}
---
apiVersion: v1
kind: Secret
type: kubernetes.io/service-account-token
metadata:
  name: robot-token
  annotations:
    kubernetes.io/service-account.name: robot
    kubernetes.io/service-account.uid: {uid}
""")

    ours, theirs = both(kctl, kubectl, "describe", "sa", "robot", "-n", namespace)

    assert ours == theirs
    assert ("Image pull secrets:  pull\nMountable secrets:   mounted\n"
            "                     gone (not found)\nTokens:              robot-token\n"
            in ours)


PROBED = """apiVersion: v1
kind: Pod
metadata: {name: probed}
spec:
  containers:
  - name: web
    image: nginx
    command: [nginx, -g, "daemon off;"]
    ports: [{name: http, containerPort: 80}]
    resources: {limits: {cpu: 500m, memory: 128Mi}, requests: {cpu: 100m}}
    livenessProbe: {exec: {command: [cat, /tmp/ok]}, initialDelaySeconds: 5}
    readinessProbe: {httpGet: {port: http, path: /}, periodSeconds: 2}
    startupProbe: {tcpSocket: {port: 80}, failureThreshold: 30}
    envFrom: [{configMapRef: {name: c}}, {secretRef: {name: s, optional: true},
               prefix: S_}]
    env:
    - {name: PLAIN, value: "two\\nlines"}
    - {name: FROM_SECRET, valueFrom: {secretKeyRef: {name: s, key: k}}}
    - {name: FROM_MAP, valueFrom: {configMapKeyRef: {name: c, key: k,
                                                     optional: true}}}
    - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: CPU, valueFrom: {resourceFieldRef: {resource: limits.cpu,
                                                 divisor: 100m}}}
    volumeMounts: [{name: v, mountPath: /b}, {name: v, mountPath: /a, subPath: x}]
  volumes: [{name: v, emptyDir: {}}]
"""


def test_pod_probes_resources_and_environment(kctl, kubectl, namespace):
    create(kctl, namespace, PROBED)

    ours, theirs = both(kctl, kubectl, "describe", "pod", "probed", "-n", namespace)

    assert ours == theirs
    assert ("    Readiness:  http-get http://:http/ delay=0s timeout=1s period=2s "
            "#success=1 #failure=3\n" in ours)
    assert "    Liveness:   exec [cat /tmp/ok] delay=5s" in ours
    assert "    Startup:    tcp-socket :80 delay=0s" in ours


def test_pod_container_that_never_started(kctl, kubectl, namespace):
    create(kctl, namespace, PROBED)
    status = {"status": {"phase": "Pending", "containerStatuses": [{
        "name": "web", "image": "nginx", "imageID": "", "ready": False,
        "restartCount": 1, "state": {"waiting": {"reason": "ContainerCreating"}},
        "lastState": {"terminated": {"exitCode": 137, "signal": 9,
                                     "reason": "Error", "message": "killed",
                                     "startedAt": "2024-01-01T00:00:00Z",
                                     "finishedAt": "2024-01-01T00:00:01Z"}}}]}}
    patched = kctl("patch", "pod", "probed", "-n", namespace, "--subresource=status",
                   "--type=merge", "-p", json.dumps(status))
    assert patched.code == 0, patched.err

    ours, theirs = both(kctl, kubectl, "describe", "pod", "probed", "-n", namespace)

    assert ours == theirs
    assert re.search(r"\n  web:\n    Container ID: +\n    Image: +nginx\n", ours)


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations: {{note: {note}}}
spec:
  replicas: 0
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: c
        image: busybox:2
        command: [sleep, "3600"]
        readinessProbe: {{httpGet: {{port: 8080, path: /ready}}}}
      tolerations: [{{key: a, operator: Exists}}, {{key: b, operator: Exists}}]
"""

REPLICA_SET = """apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-{hash}
  labels: {{app: web, pod-template-hash: "{hash}"}}
  annotations:
    deployment.kubernetes.io/revision: "{revision}"
    kubernetes.io/change-cause: kubectl set image deploy/web c={image}
  ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: web,
                     uid: {uid}, controller: true}}]
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web, pod-template-hash: "{hash}"}}}}
  template:
    metadata: {{labels: {{app: web, pod-template-hash: "{hash}"}}}}
    spec:
      containers:
      - name: c
        image: {image}
        command: [sleep, "3600"]
        readinessProbe: {{httpGet: {{port: 8080, path: /ready}}}}
      tolerations: [{{key: a, operator: Exists}}, {{key: b, operator: Exists}}]
"""


@pytest.fixture
def rolled_out(kctl, namespace):
    """A Deployment with two old ReplicaSets and its new one, made by hand (the
    session's server runs no controllers)."""
    create(kctl, namespace, DEPLOYMENT.format(note="x" * 150))
    uid = kctl("get", "deploy", "web", "-n", namespace, "-o",
               "jsonpath={.metadata.uid}").out
    for revision, (hash_, image, replicas) in enumerate(
            [("7c5d", "busybox:0", 0), ("5f8b", "busybox:1", 1),
             ("9a1e", "busybox:2", 0)], start=1):
        create(kctl, namespace, REPLICA_SET.format(
            hash=hash_, image=image, replicas=replicas, revision=revision, uid=uid))
    return namespace


def test_deployment_lists_old_replicasets(kctl, kubectl, rolled_out):
    ours, theirs = both(kctl, kubectl, "describe", "deploy", "web", "-n", rolled_out)

    assert ours == theirs
    # Made in the same second, the old ones are in name order.
    assert re.search(r"\nOldReplicaSets: +web-5f8b \(0/1 replicas created\), "
                     r"web-7c5d \(0/0 replicas created\)\n"
                     r"NewReplicaSet: +web-9a1e \(0/0 replicas created\)\n", ours)
    assert re.search(r"\n    Readiness: +http-get http://:8080/ready delay=0s", ours)


@pytest.mark.parametrize("revision", ["1", "3"])
def test_rollout_history_revision_is_the_pod_template(kctl, kubectl, rolled_out,
                                                       revision):
    ours, theirs = both(kctl, kubectl, "rollout", "history", "deploy/web",
                        "--revision", revision, "-n", rolled_out)

    assert ours == theirs
    assert "    Command:\n      sleep\n      3600\n" in ours
    assert "  Annotations:\tkubernetes.io/change-cause: kubectl set image" in ours


@pytest.fixture
def node(kctl):
    yield "tainted"
    kctl("delete", "node", "tainted", "--ignore-not-found")
    kctl("delete", "events", "-n", "default", "tainted.kubelet", "tainted.ctl",
         "--ignore-not-found")


EVENT = """apiVersion: v1
kind: Event
metadata: {{name: tainted.{name}, namespace: default}}
involvedObject: {{kind: Node, name: tainted, uid: {uid}}}
reason: {reason}
message: {reason} happened
source: {{component: {name}}}
firstTimestamp: "{time}"
lastTimestamp: "{time}"
count: 1
type: Normal
"""


def test_node_taints_one_a_line_and_events_by_name(kctl, kubectl, node):
    create(kctl, "default", "apiVersion: v1\nkind: Node\nmetadata:\n  name: tainted\n"
           "spec:\n  taints: [{key: b, value: '1', effect: NoSchedule}, "
           "{key: a, effect: NoSchedule}, {key: z, value: x, effect: NoExecute}]\n")
    uid = kctl("get", "node", node, "-o", "jsonpath={.metadata.uid}").out
    # The kubelet names the node by its name; the node controller by its uid.
    create(kctl, "default", EVENT.format(name="kubelet", uid=node, reason="Starting",
                                         time="2024-01-01T00:00:00Z"))
    create(kctl, "default", EVENT.format(name="ctl", uid=uid, reason="Registered",
                                         time="2024-01-02T00:00:00Z"))

    ours, theirs = both(kctl, kubectl, "describe", "node", node)

    assert ours == theirs
    assert ("\nTaints:             z=x:NoExecute\n                    a:NoSchedule\n"
            "                    b=1:NoSchedule\n" in ours)
    assert re.search(r"\n  Normal  Starting +\S+ +kubelet +Starting happened\n"
                     r"  Normal  Registered +\S+ +ctl +Registered happened\n$", ours)


def test_generic_kind_is_kubectls_tree(kctl, kubectl, namespace):
    create(kctl, namespace, "apiVersion: coordination.k8s.io/v1\nkind: Lease\n"
           "metadata:\n  name: l\n  labels: {app.kubernetes.io/name: x}\n"
           "spec: {holderIdentity: me, leaseDurationSeconds: 10}\n")

    ours, theirs = both(kctl, kubectl, "describe", "lease", "l", "-n", namespace)

    assert ours == theirs
    assert "\nMetadata:\n  Creation Timestamp:  " in ours
    assert "\n  Holder Identity:         me\n" in ours


@pytest.mark.parametrize("field, label", [
    ("apiVersion", "API Version"), ("podIP", "Pod IP"), ("uid", "UID"),
    ("holderIdentity", "Holder Identity"), ("config.yaml", "config.yaml"),
    ("app.kubernetes.io/name", "app.kubernetes.io/name"), ("key1", "key1"),
    ("HTMLFile", "HTML File"),
], ids=lambda value: value)
def test_smart_label_keeps_names_that_are_not_words(field, label):
    assert smart_label(field) == label


def test_camelcase_split_gives_an_upper_run_its_last_letter_back():
    assert camelcase_split("GUIDValue") == ["GUID", "Value"]


VOLUMES = r"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: vols
  annotations: {long: "%s", multi: "l1\nl2\n", escaped: "a\x1bb\rc"}
spec:
  replicas: 0
  selector: {matchLabels: {app: vols}}
  template:
    metadata: {labels: {app: vols, tier: web}, annotations: {a: b, c: d}}
    spec:
      initContainers: [{name: init, image: busybox}]
      containers: [{name: c, image: busybox, volumeMounts: [{name: h, mountPath: /h}]}]
      volumes:
      - {name: h, hostPath: {path: /tmp}}
      - {name: e, emptyDir: {sizeLimit: 1Gi, medium: Memory}}
      - {name: s, secret: {secretName: s1}}
      - {name: c, configMap: {name: c1, optional: true}}
      - {name: p, persistentVolumeClaim: {claimName: data}}
      - {name: pr, projected: {sources: [
          {serviceAccountToken: {path: t, expirationSeconds: 3600}},
          {configMap: {name: c1}}, {secret: {name: s1}},
          {downwardAPI: {items: [{path: pname, fieldRef: {fieldPath: metadata.name}}]}}]}}
      - {name: d, downwardAPI: {items: [
          {path: pname, fieldRef: {fieldPath: metadata.name}},
          {path: cpu, resourceFieldRef: {containerName: c, resource: limits.cpu}}]}}
      nodeSelector: {a: b, c: d}
      tolerations: [{key: a, operator: Exists}, {key: b, operator: Exists,
                     effect: NoSchedule}]
      priorityClassName: high
      serviceAccountName: robot
""" % ("a" * 150)


def test_pod_template_volumes_and_long_annotations(kctl, kubectl, namespace):
    create(kctl, namespace, VOLUMES)

    ours, theirs = both(kctl, kubectl, "describe", "deploy", "vols", "-n", namespace)

    assert ours == theirs
    assert "\n  Volumes:\n   h:\n    Type:          HostPath" in ours
    assert "escaped: a^[b\\rc\n" in ours
    assert "\n                        long:\n                          aaaa" in ours
