"""ServiceAccounts: the kind's rules, and kubectl and the Python client on them."""

from __future__ import annotations

import subprocess

import pytest
from kubernetes import client

from server.registry.serviceaccounts import ServiceAccountKind
from tests.conftest import KUBECTL

SA = ServiceAccountKind()

MANIFEST = """\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: builder
  labels:
    team: ci
secrets:
- name: builder-token
imagePullSecrets:
- name: registry
automountServiceAccountToken: false
"""

needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")


def service_account(name: str = "builder", **fields) -> dict:
    return {"metadata": {"name": name, "namespace": "default"}, **fields}


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_name_is_a_dns_subdomain():
    assert SA.validate(service_account("build.bot-1")) == []
    assert [str(e) for e in SA.validate(service_account("Build_Bot"))] == [
        'metadata.name: Invalid value: "Build_Bot": a lowercase RFC 1123 '
        "subdomain must consist of lower case alphanumeric characters, '-' or "
        "'.', and must start and end with an alphanumeric character (e.g. "
        "'example.com', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"]


def test_secret_references_keep_only_their_name():
    obj = service_account(secrets=[
        {"kind": "Secret", "namespace": "other", "name": "token", "uid": "u"},
        {"namespace": "other"}])

    SA.prepare_create(obj)

    assert obj["secrets"] == [{"name": "token"}, {}]


def test_columns_count_the_secrets():
    obj = service_account(secrets=[{"name": "a"}, {"name": "b"}])

    assert [c.name for c in SA.columns()] == ["Name", "Secrets", "Age"]
    assert SA.columns()[1].cell(obj) == 2
    assert SA.columns()[1].cell(service_account()) == 0
    assert SA.short_names == ("sa",)


@needs_kubectl
def test_kubectl_creates_gets_and_describes_service_accounts(kubectl, namespace):
    ns = ("-n", namespace)

    created = ok(kubectl(*ns, "create", "serviceaccount", "deployer"))
    from_file = ok(kubectl(*ns, "create", "-f", "-", input=MANIFEST))
    table = ok(kubectl(*ns, "get", "sa")).splitlines()
    described = ok(kubectl(*ns, "describe", "sa", "builder"))

    assert created.strip() == "serviceaccount/deployer created"
    assert from_file.strip() == "serviceaccount/builder created"
    assert [line.split()[:2] for line in table] == [
        ["NAME", "SECRETS"], ["builder", "1"], ["deployer", "0"]]
    assert table[0].split() == ["NAME", "SECRETS", "AGE"]
    assert "Name:" in described and "builder" in described


@needs_kubectl
def test_kubectl_patch_merges_secrets_by_name(kubectl, namespace):
    ns = ("-n", namespace)
    ok(kubectl(*ns, "create", "-f", "-", input=MANIFEST))

    ok(kubectl(*ns, "patch", "sa", "builder", "-p",
               '{"secrets": [{"name": "extra"}]}'))
    names = ok(kubectl(*ns, "get", "sa", "builder", "-o",
                       "jsonpath={.secrets[*].name}"))

    assert names.split() == ["extra", "builder-token"]


def test_python_client_lists_service_accounts(api_server, namespace):
    config = client.Configuration()
    config.host = api_server.url
    core = client.CoreV1Api(client.ApiClient(config))
    body = client.V1ServiceAccount(
        metadata=client.V1ObjectMeta(name="py-bot"),
        image_pull_secrets=[client.V1LocalObjectReference(name="registry")],
        automount_service_account_token=False)

    core.create_namespaced_service_account(namespace, body)
    listed = core.list_namespaced_service_account(namespace)

    assert [sa.metadata.name for sa in listed.items] == ["py-bot"]
    assert listed.items[0].image_pull_secrets[0].name == "registry"
    assert listed.items[0].automount_service_account_token is False
