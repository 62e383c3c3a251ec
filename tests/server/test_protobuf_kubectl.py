"""kubectl's imperative create commands, which send protobuf bodies, against
the server: the stored objects have the fields Kubernetes stores for them."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from tests.conftest import KUBECTL

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")


def _ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def _get(kubectl, namespace: str, what: str) -> dict:
    return json.loads(_ok(kubectl("-n", namespace, "get", what, "-o", "json")))


def test_create_namespace(kubectl, api_server):
    _ok(kubectl("create", "namespace", "proto-ns"))

    stored = requests.get(api_server.url + "/api/v1/namespaces/proto-ns").json()

    assert stored["metadata"]["name"] == "proto-ns"
    assert stored["metadata"]["labels"] == {
        "kubernetes.io/metadata.name": "proto-ns"}
    assert stored["spec"] == {"finalizers": ["kubernetes"]}
    assert stored["status"] == {"phase": "Active"}


def test_create_configmap_from_literals(kubectl, namespace):
    _ok(kubectl("-n", namespace, "create", "configmap", "cm",
                "--from-literal=a=1", "--from-literal=b=two"))

    stored = _get(kubectl, namespace, "configmap/cm")

    assert stored["data"] == {"a": "1", "b": "two"}
    assert "binaryData" not in stored


def test_create_secret_generic(kubectl, namespace):
    _ok(kubectl("-n", namespace, "create", "secret", "generic", "s",
                "--from-literal=user=admin"))

    stored = _get(kubectl, namespace, "secret/s")

    assert stored["type"] == "Opaque"
    assert base64.b64decode(stored["data"]["user"]) == b"admin"


def test_create_service_clusterip(kubectl, namespace):
    _ok(kubectl("-n", namespace, "create", "service", "clusterip", "svc",
                "--tcp=80:8080"))

    stored = _get(kubectl, namespace, "service/svc")

    spec = stored["spec"]
    assert spec["ports"] == [{"name": "80-8080", "protocol": "TCP",
                              "port": 80, "targetPort": 8080}]
    assert spec["selector"] == {"app": "svc"}
    assert spec["type"] == "ClusterIP"
    assert spec["clusterIP"] and spec["clusterIPs"] == [spec["clusterIP"]]
    assert spec["sessionAffinity"] == "None"
    assert stored["status"] == {"loadBalancer": {}}


def test_run(kubectl, namespace):
    _ok(kubectl("-n", namespace, "run", "r", "--image=nginx"))

    stored = _get(kubectl, namespace, "pod/r")

    assert stored["metadata"]["labels"] == {"run": "r"}
    container = stored["spec"]["containers"][0]
    assert (container["name"], container["image"]) == ("r", "nginx")
    assert container["resources"] == {}
    assert container["imagePullPolicy"] == "Always"
    assert stored["spec"]["restartPolicy"] == "Always"


def test_create_deployment(kubectl, namespace):
    _ok(kubectl("-n", namespace, "create", "deployment", "d", "--image=nginx:1.27",
                "--replicas=2"))

    stored = _get(kubectl, namespace, "deployment/d")

    assert stored["metadata"]["labels"] == {"app": "d"}
    spec = stored["spec"]
    assert spec["replicas"] == 2
    assert spec["selector"] == {"matchLabels": {"app": "d"}}
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {
        "maxUnavailable": "25%", "maxSurge": "25%"}}
    assert (spec["revisionHistoryLimit"], spec["progressDeadlineSeconds"]) == (10, 600)
    container = spec["template"]["spec"]["containers"][0]
    assert (container["name"], container["image"]) == ("nginx", "nginx:1.27")
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["terminationMessagePolicy"] == "File"
    assert spec["template"]["spec"]["restartPolicy"] == "Always"


def test_protobuf_create_with_an_unknown_kind_in_the_envelope_is_refused(
        api_server, namespace):
    from server import protobuf
    body = protobuf.encode_body({"apiVersion": "v1", "kind": "Secret",
                                 "metadata": {"name": "x"}}, "ConfigMap")

    response = requests.post(
        f"{api_server.url}/api/v1/namespaces/{namespace}/configmaps",
        data=body, headers={"Content-Type": protobuf.PROTOBUF_TYPE})

    assert response.status_code == 400


def test_a_client_that_accepts_only_protobuf_gets_406(api_server, namespace):
    response = requests.get(
        f"{api_server.url}/api/v1/namespaces/{namespace}/configmaps",
        headers={"Accept": "application/vnd.kubernetes.protobuf"})

    assert response.status_code == 406
    status = response.json()
    assert (status["kind"], status["reason"]) == ("Status", "NotAcceptable")
    assert "application/json" in status["message"]


def test_a_client_that_also_accepts_json_gets_json(api_server, namespace):
    response = requests.get(
        f"{api_server.url}/api/v1/namespaces/{namespace}/configmaps",
        headers={"Accept": "application/vnd.kubernetes.protobuf, application/json"})

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["kind"] == "ConfigMapList"


def test_delete_options_in_protobuf(api_server, namespace):
    # kubectl drain --disable-eviction deletes with a protobuf DeleteOptions.
    from server import protobuf
    url = f"{api_server.url}/api/v1/namespaces/{namespace}/configmaps"
    requests.post(url, json={"metadata": {"name": "gone"}})
    uid = requests.get(url + "/gone").json()["metadata"]["uid"]
    wrong = protobuf.encode_body({"apiVersion": "v1", "kind": "DeleteOptions",
                                  "preconditions": {"uid": "not-" + uid}},
                                 "DeleteOptions")
    right = protobuf.encode_body({"apiVersion": "v1", "kind": "DeleteOptions",
                                  "gracePeriodSeconds": 0,
                                  "preconditions": {"uid": uid}}, "DeleteOptions")
    headers = {"Content-Type": protobuf.PROTOBUF_TYPE}

    refused = requests.delete(url + "/gone", data=wrong, headers=headers)
    deleted = requests.delete(url + "/gone", data=right, headers=headers)

    assert refused.status_code == 409
    assert deleted.status_code == 200
    assert requests.get(url + "/gone").status_code == 404


@pytest.mark.parametrize("accept, code", [
    ("application/bogus", 406), ("text/html", 406),
    ("text/html, */*;q=0.1", 200), ("application/*", 200),
    ("application/json;as=Table;v=v1;g=meta.k8s.io, application/json", 200),
], ids=["unknown", "html", "html-or-any", "application-any", "table-or-json"])
def test_only_a_client_that_accepts_json_in_some_form_is_answered(
        api_server, namespace, accept, code):
    response = requests.get(
        f"{api_server.url}/api/v1/namespaces/{namespace}/configmaps",
        headers={"Accept": accept})

    assert response.status_code == code
    assert response.headers["Content-Type"].startswith("application/json")
