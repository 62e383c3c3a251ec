"""coordination.k8s.io/v1 Lease: leader election and node heartbeats.

Field numbers from k8s.io/api/coordination/v1/generated.proto.
"""

from __future__ import annotations

from server.schema.dsl import (
    COORDINATION, INT32, MICRO_TIME, STRING, TYPE_META, field, list_schema, obj,
    ref,
)

V1 = ("coordination.k8s.io", "v1")

LEASE = obj(
    "Lease", COORDINATION, "A lease held by one holder at a time.",
    *TYPE_META,
    field("metadata", 1, ref("ObjectMeta"), "Standard object metadata."),
    field("spec", 2, ref("LeaseSpec"), "Who holds the lease, and until when."),
    gvk=(*V1, "Lease"),
)
LEASE_SPEC = obj(
    "LeaseSpec", COORDINATION, "The state of a lease.",
    field("holderIdentity", 1, STRING, "Who holds the lease now.", ptr=True),
    field("leaseDurationSeconds", 2, INT32,
          "How long the holder has after each renewal before the lease may "
          "be taken.", ptr=True),
    field("acquireTime", 3, MICRO_TIME, "When the holder acquired the lease.",
          ptr=True),
    field("renewTime", 4, MICRO_TIME, "When the holder last renewed the lease.",
          ptr=True),
    field("leaseTransitions", 5, INT32,
          "How many times the lease changed holders.", ptr=True),
    field("strategy", 6, STRING,
          "How a coordinated leader election picks the next holder.",
          ptr=True),
    field("preferredHolder", 7, STRING,
          "The holder a coordinated election prefers next.", ptr=True),
)

SCHEMAS = [LEASE, LEASE_SPEC, list_schema(COORDINATION, "Lease", *V1, "leases")]
