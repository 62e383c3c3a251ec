"""kubectl exec, the real one, against the server and an agent running the pod."""

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import uuid

import pytest

from tests.conftest import KUBECTL, run_kubectl
from tests.node.helpers import group_alive, wait_for

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not on PATH")


@pytest.fixture
def pod(api, api_server, start_agent, namespace, tmp_path):
    """A running pod "web": container "app" (env GREETING, workingDir tmp_path)
    and container "side"."""
    agent = start_agent()
    sleep = ["sh", "-c", "while true; do sleep 0.2; done"]
    api.create_pod(namespace, agent.name, "web", [
        {"name": "app", "image": "busybox", "command": sleep, "workingDir":
         str(tmp_path), "env": [{"name": "GREETING", "value": "hello"}]},
        {"name": "side", "image": "busybox", "command": sleep,
         "env": [{"name": "GREETING", "value": "from side"}]},
    ], terminationGracePeriodSeconds=1)
    api.wait_pod(namespace, "web", lambda p: p["status"].get("phase") == "Running")
    return "web"


def kubectl_exec(api_server, namespace, *args, **kw):
    return run_kubectl(api_server, "exec", "-n", namespace, *args, **kw)


def test_exec_prints_the_output(api_server, namespace, pod):
    result = kubectl_exec(api_server, namespace, pod, "-c", "app", "--",
                          "echo", "hello", "world")

    assert (result.returncode, result.stdout, result.stderr) == (
        0, "hello world\n", "")


def test_a_non_zero_exit_is_kubectls_exit_code(api_server, namespace, pod):
    result = kubectl_exec(api_server, namespace, pod, "-c", "app", "--",
                          "sh", "-c", "echo out; echo err >&2; exit 3")

    assert (result.returncode, result.stdout, result.stderr) == (
        3, "out\n", "err\ncommand terminated with exit code 3\n")


def test_piped_stdin_reaches_the_command(api_server, namespace, pod):
    result = kubectl_exec(api_server, namespace, "-i", pod, "-c", "app", "--",
                          "cat", input="one\ntwo\n")

    assert (result.returncode, result.stdout) == (0, "one\ntwo\n")


def test_c_picks_the_container(api_server, namespace, pod):
    result = kubectl_exec(api_server, namespace, pod, "-c", "side", "--",
                          "sh", "-c", "echo $GREETING")

    assert result.stdout == "from side\n"


def test_without_c_kubectl_defaults_to_the_first_container(api_server, namespace,
                                                           pod):
    result = kubectl_exec(api_server, namespace, pod, "--", "sh", "-c",
                          "echo $GREETING")

    assert (result.stdout, result.stderr) == (
        "hello\n", 'Defaulted container "app" out of: app, side\n')


def test_env_and_working_dir_of_the_container_apply(api_server, namespace, pod,
                                                    tmp_path):
    result = kubectl_exec(api_server, namespace, pod, "-c", "app", "--",
                          "sh", "-c", "echo $GREETING; pwd")

    assert result.stdout == f"hello\n{tmp_path}\n"


@pytest.mark.parametrize("args, stderr", [
    (["web", "-c", "bogus", "--", "true"],
     "Error from server (BadRequest): container bogus is not valid for pod web\n"),
    (["nope", "--", "true"], 'Error from server (NotFound): pods "nope" not found\n'),
    (["web", "-c", "app", "--", "no-such-command"],
     "error: Internal error occurred: error executing command in container: "
     'exec: "no-such-command": executable file not found in $PATH\n'),
], ids=["no-container", "no-pod", "no-executable"])
def test_refusals_are_kubectls_error_lines(api_server, namespace, pod, args, stderr):
    result = kubectl_exec(api_server, namespace, *args)

    assert (result.returncode, result.stdout, result.stderr) == (1, "", stderr)


def test_a_container_that_does_not_run_is_refused(api, api_server, start_agent,
                                                  namespace):
    agent = start_agent()
    api.create_pod(namespace, agent.name, "idle",
                   [{"name": "app", "image": "busybox"}])  # no command: waits
    api.wait_pod(namespace, "idle", lambda p: p["status"].get("containerStatuses"))

    result = kubectl_exec(api_server, namespace, "idle", "--", "true")

    assert (result.returncode, result.stderr) == (
        1, "Error from server (InternalError): Internal error occurred: unable to "
           'upgrade connection: container not found ("app")\n')


def test_the_command_dies_with_kubectl(api_server, namespace, pod):
    marker = uuid.uuid4().hex
    command = [KUBECTL, "--server", api_server.url, "exec", "-n", namespace, pod,
               "-c", "app", "--", "sh", "-c", f"echo $$; sleep 60; : {marker}"]
    env = {"PATH": os.environ["PATH"], "HOME": api_server.data_dir,
           "KUBECONFIG": os.devnull}
    kubectl = subprocess.Popen(command, stdout=subprocess.PIPE, env=env)
    try:
        pid = int(kubectl.stdout.readline())
        assert group_alive(pid)
    finally:
        kubectl.kill()
        kubectl.wait()
        kubectl.stdout.close()

    wait_for(lambda: not group_alive(pid), timeout=10)


def test_it_runs_on_a_terminal_of_kubectls_size(api_server, namespace, pod):
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 111, 0, 0))
    env = {"PATH": os.environ["PATH"], "HOME": api_server.data_dir,
           "KUBECONFIG": os.devnull}
    command = [KUBECTL, "--server", api_server.url, "exec", "-it", "-n", namespace,
               pod, "-c", "app", "--", "sh", "-c", "tty; stty size; exit 4"]
    kubectl = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave,
                               env=env, start_new_session=True)
    os.close(slave)
    try:
        output = _read_all(master, timeout=30)
        code = kubectl.wait(10)
    finally:
        if kubectl.poll() is None:
            kubectl.kill()
            kubectl.wait()
        os.close(master)

    terminal, size, *rest = output.decode().splitlines()
    assert (terminal[:9], size, rest, code) == (
        "/dev/pts/", "33 111", ["command terminated with exit code 4"], 4)


def _read_all(fd: int, timeout: float) -> bytes:
    """What a pty's other side writes until it closes (EIO)."""
    data = b""
    while select.select([fd], [], [], timeout)[0]:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data
