"""Answers in YAML for a client whose Accept header prefers application/yaml."""

from __future__ import annotations

import pytest
import requests
import yaml

from tests.server.helpers import API, configmap

YAML = "application/yaml"


@pytest.fixture
def api(api_server) -> API:
    return API(api_server.url)


def test_an_object_in_yaml(api, namespace):
    api.create("configmaps", namespace, configmap("y", a="1", n="2"))
    path = api.path("configmaps", namespace, "y")

    answer = api.request("GET", path, headers={"Accept": YAML})
    as_json = api.request("GET", path).json()

    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith(YAML)
    assert yaml.safe_load(answer.text) == as_json
    # Sorted keys and go-yaml's quoting (n and y are YAML 1.1 booleans), as
    # kube-apiserver writes it.
    assert answer.text.startswith('apiVersion: v1\ndata:\n  a: "1"\n  "n": "2"\n'
                                  "kind: ConfigMap\n")
    assert '  name: "y"\n' in answer.text


def test_lists_and_errors_in_yaml(api, namespace):
    api.create("configmaps", namespace, configmap("l1", a="1"))
    listed = api.request("GET", api.path("configmaps", namespace),
                         headers={"Accept": YAML})
    missing = api.request("GET", api.path("configmaps", namespace, "nope"),
                          headers={"Accept": YAML})

    items = yaml.safe_load(listed.text)
    assert items["kind"] == "ConfigMapList"
    assert [i["metadata"]["name"] for i in items["items"]] == ["l1"]
    assert missing.status_code == 404
    status = yaml.safe_load(missing.text)
    assert (status["kind"], status["reason"], status["code"]) == (
        "Status", "NotFound", 404)


def test_a_yaml_create_answered_in_yaml(api, namespace):
    body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: made\ndata:\n  k: v\n"

    answer = api.request("POST", api.path("configmaps", namespace), body, YAML,
                         headers={"Accept": YAML})

    assert answer.status_code == 201
    assert yaml.safe_load(answer.text)["data"] == {"k": "v"}


@pytest.mark.parametrize("accept, expected", [
    ("application/yaml, application/json", YAML),
    ("application/json, application/yaml", "application/json"),
    ("application/vnd.kubernetes.protobuf, application/yaml", YAML),
], ids=["yaml-first", "json-first", "protobuf-then-yaml"])
def test_the_first_type_we_answer_in_wins(api_server, namespace, accept, expected):
    response = requests.get(f"{api_server.url}/api/v1/namespaces/{namespace}",
                            headers={"Accept": accept}, timeout=10)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(expected)


def test_watches_stay_json(api, namespace):
    api.create("configmaps", namespace, configmap("w", a="1"))

    response = api.request("GET", api.path("configmaps", namespace),
                           params={"watch": "1", "timeoutSeconds": "1"},
                           headers={"Accept": YAML})

    assert response.status_code == 200
    assert response.text.startswith('{"type":"ADDED"')
