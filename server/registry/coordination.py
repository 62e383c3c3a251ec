"""Leases of coordination.k8s.io/v1: node heartbeats and leader election."""

from __future__ import annotations

from server.errors import FieldError
from server.registry.base import Column, Kind, age_column, name_column
from server.registry.podspec import as_dict
from server.validation import (
    forbidden,
    name_is_dns_subdomain,
    validate_object_meta,
    validate_object_meta_update,
)

_HOLDER_DOC = (
    "holderIdentity contains the identity of the holder of a current lease. If "
    "Coordinated Leader Election is used, the holder identity must be equal to "
    "the elected LeaseCandidate.metadata.name field."
)


class LeaseKind(Kind):
    group = "coordination.k8s.io"
    version = "v1"
    kind = "Lease"
    resource = "leases"
    singular = "lease"
    allow_create_on_update = True

    def validate(self, obj: dict) -> list[FieldError]:
        errs = validate_object_meta(obj, namespaced=True,
                                    name_validator=name_is_dns_subdomain)
        return errs + validate_lease_spec(as_dict(obj.get("spec")))

    def validate_update(self, obj: dict, old: dict) -> list[FieldError]:
        errs = validate_object_meta_update(obj, old)
        return errs + validate_lease_spec(as_dict(obj.get("spec")))

    def columns(self) -> list[Column]:
        return [
            name_column(),
            Column("Holder",
                   lambda o: as_dict(o.get("spec")).get("holderIdentity") or "",
                   description=_HOLDER_DOC),
            age_column(),
        ]


def validate_lease_spec(spec: dict) -> list[FieldError]:
    errs: list[FieldError] = []
    duration = spec.get("leaseDurationSeconds")
    if isinstance(duration, int) and duration <= 0:
        errs.append(FieldError("Invalid value", "spec.leaseDurationSeconds",
                               duration, "must be greater than 0"))
    transitions = spec.get("leaseTransitions")
    if isinstance(transitions, int) and transitions < 0:
        errs.append(FieldError("Invalid value", "spec.leaseTransitions",
                               transitions, "must be greater than or equal to 0"))
    if spec.get("preferredHolder") and not spec.get("strategy"):
        errs.append(forbidden("spec.preferredHolder",
                              "may only be specified if `strategy` is defined"))
    return errs
