"""Events (node/events.py): repeats are one event with a count."""

import asyncio

from node.events import EventRecorder
from tests.node.helpers import run

POD = {"metadata": {"name": "web", "namespace": "default", "uid": "u1",
                    "resourceVersion": "7"}}


class SlowClient:
    """Records calls; a create takes a while, as a busy server's does."""

    def __init__(self):
        self.calls = []

    async def create(self, path, obj):
        self.calls.append(("create", obj["count"]))
        await asyncio.sleep(0.05)
        return dict(obj, metadata=dict(obj["metadata"], resourceVersion="1"))

    async def replace(self, path, obj):
        self.calls.append(("replace", obj["count"]))
        return obj


def test_a_repeat_emitted_during_the_first_post_bumps_its_count():
    client = SlowClient()

    async def scenario():
        recorder = EventRecorder(client, "node-1")
        for _ in range(3):
            recorder.emit(POD, "spec.containers{c}", "Normal", "Created",
                          "Created container c")
        recorder.emit(POD, "spec.containers{c}", "Normal", "Started",
                      "Started container c")
        await recorder.drain()
        return recorder

    recorder = run(scenario())

    assert sorted(client.calls) == [("create", 1), ("create", 1), ("replace", 2),
                                    ("replace", 3)]
    assert not recorder._locks


def test_an_event_names_its_object_field_and_source():
    client = SlowClient()
    events = []
    client.create = lambda path, obj: _record(events, path, obj)

    async def scenario():
        recorder = EventRecorder(client, "node-1")
        recorder.emit(POD, "spec.containers{c}", "Warning", "BackOff", "back off")
        await recorder.drain()

    run(scenario())

    [(path, event)] = events
    assert path == "/api/v1/namespaces/default/events"
    assert event["involvedObject"] == {
        "kind": "Pod", "apiVersion": "v1", "namespace": "default", "name": "web",
        "uid": "u1", "resourceVersion": "7", "fieldPath": "spec.containers{c}"}
    assert event["source"] == {"component": "kubelet", "host": "node-1"}
    assert (event["type"], event["reason"], event["count"]) == ("Warning", "BackOff", 1)


async def _record(events, path, obj):
    events.append((path, obj))
    return obj
