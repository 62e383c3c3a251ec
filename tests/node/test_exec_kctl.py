"""kctl exec against the server and an agent: the same bytes, lines and exit
codes as the real kubectl's, and a terminal for -it."""

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

import pytest

from tests.conftest import KUBECTL, run_kubectl
from tests.node.test_exec_kubectl import _read_all, pod  # noqa: F401 (a fixture)

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def kctl(api_server, *args, input=None):
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": REPO,
           "HOME": api_server.data_dir, "KUBECONFIG": os.devnull}
    return subprocess.run([sys.executable, "-m", "kctl.main", "-s", api_server.url,
                           *args], input=input, capture_output=True, text=True,
                          timeout=60, env=env)


@pytest.mark.parametrize("args, stdin", [
    (["-c", "app", "--", "echo", "hello", "world"], None),
    (["-c", "app", "--", "sh", "-c", "echo out; echo err >&2; exit 3"], None),
    (["-i", "-c", "app", "--", "cat"], "one\ntwo\n"),
    (["-c", "side", "--", "sh", "-c", "echo $GREETING"], None),
    (["--", "sh", "-c", "echo $GREETING"], None),
    (["-c", "app", "--", "sh", "-c", "kill -9 $$"], None),
    (["-c", "bogus", "--", "true"], None),
    (["-c", "app", "--", "no-such-command"], None),
    (["-t", "-c", "app", "--", "echo", "no tty"], None),
], ids=["output", "exit-code", "stdin", "container", "default-container",
        "killed", "no-such-container", "no-executable", "tty-without-terminal"])
def test_the_same_as_kubectl(api_server, namespace, pod, args, stdin):  # noqa: F811
    ours = kctl(api_server, "exec", "-n", namespace, pod, *args, input=stdin)
    theirs = run_kubectl(api_server, "exec", "-n", namespace, pod, *args,
                         input=stdin)

    assert (ours.returncode, ours.stdout, ours.stderr) == (
        theirs.returncode, theirs.stdout, theirs.stderr)


def test_a_missing_pod_and_no_command(api_server, namespace):
    missing = kctl(api_server, "exec", "-n", namespace, "nope", "--", "true")
    no_command = kctl(api_server, "exec", "-n", namespace, "nope")

    assert (missing.returncode, missing.stderr) == (
        1, 'Error from server (NotFound): pods "nope" not found\n')
    assert no_command.returncode == 2
    assert no_command.stderr == ("error: you must specify at least one command "
                                 "for the container\n")


def test_it_runs_on_a_terminal(api_server, namespace, pod):  # noqa: F811
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 111, 0, 0))
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": REPO,
           "HOME": api_server.data_dir, "KUBECONFIG": os.devnull}
    command = [sys.executable, "-m", "kctl.main", "-s", api_server.url, "exec",
               "-it", "-n", namespace, pod, "-c", "app", "--", "sh", "-c",
               "tty; stty size; exit 4"]
    process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave,
                               env=env, start_new_session=True)
    os.close(slave)
    try:
        output = _read_all(master, timeout=30)
        code = process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)

    terminal, size, *rest = output.decode().splitlines()
    assert (terminal[:9], size, rest, code) == (
        "/dev/pts/", "33 111", ["command terminated with exit code 4"], 4)


def test_a_large_file_on_stdin_arrives_whole(api_server, namespace, pod,  # noqa: F811
                                             tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * 5_000_000)  # more than one WebSocket message takes

    with open(big, "rb") as stdin:
        env = {"PATH": os.environ["PATH"], "PYTHONPATH": REPO,
               "HOME": api_server.data_dir, "KUBECONFIG": os.devnull}
        done = subprocess.run(
            [sys.executable, "-m", "kctl.main", "-s", api_server.url, "exec", "-i",
             "-n", namespace, pod, "-c", "app", "--", "wc", "-c"],
            stdin=stdin, capture_output=True, text=True, timeout=60, env=env)

    assert (done.returncode, done.stdout.strip()) == (0, "5000000")
