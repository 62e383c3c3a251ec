"""The deployment controller's arithmetic, against kube's documented cases."""

from __future__ import annotations

import pytest

from controllers import deployment_util as du


def deployment(replicas=10, surge="25%", unavailable="25%", **spec) -> dict:
    return {"metadata": {"name": "web", "generation": 1},
            "spec": {"replicas": replicas, "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}},
                **spec}}


def replica_set(name: str, replicas: int, created: str, **notes) -> dict:
    return {"metadata": {"name": name, "creationTimestamp": created,
                         "annotations": dict(notes)},
            "spec": {"replicas": replicas}}


@pytest.mark.parametrize("replicas, surge, unavailable, expected", [
    (10, "25%", "25%", (3, 2)),
    (4, "25%", "25%", (1, 1)),
    (3, "10%", "10%", (1, 0)),
    (5, 0, 0, (0, 1)),
    (5, 2, "50%", (2, 2)),
], ids=["defaults", "four", "rounding", "both-zero", "mixed"])
def test_fenceposts_round_surge_up_and_unavailable_down(replicas, surge,
                                                        unavailable, expected):
    assert du.fenceposts(deployment(replicas, surge, unavailable)) == expected


def test_hash_has_kube_shape_and_follows_template_and_collisions():
    template = {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "web:1"}]}}

    first = du.compute_hash(template, None)

    assert 1 <= len(first) <= 10
    assert set(first) <= set("bcdfghjklmnpqrstvwxz2456789")
    assert du.compute_hash(template, None) == first
    assert du.compute_hash(template, 1) != first
    changed = {**template, "spec": {"containers": [{"name": "c", "image": "web:2"}]}}
    assert du.compute_hash(changed, None) != first


def test_compute_hash_takes_a_null_creation_timestamp_for_none():
    # The server stores a template's zero creationTimestamp as null, as Go
    # prints it; templates stored before that must keep their hash.
    template = {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "web:1"}]}}
    stored = {**template, "metadata": {"labels": {"app": "web"},
                                       "creationTimestamp": None}}

    assert du.compute_hash(stored, None) == du.compute_hash(template, None)


def test_equal_ignore_hash():
    a = {"metadata": {"labels": {"app": "web", "pod-template-hash": "abc"}},
         "spec": {"containers": []}}
    b = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}}

    assert du.equal_ignore_hash(a, b)
    assert not du.equal_ignore_hash(a, {**b, "spec": {"containers": [{}]}})


def test_proportion_shares_a_scale_up_by_size():
    # 10 replicas with maxSurge 3 stalled at 8 old + 5 new, then scaled to 20.
    d = deployment(20, 3, 2)
    old = replica_set("old", 8, "1", **{du.MAX_REPLICAS: "13"})
    new = replica_set("new", 5, "2", **{du.MAX_REPLICAS: "13"})

    first = du.proportion(old, d, 10, 0)
    second = du.proportion(new, d, 10, first)

    assert (first, second) == (6, 4)


def test_new_replicas_stay_within_surge():
    d = deployment(4, 1, 1)
    old = replica_set("old", 4, "1")
    new = replica_set("new", 0, "2")

    assert du.new_rs_new_replicas(d, [old, new], new) == 1


def test_revision_history_keeps_the_replaced_revision():
    rs = {"metadata": {"annotations": {du.REVISION: "1"}}}
    d = deployment(1)
    d["metadata"]["annotations"] = {"kubernetes.io/change-cause": "why",
                                    du.REVISION: "1"}

    changed = du.set_new_rs_annotations(d, rs, 3, exists=True)

    assert changed
    assert rs["metadata"]["annotations"] == {
        du.REVISION: "3", du.REVISION_HISTORY: "1",
        "kubernetes.io/change-cause": "why"}
