"""The container log endpoint (node/logs.py), with the kubelet's query and errors."""

import asyncio
import time

import pytest
from aiohttp.test_utils import TestClient, TestServer

from node.logs import make_app
from node.pods import LogUnavailable
from node.runtime.logfile import LogFile
from tests.node.helpers import run

BASE = 1_700_000_000 * 10**9


class FakeWorker:
    """Stands in for a PodWorker: one container "app" with runs 0 (ended) and 1."""

    def __init__(self, log_dir, live=None):
        self.log_dir = log_dir
        self.live = live

    def spec_of(self, name):
        return {"name": name} if name in ("app", "waiting") else None

    def log_target(self, container, previous):
        if container == "waiting":
            raise LogUnavailable('container "waiting" in pod "web" is waiting to start: '
                                 "ContainerCreating")
        return self.log_dir, 0 if previous else 1, self.live


def stamp(ns):
    seconds, nanos = divmod(ns, 10**9)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{nanos:09d}Z"


def write_runs(log_dir, now_ns):
    """Run 0 said "old". Run 1 said "line 0" to "line 4", one second apart and
    ending now, with a partial stderr record "half-" before "line 2"."""
    log_dir.mkdir(parents=True, exist_ok=True)
    (log_dir / "0.log").write_text("2023-11-14T22:13:20.000000000Z stdout F old\n")
    records = []
    for i in range(5):
        at = stamp(now_ns - (4 - i) * 10**9)
        if i == 2:
            records.append(f"{at} stderr P half-\n")
        records.append(f"{at} stdout F line {i}\n")
    (log_dir / "1.log").write_text("".join(records))


async def get(worker, path, **params):
    async with TestClient(TestServer(make_app(lambda ns, name: worker
                                              if (ns, name) == ("default", "web")
                                              else None))) as client:
        resp = await client.get(path, params=params)
        return resp.status, await resp.text()


def fetch(tmp_path, path="/containerLogs/default/web/app", **params):
    write_runs(tmp_path, time.time_ns())
    return run(get(FakeWorker(tmp_path), path, **params))


@pytest.mark.parametrize("params, expected", [
    ({}, "line 0\nline 1\nhalf-line 2\nline 3\nline 4\n"),
    ({"tailLines": "2"}, "line 3\nline 4\n"),
    ({"tail": "2"}, "line 3\nline 4\n"),
    ({"tail": "all"}, "line 0\nline 1\nhalf-line 2\nline 3\nline 4\n"),
    ({"limitBytes": "10"}, "line 0\nlin"),
    ({"sinceSeconds": "2"}, "line 3\nline 4\n"),
    ({"previous": "true"}, "old\n"),
], ids=["all", "tailLines", "tail", "tail-all", "limitBytes", "sinceSeconds",
        "previous"])
def test_log_options(tmp_path, params, expected):
    assert fetch(tmp_path, **params) == (200, expected)


def test_timestamps_prefix_each_line(tmp_path):
    status, text = fetch(tmp_path, previous="1", timestamps="true")

    assert (status, text) == (200, "2023-11-14T22:13:20Z old\n")


@pytest.mark.parametrize("path, params, status, text", [
    ("/containerLogs/default/nope/app", {}, 404, 'pod "nope" does not exist'),
    ("/containerLogs/default/web/other", {}, 404,
     'container "other" not found in pod "web"'),
    ("/containerLogs/default/web/waiting", {}, 400,
     'container "waiting" in pod "web" is waiting to start: ContainerCreating'),
    ("/containerLogs/default/web/app", {"follow": "maybe"}, 400,
     '{"message": "Unable to decode query."}'),
    ("/containerLogs/default/web/app", {"tailLines": "-1"}, 422,
     '{"message": "Invalid request."}'),
    ("/containerLogs/default/web/app", {"sinceSeconds": "5",
                                        "sinceTime": "2024-01-01T00:00:00Z"}, 422,
     '{"message": "Invalid request."}'),
], ids=["no-pod", "no-container", "waiting", "bad-bool", "negative-tail",
        "two-sinces"])
def test_errors_are_the_kubelets(tmp_path, path, params, status, text):
    assert fetch(tmp_path, path, **params) == (status, text)


def test_healthz(tmp_path):
    assert run(get(None, "/healthz")) == (200, "ok")


def test_follow_streams_until_the_run_ends(tmp_path):
    async def scenario():
        live = LogFile(tmp_path, 1)
        live.write("stdout", b"first")
        live.flush()
        worker = FakeWorker(tmp_path, live)
        app = make_app(lambda ns, name: worker)
        async with TestClient(TestServer(app)) as client:
            resp = await client.get("/containerLogs/default/web/app",
                                    params={"follow": "true"})
            assert await resp.content.readline() == b"first\n"
            live.write("stdout", b"second")
            live.flush()
            assert await asyncio.wait_for(resp.content.readline(), 5) == b"second\n"
            live.write("stderr", b"last")
            live.close()
            return await asyncio.wait_for(resp.content.read(), 5)

    assert run(scenario()) == b"last\n"


def test_follow_goes_on_across_a_rotation(tmp_path):
    async def scenario():
        live = LogFile(tmp_path, 1, max_bytes=120, max_files=5)
        worker = FakeWorker(tmp_path, live)
        async with TestClient(TestServer(make_app(lambda ns, name: worker))) as client:
            resp = await client.get("/containerLogs/default/web/app",
                                    params={"follow": "true"})
            for i in range(6):
                live.write("stdout", b"record %d" % i)
                live.flush()
                await asyncio.sleep(0.01)
            live.close()
            return live.generation, await asyncio.wait_for(resp.content.read(), 5)

    generation, body = run(scenario())
    assert generation >= 2
    assert body == b"".join(b"record %d\n" % i for i in range(6))
