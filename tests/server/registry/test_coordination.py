"""Leases."""

from server.registry.coordination import LeaseKind

KIND = LeaseKind()


def lease(**spec) -> dict:
    return {"metadata": {"name": "node1", "namespace": "kube-node-lease"},
            "spec": spec}


def test_group_and_names():
    assert KIND.api_version == "coordination.k8s.io/v1"
    assert (KIND.resource, KIND.singular, KIND.short_names) == ("leases", "lease", ())


def test_valid_lease():
    assert KIND.validate(lease(holderIdentity="node1", leaseDurationSeconds=40)) == []


def test_invalid_spec():
    errs = KIND.validate(lease(leaseDurationSeconds=0, leaseTransitions=-1,
                               preferredHolder="a"))

    assert [str(e) for e in errs] == [
        "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
        "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0",
        "spec.preferredHolder: Forbidden: may only be specified if `strategy` is "
        "defined"]


def test_columns():
    columns = KIND.columns()

    assert [c.name for c in columns] == ["Name", "Holder", "Age"]
    assert columns[1].cell(lease(holderIdentity="node1")) == "node1"
    assert columns[1].cell(lease()) == ""
