"""Protobuf against a running server, as kubectl speaks it: envelopes it
refuses, a protobuf DeleteOptions, and the content types of its answers.

What kubectl's imperative create commands (protobuf bodies) store is compared
whole in test_kubectl_create_objects."""

from __future__ import annotations

import pytest
import requests


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
