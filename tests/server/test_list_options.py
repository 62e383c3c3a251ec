"""ListOptions of lists, gets and watches: resourceVersion, resourceVersionMatch,
sendInitialEvents, limit and continue, answered as kube-apiserver 1.32 does."""

from __future__ import annotations

import base64
import json
import threading
import time

import orjson
import pytest
import requests

from tests.server.helpers import API, configmap, status_of


@pytest.fixture
def api(api_server) -> API:
    return API(api_server.url)


def names(response) -> list[str]:
    return [i["metadata"]["name"] for i in response.json()["items"]]


def revision_of(response) -> int:
    return int(response.json()["metadata"]["resourceVersion"])


def invalid(detail: str) -> str:
    return f'ListOptions.meta.k8s.io "" is invalid: {detail}'


def token(revision: int, start: str) -> str:
    body = {"v": "meta.k8s.io/v1", "rv": revision, "start": start}
    return base64.urlsafe_b64encode(orjson.dumps(body)).decode()


def watch_lines(api: API, namespace: str, count: int, **params) -> list[dict]:
    params = {"watch": "true", "timeoutSeconds": "10", **params}
    url = api.url + api.path("configmaps", namespace)
    events = []
    with requests.get(url, params=params, stream=True, timeout=15) as response:
        assert response.status_code == 200, response.text
        for line in response.iter_lines():
            if line:
                events.append(json.loads(line))
            if len(events) == count:
                break
    return events


# resourceVersionMatch on lists.

@pytest.mark.parametrize("params,detail", [
    ({"resourceVersionMatch": "Exact"},
     "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless "
     "resourceVersion is provided"),
    ({"resourceVersionMatch": "Bogus", "resourceVersion": "1"},
     'resourceVersionMatch: Unsupported value: "Bogus": supported values: '
     '"Exact", "NotOlderThan", ""'),
    ({"resourceVersionMatch": "Exact", "resourceVersion": "0"},
     'resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden '
     'for resourceVersion "0"'),
    ({"sendInitialEvents": "true"},
     "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list"),
], ids=["match-without-rv", "unsupported-match", "exact-at-0", "initial-events"])
def test_list_options_kube_refuses_are_invalid(api, namespace, params, detail):
    response = api.get("configmaps", namespace, params=params)

    assert status_of(response) == (422, "Invalid", invalid(detail))
    details = response.json()["details"]
    assert (details["kind"], details["group"]) == ("ListOptions", "meta.k8s.io")
    assert details["causes"][0]["field"] == detail.split(":")[0]


def test_a_match_with_a_continue_token_is_invalid(api, namespace):
    params = {"resourceVersionMatch": "NotOlderThan", "resourceVersion": "1",
              "continue": token(5, "/registry/configmaps/x/a")}

    response = api.get("configmaps", namespace, params=params)

    assert status_of(response)[:2] == (422, "Invalid")
    assert "resourceVersionMatch is forbidden when continue is provided" in \
        response.json()["message"]


def test_an_exact_list_is_the_state_at_that_revision(api, namespace):
    api.create("configmaps", namespace, configmap("a"))
    at = revision_of(api.get("configmaps", namespace))
    api.create("configmaps", namespace, configmap("b"))
    api.delete("configmaps", namespace, "a")
    api.put("configmaps", namespace, "b", configmap("b", x="1"))

    response = api.get("configmaps", namespace, params={
        "resourceVersionMatch": "Exact", "resourceVersion": str(at)})

    assert response.status_code == 200
    assert names(response) == ["a"]
    assert revision_of(response) == at


def test_an_exact_list_pages_over_the_same_revision(api, namespace):
    for name in ("a", "b", "c"):
        api.create("configmaps", namespace, configmap(name))
    at = revision_of(api.get("configmaps", namespace))
    api.create("configmaps", namespace, configmap("a2"))

    first = api.get("configmaps", namespace, params={
        "resourceVersionMatch": "Exact", "resourceVersion": str(at), "limit": 2})
    rest = api.get("configmaps", namespace,
                   params={"continue": first.json()["metadata"]["continue"]})

    assert names(first) + names(rest) == ["a", "b", "c"]
    assert revision_of(rest) == at


