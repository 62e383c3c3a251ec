"""kctl create KIND NAME and kctl run build the objects kubectl builds from the
same flags: compared with kubectl --dry-run=client -o json, then created."""

from __future__ import annotations

import json
import re

import pytest


def objects_of(kctl, kubectl, args: list[str], namespace: str):
    """(kctl's object, kubectl's object) for the same dry-run command line."""
    flags = ["-n", namespace, "--dry-run=client", "-o", "json"]
    cut = args.index("--") if "--" in args else len(args)
    line = [*args[:cut], *flags, *args[cut:]]
    ours = kctl(*line)
    theirs = kubectl(*line)
    assert ours.code == 0, ours.err
    assert theirs.returncode == 0, theirs.stderr
    return json.loads(ours.out), json.loads(theirs.stdout)


@pytest.fixture
def files(tmp_path):
    (tmp_path / "app.conf").write_text("level=debug\n")
    (tmp_path / "logo.bin").write_bytes(b"\x89PNG\x00\xff")
    folder = tmp_path / "dir"
    folder.mkdir()
    (folder / "one").write_text("1")
    (folder / "two").write_text("2")
    (tmp_path / "vars.env").write_text("# settings\nA=1\n\nB=two words\n")
    import subprocess

    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=x", "-keyout", str(tmp_path / "tls.key"),
         "-out", str(tmp_path / "tls.crt")], capture_output=True)
    assert made.returncode == 0, made.stderr
    return tmp_path


@pytest.mark.parametrize("args", [
    ["create", "namespace", "dev"],
    ["create", "configmap", "cm", "--from-literal=a=1", "--from-literal=b=x=y"],
    ["create", "configmap", "cm", "--from-file={d}/app.conf",
     "--from-file=renamed={d}/logo.bin", "--from-file={d}/dir"],
    ["create", "configmap", "cm", "--from-env-file={d}/vars.env"],
    ["create", "secret", "generic", "s", "--from-literal=password=hunter2",
     "--from-file={d}/app.conf", "--type=example.com/custom"],
    ["create", "deployment", "web", "--image=nginx:1.25", "--replicas=3",
     "--port=80"],
    ["create", "deployment", "multi", "--image=registry.local:5000/team/api:v2",
     "--image=busybox@sha256:" + "a" * 64],
    ["create", "deployment", "cmd", "--image=busybox:1.36", "--", "sleep", "100"],
    ["create", "service", "clusterip", "svc", "--tcp=80:8080", "--tcp=443"],
    ["create", "service", "clusterip", "headless", "--clusterip=None",
     "--tcp=53:dns"],
    ["create", "service", "nodeport", "np", "--tcp=80:8080", "--node-port=30080"],
    ["create", "service", "loadbalancer", "lb", "--tcp=80"],
    ["create", "secret", "tls", "t", "--cert={d}/tls.crt", "--key={d}/tls.key"],
    ["create", "secret", "docker-registry", "reg", "--docker-server=reg.io",
     "--docker-username=u", "--docker-password=p", "--docker-email=e@x"],
    ["create", "secret", "docker-registry", "hub", "--docker-username=u",
     "--docker-password=p"],
    ["run", "p", "--image=busybox", "--", "sleep", "10"],
    ["run", "p", "--image=busybox:1.36", "--command", "--restart=Never",
     "--labels=app=x,tier=y", "--env=A=1", "--env=B=2", "--port=8080",
     "--image-pull-policy=IfNotPresent", "--", "sh", "-c", "echo hi"],
], ids=["namespace", "configmap-literals", "configmap-files", "configmap-env-file",
        "secret-generic", "deployment", "deployment-images", "deployment-command",
        "service-clusterip", "service-headless", "service-nodeport",
        "service-loadbalancer", "secret-tls", "secret-docker-registry",
        "secret-docker-hub", "run-args", "run-command"])
def test_the_object_is_kubectls(kctl, kubectl, namespace, files, args):
    args = [a.replace("{d}", str(files)) for a in args]

    ours, theirs = objects_of(kctl, kubectl, args, namespace)

    assert ours == theirs


