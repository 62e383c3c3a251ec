"""The objects the real kubectl's imperative commands store, compared whole.

Each expected object is what kube-apiserver 1.32 returns on a JSON GET right
after the same command, with no controller having touched it yet: kubectl's
body, then the v1 defaults (pkg/apis/core/v1/defaults.go, apps/v1), the
strategy's PrepareForCreate (status, generation) and, for a pod, the default
admission plugins. Only what differs by nature is taken out of both sides: the
uid, resourceVersion, creationTimestamp and managedFields of the top-level
metadata, and the address a Service is given.
"""

from __future__ import annotations

import copy
import ipaddress
import uuid

import pytest
import requests

from tests.conftest import KUBECTL

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")

# Set by the server, different on every create, in kube as here.
_BY_NATURE = ("uid", "resourceVersion", "creationTimestamp", "managedFields")
_CLUSTER_IP = "<the service's cluster IP>"


def _configmap(namespace: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cm", "namespace": namespace},
            "data": {"a": "1", "b": "two"}}


def _secret(namespace: str) -> dict:
    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s", "namespace": namespace},
            "data": {"user": "YWRtaW4="}, "type": "Opaque"}


def _service(namespace: str) -> dict:
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "svc", "namespace": namespace,
                     "labels": {"app": "svc"}},
        "spec": {
            "ports": [{"name": "80-8080", "protocol": "TCP", "port": 80,
                       "targetPort": 8080}],
            "selector": {"app": "svc"},
            "clusterIP": _CLUSTER_IP,
            "clusterIPs": [_CLUSTER_IP],
            "type": "ClusterIP",
            "sessionAffinity": "None",
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster",
        },
        "status": {"loadBalancer": {}},
    }


def _deployment(namespace: str) -> dict:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "d", "namespace": namespace, "generation": 1,
                     "labels": {"app": "d"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "d"}},
            "template": {
                # Go prints the template's zero creationTimestamp as null.
                "metadata": {"creationTimestamp": None, "labels": {"app": "d"}},
                "spec": {
                    "containers": [{
                        "name": "nginx", "image": "nginx:1.27", "resources": {},
                        "terminationMessagePath": "/dev/termination-log",
                        "terminationMessagePolicy": "File",
                        "imagePullPolicy": "IfNotPresent",
                    }],
                    "restartPolicy": "Always",
                    "terminationGracePeriodSeconds": 30,
                    "dnsPolicy": "ClusterFirst",
                    "securityContext": {},
                    "schedulerName": "default-scheduler",
                },
            },
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {
                "maxUnavailable": "25%", "maxSurge": "25%"}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
        },
        "status": {},
    }


def _pod(namespace: str) -> dict:
    # The ServiceAccount admission plugin adds the token volume; its name ends
    # in five random characters, here "xxxxx".
    token_volume = "kube-api-access-xxxxx"
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "r", "namespace": namespace,
                     "labels": {"run": "r"}},
        "spec": {
            "volumes": [{"name": token_volume, "projected": {
                "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607,
                                             "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt", "items": [
                        {"key": "ca.crt", "path": "ca.crt"}]}},
                    {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
                        "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
                ],
                "defaultMode": 420}}],
            "containers": [{
                "name": "r", "image": "nginx", "resources": {},
                "volumeMounts": [{
                    "name": token_volume, "readOnly": True,
                    "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}],
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "imagePullPolicy": "Always",
            }],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default",
            "serviceAccount": "default",
            "securityContext": {},
            "schedulerName": "default-scheduler",
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                 "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                 "effect": "NoExecute", "tolerationSeconds": 300},
            ],
            "priority": 0,
            "enableServiceLinks": True,
            "preemptionPolicy": "PreemptLowerPriority",
        },
        "status": {"phase": "Pending", "qosClass": "BestEffort"},
    }


def _without_token_volume(pod: dict) -> dict:
    """The pod kube stores, less the service account token volume.

    The server serves no TokenRequest and signs no tokens, so its
    ServiceAccount admission mounts nothing (see _admit_service_account in
    server/registry/pods.py): the one known difference in these objects.
    """
    pod = copy.deepcopy(pod)
    del pod["spec"]["volumes"]
    del pod["spec"]["containers"][0]["volumeMounts"]
    return pod


CASES = [
    pytest.param(("create", "configmap", "cm", "--from-literal=a=1",
                  "--from-literal=b=two"), "configmap/cm created",
                 "/api/v1/namespaces/{ns}/configmaps/cm", _configmap,
                 id="create-configmap"),
    pytest.param(("create", "secret", "generic", "s", "--from-literal=user=admin"),
                 "secret/s created", "/api/v1/namespaces/{ns}/secrets/s", _secret,
                 id="create-secret-generic"),
    pytest.param(("create", "service", "clusterip", "svc", "--tcp=80:8080"),
                 "service/svc created", "/api/v1/namespaces/{ns}/services/svc",
                 _service, id="create-service-clusterip"),
    pytest.param(("create", "deployment", "d", "--image=nginx:1.27"),
                 "deployment.apps/d created",
                 "/apis/apps/v1/namespaces/{ns}/deployments/d", _deployment,
                 id="create-deployment"),
    pytest.param(("run", "r", "--image=nginx"), "pod/r created",
                 "/api/v1/namespaces/{ns}/pods/r",
                 lambda ns: _without_token_volume(_pod(ns)), id="run"),
]


def _comparable(stored: dict) -> dict:
    stored = copy.deepcopy(stored)
    for key in _BY_NATURE:
        stored["metadata"].pop(key, None)
    spec = stored.get("spec") or {}
    if "clusterIP" in spec:
        address = ipaddress.ip_address(spec["clusterIP"])
        assert address.version == 4
        assert spec["clusterIPs"] == [spec["clusterIP"]]
        spec["clusterIP"], spec["clusterIPs"] = _CLUSTER_IP, [_CLUSTER_IP]
    return stored


@pytest.mark.parametrize("command, printed, path, expected", CASES)
def test_the_stored_object_is_the_one_kube_stores(kubectl, api_server, namespace,
                                                  command, printed, path,
                                                  expected):
    result = kubectl("-n", namespace, *command)

    stored = requests.get(api_server.url + path.format(ns=namespace), timeout=30)

    assert (result.returncode, result.stdout, result.stderr) == (
        0, printed + "\n", "")
    assert stored.status_code == 200, stored.text
    assert _comparable(stored.json()) == expected(namespace)


def test_create_namespace_stores_the_namespace_kube_stores(kubectl, api_server):
    name = "created-" + uuid.uuid4().hex[:8]

    result = kubectl("create", "namespace", name)
    stored = requests.get(f"{api_server.url}/api/v1/namespaces/{name}", timeout=30)

    assert (result.returncode, result.stdout, result.stderr) == (
        0, f"namespace/{name} created\n", "")
    assert _comparable(stored.json()) == {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": name,
                     "labels": {"kubernetes.io/metadata.name": name}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }
