"""The real kubectl, with no extra flags, against the server's OpenAPI:
create -f and apply -f validate server-side, explain reads the schemas."""

from __future__ import annotations

import json

import pytest

from tests.conftest import KUBECTL

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")

MANIFESTS = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast}
---
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  containers:
  - name: main
    image: nginx:1.27
    resources: {limits: {cpu: 500m, memory: 128Mi}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Secret
metadata: {name: token}
data: {token: YWJj}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: main, image: nginx:1.27}]
"""

EXPECTED = ["configmap/settings", "pod/web", "service/web", "secret/token",
            "deployment.apps/web"]


def _ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_create_f_validates_without_flags(kubectl, namespace):
    out = _ok(kubectl("-n", namespace, "create", "-f", "-", input=MANIFESTS))

    assert [line.split()[0] for line in out.splitlines()] == EXPECTED


def test_apply_f_validates_without_flags(kubectl, namespace):
    first = _ok(kubectl("-n", namespace, "apply", "-f", "-", input=MANIFESTS))
    again = _ok(kubectl("-n", namespace, "apply", "-f", "-", input=MANIFESTS))

    assert [line.split()[1] for line in first.splitlines()] == ["created"] * len(EXPECTED)
    assert [line.split()[1] for line in again.splitlines()] == ["unchanged"] * len(EXPECTED)


def test_create_f_asks_for_strict_validation(kubectl, namespace):
    # kubectl sends fieldValidation=Strict once it finds the parameter in
    # the OpenAPI document: -v=6 logs each request's URL.
    manifest = MANIFESTS.split("---\n")[0]

    result = kubectl("-n", namespace, "create", "-f", "-", "-v=6",
                     input=manifest)

    assert result.returncode == 0, result.stderr
    assert "fieldValidation=Strict" in result.stderr


def test_explain_prints_description_and_type(kubectl):
    out = _ok(kubectl("explain", "pod.spec.containers.image"))

    assert "KIND:       Pod" in out
    assert "FIELD: image <string>" in out
    assert "The container image to run." in out


def test_explain_lists_fields_and_required_ones(kubectl):
    out = _ok(kubectl("explain", "service.spec.ports"))

    assert "FIELD: ports <[]ServicePort>" in out
    assert "port\t<integer> -required-" in out
    assert "targetPort\t<IntOrString>" in out


def test_openapi_v3_index_lists_every_group_version(api_server):
    import requests
    index = requests.get(api_server.url + "/openapi/v3").json()

    assert {"api/v1", "apis/coordination.k8s.io/v1"} <= set(index["paths"])
    url = index["paths"]["api/v1"]["serverRelativeURL"]
    document = requests.get(api_server.url + url).json()
    assert json.dumps(document).count('"fieldValidation"') > 0


def test_create_f_refuses_an_unknown_field(kubectl, namespace):
    manifest = MANIFESTS.split("---\n")[0] + "bogus: 1\n"

    result = kubectl("-n", namespace, "create", "-f", "-", input=manifest)

    assert result.returncode == 1
    assert result.stderr.strip() == (
        'Error from server (BadRequest): error when creating "STDIN": '
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: '
        'strict decoding error: unknown field "bogus"')


def test_apply_f_refuses_a_wrong_type(kubectl, namespace):
    manifest = MANIFESTS.split("---\n")[1].replace("image: nginx:1.27",
                                                  "image: 5")

    result = kubectl("-n", namespace, "apply", "-f", "-", input=manifest)

    assert result.returncode == 1
    assert ("json: cannot unmarshal number into Go struct field "
            "Container.spec.containers.image of type string") in result.stderr
