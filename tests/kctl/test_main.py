"""The error boundary: one line on stderr, documented exit codes, no traceback."""

from __future__ import annotations

import socket
import subprocess

import pytest

from tests.conftest import KUBECTL, free_port, run_kubectl
from tests.kctl.conftest import run_program


@pytest.mark.parametrize("command", [["get", "pods"], ["describe", "pods"],
                                     ["delete", "pod", "x"]],
                         ids=["fastpath-get", "describe", "delete"])
def test_server_down_is_one_line_and_exits_1(kctl_env, command):
    port = free_port()

    done = run_program(*command, "-s", f"http://127.0.0.1:{port}",
                       env={"HOME": str(kctl_env)})

    assert (done.code, done.out) == (1, "")
    assert done.err == (f"error: cannot reach the API server at "
                        f"http://127.0.0.1:{port} (connection refused); is kctl "
                        "serve running?\n")


def test_a_server_that_never_answers_is_given_up_within_the_request_timeout(
        kctl_env):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = "http://127.0.0.1:%d" % silent.getsockname()[1]

        done = run_program("get", "pods", "-s", url, "--request-timeout", "1s",
                           env={"HOME": str(kctl_env)})

    assert (done.code, done.out) == (1, "")
    assert done.err == f"error: cannot reach the API server at {url} (timed out)\n"


def test_no_config_talks_to_the_default_address(kctl_env):
    env = {"HOME": str(kctl_env), "KUBECONFIG": str(kctl_env / "missing")}

    done = run_program("get", "pods", env=env)

    assert "the API server at http://127.0.0.1:8080 (connection refused)" in done.err


def test_usage_error_exits_2_without_traceback(kctl_env):
    done = run_program("get", "pods", "--no-such-flag", env={"HOME": str(kctl_env)})

    assert done.code == 2
    assert done.err.startswith("error: No such option '--no-such-flag'")
    assert "Traceback" not in done.err


def test_unknown_command_exits_2(kctl_env):
    done = run_program("frobnicate", env={"HOME": str(kctl_env)})

    assert (done.code, done.err) == (2, "error: No such command 'frobnicate'.\n")


def test_debug_adds_the_traceback(kctl_env):
    url = f"http://127.0.0.1:{free_port()}"

    done = run_program("--debug", "get", "pods", "-s", url,
                       env={"HOME": str(kctl_env)})

    assert done.code == 1
    assert "Traceback (most recent call last)" in done.err
    assert done.err.rstrip().endswith("(connection refused); is kctl serve running?")


def test_server_error_is_kubectls_line(kctl):
    done = kctl("get", "pod", "does-not-exist")

    assert done.code == 1
    assert done.err == 'Error from server (NotFound): pods "does-not-exist" not found\n'


def test_unknown_type_exits_1(kctl):
    done = kctl("get", "gizmos")

    assert (done.code, done.err) == (
        1, 'error: the server doesn\'t have a resource type "gizmos"\n')


@pytest.mark.parametrize("verb", ["get", "describe"])
def test_no_resource_type_fails_with_1_as_in_kubectl(kctl, kubectl, verb):
    done = kctl(verb)
    theirs = kubectl(verb)

    # kubectl reports it as a failed command, not a usage error (docs/cli.md).
    assert (done.code, done.out) == (theirs.returncode, "") == (1, "")
    assert done.err == (f"error: You must specify the type of resource to {verb}. "
                        'Use "kctl api-resources" for a complete list of supported '
                        "resources.\n")


@pytest.fixture
def token_server(start_server, tmp_path):
    tokens = tmp_path / "tokens.csv"
    tokens.write_text("s3cret,admin,1\n")
    return start_server("--token-file", str(tokens))


def test_unauthorized_is_kubectls_logged_in_line(token_server, kctl_env):
    env = {"HOME": str(kctl_env), "XDG_CACHE_HOME": str(kctl_env / "cache")}
    args = ["-s", token_server.url, "get", "pods"]

    cold = run_program(*args, "--token", "bad", env=env)
    discovered = run_program(*args, "--token", "s3cret", env=env)
    warm = run_program(*args, env=env)

    # With discovery to fetch, the 401 is discovery's and client-go words it
    # itself; with discovery cached, kubectl prints the server's message.
    assert (cold.code, cold.out, cold.err) == (
        1, "", "error: You must be logged in to the server (the server has asked "
        "for the client to provide credentials)\n")
    if KUBECTL:
        theirs = run_kubectl(token_server, "--token", "bad", "get", "pods")
        assert (theirs.returncode, theirs.stderr.splitlines()[-1]) == (
            1, cold.err.rstrip("\n"))
    assert discovered.code == 0, discovered.err
    assert (warm.code, warm.err) == (
        1, "error: You must be logged in to the server (Unauthorized)\n")


def test_bare_kctl_prints_help_and_succeeds(kctl_env):
    done = run_program(env={"HOME": str(kctl_env)})

    assert done.code == 0
    assert "get" in done.out and "Commands" in done.out


def test_version_with_the_server_down_prints_the_client_first_as_kubectl(
        kctl_env):
    url = f"http://127.0.0.1:{free_port()}"

    done = run_program("version", "-s", url, env={"HOME": str(kctl_env)})

    assert (done.code, done.out) == (1, "Client Version: v0.1.0\n")
    assert done.err == (f"error: cannot reach the API server at {url} (connection "
                        f"refused); is kctl serve running?\n")
    if KUBECTL:
        theirs = subprocess.run([KUBECTL, "version", "-s", url], text=True,
                                capture_output=True,
                                env={"HOME": str(kctl_env), "KUBECONFIG": ""})
        assert theirs.returncode == done.code
        assert theirs.stdout.startswith("Client Version: ")


@pytest.mark.parametrize("args, first_line", [
    ([], "error: Shell not specified."),
    (["tcsh"], 'error: Unsupported shell type "tcsh".'),
    (["bash", "zsh"], "error: Too many arguments. Expected only the shell type."),
], ids=["none", "unknown", "two"])
def test_completion_refusals_are_kubectls_lines(kctl_env, args, first_line):
    done = run_program("completion", *args, env={"HOME": str(kctl_env)})

    assert (done.code, done.out) == (1, "")
    assert done.err == (f"{first_line}\n"
                        "See 'kctl completion -h' for help and examples\n")
    if KUBECTL:
        theirs = subprocess.run([KUBECTL, "completion", *args], text=True,
                                capture_output=True, env={"HOME": str(kctl_env)})
        assert (theirs.returncode, theirs.stderr.splitlines()[0]) == (1, first_line)