def test_a_limit_with_a_resource_version_is_the_legacy_exact_list(api, namespace):
    api.create("configmaps", namespace, configmap("a"))
    at = revision_of(api.get("configmaps", namespace))
    api.create("configmaps", namespace, configmap("b"))

    response = api.get("configmaps", namespace,
                       params={"resourceVersion": str(at), "limit": 5})

    assert names(response) == ["a"] and revision_of(response) == at


def test_not_older_than_serves_the_current_state(api, namespace):
    api.create("configmaps", namespace, configmap("a"))
    at = revision_of(api.get("configmaps", namespace))
    api.create("configmaps", namespace, configmap("b"))

    response = api.get("configmaps", namespace, params={
        "resourceVersionMatch": "NotOlderThan", "resourceVersion": str(at)})

    assert names(response) == ["a", "b"] and revision_of(response) > at


def test_an_exact_list_of_a_compacted_revision_is_expired(start_server):
    server = start_server("--compact-interval=0.1", "--keep-revisions=1",
                          "--keep-seconds=0")
    api = API(server.url)
    at = revision_of(api.get("configmaps", "default"))
    deadline = time.monotonic() + 15
    while True:
        api.create("configmaps", "default", {"metadata": {"generateName": "w-"}})
        response = api.get("configmaps", "default", params={
            "resourceVersionMatch": "Exact", "resourceVersion": str(at)})
        if response.status_code != 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)

    assert status_of(response) == (
        410, "Expired", "The resourceVersion for the provided list is too old.")


# A resourceVersion newer than the cache's: wait for it, else 504.

def too_large(wanted: int, current: int) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "code": 504, "reason": "Timeout",
            "message": f"Timeout: Too large resource version: {wanted}, "
                       f"current: {current}",
            "details": {"causes": [{"reason": "ResourceVersionTooLarge",
                                    "message": "Too large resource version"}],
                        "retryAfterSeconds": 1}}


@pytest.mark.parametrize("params", [
    {}, {"resourceVersionMatch": "NotOlderThan"},
    {"resourceVersionMatch": "Exact"}], ids=["plain", "not-older-than", "exact"])
def test_a_list_from_the_future_is_a_timeout(api, namespace, params):
    current = revision_of(api.get("configmaps", namespace))
    wanted = current + 1000

    started = time.monotonic()
    response = api.get("configmaps", namespace,
                       params={**params, "resourceVersion": str(wanted)})

    assert time.monotonic() - started >= 2.9  # the watch cache's 3 s
    body = response.json()
    assert response.status_code == 504
    assert int(body["message"].rsplit(" ", 1)[1]) >= current
    assert body == too_large(wanted, int(body["message"].rsplit(" ", 1)[1]))


def test_a_get_from_the_future_is_a_timeout(api):
    current = revision_of(api.get("configmaps", "default"))

    response = api.get("services", "default", "kubernetes",
                       params={"resourceVersion": str(current + 1000)})

    assert status_of(response)[:2] == (504, "Timeout")
    assert response.json()["details"]["causes"][0]["reason"] == \
        "ResourceVersionTooLarge"


def test_a_list_waits_for_a_revision_written_meanwhile(api, namespace):
    current = revision_of(api.get("configmaps", namespace))
    writer = threading.Timer(1.0, lambda: [
        api.create("configmaps", namespace, configmap(n)) for n in ("a", "b")])
    writer.start()

    response = api.get("configmaps", namespace, params={
        "resourceVersionMatch": "NotOlderThan", "resourceVersion": str(current + 2)})
    writer.join()

    assert response.status_code == 200
    assert revision_of(response) >= current + 2
    assert names(response) == ["a", "b"]


