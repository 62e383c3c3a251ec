"""describe, wait, api-resources, version, cluster-info, config."""

from __future__ import annotations

import re
import subprocess
import threading
import time
import uuid

import pytest

from tests.conftest import KUBECTL
from tests.kctl.conftest import pod_manifest, run_program


def test_describe_pod_equals_kubectls(kctl, kubectl, namespace):
    kctl("create", "-n", namespace, "-f", "-", stdin=pod_manifest("web", app="w"))

    ours = kctl("describe", "pod", "web", "-n", namespace)
    theirs = kubectl("describe", "pod", "web", "-n", namespace)

    assert ours.out == theirs.stdout
    assert "Containers:\n  web:\n    Image:        nginx:1.25\n" in ours.out


def test_describe_owned_pod_names_its_controller(kctl, kubectl, namespace):
    manifest = pod_manifest("owned", app="w").replace(
        "metadata:\n", "metadata:\n  ownerReferences:\n  - {apiVersion: v1, "
        "kind: ReplicationController, name: rc, uid: 0b0e6f4e-1, controller: true}\n", 1)
    kctl("create", "-n", namespace, "-f", "-", stdin=manifest)

    ours = kctl("describe", "pod", "owned", "-n", namespace)
    theirs = kubectl("describe", "pod", "owned", "-n", namespace)

    assert re.search(r"^Controlled By:\s+ReplicationController/rc$", ours.out, re.M)
    assert ours.out == theirs.stdout


WORKLOADS = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 0
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: c
        image: busybox
        command: ["sleep", "3000"]
        ports: [{containerPort: 80}]
        env: [{name: A, value: b}]
---
apiVersion: v1
kind: ReplicationController
metadata:
  name: rc
spec:
  replicas: 0
  selector: {app: rc}
  template:
    metadata:
      labels: {app: rc}
    spec:
      containers:
      - name: c
        image: busybox
      nodeSelector: {disk: ssd}
"""


REPLICA_SET = """apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-5d4f8
  labels: {{app: web, pod-template-hash: 5d4f8}}
  ownerReferences:
  - {{apiVersion: apps/v1, kind: Deployment, name: web, uid: {uid}, controller: true}}
spec:
  replicas: 0
  selector:
    matchLabels: {{app: web, pod-template-hash: 5d4f8}}
  template:
    metadata:
      labels: {{app: web, pod-template-hash: 5d4f8}}
    spec:
      containers:
      - name: c
        image: busybox
        command: ["sleep", "3000"]
        ports: [{{containerPort: 80}}]
        env: [{{name: A, value: b}}]
