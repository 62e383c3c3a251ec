"""Benchmark of the API server: creates, gets, lists, watches, memory, stalls.

Starts ``python -m server`` pinned to core 0 (the load runs on core 1) on a
free port with a temporary data directory, drives it over HTTP with aiohttp
and prints one table of figures against the targets. Watchers run in child
processes of this script (``--watcher``), a quarter of them in each of up to
four, so that reading 1,000 streams is not one client's bottleneck; every
event carries the time it was sent in an annotation, and each watcher reports
the delay to its receipt of the ADDED event. A second server with a short
compaction interval measures the longest write while compaction and WAL
checkpoints run. Everything started is ended by pid.

    python bench/api.py            # full run, several minutes
    python bench/api.py --quick    # smaller counts, under a minute
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import orjson

ROOT = Path(__file__).resolve().parents[1]
SERVER_CORE, CLIENT_CORE = 0, 1
SENT = "bench.kctl.dev/sent"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
MERGE_PATCH = "application/merge-patch+json"
NAME = b'"name":"'


@dataclass
class Sizes:
    serial_creates: int
    parallel_creates: int  # also the pods the list and memory figures see
    get_seconds: float
    list_runs: int
    watch_events: int
    stall_seconds: float


FULL = Sizes(1000, 10000, 5.0, 20, 200, 20.0)
QUICK = Sizes(200, 2000, 2.0, 5, 20, 6.0)


# Figures and the table.

def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


class Report:
    def __init__(self):
        self.rows: list[tuple[str, str, str, str]] = []

    def add(self, what: str, figure: str, target: str = "", met: bool | None = None):
        verdict = "" if met is None else ("met" if met else "MISSED")
        self.rows.append((what, figure, target, verdict))
        print(f"  {what}: {figure}", flush=True)

    def print(self) -> None:
        widths = [max(len(r[i]) for r in self.rows + [self.header()])
                  for i in range(4)]
        for row in [self.header()] + self.rows:
            print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())

    @staticmethod
    def header() -> tuple[str, str, str, str]:
        return ("measure", "figure", "target", "verdict")


# The server under test.

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_child_setup() -> None:
    os.sched_setaffinity(0, {SERVER_CORE})
    _raise_file_limit()


def _raise_file_limit() -> None:
    # 1,000 watch streams need more descriptors than a default soft limit.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))


class Server:
    def __init__(self, work: Path, *flags: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = work / f"server-{self.port}.log"
        command = [sys.executable, "-m", "server", "--port", str(self.port),
                   "--data-dir", str(work / f"data-{self.port}"), "--no-node",
                   "--no-controllers",
                   *flags]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log,
                preexec_fn=_server_child_setup)

    async def wait_ready(self, session: aiohttp.ClientSession) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited: see {self.log}")
            try:
                async with session.get(f"{self.url}/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
        raise SystemExit("the server did not become ready in 30 s")

    def rss_mib(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024

    def cpu_seconds(self) -> float:
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# Requests.

class Timeline:
    """When each pod's create was sent and answered, by name (wall clock)."""

    def __init__(self):
        self.sent: dict[str, float] = {}
        self.answered: dict[str, float] = {}

    def delays(self, receipts: list[tuple[str, float]]) -> tuple[list, list]:
        """Each receipt's delay after the send, and after the answer."""
        return ([t - self.sent[name] for name, t in receipts],
                [t - self.answered[name] for name, t in receipts])


def pod(name: str, sent: float) -> bytes:
    # The name comes first in metadata: the watchers find it by a search.
    return orjson.dumps({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "annotations": {SENT: repr(sent)}},
        "spec": {"containers": [{"name": "c", "image": "busybox",
                                 "command": ["sleep", "3600"]}]}})


async def create_namespace(session, url: str, name: str) -> None:
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    async with session.post(f"{url}/api/v1/namespaces", json=body) as resp:
        if resp.status != 201:
            raise SystemExit(f"namespace {name}: {resp.status} {await resp.text()}")


async def create_pod(session, url: str, namespace: str, name: str,
                     timeline: Timeline | None = None) -> float:
    sent, started = time.time(), time.perf_counter()
    async with session.post(f"{url}/api/v1/namespaces/{namespace}/pods",
                            data=pod(name, sent),
                            headers={"Content-Type": "application/json"}) as resp:
        await resp.read()
        if resp.status != 201:
            raise SystemExit(f"create {name}: {resp.status}")
    if timeline is not None:
        timeline.sent[name], timeline.answered[name] = sent, time.time()
    return time.perf_counter() - started