def test_a_get_waits_for_its_revision(api, namespace):
    api.create("configmaps", namespace, configmap("a"))
    current = revision_of(api.get("configmaps", namespace))
    writer = threading.Timer(1.0, lambda: api.put(
        "configmaps", namespace, "a", configmap("a", x="1")))
    writer.start()

    response = api.get("configmaps", namespace, "a",
                       params={"resourceVersion": str(current + 1)})
    writer.join()

    assert response.json()["data"] == {"x": "1"}


def test_a_watch_from_the_future_ends_with_a_timeout_event(api, namespace):
    current = revision_of(api.get("configmaps", namespace))

    events = watch_lines(api, namespace, 1, resourceVersion=str(current + 1000))

    assert events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert (status["code"], status["reason"]) == (504, "Timeout")
    assert status["message"].startswith(
        f"Timeout: Too large resource version: {current + 1000}, current: ")


def test_a_watch_from_a_revision_written_meanwhile_sends_what_follows(
        api, namespace):
    current = revision_of(api.get("configmaps", namespace))
    writer = threading.Timer(0.5, lambda: [
        api.create("configmaps", namespace, configmap(n)) for n in "abc"])
    writer.start()

    # From the revision of "a": only "b" and "c" follow it.
    events = watch_lines(api, namespace, 2, resourceVersion=str(current + 1))
    writer.join()

    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "b"), ("ADDED", "c")]


# sendInitialEvents: the watch-list protocol of client-go.

def test_send_initial_events_ends_the_state_with_an_annotated_bookmark(
        api, namespace):
    for name in ("a", "b"):
        api.create("configmaps", namespace, configmap(name))
    listed = revision_of(api.get("configmaps", namespace))

    events = watch_lines(api, namespace, 3, sendInitialEvents="true",
                         resourceVersionMatch="NotOlderThan",
                         allowWatchBookmarks="true")

    assert [e["type"] for e in events] == ["ADDED", "ADDED", "BOOKMARK"]
    assert [e["object"]["metadata"]["name"] for e in events[:2]] == ["a", "b"]
    bookmark = events[2]["object"]
    assert (bookmark["kind"], bookmark["apiVersion"]) == ("ConfigMap", "v1")
    assert bookmark["metadata"]["annotations"] == {
        "k8s.io/initial-events-end": "true"}
    assert int(bookmark["metadata"]["resourceVersion"]) >= listed


def test_send_initial_events_then_follows_changes(api, namespace):
    api.create("configmaps", namespace, configmap("a"))
    writer = threading.Timer(0.5, lambda: api.create(
        "configmaps", namespace, configmap("b")))
    writer.start()

    events = watch_lines(api, namespace, 3, sendInitialEvents="true",
                         resourceVersionMatch="NotOlderThan",
                         allowWatchBookmarks="true", resourceVersion="0")
    writer.join()

    assert [(e["type"], e["object"]["metadata"].get("name")) for e in events] == [
        ("ADDED", "a"), ("BOOKMARK", None), ("ADDED", "b")]


def test_send_initial_events_false_replays_from_the_resource_version(
        api, namespace):
    api.create("configmaps", namespace, configmap("a"))
    at = revision_of(api.get("configmaps", namespace))
    api.create("configmaps", namespace, configmap("b"))

    events = watch_lines(api, namespace, 1, sendInitialEvents="false",
                         resourceVersionMatch="NotOlderThan",
                         resourceVersion=str(at))

    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "b")]


@pytest.mark.parametrize("params,detail", [
    ({"sendInitialEvents": "true"},
     "resourceVersionMatch: Forbidden: sendInitialEvents requires setting "
     "resourceVersionMatch to NotOlderThan"),
    ({"resourceVersionMatch": "NotOlderThan"},
     "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for "
     "watch unless sendInitialEvents is provided"),
    ({"sendInitialEvents": "true", "resourceVersionMatch": "Exact"},
     '[resourceVersionMatch: Forbidden: sendInitialEvents requires setting '
     'resourceVersionMatch to NotOlderThan, resourceVersionMatch: Unsupported '
     'value: "Exact": supported values: "NotOlderThan"]'),
], ids=["without-match", "match-without-initial-events", "exact"])
def test_watch_options_kube_refuses_are_invalid(api, namespace, params, detail):
    response = api.get("configmaps", namespace, params={"watch": "1", **params})

    assert status_of(response) == (422, "Invalid", invalid(detail))


