"""Namespaces and Nodes."""

import copy

import pytest

from server.registry.cluster import NamespaceKind, NodeKind

NS = NamespaceKind()
NODES = NodeKind()


def messages(errs) -> list[str]:
    return [str(e) for e in errs]


# Namespaces.

def test_namespace_defaults():
    ns = {"metadata": {"name": "team-a"}}

    NS.prepare_create(ns)

    assert ns == {"metadata": {"name": "team-a",
                               "labels": {"kubernetes.io/metadata.name": "team-a"}},
                  "spec": {"finalizers": ["kubernetes"]},
                  "status": {"phase": "Active"}}
    assert NS.validate(ns) == []


def test_kubernetes_finalizer_is_added_to_others():
    ns = {"metadata": {"name": "a"}, "spec": {"finalizers": ["example.com/x"]},
          "status": {"phase": "Terminating"}}

    NS.prepare_create(ns)

    assert ns["spec"]["finalizers"] == ["example.com/x", "kubernetes"]
    assert ns["status"] == {"phase": "Active"}


def test_namespace_name_is_a_dns_label():
    ns = {"metadata": {"name": "my.team"}}
    NS.prepare_create(ns)

    assert messages(NS.validate(ns)) == [
        'metadata.name: Invalid value: "my.team": must not contain dots']


def test_namespace_spec_finalizers_must_be_known_or_qualified():
    ns = {"metadata": {"name": "a"}, "spec": {"finalizers": ["custom"]}}
    NS.prepare_create(ns)

    assert messages(NS.validate(ns)) == [
        'spec.finalizers: Invalid value: "custom": name is neither a standard '
        "finalizer name nor is it fully qualified"]


def test_update_keeps_finalizers_status_and_name_label():
    old = {"metadata": {"name": "a"}}
    NS.prepare_create(old)
    new = {"metadata": {"name": "a", "labels": {"team": "x"}},
           "spec": {"finalizers": []}, "status": old["status"]}

    NS.prepare_update(new, old)

    assert new["spec"]["finalizers"] == ["kubernetes"]
    assert new["metadata"]["labels"] == {"team": "x",
                                         "kubernetes.io/metadata.name": "a"}
    assert NS.validate_update(new, old) == []


def test_status_phase_must_match_deletion():
    old = {"metadata": {"name": "a"}}
    NS.prepare_create(old)
    new = copy.deepcopy(old)
    new["status"]["phase"] = "Terminating"

    assert messages(NS.validate_status_update(new, old)) == [
        'status.Phase: Invalid value: "Terminating": may only be \'Active\' if '
        "`deletionTimestamp` is empty"]


def test_namespace_discovery_and_fields():
    ns = {"metadata": {"name": "a"}}
    NS.prepare_create(ns)

    assert NS.field_values(ns) == {"metadata.name": "a", "status.phase": "Active",
                                   "name": "a"}
    assert "deletecollection" not in NS.verbs
    assert (NS.short_names, NS.namespaced, NS.subresources) == (
        ("ns",), False, ("status", "finalize"))
    assert [c.cell(ns) for c in NS.columns()][:2] == ["a", "Active"]


# Nodes.

def node(ready=None, unschedulable=False, labels=None) -> dict:
    obj = {"metadata": {"name": "node1", "labels": labels or {},
                        "creationTimestamp": "2024-05-01T11:00:00Z"},
           "spec": {}, "status": {
               "addresses": [{"type": "Hostname", "address": "node1"},
                             {"type": "InternalIP", "address": "192.168.1.10"}],
               "nodeInfo": {"kubeletVersion": "v1.32.0", "osImage": "Debian",
                            "kernelVersion": "6.1.0", "containerRuntimeVersion": ""}}}
    if ready is not None:
        obj["status"]["conditions"] = [{"type": "Ready", "status": ready}]
    if unschedulable:
        obj["spec"]["unschedulable"] = True
    return obj


@pytest.mark.parametrize("ready,unschedulable,status", [
    ("True", False, "Ready"),
    ("False", False, "NotReady"),
    ("Unknown", False, "NotReady"),
    (None, False, "Unknown"),
    ("True", True, "Ready,SchedulingDisabled"),
], ids=["ready", "not-ready", "unknown-condition", "no-condition", "cordoned"])
def test_node_status_cell(ready, unschedulable, status):
    assert NODES.columns()[1].cell(node(ready, unschedulable)) == status


@pytest.mark.parametrize("labels,roles", [
    ({}, "<none>"),
    ({"node-role.kubernetes.io/control-plane": ""}, "control-plane"),
    ({"node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/infra": "",
      "kubernetes.io/role": "edge"}, "edge,infra,worker"),
    ({"node-role.kubernetes.io/": "x"}, "<none>"),
], ids=["none", "control-plane", "several", "empty-role"])
def test_node_roles_cell(labels, roles):
    assert NODES.columns()[2].cell(node(labels=labels)) == roles


def test_node_row():
    cells = [c.cell(node("True")) for c in NODES.columns()]

    assert cells == ["node1", "Ready", "<none>", "2024-05-01T11:00:00Z", "v1.32.0",
                     "192.168.1.10", "<none>", "Debian", "6.1.0", "<unknown>"]
    assert [(c.name, c.priority) for c in NODES.columns()] == [
        ("Name", 0), ("Status", 0), ("Roles", 0), ("Age", 0), ("Version", 0),
        ("Internal-IP", 1), ("External-IP", 1), ("OS-Image", 1),
        ("Kernel-Version", 1), ("Container-Runtime", 1)]


def test_node_keeps_its_status_on_create():
    obj = node("True")
    obj["status"]["capacity"] = {"cpu": "2", "memory": "4Gi"}

    NODES.prepare_create(obj)

    assert obj["status"]["conditions"] == [{"type": "Ready", "status": "True"}]
    assert obj["status"]["allocatable"] == {"cpu": "2", "memory": "4Gi"}
    assert NODES.validate(obj) == []


def test_node_taints():
    obj = node()
    obj["spec"]["taints"] = [{"key": "a", "effect": "NoSchedule"},
                             {"key": "a", "effect": "NoSchedule"},
                             {"key": "b", "effect": "Sometimes"}]

    errs = NODES.validate(obj)

    assert [(e.type, e.field) for e in errs] == [
        ("Duplicate value", "metadata.taints[1]"),
        ("Unsupported value", "metadata.taints[2].effect")]
    assert errs[0].detail == "taints must be unique by key and effect pair"


def test_provider_id_may_not_change():
    old = node()
    old["spec"]["providerID"] = "kctl://node1"
    new = copy.deepcopy(old)
    new["spec"]["providerID"] = "kctl://other"

    assert messages(NODES.validate_update(new, old)) == [
        "spec.providerID: Forbidden: may not update providerID once set"]


def test_node_field_values():
    assert NODES.field_values(node(unschedulable=True)) == {
        "metadata.name": "node1", "spec.unschedulable": "true"}
    assert NODES.field_values(node())["spec.unschedulable"] == "false"
    assert (NODES.short_names, NODES.namespaced) == (("no",), False)
