"""The official Python client (``kubernetes`` from PyPI) against our server."""

from __future__ import annotations

import threading

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException


@pytest.fixture
def core(api_server) -> client.CoreV1Api:
    config = client.Configuration()
    config.host = api_server.url
    return client.CoreV1Api(client.ApiClient(config))


def new_pod(name: str, labels: dict | None = None) -> client.V1Pod:
    container = client.V1Container(name="main", image="busybox:1.36",
                                   command=["sleep", "3600"])
    return client.V1Pod(metadata=client.V1ObjectMeta(name=name, labels=labels),
                        spec=client.V1PodSpec(containers=[container]))


def test_create_read_list_patch_delete_pods(core, namespace):
    created = core.create_namespaced_pod(namespace, new_pod("a", {"app": "web"}))
    core.create_namespaced_pod(namespace, new_pod("b", {"app": "db"}))

    read = core.read_namespaced_pod("a", namespace)
    selected = core.list_namespaced_pod(namespace, label_selector="app=web")
    patched = core.patch_namespaced_pod("a", namespace,
                                        {"metadata": {"labels": {"tier": "1"}}})
    core.delete_namespaced_pod("b", namespace)

    assert read.metadata.uid == created.metadata.uid
    assert read.spec.restart_policy == "Always"
    assert read.spec.containers[0].image_pull_policy == "IfNotPresent"
    assert read.status.phase == "Pending"
    assert [p.metadata.name for p in selected.items] == ["a"]
    assert patched.metadata.labels == {"app": "web", "tier": "1"}
    assert [p.metadata.name for p in core.list_namespaced_pod(namespace).items] == ["a"]


def test_replace_with_a_stale_resource_version_is_409(core, namespace):
    pod = core.create_namespaced_pod(namespace, new_pod("stale"))
    core.patch_namespaced_pod("stale", namespace, {"metadata": {"labels": {"x": "1"}}})
    pod.metadata.labels = {"x": "2"}

    with pytest.raises(ApiException) as raised:
        core.replace_namespaced_pod("stale", namespace, pod)

    assert raised.value.status == 409


def test_create_and_delete_namespaces(core):
    core.create_namespace(client.V1Namespace(
        metadata=client.V1ObjectMeta(name="py-client-ns")))

    assert core.read_namespace("py-client-ns").status.phase == "Active"
    core.delete_namespace("py-client-ns")

    import time

    deadline = time.monotonic() + 10
    while "py-client-ns" in [n.metadata.name for n in core.list_namespace().items]:
        assert time.monotonic() < deadline, "the namespace was not removed"
        time.sleep(0.1)
    with pytest.raises(ApiException) as raised:
        core.read_namespace("py-client-ns")
    assert raised.value.status == 404


def test_watch_streams_changes_and_resumes_from_a_resource_version(core, namespace):
    start = core.list_namespaced_pod(namespace).metadata.resource_version

    def changes():
        core.create_namespaced_pod(namespace, new_pod("w"))
        core.patch_namespaced_pod("w", namespace, {"metadata": {"labels": {"a": "b"}}})
        core.delete_namespaced_pod("w", namespace)

    timer = threading.Timer(0.3, changes)
    timer.start()
    seen = []
    stream = watch.Watch()
    for event in stream.stream(core.list_namespaced_pod, namespace,
                               resource_version=start, timeout_seconds=10):
        seen.append((event["type"], event["object"].metadata.name,
                     event["object"].metadata.resource_version))
        if len(seen) == 3:
            stream.stop()
    timer.join()

    assert [s[:2] for s in seen] == [("ADDED", "w"), ("MODIFIED", "w"),
                                     ("DELETED", "w")]
    resumed = []
    stream = watch.Watch()
    for event in stream.stream(core.list_namespaced_pod, namespace,
                               resource_version=seen[0][2], timeout_seconds=5):
        resumed.append(event["type"])
        if len(resumed) == 2:
            stream.stop()
    assert resumed == ["MODIFIED", "DELETED"]


def test_an_expired_resource_version_yields_410(start_server):
    server = start_server("--keep-revisions", "5", "--keep-seconds", "0",
                          "--compact-interval", "0.1")
    config = client.Configuration()
    config.host = server.url
    core = client.CoreV1Api(client.ApiClient(config))
    for n in range(30):
        core.create_namespaced_config_map("default", client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name=f"c{n}")))
    import time

    time.sleep(1.5)

    with pytest.raises(ApiException) as raised:
        for _ in watch.Watch().stream(core.list_namespaced_config_map, "default",
                                      resource_version="2", timeout_seconds=5):
            pass

    assert raised.value.status == 410


def test_server_side_apply_through_the_client(core, namespace):
    body = {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "applied"}, "data": {"a": "1"}}
    apply = "application/apply-patch+yaml"

    created = core.patch_namespaced_config_map(
        "applied", namespace, body, field_manager="py", _content_type=apply)
    body["data"] = {"a": "2"}
    with pytest.raises(ApiException) as conflict:
        core.patch_namespaced_config_map("applied", namespace, body,
                                         field_manager="other",
                                         _content_type=apply)

    assert created.data == {"a": "1"}
    assert [(m.manager, m.operation) for m in created.metadata.managed_fields] == [
        ("py", "Apply")]
    assert conflict.value.status == 409
    assert core.read_namespaced_config_map("applied", namespace).data == {"a": "1"}
