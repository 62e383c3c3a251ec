"""config set-context, get-clusters, get-users and view -o jsonpath: each run by
kctl and by kubectl on copies of the same kubeconfig files, then the outputs
and the files compared."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import KUBECTL
from tests.kctl.conftest import run_program

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")

SECOND = """apiVersion: v1
kind: Config
clusters:
- name: c1
  cluster: {server: "https://1.2.3.4", certificate-authority-data: QUJD}
users:
- name: u1
  user: {token: sekret}
- name: admin
  user: {username: a, password: b}
contexts:
- name: x
  context: {cluster: c1, user: u1}
current-context: x
"""
FIRST = "apiVersion: v1\nkind: Config\npreferences: {}\n"


def _homes(tmp_path, first: str | None):
    """Two identical homes, each with the files ``one`` (if given) and ``two``."""
    homes = []
    for who in ("kctl", "kubectl"):
        home = tmp_path / who
        home.mkdir()
        if first is not None:
            (home / "one").write_text(first)
        (home / "two").write_text(SECOND)
        homes.append(home)
    return homes


def _run(who: str, home, *args: str):
    env = {"HOME": str(home), "KUBECONFIG": f"{home / 'one'}:{home / 'two'}"}
    if who == "kctl":
        return run_program(*args, env=env)
    done = subprocess.run([KUBECTL, *args], env={**env, "PATH": ""},
                          capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout, done.stderr


def _both(tmp_path, first, *commands):
    """Each command line run in turn by both; (outputs, files) of each."""
    results = []
    for who, home in zip(("kctl", "kubectl"), _homes(tmp_path, first)):
        outputs = []
        for args in commands:
            done = _run(who, home, *args)
            outputs.append(tuple(done) if who == "kubectl" else
                           (done.code, done.out, done.err))
        files = {p.name: p.read_text() for p in sorted(home.iterdir())
                 if p.is_file()}
        results.append((outputs, files))
    return results


@pytest.mark.parametrize("first", [FIRST, None], ids=["first-exists",
                                                      "first-missing"])
def test_set_context_writes_the_file_kubectl_writes(tmp_path, first):
    commands = [
        ["config", "set-context", "x", "--namespace=team"],
        ["config", "set-context", "fresh", "--cluster=c1", "--user=u1"],
        ["config", "set-context", "bare"],
        ["config", "set-context", "--current", "--user=admin"],
        ["config", "get-contexts"],
    ]

    (ours, our_files), (theirs, their_files) = _both(tmp_path, first, *commands)

    assert ours == theirs
    assert our_files == their_files
    assert [line for _, line, _ in ours[:4]] == [
        'Context "x" modified.\n', 'Context "fresh" created.\n',
        'Context "bare" created.\n', 'Context "x" modified.\n']


@pytest.mark.parametrize("args", [
    ["config", "set-context"],
    ["config", "set-context", "a", "b"],
    ["config", "set-context", "x", "--current"],
], ids=["no-name", "two-names", "name-and-current"])
def test_set_context_refusals_are_kubectls(tmp_path, args):
    (ours, our_files), (theirs, their_files) = _both(tmp_path, FIRST, args)

    (code, out, err), (their_code, _, their_err) = ours[0], theirs[0]
    assert (code, out) == (their_code, "") == (1, "")
    assert err == their_err.splitlines(keepends=True)[0]
    assert our_files == their_files


def test_current_without_a_current_context_is_refused(tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("apiVersion: v1\nkind: Config\n")
    args = ["--kubeconfig", str(empty), "config", "set-context", "--current",
            "--namespace=x"]

    (ours, _), (theirs, _) = _both(tmp_path, FIRST, args)

    assert ours == theirs == [(1, "", "error: no current context is set\n")]


@pytest.mark.parametrize("args", [
    ["config", "get-clusters"],
    ["config", "get-users"],
    ["config", "view", "-o", "jsonpath={.users[*].name}"],
    ["config", "view", "-o", "jsonpath={range.users[*]}{.name}={.user.token};"
     "{end}"],
    ["config", "view", "--raw", "-o",
     "jsonpath={.users[?(@.name==\"u1\")].user.token}"],
    ["config", "view", "--minify", "-o",
     "jsonpath={.contexts[*].name} {.clusters[*].cluster.server}"],
], ids=["clusters", "users", "jsonpath", "jsonpath-range", "raw", "minify"])
def test_listings_and_jsonpath_equal_kubectls(tmp_path, args):
    (ours, _), (theirs, _) = _both(tmp_path, FIRST, args)

    assert ours == theirs
    assert ours[0][0] == 0 and ours[0][1]