"""


@pytest.mark.parametrize("kind", ["deployment", "replicaset", "rc"])
def test_describe_workloads_equals_kubectls(kctl, kubectl, namespace, kind):
    kctl("create", "-n", namespace, "-f", "-", stdin=WORKLOADS)
    uid = kctl("get", "deploy", "web", "-n", namespace, "-o",
               "jsonpath={.metadata.uid}").out
    # The ReplicaSet the deployment controller would make (the session's
    # server runs no controllers).
    kctl("create", "-n", namespace, "-f", "-", stdin=REPLICA_SET.format(uid=uid))
    # `rollout undo` copies a template back with this JSON patch's null.
    kctl("patch", "deploy", "web", "-n", namespace, "--type", "json", "-p",
         '[{"op": "add", "path": "/spec/template/metadata/creationTimestamp", '
         '"value": null}]')

    ours = kctl("describe", kind, "-n", namespace, "--show-events=false")
    theirs = kubectl("describe", kind, "-n", namespace, "--show-events=false")

    assert ours.out == theirs.stdout
    assert "Pod Template:\n  Labels:  app=" in ours.out
    if kind == "deployment":
        assert re.search(r"\nNewReplicaSet: +web-5d4f8 \(0/0 replicas created\)\n",
                         ours.out)


def test_describe_service_equals_kubectls(kctl, kubectl, namespace):
    kctl("create", "-n", namespace, "-f", "-", stdin=(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels:\n"
        "    app: web\nspec:\n  selector:\n    app: web\n  ports:\n"
        "  - name: http\n    port: 80\n    targetPort: 8080\n"))

    ours = kctl("describe", "svc", "web", "-n", namespace)
    theirs = kubectl("describe", "svc", "web", "-n", namespace)

    assert (ours.code, ours.err) == (0, "")
    assert ours.out == theirs.stdout


def test_describe_by_selector_separates_pages_as_kubectl(kctl, kubectl, namespace):
    for name, app in (("a", "web"), ("b", "db"), ("c", "web")):
        kctl("create", "-n", namespace, "-f", "-", stdin=pod_manifest(name, app=app))

    ours = kctl("describe", "pods", "-l", "app=web", "-n", namespace)
    theirs = kubectl("describe", "pods", "-l", "app=web", "-n", namespace)

    assert ours.out == theirs.stdout
    assert re.findall(r"^Name: +(\S+)$", ours.out, re.M) == ["a", "c"]


@pytest.fixture
def node_name(kctl):
    """A Node made through the API, with no kubelet and no Lease behind it."""
    name = "described-" + uuid.uuid4().hex[:8]
    yield name
    kctl("delete", "node", name, "--ignore-not-found")


@pytest.mark.parametrize("status", [
    "",
    "spec:\n  podCIDR: 10.244.1.0/24\n  podCIDRs: [10.244.1.0/24]\n"
    "  providerID: kind://docker/n\n  taints: [{key: gpu, value: 'yes', "
    "effect: NoSchedule}]\nstatus:\n  addresses: [{type: InternalIP, "
    "address: 10.1.2.3}]\n  capacity: {cpu: '4', memory: 8Gi, pods: '110'}\n"
    "  allocatable: {cpu: '4', memory: 8Gi, pods: '110'}\n"
    "  nodeInfo: {machineID: m, kernelVersion: '6.1', architecture: amd64}\n",
], ids=["bare", "filled-in"])
def test_describe_node_equals_kubectls(kctl, kubectl, node_name, status):
    kctl("create", "-f", "-", stdin=f"apiVersion: v1\nkind: Node\nmetadata:\n"
         f"  name: {node_name}\n{status}")

    ours = kctl("describe", "node", node_name)
    theirs = kubectl("describe", "node", node_name)

    assert (ours.code, ours.err) == (0, "")
    assert ours.out == theirs.stdout


def test_describe_namespace_and_node_less_cluster(kctl, kubectl, namespace):
    ours = kctl("describe", "ns", namespace)
    theirs = kubectl("describe", "ns", namespace)

    assert ours.out == theirs.stdout


def test_describe_missing_object(kctl, namespace):
    done = kctl("describe", "pod", "nope", "-n", namespace)

    assert (done.code, done.err) == (1, 'Error from server (NotFound): pods "nope" '
                                        'not found\n')


def test_wait_for_jsonpath_and_for_an_object_that_appears_later(kctl, namespace):
    def create_later():
        time.sleep(0.5)
        kctl("create", "-n", namespace, "-f", "-", stdin=pod_manifest("late"))

    thread = threading.Thread(target=create_later)
    thread.start()
    done = kctl("wait", "pod/late", "-n", namespace, "--timeout", "20s",
                "--for", "jsonpath={.status.phase}=Pending",
                "--for", "jsonpath={.metadata.name}")
    thread.join()

    assert (done.code, done.out) == (0, "pod/late condition met\n")


def test_wait_times_out_with_exit_1(kctl, namespace):
    kctl("create", "-n", namespace, "-f", "-", stdin=pod_manifest("p"))

    done = kctl("wait", "pod/p", "-n", namespace, "--for=condition=Ready",
                "--timeout", "0.3s")

    assert done.code == 1
    assert done.err == "error: timed out waiting for the condition on pods/p\n"


def _set_ready(kctl, namespace: str, name: str, status: str) -> None:
    """What a kubelet would report: the pod's Ready condition."""
    patch = ('{"status":{"conditions":[{"type":"Ready","status":"%s"}]}}' % status)
    done = kctl("patch", "pod", name, "-n", namespace, "--subresource", "status",
                "--type", "merge", "-p", patch)
    assert done.code == 0, done.err


@pytest.mark.parametrize("reported, condition", [
    ("True", "condition=Ready"),
    ("True", "condition=Ready=true"),
    ("False", "condition=Ready=False"),
], ids=["ready", "ready-true", "ready-false"])
def test_wait_for_a_condition_that_holds_succeeds_as_kubectl(
        kctl, kubectl, namespace, reported, condition):
    kctl("create", "-n", namespace, "-f", "-", stdin=pod_manifest("p"))
    _set_ready(kctl, namespace, "p", reported)

    ours = kctl("wait", "pod/p", "-n", namespace, f"--for={condition}",
                "--timeout", "10s")
    theirs = kubectl("wait", "pod/p", "-n", namespace, f"--for={condition}",
                     "--timeout", "10s")

    assert (ours.code, ours.out, ours.err) == (0, "pod/p condition met\n", "")
    assert (theirs.returncode, theirs.stdout) == (0, ours.out)


