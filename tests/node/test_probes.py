"""Probes (node/probes.py): the three actions and the threshold rules."""

import asyncio
import socket

import aiohttp
import pytest
from aiohttp import web

from node.probes import ContainerProbes, exec_probe, http_probe, resolve_port, \
    tcp_probe
from tests.node.helpers import run


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def with_http_server(handler, body):
    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with aiohttp.ClientSession() as session:
            return await body(port, session)
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("status, expected", [
    (200, (True, "")), (304, (True, "")),
    (500, (False, "HTTP probe failed with statuscode: 500")),
], ids=["ok", "not-modified", "server-error"])
def test_http_probe_passes_on_200_to_399(status, expected):
    seen = {}

    async def handler(request):
        seen["agent"] = request.headers["User-Agent"]
        seen["path"] = request.path
        return web.Response(status=status)

    async def body(port, session):
        action = {"port": "web", "path": "healthz"}
        container = {"ports": [{"name": "web", "containerPort": port}]}
        return await http_probe(action, container, 1, session)

    result = run(with_http_server(handler, body))

    assert result[0] == expected[0]
    assert result[1] == expected[1]
    assert seen["agent"].startswith("kube-probe/")


def test_http_probe_reports_a_refused_connection():
    port = free_port()

    async def body():
        async with aiohttp.ClientSession() as session:
            return await http_probe({"port": port}, {}, 1, session)

    ok, message = run(body())

    assert not ok
    assert message == (f'Get "http://127.0.0.1:{port}/": dial tcp 127.0.0.1:{port}: '
                       "connect: connection refused")


def test_tcp_probe():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    open_port = listener.getsockname()[1]
    closed_port = free_port()
    try:
        assert run(tcp_probe({"port": open_port}, {}, 1)) == (True, "")
        assert run(tcp_probe({"port": closed_port}, {}, 1)) == (
            False, f"dial tcp 127.0.0.1:{closed_port}: connect: connection refused")
    finally:
        listener.close()


def test_exec_probe_uses_the_exit_code_and_keeps_the_output(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "WHO": "probe"}

    good = run(exec_probe({"command": ["sh", "-c", "echo $WHO"]}, env, str(tmp_path), 5))
    bad = run(exec_probe({"command": ["sh", "-c", "echo broken; exit 2"]}, env,
                         str(tmp_path), 5))
    slow = run(exec_probe({"command": ["sleep", "5"]}, env, str(tmp_path), 0.2))

    assert good == (True, "probe\n")
    assert bad == (False, "broken\n")
    assert slow == (False, "command 'sleep 5' timed out")


def test_a_named_port_that_does_not_exist_is_an_error():
    with pytest.raises(ValueError, match="couldn't find port: http"):
        resolve_port("http", {"ports": []})


class ScriptedProbes(ContainerProbes):
    """Probes whose checks answer from a script instead of a real action."""

    def __init__(self, container, script):
        self.script = {k: list(v) for k, v in script.items()}
        self.changes = 0
        self.events = []
        super().__init__(container, {}, "/", None, self._changed, self.events.append)

    def _changed(self):
        self.changes += 1

    async def check(self, probe, timeout):
        answers = self.script[probe["kind"]]
        ok = answers.pop(0) if len(answers) > 1 else answers[0]
        return ok, "" if ok else "nope"


def probe(kind, **timing):
    return {"kind": kind, "exec": {"command": ["x"]}, "periodSeconds": 0.01, **timing}


async def settle(probes, predicate, timeout=3):
    probes.start()
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate() and loop.time() < deadline:
            await asyncio.sleep(0.005)
        return predicate()
    finally:
        probes.stop()


def test_readiness_needs_success_threshold_successes_in_a_row():
    container = {"name": "c", "readinessProbe": probe("readiness", successThreshold=3)}

    async def scenario():
        probes = ScriptedProbes(container, {"readiness": [True, False, True, True, True]})
        assert not probes.ready  # readiness starts as failure
        await settle(probes, lambda: probes.ready)
        return probes

    probes = run(scenario())
    assert probes.ready
    assert probes.script["readiness"] == [True]  # all five answers were needed
    assert probes.events == ["Readiness probe failed: nope"]


def test_liveness_fails_after_failure_threshold_and_holds():
    container = {"name": "c", "livenessProbe": probe("liveness", failureThreshold=2)}

    async def scenario():
        probes = ScriptedProbes(container, {"liveness": [False, True, False, False]})
        await settle(probes, lambda: probes.failure is not None)
        return probes

    probes = run(scenario())
    assert probes.failure == "Container c failed liveness probe"
    assert probes.workers["liveness"].on_hold


def test_other_probes_wait_for_the_startup_probe():
    container = {"name": "c", "startupProbe": probe("startup"),
                 "readinessProbe": probe("readiness")}

    async def scenario():
        probes = ScriptedProbes(container, {"startup": [False, False, True],
                                            "readiness": [True]})
        assert not probes.started and not probes.ready
        await settle(probes, lambda: probes.ready)
        return probes

    probes = run(scenario())
    assert probes.started and probes.ready
    assert probes.script["startup"] == [True]


def test_initial_delay_holds_the_first_probe_back():
    container = {"name": "c", "readinessProbe": probe("readiness",
                                                      initialDelaySeconds=30)}

    async def scenario():
        probes = ScriptedProbes(container, {"readiness": [True]})
        await settle(probes, lambda: probes.ready, timeout=0.2)
        return probes

    assert not run(scenario()).ready
