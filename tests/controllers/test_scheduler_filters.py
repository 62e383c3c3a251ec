"""The scheduler's pure parts: requests, filters, reasons, message, cache, scores."""

from __future__ import annotations

import pytest

from controllers.scheduling.cache import NodeInfo, SchedulerCache
from controllers.scheduling.filters import (
    PodInfo, expression_matches, filter_node, fit_error_message, tolerates)
from controllers.scheduling.resources import (
    PodRequest, amount, effective_requests, ports_conflict)
from controllers.scheduling.score import best_node


def node(name: str = "n1", cpu: str = "2", memory: str = "4Gi", pods: str = "110",
         ready: str = "True", labels: dict | None = None, taints=None,
         unschedulable: bool = False) -> NodeInfo:
    return NodeInfo.of({
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"taints": taints or [], "unschedulable": unschedulable},
        "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": pods},
                   "conditions": [{"type": "Ready", "status": ready}]}})


def pod(uid: str = "u1", cpu: str = "", memory: str = "", owner: str = "",
        **spec) -> dict:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    meta = {"name": uid, "namespace": "default", "uid": uid}
    if owner:
        meta["ownerReferences"] = [{"uid": owner, "controller": True,
                                    "kind": "ReplicaSet", "name": "rs"}]
    return {"metadata": meta, "spec": {
        "containers": [{"name": "c", "resources": {"requests": requests}}], **spec}}


@pytest.mark.parametrize("text,resource,expected", [
    ("1", "cpu", 1000), ("500m", "cpu", 500), ("0.1", "cpu", 100),
    ("1.0001", "cpu", 1001), ("2Gi", "memory", 2 << 30), ("1e3", "memory", 1000),
    ("128M", "memory", 128_000_000), ("1k", "pods", 1000),
], ids=["cores", "milli", "fraction", "rounds-up", "binary", "exponent",
        "decimal", "kilo"])
def test_amount(text, resource, expected):
    assert amount(resource, text) == expected


def test_effective_requests_take_the_largest_init_step_and_sidecars():
    spec = {"containers": [{"resources": {"requests": {"cpu": "100m"}}},
                           {"resources": {"limits": {"cpu": "200m", "memory": "1Gi"}}}],
            "initContainers": [
                {"restartPolicy": "Always", "resources": {"requests": {"cpu": "50m"}}},
                {"resources": {"requests": {"cpu": "1", "memory": "64Mi"}}}],
            "overhead": {"cpu": "10m"}}

    assert effective_requests(spec) == {"cpu": 1060, "memory": 1 << 30}


@pytest.mark.parametrize("toleration,taint,expected", [
    ({"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"},
     {"key": "k", "value": "v", "effect": "NoSchedule"}, True),
    ({"key": "k", "value": "other"}, {"key": "k", "value": "v", "effect": "NoSchedule"},
     False),
    ({"key": "k", "operator": "Exists"},
     {"key": "k", "value": "v", "effect": "NoExecute"}, True),
    ({"operator": "Exists"}, {"key": "any", "effect": "NoSchedule"}, True),
    ({"key": "k", "operator": "Exists", "effect": "NoExecute"},
     {"key": "k", "effect": "NoSchedule"}, False),
    ({"operator": "Equal", "value": "v"}, {"key": "k", "value": "v",
                                          "effect": "NoSchedule"}, False),
], ids=["equal", "other-value", "exists", "empty-key-exists", "other-effect",
        "empty-key-equal"])
def test_tolerates(toleration, taint, expected):
    assert tolerates(toleration, taint) is expected


@pytest.mark.parametrize("operator,values,labels,expected", [
    ("In", ["a", "b"], {"k": "b"}, True), ("In", ["a"], {}, False),
    ("NotIn", ["a"], {}, True), ("NotIn", ["a"], {"k": "a"}, False),
    ("Exists", [], {"k": ""}, True), ("DoesNotExist", [], {"k": "x"}, False),
    ("Gt", ["5"], {"k": "6"}, True), ("Gt", ["5"], {"k": "5"}, False),
    ("Lt", ["5"], {"k": "4"}, True), ("Lt", ["5"], {"k": "x"}, False),
], ids=["in", "in-absent", "notin-absent", "notin", "exists", "doesnotexist",
        "gt", "gt-equal", "lt", "lt-not-a-number"])
def test_expression_matches(operator, values, labels, expected):
    expression = {"key": "k", "operator": operator, "values": values}
    assert expression_matches(expression, labels) is expected


