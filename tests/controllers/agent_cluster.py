"""A cluster of real processes for one test module: an API server without
controllers of its own, ``python -m controllers`` with the given list, and real
node agents (``python -m node``, process runtime, short timings).

Each test works in a namespace of its own. Deleting it at the end of the test
(the namespace controller must be in the list) stops the test's pods through
the agents; every container process a test's pods ran must then be gone. At
the end of the module the agents, the controllers and the server are ended by
their pids, and any container an agent recorded that still runs is killed and
fails the module.
"""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path

import pytest
import requests

from tests.conftest import launch_server
from tests.controllers.conftest import API, _without_controllers, wait_for
from tests.controllers.deployment_helpers import start_controllers, stop_process
from tests.node.conftest import Agent
from tests.node.helpers import group_alive, kill_group


class Cluster(API):
    """The server's API, with the cluster's agents by node name."""

    def __init__(self, url: str, agents: list[Agent]):
        super().__init__(url)
        self.agents = {agent.name: agent for agent in agents}

    def record_pids(self) -> set[int]:
        return set().union(*(agent.record_pids() for agent in self.agents.values()))


@contextlib.contextmanager
def agent_cluster(base: Path, controllers: str, node_names: list[str]):
    """Yield a ``Cluster`` of a fresh server, the controllers and one agent per
    name in ``node_names``; end them all afterwards."""
    (base / "server").mkdir()
    server = launch_server(str(base / "server"), *_without_controllers())
    process = start_controllers(server, controllers, str(base))
    agents: list[Agent] = []
    try:
        for name in node_names:
            agents.append(Agent(server.url, name, base / name))
            agents[-1].start()
        yield Cluster(server.url, agents)
    finally:
        leftovers = _stop_agents(agents)
        stop_process(process)
        server.stop()
    assert not leftovers, f"container processes left running: {sorted(leftovers)}"


def _stop_agents(agents: list[Agent]) -> set[int]:
    """Stop the agents; kill the containers they recorded that still run."""
    leftovers = set()
    for agent in agents:
        agent.stop()
        leftovers |= {pid for pid in agent.seen_pids if group_alive(pid)}
    for pid in leftovers:
        kill_group(pid)
    return leftovers


@contextlib.contextmanager
def own_namespace(cluster: Cluster):
    """A namespace of one test; deleted afterwards, with its pods' processes."""
    name = "t-" + uuid.uuid4().hex[:8]
    cluster.post("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                        "metadata": {"name": name}})
    try:
        yield name
    finally:
        pids = cluster.record_pids()
        cluster.delete(f"/api/v1/namespaces/{name}")
        wait_for(lambda: cluster.maybe(f"/api/v1/namespaces/{name}") is None,
                 timeout=60, message=f"namespace {name} deleted")
        wait_for(lambda: not any(group_alive(pid) for pid in pids), timeout=15,
                 message="the containers of the namespace's pods to end")


@pytest.fixture
def namespace(cluster):
    with own_namespace(cluster) as name:
        yield name


def sleeper(marker: str) -> dict:
    """A container that runs until stopped, found by its ``MARKER`` variable."""
    return {"name": "main", "image": "busybox", "command": ["sleep", "3600"],
            "env": [{"name": "MARKER", "value": marker}]}


def phase(pod: dict) -> str:
    return (pod.get("status") or {}).get("phase", "")
