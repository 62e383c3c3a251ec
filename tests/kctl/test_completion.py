"""Completion scripts stay in step with the code; completion offers live names."""

from __future__ import annotations

import os
import socket
import time

import pytest

from kctl.commands.completion import SHELLS, script
from kctl.completion import TIMEOUT as COMPLETION_TIMEOUT
from tests.kctl.conftest import REPO, pod_manifest, run_program


@pytest.mark.parametrize("shell", SHELLS)
def test_checked_in_script_matches_what_kctl_prints(shell):
    with open(os.path.join(REPO, "completions", f"kctl.{shell}")) as f:
        assert f.read() == script(shell)


def _complete(api_server, kctl_env, words: str) -> list[str]:
    env = {"HOME": str(kctl_env), "XDG_CACHE_HOME": str(kctl_env / "cache"),
           "KUBECONFIG": str(kctl_env / "kubeconfig"),
           "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1),
           "_KCTL_COMPLETE": "bash_complete"}
    (kctl_env / "kubeconfig").write_text(
        f"apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
        f"    server: {api_server.url}\ncontexts:\n- name: c\n  context:\n"
        f"    cluster: c\ncurrent-context: c\n")
    done = run_program(env=env)
    assert done.code == 0
    assert done.err == ""
    return [line.split(",", 1)[1] for line in done.out.splitlines()]


def test_completes_commands_flags_types_and_live_names(api_server, kctl_env,
                                                       kctl):
    kctl("create", "-f", "-", stdin=pod_manifest("completion-target"))

    try:
        assert "describe" in _complete(api_server, kctl_env, "kctl des")
        assert "--show-labels" in _complete(api_server, kctl_env, "kctl get --sh")
        assert {"pods", "pod", "po"} <= set(
            _complete(api_server, kctl_env, "kctl get po"))
        assert _complete(api_server, kctl_env, "kctl get pods completion-") == \
            ["completion-target"]
        assert _complete(api_server, kctl_env, "kctl delete pod/completion-") == \
            ["pod/completion-target"]
    finally:
        kctl("delete", "pod", "completion-target", "--wait=false")


def test_completion_is_silent_when_the_server_is_down(kctl_env):
    (kctl_env / "kubeconfig").write_text(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
        "    server: http://127.0.0.1:9\ncontexts:\n- name: c\n  context:\n"
        "    cluster: c\ncurrent-context: c\n")
    env = {"HOME": str(kctl_env), "XDG_CACHE_HOME": str(kctl_env / "cache"),
           "KUBECONFIG": str(kctl_env / "kubeconfig"),
           "COMP_WORDS": "kctl get pods x", "COMP_CWORD": "3",
           "_KCTL_COMPLETE": "bash_complete"}

    done = run_program(env=env)

    assert (done.code, done.out.strip(), done.err) == (0, "", "")


def test_completion_gives_up_on_a_server_that_never_answers(kctl_env):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        (kctl_env / "kubeconfig").write_text(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
            f"    server: http://127.0.0.1:{silent.getsockname()[1]}\n"
            "contexts:\n- name: c\n  context:\n    cluster: c\n"
            "current-context: c\n")
        env = {"HOME": str(kctl_env), "XDG_CACHE_HOME": str(kctl_env / "cache"),
               "KUBECONFIG": str(kctl_env / "kubeconfig"),
               "COMP_WORDS": "kctl get pods x", "COMP_CWORD": "3",
               "_KCTL_COMPLETE": "bash_complete"}

        started = time.monotonic()
        done = run_program(env=env, timeout=30)
        took = time.monotonic() - started

    assert (done.code, done.out.strip(), done.err) == (0, "", "")
    # The short completion timeout, not kubectl's 32 s request timeout.
    assert took < COMPLETION_TIMEOUT + 4, f"completion took {took:.1f}s"
