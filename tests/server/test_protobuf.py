"""Protobuf request bodies: kubectl's own, captured live, and a round trip
through protobuf for every kind, each decoding to what its JSON gives."""

from __future__ import annotations

import json

import pytest

from server import protobuf
from server.decode import PROTOBUF, decode_object
from server.errors import BadRequest
from tests.server.kubectl_recorder import Recorder
from tests.server.openapi_kinds import served_registry

# (id, kind, kubectl arguments): imperative commands that send protobuf.
COMMANDS = [
    ("namespace", "Namespace", ["create", "namespace", "ns1"]),
    ("configmap", "ConfigMap",
     ["create", "configmap", "cm", "--from-literal=a=b", "--from-literal=c=d"]),
    ("configmap-binary", "ConfigMap",
     ["create", "configmap", "bin", "--from-file=blob={blob}"]),
    ("secret", "Secret",
     ["create", "secret", "generic", "s", "--from-literal=user=admin",
      "--from-literal=password=s3cr3t"]),
    ("secret-registry", "Secret",
     ["create", "secret", "docker-registry", "reg",
      "--docker-server=registry.example", "--docker-username=u",
      "--docker-password=p"]),
    ("serviceaccount", "ServiceAccount",
     ["create", "serviceaccount", "builder"]),
    ("deployment", "Deployment",
     ["create", "deployment", "d", "--image=nginx", "--replicas=3",
      "--port=80"]),
    ("service-clusterip", "Service",
     ["create", "service", "clusterip", "svc", "--tcp=80:8080",
      "--tcp=443:8443"]),
    ("service-nodeport", "Service",
     ["create", "service", "nodeport", "np", "--tcp=80:8080",
      "--node-port=30080"]),
    ("service-externalname", "Service",
     ["create", "service", "externalname", "ext",
      "--external-name=example.com"]),
]


@pytest.fixture(scope="module")
def captured(tmp_path_factory):
    """For each command: its protobuf request body and its JSON form."""
    blob = tmp_path_factory.mktemp("blob") / "blob"
    blob.write_bytes(bytes(range(256)))
    bodies = {}
    with Recorder(served_registry()) as recorder:
        for name, kind, args in COMMANDS:
            args = [a.format(blob=blob) for a in args]
            sent = recorder.kubectl(*args)
            assert sent.returncode == 0, sent.stderr
            request = recorder.writes()[-1]
            printed = recorder.kubectl(*args, "--dry-run=client", "-o", "json")
            assert printed.returncode == 0, printed.stderr
            bodies[name] = (kind, request, printed.stdout.encode())
    return bodies


@pytest.mark.parametrize("name", [c[0] for c in COMMANDS],
                         ids=[c[0] for c in COMMANDS])
def test_kubectl_sends_protobuf(captured, name):
    _, request, _ = captured[name]

    assert request.content_type == PROTOBUF
    assert request.body.startswith(protobuf.MAGIC)


@pytest.mark.parametrize("name", [c[0] for c in COMMANDS],
                         ids=[c[0] for c in COMMANDS])
def test_kubectl_protobuf_and_json_decode_alike(captured, name):
    kind, request, json_body = captured[name]

    from_protobuf, warnings = decode_object(kind, request.body, PROTOBUF,
                                            "Strict")
    from_json, _ = decode_object(kind, json_body, "application/json",
                                 "Strict")

    assert from_protobuf == from_json
    assert warnings == []


def test_kubectl_namespace(captured):
    kind, request, _ = captured["namespace"]

    obj, _ = decode_object(kind, request.body, PROTOBUF, None)

    assert obj == {"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": "ns1", "creationTimestamp": None},
                   "spec": {}, "status": {}}


def test_kubectl_deployment(captured):
    kind, request, _ = captured["deployment"]

    obj, _ = decode_object(kind, request.body, PROTOBUF, None)

    spec = obj["spec"]
    assert obj["metadata"] == {"name": "d", "labels": {"app": "d"},
                               "creationTimestamp": None}
    assert spec["replicas"] == 3
    assert spec["selector"] == {"matchLabels": {"app": "d"}}
    assert spec["strategy"] == {}
    assert spec["template"]["metadata"] == {"labels": {"app": "d"},
                                            "creationTimestamp": None}
    assert spec["template"]["spec"]["containers"] == [
        {"name": "nginx", "image": "nginx", "resources": {},
         "ports": [{"containerPort": 80}]}]


def test_kubectl_service_ports(captured):
    kind, request, _ = captured["service-nodeport"]

    obj, _ = decode_object(kind, request.body, PROTOBUF, None)

    assert obj["spec"]["type"] == "NodePort"
    assert obj["spec"]["ports"] == [
        {"name": "80-8080", "protocol": "TCP", "port": 80,
         "targetPort": 8080, "nodePort": 30080}]


def test_kubectl_binary_config_map(captured):
    kind, request, _ = captured["configmap-binary"]

    obj, _ = decode_object(kind, request.body, PROTOBUF, None)

    import base64
    assert base64.b64decode(obj["binaryData"]["blob"]) == bytes(range(256))