async def patch_pod(session, url: str, namespace: str, name: str) -> float:
    body = orjson.dumps({"metadata": {"labels": {"n": str(random.randrange(1000))}}})
    started = time.perf_counter()
    async with session.patch(f"{url}/api/v1/namespaces/{namespace}/pods/{name}",
                             data=body, headers={"Content-Type": MERGE_PATCH}) as resp:
        await resp.read()
        if resp.status != 200:
            raise SystemExit(f"patch {name}: {resp.status}")
    return time.perf_counter() - started


async def create_many(session, url: str, namespace: str, names: list[str],
                      clients: int, timeline: Timeline | None = None
                      ) -> tuple[float, list[float]]:
    """Create ``names`` with ``clients`` concurrent requests; wall time, latencies."""
    pending = iter(names)
    latencies: list[float] = []

    async def client() -> None:
        for name in pending:
            latencies.append(await create_pod(session, url, namespace, name,
                                              timeline))

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - started, latencies


# Watchers, in child processes.

class Watchers:
    """``count`` watches of a namespace's pods, spread over child processes."""

    def __init__(self, url: str, namespace: str, count: int, expect: int,
                 timeout: float):
        processes = min(4, max(1, count // 100))
        shares = [count // processes + (i < count % processes)
                  for i in range(processes)]
        self.children = [subprocess.Popen(
            [sys.executable, __file__, "--watcher", url, namespace, str(share),
             str(expect), str(timeout)],
            stdout=subprocess.PIPE, preexec_fn=_client_child_setup)
            for share in shares]
        self.processes = processes

    def wait_connected(self) -> None:
        for child in self.children:
            if child.stdout.readline().strip() != b"ready":
                raise SystemExit("a watcher process failed to connect")

    def results(self) -> tuple[list[int], list[tuple[str, float]], float]:
        """Events each watcher received, every receipt, and client CPU used."""
        counts, receipts, cpu = [], [], 0.0
        for child in self.children:
            out, _ = child.communicate(timeout=600)
            result = orjson.loads(out)
            counts += result["counts"]
            receipts += result["receipts"]
            cpu += result["cpu"]
        return counts, receipts, cpu

    def stop(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.kill()
                child.wait()


def _client_child_setup() -> None:
    os.sched_setaffinity(0, {CLIENT_CORE})
    _raise_file_limit()


async def watcher_main(url: str, namespace: str, count: int, expect: int,
                       timeout: float) -> None:
    """The child's side: open the watches, say ready, then report as JSON."""
    receipts: list[tuple[str, float]] = []
    connector = aiohttp.TCPConnector(limit=0)
    path = f"{url}/api/v1/namespaces/{namespace}/pods"
    async with aiohttp.ClientSession(connector=connector) as session:
        streams = [await session.get(path, params={"watch": "true"},
                                     timeout=aiohttp.ClientTimeout(total=None))
                   for _ in range(count)]
        print("ready", flush=True)
        cpu = time.process_time()
        counts = await asyncio.gather(
            *(_read_events(s, expect, timeout, receipts) for s in streams))
    cpu = time.process_time() - cpu
    sys.stdout.buffer.write(orjson.dumps(
        {"counts": counts, "receipts": receipts, "cpu": cpu}))


async def _read_events(stream, expect: int, timeout: float,
                       receipts: list[tuple[str, float]]) -> int:
    seen = 0

    async def read() -> None:
        nonlocal seen
        async for line in stream.content:
            received = time.time()
            if not line.startswith(b'{"type":"ADDED"'):
                continue
            # A search, not a parse: a watcher's reading costs the client core
            # that the load generator shares.
            start = line.index(NAME) + len(NAME)
            receipts.append((line[start:line.index(b'"', start)].decode(), received))
            seen += 1
            if seen == expect:
                return

    try:
        await asyncio.wait_for(read(), timeout)
    except asyncio.TimeoutError:
        pass
    stream.close()
    return seen


# The measurements.

async def bench_creates(server: Server, session, report: Report, namespace: str,
                        count: int, clients: int, target: bool) -> None:
    await create_namespace(session, server.url, namespace)
    names = [f"p{i:05d}" for i in range(count)]
    timeline = Timeline()
    watchers = Watchers(server.url, namespace, 10, count, 120)
    try:
        watchers.wait_connected()
        cpu, client_cpu = server.cpu_seconds(), time.process_time()
        elapsed, latencies = await create_many(session, server.url, namespace,
                                               names, clients, timeline)
        cpu = server.cpu_seconds() - cpu
        client_cpu = time.process_time() - client_cpu
        counts, receipts, _ = watchers.results()
    finally:
        watchers.stop()

    rate, p99 = count / elapsed, percentile(latencies, 0.99)
    label = f"creates, {clients} client{'s' * (clients > 1)}, 10 watchers"
    report.add(f"{label}: rate", f"{rate:.0f}/s",
               ">= 2000/s" if target else "", rate >= 2000 if target else None)
    report.add(f"{label}: p50 / p99",
               f"{ms(percentile(latencies, 0.5))} / {ms(p99)}",
               "p99 < 50 ms" if target else "", p99 < 0.05 if target else None)
    report.add(f"{label}: CPU server / load",
               f"{cpu / elapsed:.0%} / {client_cpu / elapsed:.0%} of a core")
    after_send, _ = timeline.delays(receipts)
    report.add(f"{label}: watch after send p50 / p99",
               f"{ms(percentile(after_send, 0.5))} / "
               f"{ms(percentile(after_send, 0.99))}, "
               f"{sum(counts)}/{10 * count} events received",
               "nothing dropped", sum(counts) == 10 * count)


async def bench_gets(server: Server, session, report: Report, namespace: str,
                     count: int, seconds: float) -> None:
    names = [f"p{i:05d}" for i in range(count)]
    base = f"{server.url}/api/v1/namespaces/{namespace}/pods/"
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            async with session.get(base + random.choice(names)) as resp:
                await resp.read()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(32)))
    rate = len(latencies) / (time.perf_counter() - started)
    report.add("gets by name, 32 clients: rate", f"{rate:.0f}/s")
    report.add("gets by name, 32 clients: p50 / p99",
               f"{ms(percentile(latencies, 0.5))} / "
               f"{ms(percentile(latencies, 0.99))}")


async def bench_lists(server: Server, session, report: Report, namespace: str,
                      count: int, runs: int) -> None:
    path = f"{server.url}/api/v1/namespaces/{namespace}/pods"
    for name, accept in (("JSON", "application/json"), ("Table", TABLE)):
        times, body = [], b""
        # The first list is timed apart: a first Table computes every row.
        for _ in range(runs + 1):
            started = time.perf_counter()
            async with session.get(path, headers={"Accept": accept}) as resp:
                body = await resp.read()
            times.append(time.perf_counter() - started)
        first, times = times[0], times[1:]
        listed = orjson.loads(body)
        items = len(listed.get("items") or listed.get("rows") or [])
        if items != count:
            raise SystemExit(f"list {name} returned {items} of {count} pods")
        p50 = percentile(times, 0.5)
        label = f"list {count} pods, {name} ({len(body) / 2**20:.1f} MiB)"
        report.add(f"{label}: first", ms(first))
        report.add(f"{label}: p50 / p99 of {runs} more",
                   f"{ms(p50)} / {ms(percentile(times, 0.99))}",
                   "p50 < 50 ms", p50 < 0.05)


async def bench_watch(server: Server, session, report: Report, watchers: int,
                      events: int) -> None:
    namespace = f"watch-{watchers}"
    await create_namespace(session, server.url, namespace)
    # Paced, so that what is measured is delivery and not a queue of writes.
    interval = 0.05 if watchers <= 100 else 0.1
    timeline = Timeline()
    group = Watchers(server.url, namespace, watchers, events, 60 + events * interval)
    try:
        group.wait_connected()
        cpu, started = server.cpu_seconds(), time.perf_counter()
        for i in range(events):
            await create_pod(session, server.url, namespace, f"w{i:04d}", timeline)
            await asyncio.sleep(interval)
        counts, receipts, client_cpu = group.results()
        cpu, elapsed = server.cpu_seconds() - cpu, time.perf_counter() - started
    finally:
        group.stop()

    after_send, after_answer = timeline.delays(receipts)
    p99 = percentile(after_send, 0.99)
    limit = {10: 0.01, 100: 0.05, 1000: 0.25}.get(watchers, 0.25)
    complete = sum(counts) == watchers * events
    label = (f"watch, {watchers} watchers in {group.processes} process"
             f"{'es' * (group.processes > 1)}")
    report.add(f"{label}: after send p50 / p99",
               f"{ms(percentile(after_send, 0.5))} / {ms(p99)}, "
               f"{sum(counts)}/{watchers * events} events",
               f"p99 < {limit * 1000:.0f} ms, none dropped", p99 < limit and complete)
    report.add(f"{label}: after the create's answer p50 / p99",
               f"{ms(percentile(after_answer, 0.5))} / "
               f"{ms(percentile(after_answer, 0.99))}")
    report.add(f"{label}: CPU server / watchers",
               f"{cpu / elapsed:.0%} / {client_cpu / elapsed:.0%} of a core")


async def bench_stalls(work: Path, report: Report, seconds: float) -> None:
    """The longest write while compaction and WAL checkpoints run."""
    server = Server(work, "--compact-interval", "1", "--keep-revisions", "100",
                    "--keep-seconds", "0")
    try:
        async with _session() as session:
            await server.wait_ready(session)
            latencies = await _write_stream(server, session, seconds)
    finally:
        server.stop()
    compactions = [float(m) for m in re.findall(
        r"compacted history .* in (\d+)ms", server.log.read_text())]
    worst = max(latencies)
    report.add(f"writes during compaction, 8 clients, {seconds:.0f} s: "
               f"p99.9 / max", f"{ms(percentile(latencies, 0.999))} / {ms(worst)}",
               "max < 100 ms", worst < 0.1)
    report.add("  compactions in that window (longest)",
               f"{len(compactions)} ({max(compactions, default=0):.0f} ms), "
               f"{len(latencies)} writes")


async def _write_stream(server: Server, session, seconds: float) -> list[float]:
    namespace = "stall"
    await create_namespace(session, server.url, namespace)
    names: list[str] = []
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client(number: int) -> None:
        serial = 0
        while time.perf_counter() < deadline:
            # One create for every three updates, so compaction finds both
            # replaced rows and a growing set of keys.
            if serial % 4 == 0 or not names:
                name = f"s{number}-{serial}"
                latencies.append(await create_pod(session, server.url, namespace,
                                                  name))
                names.append(name)
            else:
                latencies.append(await patch_pod(session, server.url, namespace,
                                                 random.choice(names)))
            serial += 1

    await asyncio.gather(*(client(n) for n in range(8)))
    return latencies


def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))


