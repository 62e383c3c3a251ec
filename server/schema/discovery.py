"""discovery.k8s.io/v1 EndpointSlice: the endpoints of a service, in slices.

Field numbers from k8s.io/api/discovery/v1/generated.proto. No field carries
a patch strategy: endpoints, ports and forZones are atomic lists, addresses a
set, so a strategic merge patch replaces each whole.
"""

from __future__ import annotations

from server.schema.dsl import (
    BOOL, DISCOVERY, INT32, STRING, TYPE_META, field, list_of, list_schema,
    map_of, obj, ref,
)

V1 = ("discovery.k8s.io", "v1")
ADDRESS_TYPES = ("FQDN", "IPv4", "IPv6")

ENDPOINT_SLICE = obj(
    "EndpointSlice", DISCOVERY,
    "A subset of the endpoints of a service; a service's slices, found by "
    "the kubernetes.io/service-name label, together list all of them.",
    *TYPE_META,
    field("metadata", 1, ref("ObjectMeta"), "Standard object metadata."),
    field("addressType", 4, STRING,
          "The type of every address in this slice: IPv4, IPv6 or FQDN. "
          "Immutable.", required=True, enum=ADDRESS_TYPES),
    field("endpoints", 2, list_of(ref("Endpoint")),
          "The endpoints in this slice, at most 1000.", required=True,
          list_type="atomic"),
    field("ports", 3, list_of(ref("DiscoveryEndpointPort")),
          "The ports each endpoint of this slice serves, each with a unique "
          "name; none means no ports are defined.", list_type="atomic"),
    gvk=(*V1, "EndpointSlice"),
)
ENDPOINT = obj(
    "Endpoint", DISCOVERY, "One backend of a service.",
    field("addresses", 1, list_of(STRING),
          "Its addresses, of the slice's addressType: 1 to 100.",
          required=True, list_type="set"),
    # A struct, not a pointer: Go prints it even when empty.
    field("conditions", 2, ref("EndpointConditions"),
          "Whether the endpoint is ready, serving, terminating."),
    field("hostname", 3, STRING, "Its hostname, a DNS label.", ptr=True),
    field("targetRef", 4, ref("ObjectReference"),
          "The object behind it, usually a pod.", ptr=True),
    field("deprecatedTopology", 5, map_of(STRING),
          "Topology of the v1beta1 API; writes through v1 are ignored."),
    field("nodeName", 6, STRING, "The node hosting it.", ptr=True),
    field("zone", 7, STRING, "The zone it is in.", ptr=True),
    field("hints", 8, ref("EndpointHints"),
          "How the endpoint should be consumed.", ptr=True),
)
ENDPOINT_CONDITIONS = obj(
    "EndpointConditions", DISCOVERY, "The state of an endpoint.",
    field("ready", 1, BOOL,
          "Ready for traffic; never true while terminating. Unset means "
          "unknown, to be taken as ready.", ptr=True),
    field("serving", 2, BOOL,
          "As ready, but set whether terminating or not.", ptr=True),
    field("terminating", 3, BOOL, "The endpoint is terminating.", ptr=True),
)
ENDPOINT_HINTS = obj(
    "EndpointHints", DISCOVERY, "How an endpoint should be consumed.",
    field("forZones", 1, list_of(ref("ForZone")),
          "The zones that should consume this endpoint.", list_type="atomic"),
)
FOR_ZONE = obj(
    "ForZone", DISCOVERY, "A zone that should consume an endpoint.",
    field("name", 1, STRING, "The zone's name.", required=True),
)
ENDPOINT_PORT = obj(
    "DiscoveryEndpointPort", DISCOVERY, "A port of the endpoints of a slice.",
    field("name", 1, STRING,
          "The port's name, unique in the slice: empty or a DNS label; the "
          "Service's port name for a slice of a service.", ptr=True),
    field("protocol", 2, STRING, "TCP (the default), UDP or SCTP.", ptr=True,
          enum=("SCTP", "TCP", "UDP")),
    field("port", 3, INT32, "The port number; unset means all ports.",
          ptr=True),
    field("appProtocol", 4, STRING,
          "The application protocol, as a label key: an IANA service name or "
          "a prefixed name.", ptr=True),
    go_name="EndpointPort",
)

SCHEMAS = [
    ENDPOINT_SLICE, ENDPOINT, ENDPOINT_CONDITIONS, ENDPOINT_HINTS, FOR_ZONE,
    ENDPOINT_PORT,
    list_schema(DISCOVERY, "EndpointSlice", *V1, "endpoint slices"),
]