def test_wait_for_ready_false_is_not_met_by_a_ready_pod(kctl, namespace):
    kctl("create", "-n", namespace, "-f", "-", stdin=pod_manifest("p"))
    _set_ready(kctl, namespace, "p", "True")

    done = kctl("wait", "pod/p", "-n", namespace, "--for=condition=Ready=False",
                "--timeout", "0.5s")

    assert (done.code, done.err) == (
        1, "error: timed out waiting for the condition on pods/p\n")


def test_wait_for_delete(kctl, namespace):
    kctl("create", "-n", namespace, "-f", "-", stdin=pod_manifest("gone"))

    def delete_later():
        time.sleep(0.5)
        kctl("delete", "pod", "gone", "-n", namespace, "--wait=false")

    thread = threading.Thread(target=delete_later)
    thread.start()
    done = kctl("wait", "--for=delete", "pod/gone", "-n", namespace,
                "--timeout", "20s")
    thread.join()

    assert (done.code, done.out) == (0, "pod/gone condition met\n")


@pytest.mark.parametrize("target", [["pod/never"], ["pods", "-l", "app=none"]],
                         ids=["missing-name", "empty-selector"])
def test_wait_for_delete_of_nothing_succeeds_silently(kctl, namespace, target):
    done = kctl("wait", "--for=delete", *target, "-n", namespace, "--timeout", "1s")

    assert (done.code, done.out, done.err) == (0, "", "")


@pytest.mark.parametrize("condition, message", [
    ("bogus", 'unrecognized condition: "bogus"'),
    ("jsonpath={.status.phase=x", "unexpected path string, expected a "
     "'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'"),
    ("jsonpath={.items[}=1", "unterminated array"),
], ids=["unknown", "unclosed-brace", "bad-jsonpath"])
def test_wait_with_a_bad_condition_is_one_line(kctl, namespace, condition, message):
    done = kctl("wait", "pod/p", "-n", namespace, f"--for={condition}")

    assert (done.code, done.err) == (2, f"error: {message}\n")


def test_api_resources_equals_kubectls(kctl, kubectl):
    for args in ([], ["--namespaced=false"], ["-o", "name"], ["-o", "wide"],
                 ["--sort-by=kind", "--no-headers"], ["--sort-by=name"]):
        ours = kctl("api-resources", *args)
        theirs = kubectl("api-resources", *args)

        assert ours.out == theirs.stdout, args


def test_version_and_cluster_info(kctl, api_server):
    version = kctl("version")
    info = kctl("cluster-info")

    assert version.out.startswith("Client Version: v0.1.0\nServer Version: v1.")
    assert info.out.startswith(
        f"Kubernetes control plane is running at {api_server.url}\n")


def _kubeconfig(path, name, server, namespace=None, current=None):
    ns = f"\n    namespace: {namespace}" if namespace else ""
    cur = f"current-context: {current}\n" if current else ""
    path.write_text(
        f"apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster:\n"
        f"    server: {server}\nusers:\n- name: {name}\n  user:\n"
        f"    token: secret-{name}\ncontexts:\n- name: {name}\n  context:\n"
        f"    cluster: {name}\n    user: {name}{ns}\n{cur}")


def test_config_merges_kubeconfig_files_first_wins(kctl_env):
    first, second = kctl_env / "one", kctl_env / "two"
    _kubeconfig(first, "a", "http://127.0.0.1:1", current="a")
    _kubeconfig(second, "b", "http://127.0.0.1:2", namespace="team", current="b")
    env = {"HOME": str(kctl_env), "KUBECONFIG": f"{first}:{second}"}

    contexts = run_program("config", "get-contexts", env=env)
    current = run_program("config", "current-context", env=env)
    view = run_program("config", "view", env=env)
    switched = run_program("config", "use-context", "b", env=env)
    after = run_program("config", "current-context", env=env)
    missing = run_program("config", "use-context", "zz", env=env)

    assert contexts.out == ("CURRENT   NAME   CLUSTER   AUTHINFO   NAMESPACE\n"
                            "*         a      a         a          \n"
                            "          b      b         b          team\n")
    assert current.out == "a\n"
    assert "token: REDACTED" in view.out and "secret-a" not in view.out
    assert switched.out == 'Switched to context "b".\n'
    assert after.out == "b\n"
    assert "current-context: b" in first.read_text()
    assert (missing.code, missing.err) == (
        1, 'error: no context exists with the name: "zz"\n')