def test_affinity_terms_are_ored_and_expressions_anded():
    terms = [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]},
                                   {"key": "disk", "operator": "Exists"}]},
             {"matchFields": [{"key": "metadata.name", "operator": "In",
                               "values": ["n3"]}]}]
    required = {"nodeSelectorTerms": terms}
    info = PodInfo.of(pod(affinity={"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": required}}))

    assert filter_node(info, node("n1", labels={"zone": "a", "disk": "ssd"})) == []
    assert filter_node(info, node("n2", labels={"zone": "a"})) == [
        "node(s) didn't match Pod's node affinity/selector"]
    assert filter_node(info, node("n3")) == []


@pytest.mark.parametrize("info,expected", [
    (node(unschedulable=True), ["node(s) were unschedulable"]),
    (node(ready="False"),
     ["node(s) had untolerated taint {node.kubernetes.io/not-ready: }"]),
    (node(ready="Unknown"),
     ["node(s) had untolerated taint {node.kubernetes.io/unreachable: }"]),
    (node(taints=[{"key": "a", "value": "b", "effect": "PreferNoSchedule"},
                  {"key": "gpu", "value": "x", "effect": "NoExecute"}]),
     ["node(s) had untolerated taint {gpu: x}"]),
    (node(cpu="1", memory="1Mi"), ["Insufficient cpu", "Insufficient memory"]),
    (node(pods="0"), ["Too many pods"]),
], ids=["cordoned", "not-ready", "unreachable", "taint", "resources", "pods"])
def test_filter_reasons(info, expected):
    assert filter_node(PodInfo.of(pod(cpu="1500m", memory="1Gi")), info) == expected


def test_a_toleration_of_unschedulable_passes_a_cordoned_node():
    info = PodInfo.of(pod(tolerations=[{"key": "node.kubernetes.io/unschedulable",
                                        "operator": "Exists"}]))

    assert filter_node(info, node(unschedulable=True)) == []


def test_host_ports_conflict_on_the_same_port_and_protocol():
    assert ports_conflict({("0.0.0.0", "TCP", 80)}, {("10.0.0.1", "TCP", 80)})
    assert not ports_conflict({("0.0.0.0", "UDP", 80)}, {("0.0.0.0", "TCP", 80)})
    assert not ports_conflict({("10.0.0.2", "TCP", 80)}, {("10.0.0.1", "TCP", 80)})


def test_fit_error_message_sorts_counted_reasons():
    message = fit_error_message(3, {
        "node(s) didn't match Pod's node affinity/selector": 2, "Insufficient cpu": 1})

    assert message == ("0/3 nodes are available: 1 Insufficient cpu, "
                       "2 node(s) didn't match Pod's node affinity/selector.")
    assert fit_error_message(0, {}) == "no nodes available to schedule pods"


def test_cache_counts_assumed_pods_and_forgets_failed_bindings():
    cache = SchedulerCache()
    cache.set_node(node("n1").node)
    big = PodInfo.of(pod("a", cpu="1500m"))
    cache.assume("a", "n1", big.request)

    assert filter_node(PodInfo.of(pod("b", cpu="1")), cache.nodes["n1"]) == [
        "Insufficient cpu"]

    cache.forget("a")
    assert filter_node(PodInfo.of(pod("b", cpu="1")), cache.nodes["n1"]) == []


def test_cache_frees_a_pod_that_ended():
    cache = SchedulerCache()
    cache.set_node(node("n1").node)
    bound = pod("a", cpu="2")
    bound["spec"]["nodeName"] = "n1"
    cache.observe_pod(bound)
    assert cache.nodes["n1"].requested == {"cpu": 2000}

    bound["status"] = {"phase": "Succeeded"}
    cache.observe_pod(bound)

    assert cache.nodes["n1"].requested == {"cpu": 0}
    assert not cache.nodes["n1"].pods


def test_best_node_spreads_one_owners_pods():
    nodes = [node("n1"), node("n2")]
    nodes[0].add("x", PodRequest.of(pod("x", owner="rs-1")))
    nodes[1].add("y", PodRequest.of(pod("y", cpu="100m", memory="64Mi")))

    chosen = best_node(PodInfo.of(pod("z", owner="rs-1")), nodes)

    assert chosen.name == "n2"


def test_best_node_prefers_the_least_allocated():
    nodes = [node("n1", cpu="4"), node("n2", cpu="4")]
    nodes[1].add("x", PodRequest.of(pod("x", cpu="3")))

    assert best_node(PodInfo.of(pod("z", cpu="100m")), nodes).name == "n1"
