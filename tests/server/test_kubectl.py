"""The real kubectl against our server, as a user would run it."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
import yaml

from tests.conftest import KUBECTL, run_kubectl
from tests.server.helpers import API

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels:
    app: {app}
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: ["sleep", "3600"]
"""


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def node(api_server) -> str:
    body = {"apiVersion": "v1", "kind": "Node", "metadata": {
        "name": "kubectl-node", "labels": {"kubernetes.io/hostname": "kubectl-node"}},
        "status": {"conditions": [{"type": "Ready", "status": "True"}],
                   "nodeInfo": {"kubeletVersion": "kctl-0.1.0"}}}
    response = API(api_server.url).create("nodes", "", body)
    assert response.status_code in (201, 409)
    return "kubectl-node"


@pytest.fixture
def pods(kubectl, namespace) -> str:
    manifest = POD.format(name="one", app="a") + "---\n" + POD.format(name="two",
                                                                    app="b")
    assert "created" in ok(kubectl("-n", namespace, "create", "-f", "-",
                                   input=manifest))
    return namespace


def test_get_nodes(kubectl, node):
    lines = ok(kubectl("get", "nodes")).splitlines()

    assert lines[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert any(l.split()[:3] == [node, "Ready", "<none>"] for l in lines[1:])


def test_create_a_multi_document_file_then_get_it_every_way(kubectl, pods):
    ns = ("-n", pods)

    table = ok(kubectl(*ns, "get", "pods")).splitlines()
    wide = ok(kubectl(*ns, "get", "pods", "-o", "wide")).splitlines()[0].split()
    every = ok(kubectl("get", "pods", "-A")).splitlines()
    as_json = json.loads(ok(kubectl(*ns, "get", "pod", "one", "-o", "json")))
    as_yaml = yaml.safe_load(ok(kubectl(*ns, "get", "pod", "two", "-o", "yaml")))
    names = ok(kubectl(*ns, "get", "pods", "-o", "name")).split()
    path = ok(kubectl(*ns, "get", "pods", "-o",
                      "jsonpath={.items[*].metadata.labels.app}"))

    assert [l.split()[:3] for l in table] == [["NAME", "READY", "STATUS"],
                                              ["one", "0/1", "Pending"],
                                              ["two", "0/1", "Pending"]]
    assert wide == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE",
                    "NOMINATED", "NODE", "READINESS", "GATES"]
    assert every[0].split()[0] == "NAMESPACE"
    assert any(l.split()[:2] == [pods, "one"] for l in every)
    assert as_json["metadata"]["name"] == "one" and as_json["kind"] == "Pod"
    assert as_yaml["spec"]["containers"][0]["image"] == "busybox:1.36"
    assert names == ["pod/one", "pod/two"]
    assert path == "a b"


def test_apply_creates_then_leaves_unchanged_then_configures(kubectl, namespace):
    manifest = POD.format(name="applied", app="a")
    apply = ("-n", namespace, "apply", "-f", "-")

    created = ok(kubectl(*apply, input=manifest))
    unchanged = ok(kubectl(*apply, input=manifest))
    configured = ok(kubectl(*apply, input=manifest.replace("busybox:1.36",
                                                           "busybox:1.37")))

    assert created.strip() == "pod/applied created"
    assert unchanged.strip() == "pod/applied unchanged"
    assert configured.strip() == "pod/applied configured"
    image = ok(kubectl("-n", namespace, "get", "pod", "applied", "-o",
                       "jsonpath={.spec.containers[0].image}"))
    assert image == "busybox:1.37"