# limit.

def test_a_negative_limit_is_no_limit(api, namespace):
    for name in ("a", "b", "c"):
        api.create("configmaps", namespace, configmap(name))

    response = api.get("configmaps", namespace, params={"limit": "-1"})

    assert names(response) == ["a", "b", "c"]
    assert response.json()["metadata"].keys() == {"resourceVersion"}


def test_a_limit_past_int64_is_a_bad_request(api, namespace):
    response = api.get("configmaps", namespace,
                       params={"limit": "9223372036854775808"})

    assert status_of(response) == (
        400, "BadRequest",
        'strconv.ParseInt: parsing "9223372036854775808": value out of range')


# resourceVersion that does not parse.

@pytest.mark.parametrize("path,params", [
    ("list", {}), ("watch", {"watch": "1"}), ("get", {})],
    ids=["list", "watch", "get"])
@pytest.mark.parametrize("version", ["abc", "-5"])
def test_an_invalid_resource_version_is_a_bad_request(api, path, params,
                                                      version):
    name = "kubernetes" if path == "get" else ""

    response = api.get("services", "default", name,
                       params={**params, "resourceVersion": version})

    assert status_of(response) == (
        400, "BadRequest",
        f'invalid resource version: resourceVersion: Invalid value: "{version}": '
        f'strconv.ParseUint: parsing "{version}": invalid syntax')


# Continue tokens.

def first_page(api: API, namespace: str) -> dict:
    for name in ("a", "b", "c"):
        api.create("configmaps", namespace, configmap(name))
    return api.get("configmaps", namespace, params={"limit": 1}).json()


def test_a_token_with_a_resource_version_is_a_bad_request(api, namespace):
    page = first_page(api, namespace)

    response = api.get("configmaps", namespace, params={
        "continue": page["metadata"]["continue"],
        "resourceVersion": page["metadata"]["resourceVersion"]})

    assert status_of(response) == (
        400, "BadRequest",
        "specifying resource version is not allowed when using continue")


def test_a_token_with_resource_version_0_goes_on(api, namespace):
    page = first_page(api, namespace)

    response = api.get("configmaps", namespace, params={
        "continue": page["metadata"]["continue"], "resourceVersion": "0"})

    assert names(response) == ["b", "c"]


@pytest.mark.parametrize("start,why", [
    ("/registry/configmaps/{ns}/../../secrets/{ns}/a",
     "/registry/configmaps/{ns}/../../secrets/{ns}/a"),
    ("/registry/secrets/{ns}/a", "/registry/secrets/{ns}/a"),
    ("/registry/configmaps/other/a", "/registry/configmaps/other/a"),
    ("", "encoded start key empty (version meta.k8s.io/v1)"),
], ids=["dot-dot", "other-resource", "other-namespace", "empty"])
def test_a_token_outside_the_list_is_a_bad_request(api, namespace, start, why):
    bad = token(revision_of(api.get("configmaps", namespace)),
                start.format(ns=namespace))

    response = api.get("configmaps", namespace, params={"continue": bad})

    assert status_of(response) == (
        400, "BadRequest", "invalid continue token: continue key is not valid: "
        + why.format(ns=namespace))
    assert "continue" not in response.json()["metadata"]


def test_a_token_from_the_future_is_a_bad_request(api, namespace):
    current = revision_of(api.get("configmaps", namespace))
    bad = token(current + 1000, f"/registry/configmaps/{namespace}/a")

    response = api.get("configmaps", namespace, params={"continue": bad})

    assert status_of(response) == (
        400, "BadRequest", "invalid continue token: continue key is not valid: "
        "incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
