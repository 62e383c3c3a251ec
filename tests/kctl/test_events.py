"""kctl events: the rows, order and words of kubectl events."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.server.helpers import API


def event(name: str, namespace: str, kind: str, obj: str, reason: str,
          type_: str, minutes_ago: int, count: int = 1, over: int = 0) -> dict:
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)

    def stamp(minutes):
        # Half a minute off the minute, and ages of ten minutes and more
        # (printed in whole minutes): kctl's and kubectl's runs, seconds
        # apart, print the same ages.
        ago = dt.timedelta(minutes=minutes, seconds=30)
        return (now - ago).strftime("%Y-%m-%dT%H:%M:%SZ")

    return {"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": {"kind": kind, "name": obj, "namespace": namespace,
                               "apiVersion": "v1"},
            "reason": reason, "message": f"  {reason} happened to {obj}  ",
            "type": type_, "count": count, "source": {"component": "test"},
            "firstTimestamp": stamp(minutes_ago + over),
            "lastTimestamp": stamp(minutes_ago)}


@pytest.fixture
def recorded(api_server, namespace):
    api = API(api_server.url)
    for body in [
        event("e1", namespace, "Pod", "web", "Scheduled", "Normal", 60),
        event("e2", namespace, "Pod", "web", "BackOff", "Warning", 15, count=7,
              over=20),
        event("e3", namespace, "Service", "front", "Created", "Normal", 40),
        event("e4", namespace, "Pod", "db", "Unhealthy", "Warning", 11),
    ]:
        assert api.create("events", namespace, body).status_code == 201
    return namespace


@pytest.mark.parametrize("args", [
    [], ["--for", "pod/web"], ["--types=Warning"], ["--types=normal,warning"],
    ["--no-headers"],
], ids=["all", "for", "warnings", "both-types", "no-headers"])
def test_the_table_is_kubectls(kctl, kubectl, recorded, args):
    ours = kctl("events", "-n", recorded, *args)
    theirs = kubectl("events", "-n", recorded, *args)

    assert ours.code == 0, ours.err
    assert ours.out == theirs.stdout


def test_oldest_first_with_counts(kctl, recorded):
    lines = kctl("events", "-n", recorded).out.splitlines()

    assert [line.split()[-4] for line in lines[1:]] == [
        "Scheduled", "Created", "BackOff", "Unhealthy"]
    assert lines[3].startswith("15m (x7 over 35m)")


def test_json_lists_them_in_order(kctl, recorded):
    listed = json.loads(kctl("events", "-n", recorded, "-o", "json").out)

    assert listed["kind"] == "EventList"
    assert [e["metadata"]["name"] for e in listed["items"]] == ["e1", "e3", "e2", "e4"]


def test_nothing_found_and_bad_types(kctl, kubectl, namespace):
    empty = kctl("events", "-n", namespace)
    bad = kctl("events", "-n", namespace, "--types=Bogus")
    theirs = kubectl("events", "-n", namespace, "--types=Bogus")

    assert (empty.code, empty.out) == (0, "")
    assert empty.err == f"No events found in {namespace} namespace.\n"
    assert (bad.code, bad.err) == (1, "error: valid --types are Normal or Warning\n")
    assert theirs.stderr == bad.err
