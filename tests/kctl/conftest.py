"""Helpers for kctl's tests: run the CLI in-process or as a real program.

Every run gets a kubeconfig-free environment pointing at the server under test
and its own discovery cache directory, so the user's files are never read.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from dataclasses import dataclass

import pytest

from kctl.main import main

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclass
class Result:
    code: int
    out: str
    err: str


class _Out(io.StringIO):
    def __init__(self, tty: bool = False):
        super().__init__()
        self._tty = tty
        self.buffer = io.BytesIO()

    def isatty(self) -> bool:
        return self._tty

    def getvalue(self) -> str:  # logs writes bytes to .buffer
        return super().getvalue() + self.buffer.getvalue().decode("utf-8")


@pytest.fixture
def kctl_env(tmp_path, monkeypatch):
    """No kubeconfig of the user's; a private discovery cache."""
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def run_inprocess(*args: str, stdin: str | None = None, tty: bool = False,
                  monkeypatch=None) -> Result:
    out, err = _Out(tty), _Out()
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(list(args), out=out, err=err)
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def kctl(api_server, kctl_env, monkeypatch):
    """Run kctl in-process against the session server: kctl("get", "pods")."""

    def run(*args: str, stdin: str | None = None, tty: bool = False) -> Result:
        return run_inprocess("-s", api_server.url, *args, stdin=stdin, tty=tty,
                             monkeypatch=monkeypatch)

    return run


def run_program(*args: str, env: dict | None = None, stdin: str | None = None,
                timeout: float = 60, cwd: str = REPO) -> Result:
    """kctl as a separate program, for exit codes and bytes on the pipes."""
    full_env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": REPO,
                **(env or {})}
    done = subprocess.run([sys.executable, "-m", "kctl.main", *args],
                          input=stdin, capture_output=True, text=True,
                          timeout=timeout, env=full_env, cwd=cwd)
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def kctl_program(api_server, kctl_env):
    env = {"HOME": str(kctl_env), "KUBECONFIG": str(kctl_env / "none"),
           "XDG_CACHE_HOME": str(kctl_env / "cache")}

    def run(*args: str, stdin: str | None = None) -> Result:
        return run_program("-s", api_server.url, *args, env=env, stdin=stdin)

    return run


def pod_manifest(name: str, image: str = "nginx:1.25", **labels: str) -> str:
    label_lines = "".join(f"\n    {k}: {v}" for k, v in labels.items())
    return f"""apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels:{label_lines or ' {}'}
spec:
  containers:
  - name: {name}
    image: {image}
"""
