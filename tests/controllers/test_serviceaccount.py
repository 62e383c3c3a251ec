"""The serviceaccount controller: a ``default`` ServiceAccount in every namespace."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.conftest import KUBECTL, run_kubectl
from tests.controllers.conftest import wait_for
from tests.controllers.test_serve_controllers import delete_namespace_and_wait


def new_namespace(url: str) -> str:
    name = "sa-" + uuid.uuid4().hex[:8]
    response = requests.post(f"{url}/api/v1/namespaces",
                             json={"metadata": {"name": name}}, timeout=30)
    assert response.status_code == 201, response.text
    return name


def default_account(url: str, namespace: str) -> dict | None:
    response = requests.get(
        f"{url}/api/v1/namespaces/{namespace}/serviceaccounts/default", timeout=30)
    return response.json() if response.status_code == 200 else None


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
def test_a_new_namespace_gets_default(api_server, start_controllers):
    start_controllers(api_server.url, "serviceaccount")
    namespace = new_namespace(api_server.url)

    wait_for(lambda: default_account(api_server.url, namespace),
             message=f"serviceaccount {namespace}/default")
    listed = run_kubectl(api_server, "get", "sa", "-n", namespace)

    assert listed.returncode == 0, listed.stderr
    assert [line.split()[:2] for line in listed.stdout.splitlines()] == [
        ["NAME", "SECRETS"], ["default", "0"]]
    assert default_account(api_server.url, "kube-system") is not None


def test_a_deleted_default_is_made_again(api_server, start_controllers):
    start_controllers(api_server.url, "serviceaccount")
    namespace = new_namespace(api_server.url)
    first = wait_for(lambda: default_account(api_server.url, namespace),
                     message="the first default")

    requests.delete(f"{api_server.url}/api/v1/namespaces/{namespace}/"
                    "serviceaccounts/default", timeout=30)
    again = wait_for(
        lambda: (sa := default_account(api_server.url, namespace)) and
        sa["metadata"]["uid"] != first["metadata"]["uid"] and sa,
        message="default made again")

    assert again["metadata"]["name"] == "default"


def test_a_terminating_namespace_gets_none(api_server, start_controllers):
    # This folder's server runs no namespace controller: the deleted
    # namespace stays Terminating while the controller below looks at it.
    terminating = new_namespace(api_server.url)
    requests.delete(f"{api_server.url}/api/v1/namespaces/{terminating}", timeout=30)
    start_controllers(api_server.url, "serviceaccount")

    active = new_namespace(api_server.url)
    wait_for(lambda: default_account(api_server.url, active),
             message="default in the active namespace")

    assert default_account(api_server.url, terminating) is None


def test_serve_without_the_controller_makes_none(start_server):
    server = start_server("--controllers=*,-serviceaccount")
    namespace = new_namespace(server.url)

    # The other controllers run: a namespace deletion completes meanwhile.
    delete_namespace_and_wait(server.url)

    assert default_account(server.url, namespace) is None
    assert default_account(server.url, "default") is None


def test_serve_runs_it_by_default(start_server):
    server = start_server("--controllers=*")

    wait_for(lambda: default_account(server.url, "default"),
             message="serviceaccount default/default")
