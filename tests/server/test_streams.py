"""Log follows and exec relays end when ``kctl serve`` stops (server/streams.py):
with a node agent of its own that outlives it, the server exits at once."""

from __future__ import annotations

import asyncio
import signal
import time

import aiohttp
import pytest
import requests

from node.channels import V5
from tests.node.conftest import Agent
from tests.node.helpers import group_alive, kill_group, run, wait_for

# Well under aiohttp's 10 s shutdown timeout, which a stream held before.
PROMPT_EXIT = 3.0


@pytest.fixture
def cluster(start_server, tmp_path):
    """A server and an agent of its own process, whose container outlives the
    server's stop; the agent is ended by its pid and its containers killed."""
    server = start_server()
    agent = Agent(server.url, "streams", tmp_path / "agent").start()
    yield server
    agent.stop()
    for pid in agent.record_pids() | agent.seen_pids:
        if group_alive(pid):
            kill_group(pid)


def running_pod(url: str) -> str:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "talker"},
           "spec": {"nodeName": "streams", "terminationGracePeriodSeconds": 1,
                    "containers": [{"name": "c", "image": "busybox",
                                    "command": ["sh", "-c",
                                                "echo hello; sleep 3600"]}]}}
    path = f"{url}/api/v1/namespaces/default/pods"
    assert requests.post(path, json=pod, timeout=30).status_code == 201
    wait_for(lambda: requests.get(f"{path}/talker", timeout=30).json()
             .get("status", {}).get("phase") == "Running", timeout=30)
    return f"{path}/talker"


def stop_timed(server) -> float:
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(30)
    return time.monotonic() - started


def test_a_followed_log_ends_and_the_server_exits_promptly(cluster):
    pod = running_pod(cluster.url)
    stream = requests.get(f"{pod}/log", params={"follow": "true"}, stream=True,
                          timeout=30)
    chunks = stream.iter_content(None)
    assert next(chunks) == b"hello\n"

    took = stop_timed(cluster)

    assert took < PROMPT_EXIT
    assert b"".join(chunks) == b""  # the chunked body ends cleanly
    assert cluster.process.returncode == 0


def test_an_exec_relay_closes_going_away_and_the_server_exits_promptly(cluster):
    pod = running_pod(cluster.url)

    async def exec_then_stop():
        async with aiohttp.ClientSession() as session:
            url = pod.replace("http", "ws", 1) + "/exec"
            params = [("command", "sleep"), ("command", "60"), ("stdout", "true")]
            async with session.ws_connect(url, params=params,
                                          protocols=(V5,)) as ws:
                # Reading, as kubectl does: a close is answered at once.
                receiving = asyncio.ensure_future(ws.receive(timeout=30))
                took = await asyncio.to_thread(stop_timed, cluster)
                message = await receiving
                return took, message.type, ws.close_code

    took, kind, code = run(exec_then_stop())

    assert took < PROMPT_EXIT
    assert (kind, code) == (aiohttp.WSMsgType.CLOSE, 1001)