# Every served kind: JSON -> decoded -> protobuf -> decoded again.

EXAMPLES = {
    "Pod": {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default",
                     "labels": {"app": "web"},
                     "annotations": {"note": "x"},
                     "creationTimestamp": "2024-05-01T10:00:00Z",
                     "deletionGracePeriodSeconds": 0,
                     "ownerReferences": [{"apiVersion": "apps/v1",
                                          "kind": "ReplicaSet", "name": "rs",
                                          "uid": "u-1", "controller": True}]},
        "spec": {
            "volumes": [{"name": "data", "emptyDir": {"sizeLimit": "1Gi"}},
                        {"name": "cfg", "configMap": {"name": "cm",
                                                      "defaultMode": 420}},
                        {"name": "tok", "projected": {"sources": [
                            {"serviceAccountToken": {"path": "token",
                                                     "expirationSeconds": 3600}}]}}],
            "initContainers": [{"name": "init", "image": "busybox",
                                "command": ["sh", "-c", "true"]}],
            "containers": [{
                "name": "app", "image": "nginx:1.27",
                "args": ["--port", "8080"],
                "ports": [{"name": "http", "containerPort": 8080,
                           "protocol": "TCP"}],
                "env": [{"name": "MODE", "value": "prod"},
                        {"name": "POD", "valueFrom": {"fieldRef": {
                            "fieldPath": "metadata.name"}}},
                        {"name": "KEY", "valueFrom": {"secretKeyRef": {
                            "name": "s", "key": "k", "optional": False}}}],
                "envFrom": [{"configMapRef": {"name": "cm"}}],
                "resources": {"limits": {"cpu": "0.5", "memory": "256Mi"},
                              "requests": {"cpu": "100m"}},
                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                "livenessProbe": {"httpGet": {"path": "/healthz",
                                              "port": "http"},
                                  "periodSeconds": 10},
                "readinessProbe": {"tcpSocket": {"port": 8080}},
                "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
                "securityContext": {"runAsNonRoot": True, "runAsUser": 1000,
                                    "capabilities": {"drop": ["ALL"]}},
                "imagePullPolicy": "IfNotPresent"}],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "nodeSelector": {"disk": "ssd"},
            "tolerations": [{"key": "k", "operator": "Exists",
                             "effect": "NoSchedule"}],
            "affinity": {"nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [{"matchExpressions": [
                        {"key": "zone", "operator": "In",
                         "values": ["a", "b"]}]}]}}},
            "securityContext": {"fsGroup": 2000,
                                "seccompProfile": {"type": "RuntimeDefault"}},
        },
        "status": {"phase": "Running", "podIP": "10.0.0.5",
                   "podIPs": [{"ip": "10.0.0.5"}],
                   "startTime": "2024-05-01T10:00:01Z",
                   "conditions": [{"type": "Ready", "status": "True",
                                   "lastTransitionTime":
                                       "2024-05-01T10:00:05Z"}],
                   "containerStatuses": [{
                       "name": "app", "ready": True, "restartCount": 1,
                       "image": "nginx:1.27", "imageID": "sha256:x",
                       "started": True,
                       "state": {"running": {
                           "startedAt": "2024-05-01T10:00:02Z"}},
                       "lastState": {"terminated": {
                           "exitCode": 137, "reason": "OOMKilled"}}}],
                   "qosClass": "Burstable"},
    },
    "Node": {
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
        "spec": {"podCIDR": "10.0.1.0/24", "unschedulable": True,
                 "taints": [{"key": "k", "value": "v",
                             "effect": "NoSchedule"}]},
        "status": {"capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                   "allocatable": {"cpu": "3800m", "memory": "7Gi"},
                   "conditions": [{"type": "Ready", "status": "True",
                                   "lastHeartbeatTime": "2024-05-01T10:00:00Z",
                                   "reason": "KubeletReady"}],
                   "addresses": [{"type": "InternalIP",
                                  "address": "127.0.0.1"}],
                   "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                   "nodeInfo": {"machineID": "m", "systemUUID": "s",
                                "bootID": "b", "kernelVersion": "6.1",
                                "osImage": "linux", "architecture": "amd64",
                                "operatingSystem": "linux",
                                "containerRuntimeVersion": "kctl://0.1",
                                "kubeletVersion": "v1.32.0",
                                "kubeProxyVersion": ""}},
    },
    "Service": {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "type": "ClusterIP",
                 "clusterIP": "10.0.0.10", "clusterIPs": ["10.0.0.10"],
                 "ports": [{"name": "http", "port": 80, "targetPort": "http",
                            "protocol": "TCP"}],
                 "sessionAffinity": "ClientIP",
                 "sessionAffinityConfig": {"clientIP": {
                     "timeoutSeconds": 10800}},
                 "ipFamilyPolicy": "SingleStack", "ipFamilies": ["IPv4"]},
        "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}},
    },
    "Endpoints": {
        "apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web"},
        "subsets": [{"addresses": [{"ip": "10.0.0.5", "nodeName": "n1",
                                    "targetRef": {"kind": "Pod",
                                                  "name": "web"}}],
                     "notReadyAddresses": [{"ip": "10.0.0.6"}],
                     "ports": [{"name": "http", "port": 8080,
                                "protocol": "TCP"}]}],
    },
    "ReplicationController": {
        "apiVersion": "v1", "kind": "ReplicationController",
        "metadata": {"name": "rc", "generation": 2},
        "spec": {"replicas": 2, "selector": {"app": "web"},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "c",
                                                       "image": "x"}]}}},
        "status": {"replicas": 2, "readyReplicas": 1,
                   "observedGeneration": 2},
    },
    "Event": {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "web.1", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "web",
                           "namespace": "default", "uid": "u",
                           "fieldPath": "spec.containers{app}"},
        "reason": "Started", "message": "Started container app",
        "source": {"component": "kubelet", "host": "n1"},
        "firstTimestamp": "2024-05-01T10:00:00Z",
        "lastTimestamp": "2024-05-01T10:05:00Z", "count": 3,
        "type": "Normal", "eventTime": "2024-05-01T10:00:00.123456Z",
        "reportingComponent": "kubelet", "reportingInstance": "n1",
    },
    "ConfigMap": {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"},
        "data": {"a": "1"}, "binaryData": {"b": "AAEC"}, "immutable": False,
    },
    "Secret": {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
        "type": "Opaque", "data": {"k": "dmFsdWU="},
    },
    "ServiceAccount": {
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "builder", "namespace": "default"},
        "secrets": [{"name": "builder-token"}],
        "imagePullSecrets": [{"name": "registry"}],
        "automountServiceAccountToken": False,
    },
    "Namespace": {
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    },
    "Binding": {
        "apiVersion": "v1", "kind": "Binding", "metadata": {"name": "web"},
        "target": {"apiVersion": "v1", "kind": "Node", "name": "n1"},
    },
    "Lease": {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "n1", "namespace": "kube-node-lease"},
        "spec": {"holderIdentity": "n1", "leaseDurationSeconds": 40,
                 "renewTime": "2024-05-01T10:00:00.500000Z",
                 "leaseTransitions": 0},
    },
    "Deployment": {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {"replicas": 0, "paused": True,
                 "selector": {"matchExpressions": [
                     {"key": "app", "operator": "In", "values": ["d"]}]},
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {
                     "maxUnavailable": "25%", "maxSurge": 1}},
                 "template": {"metadata": {"labels": {"app": "d"}},
                              "spec": {"containers": [{"name": "c",
                                                       "image": "x"}]}}},
        "status": {"replicas": 1, "conditions": [
            {"type": "Available", "status": "True",
             "lastUpdateTime": "2024-05-01T10:00:00Z"}],
            "collisionCount": 0},
    },
    "ReplicaSet": {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "rs"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "d"}},
                 "template": {"metadata": {"labels": {"app": "d"}},
                              "spec": {"containers": [{"name": "c",
                                                       "image": "x"}]}}},
        "status": {"replicas": 1, "availableReplicas": 1},
    },
}