async def run(sizes: Sizes, work: Path, report: Report) -> None:
    server = Server(work)
    try:
        async with _session() as session:
            await server.wait_ready(session)
            await _measure(server, session, sizes, report)
    finally:
        server.stop()
    await bench_stalls(work, report, sizes.stall_seconds)


async def _measure(server: Server, session, sizes: Sizes, report: Report) -> None:
    await asyncio.sleep(1)  # let the server settle after its bootstrap
    empty = server.rss_mib()
    await bench_creates(server, session, report, "serial", sizes.serial_creates,
                        1, False)
    count = sizes.parallel_creates
    await bench_creates(server, session, report, "list", count, 32, True)
    pods = sizes.serial_creates + count
    full = server.rss_mib()
    per = (full - empty) / pods * 10000
    report.add("server RSS empty / with pods",
               f"{empty:.1f} MiB / {full:.1f} MiB with {pods} pods")
    report.add("server RSS per 10,000 pods", f"{per:.1f} MiB", "<= 40 MiB",
               per <= 40)

    await bench_gets(server, session, report, "list", count, sizes.get_seconds)
    await bench_lists(server, session, report, "list", count, sizes.list_runs)
    report.add("server RSS after the lists (Table rows cached)",
               f"{server.rss_mib():.1f} MiB")
    for watchers in (10, 100, 1000):
        await bench_watch(server, session, report, watchers, sizes.watch_events)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--watcher":
        url, namespace, count, expect, timeout = sys.argv[2:7]
        asyncio.run(watcher_main(url, namespace, int(count), int(expect),
                                 float(timeout)))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smaller counts, for a smoke run under a minute")
    args = parser.parse_args()

    _raise_file_limit()
    os.sched_setaffinity(0, {CLIENT_CORE})
    sizes = QUICK if args.quick else FULL
    report = Report()
    print(f"load before: {os.getloadavg()[0]:.2f} (1 min average)", flush=True)
    with tempfile.TemporaryDirectory(prefix="kctl-bench-api-") as tmp:
        asyncio.run(run(sizes, Path(tmp), report))
    print(f"load after: {os.getloadavg()[0]:.2f}; server on core {SERVER_CORE}, "
          f"load on core {CLIENT_CORE}\n")
    report.print()


if __name__ == "__main__":
    main()
