"""Every kubectl from 1.27 to 1.33 against our server: each reads discovery
and OpenAPI a little differently (v2 or v3 for validation and explain,
aggregated discovery or not), and users keep old ones around."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import KUBECTL

VERSIONS = [f"1.{minor}" for minor in range(27, 34)]

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: ["sleep", "3600"]
"""


def kubectl_build(version: str) -> str:
    """kubectl.1.NN, which this machine keeps beside the kubectl on PATH."""
    assert KUBECTL is not None, "kubectl is not on PATH"
    path = os.path.join(os.path.dirname(os.path.realpath(KUBECTL)),
                        f"kubectl.{version}")
    assert os.access(path, os.X_OK), f"no kubectl {version} at {path}"
    return path


@pytest.fixture(params=VERSIONS)
def versioned(request, api_server, namespace):
    binary = kubectl_build(request.param)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": api_server.data_dir,
           "KUBECONFIG": os.devnull}

    def run(*args: str, input: str | None = None) -> str:
        result = subprocess.run(
            [binary, "--server", api_server.url, "-n", namespace, *args],
            input=input, capture_output=True, text=True, timeout=60, env=env)
        assert result.returncode == 0, (request.param, args, result.stderr)
        return result.stdout

    return run


def test_everyday_commands(versioned):
    assert versioned("create", "-f", "-", input=POD) == "pod/web created\n"
    assert versioned("get", "pods", "-o", "name") == "pod/web\n"
    assert versioned("get", "pod", "web", "-o", "jsonpath={.spec.restartPolicy}") \
        == "Always"
    assert versioned("apply", "-f", "-", input=POD.replace("app: web", "app: v2")) \
        == "pod/web configured\n"
    assert "Labels:           app=v2" in versioned("describe", "pod", "web")
    assert versioned("label", "pod", "web", "tier=front") == "pod/web labeled\n"
    assert versioned("create", "configmap", "settings", "--from-literal=a=b") \
        == "configmap/settings created\n"
    assert "FIELD: image <string>" in versioned("explain", "pod.spec.containers.image")
    assert versioned("delete", "pod", "web", "--wait=false") == 'pod "web" deleted\n'