def test_kubeconfig_context_namespace_and_flags(api_server, kctl_env, namespace):
    path = kctl_env / "config"
    _kubeconfig(path, "c", api_server.url, namespace=namespace, current="c")
    env = {"HOME": str(kctl_env), "XDG_CACHE_HOME": str(kctl_env / "cache")}

    from_context = run_program("--kubeconfig", str(path), "get", "pods", env=env)
    from_flag = run_program("get", "pods", "--kubeconfig", str(path),
                            "-n", "kube-system", env=env)
    bad_context = run_program("get", "pods", "--kubeconfig", str(path),
                              "--context", "nope", env=env)

    assert from_context.err == f"No resources found in {namespace} namespace.\n"
    assert from_flag.err == "No resources found in kube-system namespace.\n"
    assert (bad_context.code, bad_context.err) == (
        1, "error: context was not found for specified context: nope\n")


@pytest.mark.parametrize("text, problem", [
    ("garbage: [\n", "yaml: line 1: did not find expected node content"),
    ("a: b\n  c: d: e\n", "yaml: line 2: mapping values are not allowed in "
     "this context"),
    ("a:\n\tb: c\n", "yaml: line 2: found character that cannot start any "
     "token"),
], ids=["unclosed-flow", "mapping-value", "tab"])
def test_a_kubeconfig_that_does_not_parse_is_kubectls_one_line(kctl_env, text,
                                                               problem):
    path = kctl_env / "badkc"
    path.write_text(text)
    env = {"HOME": str(kctl_env), "XDG_CACHE_HOME": str(kctl_env / "cache")}

    done = run_program("--kubeconfig", "badkc", "get", "pods", env=env,
                       cwd=str(kctl_env))

    assert (done.code, done.out, done.err) == (
        1, "", f'error: error loading config file "badkc": {problem}\n')
    if KUBECTL:
        theirs = subprocess.run([KUBECTL, "--kubeconfig", "badkc", "get", "pods"],
                                env=env, cwd=kctl_env, capture_output=True,
                                text=True, timeout=60)
        assert (theirs.returncode, theirs.stderr) == (done.code, done.err)


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")
@pytest.mark.parametrize("order", ["one-two", "two-one"])
@pytest.mark.parametrize("flags", [[], ["-o", "json"], ["--minify", "-o", "json"],
                                   ["--raw"]], ids=["yaml", "json", "minify", "raw"])
def test_config_view_equals_kubectls(kctl_env, order, flags):
    files = {"one": kctl_env / "one", "two": kctl_env / "two"}
    _kubeconfig(files["one"], "zeta", "http://127.0.0.1:1", current="zeta")
    _kubeconfig(files["two"], "alpha", "http://127.0.0.1:2", namespace="team",
                current="alpha")
    kubeconfig = ":".join(str(files[name]) for name in order.split("-"))
    env = {"HOME": str(kctl_env), "KUBECONFIG": kubeconfig}

    ours = run_program("config", "view", *flags, env=env)
    theirs = subprocess.run([KUBECTL, "config", "view", *flags], env=env,
                            capture_output=True, text=True, timeout=60)

    assert (ours.code, ours.out) == (theirs.returncode, theirs.stdout)


def test_wait_for_create_as_kubectl(api_server, kctl, kubectl, namespace):
    import threading

    import requests

    kctl("create", "configmap", "there", "--from-literal=a=1", "-n", namespace)
    later = threading.Timer(0.5, lambda: requests.post(
        f"{api_server.url}/api/v1/namespaces/{namespace}/configmaps", timeout=10,
        json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "later"}}))
    later.start()

    there = kctl("wait", "--for=create", "cm/there", "-n", namespace, "--timeout=5s")
    came = kctl("wait", "--for=create", "cm/later", "-n", namespace, "--timeout=10s")
    never = kctl("wait", "--for=create", "cm/never", "-n", namespace, "--timeout=1s")
    theirs = kubectl("wait", "--for=create", "cm/never", "-n", namespace,
                     "--timeout=1s")
    later.join()

    assert (there.code, there.out) == (0, "configmap/there condition met\n")
    assert (came.code, came.out) == (0, "configmap/later condition met\n")
    assert (never.code, never.err) == (1, "error: timed out waiting for the condition\n")
    assert (theirs.returncode, theirs.stderr) == (1, never.err)
