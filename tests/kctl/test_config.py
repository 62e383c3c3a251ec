"""Which kubeconfig entry or flag decides each connection setting."""

from __future__ import annotations

import base64
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request

import pytest

from kctl import config
from tests.conftest import KUBECTL, free_port
from tests.kctl.conftest import REPO, run_program


def _certificate(directory, name: str):
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)], capture_output=True)
    assert made.returncode == 0, made.stderr
    return cert, key


def _kubeconfig(path, server: str, cluster_tls: str) -> None:
    path.write_text(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
        f"    server: {server}\n{cluster_tls}"
        "users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: c\n  context:\n"
        "    cluster: c\n    user: u\ncurrent-context: c\n")


CA_DATA = "    certificate-authority-data: " + base64.b64encode(b"CA").decode() + "\n"
INSECURE = "    insecure-skip-tls-verify: true\n"


# client-go: --certificate-authority or --insecure-skip-tls-verify=true replaces
# the cluster's CA file, CA data and insecure setting together.
@pytest.mark.parametrize("cluster_tls, flags, expected", [
    (CA_DATA, {"certificate_authority": "f.crt"}, (False, "f.crt", None)),
    (CA_DATA, {}, (False, None, b"CA")),
    (INSECURE, {"certificate_authority": "f.crt"}, (False, "f.crt", None)),
    (CA_DATA, {"insecure_skip_tls_verify": True}, (True, None, None)),
    (INSECURE, {"insecure_skip_tls_verify": False}, (True, None, None)),
], ids=["flag-over-data", "data", "flag-over-insecure", "insecure-flag",
        "explicit-false-changes-nothing"])
def test_a_tls_flag_replaces_the_clusters_tls_settings(tmp_path, cluster_tls, flags,
                                                       expected):
    path = tmp_path / "kubeconfig"
    _kubeconfig(path, "https://127.0.0.1:1", cluster_tls)

    conn = config.resolve(config.Overrides(kubeconfig=str(path), **flags))

    assert (conn.insecure, conn.ca_file, conn.ca_data) == expected


def _tls_server(tmp_path, *args: str):
    cert, key = _certificate(tmp_path, "server")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "--no-node", "--no-controllers",
         "--port", str(port), "--data-dir", str(tmp_path / "data"),
         "--tls-cert-file", str(cert), "--tls-private-key-file", str(key), *args],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"https://127.0.0.1:{port}"
    _wait_ready(url, ssl.create_default_context(cafile=str(cert)))
    return process, url, cert


@pytest.fixture
def tls_server(tmp_path):
    process, url, cert = _tls_server(tmp_path)
    yield url, cert
    process.send_signal(signal.SIGTERM)
    process.wait(15)


