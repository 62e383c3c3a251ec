"""Watch: initial state, resume from a resourceVersion, selectors, expiry."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from tests.server.helpers import API, MERGE_PATCH, TABLE, configmap


@pytest.fixture
def api(api_server) -> API:
    return API(api_server.url)


def watch(api: API, namespace: str, count: int, headers=None, **params) -> list:
    """The first ``count`` events of a watch of configmaps in ``namespace``."""
    params = {"watch": "true", "timeoutSeconds": "10", **params}
    url = api.url + api.path("configmaps", namespace)
    events = []
    with requests.get(url, params=params, stream=True, timeout=15,
                      headers=headers or {}) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line:
                events.append(json.loads(line))
            if len(events) == count:
                break
    return events


def summary(events: list) -> list[tuple[str, str]]:
    return [(e["type"], e["object"]["metadata"].get("name", "")) for e in events]


def in_background(action, delay: float = 0.3) -> threading.Timer:
    timer = threading.Timer(delay, action)
    timer.start()
    return timer


def test_without_a_resource_version_the_current_state_comes_first(api, namespace):
    api.create("configmaps", namespace, configmap("old"))
    timer = in_background(lambda: api.create("configmaps", namespace,
                                             configmap("new")))

    events = watch(api, namespace, 2)
    timer.join()

    assert summary(events) == [("ADDED", "old"), ("ADDED", "new")]


def test_from_a_resource_version_every_later_change_in_order(api, namespace):
    start = api.create("configmaps", namespace, configmap("a")).json()
    version = start["metadata"]["resourceVersion"]
    api.patch("configmaps", namespace, "a", {"data": {"x": "1"}}, MERGE_PATCH)
    api.create("configmaps", namespace, configmap("b"))
    api.delete("configmaps", namespace, "a")

    events = watch(api, namespace, 3, resourceVersion=version)

    assert summary(events) == [("MODIFIED", "a"), ("ADDED", "b"), ("DELETED", "a")]
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert versions == sorted(versions) and versions[0] > int(version)


def test_legacy_watch_path(api, namespace):
    api.create("configmaps", namespace, configmap("legacy"))
    url = f"{api.url}/api/v1/watch/namespaces/{namespace}/configmaps"

    with requests.get(url, params={"timeoutSeconds": "5"}, stream=True,
                      timeout=10) as response:
        first = json.loads(next(response.iter_lines()))

    assert (first["type"], first["object"]["metadata"]["name"]) == ("ADDED",
                                                                    "legacy")


def test_an_object_that_stops_matching_is_sent_as_deleted(api, namespace):
    created = api.create("configmaps", namespace, configmap("m", {"app": "x"}))
    version = created.json()["metadata"]["resourceVersion"]
    api.patch("configmaps", namespace, "m", {"metadata": {"labels": {"app": "y"}}},
              MERGE_PATCH)
    api.patch("configmaps", namespace, "m", {"metadata": {"labels": {"app": "x"}}},
              MERGE_PATCH)

    events = watch(api, namespace, 2, resourceVersion=version,
                   labelSelector="app=x")

    assert summary(events) == [("DELETED", "m"), ("ADDED", "m")]


def test_a_compacted_resource_version_is_an_expired_error_event(start_server):
    server = start_server("--keep-revisions", "5", "--keep-seconds", "0",
                          "--compact-interval", "0.1")
    api = API(server.url)
    first = api.create("configmaps", "default", configmap("c0")).json()
    for n in range(1, 40):
        api.create("configmaps", "default", configmap(f"c{n}"))
    import time

    time.sleep(1.5)  # a compaction pass runs while the writer is idle
    events = watch(api, "default", 1,
                   resourceVersion=first["metadata"]["resourceVersion"])

    assert events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert (status["kind"], status["code"], status["reason"]) == ("Status", 410,
                                                                  "Expired")
    assert status["message"].startswith("too old resource version")


def test_bookmarks_when_asked_for(start_server):
    server = start_server("--watch-bookmark-interval", "0.2")
    api = API(server.url)
    api.create("configmaps", "default", configmap("b"))

    events = watch(api, "default", 2, allowWatchBookmarks="true")

    assert events[1]["type"] == "BOOKMARK"
    assert int(events[1]["object"]["metadata"]["resourceVersion"]) > 0


def test_table_watch_events_carry_one_row_each(api, namespace):
    api.create("configmaps", namespace, configmap("row"))

    events = watch(api, namespace, 1, headers={"Accept": TABLE})

    table = events[0]["object"]
    assert table["kind"] == "Table"
    assert table["rows"][0]["cells"][0] == "row"
    assert [c["name"] for c in table["columnDefinitions"]][:2] == ["Name", "Data"]


def test_timeout_seconds_ends_the_watch(api, namespace):
    url = api.url + api.path("configmaps", namespace)

    response = requests.get(url, params={"watch": "1", "timeoutSeconds": "1"},
                            timeout=10)

    assert response.status_code == 200 and response.text == ""


def test_a_client_leaving_mid_stream_is_not_an_error(start_server):
    server = start_server()
    api = API(server.url)
    url = server.url + api.path("configmaps", "default")
    sockets = []
    for _ in range(5):
        response = requests.get(url, params={"watch": "true"}, stream=True, timeout=15)
        assert response.status_code == 200
        sockets.append(response)
    for response in sockets:
        response.raw._fp.fp.raw._sock.close()  # gone without a goodbye
        response.close()
    for i in range(50):
        assert api.create("configmaps", "default",
                          configmap(f"after-{i}")).status_code == 201

    assert server.stop() == 0
    log = open(f"{server.data_dir}/server.log").read()
    assert "Traceback" not in log and "ERROR" not in log


def every_event(api: API, resource: str, namespace: str, **params) -> list:
    """Every event of a watch, read until its timeoutSeconds ends it."""
    url = api.url + api.path(resource, namespace)
    with requests.get(url, params={"watch": "true", **params}, stream=True,
                      timeout=15) as response:
        assert response.status_code == 200
        return [json.loads(line) for line in response.iter_lines() if line]


@pytest.fixture
def restarted(start_server, tmp_path):
    """A server whose history before ``version`` is only in its store: changes
    made after ``version``, then a restart, so no watch can replay them from
    memory. One more change comes after the restart."""
    data_dir = str(tmp_path / "restarted")
    server = start_server(data_dir=data_dir)
    first = API(server.url)
    for name, app in (("updated", "x"), ("deleted", "x"), ("leaves", "x"),
                      ("enters", "y")):
        created = first.create("configmaps", "default", configmap(name, {"app": app}))
    version = created.json()["metadata"]["resourceVersion"]
    first.patch("configmaps", "default", "updated", {"data": {"k": "v"}},
                MERGE_PATCH)
    first.delete("configmaps", "default", "deleted")
    for name, app in (("leaves", "y"), ("enters", "x")):
        first.patch("configmaps", "default", name,
                    {"metadata": {"labels": {"app": app}}}, MERGE_PATCH)
    assert server.stop() == 0
    api = API(start_server(data_dir=data_dir).url)
    api.create("configmaps", "default", configmap("after", {"app": "x"}))
    return api, version


def test_after_a_restart_a_resumed_watch_types_changes_against_the_old_state(
        restarted):
    api, version = restarted

    events = every_event(api, "configmaps", "default", resourceVersion=version,
                         timeoutSeconds="2")

    assert summary(events) == [("MODIFIED", "updated"), ("DELETED", "deleted"),
                               ("MODIFIED", "leaves"), ("MODIFIED", "enters"),
                               ("ADDED", "after")]
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert versions == sorted(set(versions)) and versions[0] > int(version)


def test_after_a_restart_a_selection_is_left_as_deleted_and_entered_as_added(
        restarted):
    api, version = restarted

    events = every_event(api, "configmaps", "default", resourceVersion=version,
                         timeoutSeconds="2", labelSelector="app=x")

    assert summary(events) == [("MODIFIED", "updated"), ("DELETED", "deleted"),
                               ("DELETED", "leaves"), ("ADDED", "enters"),
                               ("ADDED", "after")]
    # The object as the watcher last saw it, at the revision it left.
    left = events[2]["object"]["metadata"]
    assert left["labels"] == {"app": "x"}
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert versions == sorted(set(versions)) and versions[0] > int(version)


def test_after_a_restart_timeout_seconds_ends_a_resumed_watch_with_nothing_to_send(
        restarted):
    api, version = restarted
    started = time.monotonic()

    events = every_event(api, "secrets", "default", resourceVersion=version,
                         timeoutSeconds="1")

    assert events == []
    assert time.monotonic() - started < 5