@pytest.mark.parametrize("kind", sorted(EXAMPLES), ids=sorted(EXAMPLES))
def test_every_kind_decodes_alike_from_json_and_protobuf(kind):
    json_body = json.dumps(EXAMPLES[kind]).encode()
    from_json, warnings = decode_object(kind, json_body, "application/json",
                                        "Strict")

    body = protobuf.encode_body(from_json, kind)
    from_protobuf, _ = decode_object(kind, body, PROTOBUF, "Strict")

    assert warnings == []
    assert from_protobuf == from_json


def test_round_trip_keeps_the_values_that_differ_in_protobuf():
    from_json, _ = decode_object(
        "Pod", json.dumps(EXAMPLES["Pod"]).encode(), "application/json", None)
    body = protobuf.encode_body(from_json, "Pod")

    obj, _ = decode_object("Pod", body, PROTOBUF, None)

    container = obj["spec"]["containers"][0]
    assert container["resources"]["limits"]["cpu"] == "500m"
    assert container["livenessProbe"]["httpGet"]["port"] == "http"
    assert container["readinessProbe"]["tcpSocket"]["port"] == 8080
    assert obj["metadata"]["deletionGracePeriodSeconds"] == 0
    assert obj["status"]["startTime"] == "2024-05-01T10:00:01Z"


def test_a_body_without_the_magic_is_a_bad_request():
    with pytest.raises(BadRequest) as caught:
        decode_object("Pod", b'{"kind":"Pod"}', PROTOBUF, None)

    assert caught.value.message == (
        "provided data does not appear to be a protobuf message, expected "
        "prefix [107 56 115 0]")


def test_a_truncated_body_is_a_bad_request():
    body = protobuf.encode_body(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
         "data": {"a": "b"}}, "ConfigMap")

    with pytest.raises(BadRequest):
        decode_object("ConfigMap", body[:-3], PROTOBUF, None)
