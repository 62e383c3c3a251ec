"""Container environments (node/env.py): env, envFrom, valueFrom, expansion."""

import base64

import pytest

from node.env import ConfigError, command_line, container_env, pod_services, \
    service_env
from tests.node.helpers import run

POD = {"metadata": {"name": "web", "namespace": "shop", "uid": "u-1",
                    "labels": {"app": "web"}},
       "spec": {"nodeName": "n1", "serviceAccountName": "default"}}
OBJECTS = {
    ("configmaps", "shop", "settings"): {"data": {"mode": "fast", "level": "3"}},
    ("secrets", "shop", "creds"): {"data": {"password": base64.b64encode(b"s3cret")
                                            .decode()}},
}


async def lookup(resource, namespace, name):
    return OBJECTS.get((resource, namespace, name))


def env_of(container):
    return run(container_env(POD, container, "10.0.0.2", lookup))


def test_values_expand_references_to_earlier_variables():
    env = env_of({"env": [{"name": "A", "value": "x"},
                          {"name": "B", "value": "$(A)-$(C)"},
                          {"name": "C", "value": "late"}]})

    assert env == {"A": "x", "B": "x-$(C)", "C": "late"}


def test_value_from_fields_configmaps_and_secrets():
    env = env_of({"env": [
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "HOST", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
        {"name": "APP", "valueFrom": {"fieldRef": {
            "fieldPath": "metadata.labels['app']"}}},
        {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings",
                                                           "key": "mode"}}},
        {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "creds",
                                                      "key": "password"}}},
    ]})

    assert env == {"POD": "web", "NS": "shop", "NODE": "n1", "IP": "10.0.0.2",
                   "HOST": "10.0.0.2", "APP": "web", "MODE": "fast", "PW": "s3cret"}


def test_env_from_with_a_prefix_comes_before_env():
    env = env_of({"envFrom": [{"configMapRef": {"name": "settings"}, "prefix": "CFG_"}],
                  "env": [{"name": "CFG_mode", "value": "slow"}]})

    assert env == {"CFG_mode": "slow", "CFG_level": "3"}


@pytest.mark.parametrize("var, message", [
    ({"configMapKeyRef": {"name": "absent", "key": "k"}}, 'configmap "absent" not found'),
    ({"configMapKeyRef": {"name": "settings", "key": "nope"}},
     "couldn't find key nope in ConfigMap shop/settings"),
    ({"secretKeyRef": {"name": "creds", "key": "nope"}},
     "couldn't find key nope in Secret shop/creds"),
    ({"secretKeyRef": {"name": "absent", "key": "k"}}, 'secret "absent" not found'),
], ids=["configmap", "configmap-key", "secret-key", "secret"])
def test_missing_references_are_config_errors(var, message):
    with pytest.raises(ConfigError) as caught:
        env_of({"env": [{"name": "X", "valueFrom": var}]})
    assert str(caught.value) == message


def test_optional_references_are_skipped():
    env = env_of({"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {
        "name": "absent", "key": "k", "optional": True}}}]})

    assert env == {}


def test_command_and_args_expand_from_the_env():
    container = {"command": ["echo", "$(GREETING)"], "args": ["$$(GREETING)", "$(NONE)"]}

    assert command_line(container, {"GREETING": "hi"}) == [
        "echo", "hi", "$(GREETING)", "$(NONE)"]


KUBERNETES = {"metadata": {"name": "kubernetes", "namespace": "default"},
              "spec": {"clusterIP": "10.96.0.1",
                       "ports": [{"name": "https", "port": 443, "protocol": "TCP"}]}}


def _service(name, cluster_ip, *ports):
    return {"metadata": {"name": name, "namespace": "shop"},
            "spec": {"clusterIP": cluster_ip, "ports": list(ports)}}


def test_service_variables_are_the_kubelets():
    env = service_env([KUBERNETES])

    assert env == {
        "KUBERNETES_SERVICE_HOST": "10.96.0.1",
        "KUBERNETES_SERVICE_PORT": "443",
        "KUBERNETES_SERVICE_PORT_HTTPS": "443",
        "KUBERNETES_PORT": "tcp://10.96.0.1:443",
        "KUBERNETES_PORT_443_TCP": "tcp://10.96.0.1:443",
        "KUBERNETES_PORT_443_TCP_PROTO": "tcp",
        "KUBERNETES_PORT_443_TCP_PORT": "443",
        "KUBERNETES_PORT_443_TCP_ADDR": "10.96.0.1",
    }


def test_a_dashed_service_with_two_ports_and_a_headless_one():
    web = _service("web-api", "10.96.0.7", {"port": 80},
                   {"name": "dns-udp", "port": 53, "protocol": "UDP"})

    env = service_env([web, _service("headless", "None", {"port": 80})])

    assert env["WEB_API_SERVICE_PORT"] == "80"
    assert env["WEB_API_SERVICE_PORT_DNS_UDP"] == "53"
    assert env["WEB_API_PORT"] == "tcp://10.96.0.7:80"
    assert env["WEB_API_PORT_53_UDP"] == "udp://10.96.0.7:53"
    assert not [k for k in env if k.startswith("HEADLESS")]


@pytest.mark.parametrize("links,names", [(True, ["kubernetes", "web"]),
                                         (False, ["kubernetes"])],
                         ids=["links", "no-links"])
def test_only_the_kubernetes_service_without_service_links(links, names):
    pod = {"metadata": POD["metadata"], "spec": {"enableServiceLinks": links}}

    chosen = pod_services(pod, [_service("web", "10.96.0.9", {"port": 80})],
                          KUBERNETES)

    assert [s["metadata"]["name"] for s in chosen] == names


def test_service_variables_expand_and_give_way_to_the_containers_own():
    services = service_env([KUBERNETES])

    env = run(container_env(POD, {"env": [
        {"name": "API", "value": "https://$(KUBERNETES_SERVICE_HOST)"},
        {"name": "KUBERNETES_SERVICE_PORT", "value": "6443"}]}, "10.0.0.2", lookup,
        services))

    assert env["API"] == "https://10.96.0.1"
    assert env["KUBERNETES_SERVICE_PORT"] == "6443"
    assert env["KUBERNETES_PORT"] == "tcp://10.96.0.1:443"