def test_label_annotate_and_patch_with_each_type(kubectl, pods):
    ns = ("-n", pods)

    ok(kubectl(*ns, "label", "pod", "one", "tier=web"))
    ok(kubectl(*ns, "annotate", "pod", "one", "note=hello"))
    ok(kubectl(*ns, "patch", "pod", "one", "--type", "merge", "-p",
               '{"metadata":{"labels":{"merged":"yes"}}}'))
    ok(kubectl(*ns, "patch", "pod", "one", "--type", "json", "-p",
               '[{"op":"add","path":"/metadata/labels/json","value":"yes"}]'))
    ok(kubectl(*ns, "patch", "pod", "one", "-p",
               '{"spec":{"containers":[{"name":"main","image":"busybox:2"}]}}'))

    pod = json.loads(ok(kubectl(*ns, "get", "pod", "one", "-o", "json")))
    assert pod["metadata"]["labels"] == {"app": "a", "tier": "web", "merged": "yes",
                                         "json": "yes"}
    assert pod["metadata"]["annotations"]["note"] == "hello"
    assert pod["spec"]["containers"][0]["image"] == "busybox:2"
    assert pod["spec"]["containers"][0]["command"] == ["sleep", "3600"]


def test_get_watch_sees_added_and_deleted(api_server, kubectl, namespace):
    watcher = subprocess.Popen(
        [KUBECTL, "--server", api_server.url, "-n", namespace, "get", "pods",
         "-w", "--output-watch-events"], stdout=subprocess.PIPE, text=True,
        stderr=subprocess.PIPE, env={"PATH": "/usr/bin:/bin", "KUBECONFIG": "/dev/null",
                                     "HOME": api_server.data_dir})
    try:
        time.sleep(1)
        ok(kubectl("-n", namespace, "create", "-f", "-",
                   input=POD.format(name="watched", app="w")))
        ok(kubectl("-n", namespace, "delete", "pod", "watched"))
        time.sleep(1)
    finally:
        watcher.terminate()
        output, _ = watcher.communicate(timeout=10)

    events = [line.split()[:2] for line in output.splitlines()[1:]]
    assert ["ADDED", "watched"] in events and ["DELETED", "watched"] in events


def test_delete_and_describe(kubectl, pods):
    ns = ("-n", pods)

    described = ok(kubectl(*ns, "describe", "pod", "one"))
    deleted = ok(kubectl(*ns, "delete", "pod", "one"))

    assert "Name:" in described and "one" in described
    assert "Containers:" in described and "busybox:1.36" in described
    assert deleted.strip() == 'pod "one" deleted'
    gone = kubectl(*ns, "get", "pod", "one")
    assert gone.returncode == 1
    assert 'pods "one" not found' in gone.stderr


def test_api_resources(kubectl):
    lines = ok(kubectl("api-resources")).splitlines()
    table = {l.split()[0]: l.split() for l in lines[1:]}

    assert lines[0].split() == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED",
                                "KIND"]
    assert table["pods"] == ["pods", "po", "v1", "true", "Pod"]
    assert table["leases"] == ["leases", "coordination.k8s.io/v1", "true", "Lease"]
    assert table["nodes"] == ["nodes", "no", "v1", "false", "Node"]


def test_kubeconfig_written_by_serve_works(api_server):
    result = subprocess.run([KUBECTL, "--kubeconfig", api_server.kubeconfig, "get",
                             "namespaces", "-o", "name"], capture_output=True,
                            text=True, timeout=30)

    assert "namespace/default" in ok(result).split()


@pytest.mark.parametrize("secret_type,key,value,reason", [
    ("kubernetes.io/dockerconfigjson", ".dockerconfigjson", "{bad",
     "invalid character 'b' looking for beginning of object key string"),
    ("kubernetes.io/dockercfg", ".dockercfg", '"a string"',
     "json: cannot unmarshal string into Go value of type map[string]interface {}"),
], ids=["dockerconfigjson", "dockercfg"])
def test_a_docker_config_secret_must_hold_a_json_object(kubectl, namespace,
                                                        secret_type, key, value,
                                                        reason):
    result = kubectl("-n", namespace, "create", "secret", "generic", "pull",
                     f"--type={secret_type}", f"--from-literal={key}={value}")

    assert result.returncode == 1
    assert result.stderr == (
        'error: failed to create secret Secret "pull" is invalid: '
        f'data[{key}]: Invalid value: "<secret contents redacted>": {reason}\n')