def test_container_names_from_odd_images_get_a_suffix(kctl, kubectl, namespace):
    args = ["create", "deployment", "odd", "--image=reg.io/team/My_App.v2:1"]

    ours, theirs = objects_of(kctl, kubectl, args, namespace)

    names = [o["spec"]["template"]["spec"]["containers"][0]["name"]
             for o in (ours, theirs)]
    assert all(re.fullmatch(r"My-App-v2-[a-z0-9]{5}", n) for n in names), names


@pytest.mark.parametrize("args, line", [
    (["create", "namespace"], "error: exactly one NAME is required, got 0\n"
     "See 'kctl create namespace -h' for help and examples"),
    (["create", "configmap", "cm", "--from-literal=a"],
     "error: invalid literal source a, expected key=value"),
    (["create", "configmap", "cm", "--from-literal=a=1", "--from-literal=a=2"],
     'error: cannot add key "a", another key by that name already exists in Data '
     'for ConfigMap "cm"'),
    (["create", "configmap", "cm", "--from-file=/nonexistent"],
     "error: error reading /nonexistent: no such file or directory"),
    (["create", "service", "clusterip", "s", "--tcp=abc"],
     'error: strconv.ParseUint: parsing "abc": invalid syntax'),
    (["create", "deployment", "d", "--image=a", "--image=b", "--", "sleep", "1"],
     "error: cannot specify multiple --image options and command"),
    (["run", "p", "--image=x", "--restart=Sometimes"],
     "error: invalid restart policy: Sometimes\n"
     "See 'kctl run -h' for help and examples"),
    (["create", "secret", "tls", "t"], "error: key and cert must be specified"),
    (["create", "secret", "docker-registry", "d"],
     "error: either --from-file or the combination of --docker-username, "
     "--docker-password and --docker-server is required"),
], ids=["no-name", "literal-without-value", "duplicate-key", "missing-file",
        "bad-port", "images-and-command", "bad-restart", "tls-without-files",
        "registry-without-user"])
def test_mistakes_get_kubectls_line(kctl, kubectl, namespace, args, line):
    cut = args.index("--") if "--" in args else len(args)
    args = [*args[:cut], "-n", namespace, *args[cut:]]
    ours = kctl(*args)
    theirs = kubectl(*args)

    assert (ours.code, ours.out) == (1, "")
    assert ours.err == line + "\n"
    assert theirs.returncode == 1
    assert theirs.stderr == line.replace("'kctl ", "'kubectl ") + "\n"


def test_created_objects_are_stored_and_reported(kctl, namespace, api_server):
    lines = [
        kctl("create", "configmap", "settings", "--from-literal=level=debug",
             "-n", namespace),
        kctl("create", "deployment", "web", "--image=nginx:1.25", "-n", namespace),
        kctl("create", "service", "clusterip", "web", "--tcp=80", "-n", namespace),
        kctl("run", "solo", "--image=busybox", "-n", namespace, "--", "sleep", "5"),
        kctl("create", "secret", "generic", "creds", "--from-literal=k=v",
             "-n", namespace),
    ]
    created = kctl("create", "namespace", f"{namespace}-x")

    assert [r.out for r in lines] == [
        "configmap/settings created\n", "deployment.apps/web created\n",
        "service/web created\n", "pod/solo created\n", "secret/creds created\n"]
    assert created.out == f"namespace/{namespace}-x created\n"
    pod = json.loads(kctl("get", "pod", "solo", "-n", namespace, "-o", "json").out)
    assert pod["spec"]["containers"][0]["args"] == ["sleep", "5"]
    assert pod["metadata"]["labels"] == {"run": "solo"}
    secret = json.loads(kctl("get", "secret", "creds", "-n", namespace, "-o",
                             "json").out)
    assert secret["data"] == {"k": "dg=="} and secret["type"] == "Opaque"
    again = kctl("create", "namespace", f"{namespace}-x")
    assert again.code == 1 and again.err == (
        f'Error from server (AlreadyExists): namespaces "{namespace}-x" already '
        "exists\n")
    kctl("delete", "namespace", f"{namespace}-x", "--wait=false")


def test_server_dry_run_stores_nothing(kctl, namespace):
    done = kctl("create", "configmap", "ghost", "--from-literal=a=1", "-n",
                namespace, "--dry-run=server")

    assert done.out == "configmap/ghost created (server dry run)\n"
    assert kctl("get", "cm", "ghost", "-n", namespace).code == 1
