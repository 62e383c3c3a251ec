"""The agent's exec endpoint (node/exec.py), spoken to over its WebSocket."""

import asyncio
import os

import orjson
import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from node import channels
from node.logs import make_app
from node.pods import ExecUnavailable
from tests.node.helpers import group_alive, run, wait_for


class FakeWorker:
    """A pod "web" whose container "app" runs and "stopped" does not."""

    def __init__(self, cwd):
        self.cwd = str(cwd)

    def exec_target(self, container):
        if container != "app":
            raise ExecUnavailable(f'container not found ("{container}")')
        return {"PATH": os.environ["PATH"], "GREETING": "hello"}, self.cwd


def query(*command, **flags):
    return [("command", part) for part in command] + \
        [(name, "true") for name, value in flags.items() if value]


async def collect(ws) -> dict[int, bytes]:
    """Every stream's data until the agent closes the WebSocket."""
    streams: dict[int, bytes] = {}
    async for message in ws:
        assert message.type == WSMsgType.BINARY
        stream, data = channels.parse(message.data)
        streams[stream] = streams.get(stream, b"") + data
    return streams


async def session(tmp_path, params, send=(), protocol=channels.V5,
                  container="app"):
    app = make_app(lambda ns, name: FakeWorker(tmp_path) if name == "web" else None)
    async with TestClient(TestServer(app)) as client:
        ws = await client.ws_connect(f"/exec/default/web/{container}",
                                     params=params, protocols=(protocol,))
        for message in send:
            await ws.send_bytes(message)
        return ws.protocol, await asyncio.wait_for(collect(ws), 10)


def test_output_and_success_status(tmp_path):
    protocol, streams = run(session(tmp_path, query("sh", "-c", "echo out; "
                                                     "echo err >&2", stdout=True,
                                                     stderr=True)))

    assert protocol == channels.V5
    assert streams == {channels.STDOUT: b"out\n", channels.STDERR: b"err\n",
                       channels.ERROR: channels.success()}


def test_env_and_working_dir_are_the_containers(tmp_path):
    _, streams = run(session(tmp_path, query("sh", "-c", "echo $GREETING; pwd",
                                             stdout=True)))

    assert streams[channels.STDOUT] == f"hello\n{tmp_path}\n".encode()


def test_stdin_until_its_close_message(tmp_path):
    send = [channels.frame(channels.STDIN, b"one\n"),
            channels.frame(channels.STDIN, b"two\n"),
            channels.close_frame(channels.STDIN)]

    _, streams = run(session(tmp_path, query("cat", stdin=True, stdout=True), send))

    assert streams[channels.STDOUT] == b"one\ntwo\n"
    assert streams[channels.ERROR] == channels.success()


def test_a_non_zero_exit_is_a_failure_status(tmp_path):
    _, streams = run(session(tmp_path, query("sh", "-c", "exit 7", stdout=True)))

    status = orjson.loads(streams[channels.ERROR])
    assert status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "7"}]


def test_v4_is_spoken_too(tmp_path):
    protocol, streams = run(session(tmp_path, query("echo", "hi", stdout=True),
                                    protocol=channels.V4))

    assert protocol == channels.V4
    assert streams[channels.STDOUT] == b"hi\n"


def test_a_tty_has_one_output_and_takes_resizes(tmp_path):
    # Messages are handled in order: the size is set before "go" is read.
    send = [channels.frame(channels.RESIZE, b'{"Width":91,"Height":17}'),
            channels.frame(channels.STDIN, b"go\n")]
    script = "read line; tty; stty size; echo err >&2"

    _, streams = run(session(tmp_path, query("sh", "-c", script, stdin=True,
                                             stdout=True, stderr=True, tty=True),
                             send))

    echo, terminal, *rest = streams[channels.STDOUT].decode().splitlines()
    assert (echo, terminal[:9], rest) == ("go", "/dev/pts/", ["17 91", "err"])
    assert channels.STDERR not in streams


def test_a_command_that_cannot_start_is_an_internal_error(tmp_path):
    _, streams = run(session(tmp_path, query("no-such-command", stdout=True)))

    status = orjson.loads(streams[channels.ERROR])
    assert status["message"] == (
        "Internal error occurred: error executing command in container: "
        'exec: "no-such-command": executable file not found in $PATH')


def test_the_group_is_killed_when_the_client_goes(tmp_path):
    async def scenario():
        app = make_app(lambda ns, name: FakeWorker(tmp_path))
        async with TestClient(TestServer(app)) as client:
            ws = await client.ws_connect(
                "/exec/default/web/app", protocols=(channels.V5,),
                params=query("sh", "-c", "sleep 30 & echo $$; wait", stdout=True))
            message = await asyncio.wait_for(ws.receive(), 5)
            await ws.close()
            return int(channels.parse(message.data)[1])

    pid = run(scenario())

    wait_for(lambda: not group_alive(pid), timeout=5)


@pytest.mark.parametrize("pod, container, params, status, text", [
    ("nope", "app", query("true", stdout=True), 404, 'pod "nope" does not exist'),
    ("web", "stopped", query("true", stdout=True), 404,
     'container not found ("stopped")'),
    ("web", "app", query(stdout=True), 400, "you must specify at least 1 command"),
    ("web", "app", query("true"), 400,
     "you must specify at least 1 of stdin, stdout, stderr"),
], ids=["no-pod", "not-running", "no-command", "no-stream"])
def test_refusals_come_before_the_upgrade(tmp_path, pod, container, params, status,
                                          text):
    async def scenario():
        app = make_app(lambda ns, name: FakeWorker(tmp_path) if name == "web"
                       else None)
        headers = {"Upgrade": "websocket", "Connection": "Upgrade",
                   "Sec-WebSocket-Version": "13",
                   "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                   "Sec-WebSocket-Protocol": channels.V5}
        async with TestClient(TestServer(app)) as client:
            resp = await client.get(f"/exec/default/{pod}/{container}",
                                    params=params, headers=headers)
            return resp.status, await resp.text()

    assert run(scenario()) == (status, text)