def _wait_ready(url: str, context, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/readyz", context=context, timeout=1)
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not become ready")


def test_certificate_authority_flag_wins_over_kubeconfig_data(tls_server, tmp_path):
    url, cert = tls_server
    other, _ = _certificate(tmp_path, "other")
    path = tmp_path / "kubeconfig"
    data = base64.b64encode(other.read_bytes()).decode()
    _kubeconfig(path, url, f"    certificate-authority-data: {data}\n")
    env = {"HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    args = ["--kubeconfig", str(path), "get", "namespace", "default", "-o", "name"]

    refused = run_program(*args, env=env)
    flagged = run_program("--certificate-authority", str(cert), *args, env=env)

    assert refused.code == 1 and "certificate" in refused.err
    assert (flagged.code, flagged.out, flagged.err) == (0, "namespace/default\n", "")
    if KUBECTL:
        theirs = subprocess.run(
            [KUBECTL, "--certificate-authority", str(cert), *args],
            env={**env, "PATH": os.environ.get("PATH", "")}, capture_output=True,
            text=True, timeout=60)
        assert (theirs.returncode, theirs.stdout) == (0, flagged.out)


@pytest.fixture
def token_server(start_server, tmp_path):
    tokens = tmp_path / "tokens.csv"
    tokens.write_text("s3cret,alice,1000\n")
    return start_server("--token-file", str(tokens))


# A plain get goes through kctl.fastpath, any other through click: each reads
# --token itself.
@pytest.mark.parametrize("args", [
    ["get", "namespace", "default", "-o", "name"],
    ["get", "namespace", "default", "-o", "name", "--chunk-size", "10"],
], ids=["fastpath", "click"])
def test_token_flag_is_sent_as_a_bearer_token(token_server, kctl_env, args):
    env = {"HOME": str(kctl_env), "XDG_CACHE_HOME": str(kctl_env / "cache")}

    done = run_program("-s", token_server.url, "--token", "s3cret", *args, env=env)

    assert (done.code, done.out, done.err) == (0, "namespace/default\n", "")


@pytest.fixture
def tls_token_server(tmp_path):
    tokens = tmp_path / "tokens.csv"
    tokens.write_text("s3cret,alice,1000\n")
    process, url, cert = _tls_server(tmp_path, "--token-file", str(tokens))
    yield url, cert
    process.send_signal(signal.SIGTERM)
    process.wait(15)


def test_insecure_skip_tls_verify_accepts_a_certificate_no_ca_signed(
        tls_server, tmp_path):
    url, _ = tls_server
    env = {"HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    args = ["-s", url, "get", "namespace", "default", "-o", "name"]

    refused = run_program(*args, env=env)
    skipped = run_program("--insecure-skip-tls-verify", *args, env=env)

    assert refused.code == 1 and "certificate verify failed" in refused.err
    assert (skipped.code, skipped.out, skipped.err) == (0, "namespace/default\n", "")
    if KUBECTL:
        # Over https without credentials kubectl asks for a username; a token
        # the server does not check keeps it from asking.
        theirs = subprocess.run(
            [KUBECTL, "--insecure-skip-tls-verify", "--token", "unchecked", *args],
            env={**env, "KUBECONFIG": os.devnull,
                 "PATH": os.environ.get("PATH", "")},
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        assert (theirs.returncode, theirs.stdout) == (0, skipped.out)


def test_certificate_authority_and_token_come_from_the_kubeconfig(
        tls_token_server, tmp_path):
    url, cert = tls_token_server
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
        f"    server: {url}\n    certificate-authority: {cert}\n"
        "users:\n- name: u\n  user: {token: s3cret}\ncontexts:\n- name: c\n"
        "  context:\n    cluster: c\n    user: u\ncurrent-context: c\n")
    env = {"HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "KUBECONFIG": str(path)}

    done = run_program("get", "namespace", "default", "-o", "name", env=env)

    assert (done.code, done.out, done.err) == (0, "namespace/default\n", "")


def test_without_kubeconfig_flag_or_variable_home_kube_config_is_read(
        api_server, tmp_path):
    (tmp_path / ".kube").mkdir()
    (tmp_path / ".kube" / "config").write_text(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
        f"    server: {api_server.url}\ncontexts:\n- name: c\n  context:\n"
        "    cluster: c\n    namespace: kube-system\ncurrent-context: c\n")
    env = {"HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache")}

    done = run_program("get", "pods", env=env)

    assert (done.code, done.out) == (0, "")
    assert done.err == "No resources found in kube-system namespace.\n"


def test_serve_never_writes_the_users_kubeconfig(tmp_path):
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": REPO,
           "HOME": str(tmp_path)}
    port = free_port()
    serving = subprocess.Popen(
        [sys.executable, "-m", "kctl.main", "serve", "--no-node",
         "--no-controllers", "--port", str(port)], cwd=REPO, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = serving.stdout.readline()
    finally:
        os.kill(serving.pid, signal.SIGTERM)
        serving.wait(15)

    kubeconfig = tmp_path / ".local" / "share" / "kctl" / "kubeconfig"
    assert line == f"export KUBECONFIG={kubeconfig}\n"
    assert serving.returncode == 0
    assert not (tmp_path / ".kube").exists()


@pytest.mark.parametrize("server, tls, expected", [
    ("127.0.0.1:6443", {}, "http://127.0.0.1:6443"),
    ("notaurl", {}, "http://notaurl"),
    ("127.0.0.1:6443", {"insecure_skip_tls_verify": True}, "https://127.0.0.1:6443"),
    ("127.0.0.1:6443", {"certificate_authority": "ca.crt"},
     "https://127.0.0.1:6443"),
    ("https://h:1", {}, "https://h:1"),
], ids=["plain", "bare-word", "insecure", "ca", "scheme-kept"])
def test_a_server_without_a_scheme_is_http_unless_tls_is_set(kctl_env, server, tls,
                                                            expected):
    overrides = config.Overrides(server=server, **tls)

    assert config.resolve(overrides).server == expected


def test_a_host_and_port_without_a_scheme_reaches_the_server(kctl, kubectl,
                                                             api_server):
    address = api_server.url.removeprefix("http://")

    ours = kctl("-s", address, "get", "namespace", "default", "-o", "name")
    theirs = kubectl("-s", address, "get", "namespace", "default", "-o", "name")

    assert (ours.code, ours.out) == (theirs.returncode, theirs.stdout)
    assert ours.out == "namespace/default\n"


def test_connection_flags_after_the_config_group(tmp_path):
    path = tmp_path / "config"
    path.write_text("apiVersion: v1\nkind: Config\ncurrent-context: here\n"
                    "contexts:\n- name: here\n  context: {cluster: c}\n")
    env = {"HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "none")}

    done = run_program("config", "--kubeconfig", str(path), "current-context",
                       env=env)

    assert (done.code, done.out, done.err) == (0, "here\n", "")
