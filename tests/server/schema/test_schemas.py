"""The schemas of the served kinds: complete, and numbered as generated.proto."""

from __future__ import annotations

import pytest

from server.schema import SCHEMAS, kind_schema
from tests.server.openapi_kinds import SERVED

KINDS = [(group, kind) for group, kind, *_ in SERVED]


@pytest.mark.parametrize("group,kind", KINDS, ids=[k for _, k in KINDS])
def test_every_served_kind_has_a_schema_and_a_list(group, kind):
    schema = kind_schema(group, "v1", kind)
    listed = kind_schema(group, "v1", kind + "List")

    assert schema is not None
    assert {"apiVersion", "kind", "metadata"} <= set(schema.json_fields)
    assert listed.json_fields["items"].type.item.ref == kind


@pytest.mark.parametrize("name", ["Status", "DeleteOptions", "Binding",
                                  "Scale", "WatchEvent"])
def test_api_kinds_have_a_gvk(name):
    assert SCHEMAS[name].gvk is not None


def test_every_field_has_a_description():
    # kubectl explain prints them; inline structs have none of their own.
    missing = [f"{s.name}.{f.name}" for s in SCHEMAS.values()
               for f in s.fields if not f.inline and not f.description]

    assert missing == []


@pytest.mark.parametrize("schema,field_name,number", [
    ("ObjectMeta", "labels", 11), ("ObjectMeta", "managedFields", 17),
    ("OwnerReference", "apiVersion", 5), ("PodSpec", "containers", 2),
    ("PodSpec", "initContainers", 20), ("PodSpec", "ephemeralContainers", 34),
    ("Container", "image", 2), ("Container", "envFrom", 19),
    ("Container", "restartPolicy", 24), ("VolumeSource", "projected", 26),
    ("VolumeSource", "csi", 28), ("PodStatus", "podIPs", 12),
    ("ServiceSpec", "clusterIPs", 18), ("ServicePort", "targetPort", 4),
    ("Secret", "stringData", 4), ("ConfigMap", "immutable", 4),
    ("NodeSpec", "podCIDRs", 7), ("Event", "reportingInstance", 15),
    ("ServiceAccount", "imagePullSecrets", 3),
    ("ServiceAccount", "automountServiceAccountToken", 4),
    ("DeploymentSpec", "progressDeadlineSeconds", 9),
    ("DeploymentStatus", "readyReplicas", 7),
    ("ReplicaSetSpec", "minReadySeconds", 4), ("LeaseSpec", "renewTime", 4),
], ids=lambda v: str(v))
def test_field_numbers_follow_generated_proto(schema, field_name, number):
    numbers = {f.name: f.number for f in SCHEMAS[schema].fields}

    assert numbers[field_name] == number


@pytest.mark.parametrize("schema,field_name,merge_key,strategy", [
    ("PodSpec", "containers", "name", "merge"),
    ("PodSpec", "volumes", "name", "merge,retainKeys"),
    ("Container", "ports", "containerPort", "merge"),
    ("Container", "volumeMounts", "mountPath", "merge"),
    ("ServiceSpec", "ports", "port", "merge"),
    ("ServiceAccount", "secrets", "name", "merge"),
    ("ObjectMeta", "ownerReferences", "uid", "merge"),
    ("ObjectMeta", "finalizers", "", "merge"),
    ("DeploymentSpec", "strategy", "", "retainKeys"),
], ids=lambda v: str(v))
def test_patch_merge_keys_and_strategies(schema, field_name, merge_key,
                                         strategy):
    f = SCHEMAS[schema].json_fields[field_name]

    assert (f.merge_key, f.strategy) == (merge_key, strategy)


def test_inline_structs_are_flat_in_json_but_nested_on_the_wire():
    probe = SCHEMAS["Probe"]

    assert "httpGet" in probe.json_fields
    assert [f.name for f in probe.fields][0] == "handler"


def test_pointer_structs_are_marked():
    # Pointer structs stay absent when not given; the others are always {}.
    spec = SCHEMAS["PodSpec"].json_fields

    assert spec["securityContext"].ptr
    assert spec["affinity"].ptr
    assert not SCHEMAS["Container"].json_fields["resources"].ptr


@pytest.mark.parametrize("group,kind", KINDS + [("autoscaling", "Scale"),
                                                ("", "Binding")],
                         ids=[k for _, k in KINDS] + ["Scale", "Binding"])
def test_merge_keys_cover_the_patch_table(group, kind):
    # server.patch_meta was written by hand from k8s.io/api's struct tags:
    # every entry it has must come out of the schema the same.
    from server.patch_meta import MERGE_KEYS, merge_keys_for
    from server.schema import merge_key_table

    derived = merge_key_table(kind)

    for path, entry in MERGE_KEYS[kind].items():
        assert derived.get(path) == entry, path
    # What patches read for a served kind is the schema's table.
    assert merge_keys_for(kind) == derived


def test_merge_keys_skip_lists_that_are_replaced_whole():
    from server.schema import merge_key_table

    table = merge_key_table("Pod")

    assert table["spec.containers.env"] == ("name", "merge")
    assert not any(p.startswith("status.containerStatuses") for p in table)
