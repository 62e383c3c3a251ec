"""Who am I and may I: kubectl auth whoami and kubectl auth can-i, answered
by the review kinds (created, answered, never stored)."""

from __future__ import annotations

import json

import pytest
import requests

from tests.conftest import KUBECTL, run_kubectl

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")


def test_can_i_says_yes_to_everything(api_server, namespace):
    for args in (["create", "pods"], ["delete", "nodes", "--all-namespaces"],
                 ["get", "/healthz"], ["*", "*"]):
        done = run_kubectl(api_server, "auth", "can-i", *args, "-n", namespace)

        assert (done.returncode, done.stdout) == (0, "yes\n"), args


def test_can_i_list_shows_the_rules(api_server, namespace):
    done = run_kubectl(api_server, "auth", "can-i", "--list", "-n", namespace)

    assert done.returncode == 0
    assert done.stdout.splitlines()[:3] == [
        "Resources   Non-Resource URLs   Resource Names   Verbs",
        "*.*         []                  []               [*]",
        "            [*]                 []               [*]"]


def test_whoami_without_authentication_is_anonymous(api_server):
    done = run_kubectl(api_server, "auth", "whoami", "-o", "json")

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"]["userInfo"] == {
        "username": "system:anonymous", "groups": ["system:unauthenticated"]}


def test_whoami_with_a_token_is_its_user(start_server, tmp_path):
    # kubectl sends a bearer token over HTTPS only, so this asks directly.
    tokens = tmp_path / "tokens.csv"
    tokens.write_text('s3cret,alice,1000,"dev,ops"\n')
    server = start_server("--token-file", str(tokens))
    url = f"{server.url}/apis/authentication.k8s.io/v1/selfsubjectreviews"
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}

    done = requests.post(url, json=body, timeout=10,
                         headers={"Authorization": "Bearer s3cret"})
    denied = requests.post(url, json=body, timeout=10)

    assert done.status_code == 201
    assert done.json()["status"]["userInfo"] == {
        "username": "alice", "uid": "1000",
        "groups": ["dev", "ops", "system:authenticated"]}
    assert denied.status_code == 401


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_reviews_are_only_created(api_server, method):
    url = f"{api_server.url}/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"

    response = requests.request(method, url + ("/x" if method != "GET" else ""),
                                json={}, timeout=10)

    assert response.status_code == 405
    assert response.json()["reason"] == "MethodNotAllowed"


def test_an_access_review_needs_exactly_one_question(api_server):
    url = f"{api_server.url}/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
    body = {"apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview", "spec": {}}

    response = requests.post(url, json=body, timeout=10)

    assert response.status_code == 422
    assert response.json()["message"] == (
        'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: '
        "spec.resourceAttributes: Invalid value: null: exactly one of "
        "nonResourceAttributes or resourceAttributes must be specified")
